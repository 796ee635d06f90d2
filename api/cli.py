"""The ``naskah`` command line: render, serve, users, maintenance and the demo.

Every command prints an Indonesian message and exits non-zero on any error; the exit
code comes from the same table as the HTTP status (``api/errors.py``).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli_arsip import arsip_app, monitoring_command, tasks_command
from api.cli_common import NoConverter, belongs_line, echo_signing_dates, echo_timestamps, friendly, tanggal_option
from api.cli_devpki import devpki_app
from api.cli_monev import monev_app
from api.cli_notifikasi import notifikasi_app
from api.cli_usulan import usulan_app
from api.config import Settings, build_services
from api.errors import exit_code
from pipeline.errors import IntegrityAlarm, InvalidInput

app = typer.Typer(help="Naskah kerja sama daerah: penyusunan, revisi, dan layanan API.", no_args_is_help=True)
user_app = typer.Typer(help="Pengguna dan token API.", no_args_is_help=True)
db_app = typer.Typer(help="Basis data.", no_args_is_help=True)
audit_app = typer.Typer(help="Jejak audit (rantai hash).", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(arsip_app, name="arsip")
app.add_typer(monev_app, name="monev")
app.add_typer(devpki_app, name="dev-pki")
app.add_typer(usulan_app, name="usulan")
app.add_typer(notifikasi_app, name="notifikasi")
app.command("monitoring")(monitoring_command)
app.command("tasks")(tasks_command)


LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
#: How long uvicorn's supervisor waits for a worker to answer before it replaces it (``naskah serve --workers``).
WORKER_HEALTHCHECK_S = 60


def _level(name: str) -> int:
    """A log level by name (NASKAH_LOG_LEVEL); an unknown name is WARNING."""
    return getattr(logging, name.upper(), logging.WARNING)


def _logging(level: str = "WARNING") -> None:
    logging.basicConfig(level=_level(level), format=LOG_FORMAT)


def _worker_logging(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration with ours on the root logger: a worker process is started afresh
    and applies this (``basicConfig`` in the parent does not reach it)."""
    from uvicorn.config import LOGGING_CONFIG

    config = json.loads(json.dumps(LOGGING_CONFIG))
    config["formatters"]["naskah"] = {"format": LOG_FORMAT}
    config["handlers"]["naskah"] = {
        "class": "logging.StreamHandler",
        "formatter": "naskah",
        "stream": "ext://sys.stderr",
    }
    config["root"] = {"level": _level(level), "handlers": ["naskah"]}
    return config


