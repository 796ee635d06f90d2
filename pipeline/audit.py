"""The audit trail: every action appended to ONE hash chain, in the transaction of the action.

Each entry records who did what, when, to which object (its sha256) and a small JSON detail;
``entry_hash`` is the sha256 of a canonical serialisation of every other field, ``prev_hash``
included, and the first entry's ``prev_hash`` is 64 zeros.  Editing, removing or reordering an
entry therefore breaks the chain, and ``verify_chain`` names the first entry where it breaks.

Appends are serialised so the chain cannot fork: ``record`` first updates the one-row
``audit_head`` (a row lock on PostgreSQL, the write lock on SQLite), held until the caller's
transaction ends; ``UNIQUE(prev_hash)`` is the second guard.  The head also names the newest
entry, so removing the newest entries is noticed too.  Because the entry is written in the
caller's transaction, a failed action leaves no entry and a committed action always has one.
Call ``record`` last in a transaction: the head lock is then held for the shortest time.  Never
append from a second session while a first one that has appended is still open (the second
would wait for the first, i.e. for itself).

Reads that change nothing in the database (downloads, verification) use ``record_now``, which
commits the entry before the bytes are handed out.

Who reads it: the trail of one naskah (:func:`trail`) whoever may see the naskah's internal material
(``pipeline.access``); the whole trail (:func:`search`) and the chain check (:func:`check_chain`) only
the roles that answer for it (:data:`READERS`: admin, the secretariat, Bagian Hukum), never a
counterparty's official.  A chain check is itself an entry (``verify_chain``) holding its result, as a
PDF's verification is (``verify``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from pipeline import access
from pipeline.auth import PERMISSIONS, allowed, require
from pipeline.errors import IntegrityAlarm, NotFound, NotPermitted, StorageUnavailable
from pipeline.lifecycle import ACTION_LABELS as LIFECYCLE_LABELS
from pipeline.lifecycle import Action
from pipeline.models import MAX_ID, AuditEntry, AuditHead, Naskah, NaskahFile, NaskahNomor, User, as_utc, utcnow
from pipeline.monev_lifecycle import ACTION_LABELS as MONEV_LABELS
from pipeline.sop import Profile
from pipeline.textcheck import Line, LineCheck
from pipeline.usulan_lifecycle import ACTION_LABELS as INTAKE_LABELS
from storage.db import session_scope

__all__ = [
    "ACTIONS",
    "ACTION_LABELS",
    "GENESIS",
    "READERS",
    "AuditAction",
    "AuditQuery",
    "ChainBreak",
    "ChainReport",
    "actors",
    "canonical",
    "chain_result",
    "check_chain",
    "entry_hash",
    "may_read_all",
    "naskah_of",
    "people_of",
    "record",
    "record_now",
    "record_verification",
    "require_reader",
    "search",
    "sha256_of",
    "trail",
    "verify_chain",
]

GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry."""

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class AuditAction(StrEnum):
    """Actions outside the lifecycle table (whose steps are recorded under ``lifecycle.Action``)."""

    CREATE_CASE = "create_case"
    EDIT_CASE = "edit_case"
    CREATE_NASKAH = "create_naskah"
    DOWNLOAD = "download"  # a revision file, the final or the signed PDF, an archived original
    SIGNATURE_PLAN = "signature_plan"  # who signs, in which order, how; the locked final PDF
    EXPORT = "export"  # desk to desk: the PDF sent to the counterparty
    VERIFY = "verify"  # a PDF's signatures checked
    RENEW = "renew"  # a fresh document timestamp on an archived original
    ASSIGN_DRAFTER = "assign_drafter"  # the Kabag Pemerintahan (or an admin) assigns a drafter to a naskah
    REMOVE_DRAFTER = "remove_drafter"
    USER_ADD = "user_add"  # user administration (CLI and admin API): who did what to which account
    USER_UPDATE = "user_update"
    USER_DEACTIVATE = "user_deactivate"
    USER_REACTIVATE = "user_reactivate"
    USER_PASSWORD = (
        "user_password"  # a password set (by the admin, the CLI) or changed by its owner; never the password
    )
    SESSION_END = "session_end"  # an admin signed a browser (or all of an account's) out
    TOKEN_ISSUE = "token_issue"
    TOKEN_REVOKE = "token_revoke"
    CERTIFICATE_REGISTER = "certificate_register"
    CERTIFICATE_REMOVE = "certificate_remove"
    VERIFY_CHAIN = "verify_chain"  # the audit chain checked ("Periksa rantai"): its result in the detail
    MONEV_TINDAK_LANJUT = "monev_tindak_lanjut"  # a monev round's tindak lanjut item done (pipeline.archival.monev)
    MONEV_PERPANJANGAN = "monev_perpanjangan"  # the decision whether an agreement is extended


