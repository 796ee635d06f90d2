"""User administration, audited: accounts, their tokens and registered certificates.

The admin API (``/api/v1/admin/…``) and the ``naskah user`` commands call these; each change is
an audit entry (``pipeline.audit``) in the same transaction, naming the account (``detail.username``)
and what changed, never a token.  ``actor`` is the admin acting (None: the command line, recorded
as the system).  The checks on the fields themselves are ``pipeline.auth``'s.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, delete, select

from pipeline import audit
from pipeline.auth import (
    DEFAULT_TOKEN_DAYS,
    create_user,
    get_user,
    list_users,
    new_token,
    require,
    revoke_token,
    revoke_tokens,
    set_active,
    update_user,
)
from pipeline.errors import InvalidInput, NotFound
from pipeline.identity import register_certificate, remove_certificate
from pipeline.lifecycle import Role
from pipeline.models import ApiToken, User, UserCertificate, WebSession, as_utc, utcnow
from pipeline.signin import (
    LiveSession,
    SessionPolicy,
    end_user_sessions,
    generate_password,
    live_sessions,
    set_password,
)
from pipeline.sop import Profile

__all__ = [
    "add_user",
    "add_web_user",
    "change_user",
    "end_session",
    "end_sessions",
    "find_users",
    "issue",
    "may_deactivate",
    "register",
    "reset_password",
    "revoke",
    "revoke_all",
    "sessions",
    "set_user_active",
    "unregister",
    "valid_tokens",
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
    _record_add(session, actor, user, token_id=row.id)
    return user, token, row


def add_web_user(
    session: Session, actor: User | None, profile: Profile, *, password: str | None = None, **fields: Any
) -> tuple[User, str | None]:
    """A new account that signs in to the web pages (the admin's "Tambah pengguna"): no API token (one
    nobody was shown would only be a live credential lying about), and a first password, the admin's
    (``password``) or generated; the generated one is returned to be shown once, else None."""
    _admin(actor)
    user = create_user(session, known_posisi=profile.positions.keys(), **fields)
    _record_add(session, actor, user, token_id=None)
    generated, _ended = reset_password(session, actor, user.username, password)
    return user, generated


def _record_add(session: Session, actor: User | None, user: User, *, token_id: int | None) -> None:
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
        token_id=token_id,
    )


def find_users(
    session: Session,
    actor: User | None,
    *,
    q: str = "",
    role: str = "",
    active: bool | None = None,
    now: datetime | None = None,
) -> list[tuple[User, int]]:
    """The accounts matching a search (``q`` in username, nama, jabatan, NIP, NIK, OPD or instansi, any
    case), a role, and active or not; each with its count of valid tokens (``auth.list_users``)."""
    _admin(actor)
    words = q.lower().split()
    out = []
    for user, tokens in list_users(session, now=now):
        text = " ".join(
            str(v or "") for v in (user.username, user.nama, user.jabatan, user.nip, user.nik, user.opd, user.instansi)
        ).lower()
        if any(w not in text for w in words):
            continue
        if role and role not in user.role_set:
            continue
        if active is not None and user.active != active:
            continue
        out.append((user, tokens))
    return out


def reset_password(
    session: Session, actor: User | None, username: str, password: str | None = None
) -> tuple[str | None, int]:
    """Give an account a new password (the admin's, checked like any, or a generated one when none is
    given); every session of it ends (``signin.set_password``, audited without the password).  Returns
    the generated password, to be shown once (None when the admin chose it), and the sessions ended."""
    _admin(actor)
    generated = None if password else generate_password()
    ended = set_password(session, actor, username, password or generated or "")
    return generated, ended


def sessions(
    session: Session, actor: User | None, *, policy: SessionPolicy, username: str | None = None
) -> list[LiveSession]:
    """The signed-in browsers now, of one account or of everyone (never a session id)."""
    _admin(actor)
    user = get_user(session, username) if username else None
    return live_sessions(session, policy=policy, user=user)


def valid_tokens(
    session: Session, actor: User | None, *, username: str | None = None, now: datetime | None = None
) -> list[tuple[User, ApiToken]]:
    """The API tokens still valid (not revoked, not expired), of one account or of everyone, the newest
    first (their id, label and dates only: the token itself was shown once and is not kept)."""
    _admin(actor)
    moment = as_utc(now) if now else utcnow()
    query = (
        select(ApiToken, User)
        .join(User, col(User.id) == col(ApiToken.user_id))
        .where(col(ApiToken.revoked_at).is_(None), col(ApiToken.expires_at) > moment)
        .order_by(col(ApiToken.created_at).desc(), col(ApiToken.id).desc())
    )
    if username:
        query = query.where(ApiToken.user_id == get_user(session, username).id)
    return [(user, row) for row, user in session.exec(query).all()]


def end_session(session: Session, actor: User | None, session_id: int) -> str:
    """Sign one browser out (its session row deleted: its next request goes to the sign-in page);
    returns whose it was.  An unknown id (or one already ended) is not found."""
    _admin(actor)
    row = session.get(WebSession, session_id)
    owner = session.get(User, row.user_id) if row is not None else None
    if row is None or owner is None:
        raise NotFound(f"Sesi #{session_id} tidak ada atau sudah berakhir.", session_id=session_id)
    session.execute(delete(WebSession).where(WebSession.id == session_id))  # type: ignore[arg-type]
    session.flush()
    audit.record(session, actor, audit.AuditAction.SESSION_END, username=owner.username, session_id=session_id)
    return owner.username


def end_sessions(session: Session, actor: User | None, username: str) -> int:
    """Sign every browser of an account out; returns how many sessions ended."""
    _admin(actor)
    user = get_user(session, username)
    ended = end_user_sessions(session, user)
    audit.record(session, actor, audit.AuditAction.SESSION_END, username=user.username, count=ended)
    return ended


def change_user(session: Session, actor: User | None, profile: Profile, username: str, **changes: Any) -> User:
    """Change an account's roles, positions, jabatan, NIP/NIK, OPD, pihak luar/dalam (those given)."""
    _admin(actor)
    user = get_user(session, username)
    kept = {r.strip().lower() for raw in changes.get("roles") or [] for r in str(raw).split(",") if r.strip()}
    if kept:  # None or empty: roles unchanged, or refused by ``parse_roles`` with its own message
        if actor is not None and actor.id == user.id and Role.ADMIN.value not in kept:
            raise InvalidInput(
                "Admin tidak dapat mencabut peran admin dari dirinya sendiri. Minta admin lain bila perlu.",
                reason="self_lockout",
                field="roles",
            )
        _keep_an_admin(session, user, active=user.active, roles=kept)
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


