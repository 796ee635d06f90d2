"""Signing page (``/naskah/{id}/tanda-tangan``): the plan, readiness, signing, desk to desk, verification, archive.

As thin as its API twins (``api/routes/signing.py``, ``api/routes/arsip.py``): each form calls the same
pipeline function with the session's user.  Which form a person sees comes from ``pipeline.inbox.tasks``
(the task the pipeline would accept from them now: ``rencana_ttd``, ``tanda_tangan``, ``kirim_mitra`` /
``impor``, ``arsip``); a POST by anyone else is refused by the pipeline with its reason, as a page.

Secrets (the PKCS#12 passphrase, a token's PIN, an OTP) go to the pipeline and nowhere else: never
put back into a form, never logged; the uploaded PKCS#12 file lives in memory for one request.
Readiness (``signature_plan.readiness``) opens the key with the secret to read its certificate and
judges it with the rules signing uses (``pipeline.sign.readiness``); nothing is signed or kept.

The verification of the signed file and the proofs of desk-to-desk returns are pyHanko's validation, the
page's whole cost (~1 s a load on the demo's KB, rendered again by every form that answers with the page):
they are read from ``svc.report_cache`` (``pipeline.sign.reportcache``) while the file's bytes, the trust
roots, the expected officials and the time bucket are those they were computed for.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.deps import Id, ServicesDep, SessionDep
from api.limits import MAX_P12_BYTES, upload
from api.web.paraf import waktu
from api.web.render import as_naskah_error, form_error, page
from api.web.security import FormUser, PageUser, Signed
from pipeline import access, audit
from pipeline.approval import paraf
from pipeline.archival import archive
from pipeline.drafting import cases
from pipeline.drafting.revisions import get_revision
from pipeline.errors import DocumentTooLarge, InvalidInput, NaskahError, NotFound
from pipeline.inbox.tasks import tasks_for
from pipeline.lifecycle import Status
from pipeline.models import NaskahFile, User
from pipeline.services import Services
from pipeline.sign import desk_proof, signature_plan
from pipeline.sign.signer_config import configured_signer
from pipeline.sign.signers import DigestSignerBackend, Pkcs12Backend
from pipeline.sign.signing_date import KonfirmasiTanggal
from pipeline.sign.verification import verify_known
from pipeline.sign.verify import VERDICTS
from pipeline.textcheck import Line, MultiLine
from pipeline.workspace.progress import progress_of

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PLAN_FIELDS = ["mode", "steps"]
SIGN_FIELDS = ["p12", "passphrase", "location", "konfirmasi_tanggal", "catatan_tanggal"]
IMPORT_FIELDS = ["file", "konfirmasi_tanggal", "catatan_tanggal"]
ARCHIVE_FIELDS = ["arsip"]
_PIHAK = {1: "PIHAK KESATU", 2: "PIHAK KEDUA", 3: "PIHAK KETIGA", 4: "PIHAK KEEMPAT"}


def _read(file: UploadFile | None, limit: int) -> bytes:
    """An uploaded file's bytes within ``limit`` (an empty file input counts as none)."""
    if file is None:
        return b""
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise DocumentTooLarge(
            f"Berkas lebih besar dari batas {limit / 1024 / 1024:.0f} MB.", reason="too_large", limit=limit
        )
    return data


def _konfirmasi(konfirmasi_tanggal: bool, catatan_tanggal: str) -> KonfirmasiTanggal | None:
    return KonfirmasiTanggal(konfirmasi_tanggal, catatan_tanggal) if konfirmasi_tanggal or catatan_tanggal else None


def _parties(svc: Services, session: SessionDep, user: User, naskah_id: int) -> list[dict[str, Any]]:
    """The parties printed in the final PDF's signature blocks (for the plan form)."""
    final = paraf.final_file(session, naskah_id)
    if final is None:
        return []
    naskah = cases.get_naskah(session, user, naskah_id, profile=svc.profile)
    revision = get_revision(session, user, naskah_id, final.revision_number, profile=svc.profile)
    parties = paraf.signing_parties(session, naskah, revision)
    return [
        {"urutan": p.urutan, "label": _PIHAK.get(p.urutan, f"PIHAK {p.urutan}"), "nama": p.nama, "jabatan": p.jabatan}
        for p in sorted(parties.values(), key=lambda p: p.urutan)
    ]


