"""The intake of an usulan kerja sama: from the incoming letter to a case ready for drafting.

Every step goes through :func:`_step`, which checks the role (the table in
``pipeline.usulan_lifecycle``), the person (the profile's ``intake`` section: whose position holds
the usulan now), the status and the guard, writes the step's :class:`UsulanEvent` (note, when the
turn began, when it was done, the profile's mutu baku and whether it was late) and appends the step
to the audit chain, all in the caller's transaction.

Who sees an usulan (:func:`usulan_clause`): Pemda staff who run the process (Bagian Pemerintahan,
Hukum, the secretariat: the roles ``drafter``, ``legal``, ``secretariat``), the officials of the
profile's disposisi chain and the Kepala Daerah who decides (every letter passes them), and the
officials of the OPD teknis the usulan names.  A counterparty's official sees none.  An usulan the
user may not see is not found (404), as one that does not exist.

Where a step makes it someone's turn (a disposisi received, a telaah to write, a decision to make),
:func:`turn_of` names the users whose turn it is; :func:`_turn_changed` is the one call point where
they are told (``pipeline.inbox.flows.usulan_turn``: the inbox and a queued mail, not the person who
took the step).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, func, select

from pipeline import access, audit, turns
from pipeline.auth import require
from pipeline.drafting.attachments import DOCX_TYPE, check_attachment
from pipeline.drafting.cases import (
    COUNTERPARTY_KIND,
    CaseInput,
    LongText,
    Nomor,
    Note,
    PihakInput,
    Text,
    Text200,
    Text300,
)
from pipeline.drafting.cases import create_case as open_case
from pipeline.errors import ActionNotAvailable, Conflict, InvalidInput, NotFound, NotPermitted, RuleViolation
from pipeline.lifecycle import Role
from pipeline.models import JenisKerjaSama, PihakKind, User, Usulan, UsulanEvent, UsulanFile, as_utc, utcnow
from pipeline.sop import Duration, IntakeProfile, Profile
from pipeline.terbilang import HARI, akhir_jangka_waktu
from pipeline.usulan_lifecycle import (
    ACTION_LABELS,
    FINAL_STATES,
    INITIAL_STATE,
    LETTER_STATES,
    STATUS_LABELS,
    Action,
    Letter,
    Status,
    available,
    resolve,
)
from storage.db import session_scope

if TYPE_CHECKING:
    from pipeline.services import Services

__all__ = [
    "KELENGKAPAN",
    "FileKind",
    "Kelengkapan",
    "MitraInput",
    "RapatInput",
    "RekomendasiInput",
    "SuratInput",
    "UsulanInput",
    "UsulanUpdate",
    "add_file",
    "batalkan",
    "catat_rapat",
    "create_usulan",
    "decide",
    "disposisi",
    "draft_letter",
    "events_of",
    "files_of",
    "get_usulan",
    "jadwalkan_rapat",
    "kelengkapan",
    "lengkapi",
    "list_usulan",
    "may_record",
    "open_actions",
    "open_letters",
    "read_file",
    "rekomendasi",
    "telaah",
    "turn_of",
    "usulan_clause",
    "waiting_on",
]

log = logging.getLogger(__name__)

#: What an uploaded file of an usulan is: the letter's scan, a KAK or feasibility study, a telaah's file.
FileKind = Literal["surat", "kak", "fs", "telaah", "lampiran"]
UPLOAD_KINDS: tuple[str, ...] = ("surat", "kak", "fs", "telaah", "lampiran")
#: Where each uploaded kind may be added (the telaah's files while studying; the rest until the decision).
_UPLOAD_STATES = {
    "surat": {Status.DITERIMA, Status.DISPOSISI, Status.TELAAH},
    "kak": {Status.DITERIMA, Status.DISPOSISI, Status.TELAAH, Status.RAPAT},
    "fs": {Status.DITERIMA, Status.DISPOSISI, Status.TELAAH, Status.RAPAT},
    "lampiran": {Status.DITERIMA, Status.DISPOSISI, Status.TELAAH, Status.RAPAT},
    "telaah": {Status.TELAAH, Status.RAPAT},
}
MAX_FILES = 30
PDF_TYPE = "application/pdf"

#: The SOP's kelengkapan (seed 000 step 1; seed 002 "Surat Penawaran, Kerangka Acuan Kerja"; seed 003
#: "KAK atau FS"), plus what opening the case needs (jenis kerja sama, the counterparty, the OPD teknis).
KELENGKAPAN: tuple[tuple[str, str], ...] = (
    ("surat", "surat penawaran/permohonan (pindaian)"),
    ("kak", "kerangka acuan kerja (KAK) atau studi kelayakan (FS)"),
    ("objek", "objek yang akan dikerjasamakan"),
    ("manfaat", "manfaat kerja sama"),
    ("bentuk", "bentuk kerja sama"),
    ("tahun_anggaran_mulai", "tahun anggaran mulai kerja sama"),
    ("jangka_waktu", "jangka waktu kerja sama"),
    ("jenis_kerja_sama", "jenis kerja sama (KSDD, KSDPK atau KSIV)"),
    ("mitra", "mitra kerja sama dan penanda tangannya"),
    ("opd_teknis", "OPD teknis pelaksana"),
)

PengirimKind = Literal["pemda", "pihak_ketiga", "instansi_vertikal", "opd"]
Rekomendasi = Literal["setuju", "tolak"]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MitraInput(_Input):
    """The counterparty of the kerja sama and who signs for it (a penawaran: by default its sender)."""

    instansi: Text300
    kind: PihakKind
    alamat: Text | None = None
    penandatangan_nama: Text200
    penandatangan_jabatan: Text200


class _Kelengkapan(_Input):
    jenis_kerja_sama: JenisKerjaSama | None = None
    objek: LongText | None = None
    manfaat: LongText | None = None
    bentuk: Text200 | None = None
    tahun_anggaran_mulai: int | None = Field(default=None, ge=2000, le=2100)
    jangka_waktu_bulan: int | None = Field(
        default=None, ge=1, le=60, description="jangka waktu kerja sama dalam bulan (paling lama 5 tahun)"
    )
    opd_teknis: Text200 | None = None
    mitra: MitraInput | None = None


class UsulanInput(_Kelengkapan):
    """An incoming letter, as the Tata Usaha records it; missing kelengkapan is listed, not refused."""

    jenis: Literal["penawaran", "permohonan"]
    perihal: Text
    surat_nomor: Nomor
    surat_tanggal: date
    diterima_at: datetime | None = Field(default=None, description="kapan surat diterima; kosong = sekarang")
    pengirim_instansi: Text300
    pengirim_kind: PengirimKind
    pengirim_nama: Text200 | None = None
    pengirim_jabatan: Text200 | None = None
    pengirim_alamat: Text | None = None


class UsulanUpdate(_Kelengkapan):
    """Kelengkapan completed later (the sender sent what was missing); omitted fields stay."""

    perihal: Text | None = None


class RapatInput(_Input):
    waktu: datetime = Field(description="waktu rapat; tanpa zona waktu = zona waktu profil")
    tempat: Text300
    acara: Text = "Pembahasan usulan kerja sama"
    peserta: list[Text] = Field(
        default_factory=list,
        max_length=50,
        description="undangan selain OPD teknis dan mitra (keduanya selalu diundang)",
    )


class RapatHasil(_Input):
    notulen: LongText = Field(description="hasil pembahasan; satu butir per baris")
    kesimpulan: LongText
    rekomendasi: Rekomendasi
    rekomendasi_catatan: Note = ""
    hadir: list[Text] | None = Field(default=None, max_length=50, description="yang hadir; kosong = semua undangan")


class RekomendasiInput(_Input):
    note: Note = ""


def _nip(value: str) -> str:
    """An NIP as people write it (18 digits, spaces allowed), refused in words a person can act on."""
    digits = value.replace(" ", "")
    if not (digits.isascii() and digits.isdigit() and len(digits) == 18):
        raise ValueError("NIP terdiri dari 18 angka (boleh dipisah spasi), mis. 19800101 200501 1 001")
    return value


NipText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=30), AfterValidator(_nip)]


class Penandatangan(_Input):
    nama: Text200
    jabatan: Text200
    pangkat: Text200 | None = None
    nip: NipText | None = None


class SuratInput(_Input):
    """An outgoing letter (or the berita acara) drafted from its template."""

    nomor: Nomor
    tempat: Text200 = Field(description="tempat surat dibuat, mis. Tanah Grogot")
    tanggal: date | None = Field(default=None, description="kosong = hari ini (zona waktu profil)")
    isi: list[LongText] | None = Field(default=None, max_length=30, description="paragraf isi; kosong = isi baku")
    tembusan: list[Text] = Field(default_factory=list, max_length=20)
    penandatangan: Penandatangan | None = Field(default=None, description="kosong = pejabat baku surat ini")
    sifat: Text200 | None = None
    lampiran: Text200 | None = None


class KeputusanInput(_Input):
    setuju: bool
    note: Note = ""
    mulai: date | None = Field(
        default=None,
        description="disetujui: mulai kerja sama, tidak sebelum hari keputusan; kosong = 1 Januari tahun anggaran "
        "(atau hari keputusan bila tanggal itu sudah lewat)",
    )
    surat: SuratInput | None = Field(default=None, description="ditolak: surat jawaban (wajib)")


# --- the profile and visibility -----------------------------------------------------------------


def _intake(profile: Profile) -> IntakeProfile:
    if profile.intake is None:
        raise InvalidInput(
            f"Profil SOP '{profile.name}' belum mengatur penerimaan usulan (bagian intake).",
            reason="intake_not_configured",
            profile=profile.name,
        )
    return profile.intake


def _sees_all(user: User, profile: Profile) -> bool:
    if user.pihak_luar:
        return False
    if user.role_set & access.STAFF_ROLES:
        return True
    intake = profile.intake
    return intake is not None and bool(user.posisi_set & {*intake.disposisi, intake.pemutus})


def usulan_clause(user: User, profile: Profile) -> ColumnElement[bool]:
    """A condition on ``Usulan`` true exactly for the usulan ``user`` may see (module docstring)."""
    if _sees_all(user, profile):
        return sa.true()
    if user.pihak_luar:
        return sa.false()
    key = access.opd_key(user.opd)
    if not key:
        return Usulan.created_by == (user.id or 0)
    return sa.or_(Usulan.opd_key == key, Usulan.created_by == (user.id or 0))


def get_usulan(session: Session, user: User, usulan_id: int, *, profile: Profile) -> Usulan:
    require(user, "read")
    row = session.exec(select(Usulan).where(Usulan.id == usulan_id, usulan_clause(user, profile))).first()
    if row is None:
        raise NotFound(f"Usulan kerja sama dengan id {usulan_id} tidak ditemukan.", usulan_id=usulan_id)
    return row


def _like(text: str) -> str:
    """``%text%`` for LIKE, its own wildcards escaped (a ``%`` typed is a ``%`` searched)."""
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_usulan(
    session: Session,
    user: User,
    *,
    profile: Profile,
    status: Status | None = None,
    jenis: str | None = None,
    q: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Usulan], int]:
    """The usulan ``user`` may see, newest first, and how many (the same conditions count); ``jenis``
    (penawaran or permohonan) and ``q`` (every word in the perihal, the sender or the letter's nomor)
    narrow it."""
    require(user, "read")
    where = [usulan_clause(user, profile)]
    if status is not None:
        where.append(Usulan.status == status.value)
    if jenis:
        where.append(Usulan.jenis == jenis)
    for word in (q or "").split()[:10]:
        pattern = _like(word)
        where.append(
            sa.or_(
                func.lower(Usulan.perihal).like(pattern, escape="\\"),
                func.lower(Usulan.pengirim_instansi).like(pattern, escape="\\"),
                func.lower(Usulan.surat_nomor).like(pattern, escape="\\"),
            )
        )
    total = int(session.exec(select(func.count()).select_from(Usulan).where(*where)).one())
    rows = session.exec(select(Usulan).where(*where).order_by(col(Usulan.id).desc()).offset(offset).limit(limit))
    return list(rows.all()), total


# --- kelengkapan --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kelengkapan:
    """The SOP's kelengkapan of an usulan: each item present or not, and the missing ones named."""

    items: list[dict[str, Any]]

    @property
    def kurang(self) -> list[str]:
        return [i["label"] for i in self.items if not i["ada"]]

    @property
    def lengkap(self) -> bool:
        return not self.kurang

    def public(self) -> dict[str, Any]:
        return {"lengkap": self.lengkap, "kurang": self.kurang, "items": self.items}


def kelengkapan(session: Session, usulan: Usulan) -> Kelengkapan:
    kinds = set(session.exec(select(UsulanFile.kind).where(UsulanFile.usulan_id == usulan.id)).all())
    present = {
        "surat": "surat" in kinds,
        "kak": bool(kinds & {"kak", "fs"}),
        "objek": bool(usulan.objek),
        "manfaat": bool(usulan.manfaat),
        "bentuk": bool(usulan.bentuk),
        "tahun_anggaran_mulai": usulan.tahun_anggaran_mulai is not None,
        "jangka_waktu": usulan.jangka_waktu_bulan is not None,
        "jenis_kerja_sama": usulan.jenis_kerja_sama is not None,
        "mitra": bool(usulan.mitra),
        "opd_teknis": bool(usulan.opd_teknis),
    }
    return Kelengkapan([{"key": key, "label": label, "ada": present[key]} for key, label in KELENGKAPAN])


def _require_lengkap(session: Session, usulan: Usulan, doing: str) -> None:
    check = kelengkapan(session, usulan)
    if not check.lengkap:
        raise RuleViolation(
            f"Usulan belum lengkap, sehingga belum dapat {doing}. Yang belum ada: {', '.join(check.kurang)}.",
            reason="kelengkapan",
            kurang=check.kurang,
            usulan_id=usulan.id,
        )


def _check_mitra(jenis: str | None, mitra: dict[str, Any] | None) -> None:
    if jenis is None or not mitra:
        return
    expected = COUNTERPARTY_KIND[JenisKerjaSama(jenis)]
    if mitra.get("kind") != expected.value:
        raise RuleViolation(
            f"Untuk kerja sama {jenis}, mitra harus berjenis '{expected.value}', bukan '{mitra.get('kind')}'.",
            field="mitra.kind",
            expected=expected.value,
        )


_DEFAULT_JENIS = {"pemda": "KSDD", "pihak_ketiga": "KSDPK", "instansi_vertikal": "KSIV"}


# --- turns, clocks and the step -----------------------------------------------------------------


def _users_at(session: Session, posisi: str) -> list[User]:
    rows = session.exec(select(User).where(User.active == True, col(User.posisi).contains(posisi))).all()  # noqa: E712
    return [u for u in rows if posisi in u.posisi_set and not u.pihak_luar]


def turn_of(session: Session, profile: Profile, usulan: Usulan) -> list[User]:
    """The users whose turn the usulan is now (for notifications and the inbox): the holders of the
    position it was disposed to, the analis while studying and preparing the meeting, the Kepala
    Daerah for the decision; nobody once decided or withdrawn."""
    if Status(usulan.status) in FINAL_STATES or profile.intake is None:
        return []
    intake = profile.intake
    if usulan.status == Status.KEPUTUSAN.value:
        return _users_at(session, intake.pemutus)
    if usulan.status in (Status.TELAAH.value, Status.RAPAT.value):
        holders = _users_at(session, intake.disposisi[-1])
        if usulan.pengkaji_id is not None:
            holders = [u for u in holders if u.id == usulan.pengkaji_id] or holders
        return holders
    return _users_at(session, usulan.posisi or intake.disposisi[0])


def waiting_on(session: Session, user: User, profile: Profile) -> list[Usulan]:
    """The usulan whose turn is ``user``'s now (:func:`turn_of`), the longest waiting first: the first
    thing their list shows.  Only positions of the profile's intake can hold a turn, so a user holding
    none waits on nothing; the candidates are narrowed in SQL, then each is asked :func:`turn_of`."""
    intake = profile.intake
    if intake is None or user.pihak_luar or not user.posisi_set:
        return []
    mine = user.posisi_set
    conditions: list[ColumnElement[bool]] = []
    chain = [p for p in intake.disposisi if p in mine]
    if chain:
        conditions.append(
            sa.and_(
                col(Usulan.status).in_([Status.DITERIMA.value, Status.DISPOSISI.value]), col(Usulan.posisi).in_(chain)
            )
        )
    if intake.disposisi[-1] in mine:
        conditions.append(col(Usulan.status).in_([Status.TELAAH.value, Status.RAPAT.value]))
    if intake.pemutus in mine:
        conditions.append(Usulan.status == Status.KEPUTUSAN.value)
    if not conditions:
        return []
    rows = session.exec(
        select(Usulan).where(usulan_clause(user, profile), sa.or_(*conditions)).order_by(col(Usulan.turn_since))
    ).all()
    return [u for u in rows if any(holder.id == user.id for holder in turn_of(session, profile, u))]


def open_actions(profile: Profile, usulan: Usulan, user: User) -> list[Action]:
    """The steps ``user`` may take on ``usulan`` now, by the table (role, status) and the profile (the
    position whose turn it is), in the table's order: what a page offers as forms.  Guards are not
    evaluated here: a missing kelengkapan or notulen is named when the step is tried."""
    intake = profile.intake
    if intake is None or user.pihak_luar:
        return []
    mine = user.posisi_set
    analis_steps = {Action.TELAAH, Action.JADWALKAN_RAPAT, Action.CATAT_RAPAT, Action.REKOMENDASI}
    out: list[Action] = []
    for action in available(Status(usulan.status), _roles(user)):
        if action == Action.DISPOSISI and (usulan.posisi or intake.disposisi[0]) not in mine:
            continue
        if action in analis_steps and intake.disposisi[-1] not in mine:
            continue
        if action in (Action.SETUJUI, Action.TOLAK) and intake.pemutus not in mine:
            continue
        out.append(action)
    return out


#: Which outgoing letters suit which usulan once decided: a penawaran is answered (balasan); an OPD's
#: approved permohonan becomes our own offer or request to the counterparty.
_LETTERS_FOR = {
    "penawaran": {Letter.UNDANGAN, Letter.BERITA_ACARA, Letter.JAWABAN, Letter.BALASAN},
    "permohonan": {Letter.UNDANGAN, Letter.BERITA_ACARA, Letter.JAWABAN, Letter.PENAWARAN, Letter.PERMOHONAN},
}


def open_letters(profile: Profile, usulan: Usulan, user: User) -> list[Letter]:
    """The letters ``user`` may draft on ``usulan`` now (:func:`draft_letter`'s checks: the analis, a
    drafter, in the states :data:`LETTER_STATES` names), in :class:`Letter`'s order."""
    intake = profile.intake
    if intake is None or user.pihak_luar or Role.DRAFTER not in _roles(user):
        return []
    if intake.disposisi[-1] not in user.posisi_set:
        return []
    status = Status(usulan.status)
    return [
        letter
        for letter in Letter
        if status in LETTER_STATES[letter] and letter in _LETTERS_FOR.get(usulan.jenis, set(Letter))
    ]


def may_record(user: User) -> bool:
    """Whether ``user`` may record an incoming letter (:func:`create_usulan`: Tata Usaha or Bagian
    Pemerintahan)."""
    return not user.pihak_luar and bool(_roles(user) & {Role.SECRETARIAT, Role.DRAFTER})


def _turn_changed(
    session: Session, profile: Profile, usulan: Usulan, action: Action | str, actor: User | None = None
) -> None:
    """THE call point for notifications: the usulan became someone's turn (a disposisi received, a
    telaah to write, a meeting to prepare, a decision to make).  The notifier never fails the step (it
    writes inside a savepoint of the step's still open transaction)."""
    recipients = turn_of(session, profile, usulan)
    log.info(
        "usulan %s after %s: turn of %s",
        usulan.id,
        action,
        ", ".join(u.username for u in recipients) or "nobody",
    )
    turns.announce("usulan", session, profile, usulan, actor)  # pipeline.inbox.flows.usulan_turn listens


def _standard(intake: IntakeProfile, step: str | None) -> Duration | None:
    return intake.standard(step) if step else None


def _step_key(usulan: Usulan, action: Action) -> str | None:
    """Which mutu baku the step just done is held to (the turn that ends with it)."""
    if action == Action.DISPOSISI:
        return f"disposisi.{usulan.posisi}"
    if action == Action.JADWALKAN_RAPAT and usulan.status == Status.TELAAH.value:
        return "telaah"
    if action == Action.REKOMENDASI:
        return "rapat"
    if action in (Action.SETUJUI, Action.TOLAK):
        return "keputusan"
    return None


def deadline_of(profile: Profile, usulan: Usulan) -> datetime | None:
    """When the current turn is due by the profile's mutu baku (None: none set, or nothing is due)."""
    if profile.intake is None or Status(usulan.status) in FINAL_STATES:
        return None
    step = {
        Status.DITERIMA.value: f"disposisi.{usulan.posisi}",
        Status.DISPOSISI.value: f"disposisi.{usulan.posisi}",
        Status.TELAAH.value: "telaah",
        Status.RAPAT.value: "rapat",
        Status.KEPUTUSAN.value: "keputusan",
    }[usulan.status]
    standard = profile.intake.standard(step)
    if standard is None:
        return None
    return profile.deadline(standard, usulan.turn_since)


def _record_event(
    session: Session,
    usulan: Usulan,
    user: User,
    action: str,
    *,
    source: str,
    target: str,
    started_at: datetime,
    standard: Duration | None,
    note: str = "",
    posisi: str | None = None,
    to_posisi: str | None = None,
    profile: Profile,
) -> UsulanEvent:
    now = utcnow()
    late = None
    if standard is not None:
        late = now > profile.deadline(standard, started_at)
    event = UsulanEvent(
        usulan_id=usulan.id or 0,
        action=action,
        from_status=source,
        to_status=target,
        actor_id=user.id,
        posisi=posisi,
        to_posisi=to_posisi,
        note=note.strip(),
        started_at=started_at,
        at=now,
        mutu_baku=standard.text if standard else None,
        terlambat=late,
    )
    session.add(event)
    return event


def _roles(user: User) -> set[Role]:
    out = set()
    for name in user.role_set:
        try:
            out.add(Role(name))
        except ValueError:
            continue
    return out


#: Who holds a role, as the people of a Pemda say it (the role's code in brackets, as the admin sets it).
_ROLE_LABELS: dict[Role, str] = {
    Role.DRAFTER: "Bagian Pemerintahan (peran drafter)",
    Role.LEGAL: "Bagian Hukum (peran legal)",
    Role.PARAF: "pejabat pemberi paraf (peran paraf)",
    Role.SIGNER: "Kepala Daerah (peran signer)",
    Role.SECRETARIAT: "Tata Usaha/Sekretariat (peran secretariat)",
    Role.ADMIN: "admin",
}


def _step(
    session: Session,
    profile: Profile,
    usulan: Usulan,
    user: User,
    action: Action,
    *,
    note: str = "",
    guards: dict[str, bool] | None = None,
    expected_version: int | None = None,
    detail: dict[str, Any] | None = None,
    to_posisi: str | None = None,
    posisi: str | None = None,
) -> UsulanEvent:
    """One step of the table: role, status, guard, note; the event, the turn, the audit entry."""
    intake = _intake(profile)
    if expected_version is not None and expected_version != usulan.lock_version:
        raise Conflict(
            "Usulan telah diubah oleh pengguna lain. Muat ulang lalu coba lagi.",
            usulan_id=usulan.id,
            reason="stale",
        )
    status = Status(usulan.status)
    try:
        row = resolve(status, action, guards)
    except LookupError:
        raise ActionNotAvailable(
            f"Usulan berstatus '{STATUS_LABELS[status]}': tidak dapat {ACTION_LABELS[action]}.",
            usulan_id=usulan.id,
            status=status.value,
            action=action.value,
            reason="not_in_this_status",
        ) from None
    if not (row.roles & _roles(user)):
        raise NotPermitted(
            f"Anda tidak dapat {ACTION_LABELS[action]}: tindakan ini untuk "
            f"{' atau '.join(_ROLE_LABELS[r] for r in sorted(row.roles))}.",
            action=action.value,
            roles=sorted(r.value for r in row.roles),
        )
    if row.note_required and not note.strip():
        raise InvalidInput(f"Catatan wajib diisi untuk {ACTION_LABELS[action]}.", field="note", reason="note_required")
    source = usulan.status
    started = usulan.turn_since
    standard = _standard(intake, _step_key(usulan, action))
    turn_moves = row.target.value != source or (to_posisi is not None and to_posisi != usulan.posisi)
    _record_event(
        session,
        usulan,
        user,
        action.value,
        source=source,
        target=row.target.value,
        started_at=started,
        standard=standard,
        note=note,
        posisi=posisi,
        to_posisi=to_posisi,
        profile=profile,
    )
    _claim(session, usulan)
    now = utcnow()
    usulan.status = row.target.value
    usulan.updated_at = now
    if to_posisi is not None:
        usulan.posisi = to_posisi
    if turn_moves:
        usulan.turn_since = now
    session.add(usulan)
    audit.record(
        session,
        user,
        f"usulan_{action.value}",
        kerja_sama_id=usulan.kerja_sama_id,
        usulan_id=usulan.id,
        **{"from": source, "to": row.target.value},
        note=note.strip() or None,
        took_seconds=int((now - started).total_seconds()) if turn_moves else None,
        **(detail or {}),
    )
    if turn_moves:
        _turn_changed(session, profile, usulan, action, user)
    return row  # type: ignore[return-value]


def _claim(session: Session, usulan: Usulan) -> None:
    """Bump ``lock_version`` only if nobody has since the usulan was read (compare and set, in the
    caller's transaction), so two people racing for the same step (two decisions, two disposisi)
    cannot both succeed: the other gets a 409 and its transaction, a case it opened included, is
    rolled back.  The session's pending changes are flushed first (an ORM statement autoflushes)."""
    read = usulan.lock_version
    result = session.execute(
        sa.update(Usulan)
        .where(col(Usulan.id) == usulan.id, col(Usulan.lock_version) == read)
        .values(lock_version=read + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            "Usulan telah diubah oleh pengguna lain pada saat yang sama. Muat ulang lalu coba lagi.",
            usulan_id=usulan.id,
            reason="stale",
        )
    set_committed_value(usulan, "lock_version", read + 1)


def _require_posisi(user: User, posisi: str, profile: Profile, doing: str) -> None:
    if posisi not in user.posisi_set:
        position = profile.positions.get(posisi)
        raise NotPermitted(
            f"Giliran {position.jabatan if position else posisi} untuk {doing}; Anda tidak memegang jabatan itu.",
            reason="not_your_turn",
            posisi=posisi,
        )


# --- recording and completing --------------------------------------------------------------------


def _apply_kelengkapan(usulan: Usulan, data: _Kelengkapan, fields: set[str]) -> list[str]:
    changed = []
    for name in fields:
        value = getattr(data, name)
        if name == "mitra":
            value = value.model_dump(mode="json") if value is not None else None
        elif name == "jenis_kerja_sama" and value is not None:
            value = value.value
        if value is None:
            continue
        setattr(usulan, name, value)
        changed.append(name)
    if "opd_teknis" in changed:
        usulan.opd_key = access.opd_key(usulan.opd_teknis)
    _check_mitra(usulan.jenis_kerja_sama, usulan.mitra)
    return sorted(changed)


def create_usulan(session: Session, user: User, data: UsulanInput, *, profile: Profile) -> Usulan:
    """Record an incoming letter (Tata Usaha / Bagian Pemerintahan).  It goes to the first official of
    the profile's disposisi chain.  A penawaran's sender is its mitra unless another is named, and its
    jenis kerja sama follows from the sender (another daerah: KSDD, a third party: KSDPK, an instansi
    vertikal: KSIV).  Missing kelengkapan is listed on the usulan, and holds it before the meeting."""
    intake = _intake(profile)
    require(user, "read")
    if not (_roles(user) & {Role.SECRETARIAT, Role.DRAFTER}):
        raise NotPermitted("Usulan kerja sama dicatat oleh Tata Usaha atau Bagian Pemerintahan.", action="catat")
    if data.jenis == "permohonan" and data.pengirim_kind != "opd":
        raise RuleViolation(
            "Permohonan kerja sama datang dari Perangkat Daerah sendiri (jenis pengirim 'opd'); surat dari pihak "
            "lain dicatat sebagai penawaran.",
            field="pengirim_kind",
        )
    if data.jenis == "penawaran" and data.pengirim_kind == "opd":
        raise RuleViolation(
            "Penawaran datang dari daerah lain, pihak ketiga atau instansi vertikal; usulan Perangkat Daerah "
            "dicatat sebagai permohonan.",
            field="pengirim_kind",
        )
    received = as_utc(data.diterima_at) if data.diterima_at else utcnow()
    if received > utcnow() + timedelta(minutes=5):
        raise InvalidInput("Waktu surat diterima tidak boleh di masa depan.", field="diterima_at")
    if data.surat_tanggal > received.astimezone(profile.tz).date():
        raise InvalidInput("Tanggal surat tidak boleh sesudah surat diterima.", field="surat_tanggal")
    assert user.id is not None
    usulan = Usulan(
        jenis=data.jenis,
        status=INITIAL_STATE.value,
        perihal=data.perihal,
        surat_nomor=data.surat_nomor,
        surat_tanggal=data.surat_tanggal,
        diterima_at=received,
        pengirim_instansi=data.pengirim_instansi,
        pengirim_kind=data.pengirim_kind,
        pengirim_nama=data.pengirim_nama,
        pengirim_jabatan=data.pengirim_jabatan,
        pengirim_alamat=data.pengirim_alamat,
        posisi=intake.disposisi[0],
        turn_since=utcnow(),
        created_by=user.id,
    )
    fields = set(_Kelengkapan.model_fields) & data.model_fields_set
    _apply_kelengkapan(usulan, data, fields)
    if data.jenis == "penawaran":
        if usulan.jenis_kerja_sama is None:
            usulan.jenis_kerja_sama = _DEFAULT_JENIS[data.pengirim_kind]
        if not usulan.mitra and data.pengirim_nama and data.pengirim_jabatan:
            usulan.mitra = {
                "instansi": data.pengirim_instansi,
                "kind": data.pengirim_kind,
                "alamat": data.pengirim_alamat,
                "penandatangan_nama": data.pengirim_nama,
                "penandatangan_jabatan": data.pengirim_jabatan,
            }
    elif not usulan.opd_teknis:
        usulan.opd_teknis = data.pengirim_instansi  # an OPD's own permohonan: it carries it out
        usulan.opd_key = access.opd_key(usulan.opd_teknis)
    _check_mitra(usulan.jenis_kerja_sama, usulan.mitra)
    session.add(usulan)
    session.flush()
    standard = intake.standard("diterima")
    _record_event(
        session,
        usulan,
        user,
        "catat",
        source="",
        target=usulan.status,
        started_at=received,
        standard=standard,
        to_posisi=usulan.posisi,
        profile=profile,
    )
    audit.record(
        session,
        user,
        "usulan_catat",
        usulan_id=usulan.id,
        jenis=usulan.jenis,
        perihal=usulan.perihal,
        surat_nomor=usulan.surat_nomor,
        pengirim=usulan.pengirim_instansi,
        kurang=kelengkapan(session, usulan).kurang,
    )
    _turn_changed(session, profile, usulan, "catat", user)
    return usulan


def lengkapi(session: Session, user: User, usulan_id: int, data: UsulanUpdate, *, profile: Profile) -> Usulan:
    """Complete the kelengkapan (or correct it) before the meeting."""
    usulan = get_usulan(session, user, usulan_id, profile=profile)
    fields = data.model_fields_set
    if data.perihal is not None:
        usulan.perihal = data.perihal
    changed = _apply_kelengkapan(usulan, data, fields & set(_Kelengkapan.model_fields))
    if data.perihal is not None:
        changed.append("perihal")
    if not changed:
        raise InvalidInput("Tidak ada isian yang diubah.", reason="nothing_changed")
    _step(session, profile, usulan, user, Action.LENGKAPI, detail={"fields": changed, "kurang": None})
    return usulan


def add_file(svc: Services, user: User, usulan_id: int, kind: str, data: bytes, filename: str | None) -> UsulanFile:
    """Attach a file (the letter's scan, a KAK or FS, a telaah's file), checked before it is stored."""
    if kind not in UPLOAD_KINDS:
        raise InvalidInput(
            f"Jenis lampiran '{kind}' tidak dikenal; pilih {', '.join(UPLOAD_KINDS)}.", field="kind", kind=kind
        )
    with session_scope(svc.engine) as session:
        usulan = get_usulan(session, user, usulan_id, profile=svc.profile)
        _check_upload(session, svc.profile, usulan, user, kind)
    checked = check_attachment(data, filename, docx_limits=svc.docx_limits, pdf_limits=svc.pdf_limits)
    digest = hashlib.sha256(data).hexdigest()
    stored = svc.put(f"usulan/{usulan_id}/{kind}-{digest[:16]}.{checked.extension}", data, checked.content_type)
    with session_scope(svc.engine) as session:
        usulan = get_usulan(session, user, usulan_id, profile=svc.profile)
        _check_upload(session, svc.profile, usulan, user, kind)
        row = UsulanFile(
            usulan_id=usulan_id,
            kind=kind,
            filename=checked.filename,
            content_type=checked.content_type,
            key=stored.key,
            version_id=stored.version_id,
            sha256=stored.sha256,
            size=len(data),
            uploaded_by=user.id,
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            user,
            "usulan_lampiran",
            sha256=stored.sha256,
            usulan_id=usulan_id,
            kind=kind,
            filename=checked.filename,
            file_id=row.id,
        )
        session.refresh(row)
        session.expunge(row)
    return row


def _check_upload(session: Session, profile: Profile, usulan: Usulan, user: User, kind: str) -> None:
    if not (_roles(user) & {Role.SECRETARIAT, Role.DRAFTER}):
        raise NotPermitted("Lampiran usulan diunggah oleh Tata Usaha atau Bagian Pemerintahan.", action="lampiran")
    if kind == "telaah":
        _require_posisi(user, _intake(profile).disposisi[-1], profile, "menyusun telaah")
    status = Status(usulan.status)
    if status not in _UPLOAD_STATES[kind]:
        raise ActionNotAvailable(
            f"Usulan berstatus '{STATUS_LABELS[status]}': lampiran '{kind}' tidak dapat ditambahkan lagi.",
            usulan_id=usulan.id,
            status=status.value,
            reason="not_in_this_status",
        )
    count = session.exec(select(func.count()).select_from(UsulanFile).where(UsulanFile.usulan_id == usulan.id)).one()
    if int(count) >= MAX_FILES:
        raise RuleViolation(f"Usulan sudah memiliki {MAX_FILES} berkas; tidak dapat ditambah lagi.", limit=MAX_FILES)


def files_of(session: Session, usulan_id: int) -> list[UsulanFile]:
    return list(
        session.exec(select(UsulanFile).where(UsulanFile.usulan_id == usulan_id).order_by(col(UsulanFile.id))).all()
    )


def events_of(session: Session, usulan_id: int) -> list[UsulanEvent]:
    return list(
        session.exec(select(UsulanEvent).where(UsulanEvent.usulan_id == usulan_id).order_by(col(UsulanEvent.id))).all()
    )


def read_file(
    svc: Services, user: User, usulan_id: int, file_id: int, *, pdf: bool = False
) -> tuple[UsulanFile, bytes]:
    """A file of an usulan the user may see (its PDF for a drafted letter when ``pdf``); the download is audited."""
    with session_scope(svc.engine) as session:
        get_usulan(session, user, usulan_id, profile=svc.profile)
        row = session.get(UsulanFile, file_id)
        if row is None or row.usulan_id != usulan_id:
            raise NotFound(f"Berkas {file_id} tidak ditemukan pada usulan ini.", file_id=file_id)
        session.expunge(row)
    if pdf:
        if not row.pdf_key or not row.pdf_version_id or not row.pdf_sha256:
            raise NotFound("Berkas ini tidak memiliki versi PDF.", file_id=file_id)
        data = svc.get(row.pdf_key, row.pdf_version_id, row.pdf_sha256)
        digest = row.pdf_sha256
    else:
        data = svc.get(row.key, row.version_id, row.sha256)
        digest = row.sha256
    audit.record_now(svc.engine, user, "usulan_unduh", sha256=digest, usulan_id=usulan_id, file_id=file_id)
    return row, data


# --- disposisi, telaah, rapat, rekomendasi ----------------------------------------------------------


def disposisi(
    session: Session, user: User, usulan_id: int, note: str, *, profile: Profile, expected_version: int | None = None
) -> Usulan:
    """The official holding the usulan disposes it to the next of the chain, with a note (the disposisi's
    instruction).  The last but one hands it to the analis: the telaah begins."""
    intake = _intake(profile)
    usulan = get_usulan(session, user, usulan_id, profile=profile)
    current = usulan.posisi or intake.disposisi[0]
    if usulan.status in (Status.DITERIMA.value, Status.DISPOSISI.value):
        _require_posisi(user, current, profile, "mendisposisikan usulan ini")
    chain = intake.disposisi
    index = chain.index(current) if current in chain else 0
    following = chain[index + 1] if index + 1 < len(chain) else None
    last = following == chain[-1]
    _step(
        session,
        profile,
        usulan,
        user,
        Action.DISPOSISI,
        note=note,
        guards={"chain_remaining": following is not None and not last, "chain_complete": last},
        expected_version=expected_version,
        posisi=current,
        to_posisi=following,
        detail={"posisi": current, "kepada": following},
    )
    return usulan


def _require_analis(user: User, usulan: Usulan, profile: Profile, doing: str) -> None:
    _require_posisi(user, _intake(profile).disposisi[-1], profile, doing)


def telaah(session: Session, user: User, usulan_id: int, text: str, *, profile: Profile) -> Usulan:
    """The analis's study of the usulan (text; files through :func:`add_file` kind ``telaah``)."""
    usulan = get_usulan(session, user, usulan_id, profile=profile)
    if usulan.status == Status.TELAAH.value:
        _require_analis(user, usulan, profile, "menyusun telaah")
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInput("Isi telaah wajib diisi.", field="telaah")
    _step(session, profile, usulan, user, Action.TELAAH, detail={"chars": len(cleaned)})
    usulan.telaah = cleaned
    usulan.pengkaji_id = user.id
    session.add(usulan)
    return usulan


def _local(profile: Profile, at: datetime) -> datetime:
    return at.replace(tzinfo=profile.tz) if at.tzinfo is None else at


def jadwalkan_rapat(session: Session, user: User, usulan_id: int, data: RapatInput, *, profile: Profile) -> Usulan:
    """Schedule (or move) the TKKSD meeting.  The OPD teknis and the counterparty are always invited.
    The first scheduling needs the telaah and the whole kelengkapan (the missing items are named)."""
    usulan = get_usulan(session, user, usulan_id, profile=profile)
    if usulan.status in (Status.TELAAH.value, Status.RAPAT.value):
        _require_analis(user, usulan, profile, "menjadwalkan rapat TKKSD")
    if usulan.status == Status.TELAAH.value:
        if not usulan.telaah:
            raise RuleViolation("Telaah analis belum disusun; susun telaah sebelum menjadwalkan rapat.", field="telaah")
        _require_lengkap(session, usulan, "dibahas dalam rapat TKKSD")
    waktu = _local(profile, data.waktu).astimezone(UTC)
    if waktu.astimezone(profile.tz).date() < usulan.surat_tanggal:
        raise InvalidInput("Waktu rapat tidak boleh sebelum tanggal surat usulan.", field="waktu")
    peserta: list[dict[str, Any]] = []
    if usulan.opd_teknis:
        peserta.append({"nama": usulan.opd_teknis, "peran": "OPD teknis"})
    if usulan.mitra:
        peserta.append({"nama": usulan.mitra["instansi"], "peran": "mitra"})
    known = {access.opd_key(p["nama"]) for p in peserta}
    for name in data.peserta:
        if access.opd_key(name) not in known:
            known.add(access.opd_key(name))
            peserta.append({"nama": name, "peran": "undangan"})
    _step(
        session,
        profile,
        usulan,
        user,
        Action.JADWALKAN_RAPAT,
        guards={"lengkap": True},
        detail={"waktu": waktu.isoformat(), "tempat": data.tempat, "peserta": len(peserta)},
    )
    usulan.rapat_waktu, usulan.rapat_tempat, usulan.rapat_acara = waktu, data.tempat, data.acara
    usulan.rapat_peserta = peserta
    usulan.pengkaji_id = usulan.pengkaji_id or user.id
    session.add(usulan)
    return usulan


def catat_rapat(session: Session, user: User, usulan_id: int, data: RapatHasil, *, profile: Profile) -> Usulan:
    """The meeting's notulen, conclusion and recommendation (the berita acara is drafted from them)."""
    usulan = get_usulan(session, user, usulan_id, profile=profile)
    if usulan.status == Status.RAPAT.value:
        _require_analis(user, usulan, profile, "mencatat hasil rapat")
        if usulan.rapat_waktu and usulan.rapat_waktu > utcnow() + timedelta(hours=12):
            raise RuleViolation(
                "Rapat TKKSD belum berlangsung; hasilnya dicatat sesudah rapat.", field="notulen", reason="not_held"
            )
    _step(session, profile, usulan, user, Action.CATAT_RAPAT, detail={"rekomendasi": data.rekomendasi})
    if data.hadir is not None:
        hadir = {access.opd_key(h) for h in data.hadir}
        for p in usulan.rapat_peserta:
            p["hadir"] = access.opd_key(p["nama"]) in hadir
        usulan.rapat_peserta = [dict(p) for p in usulan.rapat_peserta]
    usulan.notulen, usulan.kesimpulan = data.notulen, data.kesimpulan
    usulan.rekomendasi, usulan.rekomendasi_catatan = data.rekomendasi, data.rekomendasi_catatan.strip() or None
    session.add(usulan)
    return usulan


def rekomendasi(session: Session, user: User, usulan_id: int, note: str, *, profile: Profile) -> Usulan:
    """The recommendation goes up to the Kepala Daerah (seed 000 steps 6-8): it is their turn."""
    intake = _intake(profile)
    usulan = get_usulan(session, user, usulan_id, profile=profile)
    if usulan.status == Status.RAPAT.value:
        _require_analis(user, usulan, profile, "menyampaikan rekomendasi")
    _step(
        session,
        profile,
        usulan,
        user,
        Action.REKOMENDASI,
        note=note,
        guards={"notulen": bool(usulan.notulen and usulan.rekomendasi)},
        to_posisi=intake.pemutus,
        detail={"rekomendasi": usulan.rekomendasi},
    )
    return usulan


def batalkan(session: Session, user: User, usulan_id: int, note: str, *, profile: Profile) -> Usulan:
    usulan = get_usulan(session, user, usulan_id, profile=profile)
    _step(session, profile, usulan, user, Action.BATALKAN, note=note, to_posisi=None)
    return usulan


# --- letters ---------------------------------------------------------------------------------------

_TEMPLATE = {
    Letter.UNDANGAN: "surat/undangan",
    Letter.BERITA_ACARA: "ba/rapat_tkksd",
    Letter.JAWABAN: "surat/dinas",
    Letter.BALASAN: "surat/dinas",
    Letter.PENAWARAN: "surat/dinas",
    Letter.PERMOHONAN: "surat/dinas",
}
_HAL = {
    Letter.UNDANGAN: "Undangan Rapat TKKSD",
    Letter.JAWABAN: "Jawaban atas {jenis} Kerja Sama",
    Letter.BALASAN: "Kesediaan Kerja Sama",
    Letter.PENAWARAN: "Penawaran Kerja Sama",
    Letter.PERMOHONAN: "Permohonan Kerja Sama",
}


def _pemda(profile: Profile) -> str:
    return f"Pemerintah {profile.daerah}"


def _official(session: Session, profile: Profile, posisi: str) -> dict[str, Any]:
    position = profile.positions[posisi]
    holders = _users_at(session, posisi)
    if not holders:
        raise RuleViolation(
            f"Belum ada pengguna aktif yang memegang jabatan {position.jabatan}; isi penanda tangan surat.",
            field="penandatangan",
            posisi=posisi,
        )
    nip = holders[0].nip if holders[0].nip and len(holders[0].nip.replace(" ", "")) == 18 else None
    return {"nama": holders[0].nama, "jabatan": position.jabatan, "nip": nip, "pangkat": None}


def _isi(letter: Letter, usulan: Usulan, profile: Profile) -> list[str]:
    ref = (
        f"surat {usulan.pengirim_instansi} Nomor {usulan.surat_nomor} tanggal {_tgl(usulan.surat_tanggal)} "
        f"hal {usulan.perihal}"
    )
    pemda = _pemda(profile)
    mitra = (usulan.mitra or {}).get("instansi") or usulan.pengirim_instansi
    if letter == Letter.JAWABAN:
        alasan = (usulan.keputusan_catatan or "").strip()
        return [
            f"Menindaklanjuti {ref}, bersama ini kami sampaikan terima kasih atas {usulan.jenis} kerja sama yang "
            f"disampaikan kepada {pemda}.",
            "Berdasarkan hasil telaah dan rapat Tim Koordinasi Kerja Sama Daerah, dengan menyesal kami sampaikan "
            f"bahwa {usulan.jenis} kerja sama tersebut belum dapat kami setujui"
            + (f", dengan pertimbangan: {alasan.rstrip('.')}." if alasan else "."),
            "Demikian kami sampaikan. Atas perhatian dan kerja samanya diucapkan terima kasih.",
        ]
    if letter == Letter.BALASAN:
        return [
            f"Menindaklanjuti {ref}, bersama ini kami sampaikan bahwa {pemda} bersedia bekerja sama dengan "
            f"{mitra} dalam {usulan.objek or usulan.perihal}.",
            "Selanjutnya rancangan naskah kerja sama akan kami susun dan kami sampaikan untuk dibahas bersama.",
            "Demikian kami sampaikan. Atas perhatian dan kerja samanya diucapkan terima kasih.",
        ]
    if letter == Letter.PENAWARAN:
        return [
            f"Dalam rangka {usulan.manfaat or usulan.perihal}, {pemda} bermaksud menawarkan kerja sama kepada "
            f"{mitra} dalam {usulan.objek or usulan.perihal}.",
            "Kerangka acuan kerja kegiatan dimaksud kami lampirkan. Apabila Bapak/Ibu berminat, kami mohon "
            "tanggapannya untuk dapat dibahas lebih lanjut.",
            "Demikian kami sampaikan. Atas perhatian dan kerja samanya diucapkan terima kasih.",
        ]
    # PERMOHONAN
    return [
        f"Dalam rangka {usulan.manfaat or usulan.perihal}, {pemda} bermaksud menjalin kerja sama dengan {mitra} "
        f"dalam {usulan.objek or usulan.perihal}.",
        "Sehubungan dengan hal tersebut, kami mohon kesediaan Bapak/Ibu untuk bekerja sama. Rancangan naskah "
        "kerja sama akan kami sampaikan untuk dibahas bersama.",
        "Demikian permohonan ini kami sampaikan. Atas perhatian dan kerja samanya diucapkan terima kasih.",
    ]


def _tgl(day: date) -> str:
    from pipeline.terbilang import tanggal

    return tanggal(day)


def _letter_data(
    session: Session, profile: Profile, usulan: Usulan, letter: Letter, data: SuratInput, user: User
) -> dict[str, Any]:
    intake = _intake(profile)
    today = data.tanggal or utcnow().astimezone(profile.tz).date()
    kop = {"pemda": _pemda(profile), "unit": "Sekretariat Daerah", "alamat": profile.alamat}
    if letter == Letter.BERITA_ACARA:
        if not (usulan.notulen and usulan.rekomendasi and usulan.rapat_waktu):
            raise RuleViolation(
                "Hasil rapat belum dicatat (notulen, kesimpulan, rekomendasi); catat dahulu hasil rapat.",
                reason="notulen",
            )
        pimpinan = (
            data.penandatangan.model_dump() if data.penandatangan else _official(session, profile, intake.disposisi[-2])
        )
        hadir = [p for p in usulan.rapat_peserta if p.get("hadir", True)]
        return {
            "kop": kop,
            "nomor": data.nomor,
            "rapat_tanggal": usulan.rapat_waktu.astimezone(profile.tz).date(),
            "rapat_tempat": usulan.rapat_tempat,
            "perihal": usulan.perihal,
            "pengirim": usulan.pengirim_instansi,
            "surat_nomor": usulan.surat_nomor,
            "surat_tanggal": usulan.surat_tanggal,
            "peserta": [{"nama": p["nama"], "keterangan": p.get("peran", "")} for p in hadir],
            "hasil": [line.strip() for line in (usulan.notulen or "").splitlines() if line.strip()],
            "kesimpulan": usulan.kesimpulan,
            "kepala_daerah": profile.positions[intake.pemutus].jabatan,
            "rekomendasi": usulan.rekomendasi,
            "rekomendasi_catatan": usulan.rekomendasi_catatan,
            "tempat": data.tempat,
            "tanggal": today,
            "notulis": user.nama,
            "pimpinan": {"nama": pimpinan["nama"], "jabatan": pimpinan["jabatan"], "nip": pimpinan.get("nip")},
        }
    signer_posisi = intake.disposisi[-2] if letter == Letter.UNDANGAN else intake.pemutus
    signer = data.penandatangan.model_dump() if data.penandatangan else _official(session, profile, signer_posisi)
    kepala_daerah = profile.positions[intake.pemutus].jabatan
    if signer["jabatan"].strip().casefold() == kepala_daerah.casefold():
        # Tata Naskah Dinas: a letter the Kepala Daerah signs carries the kop of the office itself
        # ("BUPATI PASER"), not the Sekretariat Daerah's.
        kop = {"pemda": kepala_daerah, "unit": None, "alamat": None}
    if letter == Letter.UNDANGAN:
        # the invitees are listed under the letter itself (no separate lampiran)
        kepada, kepada_di = "Para undangan (daftar di bawah)", None
    elif letter in (Letter.JAWABAN, Letter.BALASAN):
        kepada = usulan.pengirim_jabatan or usulan.pengirim_instansi
        kepada_di = usulan.pengirim_alamat
    else:
        mitra = usulan.mitra or {}
        kepada = mitra.get("penandatangan_jabatan") or mitra.get("instansi") or usulan.pengirim_instansi
        kepada_di = mitra.get("alamat")
    hal = _HAL[letter].format(jenis=usulan.jenis.capitalize())
    common = {
        "kop": kop,
        "tempat": data.tempat,
        "tanggal": today,
        "nomor": data.nomor,
        "sifat": data.sifat,
        "lampiran": data.lampiran,
        "hal": hal,
        "kepada": kepada,
        "kepada_di": kepada_di,
        "penandatangan": signer,
        "tembusan": data.tembusan,
    }
    if letter == Letter.UNDANGAN:
        if usulan.rapat_waktu is None:
            raise RuleViolation("Rapat TKKSD belum dijadwalkan.", reason="no_rapat")
        local = usulan.rapat_waktu.astimezone(profile.tz)
        return {
            **common,
            "perihal": usulan.perihal,
            "pengirim": usulan.pengirim_instansi,
            "rapat_hari": HARI[local.weekday()],
            "rapat_tanggal": local.date(),
            "rapat_pukul": f"{local:%H.%M} {profile.zona_waktu} s.d. selesai",
            "rapat_tempat": usulan.rapat_tempat,
            "acara": usulan.rapat_acara or "Pembahasan usulan kerja sama",
            "peserta": [p["nama"] for p in usulan.rapat_peserta],
        }
    return {**common, "isi": list(data.isi) if data.isi else _isi(letter, usulan, profile)}


def _render_letter(
    svc: Services, info_name: str, values: dict[str, Any], title: str, author: str
) -> tuple[bytes, bytes]:
    from pipeline.intake.letters import render_letter

    return render_letter(svc, info_name, values, title=title, author=author)


def draft_letter(
    svc: Services, user: User, usulan_id: int, letter: Letter, data: SuratInput, *, _in_decision: bool = False
) -> UsulanFile:
    """Draft an outgoing letter (or the berita acara) from its template, as DOCX and PDF/A, kept with the
    usulan.  Each letter may be drafted in the states ``LETTER_STATES`` names; a new draft is a new file."""
    with session_scope(svc.engine) as session:
        usulan = get_usulan(session, user, usulan_id, profile=svc.profile)
        _check_letter(svc.profile, usulan, user, letter)
        values = _letter_data(session, svc.profile, usulan, letter, data, user)
        version = usulan.lock_version
        perihal = usulan.perihal
    docx, pdf = _render_letter(
        svc,
        _TEMPLATE[letter],
        values,
        title=f"{letter.value.replace('_', ' ').title()}: {perihal}",
        author=_pemda(svc.profile),
    )
    return _store_letter(svc, user, usulan_id, letter, data.nomor, docx, pdf, version)


def _check_letter(profile: Profile, usulan: Usulan, user: User, letter: Letter) -> None:
    if Role.DRAFTER not in _roles(user):
        raise NotPermitted("Surat usulan disusun oleh Bagian Pemerintahan (peran drafter).", action="surat")
    _require_analis(user, usulan, profile, "menyusun surat usulan ini")
    status = Status(usulan.status)
    if status not in LETTER_STATES[letter]:
        raise ActionNotAvailable(
            f"Usulan berstatus '{STATUS_LABELS[status]}': {letter.value.replace('_', ' ')} tidak dapat disusun.",
            usulan_id=usulan.id,
            status=status.value,
            letter=letter.value,
            reason="not_in_this_status",
        )


def _store_letter(
    svc: Services, user: User, usulan_id: int, letter: Letter, nomor: str, docx: bytes, pdf: bytes, version: int
) -> UsulanFile:
    digest = hashlib.sha256(docx).hexdigest()[:16]
    base = f"usulan/{usulan_id}/{letter.value}-{digest}"
    docx_obj = svc.put(f"{base}.docx", docx, DOCX_TYPE)
    pdf_obj = svc.put(f"{base}.pdf", pdf, PDF_TYPE)
    with session_scope(svc.engine) as session:
        usulan = get_usulan(session, user, usulan_id, profile=svc.profile)
        if usulan.lock_version != version and Status(usulan.status) not in LETTER_STATES[letter]:
            raise Conflict("Usulan berubah selama surat disusun. Muat ulang lalu coba lagi.", usulan_id=usulan_id)
        row = _letter_row(usulan_id, letter, nomor, docx_obj, pdf_obj, len(docx), user)
        session.add(row)
        session.flush()
        audit.record(
            session,
            user,
            "usulan_surat",
            sha256=pdf_obj.sha256,
            usulan_id=usulan_id,
            surat=letter.value,
            nomor=nomor,
            file_id=row.id,
        )
        session.refresh(row)
        session.expunge(row)
    return row


def _letter_row(
    usulan_id: int, letter: Letter, nomor: str, docx_obj: Any, pdf_obj: Any, size: int, user: User
) -> UsulanFile:
    return UsulanFile(
        usulan_id=usulan_id,
        kind=letter.value,
        filename=f"{letter.value}.docx",
        content_type=DOCX_TYPE,
        key=docx_obj.key,
        version_id=docx_obj.version_id,
        sha256=docx_obj.sha256,
        size=size,
        generated=True,
        nomor=nomor,
        pdf_key=pdf_obj.key,
        pdf_version_id=pdf_obj.version_id,
        pdf_sha256=pdf_obj.sha256,
        uploaded_by=user.id,
    )


# --- the decision ------------------------------------------------------------------------------------


def _case_input(session: Session, profile: Profile, usulan: Usulan, decider: User, mulai: date | None) -> CaseInput:
    intake = _intake(profile)
    assert usulan.jangka_waktu_bulan and usulan.tahun_anggaran_mulai and usulan.mitra and usulan.jenis_kerja_sama
    today = utcnow().astimezone(profile.tz).date()
    start = mulai or max(date(usulan.tahun_anggaran_mulai, 1, 1), today)
    selesai = akhir_jangka_waktu(start, usulan.jangka_waktu_bulan)
    nip = decider.nip if decider.nip and 18 <= len(decider.nip.replace(" ", "")) <= 21 else None
    mitra = usulan.mitra
    return CaseInput(
        jenis=JenisKerjaSama(usulan.jenis_kerja_sama),
        judul=usulan.perihal,
        objek=usulan.objek or "",
        manfaat=usulan.manfaat or "",
        bentuk=usulan.bentuk or "",
        tahun_anggaran_mulai=usulan.tahun_anggaran_mulai,
        mulai=start,
        selesai=selesai,
        opd_teknis=usulan.opd_teknis or "",
        pihak=[
            PihakInput(
                instansi=_pemda(profile),
                kind=PihakKind.PEMDA,
                alamat=profile.alamat,
                penandatangan_nama=decider.nama,
                penandatangan_jabatan=profile.positions[intake.pemutus].jabatan,
                penandatangan_nip=nip,
            ),
            PihakInput(
                instansi=mitra["instansi"],
                kind=PihakKind(mitra["kind"]),
                alamat=mitra.get("alamat"),
                penandatangan_nama=mitra["penandatangan_nama"],
                penandatangan_jabatan=mitra["penandatangan_jabatan"],
            ),
        ],
    )


def decide(svc: Services, user: User, usulan_id: int, data: KeputusanInput) -> Usulan:
    """The Kepala Daerah's decision.  Approved: a kerja sama case opens for drafting with the usulan's
    data, its creator the analis who studied it (``pipeline.drafting.cases.create_case``).  Refused: the
    surat jawaban is drafted from its template in the same step (``data.surat`` gives its nomor)."""
    profile = svc.profile
    intake = _intake(profile)
    with session_scope(svc.engine) as session:
        usulan = get_usulan(session, user, usulan_id, profile=profile)
        if usulan.status == Status.KEPUTUSAN.value:
            _require_posisi(user, intake.pemutus, profile, "memutuskan usulan ini")
        action = Action.SETUJUI if data.setuju else Action.TOLAK
        # the table first (status, role, note), in a transaction that is rolled back
        _dry_run(session, profile, usulan, user, action, data)
        version = usulan.lock_version
        values = None
        if not data.setuju:
            if data.surat is None:
                raise InvalidInput("Surat jawaban wajib diisi (nomor dan tempat) ketika usulan ditolak.", field="surat")
            usulan.keputusan_catatan = data.note.strip()
            values = _letter_data(session, profile, usulan, Letter.JAWABAN, data.surat, user)
        session.rollback()
    files = None
    if values is not None and data.surat is not None:
        with session_scope(svc.engine) as session:
            perihal = get_usulan(session, user, usulan_id, profile=profile).perihal
        files = _render_letter(
            svc, _TEMPLATE[Letter.JAWABAN], values, title=f"Jawaban: {perihal}", author=_pemda(profile)
        )
        digest = hashlib.sha256(files[0]).hexdigest()[:16]
        base = f"usulan/{usulan_id}/{Letter.JAWABAN.value}-{digest}"
        docx_obj = svc.put(f"{base}.docx", files[0], DOCX_TYPE)
        pdf_obj = svc.put(f"{base}.pdf", files[1], PDF_TYPE)
    with session_scope(svc.engine) as session:
        usulan = get_usulan(session, user, usulan_id, profile=profile)
        if data.setuju:
            _require_lengkap(session, usulan, "disetujui")
            analis = session.get(User, usulan.pengkaji_id) if usulan.pengkaji_id else None
            if analis is None or not analis.active:
                raise RuleViolation("Analis yang menelaah usulan ini tidak ada atau tidak aktif.", reason="no_analis")
            case = open_case(session, analis, _case_input(session, profile, usulan, user, data.mulai))
            usulan.kerja_sama_id = case.id
            usulan.keputusan_catatan = data.note.strip() or None
            usulan.decided_by, usulan.decided_at = user.id, utcnow()
            _step(
                session,
                profile,
                usulan,
                user,
                Action.SETUJUI,
                note=data.note,
                guards={"lengkap": True},
                expected_version=version,
                to_posisi=None,
            )
        else:
            assert files is not None and data.surat is not None
            usulan.keputusan_catatan = data.note.strip()
            usulan.decided_by, usulan.decided_at = user.id, utcnow()
            _step(
                session, profile, usulan, user, Action.TOLAK, note=data.note, expected_version=version, to_posisi=None
            )
            row = _letter_row(usulan_id, Letter.JAWABAN, data.surat.nomor, docx_obj, pdf_obj, len(files[0]), user)
            session.add(row)
            session.flush()
            audit.record(
                session,
                user,
                "usulan_surat",
                sha256=pdf_obj.sha256,
                usulan_id=usulan_id,
                surat=Letter.JAWABAN.value,
                nomor=data.surat.nomor,
                file_id=row.id,
            )
        session.flush()
        session.refresh(usulan)
        session.expunge(usulan)
    return usulan


def _dry_run(
    session: Session, profile: Profile, usulan: Usulan, user: User, action: Action, data: KeputusanInput
) -> None:
    """Whether the step would be taken (status, role, note, kelengkapan), before anything is rendered."""
    status = Status(usulan.status)
    try:
        row = resolve(status, action, {"lengkap": True})
    except LookupError:
        raise ActionNotAvailable(
            f"Usulan berstatus '{STATUS_LABELS[status]}': tidak dapat {ACTION_LABELS[action]}.",
            usulan_id=usulan.id,
            status=status.value,
            reason="not_in_this_status",
        ) from None
    if not (row.roles & _roles(user)):
        raise NotPermitted(
            f"Anda tidak dapat {ACTION_LABELS[action]}: keputusan ada pada Kepala Daerah.", action=action.value
        )
    if row.note_required and not data.note.strip():
        raise InvalidInput(f"Catatan (alasan) wajib diisi untuk {ACTION_LABELS[action]}.", field="note")
    if action == Action.SETUJUI:
        _require_lengkap(session, usulan, "disetujui")
        today = utcnow().astimezone(profile.tz).date()
        if data.mulai is not None and data.mulai < today:
            # a kerja sama decided today cannot have run since an earlier day (its naskah is not signed yet)
            raise InvalidInput(
                f"Tanggal mulai kerja sama ({_tgl(data.mulai)}) tidak boleh sebelum hari keputusan ({_tgl(today)}).",
                field="mulai",
                reason="mulai_in_past",
            )


def rapat_waktu_local(profile: Profile, usulan: Usulan) -> datetime | None:
    return usulan.rapat_waktu.astimezone(profile.tz) if usulan.rapat_waktu else None


def _midnight(day: date, profile: Profile) -> datetime:
    return datetime.combine(day, time(), tzinfo=profile.tz)
