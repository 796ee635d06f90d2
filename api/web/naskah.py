"""The naskah pages (issue 13, pages 3-5): the naskah, its revisions and downloads, a new revision
(the template's manifest as a form, or a DOCX from Word), the diff of two revisions, and Bagian
Hukum's review.

Each route is as thin as its API twin in ``api/routes/naskah.py`` and ``api/routes/workflow.py``:
the same pipeline functions with the signed-in user, the same input models (``NoteRequest``,
``RenderRequest``) so a note or the data is checked as the API checks it.  Who may do what is the
pipeline's: a button is shown for the actions ``api.present.naskah_public`` lists for the user
(the lifecycle table, the drafting rule), and a crafted POST is refused by the pipeline with its
reason (the error page, or the form's error summary for input a person fixes).

``/api/v1`` takes bearer tokens only, so the files a page offers are served here again
(``/naskah/{id}/revisi/{n}/docx|pdf``): the same read, the same sha256 check on the way out, the
same audit entry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Header, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.deps import Id, ServicesDep, SessionDep
from api.errors import http_status
from api.limits import upload
from api.present import naskah_public
from api.schemas import NoteRequest, RenderRequest
from api.web import naskah_form
from api.web.render import FormErrors, as_naskah_error, form_error, page
from api.web.security import CSP, FormUser, PageUser, Signed
from pipeline import audit
from pipeline.approval import review
from pipeline.drafting import cases, revisions
from pipeline.drafting.templates import NAMA_NASKAH
from pipeline.errors import Conflict, DocumentTooLarge, InvalidInput, NaskahError, NotFound, TemplateDataError
from pipeline.lifecycle import ACTION_LABELS, STATUS_LABELS, Action, Status
from pipeline.models import MAX_ID, KerjaSama, Naskah, NaskahEvent, Revision, RevisionSource, User
from pipeline.services import Services
from pipeline.workspace import preview, progress

__all__ = ["router", "waktu"]

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

MEDIA = {"docx": revisions.DOCX_TYPE, "pdf": revisions.PDF_TYPE}
NOTE_FIELDS = ["note"]
#: A PDF opened in the browser: the page policy's ``object-src 'none'`` could keep the browser's own PDF
#: viewer from showing it; nothing else is allowed.
PDF_CSP = "default-src 'none'; object-src 'self'; frame-ancestors 'self'"
UPLOAD_FIELDS = ["file", "note"]
_ZONES = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
_BULAN = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip

#: What the page says after a step went through (Post/Redirect/Get: ``?selesai=<key>``).
DONE = {
    "ajukan": "Naskah diajukan ke Bagian Hukum.",
    "setujui": "Rancangan disetujui. Pengumpulan paraf dimulai.",
    "kembalikan": "Rancangan dikembalikan kepada penyusun dengan catatan Anda.",
    "batalkan": "Naskah dibatalkan. Nomornya dapat dipakai lagi di register tiap pihak.",
    "revisi": "Revisi baru tersimpan (DOCX dan PDF/A).",
}
#: The steps a naskah page offers as forms: key -> (action, pipeline function, button, note required).
STEPS: dict[str, tuple[Action, Callable[[Services, User, int, str], object]]] = {
    "ajukan": (Action.SUBMIT, review.submit),
    "setujui": (Action.APPROVE, review.approve),
    "kembalikan": (Action.RETURN, review.return_for_revision),
    "batalkan": (Action.CANCEL, review.cancel),
}
#: Events whose note the drafter must read: Bagian Hukum's return, an official's refused paraf.
RETURNS = frozenset({Action.RETURN.value, Action.REFUSE_PARAF.value})


def waktu(value: datetime | None, tz: tzinfo) -> str:
    """A moment in the profile's zone as Indonesians write it: "7 Desember 2026 14.05 WITA"."""
    if value is None:
        return "-"
    local = value.astimezone(tz)
    zone = _ZONES.get(str(tz), local.strftime("%Z"))
    return f"{local.day} {_BULAN[local.month - 1]} {local.year} {local:%H.%M} {zone}".rstrip()


