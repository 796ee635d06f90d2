"""Errors on pages: the same error, status and Indonesian message as the API, shown in the layout.

``api.errors.install(app, pages=page_error)`` asks :func:`page_error` first for every error; it
answers for requests to pages (not ``/api``, ``/static``, ``/docs``…) and leaves the rest to JSON:

- 401 (no session, an ended one): a redirect (303) to ``/masuk?next=<the page asked for>``; an htmx
  request gets ``HX-Redirect`` instead, so the whole page goes to the sign-in, not a fragment;
- 403/404/409/422/429/503: ``galat.html`` with the pipeline's message (and ``detail.reason`` as the
  code to quote);
- 500: the error id only (the message ``api.errors`` wrote); the traceback stays in the log.

A form shows a 422 of its own fields on the form itself (``api.web.render.FormErrors``); this page is
for what no form can show.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.types import Scope

from api.errors import http_status
from api.web.render import page
from api.web.security import CSP, SESSION_COOKIE, clear_session_cookie, current_signed
from pipeline.errors import NaskahError

__all__ = ["TITLES", "is_page", "page_error", "sign_in_url", "too_large_page"]

log = logging.getLogger(__name__)

_NOT_PAGES = ("/api/", "/static/", "/docs", "/redoc", "/openapi.json", "/healthz")

TITLES: dict[int, str] = {
    400: "Permintaan tidak dapat dibaca",
    403: "Tidak diizinkan",
    404: "Halaman tidak ditemukan",
    405: "Cara membuka halaman ini tidak didukung",
    409: "Tidak dapat dilakukan sekarang",
    413: "Berkas terlalu besar",
    422: "Masukan tidak valid",
    429: "Terlalu banyak percobaan",
    500: "Terjadi kesalahan di server",
    503: "Layanan sedang tidak tersedia",
}


def is_page(request: Request) -> bool:
    path = request.url.path
    return path != "/api" and not path.startswith(_NOT_PAGES)


def sign_in_url(next_path: str) -> str:
    return "/masuk" if next_path in ("", "/") else f"/masuk?next={quote(next_path, safe='/')}"


def _next_of(request: Request) -> str:
    if request.method != "GET":
        return "/"  # a POST cannot be repeated from a link; back to the start after sign-in
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _back(request: Request) -> str | None:
    """The page this request came from (its ``Referer``, on this app only), for "Kembali" after a refused
    form: a crafted or stale POST leads back to the page it was sent from."""
    referer = request.headers.get("referer")
    if not referer or request.method == "GET":
        return None
    parts = urlsplit(referer)
    if parts.netloc != request.url.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def too_large_page(scope: Scope, exc: NaskahError) -> Response | None:
    """A body over its route's limit (``api.limits.BoundedRequests``), as a page for a page's form
    (None for the API, which answers JSON).  Runs in a worker thread: the header may look up the session."""
    request = Request(scope)
    if not is_page(request):
        return None
    return page_error(request, http_status(exc), exc.to_dict(), None)


def page_error(request: Request, status: int, body: dict[str, Any], headers: dict[str, str] | None) -> Response | None:
    """The error as a page (or a redirect to sign in), or None for a request that is not for a page."""
    if not is_page(request):
        return None
    if status == 401:
        target = sign_in_url(_next_of(request))
        if request.headers.get("hx-request"):
            response: Response = Response(status_code=401, headers={"HX-Redirect": target})
        else:
            response = RedirectResponse(target, status_code=303)
        if request.cookies.get(SESSION_COOKIE):
            clear_session_cookie(response, request)
        return response
    if getattr(request.state, "signed", None) is None and request.cookies.get(SESSION_COOKIE):
        try:  # the layout's header names the user, when the error came before the page looked
            current_signed(request, request.app.state.services)
        except Exception:
            request.state.signed = None
    detail = body.get("detail") or {}
    shown = {
        "status": status,
        "title": TITLES.get(status, TITLES[500] if status >= 500 else "Permintaan tidak dapat dilayani"),
        "message": body.get("message", ""),
        "code": detail.get("reason") or body.get("code", ""),
        "error_id": detail.get("error_id"),
        "back": _back(request),
    }
    extra = {k: v for k, v in (headers or {}).items() if k.lower() in ("allow", "retry-after")}
    # set here too: a 500 is answered outside the middleware that sets them on every other response
    extra.update(
        {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
    )
    return page(request, "galat.html", {"error": shown}, status_code=status, headers=extra)
