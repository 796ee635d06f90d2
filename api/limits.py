"""Bounded requests: the token is checked before the body is read, and no body outgrows its route's limit.

Why a middleware, and a pure ASGI one: FastAPI reads and parses a JSON or multipart body *before*
it resolves the route's dependencies, so the bearer-token dependency ran only after an
unauthenticated 300 MB upload had been spooled to disk (and a 100 MB JSON body parsed).  Here,
before the app sees the request:

1. the route is found as the router will find it (:class:`RouteTable`, built once from the app's
   routes); a route that depends on :func:`api.deps.get_current_user` (every ``/api/v1`` route
   today) has its token checked first with :func:`pipeline.auth.authenticate` (the one function
   that decides, run in a thread), and without a valid one the answer is 401 with
   ``WWW-Authenticate: Bearer`` and not a byte of the body read.  The user found is handed to the
   dependency, so the database is asked once;
2. a ``Content-Length`` over the route's limit is answered 413 at once;
3. the body is counted while the app reads it (chunked, or a ``Content-Length`` that lies, as
   through a proxy): as soon as the count passes the limit the app's reading fails and the answer
   is 413; the rest is never read (``Connection: close``).

A page's upload (a route outside ``/api``) that is too large gets a page, not the JSON envelope: the
middleware is given ``pages`` (``api.web.errors.too_large_page``, wired in ``api.main``), asked first for
every 413 it answers; it renders the error in the layout, still before a byte more of the body is read.

Each route's limit: an upload route names its kind on the route (``openapi_extra=upload("pdf")``,
:data:`UPLOAD_LIMITS` says where each kind's size comes from: the same settings the route checks the
file with), plus :data:`MULTIPART_SLACK` for the form's other fields and framing; every other route
(JSON bodies, or none) has the small default ``NASKAH_MAX_BODY_KB``.  ``tests/test_body_limits.py``
walks every route.  Not ``BaseHTTPMiddleware``: it would read the body into memory itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import AUTHENTICATED_USER, get_current_user
from api.errors import headers_for, http_status
from pipeline.auth import authenticate
from pipeline.drafting.lambang import MAX_LAMBANG_BYTES
from pipeline.errors import DocumentTooLarge, NaskahError
from pipeline.models import User
from pipeline.services import Services

__all__ = [
    "BODY_LIMIT_KEY",
    "MAX_CERTIFICATE_BYTES",
    "MAX_P12_BYTES",
    "MULTIPART_SLACK",
    "UPLOAD_LIMITS",
    "BoundedRequests",
    "RouteRule",
    "RouteTable",
    "upload",
]

log = logging.getLogger(__name__)

KB = 1024
MB = 1024 * KB

#: The key in a route's ``openapi_extra`` that names its upload kind (shown in the OpenAPI document too).
BODY_LIMIT_KEY = "x-naskah-body-limit"
#: A multipart body carries the file and the form's other fields (a note, a passphrase, a date note)
#: with their boundaries and headers: this much on top of the file's own limit.
MULTIPART_SLACK = 64 * KB
#: A PKCS#12 keystore holds one key and a short chain: a few KB; 1 MB is a mistake or worse.
MAX_P12_BYTES = 1 * MB
#: A signer's certificate (PEM or DER) an admin registers: a few KB.
MAX_CERTIFICATE_BYTES = 64 * KB

#: Upload kind -> (what it is, for the message; where its size limit comes from).
UPLOAD_LIMITS: dict[str, tuple[str, Callable[[Services], int]]] = {
    "docx": ("dokumen Word (.docx)", lambda svc: svc.docx_limits.max_bytes),
    "pdf": ("berkas PDF", lambda svc: svc.pdf_limits.max_bytes),
    "p12": ("berkas PKCS#12", lambda _svc: MAX_P12_BYTES),
    "lambang": ("gambar lambang", lambda _svc: MAX_LAMBANG_BYTES),
    # an usulan's attachment (pipeline.drafting.attachments): a PDF, a DOCX or a scanned image
    "lampiran": ("lampiran usulan", lambda svc: max(svc.pdf_limits.max_bytes, svc.docx_limits.max_bytes)),
    # a monev report's or tindak lanjut's attachments (pipeline.drafting.attachments): PDF, DOCX or scanned images
    "monev": ("lampiran monitoring dan evaluasi", lambda svc: max(svc.pdf_limits.max_bytes, svc.docx_limits.max_bytes)),
    "certificate": ("berkas sertifikat", lambda _svc: MAX_CERTIFICATE_BYTES),
}


def upload(kind: str) -> dict[str, Any]:
    """``openapi_extra`` for an upload route: its body may be as large as a ``kind`` file (plus the form)."""
    if kind not in UPLOAD_LIMITS:
        raise ValueError(f"unknown upload kind {kind!r}; expected one of {sorted(UPLOAD_LIMITS)}")
    return {BODY_LIMIT_KEY: kind}


def _size(n: int) -> str:
    """2097152 -> "2 MB", 65536 -> "64 KB", 1572864 -> "1,5 MB" (Indonesian decimal comma)."""
    if n >= MB:
        return f"{n / MB:.1f}".removesuffix(".0").replace(".", ",") + " MB"
    return f"{max(1, round(n / KB))} KB"


def _uses(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return dependant.call is call or any(_uses(d, call) for d in dependant.dependencies)


@dataclass(frozen=True)
class RouteRule:
    """One route as the middleware sees it: where it matches, whether it needs a token, its body kind."""

    route: APIRoute
    path: str
    regex: re.Pattern[str]
    methods: frozenset[str]
    kind: str | None
    """An upload kind of :data:`UPLOAD_LIMITS`, or None: the default limit for JSON (or no) body."""
    needs_auth: bool

    def limit(self, svc: Services, default: int) -> int:
        """The largest body this route accepts, in bytes."""
        if self.kind is None:
            return default
        return UPLOAD_LIMITS[self.kind][1](svc) + MULTIPART_SLACK

    def file_limit(self, svc: Services) -> int | None:
        return UPLOAD_LIMITS[self.kind][1](svc) if self.kind is not None else None

    @property
    def what(self) -> str:
        return UPLOAD_LIMITS[self.kind][0] if self.kind is not None else "isi permintaan (JSON)"


class RouteTable:
    """The app's API routes in the router's order, so that a request finds the route the router will."""

    def __init__(self, rules: list[RouteRule]) -> None:
        self.rules = rules

    @classmethod
    def of(cls, app: FastAPI) -> RouteTable:
        """Built once per app (on its first request) and kept on ``app.state``."""
        table = getattr(app.state, "naskah_route_table", None)
        if table is None:
            table = cls.build(app)
            app.state.naskah_route_table = table
        return table

    @classmethod
    def build(cls, app: FastAPI) -> RouteTable:
        rules = []
        for context in iter_route_contexts(app.routes):
            route = context.original_route
            if not isinstance(route, APIRoute) or not context.path:
                continue
            kind = (route.openapi_extra or {}).get(BODY_LIMIT_KEY)
            if kind is not None and kind not in UPLOAD_LIMITS:
                raise ValueError(f"{context.path}: unknown upload kind {kind!r}")
            regex, _format, _convertors = compile_path(context.path)
            rules.append(
                RouteRule(
                    route=route,
                    path=context.path,
                    regex=regex,
                    methods=frozenset(route.methods or ()),
                    kind=kind,
                    needs_auth=_uses(route.dependant, get_current_user),
                )
            )
        return cls(rules)

    def match(self, method: str, path: str) -> RouteRule | None:
        """The first route whose path and method match (None: the router answers 404/405 itself)."""
        for rule in self.rules:
            if method in rule.methods and rule.regex.match(path):
                return rule
        return None


# -- the middleware ------------------------------------------------------------------------------


class _TooLarge(HTTPException):
    """Raised into the app's body reading; an HTTPException so FastAPI passes it on as it is."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def _bearer(scope: Scope) -> str | None:
    """The token of ``Authorization: Bearer …`` (scheme in any case), as FastAPI's HTTPBearer reads it."""
    value = _header(scope, b"authorization")
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _has_body(scope: Scope) -> bool:
    return bool(_content_length(scope)) or _header(scope, b"transfer-encoding") is not None