@app.command()
@friendly
def render(
    template: Annotated[str, typer.Argument(help="nama templat (mis. kb/standar) atau path ke berkas .docx")],
    data: Annotated[Path, typer.Option("--data", help="berkas JSON berisi isian templat")],
    out: Annotated[Path, typer.Option("--out", help="folder tujuan DOCX dan PDF")],
    converter: Annotated[str, typer.Option(help="auto | warm | cold")] = "auto",
) -> None:
    """Render satu templat dengan data JSON menjadi DOCX dan PDF/A-2b."""
    from pipeline.drafting.convert import check_pdf, open_converter
    from pipeline.drafting.templates import TemplateRegistry, load_template, render_docx

    settings = Settings()
    path = Path(template)
    if path.suffix.lower() == ".docx" or path.exists():
        if not path.is_file():
            raise InvalidInput(f"Berkas templat '{template}' tidak ditemukan.", template=template)
        info = load_template(path)
    else:
        info = TemplateRegistry.load(*settings.template_roots).get(template)
    try:
        payload = json.loads(data.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"Berkas data '{data}' tidak ditemukan.", data=str(data)) from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"Berkas data '{data}' bukan JSON yang sah (baris {exc.lineno}, kolom {exc.colno}).",
            data=str(data),
            diagnostic=exc.msg,
        ) from None
    except UnicodeDecodeError:
        raise InvalidInput(f"Berkas data '{data}' bukan teks UTF-8.", data=str(data)) from None
    if not isinstance(payload, dict):
        raise InvalidInput('Data JSON harus berupa objek {"nama_isian": nilai, ...}.', data=str(data))
    docx = render_docx(info, payload)
    conv = open_converter(
        converter if converter in ("auto", "warm", "cold") else "auto", timeout=settings.convert_timeout
    )
    try:
        pdf = conv.to_pdf(docx)
    finally:
        conv.close()
    pages = check_pdf(pdf).pages
    out.mkdir(parents=True, exist_ok=True)
    stem = info.name.replace("/", "-")
    (out / f"{stem}.docx").write_bytes(docx)
    (out / f"{stem}.pdf").write_bytes(pdf)
    typer.echo(f"DOCX: {out / f'{stem}.docx'}\nPDF : {out / f'{stem}.pdf'} ({pages} halaman, PDF/A-2b)")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="alamat (bawaan NASKAH_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (bawaan NASKAH_PORT)")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="jumlah proses API pada port itu (bawaan NASKAH_WORKERS)")
    ] = None,
) -> None:
    """Jalankan API HTTP (migrasi basis data diterapkan saat mulai)."""
    import uvicorn

    from api.main import create_app

    settings = Settings()
    _logging(settings.log_level)
    where = {"host": host or settings.host, "port": port or settings.port}
    processes = workers or settings.workers
    if processes == 1:
        uvicorn.run(create_app(settings), **where)
        return
    # each worker builds the app from the same NASKAH_* environment (create_app() reads Settings());
    # they migrate one after the other (storage.db.upgrade's advisory lock on PostgreSQL).  A worker
    # first imports this module again (the spawned process's __main__ is the naskah script): 3-6 s on
    # 2 cores, past uvicorn's 5 s health check, which killed and restarted workers that were starting.
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        workers=processes,
        log_config=_worker_logging(settings.log_level),
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        **where,
    )


def _engine(settings: Settings) -> Any:
    from storage.db import make_engine, upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine


@user_app.command("add")
@friendly
def user_add(
    username: Annotated[str, typer.Argument(help="nama pengguna, mis. analis.tapem")],
    nama: Annotated[str, typer.Option(help="nama lengkap dengan gelar")],
    jabatan: Annotated[str, typer.Option(help="jabatan")],
    role: Annotated[list[str], typer.Option("--role", help="drafter, legal, paraf, signer, secretariat, admin")],
    nip: Annotated[str | None, typer.Option(help="NIP (opsional)")] = None,
    posisi: Annotated[list[str] | None, typer.Option("--posisi", help="posisi di profil SOP, mis. sekda")] = None,
    nik: Annotated[str | None, typer.Option(help="NIK (16 digit) bila bukan PNS, mis. Kepala Daerah")] = None,
    opd: Annotated[
        str | None, typer.Option(help="OPD pejabat Pemda (mis. Kepala Dinas): ia melihat kerja sama OPD ini")
    ] = None,
    pihak_luar: Annotated[
        bool, typer.Option("--pihak-luar", help="pejabat pihak mitra: hanya melihat naskah yang ia tanda tangani")
    ] = False,
    instansi: Annotated[str | None, typer.Option(help="instansi pejabat pihak mitra (dengan --pihak-luar)")] = None,
    email: Annotated[
        str | None, typer.Option(help="alamat surel untuk notifikasi (giliran, pengingat, ringkasan harian)")
    ] = None,
    hari: Annotated[
        int | None, typer.Option(help="masa berlaku token (hari); bawaan NASKAH_TOKEN_LIFETIME_DAYS", min=1)
    ] = None,
    password: Annotated[
        bool, typer.Option("--password", help="beri kata sandi untuk masuk ke halaman web (ditanyakan, tidak tampil)")
    ] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="baca kata sandi web dari baris pertama stdin (untuk skrip)")
    ] = False,
) -> None:
    """Tambah pengguna dan cetak token API-nya (hanya sekali ditampilkan); dengan --password juga kata
    sandi untuk masuk ke halaman web."""
    from pipeline.accounts import add_user
    from pipeline.signin import set_password
    from pipeline.sop import load_profile
    from storage.db import session_scope

    secret = _read_password(password, password_stdin)
    settings = Settings()
    profile = load_profile(settings.sop_profile)
    engine = _engine(settings)
    with session_scope(engine) as session:
        user, token, row = add_user(
            session,
            None,
            profile,
            token_label="cli",
            lifetime_days=settings.token_lifetime_days,
            token_days=hari,
            username=username,
            nama=nama,
            jabatan=jabatan,
            roles=role,
            nip=nip,
            posisi=posisi or [],
            nik=nik,
            opd=opd,
            pihak_luar=pihak_luar,
            instansi=instansi,
            email=email,
        )
        if secret is not None:
            set_password(session, None, username, secret)
        expires = row.expires_at
    engine.dispose()
    typer.echo(f"Pengguna '{username}' dibuat dengan peran {user.roles}.")
    if secret is not None:
        typer.echo("Kata sandi web disimpan (hanya hash argon2id); masuk di /masuk.")
    typer.echo(f"Token (berlaku sampai {expires:%Y-%m-%d %H:%M} UTC; simpan sekarang, tidak dapat ditampilkan lagi):")
    typer.echo(token)


