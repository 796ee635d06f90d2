"""User administration, audited: accounts, their tokens and registered certificates.

The admin API (``/api/v1/admin/…``) and the ``naskah user`` commands call these; each change is
an audit entry (``pipeline.audit``) in the same transaction, naming the account (``detail.username``)
and what changed, never a token.  ``actor`` is the admin acting (None: the command line, recorded
as the system).  The checks on the fields themselves are ``pipeline.auth``'s.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from pipeline import audit
from pipeline.auth import (
    DEFAULT_TOKEN_DAYS,
    create_user,
    get_user,
    new_token,
    require,
    revoke_token,
    revoke_tokens,
    set_active,
    update_user,
)
from pipeline.errors import InvalidInput
from pipeline.identity import register_certificate, remove_certificate
from pipeline.lifecycle import Role
from pipeline.models import ApiToken, User, UserCertificate
from pipeline.sop import Profile

__all__ = [
    "add_user",
    "change_user",
    "issue",
    "register",
    "revoke",
    "revoke_all",
    "set_user_active",
    "unregister",
]


def _admin(actor: User | None) -> None:
    if actor is not None:
        require(actor, "manage_users")


def add_user(
    session: Session,
    actor: User | None,
    profile: Profile,
    *,
    token_label: str = "",
    lifetime_days: int = DEFAULT_TOKEN_DAYS,
    token_days: int | None = None,
    **fields: Any,
) -> tuple[User, str, ApiToken]:
    """A new account (fields as ``auth.create_user``; positions checked against ``profile``) and its
    first token, shown once."""
    _admin(actor)
    user = create_user(session, known_posisi=profile.positions.keys(), **fields)
    token, row = new_token(session, user, token_label, lifetime_days=lifetime_days, days=token_days)
    audit.record(
        session,
        actor,
        audit.AuditAction.USER_ADD,
        username=user.username,
        roles=sorted(user.role_set),
        posisi=sorted(user.posisi_set),
        opd=user.opd,
        pihak_luar=user.pihak_luar,
        instansi=user.instansi,
        token_id=row.id,
    )
    return user, token, row


def change_user(session: Session, actor: User | None, profile: Profile, username: str, **changes: Any) -> User:
    """Change an account's roles, positions, jabatan, NIP/NIK, OPD, pihak luar/dalam (those given)."""
    _admin(actor)
    user = get_user(session, username)
    if actor is not None and actor.id == user.id and "roles" in changes:
        kept = {r.strip().lower() for raw in changes["roles"] for r in str(raw).split(",")}
        if Role.ADMIN.value not in kept:
            raise InvalidInput("Admin tidak dapat mencabut peran admin dari dirinya sendiri.", reason="self_lockout")
    fields = update_user(session, user, known_posisi=profile.positions.keys(), **changes)
    audit.record(
        session,
        actor,
        audit.AuditAction.USER_UPDATE,
        username=user.username,
        fields=fields,
        **{name: _shown(getattr(user, name)) for name in fields},
    )
    return user


def _shown(value: Any) -> Any:
    return value if isinstance(value, bool | int | type(None)) else str(value)


def set_user_active(session: Session, actor: User | None, username: str, active: bool) -> tuple[User, int]:
    """Deactivate (its tokens revoked: they fail at once) or reactivate an account."""
    _admin(actor)
    user = get_user(session, username)
    if actor is not None and actor.id == user.id and not active:
        raise InvalidInput("Admin tidak dapat menonaktifkan akunnya sendiri.", reason="self_lockout")
    revoked = set_active(session, user, active)
    audit.record(
        session,
        actor,
        audit.AuditAction.USER_REACTIVATE if active else audit.AuditAction.USER_DEACTIVATE,
        username=user.username,
        tokens_revoked=revoked,
    )
    return user, revoked


def issue(
    session: Session,
    actor: User | None,
    username: str,
    label: str = "",
    *,
    lifetime_days: int = DEFAULT_TOKEN_DAYS,
    days: int | None = None,
) -> tuple[str, ApiToken]:
    """A new token for the account (its lifetime the setting's, or ``days`` when shorter)."""
    _admin(actor)
    user = get_user(session, username)
    token, row = new_token(session, user, label, lifetime_days=lifetime_days, days=days)
    audit.record(
        session,
        actor,
        audit.AuditAction.TOKEN_ISSUE,
        username=user.username,
        token_id=row.id,
        label=row.label,
        expires_at=row.expires_at.isoformat(),
    )
    return token, row


def revoke(session: Session, actor: User | None, username: str, token_id: int) -> ApiToken:
    _admin(actor)
    user = get_user(session, username)
    row = revoke_token(session, user, token_id)
    audit.record(session, actor, audit.AuditAction.TOKEN_REVOKE, username=user.username, token_id=row.id)
    return row


def revoke_all(session: Session, actor: User | None, username: str) -> int:
    _admin(actor)
    user = get_user(session, username)
    count = revoke_tokens(session, user)
    audit.record(session, actor, audit.AuditAction.TOKEN_REVOKE, username=user.username, count=count)
    return count


def register(
    session: Session,
    actor: User | None,
    username: str,
    certificate: bytes | None = None,
    sha256: str | None = None,
) -> UserCertificate:
    """Register a signing certificate (PEM/DER, or its sha256) as the account's (``pipeline.identity``)."""
    _admin(actor)
    user = get_user(session, username)
    row = register_certificate(session, user, certificate, sha256)
    audit.record(
        session,
        actor,
        audit.AuditAction.CERTIFICATE_REGISTER,
        username=user.username,
        sha256=row.sha256,
        subject=row.subject or None,
    )
    return row


def unregister(session: Session, actor: User | None, username: str, sha256: str) -> UserCertificate:
    _admin(actor)
    user = get_user(session, username)
    row = remove_certificate(session, user, sha256)
    audit.record(session, actor, audit.AuditAction.CERTIFICATE_REMOVE, username=user.username, sha256=row.sha256)
    return row