def _authenticate(svc: Services, token: str | None) -> User:
    with Session(svc.engine, expire_on_commit=False) as session:
        return authenticate(session, token)


def _error(exc: NaskahError, scope: Scope, *, unread: bool = False) -> JSONResponse:
    status = http_status(exc)
    headers = dict(headers_for(exc) or {})  # a 401 says how to authenticate, as every other 401
    if unread or _has_body(scope):
        headers["Connection"] = "close"  # the body stays unread: this connection cannot carry another request
    return JSONResponse(exc.to_dict(), status_code=status, headers=headers)


class BoundedRequests:
    """Pure ASGI middleware: authenticate first, then hold every body to its route's limit."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        json_limit: int,
        pages: Callable[[Scope, NaskahError], Response | None] | None = None,
    ) -> None:
        self.app = app
        self.json_limit = json_limit
        self.pages = pages
        """The refusal as a page for a browser's request (None: not a page, answer JSON)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        application = scope.get("app")
        svc: Services | None = getattr(getattr(application, "state", None), "services", None)
        rule = RouteTable.of(application).match(scope["method"], scope["path"]) if application is not None else None
        limit = rule.limit(svc, self.json_limit) if rule is not None and svc is not None else self.json_limit

        if rule is not None and rule.needs_auth and svc is not None:
            try:
                scope[AUTHENTICATED_USER] = await anyio.to_thread.run_sync(_authenticate, svc, _bearer(scope))
            except NaskahError as exc:
                await _error(exc, scope)(scope, receive, send)
                return
            except Exception:  # the database failing: the route's own dependency answers that, bounded below
                log.warning("authentication before the body failed; leaving it to the route", exc_info=True)

        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._too_large(scope, receive, send, rule, svc, limit, declared=declared)
            return
        await self._bounded(scope, receive, send, rule, svc, limit)

    async def _too_large(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        rule: RouteRule | None,
        svc: Services | None,
        limit: int,
        **seen: int,
    ) -> None:
        what = rule.what if rule is not None else "isi permintaan"
        file_limit = rule.file_limit(svc) if rule is not None and svc is not None else None
        shown = file_limit if file_limit is not None else limit
        exc = DocumentTooLarge(
            f"Isi permintaan terlalu besar: batas {what} untuk alamat ini {_size(shown)}.",
            reason="too_large",
            limit=limit,
            file_limit=file_limit,
            **seen,
        )
        log.info("%s %s refused: body over %d bytes (%s)", scope["method"], scope["path"], limit, seen)
        shown = await anyio.to_thread.run_sync(self.pages, scope, exc) if self.pages is not None else None
        if shown is None:
            await _error(exc, scope, unread=True)(scope, receive, send)
            return
        shown.headers["Connection"] = "close"  # the body stays unread, as for the JSON answer
        await shown(scope, receive, send)

    async def _bounded(
        self, scope: Scope, receive: Receive, send: Send, rule: RouteRule | None, svc: Services | None, limit: int
    ) -> None:
        received = 0
        exceeded = False
        started = False

        async def counted() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise _TooLarge()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge()
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if exceeded:
                # Whatever the app made of its failed read (its own 413, a 400 from a half-read form),
                # the answer is ours; the app's messages are dropped.
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._too_large(scope, receive, send, rule, svc, limit, received_at_least=received)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not exceeded:
                raise
            if not started:
                await self._too_large(scope, receive, send, rule, svc, limit, received_at_least=received)
