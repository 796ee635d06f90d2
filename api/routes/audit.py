"""The whole audit trail: filtered, newest first, and the chain check ("Periksa rantai").

For the roles that answer for the trail (``pipeline.audit.READERS``); the trail of one naskah is
``GET /naskah/{id}/audit`` (``api.routes.workflow``), for whoever may see the naskah.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentUser, ServicesDep, SessionDep
from api.present import audit_list_entry_public
from api.schemas import AuditListEntryPublic, ChainCheckPublic, Page
from pipeline import audit

router = APIRouter(tags=["audit"])


@router.get("/audit", summary="Jejak audit seluruh sistem, terbaru dahulu, dengan saringan")
def search(
    query: Annotated[audit.AuditQuery, Query()], svc: ServicesDep, session: SessionDep, user: CurrentUser
) -> Page[AuditListEntryPublic]:
    rows, count = audit.search(session, user, query, profile=svc.profile)
    return Page(data=[audit_list_entry_public(r) for r in rows], count=count)


@router.post("/audit/periksa", summary="Periksa rantai jejak audit (hitung ulang setiap sidik); dicatat di jejak")
def check_chain(session: SessionDep, user: CurrentUser) -> ChainCheckPublic:
    report, entry = audit.check_chain(session, user)
    return ChainCheckPublic.model_validate({**report.to_dict(), "entry_seq": entry.seq if entry else None})
