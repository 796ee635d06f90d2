"""``naskah notifikasi …``: the notification outbox from the command line (cron, or by hand).

The API process does the same in the background (``NASKAH_MAIL_WORKER``); these commands are for a
deployment that runs it elsewhere, and for looking at the queue when mail does not arrive.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer

from api.cli_common import friendly
from api.config import Settings
from pipeline.inbox import notifications
from pipeline.sop import load_profile
from storage.db import make_engine, session_scope, upgrade
from storage.mail import Mailer

__all__ = ["notifikasi_app"]

notifikasi_app = typer.Typer(
    help="Notifikasi: kirim surel yang antre, pengingat mutu baku, ringkasan harian, status antrean.",
    no_args_is_help=True,
)


def _run(*, digest: bool) -> notifications.CycleReport:
    settings = Settings()
    profile = load_profile(settings.sop_profile)
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        now = dt.datetime.now(dt.UTC)
        report = notifications.cycle(
            engine,
            profile,
            Mailer(settings.smtp),
            now,
            public_url=settings.public_url,
            digest_hour=0 if digest else None,
        )
    finally:
        engine.dispose()
    if not settings.smtp.configured:
        typer.echo("NASKAH_SMTP_HOST tidak diisi: surel tetap antre (kotak masuk aplikasi tetap menampilkannya).")
    return report


@notifikasi_app.command("kirim")
@friendly
def kirim() -> None:
    """Tulis pengingat untuk langkah yang melewati mutu baku, lalu kirim surel yang sudah waktunya
    (server yang mati: surel tetap antre dan dicoba lagi nanti)."""
    report = _run(digest=False)
    typer.echo(f"Pengingat baru: {report.pengingat}. Surel: {report.kirim.summary()}.")
    if report.kirim.error and not report.kirim.sent:
        raise typer.Exit(1)


@notifikasi_app.command("ringkasan")
@friendly
def ringkasan() -> None:
    """Tulis ringkasan harian tugas (sekali per orang per hari), peringatan monev bagi yang harus bertindak dan
    pengingat, lalu kirim surel."""
    report = _run(digest=True)
    typer.echo(
        f"Ringkasan baru: {report.ringkasan}. Peringatan monev baru: {report.peringatan}. "
        f"Pengingat baru: {report.pengingat}. Surel: {report.kirim.summary()}."
    )


@notifikasi_app.command("status")
@friendly
def status(as_json: Annotated[bool, typer.Option("--json", help="keluaran JSON")] = False) -> None:
    """Antrean surel: berapa menunggu, sejak kapan, galat terakhir."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with session_scope(engine) as session:
            health = notifications.mail_health(session, dt.datetime.now(dt.UTC), server=settings.smtp.describe())
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(health.to_dict(), ensure_ascii=False, indent=2))
        return
    typer.echo(f"Server SMTP: {health.server}")
    typer.echo(
        f"Menunggu dikirim: {health.antre}" + (f" (tertua {health.tertua:%Y-%m-%d %H:%M} UTC)" if health.tertua else "")
    )
    typer.echo(f"Terkirim 24 jam terakhir: {health.terkirim_24_jam}; ditolak server: {health.gagal}")
    if health.galat_terakhir:
        typer.echo(f"Galat terakhir: {health.galat_terakhir}")
