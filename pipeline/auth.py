"""Users, their roles, and bearer tokens (kept only as sha256 hashes).

Who may do lifecycle steps is in ``pipeline.lifecycle``; the few permissions outside
the lifecycle (reading, creating a case, managing users) are the table below; which objects a
user may see and edit is ``pipeline.access``.

:func:`authenticate` is the one function that decides whether a token is good: known, not
revoked, not expired (every token has an ``expires_at``: ``NASKAH_TOKEN_LIFETIME_DAYS`` after it
was issued, or sooner when asked), and its user active.  A refusal says which
(``detail.reason``: ``missing_token``, ``invalid_token``, ``token_expired``, ``token_revoked``,
``user_inactive``); the API answers 401 with ``WWW-Authenticate`` (RFC 6750).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, func, select

from pipeline.errors import Conflict, InvalidInput, NotFound, NotPermitted, Unauthenticated
from pipeline.lifecycle import Role
from pipeline.models import ApiToken, User, WebSession, as_utc, utcnow
from pipeline.textcheck import text_problem

__all__ = [
    "DEFAULT_TOKEN_DAYS",
    "PERMISSIONS",
    "active_tokens",
    "allowed",
    "authenticate",
    "create_user",
    "get_user",
    "hash_token",
    "issue_token",
    "list_users",
    "new_token",
    "parse_roles",
    "require",
    "revoke_token",
    "revoke_tokens",
    "set_active",
    "token_status",
    "update_user",
    "user_tokens",
]

DEFAULT_TOKEN_DAYS = 90
"""A token's lifetime when the setting (``NASKAH_TOKEN_LIFETIME_DAYS``) is not given."""

# What each non-lifecycle operation needs (any one of the roles).
PERMISSIONS: dict[str, frozenset[Role]] = {
    "read": frozenset({Role.DRAFTER, Role.LEGAL, Role.PARAF, Role.SIGNER, Role.SECRETARIAT}),
    "create_case": frozenset({Role.DRAFTER}),
    "edit_case": frozenset({Role.DRAFTER}),
    "create_naskah": frozenset({Role.DRAFTER}),
    "manage_users": frozenset({Role.ADMIN}),
    # the whole audit trail and its chain check (``pipeline.audit.require_reader``): who answers for it
    "read_audit": frozenset({Role.ADMIN, Role.SECRETARIAT, Role.LEGAL}),
    # the mail outbox's state: queue, last error, the SMTP server's address (pipeline.inbox.notifications)
    "mail_health": frozenset({Role.SECRETARIAT, Role.ADMIN}),
}

TOKEN_PREFIX = "nsk_"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_roles(roles: Iterable[str]) -> list[Role]:
    out: list[Role] = []
    for raw in roles:
        for part in str(raw).split(","):
            name = part.strip().lower()
            if not name:
                continue
            try:
                out.append(Role(name))
            except ValueError:
                valid = ", ".join(r.value for r in Role)
                raise InvalidInput(
                    f"Peran '{name}' tidak dikenal. Pilihan: {valid}.", role=name, field="roles"
                ) from None
    if not out:
        raise InvalidInput("Setidaknya satu peran harus diberikan.", field="roles")
    return sorted(set(out))


def create_user(
    session: Session,
    *,
    username: str,
    nama: str,
    jabatan: str,
    roles: Iterable[str],
    nip: str | None = None,
    posisi: Iterable[str] = (),
    known_posisi: Iterable[str] | None = None,
    nik: str | None = None,
    opd: str | None = None,
    pihak_luar: bool = False,
    instansi: str | None = None,
    email: str | None = None,
) -> User:
    """A new user.  ``posisi`` are SOP profile positions (e.g. ``sekda``) that decide whose turn a
    paraf is; when ``known_posisi`` is given, unknown ones are refused.  ``nip`` (civil servants) and
    ``nik`` (officials who are not, e.g. a Bupati) are matched against signing certificates.
    ``opd``: the Perangkat Daerah an official of our Pemda belongs to (they see its kerja sama);
    ``pihak_luar`` with ``instansi``: a counterparty's official, who only signs (``pipeline.access``)."""
    if not _USERNAME.match(username):
        raise InvalidInput(
            "Nama pengguna hanya boleh huruf kecil, angka, titik, garis bawah atau strip (2-64 karakter).",
            username=username,
            field="username",
        )
    if session.exec(select(User).where(User.username == username)).first():
        raise Conflict(f"Pengguna '{username}' sudah ada.", username=username)
    user = User(username=username, nama="", jabatan="")
    _apply(
        user,
        nama=nama,
        jabatan=jabatan,
        roles=roles,
        nip=nip,
        nik=nik,
        posisi=posisi,
        known_posisi=known_posisi,
        opd=opd,
        pihak_luar=pihak_luar,
        instansi=instansi,
    )
    user.email = check_email(email)
    session.add(user)
    session.flush()
    return user