def _read_password(prompt: bool, from_stdin: bool) -> str | None:
    """A new web password: asked twice without echo, or the first line of stdin; never an argument
    (it would stay in the shell history and in ``ps``)."""
    if prompt and from_stdin:
        raise InvalidInput("Pilih salah satu: --password (ditanyakan) atau --password-stdin.")
    if from_stdin:
        line = sys.stdin.readline()
        if not line.strip():
            raise InvalidInput("Tidak ada kata sandi di stdin.", field="password")
        return line.rstrip("\r\n")
    if prompt:
        return typer.prompt("Kata sandi baru", hide_input=True, confirmation_prompt="Ulangi kata sandi baru")
    return None


@user_app.command("password")
@friendly
def user_password(
    username: Annotated[str, typer.Argument(help="nama pengguna")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="baca kata sandi dari baris pertama stdin (untuk skrip)")
    ] = False,
) -> None:
    """Atur kata sandi web pengguna (ditanyakan dua kali, tidak tampil); semua sesi web-nya berakhir."""
    from pipeline.signin import set_password
    from storage.db import session_scope

    secret = _read_password(not password_stdin, password_stdin)
    assert secret is not None
    engine = _engine(Settings())
    with session_scope(engine) as session:
        ended = set_password(session, None, username, secret)
    engine.dispose()
    typer.echo(f"Kata sandi web '{username}' disimpan; {ended} sesi web-nya diakhiri.")


@user_app.command("sertifikat")
@friendly
def user_certificate(
    username: Annotated[str, typer.Argument(help="nama pengguna pejabat penanda tangan")],
    pem: Annotated[
        Path | None, typer.Option("--pem", help="sertifikat penanda tangan (PEM atau DER) yang didaftarkan")
    ] = None,
    sha256: Annotated[str | None, typer.Option("--sha256", help="atau sidik SHA-256 sertifikat itu")] = None,
    hapus: Annotated[
        str | None, typer.Option("--hapus", help="sidik SHA-256 sertifikat yang dicabut pendaftarannya")
    ] = None,
) -> None:
    """Daftarkan sertifikat sebagai milik pejabat ini (menang atas nama/NIP pada sertifikat), lalu tampilkan
    daftarnya.  Tanpa opsi: hanya menampilkan sertifikat yang terdaftar."""
    from pipeline.accounts import register, unregister
    from pipeline.auth import get_user
    from pipeline.identity import list_certificates
    from storage.db import session_scope

    engine = _engine(Settings())
    with session_scope(engine) as session:
        user = get_user(session, username)
        if pem is not None:
            if not pem.is_file():
                raise InvalidInput(f"Berkas '{pem}' tidak ditemukan.", file=str(pem))
            row = register(session, None, username, certificate=pem.read_bytes())
            typer.echo(f"Terdaftar untuk {user.nama}: {row.sha256} ({row.subject})")
        elif sha256:
            row = register(session, None, username, sha256=sha256)
            typer.echo(f"Terdaftar untuk {user.nama}: {row.sha256}")
        if hapus:
            row = unregister(session, None, username, hapus)
            typer.echo(f"Pendaftaran dicabut: {row.sha256}")
        rows = list_certificates(session, user)
    typer.echo(f"Sertifikat terdaftar untuk '{username}': {len(rows)}")
    for r in rows:
        until = r.not_after.date().isoformat() if r.not_after else "-"
        typer.echo(f"  {r.sha256}  berlaku s.d. {until}  {r.subject}")