def _people(session: Session, ids: set[int]) -> dict[int, User]:
    return {i: u for i in ids if (u := session.get(User, i)) is not None}


def _case_of(session: Session, user: User, naskah: Naskah, svc: Services) -> KerjaSama | None:
    try:
        return cases.get_case(session, user, naskah.kerja_sama_id, profile=svc.profile)
    except NotFound:
        return None


def naskah_context(svc: Services, session: Session, signed: Signed, naskah_id: int) -> dict[str, Any]:
    """Everything the naskah page shows, as ``signed.user`` may see it (404 for a naskah they may not)."""
    user = signed.user
    naskah = cases.get_naskah(session, user, naskah_id, profile=svc.profile)
    public = naskah_public(session, user, naskah, svc.profile)
    case = _case_of(session, user, naskah, svc)
    internal = not user.pihak_luar
    revs: list[Revision] = revisions.list_revisions(session, user, naskah_id, profile=svc.profile) if internal else []
    events: list[NaskahEvent] = review.history(session, user, naskah_id, profile=svc.profile) if internal else []
    people = _people(session, {r.author_id for r in revs} | {e.actor_id for e in events})
    pihak = {p.urutan: p for p in cases.pihak_of(session, naskah.kerja_sama_id)}
    status = Status(naskah.status)
    # The note the drafter must act on: the last return or refused paraf, while no revision followed it.
    last_return = next((e for e in reversed(events) if e.action in RETURNS), None)
    if last_return is not None and any(r.created_at > last_return.created_at for r in revs):
        last_return = None
    actions = set(public.available_actions)
    tz = svc.profile.tz
    path = progress.progress_of(session, user, naskah_id, profile=svc.profile, now=datetime.now(UTC)).to_dict()
    # Separation of duties (issue 12): the reviewer who sent the draft or wrote it does not approve it; the
    # pipeline's own answer, so the page says so instead of offering a button the pipeline would refuse.
    conflict = None
    if Action.APPROVE.value in actions and svc.profile.pemisahan_tugas:
        conflict = review.approval_conflict(
            user.id, review.last_submitter(session, naskah_id), revs[-1].author_id if revs else None
        )
    return {
        "title": f"{NAMA_NASKAH.get(naskah.jenis, naskah.jenis)} {naskah.id}",
        "naskah": naskah,
        "public": public,
        "nama_naskah": NAMA_NASKAH.get(naskah.jenis, naskah.jenis),
        "case": case,
        "nomor": [
            (urutan, pihak[urutan].instansi if urutan in pihak else f"Pihak {urutan}", nomor)
            for urutan, nomor in sorted(public.nomor.items())
        ],
        "status": status,
        "status_label": STATUS_LABELS[status],
        "internal": internal,
        "revisions": list(reversed(revs)),
        "latest": revs[-1] if revs else None,
        "events": list(reversed(events)),
        "people": people,
        "action_labels": {a.value: label for a, label in ACTION_LABELS.items()},
        "status_labels": {s.value: label for s, label in STATUS_LABELS.items()},
        "last_return": last_return,
        "may": {key: action.value in actions for key, (action, _step) in STEPS.items()}
        | {"revisi": Action.REVISE.value in actions, "setujui": Action.APPROVE.value in actions and conflict is None},
        "approval_conflict": conflict,
        "progress": path,
        "waktu": lambda value: waktu(value, tz),
        "done": None,
        "aktif": None,
        "show_paraf": status in (Status.PARAF, Status.SIGNING, Status.SIGNED, Status.ARCHIVED),
        "show_ttd": status in (Status.SIGNING, Status.SIGNED, Status.ARCHIVED),
    }


@router.get("/naskah/{naskah_id}", response_class=HTMLResponse)
def naskah_page(
    request: Request, naskah_id: Id, signed: PageUser, svc: ServicesDep, session: SessionDep, selesai: str = ""
) -> HTMLResponse:
    """The naskah: its header, path, Bagian Hukum's review, revisions, history, and what the user may do now."""
    ctx = naskah_context(svc, session, signed, naskah_id)
    ctx["done"] = DONE.get(selesai)
    return page(request, "naskah.html", ctx)