_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def check_email(email: str | None) -> str | None:
    """The address notifications are mailed to (``pipeline.inbox.notifications``): one plain address or none."""
    if email is None or not str(email).strip():
        return None
    text = str(email).strip()
    if len(text) > 254 or not _EMAIL.match(text):
        raise InvalidInput("Alamat surel tidak valid (contoh: nama@paserkab.go.id).", field="email")
    return text


def update_user(
    session: Session,
    user: User,
    *,
    known_posisi: Iterable[str] | None = None,
    **changes: object,
) -> list[str]:
    """Change an account's ``nama``, ``jabatan``, ``roles``, ``posisi``, ``nip``, ``nik``, ``opd``,
    ``pihak_luar``, ``instansi`` (those given); checked as on creation.  Returns the fields changed."""
    allowed = {"nama", "jabatan", "roles", "nip", "nik", "posisi", "opd", "pihak_luar", "instansi", "email"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise InvalidInput(f"Isian pengguna tidak dikenal: {', '.join(unknown)}.", fields=unknown)
    # null clears what may be empty (NIP, NIK, OPD, instansi); for the rest it means "unchanged"
    changes = {k: v for k, v in changes.items() if v is not None or k in {"nip", "nik", "opd", "instansi", "email"}}
    before = {k: getattr(user, k) for k in allowed}
    email = check_email(changes.pop("email")) if "email" in changes else user.email  # type: ignore[arg-type]
    current: dict[str, object] = {
        "nama": user.nama,
        "jabatan": user.jabatan,
        "roles": user.role_set,
        "nip": user.nip,
        "nik": user.nik,
        "posisi": user.posisi_set,
        "opd": user.opd,
        "pihak_luar": user.pihak_luar,
        "instansi": user.instansi,
    }
    current.update(changes)
    _apply(user, known_posisi=known_posisi, **current)  # type: ignore[arg-type]
    user.email = email
    session.add(user)
    session.flush()
    return sorted(k for k in allowed if getattr(user, k) != before[k])


def _apply(
    user: User,
    *,
    nama: str,
    jabatan: str,
    roles: Iterable[str],
    nip: str | None,
    nik: str | None,
    posisi: Iterable[str],
    known_posisi: Iterable[str] | None,
    opd: str | None,
    pihak_luar: bool,
    instansi: str | None,
) -> None:
    """Check and set an account's fields (one place for creating and updating)."""
    for field, value in (("nama", nama), ("jabatan", jabatan), ("opd", opd), ("instansi", instansi)):
        problem = text_problem(value) if isinstance(value, str) else None
        if problem is not None:
            raise InvalidInput(f"Isian {field} {problem}.", field=field)
    if not str(nama).strip() or not str(jabatan).strip():
        raise InvalidInput(
            "Nama dan jabatan pengguna wajib diisi.", field="nama" if not str(nama).strip() else "jabatan"
        )
    wanted = sorted({p.strip() for raw in posisi for p in str(raw).split(",") if p.strip()})
    if known_posisi is not None:
        unknown = sorted(set(wanted) - set(known_posisi))
        if unknown:
            choices = ", ".join(sorted(known_posisi))
            raise InvalidInput(
                f"Posisi {', '.join(unknown)} tidak ada di profil SOP. Pilihan: {choices}.",
                posisi=unknown,
                field="posisi",
            )
    parsed = parse_roles(roles)
    opd_text = " ".join(str(opd).split()) if opd and str(opd).strip() else None
    instansi_text = " ".join(str(instansi).split()) if instansi and str(instansi).strip() else None
    if pihak_luar:
        # A counterparty's official signs for their own instansi; nothing in our Pemda's process is theirs.
        extra = sorted(r.value for r in parsed if r != Role.SIGNER)
        if extra or wanted or opd_text or not instansi_text:
            raise InvalidInput(
                "Pejabat pihak mitra (pihak luar) hanya berperan signer, tanpa posisi SOP dan OPD, dan wajib "
                "menyebut instansinya (mis. 'Pemerintah Kota Balikpapan').",
                reason="pihak_luar_invalid",
                roles=extra,
                posisi=wanted,
                opd=opd_text,
                instansi=instansi_text,
            )
    elif instansi_text:
        raise InvalidInput(
            "Instansi hanya untuk pejabat pihak mitra (pihak luar); pejabat Pemerintah Daerah memakai OPD.",
            reason="instansi_for_pihak_luar_only",
        )
    user.nama, user.jabatan = str(nama).strip(), str(jabatan).strip()
    user.nip = str(nip).strip() if nip and str(nip).strip() else None
    user.nik = _nik(nik)
    user.roles = ",".join(r.value for r in parsed)
    user.posisi = ",".join(wanted)
    user.opd, user.pihak_luar, user.instansi = opd_text, bool(pihak_luar), instansi_text


def _nik(nik: str | None) -> str | None:
    if not nik or not nik.strip():
        return None
    value = nik.strip()
    if not (len(value) == 16 and value.isdigit()):
        raise InvalidInput("NIK harus 16 digit angka.", field="nik")
    return value


def new_token(
    session: Session,
    user: User,
    label: str = "",
    *,
    lifetime_days: int = DEFAULT_TOKEN_DAYS,
    days: int | None = None,
    now: datetime | None = None,
) -> tuple[str, ApiToken]:
    """A new random token and its row; only its hash is stored, so it is shown to the caller once.

    It expires ``lifetime_days`` (the setting) after ``now``, or after ``days`` when a shorter life
    is asked; a longer one than the setting allows is refused."""
    if days is not None and not 1 <= days <= lifetime_days:
        raise InvalidInput(
            f"Masa berlaku token 1 sampai {lifetime_days} hari (NASKAH_TOKEN_LIFETIME_DAYS).",
            field="hari",
            max=lifetime_days,
        )
    if not user.active:
        raise InvalidInput(
            f"Pengguna '{user.username}' nonaktif; aktifkan dahulu.", reason="user_inactive", username=user.username
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    assert user.id is not None
    start = as_utc(now) if now else utcnow()
    row = ApiToken(
        user_id=user.id,
        token_hash=hash_token(token),
        label=label[:100],
        created_at=start,
        expires_at=start + timedelta(days=days or lifetime_days),
    )
    session.add(row)
    session.flush()
    return token, row


def issue_token(session: Session, user: User, label: str = "", *, lifetime_days: int = DEFAULT_TOKEN_DAYS) -> str:
    """A new token (see :func:`new_token`) with the full lifetime."""
    return new_token(session, user, label, lifetime_days=lifetime_days)[0]


def authenticate(session: Session, token: str | None, *, now: datetime | None = None) -> User:
    """The user a bearer token belongs to, if the token is good now: known, not revoked, not expired,
    its user active.  Every request (and any middleware before the routes) decides it here."""
    if not token:
        raise Unauthenticated(
            "Token akses tidak ada. Kirim header 'Authorization: Bearer <token>'; token diterbitkan admin.",
            reason="missing_token",
        )
    found = session.exec(  # one round trip: every API request starts here
        select(ApiToken, User)
        .join(User, col(User.id) == col(ApiToken.user_id))
        .where(ApiToken.token_hash == hash_token(token))
    ).first()
    if found is None:
        raise Unauthenticated("Token akses tidak dikenal. Minta token kepada admin.", reason="invalid_token")
    row, user = found
    if row.revoked_at is not None:
        raise Unauthenticated("Token akses ini sudah dicabut. Minta token baru kepada admin.", reason="token_revoked")
    moment = as_utc(now) if now else utcnow()
    if row.expires_at <= moment:
        raise Unauthenticated(
            f"Token akses ini kedaluwarsa sejak {row.expires_at:%Y-%m-%d %H:%M} UTC. Minta token baru kepada admin.",
            reason="token_expired",
            expired_at=row.expires_at.isoformat(),
        )
    if not user.active:
        raise Unauthenticated(
            f"Akun '{user.username}' dinonaktifkan; tokennya tidak berlaku. Hubungi admin.", reason="user_inactive"
        )
    return user


def allowed(user: User, permission: str) -> bool:
    """Whether ``user``'s roles give ``permission`` (what :func:`require` checks; a page uses it to
    show a button only to those the pipeline would let through)."""
    return bool(user.role_set & {r.value for r in PERMISSIONS[permission]})


def require(user: User, permission: str) -> None:
    needed = PERMISSIONS[permission]
    if not allowed(user, permission):
        names = ", ".join(sorted(r.value for r in needed))
        raise NotPermitted(
            f"Tindakan ini memerlukan peran: {names}. Peran Anda: {user.roles or '-'}.",
            needed=sorted(r.value for r in needed),
            held=sorted(user.role_set),
        )


def revoke_tokens(session: Session, user: User) -> int:
    rows = session.exec(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))).all()  # type: ignore[union-attr]
    for row in rows:
        row.revoked_at = utcnow()
        session.add(row)
    return len(rows)