@user_app.command("list")
@friendly
def user_list() -> None:
    """Daftar pengguna: peran, posisi di profil SOP, OPD atau instansi mitra, aktif, token yang berlaku."""
    from pipeline.auth import list_users
    from storage.db import session_scope

    engine = _engine(Settings())
    with session_scope(engine) as session:
        rows = [
            (
                u.username,
                u.nama,
                u.jabatan,
                u.roles,
                u.posisi or "-",
                (f"mitra: {u.instansi}" if u.pihak_luar else u.opd) or "-",
                "ya" if u.active else "tidak",
                str(n),
            )
            for u, n in list_users(session)
        ]
    engine.dispose()
    if not rows:
        typer.echo("Belum ada pengguna. Tambahkan dengan: naskah user add NAMA --nama ... --jabatan ... --role ...")
        return
    header = ("username", "nama", "jabatan", "peran", "posisi", "opd/instansi", "aktif", "token")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@user_app.command("token")
@friendly
def user_token(
    username: Annotated[str, typer.Argument(help="nama pengguna")],
    label: Annotated[str, typer.Option(help="untuk apa/di mana token dipakai, mis. laptop-hukum")] = "cli",
    hari: Annotated[
        int | None,
        typer.Option(help="masa berlaku (hari), paling lama NASKAH_TOKEN_LIFETIME_DAYS (bawaan: selama itu)", min=1),
    ] = None,
) -> None:
    """Terbitkan token API BARU untuk pengguna (token lama tetap berlaku sampai kedaluwarsa atau dicabut)."""
    from pipeline.accounts import issue
    from storage.db import session_scope

    settings = Settings()
    engine = _engine(settings)
    with session_scope(engine) as session:
        token, row = issue(session, None, username, label[:100], lifetime_days=settings.token_lifetime_days, days=hari)
        expires = row.expires_at
    engine.dispose()
    typer.echo(
        f"Token baru untuk '{username}' (label '{label}', berlaku sampai {expires:%Y-%m-%d %H:%M} UTC); "
        "simpan sekarang, hanya ditampilkan sekali:"
    )
    typer.echo(token)


@user_app.command("revoke")
@friendly
def user_revoke(
    username: Annotated[str, typer.Argument(help="nama pengguna")],
    token_id: Annotated[int | None, typer.Option("--token-id", help="nomor token yang dicabut (#N)")] = None,
    all_tokens: Annotated[bool, typer.Option("--all", help="cabut semua token pengguna ini")] = False,
) -> None:
    """Cabut satu token (--token-id) atau semua token (--all) pengguna; tanpa pilihan: daftar tokennya."""
    from pipeline.accounts import revoke, revoke_all
    from pipeline.auth import get_user, token_status, user_tokens
    from storage.db import session_scope

    engine = _engine(Settings())
    try:
        with session_scope(engine) as session:
            user = get_user(session, username)
            if all_tokens:
                count = revoke_all(session, None, username)
                typer.echo(f"{count} token '{username}' dicabut.")
            elif token_id is not None:
                revoke(session, None, username, token_id)
                typer.echo(f"Token #{token_id} '{username}' dicabut.")
            else:
                listed = "\n".join(
                    f"  #{t.id}  {t.label or '-'}  dibuat {t.created_at:%Y-%m-%d %H:%M}, "
                    f"berlaku sampai {t.expires_at:%Y-%m-%d %H:%M} UTC: {token_status(t)}"
                    for t in user_tokens(session, user)
                )
                raise InvalidInput(
                    "Sebutkan token yang dicabut dengan --token-id N, atau --all untuk semuanya. "
                    f"Token '{username}':\n{listed or '  (tidak ada)'}",
                    username=username,
                )
    finally:
        engine.dispose()