#: Every action as a person reads it after the actor's name ("Hj. Nurul … menyetujui rancangan").
ACTION_LABELS: Mapping[str, str] = {
    **{a.value: label for a, label in LIFECYCLE_LABELS.items()},
    AuditAction.CREATE_CASE: "membuat kerja sama",
    AuditAction.EDIT_CASE: "mengubah data kerja sama",
    AuditAction.CREATE_NASKAH: "membuat naskah",
    AuditAction.DOWNLOAD: "mengunduh atau membuka berkas",
    AuditAction.SIGNATURE_PLAN: "menetapkan rencana tanda tangan",
    AuditAction.EXPORT: "mengekspor PDF untuk pihak mitra",
    AuditAction.VERIFY: "memverifikasi tanda tangan PDF",
    AuditAction.RENEW: "memperbarui cap waktu arsip",
    AuditAction.ASSIGN_DRAFTER: "menugaskan penyusun naskah",
    AuditAction.REMOVE_DRAFTER: "mengakhiri penugasan penyusun naskah",
    AuditAction.USER_ADD: "menambah pengguna",
    AuditAction.USER_UPDATE: "mengubah data pengguna",
    AuditAction.USER_DEACTIVATE: "menonaktifkan pengguna",
    AuditAction.USER_REACTIVATE: "mengaktifkan kembali pengguna",
    AuditAction.USER_PASSWORD: "mengatur kata sandi",
    AuditAction.SESSION_END: "mengakhiri sesi masuk pengguna",
    AuditAction.TOKEN_ISSUE: "menerbitkan token API",
    AuditAction.TOKEN_REVOKE: "mencabut token API",
    AuditAction.CERTIFICATE_REGISTER: "mendaftarkan sertifikat",
    AuditAction.CERTIFICATE_REMOVE: "menghapus sertifikat",
    AuditAction.VERIFY_CHAIN: "memeriksa rantai jejak audit",
    # the intake of an usulan (pipeline.intake): its steps, then what is done beside them
    **{f"usulan_{a.value}": label for a, label in INTAKE_LABELS.items()},
    "usulan_catat": "mencatat usulan kerja sama yang masuk",
    "usulan_lampiran": "menambah lampiran usulan",
    "usulan_unduh": "mengunduh berkas usulan",
    "usulan_surat": "menyusun surat untuk usulan",
    **{a.value: label for a, label in MONEV_LABELS.items()},
    AuditAction.MONEV_TINDAK_LANJUT: "menyelesaikan tindak lanjut monitoring dan evaluasi",
    AuditAction.MONEV_PERPANJANGAN: "mencatat keputusan perpanjangan kerja sama",
}
ACTIONS = tuple(ACTION_LABELS)
"""Every action an entry may carry (the lifecycle's, then the others)."""
assert set(ACTIONS) >= {a.value for a in Action} | {a.value for a in AuditAction}

#: The roles that answer for the whole trail (``auth.PERMISSIONS["read_audit"]``): the admin
#: (accounts, tokens, certificates), the secretariat (keeps the archive and reports on every
#: agreement) and Bagian Hukum (reviews every naskah).  A counterparty's official never, whatever
#: roles an account was given.
READERS = frozenset(r.value for r in PERMISSIONS["read_audit"])


def may_read_all(user: User) -> bool:
    """May ``user`` read the whole trail and check the chain (the templates ask it for the menu)."""
    return not user.pihak_luar and allowed(user, "read_audit")


def require_reader(user: User) -> None:
    if not may_read_all(user):
        raise NotPermitted(
            "Jejak audit seluruh sistem hanya dapat dibaca admin, Sekretariat TKKSD dan Bagian Hukum. Jejak audit "
            "satu naskah ada di halaman naskah itu.",
            reason="audit_readers_only",
            needed=sorted(READERS),
        )


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the hash -----------------------------------------------------------------------------------


