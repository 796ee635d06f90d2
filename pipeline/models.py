"""Database tables (SQLModel).  One class per table; rules live in the workflow modules.

Enumerated values are stored as plain strings (portable between SQLite and PostgreSQL,
and easy to migrate); the enums in ``pipeline.lifecycle`` and below are the source of
truth.  Every point in time is a ``storage.types.UtcDateTime`` column: stored in UTC and read
back timezone-aware (UTC) on SQLite and PostgreSQL alike; a naive datetime is refused on the way
in.  Calendar days a person reads (a paraf mark's date, the signing date) are derived from these
instants in the SOP profile's zone (``Profile.tz``: WIB, WITA or WIT), never from the UTC date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.types import UtcDateTime

__all__ = [
    "MAX_ID",
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "JenisKerjaSama",
    "JenisNaskah",
    "KerjaSama",
    "MonevEvent",
    "MonevLampiran",
    "MonevPerpanjangan",
    "MonevRound",
    "MonevTindakLanjut",
    "Naskah",
    "NaskahDrafter",
    "NaskahEvent",
    "NaskahFile",
    "NaskahNomor",
    "Notifikasi",
    "ObjectStoreRecord",
    "Paraf",
    "Pihak",
    "PihakKind",
    "Preview",
    "PreviewPage",
    "Revision",
    "RevisionSource",
    "RevisionState",
    "SignInFailure",
    "SignaturePlan",
    "SignatureStep",
    "User",
    "UserCertificate",
    "Usulan",
    "UsulanEvent",
    "UsulanFile",
    "WebSession",
    "utcnow",
]


MAX_ID = 2**31 - 1
"""The largest id (or number, offset) an INTEGER column holds on PostgreSQL; inputs are bounded by it,
since a larger one is not a missing row but a query the database refuses (or SQLite cannot bind)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(at: datetime) -> datetime:
    """A caller-given time in UTC (a naive one is taken as UTC).  Times read from the database need
    no such help: ``UtcDateTime`` columns come back aware in UTC on every database."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


JENIS_NASKAH = ("KB", "NK", "PKS", "SK")
#: Documents of the intake (``pipeline.intake``), rendered the same way but never a naskah: letters
#: (undangan, surat jawaban, balasan, penawaran, permohonan) and the berita acara of a TKKSD meeting.
JENIS_SURAT = ("SURAT", "BA")
JENIS_KERJA_SAMA = ("KSDD", "KSDPK", "KSIV")


class JenisKerjaSama(StrEnum):
    KSDD = "KSDD"  # dengan daerah lain
    KSDPK = "KSDPK"  # dengan pihak ketiga
    KSIV = "KSIV"  # dengan instansi vertikal


class JenisNaskah(StrEnum):
    KB = "KB"  # Kesepakatan Bersama
    NK = "NK"  # Nota Kesepakatan (+ Rencana Kerja)
    PKS = "PKS"  # Perjanjian Kerja Sama
    SK = "SK"  # Surat Kuasa


class PihakKind(StrEnum):
    PEMDA = "pemda"  # a regional government (ours or another region)
    PIHAK_KETIGA = "pihak_ketiga"  # company, university, NGO
    INSTANSI_VERTIKAL = "instansi_vertikal"  # central-government office in the region


class RevisionSource(StrEnum):
    RENDERED = "rendered"
    UPLOADED = "uploaded"


class RevisionState(StrEnum):
    PENDING = "pending"  # row written, objects not yet confirmed: invisible
    COMPLETE = "complete"


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    nama: str = Field(max_length=200)
    jabatan: str = Field(max_length=200)
    nip: str | None = Field(default=None, max_length=32)
    nik: str | None = Field(default=None, max_length=32)  # officials who are not civil servants (a Bupati)
    roles: str = Field(default="", max_length=200)  # comma-separated Role values, sorted
    posisi: str = Field(default="", max_length=200)  # comma-separated SOP profile positions, e.g. "sekda"
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # What visibility needs (pipeline.access): the Perangkat Daerah (OPD) an official heads or works in,
    # matched against a case's opd_teknis; and whether the user is a counterparty's official (pihak luar)
    # of ``instansi``, who sees only the naskah they sign.
    opd: str | None = Field(default=None, max_length=200)
    pihak_luar: bool = False
    instansi: str | None = Field(default=None, max_length=300)
    # The web sign-in's password as an argon2id hash (``pipeline.signin``); None: no web sign-in yet.
    password_hash: str | None = Field(default=None, max_length=200)
    # Where notifications are mailed (``pipeline.inbox.notifications``); None: the web inbox only.  The user
    # may turn mail off (``email_notifikasi``); the inbox stays.
    email: str | None = Field(default=None, max_length=254)
    email_notifikasi: bool = True

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(",") if r)

    @property
    def posisi_set(self) -> frozenset[str]:
        return frozenset(p for p in self.posisi.split(",") if p)


class UserCertificate(SQLModel, table=True):
    """A signing certificate an admin registered as a user's (by its sha256): it then belongs to that
    official whatever its subject says (``pipeline.identity``).  Only the fingerprint and what a
    person recognises the certificate by are kept; removing it keeps the row (``removed_at``)."""

    __tablename__ = "user_certificate"
    __table_args__ = (sa.UniqueConstraint("user_id", "sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    sha256: str = Field(max_length=64, index=True)
    subject: str = Field(default="", max_length=500)
    # who issued it and its serial (hex), for the admin's overview; empty when only the sha256 was given
    issuer: str = Field(default="", max_length=500)
    serial: str = Field(default="", max_length=80)
    not_after: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    removed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class ApiToken(SQLModel, table=True):
    """Bearer tokens, stored only as their sha256: a database leak gives no usable token."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    label: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)  # NASKAH_TOKEN_LIFETIME_DAYS after issue, or sooner