def _steps(session: SessionDep, plan: Any) -> list[dict[str, Any]]:
    out = []
    for s in signature_plan.steps_of(session, plan):
        signer = session.get(User, s.user_id) if s.user_id else None
        out.append(
            {
                "urutan": s.urutan,
                "pihak": _PIHAK.get(s.pihak_urutan, f"PIHAK {s.pihak_urutan}"),
                "nama": s.nama,
                "jabatan": s.jabatan,
                "signer": signer.username if signer else None,
                "external": s.external,
                "kuasa_naskah_id": s.kuasa_naskah_id,
                "signed_at": s.signed_at,
                "signer_subject": s.signer_subject,
                "catatan_tanggal": s.catatan_tanggal,
            }
        )
    return out


def _verification(svc: Services, session: SessionDep, user: User, naskah_id: int, plan: Any) -> dict[str, Any]:
    """The project's verification of the signed PDF, in words (``pipeline.sign.verification``)."""
    file: NaskahFile = signature_plan.current_file(session, plan)
    data = svc.get(file.key, file.version_id, file.sha256)
    report = verify_known(
        svc.engine,
        data,
        svc.trust_roots,
        may_see=lambda s, nid: access.may_see_naskah(s, user, svc.profile, nid),
        limits=svc.pdf_limits,
        worker=svc.pdf_worker,
        cache=svc.report_cache,
    )
    return {"report": report, "verdict": VERDICTS.get(report.bottom_line, report.bottom_line), "sha256": file.sha256}


def _context(svc: Services, session: SessionDep, signed: Signed, naskah_id: int) -> dict[str, Any]:
    user = signed.user
    now = dt.datetime.now(dt.UTC)
    progress = progress_of(session, user, naskah_id, profile=svc.profile, now=now)
    naskah = cases.get_naskah(session, user, naskah_id, profile=svc.profile)
    mine = [t.tugas.value for t in tasks_for(session, user, svc.profile, now, naskah_ids=[naskah_id]).data]
    plan = signature_plan.get_plan(session, naskah_id)
    steps = _steps(session, plan) if plan is not None else []
    pending = next((s for s in steps if s["signed_at"] is None), None)
    configured = configured_signer(svc.signer_backends, user.username)
    signed_states = (Status.SIGNED.value, Status.ARCHIVED.value)
    tz, zona = svc.profile.tz, svc.profile.zona_waktu
    return {
        "progress": progress,
        "sign_steps": [s.to_dict() for s in progress.langkah if s.tahap in ("rencana_ttd", "tanda_tangan", "arsip")],
        "status": naskah.status,
        "tugas": mine,
        "plan": plan,
        "steps": steps,
        "pending": pending,
        "parties": _parties(svc, session, user, naskah_id) if plan is None and "rencana_ttd" in mine else [],
        "jenis": naskah.jenis,
        "configured": {
            "kind": configured.backend.kind,
            "secret": configured.secret,
            "describe": configured.backend.describe(),
            "signer_id": configured.masked_signer_id(),
            "digest": isinstance(configured.backend, DigestSignerBackend),
        }
        if configured is not None
        else None,
        "proofs": desk_proof.import_proofs(svc, user, naskah_id) if plan is not None else [],
        "verification": _verification(svc, session, user, naskah_id, plan)
        if plan is not None and naskah.status in signed_states
        else None,
        "archived": naskah.status == Status.ARCHIVED.value,
        "arsip": archive.arsip_of_naskah(session, user, naskah_id, profile=svc.profile)
        if naskah.status == Status.ARCHIVED.value
        else None,
        "readiness": None,
        "refusal": None,
        "done": "",
        "verdicts": VERDICTS,
        "waktu": lambda value: waktu(value, tz, zona),
    }


def _render(
    request: Request, svc: Services, session: SessionDep, signed: Signed, naskah_id: int, **extra: Any
) -> HTMLResponse:
    return page(request, "tanda_tangan.html", {**_context(svc, session, signed, naskah_id), **extra})


def _refused(
    request: Request,
    svc: Services,
    session: SessionDep,
    signed: Signed,
    naskah_id: int,
    exc: NaskahError | ValidationError,
    fields: list[str],
    values: dict[str, Any],
) -> HTMLResponse:
    """The page again with the pipeline's error on the form (422), or the error page (403/404/409)."""
    error = as_naskah_error(exc)
    refusal = {
        "reason": error.detail.get("reason"),
        "cause": error.detail.get("cause"),
        "problems": error.detail.get("problems") or [],
        "form": fields[0],
    }
    context = {**_context(svc, session, signed, naskah_id), "refusal": refusal}
    return form_error(request, "tanda_tangan.html", error, form_fields=fields, values=values, context=context)


_DONE = ("rencana", "ttd", "impor", "arsip")