def _plain(detail: dict[str, Any]) -> dict[str, Any]:
    """The detail exactly as it reads back from a JSON column (dates as text, tuples as lists)."""
    return json.loads(json.dumps({k: v for k, v in detail.items() if v is not None}, default=str))


def canonical(entry: AuditEntry) -> bytes:
    """Every field except ``entry_hash``: sorted-key compact JSON, UTF-8, times in UTC to the microsecond."""
    fields = {
        "seq": entry.seq,
        "naskah_id": entry.naskah_id,
        "kerja_sama_id": entry.kerja_sama_id,
        "action": entry.action,
        "actor_id": entry.actor_id,
        "actor": entry.actor,
        "at": entry.at.astimezone(UTC).strftime(TIME_FORMAT),
        "object_sha256": entry.object_sha256,
        "detail": entry.detail,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def entry_hash(entry: AuditEntry) -> str:
    return sha256_of(canonical(entry))


# --- appending ----------------------------------------------------------------------------------


def _take_head(session: Session) -> tuple[int, str]:
    """Lock the head row until the transaction ends and return (newest seq, its hash).

    A no-op UPDATE rather than SELECT … FOR UPDATE: it locks the row on PostgreSQL (and, in READ
    COMMITTED, returns the row as the previous holder committed it) and takes SQLite's write lock
    before the head is read.
    """
    head = AuditHead.__table__  # type: ignore[attr-defined]
    row = session.execute(
        sa.update(head).where(head.c.id == 1).values(seq=head.c.seq).returning(head.c.seq, head.c.entry_hash)
    ).first()
    if row is None:
        raise IntegrityAlarm(
            "PERINGATAN: kepala jejak audit (audit_head) hilang; tindakan tidak dapat dicatat. Laporkan kepada admin."
        )
    return int(row[0]), str(row[1])


def record(
    session: Session,
    user: User | None,
    action: str,
    *,
    naskah_id: int | None = None,
    kerja_sama_id: int | None = None,
    sha256: str | None = None,
    at: datetime | None = None,
    **detail: Any,
) -> AuditEntry:
    """Append one entry in the caller's transaction (``user`` None: the system itself).

    ``sha256`` is the hash of the object the action produced or touched (a revision PDF, a stamped
    or signed PDF, a downloaded file); ``detail`` is a few JSON-able facts (statuses, a note).
    """
    if naskah_id is not None and kerja_sama_id is None:
        naskah = session.get(Naskah, naskah_id)
        kerja_sama_id = naskah.kerja_sama_id if naskah else None
    session.flush()  # the action's own rows first, so the head lock is the last lock taken
    seq, prev = _take_head(session)
    entry = AuditEntry(
        seq=seq + 1,
        naskah_id=naskah_id,
        kerja_sama_id=kerja_sama_id,
        action=str(action),
        actor_id=user.id if user else None,
        actor=user.username if user else "system",
        at=as_utc(at or utcnow()),
        object_sha256=sha256,
        detail=_plain(detail),
        prev_hash=prev,
        entry_hash="",
    )
    entry.entry_hash = entry_hash(entry)
    session.add(entry)
    head = AuditHead.__table__  # type: ignore[attr-defined]
    session.execute(sa.update(head).where(head.c.id == 1).values(seq=entry.seq, entry_hash=entry.entry_hash))
    session.flush()
    return entry


def record_now(
    engine: Engine,
    user: User | None,
    action: str,
    *,
    naskah_id: int | None = None,
    sha256: str | None = None,
    **detail: Any,
) -> AuditEntry:
    """Append one entry in a transaction of its own, committed on return (downloads, verification)."""
    with session_scope(engine) as session:
        return record(session, user, action, naskah_id=naskah_id, sha256=sha256, **detail)


def record_verification(engine: Engine, user: User | None, pdf: bytes, verdict: str) -> AuditEntry:
    """A PDF checked with ``POST /verify``: the file's hash and the verdict, attached to the naskah
    when the file is one of ours (a paraf, final or signed state)."""
    digest = sha256_of(pdf)
    with session_scope(engine) as session:
        file = session.exec(
            select(NaskahFile).where(NaskahFile.sha256 == digest).order_by(col(NaskahFile.id).desc())
        ).first()
        naskah_id = file.naskah_id if file else None
        return record(session, user, AuditAction.VERIFY, naskah_id=naskah_id, sha256=digest, verdict=verdict)


# --- reading ------------------------------------------------------------------------------------


def trail(
    session: Session,
    user: User,
    naskah_id: int,
    *,
    profile: Profile,
    offset: int = 0,
    limit: int = 50,
    newest_first: bool = False,
) -> tuple[list[AuditEntry], int]:
    """The entries of one naskah, oldest first (``newest_first``: the timeline's order), and how many
    there are: internal material of a naskah ``user`` may see (``pipeline.access``); one they may not
    see is not found, as one that does not exist."""
    require(user, "read")
    if session.get(Naskah, naskah_id) is None or not access.may_see_naskah(session, user, profile, naskah_id):
        raise NotFound(f"Naskah dengan id {naskah_id} tidak ditemukan.", naskah_id=naskah_id)
    access.require_internal(user, naskah_id)
    where = AuditEntry.naskah_id == naskah_id
    order = col(AuditEntry.seq).desc() if newest_first else col(AuditEntry.seq)
    rows = session.exec(select(AuditEntry).where(where).order_by(order).offset(offset).limit(limit))
    count = session.exec(select(func.count()).select_from(AuditEntry).where(where)).one()
    return list(rows.all()), count


def people_of(session: Session, rows: list[AuditEntry]) -> dict[int, User]:
    """The accounts behind ``rows`` (their name and jabatan for a timeline), by id; the system has none."""
    ids = sorted({r.actor_id for r in rows if r.actor_id is not None})
    if not ids:
        return {}
    return {u.id: u for u in session.exec(select(User).where(col(User.id).in_(ids))).all() if u.id is not None}


def naskah_of(session: Session, rows: list[AuditEntry]) -> dict[int, Naskah]:
    """The naskah ``rows`` belong to, by id (their jenis for the whole trail's list)."""
    ids = sorted({r.naskah_id for r in rows if r.naskah_id is not None})
    if not ids:
        return {}
    return {n.id: n for n in session.exec(select(Naskah).where(col(Naskah.id).in_(ids))).all() if n.id is not None}


def actors(session: Session) -> list[tuple[str, str]]:
    """(username, name) of every account, by name, then the system: the whole trail's "who" choices."""
    users = session.exec(select(User.username, User.nama).order_by(col(User.nama), col(User.username))).all()
    return [(u, n) for u, n in users] + [("system", "Sistem (proses otomatis)")]


Username = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64), LineCheck]