@db_app.command("upgrade")
@friendly
def db_upgrade() -> None:
    """Terapkan migrasi basis data sampai yang terbaru."""
    _engine(Settings())
    typer.echo("Basis data mutakhir.")


@app.command("libur")
@friendly
def libur(
    tahun: Annotated[
        int | None,
        typer.Option("--tahun", min=1946, max=2100, help="tahun yang ditampilkan (bawaan: tahun ini di zona profil)"),
    ] = None,
) -> None:
    """Hari libur nasional dan cuti bersama yang dilewati mutu baku 'hari kerja' profil SOP (pustaka
    holidays ditambah/dikurangi hari_libur profil); Sabtu dan Minggu tidak dicantumkan."""
    from datetime import UTC, datetime

    from pipeline.sop import load_profile
    from pipeline.terbilang import HARI
    from pipeline.workdays import has_cuti_bersama

    profile = load_profile(Settings().sop_profile)
    year = tahun if tahun is not None else datetime.now(UTC).astimezone(profile.tz).year
    days = profile.kalender.holidays_of(year)
    typer.echo(f"Profil {profile.name} ({profile.zona_waktu}), tahun {year}: {len(days)} hari libur")
    for day, name in days.items():
        source = "profil" if day in profile.hari_libur.tambah else "pustaka"
        typer.echo(f"{day.isoformat()}  {HARI[day.weekday()]:<6}  {name}  [{source}]")
    for day in sorted(d for d in profile.hari_libur.hapus if d.year == year):
        typer.echo(f"{day.isoformat()}  {HARI[day.weekday()]:<6}  hari kerja (dihapus oleh profil)")
    if not has_cuti_bersama(year) and not any(d.year == year for d in profile.hari_libur.tambah):
        typer.echo(
            f"Perhatian: pustaka holidays belum memuat cuti bersama tahun {year}; bila SKB-nya sudah terbit, "
            "tambahkan tanggalnya di hari_libur.tambah profil ini (mutu baku 'hari kerja' kini menghitungnya "
            "sebagai hari kerja)."
        )