def set_active(session: Session, user: User, active: bool) -> int:
    """Deactivate (or reactivate) an account.  Deactivating also revokes its tokens, so they fail at
    once and stay failed after a reactivation (issue a new one then), and signs out every browser of
    it (its web sessions are deleted); returns the tokens revoked."""
    user.active = active
    session.add(user)
    revoked = 0 if active else revoke_tokens(session, user)
    if not active:
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.flush()
    return revoked


# --- managing users and their tokens (the ``naskah user`` commands, the admin API) ----------


def get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"Pengguna '{username}' tidak ditemukan (lihat: naskah user list).", username=username)
    return user


def list_users(session: Session, *, now: datetime | None = None) -> list[tuple[User, int]]:
    """Every user with the number of its tokens still valid (not revoked, not expired), by username."""
    moment = as_utc(now) if now else utcnow()
    counts = dict(
        session.exec(
            select(ApiToken.user_id, func.count())
            .where(col(ApiToken.revoked_at).is_(None), col(ApiToken.expires_at) > moment)
            .group_by(col(ApiToken.user_id))
        ).all()
    )
    users = session.exec(select(User).order_by(col(User.username))).all()
    return [(user, int(counts.get(user.id, 0))) for user in users]


def active_tokens(session: Session, user: User, *, now: datetime | None = None) -> list[ApiToken]:
    """The user's tokens still valid (not revoked, not expired), oldest first (only their id, label and
    dates can be shown)."""
    moment = as_utc(now) if now else utcnow()
    return [t for t in user_tokens(session, user) if t.revoked_at is None and t.expires_at > moment]


def user_tokens(session: Session, user: User) -> list[ApiToken]:
    """Every token of the user, valid or not, oldest first."""
    return list(session.exec(select(ApiToken).where(ApiToken.user_id == user.id).order_by(col(ApiToken.id))).all())


def token_status(token: ApiToken, *, now: datetime | None = None) -> str:
    """``berlaku``, ``kedaluwarsa`` or ``dicabut``."""
    if token.revoked_at is not None:
        return "dicabut"
    return "berlaku" if token.expires_at > (as_utc(now) if now else utcnow()) else "kedaluwarsa"


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s tokens by its id; a token of someone else is not found."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"Pengguna '{user.username}' tidak memiliki token #{token_id}.", token_id=token_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
    return row
