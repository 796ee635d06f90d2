"""``naskah arsip …`` and ``naskah monitoring``: the archive from the command line.

Mounted into ``api/cli.py``.  Like every ``naskah`` command: an Indonesian message and a non-zero
exit code on any error, from the same table as the HTTP status (``api/errors.py``).

Who acts: the command line runs on the server, by someone who already holds the database and
store credentials, so it acts as the system (``system`` in the audit trail, as ``reconcile`` and
the renewal job do) unless ``--sebagai USERNAME`` names the person: downloads and verifications
are then recorded under that user, whose roles are checked as over the API.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from sqlalchemy.engine import Engine
from sqlmodel import select

from api.cli_common import NoConverter, belongs_line, echo_signing_dates, echo_timestamps, friendly, tanggal_option
from api.config import Settings, build_services
from pipeline.archival import archive, monitoring, recap
from pipeline.errors import InvalidInput, NotFound
from pipeline.lifecycle import Role
from pipeline.models import Arsip, User
from pipeline.services import Services
from pipeline.sop import Profile, load_profile
from storage.db import make_engine, session_scope, upgrade

__all__ = ["arsip_app", "monitoring_command"]

arsip_app = typer.Typer(
    help="Arsip naskah asli: cari, unduh, verifikasi, rekap, perbarui cap waktu.", no_args_is_help=True
)

VERIFY_FAILED = 8  # as ``naskah verify``: the file was read, but not every signature is ok


@contextmanager
def _database() -> Iterator[tuple[Engine, Profile]]:
    """The migrated database and the SOP profile: all that search, recap and monitoring need."""
    settings = Settings()
    profile = load_profile(settings.sop_profile)
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        yield engine, profile
    finally:
        engine.dispose()


@contextmanager
def _services() -> Iterator[Services]:
    """Database, stores, trust roots and TSA, for the commands that read or renew originals."""
    svc = build_services(Settings(), converter=NoConverter())
    try:
        upgrade(svc.engine)
        yield svc
    finally:
        svc.close()


def _actor(engine: Engine, sebagai: str | None) -> User:
    """The named active user, or the system (never stored: ``system`` in the audit trail)."""
    if not sebagai:
        return User(username="system", nama="Sistem (baris perintah)", jabatan="-", roles=Role.SECRETARIAT.value)
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.username == sebagai)).first()
    if user is None or not user.active:
        raise NotFound(f"Pengguna '{sebagai}' tidak ditemukan atau tidak aktif.", username=sebagai)
    return user


def _today(profile: Profile, tanggal: str | None) -> dt.date:
    return tanggal_option(tanggal) if tanggal else dt.datetime.now(profile.tz).date()


def _write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise InvalidInput(f"Berkas '{path}' tidak dapat ditulis: {exc.strerror or exc}.", out=str(path)) from None


def _json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    typer.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    typer.echo("  ".join("-" * w for w in widths))
    for row in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _arsip_dict(a: Arsip, today: dt.date, dalam_hari: int) -> dict[str, Any]:
    data = a.model_dump(mode="json", exclude={"search_text"})
    data["status_masa"] = recap.masa(a.selesai, today, dalam_hari)
    return data


# The search filters, shared by ``cari`` and ``rekap`` (the same as GET /api/v1/arsip).
Q = Annotated[str, typer.Option("--q", "-q", help="kata kunci: judul, pihak, nomor, OPD (semua kata harus ada)")]
Jenis = Annotated[str | None, typer.Option(help="KB, NK, PKS atau SK")]
JenisKS = Annotated[str | None, typer.Option("--jenis-kerja-sama", help="KSDD, KSDPK atau KSIV")]
Tahun = Annotated[int | None, typer.Option(help="tahun penandatanganan")]
Opd = Annotated[str | None, typer.Option(help="OPD teknis (sebagian nama)")]
Masa = Annotated[str | None, typer.Option(help="berlaku, kedaluwarsa atau segera_berakhir")]
DalamHari = Annotated[int, typer.Option("--dalam-hari", help="'segera berakhir' = berakhir dalam sekian hari")]
Sort = Annotated[str, typer.Option(help="tanggal, -tanggal, selesai, -selesai, judul, -judul")]
Sebagai = Annotated[
    str | None, typer.Option("--sebagai", help="nama pengguna yang tercatat di jejak audit (bawaan: system)")
]
AsJson = Annotated[bool, typer.Option("--json", help="keluaran JSON")]


@arsip_app.command("cari")
@friendly
def cari(
    q: Q = "",
    jenis: Jenis = None,
    jenis_kerja_sama: JenisKS = None,
    tahun: Tahun = None,
    opd: Opd = None,
    masa: Masa = None,
    dalam_hari: DalamHari = 90,
    sort: Sort = "-tanggal",
    offset: Annotated[int, typer.Option(help="lewati sekian hasil")] = 0,
    limit: Annotated[int, typer.Option(help="paling banyak sekian hasil (1-200)")] = 20,
    sebagai: Sebagai = None,
    as_json: AsJson = False,
) -> None:
    """Cari arsip (saringan sama dengan GET /api/v1/arsip) dan cetak tabelnya."""
    query = archive.ArsipQuery.model_validate(
        {
            "q": q,
            "jenis": jenis,
            "jenis_kerja_sama": jenis_kerja_sama,
            "tahun": tahun,
            "opd": opd,
            "masa": masa,
            "dalam_hari": dalam_hari,
            "sort": sort,
            "offset": offset,
            "limit": limit,
        }
    )
    with _database() as (engine, profile):
        user = _actor(engine, sebagai)
        today = _today(profile, None)
        with session_scope(engine) as session:
            rows, total = archive.search(session, user, query, today, profile=profile)
    if as_json:
        _json({"data": [_arsip_dict(a, today, query.dalam_hari) for a in rows], "count": total})
        return
    _table(
        ["ID", "Jenis", "Kerja sama", "Tanggal", "Berakhir", "Status", "Nomor (PIHAK KESATU)", "Judul"],
        [
            [
                str(a.id),
                a.jenis,
                a.jenis_kerja_sama,
                a.tanggal_ttd.isoformat(),
                a.selesai.isoformat(),
                recap.masa(a.selesai, today, query.dalam_hari),
                a.nomor.get("1", "-"),
                _cut(a.judul, 60),
            ]
            for a in rows
        ],
    )
    shown = f"{query.offset + 1}-{query.offset + len(rows)}" if rows else "0"
    typer.echo(f"{shown} dari {total} arsip")


@arsip_app.command("unduh")
@friendly
def unduh(
    arsip_id: Annotated[int, typer.Argument(metavar="ID", help="id arsip")],
    out: Annotated[Path, typer.Option("--out", help="berkas tujuan PDF")],
    sebagai: Sebagai = None,
) -> None:
    """Unduh naskah asli yang diarsipkan, byte demi byte (sha256 diperiksa), dan cetak sha256-nya."""
    with _services() as svc:
        user = _actor(svc.engine, sebagai)
        row, data = archive.read_original(svc, user, arsip_id)
    _write(out, data)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    typer.echo(f"{out}: {len(data)} byte, {row.jenis} naskah {row.naskah_id}")
    typer.echo(f"sha256: {digest}")


@arsip_app.command("verifikasi")
@friendly
def verifikasi(
    arsip_id: Annotated[int, typer.Argument(metavar="ID", help="id arsip")],
    sebagai: Sebagai = None,
    as_json: AsJson = False,
) -> None:
    """Laporan verifikasi naskah asli dengan data validasi tertanam, sepanjang rantai cap waktu (B-LTA).

    Setiap tanda tangan dinilai pada waktu cap waktunya, setiap cap waktu dokumen pada waktu cap
    waktu berikutnya; sertifikat TSA cap waktu terakhir harus masih berlaku hari ini.

    Kode keluar 0 hanya bila semua tanda tangan utuh, sah dan tepercaya.
    """
    with _services() as svc:
        user = _actor(svc.engine, sebagai)
        result = archive.verify_archived(svc, user, arsip_id)
    report = result.report
    if as_json:
        _json(result.to_dict())
    else:
        moment = result.moment.isoformat() if result.moment else "-"
        typer.echo(f"arsip {result.arsip_id} (sha256 {result.sha256}): {report.bottom_line}")
        typer.echo(f"  terbukti tidak berubah sejak {moment}; {report.document_timestamps} cap waktu dokumen")
        for sig in report.signatures:
            judged = sig.validated_at.isoformat(timespec="seconds") if sig.validated_at else "sekarang"
            typer.echo(
                f"  [{sig.field}] {sig.signer} — dinilai pada {judged} — PAdES {sig.pades_level} => {sig.bottom_line}"
            )
            typer.echo(f"      {belongs_line(sig)}")
            for problem in sig.problems:
                typer.echo(f"      ! {problem}")
        echo_signing_dates(result.tanggal.to_dict() if result.tanggal is not None else None)
        echo_timestamps(report, svc.profile.tz)
    if not report.ok:
        raise typer.Exit(VERIFY_FAILED)


@arsip_app.command("rekap")
@friendly
def rekap(
    out: Annotated[Path, typer.Option("--out", help="berkas tujuan")],
    fmt: Annotated[
        Literal["csv", "xlsx"] | None, typer.Option("--format", help="csv atau xlsx (bawaan: dari --out)")
    ] = None,
    q: Q = "",
    jenis: Jenis = None,
    jenis_kerja_sama: JenisKS = None,
    tahun: Tahun = None,
    opd: Opd = None,
    masa: Masa = None,
    dalam_hari: DalamHari = 90,
    sort: Sort = "-tanggal",
    tanggal: Annotated[str | None, typer.Option(help="status pada tanggal YYYY-MM-DD (bawaan: hari ini)")] = None,
    sebagai: Sebagai = None,
) -> None:
    """Rekapitulasi KSDD, KSDPK dan KSIV dari arsip, sebagai CSV (UTF-8 BOM, pemisah ';') atau XLSX."""
    kind = fmt or out.suffix.lower().lstrip(".")
    if kind not in ("csv", "xlsx"):
        raise InvalidInput("Sebutkan --format csv atau xlsx (atau beri --out berakhiran .csv/.xlsx).", out=str(out))
    query = archive.ArsipQuery.model_validate(
        {
            "q": q,
            "jenis": jenis,
            "jenis_kerja_sama": jenis_kerja_sama,
            "tahun": tahun,
            "opd": opd,
            "masa": masa,
            "dalam_hari": dalam_hari,
            "sort": sort,
        }
    )
    with _database() as (engine, profile):
        user = _actor(engine, sebagai)
        today = _today(profile, tanggal)
        with session_scope(engine) as session:
            rows = recap.recap_rows(session, user, query, today, profile=profile)
    _write(out, recap.to_csv(rows) if kind == "csv" else recap.to_xlsx(rows, per_tanggal=today))
    typer.echo(f"Rekap {len(rows)} naskah per {today.isoformat()} -> {out} ({kind})")


@arsip_app.command("perbarui-cap-waktu")
@friendly
def perbarui_cap_waktu(
    margin_hari: Annotated[
        int,
        typer.Option("--margin-hari", min=0, help="perbarui bila sertifikat TSA cap waktu terakhir habis dalam N hari"),
    ] = 365,
) -> None:
    """Tambahkan cap waktu dokumen baru pada arsip yang cap waktunya hampir habis (versi baru; versi lama tetap)."""
    with _services() as svc:
        results = archive.renew_timestamps(svc, margin_days=margin_hari)
    if not results:
        typer.echo(f"Tidak ada arsip yang cap waktunya habis dalam {margin_hari} hari.")
    for r in results:
        old = r.old_expiry.astimezone(svc.profile.tz).date().isoformat() if r.old_expiry else "-"
        new = r.new_expiry.astimezone(svc.profile.tz).date().isoformat() if r.new_expiry else "-"
        typer.echo(
            f"arsip {r.arsip_id} (naskah {r.naskah_id}): cap waktu berlaku s.d. {old} -> {new}, versi {r.version_id}"
        )
    if results:
        typer.echo(f"{len(results)} arsip diperbarui.")


@arsip_app.command("yatim")
@friendly
def yatim(as_json: AsJson = False) -> None:
    """Versi terkunci di penyimpanan arsip yang tidak dirujuk catatan arsip mana pun (sisa proses terhenti)."""
    with _services() as svc:
        found = archive.orphans(svc)
    if as_json:
        typer.echo(json.dumps([{"key": k, "version_id": v} for k, v in found], ensure_ascii=False, indent=2))
        return
    for key, version_id in found:
        typer.echo(f"{key}  versi {version_id}")
    typer.echo(
        f"{len(found)} versi tanpa catatan arsip (terkunci sampai masa retensinya; tidak mengubah arsip mana pun)."
        if found
        else "Tidak ada versi tanpa catatan arsip."
    )


@friendly
def monitoring_command(
    dalam_hari: Annotated[int, typer.Option("--dalam-hari", min=0, help="kerja sama yang berakhir dalam N hari")] = 90,
    lewat_hari: Annotated[
        int, typer.Option("--lewat-hari", min=0, help="sertakan yang sudah berakhir dalam N hari terakhir")
    ] = 365,
    cap_waktu_hari: Annotated[
        int,
        typer.Option("--cap-waktu-hari", min=0, help="arsip yang sertifikat TSA cap waktunya berakhir dalam N hari"),
    ] = 365,
    sebagai: Sebagai = None,
    as_json: AsJson = False,
) -> None:
    """Monitoring: kerja sama yang segera berakhir, naskah dalam proses terhadap mutu baku waktu SOP,
    dan naskah arsip yang cap waktu dokumennya perlu diperbarui."""
    with _database() as (engine, profile):
        user = _actor(engine, sebagai)
        now = dt.datetime.now(dt.UTC)
        today = now.astimezone(profile.tz).date()
        with session_scope(engine) as session:
            ending = monitoring.expiring(
                session, user, today, profile=profile, dalam_hari=dalam_hari, lewat_hari=lewat_hari
            )
            waiting = monitoring.in_progress(session, user, profile, now)
            renew = monitoring.renewal_due(session, user, now, profile=profile, dalam_hari=cap_waktu_hari)
    if as_json:
        _json(
            {
                "kedaluwarsa": [e.to_dict() for e in ending],
                "proses": [w.to_dict() for w in waiting],
                "cap_waktu": [r.to_dict() for r in renew],
            }
        )
        return
    typer.echo(f"Kerja sama yang berakhir dalam {dalam_hari} hari (per {today.isoformat()}): {len(ending)}")
    if ending:
        _table(
            ["ID", "Jenis", "Kerja sama", "Berakhir", "Sisa", "Nomor (PIHAK KESATU)", "Judul"],
            [
                [
                    str(e.arsip_id),
                    e.jenis,
                    e.jenis_kerja_sama,
                    e.selesai.isoformat(),
                    "KEDALUWARSA" if e.kedaluwarsa else f"{e.sisa_hari} hari",
                    e.nomor.get("1", "-"),
                    _cut(e.judul, 50),
                ]
                for e in ending
            ],
        )
    typer.echo("")
    late = sum(1 for w in waiting if w.terlambat)
    typer.echo(f"Naskah dalam proses: {len(waiting)} ({late} melewati mutu baku waktu)")
    if waiting:
        _table(
            ["Naskah", "Jenis", "Langkah", "Menunggu", "Sejak", "Lama", "Mutu baku", ""],
            [
                [
                    str(w.naskah_id),
                    w.jenis,
                    w.langkah,
                    _cut(w.menunggu, 40),
                    w.sejak.astimezone(profile.tz).strftime("%Y-%m-%d %H:%M"),
                    monitoring.durasi(w.lama, kerja=w.hari_kerja),
                    w.standar.text if w.standar else "-",
                    "TERLAMBAT" if w.terlambat else "",
                ]
                for w in waiting
            ],
        )
    typer.echo("")
    typer.echo(f"Cap waktu arsip yang perlu diperbarui dalam {cap_waktu_hari} hari: {len(renew)}")
    if renew:
        _table(
            ["ID", "Jenis", "Cap waktu berakhir", "Sisa", "Nomor (PIHAK KESATU)", "Judul"],
            [
                [
                    str(r.arsip_id),
                    r.jenis,
                    r.cap_waktu_berakhir.astimezone(profile.tz).date().isoformat() if r.cap_waktu_berakhir else "-",
                    "TERLAMBAT" if r.terlambat else f"{r.sisa_hari} hari",
                    r.nomor.get("1", "-"),
                    _cut(r.judul, 50),
                ]
                for r in renew
            ],
        )
        typer.echo("Perbarui dengan: naskah arsip perbarui-cap-waktu --margin-hari " + str(cap_waktu_hari))


@friendly
def tasks_command(
    username: Annotated[str, typer.Argument(help="nama pengguna yang tugasnya ditampilkan")],
    as_json: AsJson = False,
) -> None:
    """Tugas saya: naskah yang menunggu tindakan pengguna ini (yang terlambat lebih dulu), dengan jumlah per jenis."""
    from pipeline.inbox import tasks

    with _database() as (engine, profile):
        user = _actor(engine, username)
        with session_scope(engine) as session:
            found = tasks.tasks_for(session, user, profile, dt.datetime.now(dt.UTC))
    if as_json:
        _json(
            {
                "data": [t.to_dict() for t in found.data],
                "count": found.count,
                "terlambat": sum(found.terlambat.values()),
                "ringkasan": found.ringkasan(),
            }
        )
        return
    typer.echo(
        "  ".join(
            f"{c['label']}: {c['jumlah']}" + (f" ({c['terlambat']} terlambat)" if c["terlambat"] else "")
            for c in found.ringkasan()
        )
    )
    if not found.data:
        typer.echo(f"Tidak ada naskah yang menunggu tindakan {user.username}.")
        return
    typer.echo("")
    _table(
        ["Naskah", "Jenis", "Tugas", "Sejak", "Lama", "Mutu baku", "", "Judul"],
        [
            [
                str(t.naskah_id),
                t.jenis,
                tasks.KIND_LABELS[t.tugas],
                t.wait.sejak.astimezone(profile.tz).strftime("%Y-%m-%d %H:%M"),
                monitoring.durasi(t.wait.lama, kerja=t.wait.hari_kerja),
                t.wait.standar.text if t.wait.standar else "-",
                "TERLAMBAT" if t.terlambat else "",
                _cut(t.judul, 50),
            ]
            for t in found.data
        ],
    )
    for t in found.data:
        if t.catatan:
            typer.echo(f"naskah {t.naskah_id}: catatan {t.catatan_oleh or '-'}: {t.catatan}")
