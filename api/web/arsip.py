"""The Arsip pages: search the archive (as ``GET /api/v1/arsip``), download an original, and its
verification report in plain Indonesian (as ``GET /api/v1/arsip/{id}/verify``).

Least privilege is ``pipeline.archive``'s (``access.arsip_clause``): a user finds, downloads and
verifies only the originals of naskah they may see; another one is "not found", as one that does not
exist, and the count says nothing of it.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.deps import Id, ServicesDep, SessionDep
from api.web.laporan import VERDICTS, report_context
from api.web.render import FormErrors, as_naskah_error, page
from api.web.security import PageUser
from pipeline import archive
from pipeline.cases import NASKAH_NAMES
from pipeline.errors import InvalidInput, NaskahError
from pipeline.models import JenisNaskah

__all__ = ["VERDICTS", "router"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
QUERY_FIELDS = ["q", "jenis", "jenis_kerja_sama", "tahun", "opd", "masa"]
MASA = {"berlaku": "Masih berlaku", "segera_berakhir": "Berakhir dalam 90 hari", "kedaluwarsa": "Sudah berakhir"}


@router.get("/arsip", response_class=HTMLResponse)
def cari(
    request: Request,
    signed: PageUser,
    svc: ServicesDep,
    session: SessionDep,
    q: str = "",
    jenis: str = "",
    jenis_kerja_sama: str = "",
    tahun: str = "",
    opd: str = "",
    masa: str = "",
    halaman: str = "1",
) -> HTMLResponse:
    """Search the archived originals the user may see (``archive.search``, as ``GET /api/v1/arsip``)."""
    values = {"q": q, "jenis": jenis, "jenis_kerja_sama": jenis_kerja_sama, "tahun": tahun, "opd": opd, "masa": masa}
    given = {k: v.strip() for k, v in values.items() if v.strip()}
    page_no = int(halaman) if halaman.isdigit() and 0 < int(halaman) < 100_000 else 1
    today = dt.datetime.now(svc.profile.tz).date()
    rows: list[Any] = []
    count = 0
    errors = FormErrors()
    try:
        query = archive.ArsipQuery(**given, offset=(page_no - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        rows, count = archive.search(session, signed.user, query, today, profile=svc.profile)
    except (ValidationError, NaskahError) as exc:
        error = as_naskah_error(exc)
        if not isinstance(error, InvalidInput):
            raise error from None
        errors = FormErrors.from_error(error, QUERY_FIELDS)
    pages = max(1, math.ceil(count / PAGE_SIZE))

    def link(n: int) -> str:
        return "/arsip?" + urlencode({**given, "halaman": n})

    ctx = {
        "rows": rows,
        "count": count,
        "today": today,
        "page_no": page_no,
        "pages": pages,
        "prev_url": link(page_no - 1) if page_no > 1 else None,
        "next_url": link(page_no + 1) if page_no < pages else None,
        "values": values,
        "errors": errors,
        "form_fields": QUERY_FIELDS,
        "filtered": bool(given),
        "naskah_names": {j.value: NASKAH_NAMES[j] for j in JenisNaskah},
        "masa_choices": MASA,
    }
    if request.headers.get("hx-request"):  # htmx swaps only a 2xx: the fragment says what is wrong itself
        return page(request, "arsip/_hasil.html", {**ctx, "fragment": True})
    return page(request, "arsip/cari.html", {**ctx, "fragment": False}, status_code=422 if errors else 200)


@router.get("/arsip/{arsip_id}/asli.pdf")
def asli(arsip_id: Id, signed: PageUser, svc: ServicesDep) -> Response:
    """The archived original, byte for byte (``archive.read_original``: sha256 checked, the download audited)."""
    arsip, data = archive.read_original(svc, signed.user, arsip_id)
    name = f"{arsip.jenis.lower()}-{arsip.naskah_id}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={"X-Content-SHA256": arsip.sha256, "Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/arsip/{arsip_id}/verifikasi", response_class=HTMLResponse)
def verifikasi(request: Request, arsip_id: Id, signed: PageUser, svc: ServicesDep, session: SessionDep) -> HTMLResponse:
    """The verification of the archived original (``archive.verify_archived``), said plainly: the bottom
    line first, then each signature (who, whether the certificate is theirs, trusted, when)."""
    arsip = archive.get_arsip(session, signed.user, arsip_id, profile=svc.profile)
    result = archive.verify_archived(svc, signed.user, arsip_id)
    ctx = {
        **report_context(result.report, svc.profile.tz),
        "arsip": arsip,
        "result": result,
        "nama_jenis": NASKAH_NAMES.get(JenisNaskah(arsip.jenis), arsip.jenis),
    }
    return page(request, "arsip/verifikasi.html", ctx)