@app.command()
@friendly
def reconcile(
    older_than_minutes: Annotated[float, typer.Option(help="hanya baris tertunda yang lebih tua dari ini")] = 10.0,
    min_age_minutes: Annotated[
        float | None,
        typer.Option(
            help="pembersihan: tidak menghapus apa pun yang lebih muda dari ini (bawaan "
            "NASKAH_CLEANUP_MIN_AGE_MINUTES, 60): objek permintaan yang belum selesai tetap aman",
            min=0,
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="hanya tampilkan apa yang akan dilakukan")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="keluaran JSON")] = False,
) -> None:
    """Perbaiki revisi tertunda, lalu bersihkan yang tidak dirujuk data mana pun.

    Urutannya: revisi yang tertunda karena proses terhenti diselesaikan atau dibuang; lalu versi objek
    di penyimpanan kerja yang tidak dirujuk baris mana pun (PDF paraf dari permintaan yang kalah
    balapan, objek proses yang dihentikan), sisa penulisan yang terputus (.blob.tmp-*) dan folder
    LibreOffice milik proses yang sudah tidak berjalan dihapus.  Penyimpanan arsip tidak disentuh
    (terkunci; lihat `naskah arsip yatim`).
    """
    from pipeline.archival.cleanup import housekeeping

    settings = Settings()
    min_age = settings.cleanup_min_age_minutes if min_age_minutes is None else min_age_minutes
    svc = build_services(settings, converter=NoConverter())
    try:
        from storage.db import upgrade

        upgrade(svc.engine)
        done = housekeeping(
            svc,
            pending_older_than=timedelta(minutes=older_than_minutes),
            min_age=timedelta(minutes=min_age),
            dry_run=dry_run,
        )
    finally:
        svc.close()
    report = done.cleanup
    if as_json:
        reconciled = [r.__dict__ for r in done.reconciled]
        typer.echo(json.dumps({"reconciled": reconciled, "cleanup": report.to_dict()}, ensure_ascii=False, indent=2))
        return
    if dry_run:
        typer.echo("Uji coba (--dry-run): tidak ada yang diubah.")
    if not done.reconciled:
        typer.echo("Tidak ada revisi tertunda.")
    for r in done.reconciled:
        typer.echo(f"naskah {r.naskah_id} revisi {r.number}: {r.outcome} ({r.reason})")
    verb = "akan dihapus" if dry_run else "dihapus"
    for v in report.removed:
        typer.echo(f"  {verb}: {v.key} versi {v.version_id} ({_size(v.size)})")
    for path in report.leftovers:
        typer.echo(f"  {verb}: sisa penulisan {path}")
    for d in report.workdirs:
        killed = f", proses {', '.join(map(str, d.killed))} dihentikan" if d.killed else ""
        typer.echo(f"  {verb}: folder LibreOffice {d.path} (pemiliknya tidak berjalan lagi{killed})")
    for v in report.foreign:
        typer.echo(f"  dibiarkan (bukan milik basis data ini?): {v.key} versi {v.version_id}")
    for v in report.locked:
        typer.echo(f"  dibiarkan (terkunci): {v.key} versi {v.version_id}")
    typer.echo(
        f"Pembersihan: {report.listed} versi objek, {report.referenced} dirujuk; "
        f"{len(report.removed)} yatim {verb} ({_size(report.bytes_freed)}), {len(report.leftovers)} sisa penulisan, "
        f"{len(report.workdirs)} folder LibreOffice.  Dibiarkan: {report.young} lebih muda dari "
        f"{min_age:g} menit, {report.pending} milik revisi tertunda, {report.history} lambang lama yang tercatat, "
        f"{len(report.foreign)} tak dikenal, {len(report.locked)} terkunci."
    )
    if report.archive_orphans:
        typer.echo(f"Arsip: {report.archive_orphans} versi terkunci tanpa catatan (lihat `naskah arsip yatim`).")


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(n, 0) / 1024:.0f} KB"


@audit_app.command("verify")
@friendly
def audit_verify(as_json: Annotated[bool, typer.Option("--json", help="keluaran JSON")] = False) -> None:
    """Periksa rantai jejak audit di basis data NASKAH_DATABASE_URL: hitung ulang setiap sidik.

    Kode keluar 0 bila rantai utuh (dicetak: jumlah entri dan sidik kepala); bila ada entri yang
    diubah, dihapus atau diubah urutannya, kode keluar galat integritas dan entri pertama yang rusak.
    """
    from sqlmodel import Session

    from pipeline.audit import verify_chain
    from storage.db import make_engine

    engine = make_engine(Settings().database_url)
    try:
        with Session(engine) as session:
            report = verify_chain(session)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    elif report.broken is None:
        typer.echo(f"Jejak audit utuh: {report.count} entri, kepala {report.head_hash}")
    else:
        b = report.broken
        typer.secho(f"Jejak audit RUSAK pada entri {b.seq} ({b.problem}): {b.message}", fg=typer.colors.RED, err=True)
        typer.echo(f"{report.count} entri pertama utuh, sampai kepala {report.head_hash}", err=True)
    if not report.ok:
        raise typer.Exit(exit_code(IntegrityAlarm()))