class WebSession(SQLModel, table=True):
    """A signed-in browser (``pipeline.signin``).  Only the sha256 of the session id (the cookie) is
    kept, so a database leak gives no usable session; deleting the row signs the browser out."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    id_hash: str = Field(max_length=64, unique=True, index=True)
    csrf_token: str = Field(max_length=64)  # sent back by every form and htmx request of this session
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)  # for the idle timeout
    expires_at: datetime = Field(sa_type=UtcDateTime)  # the absolute lifetime, whatever the activity


class SignInFailure(SQLModel, table=True):
    """One failed sign-in, under the key it counts against (``user:NAME`` and ``addr:IP``), kept in
    the database so that every process of the app counts the same attempts."""

    __tablename__ = "signin_failure"
    __table_args__ = (sa.Index("ix_signin_failure_key_at", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class PublicLink(SQLModel, table=True):
    """The unguessable token of a naskah's public page (``/v/<token>``, ``pipeline.archival.publik``): what the QR
    code in every signature block points at, so no sequential id is ever published."""

    __tablename__ = "public_link"

    id: int | None = Field(default=None, primary_key=True)
    naskah_id: int = Field(foreign_key="naskah.id", unique=True)
    token: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class RateHit(SQLModel, table=True):
    """One request counted against a rate limit (``pipeline.archival.publik.take_rate``: ``verifikasi:<address>``),
    kept in the database so that every process of the app counts the same requests."""

    __tablename__ = "rate_hit"
    __table_args__ = (sa.Index("ix_rate_hit_key_at", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class KerjaSama(SQLModel, table=True):
    """A cooperation case: the offer's data (seed 000 "Kelengkapan") and its parties."""

    __tablename__ = "kerja_sama"

    id: int | None = Field(default=None, primary_key=True)
    jenis: str = Field(max_length=8, index=True)  # JenisKerjaSama
    judul: str = Field(max_length=500)
    objek: str = Field(sa_type=sa.Text)
    manfaat: str = Field(sa_type=sa.Text)
    bentuk: str = Field(max_length=200)
    tahun_anggaran_mulai: int
    mulai: date
    selesai: date
    opd_teknis: str = Field(max_length=200)
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # opd_teknis normalised (pipeline.access.opd_key): what a Kepala OPD's ``users.opd`` is matched against.
    opd_key: str = Field(default="", max_length=200, index=True)


class Pihak(SQLModel, table=True):
    """A party of the case, and the official who signs for it."""

    __tablename__ = "pihak"
    __table_args__ = (sa.UniqueConstraint("kerja_sama_id", "urutan"),)

    id: int | None = Field(default=None, primary_key=True)
    kerja_sama_id: int = Field(foreign_key="kerja_sama.id", index=True)
    urutan: int  # 1 = PIHAK KESATU, 2 = PIHAK KEDUA, ...
    instansi: str = Field(max_length=300)
    kind: str = Field(max_length=32)  # PihakKind
    alamat: str | None = Field(default=None, max_length=500)
    penandatangan_nama: str = Field(max_length=200)
    penandatangan_jabatan: str = Field(max_length=200)
    penandatangan_nip: str | None = Field(default=None, max_length=32)
    # The party's lambang (PNG/JPEG in the object store), printed at the head of its naskah.
    lambang_key: str | None = Field(default=None, max_length=300)
    lambang_version_id: str | None = Field(default=None, max_length=200)
    lambang_sha256: str | None = Field(default=None, max_length=64)
    lambang_type: str | None = Field(default=None, max_length=32)
    penandatangan_nik: str | None = Field(default=None, max_length=32)  # a signer who is not a civil servant


