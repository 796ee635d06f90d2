"""The FastAPI application: ``create_app`` wires settings, services and routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from api import errors
from api.config import Settings, build_services
from api.routes import arsip, cases, monitoring, naskah, signing, templates, workflow
from pipeline.services import Services
from storage.db import upgrade

__all__ = ["create_app"]

log = logging.getLogger(__name__)

ERROR_RESPONSES: dict[int | str, dict] = {
    401: {"model": errors.ErrorBody, "description": "Token tidak ada atau tidak berlaku"},
    403: {"model": errors.ErrorBody, "description": "Peran tidak mencukupi"},
    404: {"model": errors.ErrorBody, "description": "Data tidak ditemukan"},
    409: {"model": errors.ErrorBody, "description": "Tidak dapat dilakukan pada status ini / bentrok"},
    413: {"model": errors.ErrorBody, "description": "Berkas terlalu besar"},
    422: {"model": errors.ErrorBody, "description": "Masukan tidak valid"},
    503: {"model": errors.ErrorBody, "description": "Penyimpanan atau konverter tidak tersedia"},
}


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """The app.  Tests pass ``services`` built on their own database and store."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        svc = services or build_services(settings)
        if settings.migrate_on_start:
            upgrade(svc.engine)
        app.state.services = svc
        log.info("naskah API ready: store=%s templates=%d", svc.store.description, len(svc.templates.all()))
        try:
            yield
        finally:
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
    )
    if services is not None:
        app.state.services = services
    errors.install(app)
    v1 = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
    v1.include_router(cases.router)
    v1.include_router(naskah.router)
    v1.include_router(workflow.router)
    v1.include_router(signing.router)
    v1.include_router(templates.router)
    v1.include_router(monitoring.router)  # before arsip: /arsip/rekap.csv must not reach /arsip/{arsip_id}
    v1.include_router(arsip.router)
    app.include_router(v1)

    @app.get("/healthz", tags=["sistem"], summary="Cek hidup")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