@router.get("/naskah/{naskah_id}/tanda-tangan", response_class=HTMLResponse)
def tanda_tangan_page(
    request: Request, naskah_id: Id, signed: PageUser, svc: ServicesDep, session: SessionDep, selesai: str = ""
) -> HTMLResponse:
    return _render(request, svc, session, signed, naskah_id, done=selesai if selesai in _DONE else "")


@router.post("/naskah/{naskah_id}/tanda-tangan/rencana", response_class=HTMLResponse)
async def rencana(request: Request, naskah_id: Id, signed: FormUser, svc: ServicesDep, session: SessionDep) -> Response:
    """Create the signature plan: tatap muka or desk to desk, a signer (or the partner's own system) per party."""
    form = await request.form()
    mode = str(form.get("mode", ""))
    values: dict[str, Any] = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    rows = []
    for key in form:
        if not key.startswith("urutan_"):
            continue
        pihak = key.removeprefix("urutan_")
        rows.append(
            (
                str(form.get(key, "")).strip(),
                {
                    "pihak_urutan": pihak,
                    "username": str(form.get(f"username_{pihak}", "")).strip() or None,
                    "external": form.get(f"eksternal_{pihak}") == "1",
                    "kuasa_naskah_id": str(form.get(f"kuasa_{pihak}", "")).strip() or None,
                },
            )
        )
    rows.sort(key=lambda r: (not r[0].isdigit(), int(r[0]) if r[0].isdigit() else 0))
    try:
        data = signature_plan.PlanInput.model_validate({"mode": mode, "steps": [r[1] for r in rows] or None})
        signature_plan.create_plan(svc, signed.user, naskah_id, data)
    except (NaskahError, ValidationError) as exc:
        return _refused(request, svc, session, signed, naskah_id, exc, PLAN_FIELDS, values)
    return RedirectResponse(f"/naskah/{naskah_id}/tanda-tangan?selesai=rencana", status_code=303)


def _backend(svc: Services, user: User, keystore: bytes) -> tuple[DigestSignerBackend, bool]:
    """The uploaded PKCS#12, else the backend configured for this user when it signs digests here."""
    if keystore:
        return Pkcs12Backend(data=keystore), False
    configured = configured_signer(svc.signer_backends, user.username)
    if configured is None:
        raise InvalidInput(
            "Pilih berkas sertifikat PKCS#12 (.p12/.pfx) Anda; belum ada penanda tangan yang dikonfigurasi untuk "
            "akun Anda.",
            reason="no_signer_configured",
            field="p12",
        )
    if not isinstance(configured.backend, DigestSignerBackend):
        raise InvalidInput(
            "Kesiapan penanda tangan BSrE diperiksa oleh layanan BSrE saat menandatangani.",
            reason="readiness_not_available",
            field="passphrase",
        )
    return configured.backend, True