def _keep_an_admin(session: Session, user: User, *, active: bool, roles: set[str]) -> None:
    """Refuse a change that would leave no active admin (nobody could then manage accounts but the
    command line on the server).  Every active admin's row, this one's included, is read FOR UPDATE in
    id order: two admins deactivating each other at the same moment on PostgreSQL queue up (no
    deadlock), and the second then sees the first's change and is refused."""
    if not user.active or Role.ADMIN.value not in user.role_set:
        return  # not an active admin now: the count of admins does not go down
    if active and Role.ADMIN.value in roles:
        return
    admins = session.exec(
        select(User)
        .where(col(User.active).is_(True), col(User.roles).contains(Role.ADMIN.value))
        .order_by(col(User.id))
        .with_for_update()
    ).all()
    if not any(other.id != user.id and Role.ADMIN.value in other.role_set for other in admins):
        raise InvalidInput(
            f"'{user.username}' adalah satu-satunya admin aktif; tambahkan atau aktifkan admin lain lebih dahulu.",
            reason="last_admin",
            username=user.username,
        )


def _shown(value: Any) -> Any:
    return value if isinstance(value, bool | int | type(None)) else str(value)


def may_deactivate(session: Session, actor: User | None, username: str) -> User:
    """The account, when ``actor`` may deactivate it: not their own account (an admin locking
    themselves out), and not the last active admin.  Else the refusal, said so the admin can act."""
    _admin(actor)
    user = get_user(session, username)
    if actor is not None and actor.id == user.id:
        raise InvalidInput(
            "Admin tidak dapat menonaktifkan akunnya sendiri. Minta admin lain bila perlu.", reason="self_lockout"
        )
    _keep_an_admin(session, user, active=False, roles=set(user.role_set))
    return user


def set_user_active(session: Session, actor: User | None, username: str, active: bool) -> tuple[User, int]:
    """Deactivate (its tokens revoked: they fail at once) or reactivate an account."""
    if active:
        _admin(actor)
        user = get_user(session, username)
    else:
        user = may_deactivate(session, actor, username)
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
