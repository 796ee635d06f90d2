"""Signing people in to the web pages: passwords, server-side sessions, and the brake on guessing.

The API keeps its bearer tokens (``pipeline.auth``); a browser signs in with a username and a
password instead, and then carries a session id in a cookie.  The rules, kept here so that every
entry point (the sign-in page, ``naskah user password``, the demo) applies the same ones:

- **Passwords** are stored only as argon2id hashes (argon2-cffi's defaults, RFC 9106's second
  recommended set: 64 MiB, 3 passes, 4 lanes); a hash made with weaker parameters is upgraded at the
  next good sign-in.  A password is 10-256 characters and not the username (:func:`password_problem`).
  Setting or changing a password ends every session of that user (a stolen browser is signed out).
- **Sessions** are rows of ``web_session`` holding the sha256 of the session id, never the id: a
  database leak gives no usable session.  A session ends when its owner signs out (the row is
  deleted), after ``idle`` without a request, after ``max_age`` whatever the activity, when its user
  is deactivated (``auth.set_active``) or their password changes.  Each session has its own CSRF
  token, which every form and htmx request sends back (``api/web``).
- **Guessing is braked**: a failed sign-in is a ``signin_failure`` row under the username and under
  the client address, so every process of the app counts the same attempts.  Over the limit within
  the window the sign-in is refused without looking at the password (:class:`TooManyAttempts`,
  saying at what time to try again).  An unknown username costs the same work as a known one.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, delete, select

from pipeline import audit
from pipeline.auth import get_user, require
from pipeline.errors import InvalidInput, TooManyAttempts, Unauthenticated
from pipeline.models import SignInFailure, User, WebSession, as_utc, utcnow

__all__ = [
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "SessionPolicy",
    "change_own_password",
    "csrf_matches",
    "end_session",
    "end_user_sessions",
    "generate_password",
    "hash_password",
    "live_sessions",
    "password_problem",
    "resume_session",
    "set_password",
    "sign_in",
    "start_session",
]

log = logging.getLogger(__name__)

MIN_PASSWORD = 10
MAX_PASSWORD = 256
_hasher = PasswordHasher()  # argon2id
#: Verified against when the username is unknown, so that answer takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
#: A session's last request is written at most this often (not on every page view).
_TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class SessionPolicy:
    """How long a session lives and how hard guessing is braked (``NASKAH_SESSION_*`` settings)."""

    idle: timedelta = timedelta(minutes=30)
    """A session with no request for this long has ended (``NASKAH_SESSION_IDLE_MINUTES``)."""
    max_age: timedelta = timedelta(hours=12)
    """A session ends this long after sign-in, however active (``NASKAH_SESSION_MAX_HOURS``)."""
    failures_per_user: int = 5
    """Failed sign-ins for one username within ``window`` before its sign-ins are refused for a while."""
    failures_per_address: int = 20
    """Failed sign-ins from one client address (any usernames) within ``window``, likewise."""
    window: timedelta = timedelta(minutes=15)


# --- passwords -----------------------------------------------------------------------------------


def password_problem(password: str, username: str = "") -> str | None:
    """What is wrong with a new password, in Indonesian, or None.  Length, not composition rules
    (NIST SP 800-63B): a long phrase a person remembers beats a short one with a digit."""
    if len(password) < MIN_PASSWORD:
        return f"Kata sandi paling sedikit {MIN_PASSWORD} karakter."
    if len(password) > MAX_PASSWORD:
        return f"Kata sandi paling banyak {MAX_PASSWORD} karakter."
    if not password.strip():
        return "Kata sandi tidak boleh hanya spasi."
    if username and password.strip().lower() == username.lower():
        return "Kata sandi tidak boleh sama dengan nama pengguna."
    return None


#: What a generated one-time password is made of: no 0/O, 1/l/I look-alikes, so it reads out and types well.
_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def generate_password() -> str:
    """A one-time password an admin hands over (16 characters in four groups, ~93 bits: well over the
    length rule, and easy to read out over the phone)."""
    groups = ["".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4)]
    return "-".join(groups)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def set_password(session: Session, actor: User | None, username: str, password: str, *, field: str = "password") -> int:
    """Give ``username`` a new password (the CLI, an admin, the demo: ``actor`` None is the command
    line); every session of that user ends.  Returns the sessions ended.  Audited, without the password."""
    if actor is not None:
        require(actor, "manage_users")
    user = get_user(session, username)
    problem = password_problem(password, user.username)
    if problem:
        raise InvalidInput(problem, field=field, reason="password_weak")
    user.password_hash = hash_password(password)
    session.add(user)
    ended = end_user_sessions(session, user)
    audit.record(session, actor, audit.AuditAction.USER_PASSWORD, username=user.username, sessions_ended=ended)
    return ended


def change_own_password(session: Session, user: User, current: str, new: str, confirm: str) -> int:
    """The signed-in user changes their own password ("Ubah kata sandi"): the current one must be
    right, the new one acceptable and typed twice the same.  Every session of the user ends (the
    page then starts a fresh one for this browser).  Each refusal names its field."""
    if not current:
        raise InvalidInput("Isi kata sandi Anda yang sekarang.", field="password_lama", reason="password_missing")
    if not _verify(user.password_hash, current):
        raise InvalidInput("Kata sandi sekarang salah.", field="password_lama", reason="wrong_password")
    problem = password_problem(new, user.username)
    if problem:
        raise InvalidInput(problem, field="password_baru", reason="password_weak")
    if new != confirm:
        raise InvalidInput(
            "Ulangan kata sandi baru tidak sama dengan kata sandi baru.", field="konfirmasi", reason="password_mismatch"
        )
    if new == current:
        raise InvalidInput(
            "Kata sandi baru sama dengan yang sekarang; pilih yang lain.", field="password_baru", reason="password_same"
        )
    user.password_hash = hash_password(new)
    session.add(user)
    ended = end_user_sessions(session, user)
    audit.record(session, user, audit.AuditAction.USER_PASSWORD, username=user.username, sessions_ended=ended)
    return ended


# --- signing in, and the brake on guessing ------------------------------------------------------


def _keys(username: str, address: str) -> tuple[str, str]:
    return f"user:{username.strip().lower()[:100]}", f"addr:{address[:100]}"


def _retry_at(session: Session, key: str, limit: int, policy: SessionPolicy, now: datetime) -> datetime | None:
    """When ``key`` may try again, or None when it may now: the moment enough of its failures in the
    window have aged out of it that fewer than ``limit`` remain."""
    times = session.exec(
        select(SignInFailure.at)
        .where(SignInFailure.key == key, col(SignInFailure.at) > now - policy.window)
        .order_by(col(SignInFailure.at).desc())
        .limit(limit)
    ).all()
    if len(times) < limit:
        return None
    return as_utc(times[-1]) + policy.window


def _locked_until(
    session: Session, username: str, address: str, policy: SessionPolicy, now: datetime
) -> datetime | None:
    user_key, addr_key = _keys(username, address)
    waits = [
        t
        for t in (
            _retry_at(session, user_key, policy.failures_per_user, policy, now),
            _retry_at(session, addr_key, policy.failures_per_address, policy, now),
        )
        if t is not None
    ]
    return max(waits) if waits else None


def sign_in(
    session: Session,
    username: str,
    password: str,
    address: str,
    *,
    policy: SessionPolicy,
    tz: tzinfo,
    now: datetime | None = None,
) -> User:
    """The user whose username and password these are, or a refusal.  Refused at once while the
    username or the address has too many recent failures (:class:`TooManyAttempts`, saying when, in
    ``tz``); a failure is recorded and said without telling whether the username exists.

    The failure rows are written in the caller's session: the caller commits them even though the
    sign-in raised (the sign-in page does)."""
    moment = as_utc(now) if now else utcnow()
    name = username.strip().lower()
    until = _locked_until(session, name, address, policy, moment)
    if until is not None:
        wait = max(1, int((until - moment).total_seconds()))
        minutes = max(1, -(-wait // 60))
        raise TooManyAttempts(
            "Terlalu banyak percobaan masuk yang gagal. Demi keamanan, coba lagi pukul "
            f"{until.astimezone(tz):%H.%M} (sekitar {minutes} menit lagi), atau minta admin mengatur ulang "
            "kata sandi Anda.",
            reason="too_many_attempts",
            retry_after=wait,
            retry_at=until.isoformat(),
            field="username",
        )
    user = session.exec(select(User).where(User.username == name)).first() if name else None
    good = _verify(user.password_hash if user else None, password)
    if not good or user is None or not user.active:
        session.add_all(SignInFailure(key=key, at=moment) for key in _keys(name, address))
        session.execute(delete(SignInFailure).where(col(SignInFailure.at) <= moment - policy.window))
        session.flush()
        log.info("sign-in failed for %r from %s", name[:64], address)
        if good and user is not None and not user.active:
            raise Unauthenticated("Akun ini dinonaktifkan. Hubungi admin.", reason="user_inactive", field="username")
        raise Unauthenticated(
            "Nama pengguna atau kata sandi salah. Periksa keduanya (huruf besar/kecil kata sandi berpengaruh).",
            reason="wrong_credentials",
            field="password",
        )
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
        session.add(user)
    session.execute(delete(SignInFailure).where(SignInFailure.key == _keys(name, address)[0]))
    session.flush()
    return user


# --- sessions ---------------------------------------------------------------------------------------


def _hash_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(
    session: Session, user: User, *, policy: SessionPolicy, now: datetime | None = None
) -> tuple[str, WebSession]:
    """A new session for ``user``: its id (for the cookie; only its hash is stored) and its row."""
    moment = as_utc(now) if now else utcnow()
    assert user.id is not None
    session_id = secrets.token_urlsafe(32)
    row = WebSession(
        user_id=user.id,
        id_hash=_hash_id(session_id),
        csrf_token=secrets.token_urlsafe(32),
        created_at=moment,
        last_seen_at=moment,
        expires_at=moment + policy.max_age,
    )
    session.add(row)
    session.flush()
    return session_id, row


def resume_session(
    session: Session, session_id: str | None, *, policy: SessionPolicy, now: datetime | None = None
) -> tuple[User, WebSession]:
    """The user and session a cookie's session id belongs to, if the session is still good; an
    ended one is deleted.  Refusals say why (``detail.reason``: ``session_missing``,
    ``session_unknown``, ``session_idle``, ``session_expired``, ``user_inactive``)."""
    if not session_id:
        raise Unauthenticated("Silakan masuk terlebih dahulu.", reason="session_missing")
    found = session.exec(
        select(WebSession, User)
        .join(User, col(User.id) == col(WebSession.user_id))
        .where(WebSession.id_hash == _hash_id(session_id))
    ).first()
    if found is None:
        raise Unauthenticated("Sesi Anda sudah berakhir. Silakan masuk kembali.", reason="session_unknown")
    row, user = found
    moment = as_utc(now) if now else utcnow()
    reason = None
    if row.expires_at <= moment:
        reason, message = "session_expired", "Sesi Anda sudah mencapai batas waktunya. Silakan masuk kembali."
    elif row.last_seen_at + policy.idle <= moment:
        reason, message = "session_idle", "Sesi Anda berakhir karena lama tidak ada kegiatan. Silakan masuk kembali."
    elif not user.active:
        reason, message = "user_inactive", "Akun Anda dinonaktifkan. Hubungi admin."
    if reason is not None:
        session.delete(row)
        session.flush()
        raise Unauthenticated(message, reason=reason)
    if moment - row.last_seen_at >= _TOUCH_EVERY:
        row.last_seen_at = moment
        session.add(row)
        session.flush()
    return user, row


def end_session(session: Session, session_id: str | None) -> bool:
    """Sign a browser out: its session row is deleted (True if there was one)."""
    if not session_id:
        return False
    result = session.execute(delete(WebSession).where(WebSession.id_hash == _hash_id(session_id)))
    session.flush()
    return bool(result.rowcount)


def end_user_sessions(session: Session, user: User) -> int:
    """Sign every browser of ``user`` out; returns how many sessions ended."""
    result = session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.flush()
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class LiveSession:
    """A signed-in browser as an admin sees it: whose, since when, last request, when it ends (the
    earlier of its absolute end and its idle end).  Never its id or CSRF token."""

    id: int
    username: str
    nama: str
    created_at: datetime
    last_seen_at: datetime
    ends_at: datetime


def live_sessions(
    session: Session, *, policy: SessionPolicy, user: User | None = None, now: datetime | None = None
) -> list[LiveSession]:
    """The sessions still good now (not past ``max_age``, not idle), of ``user`` or of everyone, the most
    recently active first.  Ended ones still in the table (nobody came back) are not listed."""
    moment = as_utc(now) if now else utcnow()
    query = (
        select(WebSession, User)
        .join(User, col(User.id) == col(WebSession.user_id))
        .where(col(WebSession.expires_at) > moment, col(WebSession.last_seen_at) > moment - policy.idle)
        .order_by(col(WebSession.last_seen_at).desc(), col(WebSession.id).desc())
    )
    if user is not None:
        query = query.where(WebSession.user_id == user.id)
    out = []
    for row, owner in session.exec(query).all():
        assert row.id is not None
        ends = min(as_utc(row.expires_at), as_utc(row.last_seen_at) + policy.idle)
        out.append(LiveSession(row.id, owner.username, owner.nama, row.created_at, row.last_seen_at, ends))
    return out


def csrf_matches(row: WebSession, sent: str | None) -> bool:
    """Whether a request carries this session's CSRF token (compared in constant time)."""
    return bool(sent) and hmac.compare_digest(row.csrf_token.encode(), str(sent).encode())
