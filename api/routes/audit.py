"""The whole audit trail: filtered, newest first, and the chain check ("Periksa rantai").

For the roles that answer for the trail (``pipeline.audit.READERS``); the trail of one naskah is
``GET /naskah/{id}/audit`` (``api.routes.workflow``), for whoever may see the naskah.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentUser, ServicesDep, SessionDep
from api.schemas import AuditListEntryPublic, ChainCheckPublic, Page
from pipeline import audit
from pipeline.models import AuditEntry

router = APIRouter(tags=["audit"])


def entry_public(r: AuditEntry) -> AuditListEntryPublic:
    return AuditListEntryPublic(
        seq=r.seq,
        at=r.at,
        actor=r.actor,
        action=r.action,
        sha256=r.object_sha256,
        detail=r.detail,
        prev_hash=r.prev_hash,
        entry_hash=r.entry_hash,
        naskah_id=r.naskah_id,
        kerja_sama_id=r.kerja_sama_id,
    )


@router.get("/audit", summary="Jejak audit seluruh sistem, terbaru dahulu, dengan saringan")
def search(
    query: Annotated[audit.AuditQuery, Query()], svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> Page[AuditListEntryPublic]:
    rows, count = audit.search(session, user, query, profile=svc.profile)
    return Page(data=[entry_public(r) for r in rows], count=count)


@router.post("/audit/periksa", summary="Periksa rantai jejak audit (hitung ulang setiap sidik); dicatat di jejak")
def check_chain(session: SessionDep, user: CurrentUser) -> ChainCheckPublic:
    report, entry = audit.check_chain(session, user)
    return ChainCheckPublic.model_validate({**report.to_dict(), "entry_seq": entry.seq if entry else None})