def _step_route(key: str) -> None:
    action, step = STEPS[key]

    def endpoint(
        request: Request,
        naskah_id: Id,
        signed: FormUser,
        svc: ServicesDep,
        session: SessionDep,
        note: Annotated[str, Form(max_length=4000)] = "",
    ) -> Response:
        try:
            checked = NoteRequest.model_validate({"note": note})  # the API's rules for a note
            step(svc, signed.user, naskah_id, checked.note)
        except (NaskahError, ValidationError) as exc:
            ctx = naskah_context(svc, session, signed, naskah_id)
            ctx["aktif"] = key
            return form_error(
                request,
                "naskah.html",
                as_naskah_error(exc),
                form_fields=NOTE_FIELDS,
                values={"note": note},
                context=ctx,
            )
        log.info("web %s: naskah %d by %s", action.value, naskah_id, signed.user.username)
        return RedirectResponse(f"/naskah/{naskah_id}?selesai={key}", status_code=303)

    endpoint.__name__ = f"naskah_{key}"
    router.add_api_route(f"/naskah/{{naskah_id}}/{key}", endpoint, methods=["POST"], response_class=HTMLResponse)


for _key in STEPS:
    _step_route(_key)


# --- a new revision from the manifest's form ------------------------------------------------------


async def submitted_form(request: Request) -> dict[str, str]:
    """The form's text fields as they came (the manifest form's names are known only at run time)."""
    form = await request.form()
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


FormValues = Annotated[dict[str, str], Depends(submitted_form)]


def _revisi_context(
    svc: Services, session: Session, signed: Signed, naskah_id: int, values: dict[str, str] | None = None
) -> dict[str, Any]:
    info, current = revisions.current_fields(svc, signed.user, naskah_id)  # refuses who may not revise now
    naskah = cases.get_naskah(session, signed.user, naskah_id, profile=svc.profile)
    shown = values if values is not None else naskah_form.encode(info.fields, current)
    fields = naskah_form.form_fields(info.fields, shown)
    latest = revisions.latest_complete(session, naskah_id)
    word = latest if latest is not None and latest.source == RevisionSource.UPLOADED.value else None
    return {
        "title": f"Revisi baru · {NAMA_NASKAH.get(naskah.jenis, naskah.jenis)} {naskah_id}",
        "naskah": naskah,
        "nama_naskah": NAMA_NASKAH.get(naskah.jenis, naskah.jenis),
        "template": info,
        "fields": fields,
        "current": current,
        "word_latest": word,
        "values": shown,
        "form_fields": [*naskah_form.form_field_names(fields), "note", "buang_suntingan_word"],
    }


@router.get("/naskah/{naskah_id}/revisi/baru", response_class=HTMLResponse)
def revisi_form(
    request: Request, naskah_id: Id, signed: PageUser, svc: ServicesDep, session: SessionDep
) -> HTMLResponse:
    """The template's fields as a form, filled with what a render would use now."""
    return page(request, "naskah_revisi.html", _revisi_context(svc, session, signed, naskah_id))


@router.post("/naskah/{naskah_id}/revisi/baru", response_class=HTMLResponse)
def revisi(
    request: Request, naskah_id: Id, signed: FormUser, svc: ServicesDep, session: SessionDep, values: FormValues
) -> Response:
    """A new revision rendered with the fields the drafter changed (``revisions.render_revision``)."""
    user = signed.user
    info, current = revisions.current_fields(svc, user, naskah_id)
    data = naskah_form.changed_data(info.fields, values, current)
    note = values.get("note", "")
    discard = values.get("buang_suntingan_word") or None
    try:
        body = RenderRequest.model_validate({"data": data, "note": note, "buang_suntingan_word": discard})
        rev = revisions.render_revision(
            svc, user, naskah_id, body.data, body.note, discard_word_edits_through=body.buang_suntingan_word
        )
    except (NaskahError, ValidationError) as exc:
        return _revisi_refused(request, svc, session, signed, naskah_id, values, as_naskah_error(exc))
    log.info("web revision: naskah %d r%d by %s", naskah_id, rev.number, user.username)
    return RedirectResponse(f"/naskah/{naskah_id}?selesai=revisi", status_code=303)


