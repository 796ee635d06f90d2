"""The Arsip pages: search the archive (as ``GET /api/v1/arsip``, with the recap of the same filters as
CSV/XLSX, as ``GET /api/v1/arsip/rekap.csv|xlsx``), the record page (every field, the related naskah,
each stored version, the verification report in plain Indonesian, as ``GET /api/v1/arsip/{id}`` and
``/verify``), and the download of the original.

An archived original whose stored bytes no longer match their sha256 (``IntegrityAlarm``) is shown
on the record page as a red banner with the record's fields, never a 500: the secretariat must see
which original is damaged to report it.

Least privilege is ``pipeline.archival.archive``'s (``access.arsip_clause``): a user finds, downloads and
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
from api.web.render import FormErrors, as_naskah_error, page, page_links
from api.web.security import PageUser
from pipeline.archival import archive, recap
from pipeline.drafting.cases import NASKAH_NAMES
from pipeline.errors import IntegrityAlarm, InvalidInput, NaskahError, NotFound, StorageUnavailable
from pipeline.models import JenisNaskah

__all__ = ["VERDICTS", "router"]

router = APIRouter(include_in_schema=False)

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

PAGE_SIZE = 20
QUERY_FIELDS = ["q", "jenis", "jenis_kerja_sama", "tahun", "opd", "masa", "sort"]
MASA = {
    "berlaku": "Masih berlaku (lebih dari 90 hari lagi)",
    "segera_berakhir": "Segera berakhir (dalam 90 hari)",
    "kedaluwarsa": "Sudah berakhir",
}
SORTS = {
    "-tanggal": "Tanggal tanda tangan, terbaru dulu",
    "tanggal": "Tanggal tanda tangan, terlama dulu",
    "selesai": "Berlaku sampai, paling cepat berakhir dulu",
    "-selesai": "Berlaku sampai, paling lama dulu",
    "judul": "Judul, A–Z",
    "-judul": "Judul, Z–A",
}


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
    sort: str = "",
    halaman: str = "1",
) -> HTMLResponse:
    """Search the archived originals the user may see (``archive.search``, as ``GET /api/v1/arsip``)."""
    values = {
        "q": q,
        "jenis": jenis,
        "jenis_kerja_sama": jenis_kerja_sama,
        "tahun": tahun,
        "opd": opd,
        "masa": masa,
        "sort": sort,
    }
    given = {k: v.strip() for k, v in values.items() if v.strip()}
    filters = {k: v for k, v in given.items() if k != "sort"}
    page_no = int(halaman) if halaman.isdigit() and 0 < int(halaman) < 100_000 else 1
    today = dt.datetime.now(svc.profile.tz).date()
    rows: list[Any] = []
    count, exact = 0, True
    errors = FormErrors()
    try:
        query = archive.ArsipQuery(**given, offset=(page_no - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        # counted up to archive.PAGE_COUNT_LIMIT: "lebih dari 1.000 arsip" for a broad search
        found = archive.search_page(session, signed.user, query, today, profile=svc.profile)
        rows, count, exact = found.rows, found.count, found.exact
    except (ValidationError, NaskahError) as exc:
        error = as_naskah_error(exc)
        if not isinstance(error, InvalidInput):
            raise error from None
        errors = FormErrors.from_error(error, QUERY_FIELDS)
    # a lower bound: at least one more page when this one is full (the count went past its end)
    pages = max(1, math.ceil(count / PAGE_SIZE)) if exact else max(page_no + 1, math.ceil(count / PAGE_SIZE))

    def link(n: int) -> str:
        return "/arsip?" + urlencode({**given, "halaman": n})

    rekap = urlencode(given)  # the API's rekap routes take the same ArsipQuery (offset/limit unused)

    ctx = {
        "rows": rows,
        "count": count,
        "exact": exact,
        "today": today,
        **page_links(page_no, pages, link),
        "values": values,
        "errors": errors,
        "form_fields": QUERY_FIELDS,
        "filtered": bool(filters),
        "first": (page_no - 1) * PAGE_SIZE + 1,
        "last": (page_no - 1) * PAGE_SIZE + len(rows),
        "masa_of": {a.id: archive.masa_of(a.selesai, today) for a in rows},
        "masa_labels": archive.MASA_LABELS,
        "naskah_names": {j.value: NASKAH_NAMES[j] for j in JenisNaskah},
        "masa_choices": MASA,
        "sort_choices": SORTS,
        "rekap_csv": "/arsip/rekap.csv" + ("?" + rekap if rekap else ""),
        "rekap_xlsx": "/arsip/rekap.xlsx" + ("?" + rekap if rekap else ""),
    }
    if request.headers.get("hx-request"):  # htmx swaps only a 2xx: the fragment says what is wrong itself
        return page(request, "arsip/_hasil.html", {**ctx, "fragment": True})
    return page(request, "arsip/cari.html", {**ctx, "fragment": False}, status_code=422 if errors else 200)


def _query(request: Request) -> archive.ArsipQuery:
    """The page's filters as the API's ``ArsipQuery`` (empty fields dropped, paging ignored)."""
    given = {k: v.strip() for k, v in request.query_params.items() if k in QUERY_FIELDS and v.strip()}
    try:
        return archive.ArsipQuery(**given)
    except ValidationError as exc:
        raise as_naskah_error(exc) from None


def _attachment(data: bytes, media_type: str, name: str) -> Response:
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/arsip/rekap.csv")
def rekap_csv(request: Request, signed: PageUser, svc: ServicesDep, session: SessionDep) -> Response:
    """The recap of every archived agreement matching the page's filters (``recap.recap_rows``, as
    ``GET /api/v1/arsip/rekap.csv``)."""
    today = dt.datetime.now(svc.profile.tz).date()
    rows = recap.recap_rows(session, signed.user, _query(request), today, profile=svc.profile)
    return _attachment(recap.to_csv(rows), CSV_TYPE, f"rekap-kerja-sama-{today.isoformat()}.csv")


@router.get("/arsip/rekap.xlsx")
def rekap_xlsx(request: Request, signed: PageUser, svc: ServicesDep, session: SessionDep) -> Response:
    """The same recap as an Excel workbook (as ``GET /api/v1/arsip/rekap.xlsx``)."""
    today = dt.datetime.now(svc.profile.tz).date()
    rows = recap.recap_rows(session, signed.user, _query(request), today, profile=svc.profile)
    data = recap.to_xlsx(rows, per_tanggal=today)
    return _attachment(data, XLSX_TYPE, f"rekap-kerja-sama-{today.isoformat()}.xlsx")


@router.get("/arsip/{arsip_id}", response_class=HTMLResponse)
def rincian(request: Request, arsip_id: Id, signed: PageUser, svc: ServicesDep, session: SessionDep) -> HTMLResponse:
    """The record page: every field of the record, the related naskah, each stored version (sha256,
    locked until), the original to open or download, and the verification report of the current
    version (``archive.verify_archived``).  An integrity alarm is a red banner here, not an error page;
    a stored original the store cannot give (missing, store down) is a banner saying so, with the record."""
    today = dt.datetime.now(svc.profile.tz).date()
    rec = archive.record(session, signed.user, arsip_id, today, profile=svc.profile)
    alarm: IntegrityAlarm | None = None
    unreadable: NaskahError | None = None
    result = None
    try:
        result = archive.verify_archived(svc, signed.user, arsip_id)
    except IntegrityAlarm as exc:
        alarm = exc
    except (NotFound, StorageUnavailable) as exc:  # the record is readable (above): its stored object is not
        unreadable = exc
    ctx: dict[str, Any] = {
        "rec": rec,
        "arsip": rec.arsip,
        "today": today,
        "tz": svc.profile.tz,
        "alarm": alarm,
        "unreadable": unreadable,
        "result": result,
        "nama_jenis": NASKAH_NAMES.get(JenisNaskah(rec.arsip.jenis), rec.arsip.jenis),
        "naskah_names": {j.value: NASKAH_NAMES[j] for j in JenisNaskah},
        "masa_labels": archive.MASA_LABELS,
        "kerja_sama_names": recap.KERJA_SAMA_NAMES,
    }
    if result is not None:
        ctx.update(report_context(result.report, svc.profile.tz))
    return page(request, "arsip/rincian.html", ctx)


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


@router.get("/arsip/{arsip_id}/lihat.pdf")
def lihat(arsip_id: Id, signed: PageUser, svc: ServicesDep) -> Response:
    """The archived original to open in the browser's PDF viewer (the same bytes as ``asli.pdf``).

    The page-image preview (``pipeline.workspace.preview``) reads from the working object store only; an
    archived original lives in the locked archive store, so the record page links the PDF instead.
    """
    arsip, data = archive.read_original(svc, signed.user, arsip_id)
    name = f"{arsip.jenis.lower()}-{arsip.naskah_id}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={"X-Content-SHA256": arsip.sha256, "Content-Disposition": f'inline; filename="{name}"'},
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
