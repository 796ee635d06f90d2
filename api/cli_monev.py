"""``naskah monev …``: monitoring dan evaluasi of running agreements from the command line.

The same pipeline functions as ``/api/v1/monev``; errors as every ``naskah`` command (an Indonesian
message and the exit code of the error table).  Reading commands act as the system (the secretariat,
who sees every agreement) unless ``--sebagai`` names a person; a step of a round is always taken by a
named person (``--sebagai``), whose round role is checked as over the API and who is recorded in the
audit trail.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.engine import Engine
from sqlmodel import select

from api.cli_common import NoConverter, friendly, tanggal_option
from api.config import Settings, build_services
from pipeline.archival import monev, monev_report
from pipeline.errors import InvalidInput, NotFound
from pipeline.lifecycle import Role
from pipeline.models import User
from pipeline.monev_lifecycle import STATUS_LABELS, MonevStatus
from pipeline.services import Services
from storage.db import session_scope, upgrade

__all__ = ["monev_app"]

monev_app = typer.Typer(
    help="Monitoring dan evaluasi kerja sama yang berjalan: peringatan, ronde monev, perpanjangan, laporan.",
    no_args_is_help=True,
)

Sebagai = Annotated[
    str | None, typer.Option("--sebagai", help="nama pengguna yang bertindak (bawaan untuk membaca: system)")
]
Pelaku = Annotated[str, typer.Option("--sebagai", help="nama pengguna yang mengambil langkah ini")]
AsJson = Annotated[bool, typer.Option("--json", help="keluaran JSON")]
Tanggal = Annotated[
    str | None, typer.Option("--tanggal", help="keadaan pada tanggal ini, YYYY-MM-DD (bawaan: hari ini)")
]


@contextmanager
def _services(converter: bool = False) -> Iterator[Services]:
    settings = Settings()
    svc = build_services(settings, converter=None if converter else NoConverter())
    try:
        upgrade(svc.engine)
        yield svc
    finally:
        svc.close()


def _actor(engine: Engine, username: str | None) -> User:
    if not username:
        return User(username="system", nama="Sistem (baris perintah)", jabatan="-", roles=Role.SECRETARIAT.value)
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        raise NotFound(f"Pengguna '{username}' tidak ditemukan atau tidak aktif.", username=username)
    return user


def _json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _read(paths: list[Path] | None) -> list[tuple[str | None, bytes]]:
    out: list[tuple[str | None, bytes]] = []
    for path in paths or []:
        try:
            out.append((path.name, path.read_bytes()))
        except OSError as exc:
            raise InvalidInput(f"Berkas '{path}' tidak dapat dibaca: {exc.strerror or exc}.", file=str(path)) from None
    return out


def _show(svc: Services, user: User, round_id: int) -> None:
    with session_scope(svc.engine) as session:
        view = monev.round_view(session, user, svc.profile, round_id)
        r = view.round
        typer.echo(f"Monev {r.id}: {view.arsip.judul} ({view.arsip.jenis}, {view.arsip.opd_teknis})")
        typer.echo(f"  status     : {view.status_label}")
        if view.giliran:
            late = " (TERLAMBAT)" if view.terlambat else ""
            tenggat = f", tenggat {view.tenggat:%d-%m-%Y %H:%M}" if view.tenggat else ""
            typer.echo(f"  giliran    : {view.giliran}{tenggat}{late}")
        typer.echo(
            f"  tim        : {view.name(r.ketua_tim_id)}" + (f", {view.name(r.analis_id)}" if r.analis_id else "")
        )
        for item in view.tindak_lanjut:
            state = "selesai" if item.selesai_at else f"tenggat {item.tenggat:%d-%m-%Y}"
            typer.echo(f"  TL {item.urutan} [{item.id}]: {item.uraian} — {item.penanggung_jawab}, {state}")
        for f in view.lampiran:
            typer.echo(f"  lampiran [{f.id}]: {f.filename} sha256 {f.sha256}")


def _step(sebagai: str, round_id: int | None, act: Any) -> None:
    with _services() as svc:
        user = _actor(svc.engine, sebagai)
        with session_scope(svc.engine) as session:
            result = act(session, svc, user)
        _show(svc, user, round_id if round_id is not None else result)


@monev_app.command("peringatan")
@friendly
def alerts(tanggal: Tanggal = None, saya: bool = False, sebagai: Sebagai = None, as_json: AsJson = False) -> None:
    """Tanpa laporan monev, segera berakhir tanpa keputusan perpanjangan, tindak lanjut lewat tenggat."""
    with _services() as svc:
        user = _actor(svc.engine, sebagai)
        today = tanggal_option(tanggal) if tanggal else monev.local_today(svc.profile)
        with session_scope(svc.engine) as session:
            found = monev.alerts(session, user, svc.profile, today, mine=saya)
    if as_json:
        _json([a.to_dict() for a in found])
        return
    if not found:
        typer.echo(f"Tidak ada peringatan per {today:%d-%m-%Y}.")
    for a in found:
        typer.echo(f"- {a.label}: {a.judul} ({a.opd_teknis}). {a.pesan} Harus bertindak: {a.pelaku}.")


@monev_app.command("daftar")
@friendly
def list_rounds(status: str | None = None, sebagai: Sebagai = None, as_json: AsJson = False) -> None:
    """Ronde monitoring dan evaluasi (terbaru lebih dulu)."""
    with _services() as svc:
        user = _actor(svc.engine, sebagai)
        with session_scope(svc.engine) as session:
            rows, count = monev.list_rounds(session, user, svc.profile, status=status, limit=200)
    if as_json:
        _json({"count": count, "data": [r.model_dump() for r in rows]})
        return
    typer.echo(f"{count} monitoring dan evaluasi")
    for r in rows:
        typer.echo(f"{r.id:>5}  arsip {r.arsip_id:>5}  {STATUS_LABELS[MonevStatus(r.status)]}  SP {r.surat_perintah}")


@monev_app.command("lihat")
@friendly
def show(round_id: int, sebagai: Sebagai = None) -> None:
    """Rincian satu monitoring dan evaluasi."""
    with _services() as svc:
        _show(svc, _actor(svc.engine, sebagai), round_id)


@monev_app.command("tugaskan")
@friendly
def assign(
    arsip_id: int,
    surat_perintah: Annotated[str, typer.Option("--surat-perintah")],
    ketua_tim: Annotated[str, typer.Option("--ketua-tim")],
    periode_mulai: Annotated[str, typer.Option("--periode-mulai", help="YYYY-MM-DD")],
    periode_selesai: Annotated[str, typer.Option("--periode-selesai", help="YYYY-MM-DD")],
    sebagai: Pelaku,
    analis: Annotated[str | None, typer.Option("--analis")] = None,
    catatan: str = "",
) -> None:
    """Langkah 1: Kabag menugaskan tim monev atas kerja sama (arsip) yang sedang berlaku."""
    data = monev.Penugasan(
        surat_perintah=surat_perintah,
        ketua_tim=ketua_tim,
        analis=analis,
        periode_mulai=tanggal_option(periode_mulai),
        periode_selesai=tanggal_option(periode_selesai),
        catatan=catatan,
    )
    _step(sebagai, None, lambda s, svc, u: monev.tugaskan(s, u, svc.profile, arsip_id, data).id)


@monev_app.command("jadwal")
@friendly
def schedule(
    round_id: int,
    bahan: Annotated[str, typer.Option("--bahan")],
    jadwal: Annotated[str, typer.Option("--jadwal", help="YYYY-MM-DD")],
    sebagai: Pelaku,
    batas_laporan: Annotated[str | None, typer.Option("--batas-laporan")] = None,
) -> None:
    """Langkah 2-3: tim menetapkan bahan dan jadwal monitoring."""
    data = monev.Jadwal(
        bahan=bahan,
        jadwal=tanggal_option(jadwal),
        batas_laporan=tanggal_option(batas_laporan) if batas_laporan else None,
    )
    _step(sebagai, round_id, lambda s, svc, u: monev.jadwalkan(s, u, svc.profile, round_id, data))


@monev_app.command("lapor")
@friendly
def report(
    round_id: int,
    realisasi: Annotated[str, typer.Option("--realisasi")],
    kendala: Annotated[str, typer.Option("--kendala")],
    manfaat: Annotated[str, typer.Option("--manfaat")],
    rekomendasi: Annotated[str, typer.Option("--rekomendasi")],
    sebagai: Pelaku,
    lampiran: Annotated[list[Path] | None, typer.Option("--lampiran", help="PDF, DOCX, PNG atau JPEG")] = None,
) -> None:
    """Langkah 4: OPD teknis menyampaikan laporan monitoring."""
    data = monev.Laporan(realisasi=realisasi, kendala=kendala, manfaat=manfaat, rekomendasi=rekomendasi)
    files = _read(lampiran)
    _step(sebagai, round_id, lambda s, svc, u: monev.lapor(s, svc, u, round_id, data, files))


@monev_app.command("kembalikan")
@friendly
def send_back(round_id: int, catatan: Annotated[str, typer.Option("--catatan")], sebagai: Pelaku) -> None:
    """Tim mengembalikan laporan kepada OPD (wajib catatan)."""
    _step(sebagai, round_id, lambda s, svc, u: monev.kembalikan(s, u, svc.profile, round_id, catatan))


@monev_app.command("olah")
@friendly
def process(round_id: int, hasil_olah: Annotated[str, typer.Option("--hasil-olah")], sebagai: Pelaku) -> None:
    """Langkah 5-6: tim menyerahkan hasil olah data kepada Kabag."""
    _step(sebagai, round_id, lambda s, svc, u: monev.olah(s, u, svc.profile, round_id, hasil_olah))


@monev_app.command("evaluasi")
@friendly
def evaluate(
    round_id: int,
    penilaian: Annotated[str, typer.Option("--penilaian", help="baik, cukup, kurang, tidak_berjalan")],
    evaluasi: Annotated[str, typer.Option("--evaluasi")],
    sebagai: Pelaku,
    temuan: Annotated[list[str] | None, typer.Option("--temuan", help="satu temuan; boleh berulang")] = None,
) -> None:
    """Langkah 7: Kabag mencatat temuan dan evaluasi."""
    data = monev.Evaluasi.model_validate({"temuan": temuan or [], "penilaian": penilaian, "evaluasi": evaluasi})
    _step(sebagai, round_id, lambda s, svc, u: monev.evaluasi(s, u, svc.profile, round_id, data))


@monev_app.command("arahan")
@friendly
def direct(
    round_id: int,
    arahan: Annotated[str, typer.Option("--arahan")],
    sebagai: Pelaku,
    tindak_lanjut: Annotated[
        list[str] | None,
        typer.Option("--tindak-lanjut", help="'uraian|nama pengguna atau opd_teknis|YYYY-MM-DD'; boleh berulang"),
    ] = None,
) -> None:
    """Langkah 8: Kabag memberi arahan dan rencana tindak lanjut."""
    items = []
    for text in tindak_lanjut or []:
        parts = [p.strip() for p in text.split("|")]
        if len(parts) != 3:
            raise InvalidInput(
                f"Tindak lanjut '{text}' harus ditulis 'uraian|penanggung jawab|YYYY-MM-DD'.", reason="bad_item"
            )
        items.append({"uraian": parts[0], "penanggung_jawab": parts[1], "tenggat": tanggal_option(parts[2])})
    data = monev.Arahan.model_validate({"arahan": arahan, "tindak_lanjut": items})
    _step(sebagai, round_id, lambda s, svc, u: monev.arahkan(s, u, svc.profile, round_id, data))


@monev_app.command("selesai-tl")
@friendly
def finish_item(
    tindak_lanjut_id: int,
    catatan: Annotated[str, typer.Option("--catatan")],
    sebagai: Pelaku,
    lampiran: Annotated[list[Path] | None, typer.Option("--lampiran")] = None,
) -> None:
    """Langkah 9: satu tindak lanjut selesai, dengan catatan dan bukti."""
    files = _read(lampiran)
    _step(
        sebagai,
        None,
        lambda s, svc, u: monev.selesaikan_tindak_lanjut(s, svc, u, tindak_lanjut_id, catatan, files).round_id,
    )


@monev_app.command("tutup")
@friendly
def close(round_id: int, kesimpulan: Annotated[str, typer.Option("--kesimpulan")], sebagai: Pelaku) -> None:
    """Langkah 9: menutup monev dengan dokumen evaluasi (semua tindak lanjut selesai)."""
    _step(sebagai, round_id, lambda s, svc, u: monev.tutup(s, u, svc.profile, round_id, kesimpulan))


@monev_app.command("batalkan")
@friendly
def cancel(round_id: int, catatan: Annotated[str, typer.Option("--catatan")], sebagai: Pelaku) -> None:
    """Kabag membatalkan monev (wajib catatan)."""
    _step(sebagai, round_id, lambda s, svc, u: monev.batalkan(s, u, svc.profile, round_id, catatan))


@monev_app.command("perpanjangan")
@friendly
def decide(
    arsip_id: int,
    keputusan: Annotated[str, typer.Option("--keputusan", help="diperpanjang atau tidak_diperpanjang")],
    sebagai: Pelaku,
    catatan: str = "",
) -> None:
    """Kabag mencatat keputusan perpanjangan kerja sama."""
    data = monev.Perpanjangan.model_validate({"keputusan": keputusan, "catatan": catatan})
    with _services() as svc:
        user = _actor(svc.engine, sebagai)
        with session_scope(svc.engine) as session:
            row = monev.putuskan_perpanjangan(session, user, svc.profile, arsip_id, data)
            typer.echo(f"Arsip {arsip_id}: {monev.KEPUTUSAN[row.keputusan]}.")


@monev_app.command("laporan")
@friendly
def report_file(
    dari: Annotated[str, typer.Option("--dari", help="YYYY-MM-DD")],
    sampai: Annotated[str, typer.Option("--sampai", help="YYYY-MM-DD")],
    keluar: Annotated[Path, typer.Option("--keluar", help="berkas .xlsx atau .pdf")],
    sebagai: Sebagai = None,
) -> None:
    """Laporan evaluasi kerja sama per periode, sebagai XLSX atau PDF (menurut akhiran --keluar)."""
    suffix = keluar.suffix.lower()
    if suffix not in (".xlsx", ".pdf"):
        raise InvalidInput("Berkas --keluar harus berakhiran .xlsx atau .pdf.", reason="bad_output", out=str(keluar))
    with _services(converter=suffix == ".pdf") as svc:
        user = _actor(svc.engine, sebagai)
        today = dt.datetime.now(svc.profile.tz).date()
        with session_scope(svc.engine) as session:
            built = monev_report.build(session, user, svc.profile, tanggal_option(dari), tanggal_option(sampai), today)
        data = monev_report.to_xlsx(built) if suffix == ".xlsx" else monev_report.to_pdf(svc, built)
    try:
        keluar.parent.mkdir(parents=True, exist_ok=True)
        keluar.write_bytes(data)
    except OSError as exc:
        raise InvalidInput(f"Berkas '{keluar}' tidak dapat ditulis: {exc.strerror or exc}.", out=str(keluar)) from None
    typer.echo(f"{keluar}: {len(built.rows)} monitoring dan evaluasi, {len(built.alerts)} peringatan.")