def _revisi_refused(
    request: Request,
    svc: Services,
    session: Session,
    signed: Signed,
    naskah_id: int,
    values: dict[str, str],
    exc: NaskahError,
) -> HTMLResponse:
    """The form again with the refusal on its fields: the template data's problems per field, a note's on
    the note, and Word edits that would be lost on the box that confirms discarding them."""
    ctx = _revisi_context(svc, session, signed, naskah_id, values)
    names: list[str] = ctx["form_fields"]
    kept = {k: v for k, v in values.items() if k != "csrf_token"}
    if isinstance(exc, Conflict) and exc.detail.get("reason") == "word_edits_would_be_lost":
        errors = FormErrors(fields={"buang_suntingan_word": exc.message})
        ctx.update(errors=errors, values=kept, lost=exc.detail.get("lost_paragraphs") or [])
        return page(request, "naskah_revisi.html", ctx, status_code=409)
    general: list[str] = []
    if isinstance(exc, TemplateDataError):
        exc, general = naskah_form.laid_on_fields(exc, ctx["fields"])
    elif exc.detail.get("fields"):  # pydantic's names for the render request: data.<field>
        fields = [
            {**f, "field": str(f.get("field", "")).removeprefix("data.")}
            for f in exc.detail["fields"]
            if isinstance(f, dict)
        ]
        exc = InvalidInput(exc.message, fields=fields)
    response = form_error(request, "naskah_revisi.html", exc, form_fields=names, values=kept, context=ctx)
    return _with_general(request, response, general, ctx, names, kept, exc)


def _with_general(
    request: Request,
    response: HTMLResponse,
    general: list[str],
    ctx: dict[str, Any],
    names: list[str],
    kept: dict[str, str],
    exc: NaskahError,
) -> HTMLResponse:
    """Messages about no input of the form join the summary (the form is rendered once more with them)."""
    if not general:
        return response
    errors = FormErrors.from_error(exc, names)
    errors.general.extend(general)
    ctx.update(errors=errors, values=kept, form_fields=names)
    return page(request, "naskah_revisi.html", ctx, status_code=response.status_code)


# --- a new revision uploaded from Word ------------------------------------------------------------


@router.get("/naskah/{naskah_id}/revisi/unggah", response_class=HTMLResponse)
def unggah_form(
    request: Request, naskah_id: Id, signed: PageUser, svc: ServicesDep, session: SessionDep
) -> HTMLResponse:
    """Upload a DOCX edited in Word as the next revision."""
    return page(request, "naskah_unggah.html", _unggah_context(svc, session, signed, naskah_id))


def _unggah_context(svc: Services, session: Session, signed: Signed, naskah_id: int) -> dict[str, Any]:
    revisions.current_fields(svc, signed.user, naskah_id)  # the same refusal as the upload for who may not revise
    naskah = cases.get_naskah(session, signed.user, naskah_id, profile=svc.profile)
    limit = svc.docx_limits.max_bytes
    return {
        "title": f"Unggah revisi · {NAMA_NASKAH.get(naskah.jenis, naskah.jenis)} {naskah_id}",
        "naskah": naskah,
        "nama_naskah": NAMA_NASKAH.get(naskah.jenis, naskah.jenis),
        "limit_mb": f"{limit / 1024 / 1024:.0f}",
        "latest": revisions.latest_complete(session, naskah_id),
        "form_fields": UPLOAD_FIELDS,
        "too_large": False,
    }


