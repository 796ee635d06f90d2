"""User administration for the admin role: accounts, their tokens, passwords and web sessions,
registered certificates, and the signer configuration (read-only).

Every change is an audit entry (``pipeline.accounts``).  A token or a generated password is shown
once; only its hash is kept.  Deactivating an account revokes its tokens and ends its web sessions:
they fail at once.  The admin pages (``api/web/admin.py``) call the same pipeline functions.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile, status
from starlette.convertors import StringConvertor, register_url_convertor

from api.deps import CurrentUser, ServicesDep, SessionDep
from api.limits import MAX_CERTIFICATE_BYTES, upload
from api.present import token_public, user_admin_public
from api.schemas import (
    CertificatePublic,
    CertificateRequest,
    Page,
    PasswordReset,
    PasswordResetDone,
    SessionPublic,
    SessionsEnded,
    SignerCertificatePublic,
    SignerStatusPublic,
    TokenIssued,
    TokenPublic,
    TokenRequest,
    UserAdminPublic,
    UserCreate,
    UserCreated,
    UserUpdate,
)
from pipeline import accounts
from pipeline.auth import get_user, list_users, require, user_tokens
from pipeline.errors import DocumentTooLarge
from pipeline.identity import list_certificates
from pipeline.models import MAX_ID, ApiToken, User
from pipeline.sign import signer_status
from pipeline.signin import LiveSession, SessionPolicy


def _admin(user: CurrentUser) -> User:
    require(user, "manage_users")
    return user


Admin = Annotated[User, Depends(_admin)]
Username = Annotated[str, Path(min_length=2, max_length=64, description="nama pengguna")]
TokenId = Annotated[int, Path(ge=1, le=MAX_ID)]
SessionId = Annotated[int, Path(ge=1, le=MAX_ID)]
MAX_CERTIFICATE = MAX_CERTIFICATE_BYTES

router = APIRouter(prefix="/admin", tags=["admin"])


def _one(session: SessionDep, user: User) -> UserAdminPublic:
    counts = {u.id: n for u, n in list_users(session)}
    return user_admin_public(user, counts.get(user.id, 0))


def _issued(token: str, row: ApiToken) -> TokenIssued:
    return TokenIssued(**token_public(row).model_dump(), token=token)


@router.get("/users", summary="Semua pengguna: peran, posisi, OPD, pihak luar, aktif, token berlaku")
def list_all(session: SessionDep, admin: Admin) -> Page[UserAdminPublic]:
    rows = [user_admin_public(u, n) for u, n in list_users(session)]
    return Page(data=rows, count=len(rows))


@router.post("/users", status_code=status.HTTP_201_CREATED, summary="Tambah pengguna dan terbitkan token pertamanya")
def add(body: UserCreate, svc: ServicesDep, session: SessionDep, admin: Admin) -> UserCreated:
    user, token, row = accounts.add_user(
        session,
        admin,
        svc.profile,
        token_label=body.token_label,
        lifetime_days=svc.token_lifetime_days,
        token_days=body.token_hari,
        **body.model_dump(exclude={"token_label", "token_hari"}),
    )
    return UserCreated(user=_one(session, user), token=_issued(token, row))


@router.get("/users/{username}", summary="Rincian pengguna")
def one(username: Username, session: SessionDep, admin: Admin) -> UserAdminPublic:
    return _one(session, get_user(session, username))


@router.patch("/users/{username}", summary="Ubah peran, posisi, jabatan, NIP/NIK, OPD, pihak luar/dalam")
def change(
    username: Username, body: UserUpdate, svc: ServicesDep, session: SessionDep, admin: Admin
) -> UserAdminPublic:
    user = accounts.change_user(session, admin, svc.profile, username, **body.model_dump(exclude_unset=True))
    return _one(session, user)


@router.post("/users/{username}/deactivate", summary="Nonaktifkan pengguna; semua tokennya langsung tidak berlaku")
def deactivate(username: Username, session: SessionDep, admin: Admin) -> UserAdminPublic:
    user, _revoked = accounts.set_user_active(session, admin, username, False)
    return _one(session, user)


@router.post("/users/{username}/reactivate", summary="Aktifkan kembali pengguna (terbitkan token baru untuknya)")
def reactivate(username: Username, session: SessionDep, admin: Admin) -> UserAdminPublic:
    user, _ = accounts.set_user_active(session, admin, username, True)
    return _one(session, user)


@router.get("/users/{username}/tokens", summary="Token pengguna: berlaku, kedaluwarsa, dicabut")
def tokens(username: Username, session: SessionDep, admin: Admin) -> Page[TokenPublic]:
    rows = [token_public(t) for t in user_tokens(session, get_user(session, username))]
    return Page(data=rows, count=len(rows))


@router.post(
    "/users/{username}/tokens",
    status_code=status.HTTP_201_CREATED,
    summary="Terbitkan token baru (ditampilkan sekali); masa berlaku bawaan NASKAH_TOKEN_LIFETIME_DAYS",
)
def issue(username: Username, body: TokenRequest, svc: ServicesDep, session: SessionDep, admin: Admin) -> TokenIssued:
    token, row = accounts.issue(
        session, admin, username, body.label, lifetime_days=svc.token_lifetime_days, days=body.hari
    )
    return _issued(token, row)


@router.delete("/users/{username}/tokens/{token_id}", summary="Cabut satu token pengguna")
def revoke(username: Username, token_id: TokenId, session: SessionDep, admin: Admin) -> TokenPublic:
    return token_public(accounts.revoke(session, admin, username, token_id))


@router.get("/users/{username}/certificates", summary="Sertifikat penanda tangan yang didaftarkan untuk pengguna")
def certificates(username: Username, session: SessionDep, admin: Admin) -> Page[CertificatePublic]:
    rows = [
        CertificatePublic.model_validate(c, from_attributes=True)
        for c in list_certificates(session, get_user(session, username))
    ]
    return Page(data=rows, count=len(rows))


@router.post(
    "/users/{username}/certificates",
    status_code=status.HTTP_201_CREATED,
    summary="Daftarkan sertifikat (berkas PEM/DER) sebagai milik pejabat ini",
    openapi_extra=upload("certificate"),
)
def register(
    username: Username,
    session: SessionDep,
    admin: Admin,
    file: Annotated[UploadFile, File(description="sertifikat penanda tangan, PEM atau DER")],
) -> CertificatePublic:
    data = file.file.read(MAX_CERTIFICATE + 1)
    if len(data) > MAX_CERTIFICATE:
        raise DocumentTooLarge("Berkas sertifikat lebih besar dari 64 KB.", limit=MAX_CERTIFICATE)
    row = accounts.register(session, admin, username, certificate=data)
    return CertificatePublic.model_validate(row, from_attributes=True)


@router.post(
    "/users/{username}/certificates/sha256",
    status_code=status.HTTP_201_CREATED,
    summary="Daftarkan sertifikat dengan sidik SHA-256-nya saja",
)
def register_fingerprint(
    username: Username, body: CertificateRequest, session: SessionDep, admin: Admin
) -> CertificatePublic:
    row = accounts.register(session, admin, username, sha256=body.sha256)
    return CertificatePublic.model_validate(row, from_attributes=True)


class _FingerprintConvertor(StringConvertor):
    """A sha256 fingerprint in a path, as people copy it (hex, maybe with ':', '-' or spaces): so that
    ``DELETE …/certificates/sha256`` (the POST route beside it) is a 405, not this route with "sha256"."""

    regex = "[0-9A-Fa-f][0-9A-Fa-f: -]{62,198}[0-9A-Fa-f]"


register_url_convertor("fingerprint", _FingerprintConvertor())


@router.delete("/users/{username}/certificates/{sha256:fingerprint}", summary="Cabut pendaftaran sertifikat")
def unregister(
    username: Username,
    sha256: Annotated[str, Path(min_length=64, max_length=200)],
    session: SessionDep,
    admin: Admin,
) -> CertificatePublic:
    row = accounts.unregister(session, admin, username, sha256)
    return CertificatePublic.model_validate(row, from_attributes=True)


# --- passwords and web sessions -------------------------------------------------------------------


def _policy(request: Request) -> SessionPolicy:
    return request.app.state.settings.session_policy


def session_public(row: LiveSession) -> SessionPublic:
    return SessionPublic(
        id=row.id,
        username=row.username,
        nama=row.nama,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        ends_at=row.ends_at,
    )


@router.post(
    "/users/{username}/password",
    summary="Atur ulang kata sandi web (kosong: dibuatkan, ditampilkan sekali); semua sesinya berakhir",
)
def reset_password(username: Username, body: PasswordReset, session: SessionDep, admin: Admin) -> PasswordResetDone:
    generated, ended = accounts.reset_password(session, admin, username, body.password)
    return PasswordResetDone(password=generated, sesi_berakhir=ended)


@router.get("/sessions", summary="Sesi peramban yang masih berlaku (semua, atau satu pengguna)")
def sessions(
    request: Request,
    session: SessionDep,
    admin: Admin,
    username: Annotated[str | None, Query(min_length=2, max_length=64)] = None,
) -> Page[SessionPublic]:
    rows = [session_public(r) for r in accounts.sessions(session, admin, policy=_policy(request), username=username)]
    return Page(data=rows, count=len(rows))


@router.delete("/sessions/{session_id}", summary="Akhiri satu sesi peramban")
def end_session(session_id: SessionId, session: SessionDep, admin: Admin) -> SessionsEnded:
    username = accounts.end_session(session, admin, session_id)
    return SessionsEnded(username=username, sesi_berakhir=1)


@router.delete("/users/{username}/sessions", summary="Akhiri semua sesi peramban pengguna")
def end_sessions(username: Username, session: SessionDep, admin: Admin) -> SessionsEnded:
    return SessionsEnded(username=username, sesi_berakhir=accounts.end_sessions(session, admin, username))


# --- the signer configuration (read-only) ---------------------------------------------------------


def signer_public(row: signer_status.SignerStatus) -> SignerStatusPublic:
    return SignerStatusPublic(
        username=row.username,
        nama=row.nama,
        kind=row.kind,
        facts=row.facts,
        signer_id=row.signer_id,
        certificates=[SignerCertificatePublic(**asdict(c)) for c in row.certificates],
        note=row.note,
    )


@router.get(
    "/signers",
    summary="Konfigurasi penanda tangan: backend, sertifikat dan peringatan masa berlaku (tanpa rahasia)",
)
def signers(svc: ServicesDep, session: SessionDep, admin: Admin) -> Page[SignerStatusPublic]:
    rows = [signer_public(r) for r in signer_status.signer_statuses(session, admin, svc.signer_backends)]
    return Page(data=rows, count=len(rows))
