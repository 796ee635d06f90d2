"""The pages of the foundation: Beranda, sign-in and sign-out, and "Ubah kata sandi" (the model form).

Each route is as thin as its API twin: parse, call the pipeline, render (see ``api/web/__init__.py``
for the pattern).  Sessions, CSRF and origin checks are ``api.web.security``'s; errors become pages
(``api.web.errors``) or the form's error summary (``api.web.render.form_error``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.deps import ServicesDep, SessionDep
from api.web.render import form_error, page
from api.web.security import (
    SESSION_COOKIE,
    AnonymousForm,
    FormUser,
    PageUser,
    Signed,
    clear_session_cookie,
    client_address,
    current_signed,
    require_same_origin,
    set_session_cookie,
    settings_of,
)
from api.web.tugas import inbox, parse_kind
from pipeline.archival import monev
from pipeline.drafting import cases
from pipeline.errors import NaskahError, NotPermitted, Unauthenticated
from pipeline.inbox import tasks
from pipeline.intake import workflow as intake
from pipeline.models import User
from pipeline.signin import change_own_password, end_session, sign_in, start_session
from pipeline.sop import Profile

__all__ = ["router", "safe_next"]

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

#: The sign-in form's own CSRF token (there is no session yet): a random value in a cookie that the
#: form sends back as ``csrf_token`` (double submit), with the origin check of every POST.
SIGNIN_COOKIE = "naskah_masuk"
SIGNIN_FORM = AnonymousForm(
    SIGNIN_COOKIE,
    "/masuk",
    "Formulir masuk ini kedaluwarsa atau tidak dikirim dari halaman ini. Muat ulang halaman masuk, lalu coba lagi.",
)
SIGNIN_FIELDS = ["username", "password"]
PASSWORD_FIELDS = ["password_lama", "password_baru", "konfirmasi"]


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a path of this app only (never another site: no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target) or parts.path.startswith("/masuk"):
        return "/"
    return target


def _greeting(now: datetime) -> str:
    hour = now.hour
    if 4 <= hour < 11:
        return "Selamat pagi"
    if 11 <= hour < 15:
        return "Selamat siang"
    if 15 <= hour < 18:
        return "Selamat sore"
    return "Selamat malam"


def _monev_inbox(session: Session, user: User, profile: Profile, now: datetime) -> dict[str, int] | None:
    """Monev's share of the inbox (``monev.my_steps`` and the alerts that are the user's turn, as
    ``GET /api/v1/monev/saya``); None when the region runs no monev or the user is a counterparty's."""
    if profile.monev is None or user.pihak_luar:
        return None
    steps = monev.my_steps(session, user, profile, now)
    listed = {s.round_id for s in steps}
    alerts = [a for a in monev.alerts(session, user, profile, now.date(), mine=True) if a.round_id not in listed]
    return {"langkah": len(steps), "terlambat": sum(1 for s in steps if s.terlambat), "peringatan": len(alerts)}


def _usulan_inbox(session: Session, user: User, profile: Profile, now: datetime) -> dict[str, int] | None:
    """The intake's share of the inbox: the usulan whose turn is this user's (``intake.waiting_on``, the
    top of ``/usulan``) and how many are past the mutu baku; None when the region records no intake or
    the user is a counterparty's."""
    if profile.intake is None or user.pihak_luar:
        return None
    waiting = intake.waiting_on(session, user, profile)
    late = sum(1 for u in waiting if (d := intake.deadline_of(profile, u)) is not None and d < now)
    return {"menunggu": len(waiting), "terlambat": late}


