"""What keeps the pages safe: security headers, the signed-in user, and the CSRF checks of every POST.

- :class:`SecurityHeaders` (pure ASGI middleware) puts on every response ``X-Content-Type-Options:
  nosniff`` and ``Referrer-Policy: same-origin``, and on everything but ``/docs`` and ``/redoc`` a
  Content-Security-Policy with no inline script (:data:`CSP`).  Swagger UI and ReDoc start with an
  inline ``<script>`` FastAPI writes, so they keep a policy of their own (:data:`DOCS_CSP`: scripts
  only from this app plus that one inline starter, ``frame-ancestors`` still ``'self'``).
- :data:`PageUser`: the user of a page, from the session cookie (``pipeline.signin.resume_session``);
  without a good session the page answers with a redirect to ``/masuk?next=…`` (``api.web.errors``).
- :data:`FormUser`: the same, for a POST: the request must come from our own pages (``Origin`` and
  ``Sec-Fetch-Site``: a cross-site request is refused) and carry the session's CSRF token, as the
  form field ``csrf_token`` or the ``X-CSRF-Token`` header htmx sends (``hx-headers`` on ``<body>``).
  A refusal is a 403 page that says why.

The session cookie (:data:`SESSION_COOKIE`) is HttpOnly, SameSite=Lax, path ``/``, Secure when
``NASKAH_PUBLIC_URL`` is https.  It never authorises ``/api/v1``: that takes a bearer token only
(``api.deps.get_current_user`` reads no cookie).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.config import Settings
from api.deps import ServicesDep
from pipeline.errors import NotPermitted
from pipeline.models import User, WebSession
from pipeline.signin import csrf_matches, resume_session

__all__ = [
    "CSP",
    "CSRF_HEADER",
    "DOCS_CSP",
    "SESSION_COOKIE",
    "FormUser",
    "PageUser",
    "SecurityHeaders",
    "Signed",
    "clear_session_cookie",
    "client_address",
    "require_same_origin",
    "set_session_cookie",
    "settings_of",
]

SESSION_COOKIE = "naskah_sesi"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'self'; object-src 'none'"
)
"""Pages: everything from this app only; images also ``data:`` (Bootstrap's form and navbar icons)."""
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'self'; base-uri 'self'; object-src 'none'"
)
"""``/docs`` and ``/redoc``: FastAPI starts them with an inline script (developer pages, no session)."""
_DOCS_PATHS = ("/docs", "/redoc")


class SecurityHeaders:
    """Security headers on every response (pure ASGI: the body passes untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        policy = DOCS_CSP if path in _DOCS_PATHS or path.startswith("/docs/") else CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "SAMEORIGIN")  # for browsers without frame-ancestors
            await send(message)

        await self.app(scope, receive, send_with_headers)


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def client_address(request: Request) -> str:
    """The client's address as the server saw it (behind a proxy: uvicorn's ``--proxy-headers``)."""
    return request.client.host if request.client else "unknown"


@dataclass
class Signed:
    """A signed-in browser: its user, and its session (whose CSRF token the page's forms carry)."""

    user: User
    session: WebSession

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token


def current_signed(request: Request, svc: ServicesDep) -> Signed:
    """The page's user from the session cookie, or :class:`~pipeline.errors.Unauthenticated` (the page
    answers with a redirect to the sign-in page).  An ended session's row is deleted, committed."""
    policy = settings_of(request).session_policy
    with Session(svc.engine, expire_on_commit=False) as session:
        try:
            user, row = resume_session(session, request.cookies.get(SESSION_COOKIE), policy=policy)
        finally:
            session.commit()
    signed = Signed(user=user, session=row)
    request.state.signed = signed
    return signed


def require_same_origin(request: Request) -> None:
    """Refuse a POST another site made a browser send: ``Sec-Fetch-Site`` must not be ``cross-site``
    or ``same-site`` (a sibling subdomain is another site for us), and an ``Origin`` must be ours
    (``NASKAH_PUBLIC_URL``, else the address the request came to).  Browsers send at least one of the
    two on every POST; a client that sends neither is no browser and still needs the CSRF token."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site in ("cross-site", "same-site"):
        raise NotPermitted(
            "Permintaan ditolak karena dikirim dari situs lain. Buka halaman ini dari aplikasi lalu kirim lagi.",
            reason="cross_site_request",
            sec_fetch_site=fetch_site,
        )
    origin = request.headers.get("origin")
    if origin is None:
        return
    public = settings_of(request).public_url
    own = {f"{request.url.scheme}://{request.url.netloc}"}
    if public:
        parts = urlsplit(public)
        own.add(f"{parts.scheme}://{parts.netloc}")
    if origin.rstrip("/") not in own:
        raise NotPermitted(
            "Permintaan ditolak karena dikirim dari situs lain. Buka halaman ini dari aplikasi lalu kirim lagi.",
            reason="cross_site_request",
            origin=origin[:200],
        )


async def sent_csrf_token(request: Request) -> str | None:
    """The CSRF token a request carries: the htmx header, else the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def checked_form_user(
    request: Request,
    _origin: Annotated[None, Depends(require_same_origin)],
    signed: Annotated[Signed, Depends(current_signed)],
) -> Signed:
    """A POST's user, after the origin check and the session's CSRF token."""
    sent = await sent_csrf_token(request)
    if not csrf_matches(signed.session, sent):
        raise NotPermitted(
            "Formulir ini tidak dapat diterima karena token keamanannya (CSRF) tidak ada atau tidak sesuai. "
            "Muat ulang halaman, lalu kirim lagi.",
            reason="csrf_token_missing" if not sent else "csrf_token_invalid",
        )
    return signed


PageUser = Annotated[Signed, Depends(current_signed)]
FormUser = Annotated[Signed, Depends(checked_form_user)]


def set_session_cookie(response: Response, request: Request, session_id: str) -> None:
    settings = settings_of(request)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=settings.session_max_hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=settings_of(request).secure_cookies
    )


@dataclass(frozen=True)
class AnonymousForm:
    """The CSRF token of a form posted by nobody signed in yet (sign-in, public verification): a random
    value in a cookie scoped to the form's path that the form sends back as ``csrf_token`` (double
    submit), with the origin check every POST has.  One mechanism for every such form."""

    cookie: str
    path: str
    expired: str
    """What to tell the person whose token is missing or wrong (what to reload)."""

    def token(self, request: Request) -> str:
        """The token the page puts in its form: the cookie's, or a new one."""
        return request.cookies.get(self.cookie) or secrets.token_urlsafe(32)

    def with_cookie(self, request: Request, response: Response, token: str) -> Response:
        response.set_cookie(
            self.cookie,
            token,
            max_age=3600,
            path=self.path,
            httponly=True,
            samesite="lax",
            secure=settings_of(request).secure_cookies,
        )
        return response

    def check(self, request: Request, csrf_token: str) -> str:
        """The cookie's token if the form sent it back, else NotPermitted (csrf_token_missing/_invalid)."""
        cookie = request.cookies.get(self.cookie) or ""
        if not cookie or not csrf_token or not hmac.compare_digest(cookie.encode(), csrf_token.encode()):
            raise NotPermitted(self.expired, reason="csrf_token_missing" if not csrf_token else "csrf_token_invalid")
        return cookie