class AuditQuery(BaseModel):
    """What the whole trail is filtered by (``/audit``, ``GET /api/v1/audit``); newest first."""

    model_config = ConfigDict(extra="forbid")

    action: Annotated[str, StringConstraints(max_length=32)] | None = Field(
        default=None, description="jenis tindakan (mis. paraf, download, verify_chain)"
    )
    actor: Username | None = Field(default=None, description="nama pengguna pelaku ('system' untuk proses otomatis)")
    naskah: Line | None = Field(
        default=None, max_length=200, description="id naskah (angka), atau sebagian nomor naskah pihak mana pun"
    )
    dari: date | None = Field(default=None, description="sejak tanggal ini (zona waktu profil SOP)")
    sampai: date | None = Field(default=None, description="sampai dengan tanggal ini (zona waktu profil SOP)")
    q: Line = Field(
        default="", max_length=200, description="kata dalam rincian entri, nama pengguna pelaku atau awal sidik sha256"
    )
    offset: int = Field(default=0, ge=0, le=MAX_ID)
    limit: int = Field(default=50, ge=1, le=200)

    @model_validator(mode="after")
    def _known(self) -> AuditQuery:
        if self.action is not None and self.action not in ACTIONS:
            raise ValueError(f"Tindakan '{self.action}' tidak dikenal.")
        if self.dari is not None and self.sampai is not None and self.dari > self.sampai:
            raise ValueError("Tanggal 'dari' sesudah tanggal 'sampai'.")
        return self


def _like(text: str) -> str:
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _local_midnight(day: date, profile: Profile) -> datetime:
    return datetime.combine(day, time.min, tzinfo=profile.tz).astimezone(UTC)