@router.get("/", response_class=HTMLResponse)
def beranda(
    request: Request,
    signed: PageUser,
    svc: ServicesDep,
    session: SessionDep,
    tugas: Annotated[str | None, Query(max_length=40)] = None,
    halaman: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """Beranda: a greeting, Tugas saya (counters per kind and the list, ``?tugas=`` filters it, GET so it
    can be bookmarked) and the kerja sama this user may see.  The tasks are ``GET /api/v1/me/tasks``'s:
    the same pipeline call.  An account outside the naskah's path (an administrator) gets a Beranda that
    says so, not an error page."""
    kind = parse_kind(tugas)
    now = datetime.now(svc.profile.tz)
    ctx: dict[str, object] = {
        "greeting": _greeting(now),
        "today": now.date(),
        "inbox": None,
        "cases": [],
        "case_count": 0,
        "monev": None,
        "usulan": None,
    }
    try:
        found = tasks.tasks_for(session, signed.user, svc.profile, now.astimezone(UTC))
        ctx["inbox"] = inbox(
            found, tasks.kinds_of(signed.user, svc.profile), kind=kind, page=halaman, tz=svc.profile.tz
        )
        ctx["cases"], ctx["case_count"] = cases.list_cases(session, signed.user, profile=svc.profile, limit=10)
        ctx["monev"] = _monev_inbox(session, signed.user, svc.profile, now)
        ctx["usulan"] = _usulan_inbox(session, signed.user, svc.profile, now)
    except NotPermitted:
        ctx["no_role"] = True  # no role on the naskah's path: nothing to read, nothing waits
    return page(request, "beranda.html", {"no_role": False, **ctx})


def _signin_page(request: Request, response_token: str | None = None, **context: object) -> tuple[HTMLResponse, str]:
    token = response_token or SIGNIN_FORM.token(request)
    ctx = {"signin_token": token, "next": "/", "signed_out": False, **context}
    return page(request, "masuk.html", ctx), token


def _with_signin_cookie(request: Request, response: Response, token: str) -> Response:
    return SIGNIN_FORM.with_cookie(request, response, token)


@router.get("/masuk", response_class=HTMLResponse)
def masuk_form(request: Request, svc: ServicesDep, next: str = "/", keluar: int = 0) -> Response:
    """The sign-in form; someone already signed in goes straight on."""
    try:
        current_signed(request, svc)
        return RedirectResponse(safe_next(next), status_code=303)
    except Unauthenticated:
        request.state.signed = None
    response, token = _signin_page(request, next=safe_next(next), signed_out=bool(keluar))
    return _with_signin_cookie(request, response, token)


@router.post("/masuk", response_class=HTMLResponse, dependencies=[Depends(require_same_origin)])
def masuk(
    request: Request,
    svc: ServicesDep,
    session: SessionDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Sign in: a session is started and its cookie set; then the page asked for (a local path only)."""
    cookie = SIGNIN_FORM.check(request, csrf_token)
    settings = settings_of(request)
    values = {"username": username}
    try:
        user = sign_in(
            session,
            username,
            password,
            client_address(request),
            policy=settings.session_policy,
            tz=svc.profile.tz,
        )
    except Unauthenticated as exc:  # TooManyAttempts too; the failure rows commit with the page
        request.state.signed = None
        response = form_error(
            request,
            "masuk.html",
            exc,
            form_fields=SIGNIN_FIELDS,
            values=values,
            context={"signin_token": cookie, "next": safe_next(next), "signed_out": False},
        )
        if "Retry-After" not in response.headers and exc.detail.get("retry_after"):
            response.headers["Retry-After"] = str(exc.detail["retry_after"])
        return response
    session_id, _row = start_session(session, user, policy=settings.session_policy)
    log.info("web sign-in: %s from %s", user.username, client_address(request))
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, request, session_id)
    response.delete_cookie(SIGNIN_COOKIE, path="/masuk")
    return response


@router.post("/keluar")
def keluar(request: Request, signed: FormUser, session: SessionDep) -> Response:
    """Sign out: the session row is deleted (the cookie alone could be kept), the cookie cleared."""
    end_session(session, request.cookies.get(SESSION_COOKIE))
    log.info("web sign-out: %s", signed.user.username)
    response = RedirectResponse("/masuk?keluar=1", status_code=303)
    clear_session_cookie(response, request)
    return response


# --- the model form: every page that takes input follows this one ------------------------------


@router.get("/akun/kata-sandi", response_class=HTMLResponse)
def kata_sandi_form(request: Request, signed: PageUser, diubah: int = 0) -> HTMLResponse:
    return page(request, "kata_sandi.html", {"changed": bool(diubah), "form_fields": PASSWORD_FIELDS})


@router.post("/akun/kata-sandi", response_class=HTMLResponse)
def kata_sandi(
    request: Request,
    signed: FormUser,
    session: SessionDep,
    password_lama: Annotated[str, Form(max_length=1000)] = "",
    password_baru: Annotated[str, Form(max_length=1000)] = "",
    konfirmasi: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Ubah kata sandi: every other browser of this user is signed out; this one gets a fresh session."""
    try:
        change_own_password(session, signed.user, password_lama, password_baru, konfirmasi)
    except NaskahError as exc:
        # passwords are never sent back into the form: nothing of the input is kept here
        return form_error(
            request, "kata_sandi.html", exc, form_fields=PASSWORD_FIELDS, values={}, context={"changed": False}
        )
    session_id, _row = start_session(session, signed.user, policy=settings_of(request).session_policy)
    response = RedirectResponse("/akun/kata-sandi?diubah=1", status_code=303)  # post/redirect/get
    set_session_cookie(response, request, session_id)
    return response


def signed_of(request: Request) -> Signed | None:
    """The signed-in browser of this request, when a page dependency found one."""
    return getattr(request.state, "signed", None)