@router.post("/naskah/{naskah_id}/tanda-tangan/kesiapan", response_class=HTMLResponse, openapi_extra=upload("p12"))
def kesiapan(
    request: Request,
    naskah_id: Id,
    signed: FormUser,
    svc: ServicesDep,
    session: SessionDep,
    passphrase: Annotated[str, Form(max_length=1000)] = "",
    p12: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Signer readiness: the certificate behind the key, judged for this official (nothing signed)."""
    try:
        backend, configured = _backend(svc, signed.user, _read(p12, MAX_P12_BYTES))
        result = signature_plan.readiness(svc, signed.user, naskah_id, backend, passphrase, configured=configured)
    except NaskahError as exc:
        return _refused(request, svc, session, signed, naskah_id, exc, SIGN_FIELDS, {})
    if request.headers.get("hx-request"):
        ctx = _context(svc, session, signed, naskah_id)
        return page(request, "_kesiapan.html", {"readiness": result, "waktu": ctx["waktu"]})
    return _render(request, svc, session, signed, naskah_id, readiness=result)


@router.post("/naskah/{naskah_id}/tanda-tangan/tandatangani", response_class=HTMLResponse, openapi_extra=upload("p12"))
def tandatangani(
    request: Request,
    naskah_id: Id,
    signed: FormUser,
    svc: ServicesDep,
    session: SessionDep,
    passphrase: Annotated[str, Form(max_length=1000)] = "",
    p12: Annotated[UploadFile | None, File()] = None,
    location: Annotated[Line, Form(max_length=200)] = "",
    konfirmasi_tanggal: Annotated[bool, Form()] = False,
    catatan_tanggal: Annotated[MultiLine, Form(max_length=500)] = "",
) -> Response:
    """Sign on the server: an uploaded PKCS#12 and its passphrase, or the configured backend and its secret."""
    values = {"location": location, "konfirmasi_tanggal": konfirmasi_tanggal, "catatan_tanggal": catatan_tanggal}
    try:
        keystore = _read(p12, MAX_P12_BYTES)
        konfirmasi = _konfirmasi(konfirmasi_tanggal, catatan_tanggal)
        if keystore:
            signature_plan.sign_step(
                svc,
                signed.user,
                naskah_id,
                Pkcs12Backend(data=keystore),
                passphrase,
                location=location,
                konfirmasi=konfirmasi,
            )
        else:
            signature_plan.sign_configured(
                svc, signed.user, naskah_id, passphrase, location=location, konfirmasi=konfirmasi
            )
    except NaskahError as exc:
        return _refused(request, svc, session, signed, naskah_id, exc, SIGN_FIELDS, values)
    return RedirectResponse(f"/naskah/{naskah_id}/tanda-tangan?selesai=ttd", status_code=303)


@router.get("/naskah/{naskah_id}/tanda-tangan/untuk-mitra.pdf")
def untuk_mitra(naskah_id: Id, signed: PageUser, svc: ServicesDep) -> Response:
    """Desk to desk: the PDF the counterparty signs in its own system (the API's export)."""
    data = signature_plan.export_current(svc, signed.user, naskah_id)
    audit.record_now(
        svc.engine, signed.user, audit.AuditAction.EXPORT, naskah_id=naskah_id, sha256=audit.sha256_of(data)
    )
    svc.after_step_now(naskah_id, signed.user)  # the import of the partner's return is next
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="naskah-{naskah_id}-untuk-mitra.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/naskah/{naskah_id}/tanda-tangan/impor", response_class=HTMLResponse, openapi_extra=upload("pdf"))
def impor(
    request: Request,
    naskah_id: Id,
    signed: FormUser,
    svc: ServicesDep,
    session: SessionDep,
    file: Annotated[UploadFile | None, File()] = None,
    konfirmasi_tanggal: Annotated[bool, Form()] = False,
    catatan_tanggal: Annotated[MultiLine, Form(max_length=500)] = "",
) -> Response:
    """Desk to desk: import the counterparty's signed return; accepted only as our file plus their signature."""
    values = {"konfirmasi_tanggal": konfirmasi_tanggal, "catatan_tanggal": catatan_tanggal}
    try:
        data = _read(file, svc.pdf_limits.max_bytes)
        if not data:
            raise InvalidInput("Pilih berkas PDF yang dikembalikan mitra.", reason="file_missing", field="file")
        signature_plan.import_signed(
            svc, signed.user, naskah_id, data, konfirmasi=_konfirmasi(konfirmasi_tanggal, catatan_tanggal)
        )
    except NaskahError as exc:
        return _refused(request, svc, session, signed, naskah_id, exc, IMPORT_FIELDS, values)
    return RedirectResponse(f"/naskah/{naskah_id}/tanda-tangan?selesai=impor", status_code=303)


@router.get("/naskah/{naskah_id}/tanda-tangan/naskah.pdf")
def naskah_pdf(naskah_id: Id, signed: PageUser, svc: ServicesDep, session: SessionDep) -> Response:
    """The newest state of the signed naskah (every signature so far), as the API's signed.pdf."""
    cases.get_naskah(session, signed.user, naskah_id, profile=svc.profile)
    plan = signature_plan.get_plan(session, naskah_id)
    if plan is None:
        raise NotFound("Naskah ini belum memiliki rencana tanda tangan.", naskah_id=naskah_id)
    file = signature_plan.current_file(session, plan)
    data = svc.get(file.key, file.version_id, file.sha256)
    audit.record_now(
        svc.engine, signed.user, audit.AuditAction.DOWNLOAD, naskah_id=naskah_id, sha256=file.sha256, file="signed.pdf"
    )
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="naskah-{naskah_id}-ditandatangani.pdf"',
            "X-Content-SHA256": file.sha256,
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/naskah/{naskah_id}/tanda-tangan/arsipkan")
def arsipkan(request: Request, naskah_id: Id, signed: FormUser, svc: ServicesDep, session: SessionDep) -> Response:
    """Archive the signed naskah (``archive.archive_naskah``, as ``POST /api/v1/naskah/{id}/archive``:
    verified, B-LTA, stored locked).  A refusal a person can act on (the signed file does not verify,
    e.g. a CA not trusted here) is shown on the page with its problems, not as an error page."""
    try:
        archive.archive_naskah(svc, signed.user, naskah_id)
    except NaskahError as exc:
        return _refused(request, svc, session, signed, naskah_id, exc, ARCHIVE_FIELDS, {})
    return RedirectResponse(f"/naskah/{naskah_id}/tanda-tangan?selesai=arsip", status_code=303)
