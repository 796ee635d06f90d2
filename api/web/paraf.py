"""Paraf page (``/naskah/{id}/paraf``): the chain as a stepper, and "Beri paraf" for the official whose turn it is.

As thin as its API twin (``api/routes/workflow.py``): the stepper is ``pipeline.workspace.progress``'s, whose turn
it is ``pipeline.inbox.tasks``' (``giliran_saya``) and, for everyone else, ``paraf.turn_of``'s words; the
official whose turn it is opens the page as it will be stamped (``paraf.preview_paraf``) before
confirming.  A POST by anyone else is refused by ``paraf.give_paraf`` itself, with its reason, as a page.
Refusing needs a note (``paraf.refuse_paraf``; the lifecycle table requires it).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import Id, ServicesDep, SessionDep
from api.web.render import form_error, page
from api.web.security import FormUser, PageUser, Signed
from pipeline import audit
from pipeline.approval import paraf
from pipeline.drafting import cases
from pipeline.errors import NaskahError
from pipeline.lifecycle import Status
from pipeline.services import Services
from pipeline.textcheck import MultiLine
from pipeline.workspace.progress import progress_of

__all__ = ["router", "waktu"]

router = APIRouter(include_in_schema=False)

REFUSE_FIELDS = ["note"]
_BULAN = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip


def waktu(value: dt.datetime | None, tz: dt.tzinfo, zona: str) -> str:
    """A moment as people here read it, in the profile's zone: "7 Desember 2026, 14.05 WITA"."""
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    local = value.astimezone(tz)
    return f"{local.day} {_BULAN[local.month - 1]} {local.year}, {local:%H.%M} {zona}"


def _context(svc: Services, session: SessionDep, signed: Signed, naskah_id: int) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    progress = progress_of(session, signed.user, naskah_id, profile=svc.profile, now=now)
    naskah = cases.get_naskah(session, signed.user, naskah_id, profile=svc.profile)
    steps = [s.to_dict() for s in progress.langkah if s.tahap == "paraf"]
    current = next((s for s in steps if s["keadaan"] == "current"), None)
    turn = None
    if naskah.status == Status.PARAF.value:
        turn = paraf.turn_of(svc.profile, naskah.jenis, paraf.active_paraf(session, naskah_id), signed.user)
    tz, zona = svc.profile.tz, svc.profile.zona_waktu
    return {
        "progress": progress,
        "steps": steps,
        "current": current,
        "mine": bool(current and current["giliran_saya"]),
        "turn": turn,
        "final_ready": paraf.final_file(session, naskah_id) is not None,
        "in_paraf": naskah.status == Status.PARAF.value,
        "waktu": lambda value: waktu(value, tz, zona),
        "form_fields": REFUSE_FIELDS,
    }


@router.get("/naskah/{naskah_id}/paraf", response_class=HTMLResponse)
def paraf_page(
    request: Request, naskah_id: Id, signed: PageUser, svc: ServicesDep, session: SessionDep, selesai: str = ""
) -> HTMLResponse:
    ctx = _context(svc, session, signed, naskah_id)
    ctx["done"] = selesai if selesai in ("paraf", "tolak") else ""
    return page(request, "paraf.html", ctx)


@router.post("/naskah/{naskah_id}/paraf")
def beri_paraf(naskah_id: Id, signed: FormUser, svc: ServicesDep) -> Response:
    """Give the paraf: the pipeline checks the turn; a refusal becomes the error page with its reason."""
    paraf.give_paraf(svc, signed.user, naskah_id)
    return RedirectResponse(f"/naskah/{naskah_id}/paraf?selesai=paraf", status_code=303)


@router.post("/naskah/{naskah_id}/paraf/tolak", response_class=HTMLResponse)
def tolak_paraf(
    request: Request,
    naskah_id: Id,
    signed: FormUser,
    svc: ServicesDep,
    session: SessionDep,
    note: Annotated[MultiLine, Form(max_length=2000)] = "",
) -> Response:
    """Refuse the paraf with a note (required by the lifecycle): the draft returns to the drafter."""
    try:
        paraf.refuse_paraf(svc, signed.user, naskah_id, note)
    except NaskahError as exc:
        return form_error(
            request,
            "paraf.html",
            exc,
            form_fields=REFUSE_FIELDS,
            values={"note": note},
            context={**_context(svc, session, signed, naskah_id), "done": ""},
        )
    return RedirectResponse(f"/naskah/{naskah_id}/paraf?selesai=tolak", status_code=303)


def _pdf(data: bytes, filename: str, sha256: str | None = None) -> Response:
    headers = {"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "private, no-store"}
    if sha256:
        headers["X-Content-SHA256"] = sha256
    return Response(data, media_type="application/pdf", headers=headers)


@router.get("/naskah/{naskah_id}/paraf/pratinjau.pdf")
def pratinjau(naskah_id: Id, signed: PageUser, svc: ServicesDep) -> Response:
    """The naskah as it will be stamped when this official gives paraf now (stored nowhere)."""
    data = paraf.preview_paraf(svc, signed.user, naskah_id)
    return _pdf(data, f"naskah-{naskah_id}-pratinjau-paraf.pdf")


@router.get("/naskah/{naskah_id}/paraf/naskah.pdf")
def naskah_pdf(naskah_id: Id, signed: PageUser, svc: ServicesDep) -> Response:
    """The naskah as the paraf chain stands now (the last stamped file, else the revision's PDF)."""
    data, sha256 = paraf.current_pdf(svc, signed.user, naskah_id)
    audit.record_now(
        svc.engine, signed.user, audit.AuditAction.DOWNLOAD, naskah_id=naskah_id, sha256=sha256, file="paraf.pdf"
    )
    return _pdf(data, f"naskah-{naskah_id}-paraf.pdf", sha256)
