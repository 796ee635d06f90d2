"""The administration pages (role admin): users, their passwords, web sessions and API tokens, and the
signer configuration (read-only).

Each route is as thin as its API twin in ``api/routes/admin.py``: parse the form into the API's own
input model (``UserCreate``'s and ``UserUpdate``'s fields, ``PasswordReset``), call the same
``pipeline.accounts`` / ``pipeline.sign.signer_status`` function (which checks the role and writes the audit
entry), render.  Anyone without the admin role gets the pipeline's refusal as a 403 page.

- A password is never put back into a form, never logged; a generated one is shown once on a page
  that is not cached (``Cache-Control: no-store``), like a new API token in the API.
- What ends something (deactivating an account, ending a session, revoking a token) asks first: the
  button is a link to a confirmation page (its GET), whose form POSTs to the same address.  That works
  without JavaScript; there is nothing to undo afterwards but it is said what happens.
- After a change: 303 to the page with ``?pesan=<code>``, a fixed sentence (:data:`MESSAGES`): no text
  from the request is ever echoed as a notice.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from api.deps import ServicesDep, SessionDep
from api.schemas import PasswordReset, UserCreate, UserUpdate
from api.web.render import FormErrors, as_naskah_error, form_error, page, waktu
from api.web.security import FormUser, PageUser, settings_of
from pipeline import accounts
from pipeline.auth import get_user, require, token_status
from pipeline.errors import Conflict, InvalidInput, NaskahError, NotFound
from pipeline.identity import list_certificates
from pipeline.lifecycle import Role
from pipeline.models import MAX_ID, User
from pipeline.sign import signer_status
from pipeline.sop import Profile

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

Username = Annotated[str, Path(min_length=2, max_length=64)]
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]

ROLE_LABELS = {
    Role.DRAFTER.value: "Penyusun (drafter)",
    Role.LEGAL.value: "Bagian Hukum (legal)",
    Role.PARAF.value: "Paraf",
    Role.SIGNER.value: "Penanda tangan (signer)",
    Role.SECRETARIAT.value: "Sekretariat",
    Role.ADMIN.value: "Admin",
}
STATUS_FILTER = {"aktif": "Aktif", "nonaktif": "Nonaktif"}
USER_FIELDS = ["username", "nama", "jabatan", "roles", "posisi", "nip", "nik", "opd", "pihak_luar", "instansi"]
ADD_FIELDS = [*USER_FIELDS, "password"]
EDIT_FIELDS = USER_FIELDS[1:]
PASSWORD_FIELDS = ["password"]
LABELS = {
    "username": "Nama pengguna",
    "nama": "Nama lengkap",
    "jabatan": "Jabatan",
    "roles": "Peran",
    "posisi": "Posisi SOP",
    "nip": "NIP",
    "nik": "NIK",
    "opd": "OPD",
    "pihak_luar": "Pihak luar",
    "instansi": "Instansi",
    "password": "Kata sandi",
}
MESSAGES = {
    "dibuat": "Pengguna ditambahkan. Serahkan kata sandinya secara langsung, bukan lewat pesan yang tersimpan.",
    "disimpan": "Perubahan data pengguna disimpan.",
    "sandi": "Kata sandi diatur ulang. Semua sesi peramban pengguna ini sudah diakhiri.",
    "nonaktif": "Pengguna dinonaktifkan. Semua sesi dan token aksesnya langsung tidak berlaku.",
    "aktif": "Pengguna diaktifkan kembali. Token lama tetap dicabut; terbitkan token baru bila perlu.",
    "sesi": "Sesi peramban diakhiri.",
    "semua_sesi": "Semua sesi peramban pengguna ini diakhiri.",
    "token": "Token akses dicabut.",
}
NO_STORE = {"Cache-Control": "no-store"}


async def form_data(request: Request) -> FormData:
    """The submitted form (parsed once; the CSRF check read the same one)."""
    return await request.form()


Form = Annotated[FormData, Depends(form_data)]


def _notice(pesan: str) -> str | None:
    return MESSAGES.get(pesan)


def _choices(profile: Profile) -> dict[str, Any]:
    """The roles and SOP positions a form offers (the profile's positions, with their jabatan)."""
    return {
        "role_labels": ROLE_LABELS,
        "positions": {key: position.jabatan for key, position in profile.positions.items()},
        "labels": LABELS,
    }


def _user_values(form: FormData) -> dict[str, Any]:
    """The form as typed: text fields, the checked roles and positions, the pihak luar box."""
    values: dict[str, Any] = {
        name: str(form.get(name, "")) for name in ("username", "nama", "jabatan", "nip", "nik", "opd", "instansi")
    }
    values["roles"] = [str(v) for v in form.getlist("roles")]
    values["posisi"] = [str(v) for v in form.getlist("posisi")]
    values["pihak_luar"] = form.get("pihak_luar") == "1"
    return values


def _body(values: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """The API body's shape: an empty optional text is None (cleared), the rest as typed."""
    body: dict[str, Any] = {}
    for name in names:
        value = values[name]
        if name in ("nip", "nik", "opd", "instansi"):
            value = value.strip() or None
        body[name] = value
    return body


def _on_form(exc: NaskahError | ValidationError) -> NaskahError:
    """The error as the form shows it: a username taken (409 in the API) marks the username field."""
    error = as_naskah_error(exc)
    if isinstance(error, Conflict) and "username" in error.detail:
        return InvalidInput(error.message, field="username", reason="username_taken")
    return error


def _redirect(url: str, pesan: str) -> RedirectResponse:
    return RedirectResponse(f"{url}?{urlencode({'pesan': pesan})}", status_code=303)


def _secret_page(request: Request, user: User, password: str, *, added: bool) -> HTMLResponse:
    """The generated password, shown this once (not cached, never logged)."""
    return page(
        request, "admin/sandi_baru.html", {"target": user, "password": password, "added": added}, headers=NO_STORE
    )


# --- users --------------------------------------------------------------------------------------


@router.get("/admin", include_in_schema=False)
def admin_home(signed: PageUser) -> Response:
    require(signed.user, "manage_users")
    return RedirectResponse("/admin/pengguna", status_code=303)


@router.get("/admin/pengguna", response_class=HTMLResponse)
def pengguna(
    request: Request,
    signed: PageUser,
    session: SessionDep,
    q: str = "",
    peran: str = "",
    status: str = "",
    pesan: str = "",
) -> HTMLResponse:
    """Every account, searched (name, username, jabatan, NIP/NIK, OPD, instansi) and filtered by role and
    active or not by a GET form (a bookmarkable URL)."""
    q, peran, status = q[:200], peran if peran in ROLE_LABELS else "", status if status in STATUS_FILTER else ""
    active = None if not status else status == "aktif"
    rows = accounts.find_users(session, signed.user, q=q, role=peran, active=active)
    ctx = {
        "rows": rows,
        "values": {"q": q, "peran": peran, "status": status},
        "filtered": bool(q.strip() or peran or status),
        "role_labels": ROLE_LABELS,
        "status_filter": STATUS_FILTER,
        "notice": _notice(pesan),
    }
    return page(request, "admin/pengguna.html", ctx)


@router.get("/admin/pengguna/baru", response_class=HTMLResponse)
def pengguna_baru_form(request: Request, signed: PageUser, svc: ServicesDep) -> HTMLResponse:
    require(signed.user, "manage_users")
    ctx = {**_choices(svc.profile), "form_fields": ADD_FIELDS, "values": {"roles": [], "posisi": []}}
    return page(request, "admin/pengguna_baru.html", ctx)


@router.post("/admin/pengguna/baru", response_class=HTMLResponse)
def pengguna_baru(request: Request, signed: FormUser, svc: ServicesDep, session: SessionDep, form: Form) -> Response:
    """Add an account with a first password (the admin's, or generated and shown once)."""
    values = _user_values(form)
    password = str(form.get("password", ""))
    try:
        body = UserCreate(**_body(values, USER_FIELDS))
        user, generated = accounts.add_web_user(
            session,
            signed.user,
            svc.profile,
            password=password or None,
            **body.model_dump(exclude={"token_label", "token_hari"}),
        )
    except (NaskahError, ValidationError) as exc:
        session.rollback()  # an account created before its password was refused is not kept
        return form_error(
            request,
            "admin/pengguna_baru.html",
            _on_form(exc),
            form_fields=ADD_FIELDS,
            values=values,  # never the password
            context=_choices(svc.profile),
        )
    if generated:
        return _secret_page(request, user, generated, added=True)
    return _redirect(f"/admin/pengguna/{user.username}", "dibuat")


def _detail_context(request: Request, session: Any, admin: User, profile: Profile, username: str) -> dict[str, Any]:
    user = get_user(session, username)
    policy = settings_of(request).session_policy
    return {
        **_choices(profile),
        "target": user,
        "sessions": accounts.sessions(session, admin, policy=policy, username=user.username),
        "tokens": [row for _u, row in accounts.valid_tokens(session, admin, username=user.username)],
        "certificates": list_certificates(session, user),
        "expiry_state": signer_status.expiry_state,
        "is_self": admin.id == user.id,
        "edit_values": {
            "nama": user.nama,
            "jabatan": user.jabatan,
            "roles": sorted(user.role_set),
            "posisi": sorted(user.posisi_set),
            "nip": user.nip or "",
            "nik": user.nik or "",
            "opd": user.opd or "",
            "pihak_luar": user.pihak_luar,
            "instansi": user.instansi or "",
        },
        "password_errors": FormErrors(),
        "notice": None,
        "target_tz": profile.tz,
    }


@router.get("/admin/pengguna/{username}", response_class=HTMLResponse)
def pengguna_rincian(
    request: Request,
    signed: PageUser,
    svc: ServicesDep,
    session: SessionDep,
    username: Username,
    pesan: str = "",
) -> HTMLResponse:
    """One account: its data (the edit form), a password reset, its sessions, tokens and certificates,
    and deactivating or reactivating it."""
    require(signed.user, "manage_users")
    ctx = _detail_context(request, session, signed.user, svc.profile, username)
    ctx["notice"] = _notice(pesan)
    ctx["values"] = ctx["edit_values"]
    ctx["form_fields"] = EDIT_FIELDS
    return page(request, "admin/pengguna_rincian.html", ctx)


@router.post("/admin/pengguna/{username}", response_class=HTMLResponse)
def pengguna_ubah(
    request: Request, signed: FormUser, svc: ServicesDep, session: SessionDep, username: Username, form: Form
) -> Response:
    """Change roles, jabatan, SOP positions, NIP/NIK, OPD, pihak luar (the whole form is the new state)."""
    values = _user_values(form)
    try:
        body = UserUpdate(**_body(values, EDIT_FIELDS))
        accounts.change_user(session, signed.user, svc.profile, username, **body.model_dump())
    except (NaskahError, ValidationError) as exc:
        session.rollback()
        ctx = _detail_context(request, session, signed.user, svc.profile, username)
        return form_error(
            request, "admin/pengguna_rincian.html", _on_form(exc), form_fields=EDIT_FIELDS, values=values, context=ctx
        )
    return _redirect(f"/admin/pengguna/{username}", "disimpan")


@router.post("/admin/pengguna/{username}/kata-sandi", response_class=HTMLResponse)
def pengguna_sandi(
    request: Request, signed: FormUser, svc: ServicesDep, session: SessionDep, username: Username, form: Form
) -> Response:
    """Reset the password (the admin's, or generated and shown once); every session of the user ends."""
    password = str(form.get("password", ""))
    try:
        body = PasswordReset(password=password or None)
        generated, _ended = accounts.reset_password(session, signed.user, username, body.password)
    except (NaskahError, ValidationError) as exc:
        session.rollback()
        ctx = _detail_context(request, session, signed.user, svc.profile, username)
        ctx["values"] = ctx["edit_values"]
        ctx["form_fields"] = EDIT_FIELDS
        error = as_naskah_error(exc)
        if not isinstance(error, InvalidInput):
            raise error from None
        ctx["password_errors"] = FormErrors.from_error(error, PASSWORD_FIELDS)
        return page(request, "admin/pengguna_rincian.html", ctx, status_code=422)
    if generated:
        return _secret_page(request, get_user(session, username), generated, added=False)
    return _redirect(f"/admin/pengguna/{username}", "sandi")


def _confirm(request: Request, *, heading: str, lines: list[str], action: str, button: str, back: str) -> HTMLResponse:
    """The confirmation step of something that ends access: what happens, and a form to go on."""
    ctx = {"heading": heading, "lines": lines, "action": action, "button": button, "back": back}
    return page(request, "admin/konfirmasi.html", ctx)


@router.get("/admin/pengguna/{username}/nonaktifkan", response_class=HTMLResponse)
def nonaktifkan_form(request: Request, signed: PageUser, session: SessionDep, username: Username) -> HTMLResponse:
    user = accounts.may_deactivate(session, signed.user, username)  # oneself, the last admin: said at once
    return _confirm(
        request,
        heading=f"Nonaktifkan {user.nama}?",
        lines=[
            f"Akun '{user.username}' tidak dapat masuk lagi sampai diaktifkan kembali.",
            "Semua sesi perambannya langsung berakhir dan semua token aksesnya dicabut.",
            "Naskah, paraf dan tanda tangan yang sudah dibuatnya tetap tersimpan.",
        ],
        action=f"/admin/pengguna/{user.username}/nonaktifkan",
        button="Ya, nonaktifkan",
        back=f"/admin/pengguna/{user.username}",
    )


@router.post("/admin/pengguna/{username}/nonaktifkan")
def nonaktifkan(signed: FormUser, session: SessionDep, username: Username) -> Response:
    accounts.set_user_active(session, signed.user, username, False)
    return _redirect(f"/admin/pengguna/{username}", "nonaktif")


@router.post("/admin/pengguna/{username}/aktifkan")
def aktifkan(signed: FormUser, session: SessionDep, username: Username) -> Response:
    accounts.set_user_active(session, signed.user, username, True)
    return _redirect(f"/admin/pengguna/{username}", "aktif")


# --- sessions and tokens ---------------------------------------------------------------------------


def _back(target: str) -> str:
    """Where to return after a session or token action: an admin page of this app only."""
    return target if target.startswith("/admin/") and "//" not in target and "\\" not in target else "/admin/sesi"


@router.get("/admin/sesi", response_class=HTMLResponse)
def sesi(request: Request, signed: PageUser, svc: ServicesDep, session: SessionDep, pesan: str = "") -> HTMLResponse:
    """Every signed-in browser and every valid API token (never a secret: no session id, no token)."""
    policy = settings_of(request).session_policy
    ctx = {
        "sessions": accounts.sessions(session, signed.user, policy=policy),
        "tokens": accounts.valid_tokens(session, signed.user),
        "own_session": signed.session.id,
        "notice": _notice(pesan),
        "target_tz": svc.profile.tz,
    }
    return page(request, "admin/sesi.html", ctx)


@router.get("/admin/sesi/{session_id}/akhiri", response_class=HTMLResponse)
def akhiri_sesi_form(
    request: Request,
    signed: PageUser,
    svc: ServicesDep,
    session: SessionDep,
    session_id: RowId,
    kembali: str = "/admin/sesi",
) -> HTMLResponse:
    policy = settings_of(request).session_policy
    found = [s for s in accounts.sessions(session, signed.user, policy=policy) if s.id == session_id]
    if not found:
        raise NotFound(f"Sesi #{session_id} tidak ada atau sudah berakhir.", session_id=session_id)
    row = found[0]
    own = signed.session.id == session_id
    return _confirm(
        request,
        heading=f"Akhiri sesi {row.nama}?",
        lines=[
            f"Peramban '{row.username}' yang masuk sejak {waktu(row.created_at, svc.profile.tz)} harus masuk kembali.",
            "Ini sesi Anda sendiri: Anda akan keluar."
            if own
            else "Pengguna lain dan token aksesnya tidak terpengaruh.",
        ],
        action=f"/admin/sesi/{session_id}/akhiri?{urlencode({'kembali': _back(kembali)})}",
        button="Ya, akhiri sesi",
        back=_back(kembali),
    )


@router.post("/admin/sesi/{session_id}/akhiri")
def akhiri_sesi(signed: FormUser, session: SessionDep, session_id: RowId, kembali: str = "/admin/sesi") -> Response:
    accounts.end_session(session, signed.user, session_id)
    return _redirect(_back(kembali), "sesi")


@router.get("/admin/pengguna/{username}/sesi/akhiri", response_class=HTMLResponse)
def akhiri_semua_form(request: Request, signed: PageUser, session: SessionDep, username: Username) -> HTMLResponse:
    require(signed.user, "manage_users")
    user = get_user(session, username)
    return _confirm(
        request,
        heading=f"Akhiri semua sesi {user.nama}?",
        lines=[
            f"Setiap peramban tempat '{user.username}' sedang masuk harus masuk kembali.",
            "Kata sandi dan token aksesnya tidak berubah.",
        ],
        action=f"/admin/pengguna/{user.username}/sesi/akhiri",
        button="Ya, akhiri semua sesi",
        back=f"/admin/pengguna/{user.username}",
    )


@router.post("/admin/pengguna/{username}/sesi/akhiri")
def akhiri_semua(signed: FormUser, session: SessionDep, username: Username) -> Response:
    accounts.end_sessions(session, signed.user, username)
    return _redirect(f"/admin/pengguna/{username}", "semua_sesi")


@router.get("/admin/pengguna/{username}/token/{token_id}/cabut", response_class=HTMLResponse)
def cabut_token_form(
    request: Request,
    signed: PageUser,
    session: SessionDep,
    username: Username,
    token_id: RowId,
    kembali: str = "",
) -> HTMLResponse:
    found = [t for _u, t in accounts.valid_tokens(session, signed.user, username=username) if t.id == token_id]
    if not found:
        raise NotFound(f"Pengguna '{username}' tidak memiliki token #{token_id} yang berlaku.", token_id=token_id)
    token = found[0]
    back = _back(kembali or f"/admin/pengguna/{username}")
    return _confirm(
        request,
        heading=f"Cabut token #{token.id} milik {username}?",
        lines=[
            f"Token {token.label or 'tanpa label'} ({token_status(token)}) langsung tidak dapat dipakai untuk API.",
            "Aplikasi atau skrip yang memakainya perlu token baru dari admin.",
        ],
        action=f"/admin/pengguna/{username}/token/{token_id}/cabut?{urlencode({'kembali': back})}",
        button="Ya, cabut token",
        back=back,
    )


@router.post("/admin/pengguna/{username}/token/{token_id}/cabut")
def cabut_token(
    signed: FormUser, session: SessionDep, username: Username, token_id: RowId, kembali: str = ""
) -> Response:
    accounts.revoke(session, signed.user, username, token_id)
    return _redirect(_back(kembali or f"/admin/pengguna/{username}"), "token")


# --- the signer configuration ----------------------------------------------------------------------


@router.get("/admin/penanda-tangan", response_class=HTMLResponse)
def penanda_tangan(request: Request, signed: PageUser, svc: ServicesDep, session: SessionDep) -> HTMLResponse:
    """Each configured signer's backend and certificate with its expiry warning, and every registered
    certificate per user; read-only, never a secret."""
    ctx = {
        "signers": signer_status.signer_statuses(session, signed.user, svc.signer_backends),
        "registered": signer_status.registered_certificates(session, signed.user),
        "warn_days": signer_status.WARN_DAYS,
        "fact_labels": signer_status.FACT_LABELS,
        "value_labels": signer_status.VALUE_LABELS,
        "notice": None,
        "target_tz": svc.profile.tz,
    }
    return page(request, "admin/penanda_tangan.html", ctx)