def search(session: Session, user: User, query: AuditQuery, *, profile: Profile) -> tuple[list[AuditEntry], int]:
    """The whole trail filtered, newest first, and how many entries match (for :data:`READERS` only).

    The readers see every entry: they answer for the whole system (the secretariat and Bagian Hukum
    see every naskah anyway, ``access.STAFF_ROLES``; the admin's own actions are accounts and tokens)."""
    require_reader(user)
    where: list[Any] = []
    if query.action:
        where.append(AuditEntry.action == query.action)
    if query.actor:
        where.append(AuditEntry.actor == query.actor)
    if query.naskah:
        wanted = query.naskah.strip()
        if re.fullmatch(r"\d{1,18}", wanted) and int(wanted) <= MAX_ID:
            where.append(AuditEntry.naskah_id == int(wanted))
        else:
            numbered = select(NaskahNomor.naskah_id).where(
                func.lower(col(NaskahNomor.nomor)).like(_like(wanted), escape="\\")
            )
            where.append(col(AuditEntry.naskah_id).in_(numbered))
    if query.dari:
        where.append(col(AuditEntry.at) >= _local_midnight(query.dari, profile))
    if query.sampai:
        where.append(col(AuditEntry.at) < _local_midnight(query.sampai + timedelta(days=1), profile))
    for word in query.q.split():
        pattern = _like(word)
        where.append(
            sa.or_(
                func.lower(sa.cast(AuditEntry.detail, sa.Text)).like(pattern, escape="\\"),
                func.lower(col(AuditEntry.actor)).like(pattern, escape="\\"),
                col(AuditEntry.object_sha256).like(word.casefold().replace("%", "").replace("_", "") + "%"),
            )
        )
    condition = sa.and_(sa.true(), *where)
    rows = session.exec(
        select(AuditEntry).where(condition).order_by(col(AuditEntry.seq).desc()).offset(query.offset).limit(query.limit)
    ).all()
    count = session.exec(select(func.count()).select_from(AuditEntry).where(condition)).one()
    return list(rows), count


# --- verifying ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainBreak:
    """The first entry where the chain does not hold."""

    seq: int
    problem: str
    """``edited`` (contents no longer match the hash), ``missing_predecessor`` (the entry it was
    chained to is gone or was rewritten), ``out_of_order`` (chained to an entry elsewhere in the
    chain), ``missing`` (the newest entries are gone), ``head_mismatch`` (the head names another
    newest entry)."""
    message: str
    """Indonesian, for the person who runs the check."""


@dataclass(frozen=True)
class ChainReport:
    count: int
    """Entries verified (all of them when ``ok``)."""
    head_seq: int
    head_hash: str
    """The newest verified entry's seq and hash (0 and GENESIS for an empty chain)."""
    broken: ChainBreak | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None

    @property
    def bottom_line(self) -> str:
        return "ok" if self.ok else "broken"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "bottom_line": self.bottom_line,
            "count": self.count,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "broken": asdict(self.broken) if self.broken else None,
        }


def _entries(session: Session) -> Iterator[AuditEntry]:
    query = select(AuditEntry).order_by(col(AuditEntry.seq)).execution_options(yield_per=500)
    yield from session.execute(query).scalars()


def _seq_with_hash(session: Session, digest: str) -> int | None:
    return session.exec(select(AuditEntry.seq).where(AuditEntry.entry_hash == digest).limit(1)).first()


def _edited(seq: int) -> ChainBreak:
    return ChainBreak(seq, "edited", f"Entri {seq} diubah: isinya tidak cocok lagi dengan sidiknya.")


def _link_break(session: Session, entry: AuditEntry, expected_seq: int, prev_seq: int, prev: str) -> ChainBreak:
    """Why ``entry`` does not follow the last good entry (``prev_seq``, hash ``prev``)."""
    seq = entry.seq
    if entry.prev_hash == prev:  # chained to the right entry, but its seq was changed
        return _edited(seq)
    linked_to = 0 if entry.prev_hash == GENESIS else _seq_with_hash(session, entry.prev_hash)
    if linked_to is not None and linked_to != seq:
        after = f"entri {linked_to}" if linked_to else "awal rantai"
        before = f"entri {prev_seq}" if prev_seq else "awal rantai"
        return ChainBreak(seq, "out_of_order", f"Urutan diubah: entri {seq} tersambung ke {after}, bukan ke {before}.")
    if seq > expected_seq:
        gone = str(expected_seq) if seq == expected_seq + 1 else f"{expected_seq}–{seq - 1}"
        return ChainBreak(seq, "missing_predecessor", f"Entri {gone} sebelum entri {seq} hilang.")
    if entry_hash(entry) != entry.entry_hash:  # its own prev_hash was changed
        return _edited(seq)
    return ChainBreak(
        seq,
        "missing_predecessor",
        f"Entri {seq} tidak tersambung ke entri {prev_seq}: entri sebelumnya hilang atau ditulis ulang.",
    )


