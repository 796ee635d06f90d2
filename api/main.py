"""The FastAPI application: ``create_app`` wires settings, services and routes."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api import errors
from api.config import Settings, build_services
from api.limits import BoundedRequests
from api.routes import (
    admin,
    arsip,
    audit,
    cases,
    intake,
    monev,
    monitoring,
    naskah,
    notifications,
    preview,
    signing,
    tasks,
    templates,
    workflow,
)
from api.timing import ConversionTimingHeader
from api.web import admin as web_admin
from api.web import arsip as web_arsip
from api.web import dasbor as web_dasbor
from api.web import jejak as web_jejak
from api.web import kerjasama as web_kerjasama
from api.web import monev as web_monev
from api.web import naskah as naskah_pages
from api.web import notifikasi as web_notifikasi
from api.web import pages
from api.web import paraf as web_paraf
from api.web import publik as web_publik
from api.web import tanda_tangan as web_tanda_tangan
from api.web import usulan as web_usulan
from api.web.assets import STATIC_DIR, STATIC_URL, vendored_url
from api.web.errors import page_error, too_large_page
from api.web.security import SecurityHeaders
from pipeline.drafting.convert import ConverterPool
from pipeline.services import Services
from storage.db import upgrade
from storage.mail import Mailer

__all__ = ["create_app"]

log = logging.getLogger(__name__)

ERROR_RESPONSES: dict[int | str, dict] = {
    400: {"model": errors.ErrorBody, "description": "Isi permintaan tidak dapat dibaca (JSON atau multipart rusak)"},
    401: {"model": errors.ErrorBody, "description": "Token tidak ada atau tidak berlaku"},
    403: {"model": errors.ErrorBody, "description": "Peran tidak mencukupi, atau bukan penyusun naskah ini"},
    404: {"model": errors.ErrorBody, "description": "Data tidak ditemukan"},
    409: {"model": errors.ErrorBody, "description": "Tidak dapat dilakukan pada status ini / bentrok"},
    413: {"model": errors.ErrorBody, "description": "Berkas terlalu besar"},
    422: {"model": errors.ErrorBody, "description": "Masukan tidak valid"},
    500: {"model": errors.ErrorBody, "description": "Galat server (dengan kode galat), atau alarm integritas berkas"},
    503: {"model": errors.ErrorBody, "description": "Penyimpanan atau konverter tidak tersedia"},
}


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """The app.  Tests pass ``services`` built on their own database and store."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        svc = services or build_services(settings)  # migrates first, then checks the stores against it
        if not owned and settings.migrate_on_start:
            upgrade(svc.engine)
        app.state.services = svc
        if svc.pdf_worker is not None:
            svc.pdf_worker.warm_up()  # the fork server of the bounded PDF analysis, before the first upload
        log.info("naskah API ready: store=%s templates=%d", svc.store.description, len(svc.templates.all()))
        app.state.housekeeping = _start_housekeeping(svc, settings) if settings.cleanup_on_start else None
        app.state.mail_worker = MailWorker(svc, settings) if settings.mail_worker else None
        _freeze_startup_objects()
        try:
            yield
        finally:
            if app.state.mail_worker is not None:
                app.state.mail_worker.stop()
            if app.state.housekeeping is not None:
                app.state.housekeeping.join(timeout=30)  # before the engine and store are closed under it
            if owned:
                svc.close()

    app = FastAPI(
        title="Naskah Kerja Sama Daerah",
        version="0.1.0",
        description=(
            "Penyusunan naskah kerja sama (KB, NK, PKS, Surat Kuasa) dari templat, revisi yang tersimpan "
            "dan dapat dibandingkan. Semua galat berbentuk JSON `{code, message, detail}`."
        ),
        lifespan=lifespan,
        docs_url=None,  # served below from the vendored files: FastAPI's defaults load them from a CDN
        redoc_url=None,
    )
    if services is not None:
        app.state.services = services
    app.state.settings = settings
    errors.install(app, pages=page_error)  # a page's error is a page in the layout, from the same table
    # token first, then the route's body limit, before FastAPI reads a byte of the body (api/limits.py)
    # too large on a page's form: the error page, not JSON
    app.add_middleware(BoundedRequests, json_limit=settings.max_body_kb * 1024, pages=too_large_page)
    app.add_middleware(ConversionTimingHeader)  # Server-Timing: how long conversions waited for a converter
    app.add_middleware(SecurityHeaders)  # CSP, nosniff, Referrer-Policy on every response (api/web/security.py)
    v1 = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
    v1.include_router(cases.router)
    v1.include_router(preview.router)  # before naskah: …/revisions/{n}/pages is not the download …/{kind}
    v1.include_router(naskah.router)
    v1.include_router(workflow.router)
    v1.include_router(signing.router)
    v1.include_router(templates.router)
    v1.include_router(tasks.router)
    v1.include_router(notifications.router)
    v1.include_router(monitoring.router)  # before arsip: /arsip/rekap.csv must not reach /arsip/{arsip_id}
    v1.include_router(arsip.router)
    v1.include_router(admin.router)
    v1.include_router(audit.router)
    v1.include_router(intake.router)
    v1.include_router(monev.router)
    app.include_router(v1)
    app.include_router(pages.router)  # the web pages (api/web): sign-in, Beranda, ...
    app.include_router(web_paraf.router)  # /naskah/{id}/paraf
    app.include_router(web_tanda_tangan.router)  # /naskah/{id}/tanda-tangan
    app.include_router(web_usulan.router)  # Usulan: incoming letters, disposisi, telaah, rapat TKKSD, decision
    app.include_router(web_kerjasama.router)  # Kerja sama: list, forms, detail, a new naskah
    app.include_router(web_arsip.router)  # Arsip: search, original, verification report
    app.include_router(web_dasbor.router)  # Monitoring: the secretariat's dashboard
    app.include_router(web_monev.router)  # Monev: what waits on me, alerts, rounds, the OPD's report form
    app.include_router(web_jejak.router)  # Jejak audit: a naskah's timeline, the whole trail, Periksa rantai
    app.include_router(web_notifikasi.router)  # Notifikasi: the inbox, and mail on or off (/akun/notifikasi)
    app.include_router(naskah_pages.router)  # the naskah, its revisions, diff and Bagian Hukum's review
    app.include_router(web_admin.router)  # Administrasi: users, sessions and tokens, signers (role admin)
    app.include_router(web_publik.router)  # public, no sign-in: /verifikasi and the QR code's /v/<token>

    @app.get("/healthz", tags=["sistem"], summary="Cek hidup, dan beban konverter dokumen")
    def healthz(request: Request) -> dict[str, Any]:
        out: dict[str, Any] = {"status": "ok"}
        svc = getattr(request.app.state, "services", None)
        if svc is not None and isinstance(svc.converter, ConverterPool):
            out["konverter"] = svc.converter.stats().to_dict()  # size, busy, waiting, waits so far
        return out

    _docs(app)
    return app