class Naskah(SQLModel, table=True):
    """One document of a case (KB, NK, PKS or Surat Kuasa) and where it is in the lifecycle."""

    __tablename__ = "naskah"

    id: int | None = Field(default=None, primary_key=True)
    kerja_sama_id: int = Field(foreign_key="kerja_sama.id", index=True)
    jenis: str = Field(max_length=8)  # JenisNaskah
    template: str = Field(max_length=200)  # registry name, e.g. "kb/standar"
    status: str = Field(max_length=32, index=True)  # lifecycle.Status
    lock_version: int = 0  # optimistic lock: bumped by every state change
    parent_id: int | None = Field(default=None, foreign_key="naskah.id")  # PKS -> KB, SK -> PKS
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # drafter's template fields
    created_by: int = Field(foreign_key="users.id", index=True)  # access: the naskah a user made
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class NaskahDrafter(SQLModel, table=True):
    """A drafter the Kepala Bagian Pemerintahan (or an admin) assigned to a naskah besides its creator:
    they may revise, submit and cancel it (``pipeline.access``).  Removing an assignment keeps the row."""

    __tablename__ = "naskah_drafter"

    id: int | None = Field(default=None, primary_key=True)
    naskah_id: int = Field(foreign_key="naskah.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    assigned_by: int = Field(foreign_key="users.id")
    assigned_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    removed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class NaskahNomor(SQLModel, table=True):
    """Each party numbers the naskah in its own register: one nomor per pihak.

    ``register_key`` is that register and the nomor, normalised (``pipeline.drafting.cases.register_key``:
    the party's instansi and the nomor, case and spacing aside); its unique index is what stops two
    naskah getting the same nomor from one party, also when two drafters create them at once.  NULL
    once the naskah is cancelled: a cancelled naskah gives its nomor back.
    """

    __tablename__ = "naskah_nomor"
    __table_args__ = (
        sa.UniqueConstraint("naskah_id", "pihak_id"),
        sa.Index("ux_naskah_nomor_register_key", "register_key", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    naskah_id: int = Field(foreign_key="naskah.id", index=True)
    pihak_id: int = Field(foreign_key="pihak.id")
    nomor: str = Field(max_length=200)
    register_key: str | None = Field(default=None, max_length=510)  # instansi (300) | nomor (200)


class Revision(SQLModel, table=True):
    """One revision: its DOCX and PDF/A in the object store, by key, version id and sha256.

    Written in three steps (row pending -> objects put -> row complete) so that a crash
    leaves at most an invisible pending row, which ``revisions.reconcile`` repairs.

    A pending row is a candidate for the next number (the newest complete one + 1): renders racing
    each other (in any process) may hold the same candidate number, and the one that completes
    first takes it; the number is unique among complete revisions only, so a lost race or a
    failed write leaves no gap.
    """

    __tablename__ = "revision"
    __table_args__ = (
        sa.Index(
            "ux_revision_complete_number",
            "naskah_id",
            "number",
            unique=True,
            sqlite_where=sa.text("state = 'complete'"),
            postgresql_where=sa.text("state = 'complete'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    naskah_id: int = Field(foreign_key="naskah.id", index=True)
    number: int
    state: str = Field(default=RevisionState.PENDING.value, max_length=16, index=True)
    source: str = Field(max_length=16)  # RevisionSource
    note: str = Field(default="", sa_type=sa.Text)
    author_id: int = Field(foreign_key="users.id")
    template_sha256: str | None = Field(default=None, max_length=64)
    data: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)  # the exact fields rendered
    docx_key: str = Field(max_length=512)
    docx_version_id: str | None = Field(default=None, max_length=200)
    docx_sha256: str = Field(max_length=64)
    docx_size: int
    pdf_key: str = Field(max_length=512)
    pdf_version_id: str | None = Field(default=None, max_length=200)
    pdf_sha256: str = Field(max_length=64)
    pdf_size: int
    pdf_pages: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class NaskahEvent(SQLModel, table=True):
    """Every lifecycle step taken, with its note (a return by Bagian Hukum, a refused paraf)."""

    __tablename__ = "naskah_event"

    id: int | None = Field(default=None, primary_key=True)
    naskah_id: int = Field(foreign_key="naskah.id", index=True)
    action: str = Field(max_length=32)  # lifecycle.Action
    from_status: str = Field(max_length=32)
    to_status: str = Field(max_length=32)
    actor_id: int = Field(foreign_key="users.id")
    note: str = Field(default="", sa_type=sa.Text)
    revision_number: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class NaskahFile(SQLModel, table=True):
    """A PDF derived from a revision: after each paraf, the final (fully initialled) PDF,
    each signed state, a file exported to or imported from the counterparty."""

    __tablename__ = "naskah_file"

    id: int | None = Field(default=None, primary_key=True)
    naskah_id: int = Field(foreign_key="naskah.id", index=True)
    kind: str = Field(max_length=16)  # paraf | final | signed | imported
    revision_number: int
    step: int = 0  # paraf urutan or signature urutan
    key: str = Field(max_length=512)
    version_id: str = Field(max_length=200)
    sha256: str = Field(max_length=64)
    size: int
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Paraf(SQLModel, table=True):
    """One official's paraf, bound to the sha256 of the revision PDF it was given on.

    A new revision voids every paraf collected so far (``voided_at``)."""

    __tablename__ = "paraf"

    id: int | None = Field(default=None, primary_key=True)
    naskah_id: int = Field(foreign_key="naskah.id", index=True)
    revision_number: int
    revision_sha256: str = Field(max_length=64)
    urutan: int
    posisi: str = Field(max_length=64)  # SOP profile position key
    user_id: int = Field(foreign_key="users.id", index=True)  # access: the naskah they initialled
    nama: str = Field(max_length=200)
    jabatan: str = Field(max_length=200)
    singkatan: str = Field(max_length=64)
    inisial: str = Field(max_length=16)
    waktu: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    file_id: int | None = Field(default=None, foreign_key="naskah_file.id")  # the stamped PDF after this paraf
    voided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class SignaturePlan(SQLModel, table=True):
    """Who signs a naskah, in which order, and how (tatap muka or desk to desk)."""

    __tablename__ = "signature_plan"

    id: int | None = Field(default=None, primary_key=True)
    naskah_id: int = Field(foreign_key="naskah.id", unique=True)
    mode: str = Field(max_length=16)  # tatap_muka | desk
    final_file_id: int = Field(foreign_key="naskah_file.id")  # the fully initialled PDF everyone signs
    # The signing date the naskah's text states ("Pada hari ini ... tanggal ...", SK "pada tanggal"), in
    # the SOP profile's zone; None for a template that states none (then no day is checked).
    tanggal_naskah: date | None = None
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class SignatureStep(SQLModel, table=True):
    __tablename__ = "signature_step"
    __table_args__ = (sa.UniqueConstraint("plan_id", "urutan"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="signature_plan.id", index=True)
    urutan: int
    pihak_urutan: int  # which party this signature is for
    field_name: str = Field(max_length=64)
    nama: str = Field(max_length=200)
    jabatan: str = Field(max_length=200)
    # None: the counterparty signs outside; indexed for access (the naskah a user signs)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    external: bool = False  # desk to desk: signed in the counterparty's own system
    kuasa_naskah_id: int | None = Field(default=None, foreign_key="naskah.id")  # Surat Kuasa for a delegate
    signed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    signer_subject: str | None = Field(default=None, max_length=300)
    file_id: int | None = Field(default=None, foreign_key="naskah_file.id")  # the PDF with this signature
    tanggal_ttd: date | None = None  # the day of this signature in the profile's zone (pipeline.sign.signing_date)
    catatan_tanggal: str | None = Field(default=None, sa_type=sa.Text)  # why it is not the naskah's date
    # Where the signature sits: our prepared field, or one the partner's software or a service (BSrE) created;
    # 1-based page, shown or not (recorded for a desk-to-desk import).
    signed_field: str | None = Field(default=None, max_length=128)
    signed_page: int | None = None
    signed_visible: bool | None = None


class AuditEntry(SQLModel, table=True):
    """One link of the hash-chained audit trail (``pipeline.audit``): who did what, when, to which object.

    ``entry_hash`` is the sha256 of every other field, ``prev_hash`` included, so editing,
    removing or reordering an entry breaks the chain.  Rows are only ever inserted."""

    __tablename__ = "audit_entry"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})  # 1, 2, 3, ...
    naskah_id: int | None = Field(default=None, foreign_key="naskah.id", index=True)
    kerja_sama_id: int | None = Field(default=None, foreign_key="kerja_sama.id", index=True)
    action: str = Field(max_length=32)  # lifecycle.Action values, create_case, download, verify, ...
    actor_id: int | None = Field(default=None, foreign_key="users.id")  # None: the system itself
    actor: str = Field(max_length=64)  # username at the time (a snapshot)
    at: datetime = Field(sa_type=UtcDateTime)
    object_sha256: str | None = Field(default=None, max_length=64)  # the file the action produced or touched
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    prev_hash: str = Field(max_length=64, unique=True)  # a second guard against a forked chain
    entry_hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The one row (id 1) naming the newest audit entry: appends lock it, so the chain cannot fork,
    and a removed newest entry is noticed."""

    __tablename__ = "audit_head"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int = 0
    entry_hash: str = Field(max_length=64)


class Arsip(SQLModel, table=True):
    """An archived signed original (PAdES B-LTA, locked in the archive store) and what the
    secretariat finds it by.  Written once on archive; only a timestamp renewal moves it to a
    newer object version (``ArsipVersion`` keeps every one)."""

    __tablename__ = "arsip"
    # Free-text search is LIKE '%word%' on search_text: PostgreSQL answers it from a trigram index
    # (migration 0005 creates the pg_trgm extension); elsewhere this is a plain index.
    __table_args__ = (
        sa.Index(
            "ix_arsip_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        sa.Index(
            "ix_arsip_opd_teknis_trgm",
            "opd_teknis",
            postgresql_using="gin",
            postgresql_ops={"opd_teknis": "gin_trgm_ops"},
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    naskah_id: int = Field(foreign_key="naskah.id", unique=True)
    kerja_sama_id: int = Field(foreign_key="kerja_sama.id", index=True)
    jenis: str = Field(max_length=8, index=True)  # KB, NK, PKS, SK
    jenis_kerja_sama: str = Field(max_length=8, index=True)  # KSDD, KSDPK, KSIV
    judul: str = Field(max_length=500, index=True)  # sort=judul reads it in order
    pihak: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)  # urutan, instansi, penandatangan
    nomor: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON)  # {pihak urutan: nomor}
    opd_teknis: str = Field(max_length=200, index=True)
    # the kerja sama's opd_key (pipeline.access.opd_key(opd_teknis)): a Kepala OPD sees their OPD's records
    opd_key: str = Field(default="", max_length=200, index=True)
    tanggal_ttd: date = Field(index=True)  # the day the last signature was made (profile time zone)
    mulai: date
    selesai: date = Field(index=True)
    related: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)  # KB <-> PKS <-> Surat Kuasa
    search_text: str = Field(sa_type=sa.Text)  # lower-case judul, pihak, nomor, OPD for free-text search
    key: str = Field(max_length=300)
    version_id: str = Field(max_length=200)  # the current version (a renewal adds a newer one)
    sha256: str = Field(max_length=64, index=True)  # /verifikasi looks an upload up by it
    size: int
    retain_until: datetime = Field(sa_type=UtcDateTime)
    timestamp_expiry: datetime | None = Field(default=None, sa_type=UtcDateTime)
    archived_by: int = Field(foreign_key="users.id")
    archived_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)


class ArsipVersion(SQLModel, table=True):
    """Every stored version of an archived original: the first, and one per timestamp renewal."""

    __tablename__ = "arsip_version"

    id: int | None = Field(default=None, primary_key=True)
    arsip_id: int = Field(foreign_key="arsip.id", index=True)
    version_id: str = Field(max_length=200)
    sha256: str = Field(max_length=64, index=True)  # /verifikasi looks an upload up by it
    size: int
    reason: str = Field(max_length=16)  # archive | renew
    timestamp_expiry: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_by: int | None = Field(default=None, foreign_key="users.id")  # None: the renewal job
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class ObjectStoreRecord(SQLModel, table=True):
    """The local object store this database was set up with, one per role (``objects``, ``arsip``).

    Recorded when the store's folder was set up (or first opened, for a store from before
    markers): afterwards a folder that is missing, unmarked or another store's (its marker's id
    differs) is storage_unavailable, and never made again (``pipeline.services.open_bound_store``).
    """

    __tablename__ = "object_store"

    role: str = Field(primary_key=True, max_length=16)
    store_id: str = Field(max_length=64)
    location: str = Field(max_length=1000)  # the folder when it was recorded, for the admin
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Preview(SQLModel, table=True):
    """A PDF's pages rendered as images (``pipeline.workspace.preview``): one row per PDF sha256 and rendering
    variant (resolution, thumbnail size), shared by every revision or file with those bytes.

    The row is also the lock that makes concurrent first views render once, in any process: the
    request that inserts it (``state`` rendering) renders and holds a lease (``owner``,
    ``lease_until``, renewed while it works); the others wait for ``complete``, and take the lease
    over only once it has expired (its holder died).  Its pages' images are in the object store under
    ``preview/<sha256>/<variant>/``, each named by a ``preview_page`` row (so housekeeping keeps them).
    """

    __tablename__ = "preview"
    __table_args__ = (sa.UniqueConstraint("pdf_sha256", "variant"),)

    id: int | None = Field(default=None, primary_key=True)
    pdf_sha256: str = Field(max_length=64, index=True)
    variant: str = Field(max_length=32)  # PreviewLimits.variant, e.g. "r120-t200"
    state: str = Field(default="rendering", max_length=16)  # rendering | complete
    owner: str = Field(default="", max_length=64)  # random id of the request rendering it
    lease_until: datetime = Field(sa_type=UtcDateTime)
    page_count: int = 0  # pages of the PDF (all of them)
    rendered_pages: int = 0  # pages with an image (at most NASKAH_PREVIEW_MAX_PAGES)
    render_ms: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class PreviewPage(SQLModel, table=True):
    """One rendered page: its image and thumbnail in the object store (key, version id, sha256), its
    size in pixels, and its text (what a screen reader reads beside the image)."""

    __tablename__ = "preview_page"
    __table_args__ = (sa.UniqueConstraint("preview_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    preview_id: int = Field(foreign_key="preview.id", index=True)
    number: int  # 1-based
    width: int
    height: int
    image_key: str = Field(max_length=512)
    image_version_id: str = Field(max_length=200)
    image_sha256: str = Field(max_length=64)
    thumb_width: int
    thumb_height: int
    thumb_key: str = Field(max_length=512)
    thumb_version_id: str = Field(max_length=200)
    thumb_sha256: str = Field(max_length=64)
    text: str = Field(default="", sa_type=sa.Text)


class Usulan(SQLModel, table=True):
    """An incoming penawaran (from another daerah, a third party, an instansi vertikal) or permohonan
    (from an OPD) before any naskah: its letter, the SOP's kelengkapan, where it is in the intake
    lifecycle (``pipeline.usulan_lifecycle``), the analis's telaah, the TKKSD meeting and the decision.
    Approved, it opens a kerja sama case (``kerja_sama_id``)."""

    __tablename__ = "usulan"

    id: int | None = Field(default=None, primary_key=True)
    jenis: str = Field(max_length=16)  # penawaran | permohonan
    status: str = Field(max_length=16, index=True)  # intake lifecycle Status
    lock_version: int = 0  # optimistic lock: bumped by every step
    perihal: str = Field(max_length=500)  # what the letter is about ("Hal")
    jenis_kerja_sama: str | None = Field(default=None, max_length=8)  # JenisKerjaSama once known
    # the letter
    surat_nomor: str = Field(max_length=200)
    surat_tanggal: date
    diterima_at: datetime = Field(sa_type=UtcDateTime)
    pengirim_instansi: str = Field(max_length=300)
    pengirim_kind: str = Field(max_length=32)  # PihakKind, or "opd" for a permohonan of our own OPD
    pengirim_nama: str | None = Field(default=None, max_length=200)
    pengirim_jabatan: str | None = Field(default=None, max_length=200)
    pengirim_alamat: str | None = Field(default=None, max_length=500)
    # the counterparty of the kerja sama (a penawaran: its sender; a permohonan: the one the OPD names)
    mitra: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    # kelengkapan (seed 000): objek, manfaat, bentuk, tahun anggaran mulai, jangka waktu
    objek: str | None = Field(default=None, sa_type=sa.Text)
    manfaat: str | None = Field(default=None, sa_type=sa.Text)
    bentuk: str | None = Field(default=None, max_length=200)
    tahun_anggaran_mulai: int | None = None
    jangka_waktu_bulan: int | None = None
    opd_teknis: str | None = Field(default=None, max_length=200)
    opd_key: str = Field(default="", max_length=200, index=True)  # pipeline.access.opd_key(opd_teknis)
    # whose turn: the chain position holding it now, since when
    posisi: str | None = Field(default=None, max_length=64)
    turn_since: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    telaah: str | None = Field(default=None, sa_type=sa.Text)
    pengkaji_id: int | None = Field(default=None, foreign_key="users.id")  # the analis of the telaah
    # the TKKSD meeting
    rapat_waktu: datetime | None = Field(default=None, sa_type=UtcDateTime)
    rapat_tempat: str | None = Field(default=None, max_length=300)
    rapat_acara: str | None = Field(default=None, max_length=500)
    rapat_peserta: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    notulen: str | None = Field(default=None, sa_type=sa.Text)
    kesimpulan: str | None = Field(default=None, sa_type=sa.Text)
    rekomendasi: str | None = Field(default=None, max_length=16)  # setuju | tolak
    rekomendasi_catatan: str | None = Field(default=None, sa_type=sa.Text)
    # the decision
    keputusan_catatan: str | None = Field(default=None, sa_type=sa.Text)
    decided_by: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    kerja_sama_id: int | None = Field(default=None, foreign_key="kerja_sama.id")
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class UsulanFile(SQLModel, table=True):
    """A file of an usulan in the object store: the letter's scan, the KAK or feasibility study, the
    telaah's files (uploaded and checked), and the letters drafted from templates (``generated``)."""

    __tablename__ = "usulan_file"

    id: int | None = Field(default=None, primary_key=True)
    usulan_id: int = Field(foreign_key="usulan.id", index=True)
    kind: str = Field(max_length=32)  # surat | kak | fs | telaah | lampiran | undangan | berita_acara | jawaban ...
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    key: str = Field(max_length=512)
    version_id: str = Field(max_length=200)
    sha256: str = Field(max_length=64)
    size: int
    generated: bool = False  # drafted from a template (a DOCX, with ``pdf_*`` its PDF/A)
    nomor: str | None = Field(default=None, max_length=200)  # an outgoing letter's nomor
    pdf_key: str | None = Field(default=None, max_length=512)
    pdf_version_id: str | None = Field(default=None, max_length=200)
    pdf_sha256: str | None = Field(default=None, max_length=64)
    uploaded_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class UsulanEvent(SQLModel, table=True):
    """One step of an usulan: who did it in which position, to whom it went, with what note, when its
    turn began and when it was done (the time it took, against the profile's mutu baku)."""

    __tablename__ = "usulan_event"

    id: int | None = Field(default=None, primary_key=True)
    usulan_id: int = Field(foreign_key="usulan.id", index=True)
    action: str = Field(max_length=32)
    from_status: str = Field(max_length=16)
    to_status: str = Field(max_length=16)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    posisi: str | None = Field(default=None, max_length=64)  # the position acted in (disposisi)
    to_posisi: str | None = Field(default=None, max_length=64)  # whose turn it became
    note: str = Field(default="", sa_type=sa.Text)
    started_at: datetime = Field(sa_type=UtcDateTime)  # when it became this step's turn
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    mutu_baku: str | None = Field(default=None, max_length=100)  # the standard time, as the SOP writes it
    terlambat: bool | None = None  # done after the standard time (None: the SOP gives none)


class Notifikasi(SQLModel, table=True):
    """One notification to one user: an entry of their web inbox and, unless they turned mail off or
    have no address, a mail in the outbox (``pipeline.inbox.notifications``).  Written in the transaction of
    the step that made it their turn, so no step fails or waits on a mail server; the sender delivers
    it later (``attempts``, ``next_attempt_at``, ``last_error``) and records ``sent_at``.  ``kunci``
    names the occasion (``paraf:12:v7``): the same occasion is never notified twice to one user."""

    __tablename__ = "notifikasi"
    __table_args__ = (
        sa.Index("ix_notifikasi_user_kunci", "user_id", "kunci"),
        sa.Index("ix_notifikasi_outbox", "mail_status", "next_attempt_at"),
        sa.Index("ix_notifikasi_unread", "user_id", "read_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    kind: str = Field(max_length=32)  # pipeline.inbox.notifications.Kind
    kunci: str = Field(max_length=200)
    naskah_id: int | None = Field(default=None, foreign_key="naskah.id", index=True)
    # what else it is about (one at most): an usulan of the intake, a monev round
    usulan_id: int | None = Field(default=None, foreign_key="usulan.id", index=True)
    monev_round_id: int | None = Field(default=None, foreign_key="monev_round.id", index=True)
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_type=sa.Text)
    body_html: str = Field(sa_type=sa.Text)
    link: str = Field(max_length=500)  # a path of the web app (/naskah/12/paraf, /usulan/3, /monev/5)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # the outbox: antre (queued) -> terkirim (sent) | tidak_dikirim (mail off, no address) | gagal (refused)
    mail_status: str = Field(default="antre", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    sent_to: str | None = Field(default=None, max_length=254)
    last_error: str | None = Field(default=None, max_length=500)


class MonevRound(SQLModel, table=True):
    """One round of monitoring dan evaluasi of an archived agreement in force (``pipeline.archival.monev``): the
    Kabag's assignment, the bahan and jadwal, the OPD teknis's Laporan Monitoring, the hasil olah data,
    temuan and evaluasi, the arahan, and the closing dokumen evaluasi.  ``status`` is a
    ``monev_lifecycle.MonevStatus``; ``status_since`` starts the current step's SOP clock."""

    __tablename__ = "monev_round"

    id: int | None = Field(default=None, primary_key=True)
    arsip_id: int = Field(foreign_key="arsip.id", index=True)
    kerja_sama_id: int = Field(foreign_key="kerja_sama.id", index=True)
    status: str = Field(max_length=32, index=True)
    status_since: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    lock_version: int = 0
    # Step 1: the Surat Perintah naming the team.
    surat_perintah: str = Field(max_length=200)
    ketua_tim_id: int = Field(foreign_key="users.id", index=True)
    analis_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    periode_mulai: date  # the period the round looks at
    periode_selesai: date
    catatan_penugasan: str = Field(default="", sa_type=sa.Text)
    assigned_by: int = Field(foreign_key="users.id")
    assigned_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)
    # Steps 2-3: bahan and jadwal; the OPD reports by ``batas_laporan``.
    bahan: str = Field(default="", sa_type=sa.Text)
    jadwal: date | None = None
    batas_laporan: date | None = None
    # Step 4: the OPD teknis's Laporan Monitoring.
    realisasi: str = Field(default="", sa_type=sa.Text)
    kendala: str = Field(default="", sa_type=sa.Text)
    manfaat: str = Field(default="", sa_type=sa.Text)
    rekomendasi: str = Field(default="", sa_type=sa.Text)
    reported_by: int | None = Field(default=None, foreign_key="users.id")
    reported_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
    # Steps 5-8.
    hasil_olah: str = Field(default="", sa_type=sa.Text)
    temuan: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    penilaian: str | None = Field(default=None, max_length=32)  # pipeline.archival.monev.PENILAIAN
    evaluasi: str = Field(default="", sa_type=sa.Text)
    arahan: str = Field(default="", sa_type=sa.Text)
    # Step 9.
    kesimpulan: str = Field(default="", sa_type=sa.Text)  # the dokumen evaluasi's conclusion
    closed_by: int | None = Field(default=None, foreign_key="users.id")
    closed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class MonevEvent(SQLModel, table=True):
    """Every step of a monev round, with its note (a report returned, a round cancelled)."""

    __tablename__ = "monev_event"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="monev_round.id", index=True)
    action: str = Field(max_length=32)  # monev_lifecycle.MonevAction
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str = Field(max_length=32)
    actor_id: int = Field(foreign_key="users.id")
    note: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class MonevLampiran(SQLModel, table=True):
    """A file of a monev round (the report's attachments, a tindak lanjut's proof): checked like every
    upload, kept in the object store by key, version id and sha256."""

    __tablename__ = "monev_lampiran"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="monev_round.id", index=True)
    tindak_lanjut_id: int | None = Field(default=None, foreign_key="monev_tindak_lanjut.id")
    filename: str = Field(max_length=250)
    content_type: str = Field(max_length=100)
    key: str = Field(max_length=512)
    version_id: str = Field(max_length=200)
    sha256: str = Field(max_length=64)
    size: int
    uploaded_by: int = Field(foreign_key="users.id")
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class MonevTindakLanjut(SQLModel, table=True):
    """One item of a round's rencana tindak lanjut: what, who answers for it (an account, or the OPD
    teknis), by when; done with a note."""

    __tablename__ = "monev_tindak_lanjut"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="monev_round.id", index=True)
    arsip_id: int = Field(foreign_key="arsip.id", index=True)
    urutan: int
    uraian: str = Field(sa_type=sa.Text)
    penanggung_jawab_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    penanggung_jawab_opd: str | None = Field(default=None, max_length=200)  # opd_key of the responsible OPD
    penanggung_jawab: str = Field(max_length=300)  # as shown: the person's name and jabatan, or the OPD
    tenggat: date = Field(index=True)
    selesai_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    selesai_by: int | None = Field(default=None, foreign_key="users.id")
    catatan_selesai: str = Field(default="", sa_type=sa.Text)


class MonevPerpanjangan(SQLModel, table=True):
    """The decision whether an archived agreement is extended when it ends (one per agreement; a later
    decision replaces it, the audit trail keeps both)."""

    __tablename__ = "monev_perpanjangan"

    id: int | None = Field(default=None, primary_key=True)
    arsip_id: int = Field(foreign_key="arsip.id", unique=True)
    keputusan: str = Field(max_length=32)  # diperpanjang | tidak_diperpanjang
    catatan: str = Field(default="", sa_type=sa.Text)
    decided_by: int = Field(foreign_key="users.id")
    decided_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