@app.command()
@friendly
def verify(
    file: Annotated[Path, typer.Argument(help="PDF yang diperiksa")],
    trust: Annotated[list[Path] | None, typer.Option("--trust", help="PEM akar tepercaya (boleh berulang)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="keluaran JSON")] = False,
    arsip: Annotated[
        bool,
        typer.Option(
            "--arsip",
            help="naskah arsip (B-LTA): nilai sepanjang rantai cap waktu dengan data validasi tertanam, "
            "bukan pada hari ini",
        ),
    ] = False,
) -> None:
    """Periksa setiap tanda tangan: utuh, sah, tepercaya, cakupan, stempel waktu, level PAdES.

    Kode keluar 0 hanya bila semua tanda tangan utuh, sah dan tepercaya, dan setelah tanda tangan
    terakhir hanya ada data validasi atau stempel waktu dokumen.  Dengan --arsip setiap tanda
    tangan dinilai pada waktu cap waktunya dan setiap cap waktu dokumen pada waktu cap waktu
    berikutnya, sehingga naskah arsip tetap terverifikasi setelah sertifikat penanda tangan berakhir.

    Bila basis data NASKAH_DATABASE_URL mengenal naskah ini, setiap tanda tangan juga diperiksa:
    apakah sertifikatnya milik pejabat yang tercantum pada blok tanda tangannya (milik_penanda_tangan).
    """
    from pipeline.sign.verification import verify_known
    from pipeline.sign.verify import as_certificates

    if not file.is_file():
        raise InvalidInput(f"Berkas '{file}' tidak ditemukan.", file=str(file))
    settings = Settings()
    roots = as_certificates(trust or []) or settings.trust_root_certificates
    if not roots:
        raise InvalidInput("Sebutkan akar tepercaya dengan --trust FILE.pem (atau NASKAH_TRUST_ROOTS).")
    engine = _existing_database(settings)
    try:
        report = verify_known(engine, file.read_bytes(), roots, archival=arsip, limits=settings.pdf_limits)
    finally:
        if engine is not None:
            engine.dispose()
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        typer.echo(f"{file}: {len(report.signatures)} tanda tangan — {report.bottom_line}")
        for s in report.signatures:
            flags = f"utuh={'ya' if s.intact else 'TIDAK'} sah={'ya' if s.valid else 'TIDAK'} "
            flags += f"tepercaya={'ya' if s.trusted else 'TIDAK'}"
            typer.echo(f"  [{s.field}] {s.signer} — {s.signing_time} — {flags}")
            typer.echo(f"      {belongs_line(s)}")
            typer.echo(
                f"      cakupan={s.coverage} perubahan={s.modification_level} stempel_waktu={s.timestamp} "
                f"PAdES={s.pades_level} => {s.bottom_line}"
            )
            for problem in s.problems:
                typer.echo(f"      ! {problem}")
        typer.echo(f"  setelah tanda tangan terakhir: {report.after_last_signature}")
        if report.naskah_id is None:
            typer.echo(
                "  naskah tidak dikenal basis data: pemilik sertifikat tidak dapat dicocokkan dengan blok tanda tangan"
            )
        else:
            typer.echo(f"  naskah {report.naskah_id} (dikenal basis data)")
            echo_signing_dates(report.tanggal_penandatanganan)
        echo_timestamps(report)
    if not report.ok:
        raise typer.Exit(8)


def _existing_database(settings: Settings) -> Any:
    """An engine on the configured database when it exists (a SQLite file is never created here)."""
    import sqlalchemy as sa

    from storage.db import make_engine

    url = sa.engine.make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and (not url.database or not Path(url.database).expanduser().is_file()):
        return None
    return make_engine(settings.database_url)


@app.command()
@friendly
def demo(
    out: Annotated[Path, typer.Option("--out", help="folder hasil demo")],
    tanggal: Annotated[
        str | None,
        typer.Option(
            help="tanggal mulai kerja sama YYYY-MM-DD, hari ini atau sesudahnya (bawaan: hari ini; Bupati "
            "menyetujui penawaran hari ini); naskah selalu bertanggal hari ini (zona waktu profil) karena "
            "ditandatangani hari ini"
        ),
    ] = None,
) -> None:
    """Jalankan seluruh alur contoh: penawaran masuk sampai disetujui Bupati, KB (desk to desk), PKS atas
    Surat Kuasa, NK KSIV, arsip, monev; surat usulan, surel pemberitahuan (.eml) dan report.json."""
    from api.demo import run_demo

    day = tanggal_option(tanggal) if tanggal else None
    _logging("WARNING")
    code = run_demo(out, day)
    if code:
        raise typer.Exit(code)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