def _start_housekeeping(svc: Services, settings: Settings) -> threading.Thread:
    """``naskah reconcile`` at every start, in the background so the API answers at once (bounded: it
    only lists the store and reads the records once).  Several API processes starting together may
    each run it: removals are idempotent, and nothing younger than the age threshold is touched."""

    def run() -> None:
        from pipeline.archival.cleanup import housekeeping

        try:
            done = housekeeping(svc, min_age=timedelta(minutes=settings.cleanup_min_age_minutes))
            log.info(
                "start-up housekeeping: %d pending revisions handled; %s", len(done.reconciled), done.cleanup.summary()
            )
        except Exception:  # a store or database that is down now: the next start (or naskah reconcile) retries
            log.exception("start-up housekeeping failed")

    thread = threading.Thread(target=run, name="naskah-housekeeping", daemon=True)
    thread.start()
    return thread


def _freeze_startup_objects() -> None:
    """Keep what start-up made (modules, routes, models, the services) out of the garbage collector's
    full collections for the life of the process (``gc.freeze``).  A full collection scans every
    tracked object: ~300,000 after start-up, 180 ms on an idle core, up to 400 ms on busy ones, during
    which every request of the process waits (bench/web.py's slowest /arsip pages: one process still,
    the other serving).  Objects made later are collected as before."""
    gc.collect()
    gc.freeze()
    log.info("start-up objects kept out of garbage collection: %d", gc.get_freeze_count())


class MailWorker:
    """The background sender of notifications (``pipeline.inbox.notifications.cycle``): every
    ``NASKAH_MAIL_INTERVAL_SECONDS`` reminders, the daily digest and the due mail, in a daemon thread
    of the API process.  A failing round (database or mail server down) is logged and the next round
    tries again; nothing an action does waits on it."""

    def __init__(self, svc: Services, settings: Settings) -> None:
        self.svc = svc
        self.mailer = Mailer(settings.smtp)
        self.interval = settings.mail_interval_seconds
        self.digest_hour = settings.mail_digest_hour
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="naskah-mail", daemon=True)
        log.info("mail worker: every %.0f s, SMTP %s", self.interval, settings.smtp.describe())
        self.thread.start()

    def _run(self) -> None:
        from pipeline.inbox.notifications import cycle

        alerts_done = None  # the day this process last looked for monev alerts: once a day is enough
        while not self._stop.is_set():
            try:
                svc = self.svc
                report = cycle(
                    svc.engine,
                    svc.profile,
                    self.mailer,
                    public_url=svc.public_url,
                    digest_hour=self.digest_hour,
                    alerts_done=alerts_done,
                )
                alerts_done = report.peringatan_hari or alerts_done
            except Exception:
                log.exception("mail worker round failed; next round in %.0f s", self.interval)
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=30)


def _docs(app: FastAPI) -> None:
    """``/docs`` and ``/redoc`` with every asset from ``/static``, so they work on an intranet with no way out."""
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
    favicon = vendored_url("swagger-ui-dist", "favicon-32x32.png")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — Swagger UI",
            swagger_js_url=vendored_url("swagger-ui-dist", "swagger-ui-bundle.js"),
            swagger_css_url=vendored_url("swagger-ui-dist", "swagger-ui.css"),
            swagger_favicon_url=favicon,
            # no badge fetched from validator.swagger.io
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — ReDoc",
            redoc_js_url=vendored_url("redoc", "bundles/redoc.standalone.js"),
            redoc_favicon_url=favicon,
            with_google_fonts=False,
        )