@router.post("/naskah/{naskah_id}/revisi/unggah", response_class=HTMLResponse, openapi_extra=upload("docx"))
def unggah(
    request: Request,
    naskah_id: Id,
    signed: FormUser,
    svc: ServicesDep,
    session: SessionDep,
    file: Annotated[UploadFile | None, File()] = None,
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """A new revision from a DOCX (``revisions.upload_revision``, the DOCX checks); refusals on the file field."""
    user = signed.user
    try:
        if file is None or not file.filename:
            raise InvalidInput("Pilih berkas dokumen Word (.docx) yang akan diunggah.", field="file")
        checked = NoteRequest.model_validate({"note": note})
        limit = svc.docx_limits.max_bytes
        data = file.file.read(limit + 1)
        if len(data) > limit:
            raise DocumentTooLarge(
                f"Berkas lebih besar dari batas {limit / 1024 / 1024:.0f} MB.", limit=limit, size_at_least=len(data)
            )
        rev = revisions.upload_revision(svc, user, naskah_id, data, checked.note)
    except (NaskahError, ValidationError) as exc:
        error = as_naskah_error(exc)
        if not error.detail.get("field") and not error.detail.get("fields"):
            error = type(error)(error.message, **{**error.detail, "field": "file"})  # a refusal of the file itself
        ctx = _unggah_context(svc, session, signed, naskah_id)
        return form_error(
            request, "naskah_unggah.html", error, form_fields=UPLOAD_FIELDS, values={"note": note}, context=ctx
        )
    log.info("web upload: naskah %d r%d by %s", naskah_id, rev.number, user.username)
    return RedirectResponse(f"/naskah/{naskah_id}?selesai=revisi", status_code=303)


# --- the diff of two revisions --------------------------------------------------------------------


@router.get("/naskah/{naskah_id}/beda", response_class=HTMLResponse)
def beda(
    request: Request,
    naskah_id: Id,
    signed: PageUser,
    svc: ServicesDep,
    session: SessionDep,
    a: Annotated[int | None, Query(ge=1)] = None,
    b: Annotated[int | None, Query(ge=1)] = None,
    semua: bool = False,
) -> HTMLResponse:
    """Two revisions side by side, aligned paragraph by paragraph, the changed words marked
    (``revisions.side_by_side_revisions``); only the changed paragraphs unless ``semua``."""
    user = signed.user
    naskah = cases.get_naskah(session, user, naskah_id, profile=svc.profile)
    revs = revisions.list_revisions(session, user, naskah_id, profile=svc.profile)
    numbers = [r.number for r in revs]
    if b is None:
        b = numbers[-1] if numbers else 1
    if a is None:
        a = max(1, b - 1)
    result = revisions.side_by_side_revisions(svc, user, naskah_id, a, b) if numbers else None
    rows = [r for r in result.rows if semua or r.kind != "same"] if result else []
    return page(
        request,
        "naskah_beda.html",
        {
            "title": f"Bandingkan revisi · {NAMA_NASKAH.get(naskah.jenis, naskah.jenis)} {naskah_id}",
            "naskah": naskah,
            "nama_naskah": NAMA_NASKAH.get(naskah.jenis, naskah.jenis),
            "numbers": numbers,
            "a": a,
            "b": b,
            "diff": result,
            "rows": rows,
            "semua": semua,
        },
    )


# --- the preview of a revision --------------------------------------------------------------------


@router.get("/naskah/{naskah_id}/revisi/{number:int}/pratinjau", response_class=HTMLResponse)
def pratinjau(
    request: Request, naskah_id: Id, number: Id, signed: PageUser, svc: ServicesDep, session: SessionDep
) -> HTMLResponse:
    """A revision's pages as images (rendered once per PDF sha256 and cached: ``pipeline.workspace.preview``), each
    page's text beside it for screen readers and for copying, and the PDF itself one click away.  A
    preview that cannot be made now (busy, too slow, a PDF poppler cannot read) says so and offers the PDF."""
    user = signed.user
    naskah = cases.get_naskah(session, user, naskah_id, profile=svc.profile)
    source = preview.revision_source(session, user, naskah_id, number, profile=svc.profile)
    rev = revisions.get_revision(session, user, naskah_id, number, profile=svc.profile)
    ctx: dict[str, Any] = {
        "title": f"Pratinjau revisi {number} · {NAMA_NASKAH.get(naskah.jenis, naskah.jenis)} {naskah_id}",
        "naskah": naskah,
        "nama_naskah": NAMA_NASKAH.get(naskah.jenis, naskah.jenis),
        "rev": rev,
        "doc": None,
        "failure": None,
        "waktu": lambda value: waktu(value, svc.profile.tz),
    }
    try:
        ctx["doc"] = preview.document(svc, source)
    except NaskahError as exc:
        if http_status(exc) not in (422, 503):
            raise
        ctx["failure"] = exc.message  # busy or unreadable: the PDF link is the way on
        return page(request, "naskah_pratinjau.html", ctx, status_code=http_status(exc))
    audit.record_now(  # the page texts are the naskah's content: a view is recorded as a download is
        svc.engine,
        user,
        audit.AuditAction.DOWNLOAD,
        naskah_id=naskah_id,
        sha256=source.sha256,
        file=f"pratinjau:{source.kind}:r{source.revision_number}:{source.step}",
    )
    return page(request, "naskah_pratinjau.html", ctx)


@router.get("/naskah/{naskah_id}/revisi/{number:int}/halaman/{halaman:int}.png")
def halaman(
    naskah_id: Id,
    number: Id,
    halaman: Annotated[int, Path(ge=1, le=MAX_ID)],
    signed: PageUser,
    svc: ServicesDep,
    session: SessionDep,
    kecil: bool = False,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """One page's PNG (``kecil``: its thumbnail), as ``GET /api/v1/naskah/{id}/revisions/{n}/pages/{p}.png``:
    a revision never changes, so the browser keeps it a day and asks with its ETag after that."""
    source = preview.revision_source(session, signed.user, naskah_id, number, profile=svc.profile)
    known = {t.strip().removeprefix("W/") for t in (if_none_match or "").split(",") if t.strip()}
    image = preview.page_image(svc, source, halaman, thumb=kecil, known=known)
    headers = {"ETag": image.etag, "Cache-Control": "private, max-age=86400"}
    if image.data is None:
        return Response(status_code=304, headers=headers)
    return Response(image.data, media_type=preview.PAGE_TYPE, headers={**headers, "X-Content-SHA256": image.sha256})


# --- downloads (last: ``…/revisi/{n}/{kind}`` would take ``pratinjau`` as a kind) -------------------


@router.get("/naskah/{naskah_id}/revisi/{number:int}/{kind}")
def unduh(
    naskah_id: Id,
    number: Id,
    kind: Literal["docx", "pdf"],
    signed: PageUser,
    svc: ServicesDep,
    session: SessionDep,
) -> Response:
    """A revision's DOCX (a download) or PDF (opened in the browser), byte-identical, as the API serves it."""
    user = signed.user
    rev = revisions.get_revision(session, user, naskah_id, number, profile=svc.profile)
    data = revisions.read_revision_file(svc, rev, kind)
    sha = rev.docx_sha256 if kind == "docx" else rev.pdf_sha256
    audit.record_now(
        svc.engine, user, audit.AuditAction.DOWNLOAD, naskah_id=naskah_id, sha256=sha, file=f"r{number}.{kind}"
    )
    filename = f"naskah-{naskah_id}-r{number:03d}.{kind}"
    disposition = "inline" if kind == "pdf" else "attachment"
    return Response(
        data,
        media_type=MEDIA[kind],
        headers={
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            "ETag": f'"{sha}"',
            "X-Content-SHA256": sha,
            "Cache-Control": "private, no-store",
            # A file, not a page: nothing of it runs as ours; the browser's PDF viewer may embed it.
            "Content-Security-Policy": PDF_CSP if kind == "pdf" else CSP,
        },
    )
