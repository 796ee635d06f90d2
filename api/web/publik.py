"""The public pages (no sign-in): check any PDF at ``/verifikasi``, and the page a signature block's QR
code opens, ``/v/<token>`` (``pipeline.archival.publik`` holds the rules and says what is shown and why).

- ``/verifikasi``: the same verification as ``POST /api/v1/verify`` (``pipeline.sign.verification``: the PDF
  limits, the bounded worker), said with the Arsip page's report (``api.web.laporan``), plus whether the
  file is byte for byte an archived original of this Pemda.  The upload route names its kind
  (``upload("pdf")``), so ``api.limits`` refuses a body over the PDF limit before reading it, with an
  error page.  Anonymous, so its CSRF is the sign-in form's: a random token in a cookie that the form
  sends back (double submit), with the origin check of every POST.  Each client address may check
  ``NASKAH_PUBLIC_VERIFY_PER_HOUR`` files an hour (counted in the database, so every process counts
  the same); over it the form says at what time to try again (429, ``Retry-After``).
- ``/v/<token>``: the naskah's public summary; ``/v/<token>/asli.pdf`` the archived original, only where
  the Pemda switched it on (``NASKAH_PUBLIC_DOWNLOAD``, off by default): otherwise not found.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api.deps import ServicesDep
from api.limits import upload
from api.web.laporan import report_context
from api.web.render import form_error, page
from api.web.security import AnonymousForm, client_address, current_signed, require_same_origin, settings_of
from pipeline.archival import publik
from pipeline.errors import (
    DocumentRejected,
    DocumentTooLarge,
    InvalidInput,
    NaskahError,
    NotFound,
    Unauthenticated,
)

__all__ = ["VERIFY_COOKIE", "router"]

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

#: The upload form's own CSRF token (nobody is signed in): a random value in a cookie that the form sends
#: back as ``csrf_token`` (double submit, as ``/masuk``), with the origin check of every POST.
VERIFY_COOKIE = "naskah_verifikasi"
VERIFY_FORM = AnonymousForm(
    VERIFY_COOKIE,
    "/verifikasi",
    "Formulir ini kedaluwarsa atau tidak dikirim dari halaman ini. Muat ulang halaman Verifikasi, lalu unggah lagi.",
)
FIELDS = ["berkas"]
_HOUR = dt.timedelta(hours=1)


def _maybe_signed(request: Request, svc: ServicesDep) -> None:
    """A signed-in person keeps their header on the public pages; anyone else is anonymous (no redirect)."""
    try:
        current_signed(request, svc)
    except Unauthenticated:
        request.state.signed = None


def _form_token(request: Request) -> str:
    return VERIFY_FORM.token(request)


def _with_cookie(request: Request, response: Response, token: str) -> Response:
    return VERIFY_FORM.with_cookie(request, response, token)


def _form_context(request: Request, token: str) -> dict[str, object]:
    settings = settings_of(request)
    svc = request.app.state.services
    return {
        "form_token": token,
        "max_mb": svc.pdf_limits.max_bytes // (1024 * 1024),
        "per_hour": settings.public_verify_per_hour,
    }


@router.get("/verifikasi", response_class=HTMLResponse)
def verifikasi_form(request: Request, svc: ServicesDep) -> Response:
    """The upload form: anyone, no sign-in."""
    _maybe_signed(request, svc)
    token = _form_token(request)
    return _with_cookie(request, page(request, "publik/verifikasi.html", _form_context(request, token)), token)


@router.post(
    "/verifikasi",
    response_class=HTMLResponse,
    dependencies=[Depends(require_same_origin)],
    openapi_extra=upload("pdf"),
)
def verifikasi(
    request: Request,
    svc: ServicesDep,
    berkas: Annotated[UploadFile | None, File()] = None,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Check an uploaded PDF; the report, or the form again saying what is wrong (422, 429)."""
    cookie = VERIFY_FORM.check(request, csrf_token)
    _maybe_signed(request, svc)
    settings = settings_of(request)
    context = _form_context(request, cookie)
    try:
        with Session(svc.engine) as session:
            try:
                publik.take_rate(
                    session,
                    f"verifikasi:{client_address(request)}",
                    publik.RatePolicy(limit=settings.public_verify_per_hour, window=_HOUR),
                    tz=svc.profile.tz,
                )
            finally:
                session.commit()
        data = _read(berkas, svc.pdf_limits.max_bytes)
        result = publik.verify_upload(svc, data)
    except NaskahError as exc:
        log.info("public verification refused from %s: %s", client_address(request), exc.detail.get("reason"))
        response = form_error(request, "publik/verifikasi.html", exc, form_fields=FIELDS, values={}, context=context)
        if exc.detail.get("retry_after"):
            response.headers["Retry-After"] = str(exc.detail["retry_after"])
        return response
    log.info("public verification from %s: %s", client_address(request), result.report.bottom_line)
    ctx = {**report_context(result.report, svc.profile.tz), **context, "result": result, "summary": result.summary}
    return page(request, "publik/hasil.html", ctx)


def _read(berkas: UploadFile | None, limit: int) -> bytes:
    """The uploaded file's bytes (at most ``limit``; the body limit has already held the request to it)."""
    if berkas is None or not berkas.filename:
        raise InvalidInput("Pilih berkas PDF yang ingin diperiksa.", reason="no_file", field="berkas")
    data = berkas.file.read(limit + 1)
    if len(data) > limit:
        raise DocumentTooLarge(
            f"Berkas terlalu besar: batas {limit // (1024 * 1024)} MB.", reason="too_large", field="berkas"
        )
    if not data:
        raise DocumentRejected("Berkas yang diunggah kosong. Pilih berkas PDF-nya.", reason="empty", field="berkas")
    if not data.lstrip()[:5].startswith(b"%PDF-") and b"%PDF-" not in data[:1024]:
        raise DocumentRejected(
            "Berkas ini bukan PDF. Unggah naskah dalam bentuk PDF (berkas yang berakhiran .pdf).",
            reason="not_pdf",
            field="berkas",
        )
    return data


@router.get("/v/{token}", response_class=HTMLResponse)
def ringkasan(request: Request, token: str, svc: ServicesDep) -> HTMLResponse:
    """The public summary a QR code opens: what is printed on the naskah, its status, whether archived."""
    _maybe_signed(request, svc)
    with Session(svc.engine, expire_on_commit=False) as session:
        summary = publik.summary_by_token(session, token[:100])
    ctx = {"summary": summary, "download": settings_of(request).public_download and summary.archived}
    return page(request, "publik/ringkasan.html", ctx)


@router.get("/v/{token}/asli.pdf")
def asli(request: Request, token: str, svc: ServicesDep) -> Response:
    """The archived original, where the Pemda offers it publicly (``NASKAH_PUBLIC_DOWNLOAD``)."""
    if not settings_of(request).public_download:
        raise NotFound("Naskah asli tidak dapat diunduh dari halaman publik.", reason="download_disabled")
    with Session(svc.engine, expire_on_commit=False) as session:
        summary = publik.summary_by_token(session, token[:100])
    data = publik.original_of(svc, summary)
    name = f"{summary.jenis.lower()}-{summary.token[:8]}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "X-Content-SHA256": summary.archived_sha256 or "",
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )
