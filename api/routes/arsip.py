"""The archive: archive a signed naskah, search, download the original, verify it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from api.deps import CurrentUser, Id, ServicesDep, SessionDep
from api.schemas import ArsipPublic, Page
from pipeline import archive
from pipeline.models import Arsip

router = APIRouter(tags=["arsip"])


def arsip_public(arsip: Arsip, today: dt.date) -> ArsipPublic:
    return ArsipPublic.model_validate(
        {**arsip.model_dump(), "status_masa": "berlaku" if arsip.selesai >= today else "kedaluwarsa"}
    )


@router.post("/naskah/{naskah_id}/archive", status_code=201, summary="Arsipkan naskah yang sudah ditandatangani")
def archive_naskah(naskah_id: Id, svc: ServicesDep, user: CurrentUser) -> ArsipPublic:
    arsip = archive.archive_naskah(svc, user, naskah_id)
    return arsip_public(arsip, dt.datetime.now(svc.profile.tz).date())


@router.get("/arsip", summary="Cari arsip naskah kerja sama")
def search(
    query: Annotated[archive.ArsipQuery, Query()], svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> Page[ArsipPublic]:
    today = dt.datetime.now(svc.profile.tz).date()
    rows, count = archive.search(session, user, query, today)
    return Page(data=[arsip_public(a, today) for a in rows], count=count)


@router.get("/arsip/{arsip_id}", summary="Rincian arsip")
def get_arsip(arsip_id: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> ArsipPublic:
    return arsip_public(archive.get_arsip(session, user, arsip_id), dt.datetime.now(svc.profile.tz).date())


@router.get(
    "/arsip/{arsip_id}/original.pdf",
    summary="Unduh naskah asli yang diarsipkan (byte demi byte, sha256 diperiksa)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "PDF asli (PAdES B-LTA)"}},
)
def original(arsip_id: Id, svc: ServicesDep, user: CurrentUser) -> Response:
    arsip, data = archive.read_original(svc, user, arsip_id)
    name = f"{arsip.jenis.lower()}-{arsip.naskah_id}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={"X-Content-SHA256": arsip.sha256, "Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/arsip/{arsip_id}/verify", summary="Laporan verifikasi naskah asli yang diarsipkan")
def verify(arsip_id: Id, svc: ServicesDep, user: CurrentUser) -> dict[str, Any]:
    return archive.verify_archived(svc, user, arsip_id).to_dict()