def verify_chain(session: Session) -> ChainReport:
    """Walk the chain in seq order, recompute every hash, and name the first broken entry."""
    try:
        if not sa.inspect(session.connection()).has_table(AuditEntry.__tablename__):
            raise NotFound("Basis data ini belum memiliki jejak audit: jalankan `naskah db upgrade`.")
        count, last_seq, prev = 0, 0, GENESIS
        for entry in _entries(session):
            expected_seq = last_seq + 1
            if entry.seq != expected_seq or entry.prev_hash != prev:
                return ChainReport(count, last_seq, prev, _link_break(session, entry, expected_seq, last_seq, prev))
            if entry_hash(entry) != entry.entry_hash:
                return ChainReport(count, last_seq, prev, _edited(entry.seq))
            count, last_seq, prev = count + 1, entry.seq, entry.entry_hash
        head = session.get(AuditHead, 1)
    except sa.exc.OperationalError as exc:
        raise StorageUnavailable("Basis data tidak dapat dihubungi.", diagnostic=str(exc.orig)) from None
    return ChainReport(count, last_seq, prev, _head_break(head, last_seq, prev))


def _head_break(head: AuditHead | None, last_seq: int, last_hash: str) -> ChainBreak | None:
    """The head names the newest entry: entries removed from the end, or a rewritten last entry, show here."""
    if head is None:
        return ChainBreak(last_seq + 1, "head_mismatch", "Kepala rantai (audit_head) hilang.")
    if head.seq > last_seq:
        gone = str(head.seq) if head.seq == last_seq + 1 else f"{last_seq + 1}–{head.seq}"
        return ChainBreak(
            last_seq + 1, "missing", f"Entri {gone} di ujung rantai hilang (kepala rantai mencatat {head.seq})."
        )
    if head.seq < last_seq:
        return ChainBreak(
            head.seq + 1, "head_mismatch", f"Entri {head.seq + 1} dan sesudahnya ditambahkan di luar aplikasi."
        )
    if head.entry_hash != last_hash:
        return ChainBreak(
            last_seq, "head_mismatch", f"Entri {last_seq} ditulis ulang: sidiknya lain dari yang dicatat kepala rantai."
        )
    return None


# --- the check as an action ("Periksa rantai") -----------------------------------------------------


def _report_detail(report: ChainReport) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "ok": report.ok,
        "count": report.count,
        "head_seq": report.head_seq,
        "head_hash": report.head_hash,
    }
    if report.broken is not None:
        detail.update(broken_seq=report.broken.seq, problem=report.broken.problem, message=report.broken.message)
    return detail


def check_chain(session: Session, user: User) -> tuple[ChainReport, AuditEntry | None]:
    """Verify the chain for a reader and record the check with its result (``verify_chain``), in the
    caller's transaction.  The entry is None when the chain's head is gone: nothing can be appended
    then, and the report says so itself."""
    require_reader(user)
    report = verify_chain(session)
    try:
        entry = record(session, user, AuditAction.VERIFY_CHAIN, **_report_detail(report))
    except IntegrityAlarm:
        return report, None
    return report, entry


def chain_result(session: Session, user: User, seq: int) -> tuple[AuditEntry, ChainReport]:
    """A recorded chain check and the report it found (the page a check redirects to)."""
    require_reader(user)
    entry = session.get(AuditEntry, seq)
    if entry is None or entry.action != AuditAction.VERIFY_CHAIN.value:
        raise NotFound(f"Pemeriksaan rantai nomor {seq} tidak ditemukan.", seq=seq)
    d = entry.detail
    broken = None
    if not d.get("ok", False):
        broken = ChainBreak(int(d.get("broken_seq", 0)), str(d.get("problem", "")), str(d.get("message", "")))
    report = ChainReport(int(d.get("count", 0)), int(d.get("head_seq", 0)), str(d.get("head_hash", "")), broken)
    return entry, report
