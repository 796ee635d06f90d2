"""The archive: archive a signed naskah, search, download the original, verify it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from api.deps import CurrentUser, Id, ServicesDep, SessionDep
from api.schemas import ArsipPublic, ArsipVersionPublic, Page
from pipeline import access
from pipeline.archival import archive
from pipeline.models import Arsip, User
from pipeline.services import Services

router = APIRouter(tags=["arsip"])


def arsip_public(arsip: Arsip, today: dt.date, shown: set[int] | None = None, dalam_hari: int = 90) -> ArsipPublic:
    """The record; ``shown``: the naskah ids the user may see, so a related naskah they may not see is
    not named (None: all); ``status_masa`` with the search's ``dalam_hari`` (``archive.masa_of``)."""
    related = [r for r in arsip.related if shown is None or int(r.get("naskah_id") or 0) in shown]
    return ArsipPublic.model_validate(
        {
            **arsip.model_dump(),
            "related": related,
            "status_masa": archive.masa_of(arsip.selesai, today, dalam_hari),
        }
    )


def _related_shown(svc: Services, session: SessionDep, user: User, rows: list[Arsip]) -> set[int]:
    ids = [int(r.get("naskah_id") or 0) for a in rows for r in a.related]
    return access.visible_naskah_ids(session, user, svc.profile, ids)


@router.post("/naskah/{naskah_id}/archive", status_code=201, summary="Arsipkan naskah yang sudah ditandatangani")
def archive_naskah(naskah_id: Id, svc: ServicesDep, user: CurrentUser) -> ArsipPublic:
    arsip = archive.archive_naskah(svc, user, naskah_id)
    return arsip_public(arsip, dt.datetime.now(svc.profile.tz).date())  # the secretariat sees every naskah


@router.get("/arsip", summary="Cari arsip naskah kerja sama")
def search(
    query: Annotated[archive.ArsipQuery, Query()], svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> Page[ArsipPublic]:
    today = dt.datetime.now(svc.profile.tz).date()
    rows, count = archive.search(session, user, query, today, profile=svc.profile)
    shown = _related_shown(svc, session, user, rows)
    return Page(data=[arsip_public(a, today, shown, query.dalam_hari) for a in rows], count=count)


@router.get("/arsip/{arsip_id}", summary="Rincian arsip")
def get_arsip(arsip_id: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> ArsipPublic:
    arsip = archive.get_arsip(session, user, arsip_id, profile=svc.profile)
    today = dt.datetime.now(svc.profile.tz).date()
    return arsip_public(arsip, today, _related_shown(svc, session, user, [arsip]))


@router.get("/arsip/{arsip_id}/versions", summary="Versi tersimpan naskah asli (sha256, terkunci sampai)")
def versions(arsip_id: Id, svc: ServicesDep, session: SessionDep, user: CurrentUser) -> list[ArsipVersionPublic]:
    today = dt.datetime.now(svc.profile.tz).date()
    rec = archive.record(session, user, arsip_id, today, profile=svc.profile)
    return [ArsipVersionPublic.model_validate(dataclasses.asdict(v)) for v in rec.versions]


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
