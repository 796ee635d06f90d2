"""Users, their roles, and bearer tokens (kept only as sha256 hashes).

Who may do lifecycle steps is in ``pipeline.lifecycle``; the few permissions outside
the lifecycle (reading, creating a case, managing users) are the table below.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable

from sqlmodel import Session, col, func, select

from pipeline.errors import Conflict, InvalidInput, NotFound, NotPermitted, Unauthenticated
from pipeline.lifecycle import Role
from pipeline.models import ApiToken, User, utcnow
from pipeline.textcheck import text_problem

__all__ = [
    "PERMISSIONS",
    "active_tokens",
    "authenticate",
    "create_user",
    "get_user",
    "hash_token",
    "issue_token",
    "list_users",
    "parse_roles",
    "require",
    "revoke_token",
]

# What each non-lifecycle operation needs (any one of the roles).
PERMISSIONS: dict[str, frozenset[Role]] = {
    "read": frozenset({Role.DRAFTER, Role.LEGAL, Role.PARAF, Role.SIGNER, Role.SECRETARIAT}),
    "create_case": frozenset({Role.DRAFTER}),
    "edit_case": frozenset({Role.DRAFTER}),
    "create_naskah": frozenset({Role.DRAFTER}),
    "manage_users": frozenset({Role.ADMIN}),
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
                raise InvalidInput(f"Peran '{name}' tidak dikenal. Pilihan: {valid}.", role=name) from None
    if not out:
        raise InvalidInput("Setidaknya satu peran harus diberikan.")
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
) -> User:
    """A new user.  ``posisi`` are SOP profile positions (e.g. ``sekda``) that decide whose turn a
    paraf is; when ``known_posisi`` is given, unknown ones are refused.  ``nip`` (civil servants) and
    ``nik`` (officials who are not, e.g. a Bupati) are matched against signing certificates."""
    if not _USERNAME.match(username):
        raise InvalidInput(
            "Nama pengguna hanya boleh huruf kecil, angka, titik, garis bawah atau strip (2-64 karakter).",
            username=username,
        )
    for field, value in (("nama", nama), ("jabatan", jabatan)):
        problem = text_problem(value)
        if problem is not None:
            raise InvalidInput(f"Isian {field} {problem}.", field=field)
    if session.exec(select(User).where(User.username == username)).first():
        raise Conflict(f"Pengguna '{username}' sudah ada.", username=username)
    wanted = sorted({p.strip() for raw in posisi for p in str(raw).split(",") if p.strip()})
    if known_posisi is not None:
        unknown = sorted(set(wanted) - set(known_posisi))
        if unknown:
            choices = ", ".join(sorted(known_posisi))
            raise InvalidInput(
                f"Posisi {', '.join(unknown)} tidak ada di profil SOP. Pilihan: {choices}.", posisi=unknown
            )
    user = User(
        username=username,
        posisi=",".join(wanted),
        nama=nama.strip(),
        jabatan=jabatan.strip(),
        nip=nip,
        nik=_nik(nik),
        roles=",".join(r.value for r in parse_roles(roles)),
    )
    session.add(user)
    session.flush()
    return user


def _nik(nik: str | None) -> str | None:
    if not nik or not nik.strip():
        return None
    value = nik.strip()
    if not (len(value) == 16 and value.isdigit()):
        raise InvalidInput("NIK harus 16 digit angka.", field="nik")
    return value


def issue_token(session: Session, user: User, label: str = "") -> str:
    """A new random token; only its hash is stored, so it is shown to the caller once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    assert user.id is not None
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), label=label))
    session.flush()
    return token


def authenticate(session: Session, token: str | None) -> User:
    if not token:
        raise Unauthenticated()
    user = session.exec(  # one round trip: every API request starts here
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)  # type: ignore[arg-type]
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))  # type: ignore[union-attr]
    ).first()
    if user is None or not user.active:
        raise Unauthenticated()
    return user


def require(user: User, permission: str) -> None:
    needed = PERMISSIONS[permission]
    if not user.role_set & {r.value for r in needed}:
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


# --- managing users and their tokens (the ``naskah user`` commands) -------------------------


def get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"Pengguna '{username}' tidak ditemukan (lihat: naskah user list).", username=username)
    return user


def list_users(session: Session) -> list[tuple[User, int]]:
    """Every user with the number of its tokens still valid, by username."""
    counts = dict(
        session.exec(
            select(ApiToken.user_id, func.count())
            .where(col(ApiToken.revoked_at).is_(None))
            .group_by(col(ApiToken.user_id))
        ).all()
    )
    users = session.exec(select(User).order_by(col(User.username))).all()
    return [(user, int(counts.get(user.id, 0))) for user in users]


def active_tokens(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens not revoked, oldest first (only their id, label and date can be shown)."""
    return list(
        session.exec(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, col(ApiToken.revoked_at).is_(None))
            .order_by(col(ApiToken.id))
        ).all()
    )


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s tokens by its id; a token of someone else is not found."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"Pengguna '{user.username}' tidak memiliki token #{token_id}.", token_id=token_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
    return row
