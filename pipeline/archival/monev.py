"""Monitoring dan evaluasi (monev) of running agreements: rounds, the decision to extend, and alerts.

An agreement here is an archived KB, NK or PKS (an ``Arsip`` row; a Surat Kuasa is no agreement) that
is in force: ``mulai <= today <= selesai``.  Kota Tangerang's monev SOP (seed 001) runs a *round* on it
(``pipeline.monev_lifecycle``: the one table of its states and who acts): the Kepala Bagian assigns a
ketua tim (and an analis) with a Surat Perintah; the team prepares the bahan and jadwal and asks the
OPD teknis for its Laporan Monitoring (realisasi, kendala, manfaat, rekomendasi, attachments checked
like every upload and kept in the object store with their sha256); the team processes it; the Kabag
records the temuan and evaluasi, then the arahan with the rencana tindak lanjut (each item: who answers
for it, by when); the round closes with its dokumen evaluasi when every item is done.  The SOP profile's
``monev`` section names the Kabag's position, the standard time of each step and the two alert periods.

Alerts (:func:`alerts`), each naming who must act:

* ``tanpa_laporan``: an agreement in force whose last report (or start, without one) is older than
  ``monev.tanpa_laporan``: the Kabag assigns a round, or whoever's step the open round waits on;
* ``perpanjangan``: an agreement ending within ``monev.perpanjangan_sebelum`` with no decision whether
  it is extended: the Kabag;
* ``tindak_lanjut_terlambat``: a tindak lanjut item past its due date: whoever answers for it.

Visibility is ``pipeline.access``'s: a round is seen by whoever may see its archived agreement
(``access.arsip_clause``; an OPD sees its own agreements), else it does not exist (404).  Every step is
one entry in the audit chain, written in the step's transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator
from sqlmodel import Session, col, select

from pipeline import access, audit, turns
from pipeline.auth import require
from pipeline.drafting.attachments import check_attachment
from pipeline.drafting.cases import LongText, Note, Text200
from pipeline.errors import ActionNotAvailable, Conflict, InvalidInput, NotFound, NotPermitted, RuleViolation
from pipeline.lifecycle import Role
from pipeline.models import (
    MAX_ID,
    Arsip,
    MonevEvent,
    MonevLampiran,
    MonevPerpanjangan,
    MonevRound,
    MonevTindakLanjut,
    User,
    utcnow,
)
from pipeline.monev_lifecycle import (
    ACTION_LABELS,
    CREATE_ROLES,
    FINAL_STATES,
    INITIAL_STATE,
    STATE_STEPS,
    STATUS_LABELS,
    TRANSITIONS,
    MonevAction,
    MonevRole,
    MonevStatus,
    Transition,
    available,
    resolve,
)
from pipeline.sop import OPD_TEKNIS, MonevProfile, Profile
from pipeline.terbilang import tanggal
from pipeline.textcheck import LineCheck

if TYPE_CHECKING:
    from pipeline.services import Services

__all__ = [
    "KEPUTUSAN",
    "MAX_FILES",
    "PENILAIAN",
    "Alert",
    "Arahan",
    "Evaluasi",
    "Jadwal",
    "Laporan",
    "Penugasan",
    "Perpanjangan",
    "RoundView",
    "TindakLanjutItem",
    "agreements_in_force",
    "alerts",
    "arahkan",
    "batalkan",
    "evaluasi",
    "get_round",
    "jadwalkan",
    "kembalikan",
    "lapor",
    "list_rounds",
    "my_steps",
    "olah",
    "putuskan_perpanjangan",
    "read_lampiran",
    "require_pemda",
    "roles_for",
    "round_view",
    "selesaikan_tindak_lanjut",
    "team_candidates",
    "tugaskan",
    "tutup",
    "visible_agreement",
]

log = logging.getLogger(__name__)

MAX_FILES = 10
"""Attachments per report or per tindak lanjut: a report with its photos and minutes, not an archive."""
PENILAIAN: Mapping[str, str] = {
    "baik": "Berjalan baik",
    "cukup": "Berjalan dengan kendala",
    "kurang": "Kurang berjalan",
    "tidak_berjalan": "Tidak berjalan",
}
KEPUTUSAN: Mapping[str, str] = {"diperpanjang": "Diperpanjang", "tidak_diperpanjang": "Tidak diperpanjang"}

Paragraph = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000), LineCheck]
Username = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


# -- inputs ----------------------------------------------------------------------------------------


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Penugasan(_Input):
    """Step 1: the Kabag's Surat Perintah naming the team, and the period the round looks at."""

    surat_perintah: Text200 = Field(description="Nomor Surat Perintah penugasan tim monev")
    ketua_tim: Username = Field(description="Nama pengguna ketua tim")
    analis: Username | None = Field(default=None, description="Nama pengguna analis kerja sama (boleh kosong)")
    periode_mulai: dt.date
    periode_selesai: dt.date
    catatan: Note = ""

    @field_validator("periode_selesai")
    @classmethod
    def _period(cls, value: dt.date, info: ValidationInfo) -> dt.date:
        # on the field, not the model: the 422 and the page's form name periode_selesai
        start = info.data.get("periode_mulai")
        if start is not None and value < start:
            raise ValueError("tidak boleh sebelum tanggal mulai periode (periode_mulai)")
        return value


class Jadwal(_Input):
    """Steps 2-3: the bahan prepared from the collected data, the monitoring date, the report's due date."""

    bahan: LongText
    jadwal: dt.date = Field(description="Tanggal pelaksanaan monitoring pada OPD")
    batas_laporan: dt.date | None = Field(
        default=None, description="Batas laporan OPD; kosong: menurut mutu baku langkah monitoring"
    )

    @field_validator("batas_laporan")
    @classmethod
    def _order(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        start = info.data.get("jadwal")
        if value is not None and start is not None and value < start:
            raise ValueError("tidak boleh sebelum tanggal jadwal monitoring")
        return value


class Laporan(_Input):
    """Step 4: the OPD teknis's Laporan Monitoring."""

    realisasi: LongText = Field(description="Realisasi pelaksanaan kerja sama pada periode ini")
    kendala: LongText = Field(description="Kendala yang dihadapi (tulis 'Tidak ada' bila tidak ada)")
    manfaat: LongText = Field(description="Manfaat yang sudah dirasakan")
    rekomendasi: LongText = Field(description="Rekomendasi OPD")


class Evaluasi(_Input):
    """Step 7: the findings and the evaluation."""

    temuan: list[Paragraph] = Field(default_factory=list, max_length=50)
    penilaian: Literal["baik", "cukup", "kurang", "tidak_berjalan"]
    evaluasi: LongText


class TindakLanjutItem(_Input):
    uraian: Paragraph
    penanggung_jawab: Username = Field(description="Nama pengguna penanggung jawab, atau 'opd_teknis'")
    tenggat: dt.date


class Arahan(_Input):
    """Step 8: the Kabag's arahan and the rencana tindak lanjut."""

    arahan: LongText
    tindak_lanjut: list[TindakLanjutItem] = Field(default_factory=list, max_length=50)


class Perpanjangan(_Input):
    keputusan: Literal["diperpanjang", "tidak_diperpanjang"]
    catatan: Note = ""


# -- the agreement and who acts ---------------------------------------------------------------------


def _config(profile: Profile) -> MonevProfile:
    if profile.monev is None:
        raise ActionNotAvailable(
            f"Profil SOP '{profile.name}' belum memuat monitoring dan evaluasi (bagian monev:).",
            reason="monev_not_configured",
        )
    return profile.monev


def local_today(profile: Profile, now: dt.datetime | None = None) -> dt.date:
    return (now or utcnow()).astimezone(profile.tz).date()


def _day(at: dt.datetime | None, profile: Profile) -> dt.date | None:
    return at.astimezone(profile.tz).date() if at is not None else None


def in_force(arsip: Arsip, today: dt.date) -> bool:
    """An agreement (not a Surat Kuasa) whose jangka waktu holds ``today``."""
    return arsip.jenis != "SK" and arsip.mulai <= today <= arsip.selesai


def require_pemda(user: User) -> None:
    """Monev is the Pemda's own supervision of its agreements: not for a counterparty's official (403)."""
    require(user, "read")
    if user.pihak_luar:
        raise NotPermitted(
            "Monitoring dan evaluasi kerja sama adalah pengawasan internal Pemerintah Daerah; tidak tersedia bagi "
            "pejabat pihak mitra.",
            reason="internal_only",
        )


def _visible_arsip(session: Session, user: User, profile: Profile, arsip_id: int) -> Arsip:
    require_pemda(user)
    if not 1 <= arsip_id <= MAX_ID:
        raise NotFound(f"Arsip {arsip_id} tidak ditemukan.", arsip_id=arsip_id)
    arsip = session.exec(select(Arsip).where(Arsip.id == arsip_id, access.arsip_clause(session, user, profile))).first()
    if arsip is None:
        raise NotFound(f"Arsip {arsip_id} tidak ditemukan.", arsip_id=arsip_id)
    return arsip


def visible_agreement(session: Session, user: User, profile: Profile, arsip_id: int) -> Arsip:
    """An archived agreement ``user`` may see (404 else, as for a missing one)."""
    return _visible_arsip(session, user, profile, arsip_id)


def team_candidates(session: Session, profile: Profile) -> list[User]:
    """Who the Kabag may assign to a monev team: active officials of our Pemda holding the ketua tim
    position or the drafter role (the analis), as :func:`tugaskan` accepts them."""
    monev = _config(profile)
    users = session.exec(
        select(User).where(col(User.active).is_(True), col(User.pihak_luar).is_(False)).order_by(col(User.nama))
    ).all()
    return [u for u in users if monev.ketua_tim in u.posisi_set or Role.DRAFTER.value in u.role_set]


def agreements_in_force(session: Session, user: User, profile: Profile, today: dt.date) -> list[Arsip]:
    """The agreements in force on ``today`` that ``user`` may see, ending soonest first."""
    require_pemda(user)
    return list(
        session.exec(
            select(Arsip)
            .where(
                Arsip.jenis != "SK",
                col(Arsip.mulai) <= today,
                col(Arsip.selesai) >= today,
                access.arsip_clause(session, user, profile),
            )
            .order_by(col(Arsip.selesai), col(Arsip.id))
        ).all()
    )


def is_kabag(user: User, profile: Profile) -> bool:
    monev = profile.monev
    return monev is not None and not user.pihak_luar and user.active and monev.kabag in user.posisi_set


def of_opd(user: User, opd_teknis: str) -> bool:
    """Is ``user`` an official of the OPD teknis ``opd_teknis`` (``users.opd``, compared as access does)?"""
    return not user.pihak_luar and bool(user.opd) and access.opd_key(user.opd) == access.opd_key(opd_teknis)


def roles_for(user: User, profile: Profile, arsip: Arsip, round_: MonevRound | None = None) -> set[MonevRole]:
    """The round roles ``user`` holds: Kabag (the profile's position), the round's team, the OPD teknis."""
    roles: set[MonevRole] = set()
    if user.pihak_luar or not user.active:
        return roles
    if is_kabag(user, profile):
        roles.add(MonevRole.KABAG)
    if round_ is not None and user.id is not None and user.id in (round_.ketua_tim_id, round_.analis_id):
        roles.add(MonevRole.TIM)
    if of_opd(user, arsip.opd_teknis):
        roles.add(MonevRole.OPD)
    return roles


def _who(profile: Profile, role: MonevRole, arsip: Arsip, round_: MonevRound | None, names: Mapping[int, User]) -> str:
    monev = _config(profile)
    if role is MonevRole.KABAG:
        return profile.pelaksana_label(monev.kabag)
    if role is MonevRole.OPD:
        return arsip.opd_teknis
    team = [names.get(i) for i in ((round_.ketua_tim_id, round_.analis_id) if round_ else ()) if i is not None]
    return "tim monev (" + ", ".join(u.nama for u in team if u is not None) + ")" if team else "tim monev"


def _users(session: Session, ids: Iterable[int | None]) -> dict[int, User]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {u.id or 0: u for u in session.exec(select(User).where(col(User.id).in_(wanted))).all()}


def _team_member(session: Session, user: User, profile: Profile, arsip: Arsip, username: str, what: str) -> User:
    """An active official of our Pemda who may see the agreement and is a ketua tim or analis."""
    member = session.exec(select(User).where(User.username == username)).first()
    monev = _config(profile)
    if member is None or not member.active or member.pihak_luar:
        raise InvalidInput(
            f"{what} '{username}' tidak ditemukan atau bukan pengguna aktif Pemerintah Daerah.",
            reason="unknown_user",
            field=what.lower().replace(" ", "_"),
            username=username,
        )
    if monev.ketua_tim not in member.posisi_set and Role.DRAFTER.value not in member.role_set:
        raise InvalidInput(
            f"'{username}' tidak dapat ditugaskan sebagai {what.lower()}: tim monev adalah "
            f"{profile.pelaksana_label(monev.ketua_tim)} atau analis kerja sama (peran drafter).",
            reason="not_a_team_member",
            username=username,
        )
    if (
        session.exec(
            select(Arsip.id).where(Arsip.id == arsip.id, access.arsip_clause(session, member, profile))
        ).first()
        is None
    ):
        raise InvalidInput(
            f"'{username}' tidak berwenang melihat kerja sama ini, sehingga tidak dapat ditugaskan.",
            reason="not_a_team_member",
            username=username,
        )
    return member


# -- rounds: reading --------------------------------------------------------------------------------


def get_round(
    session: Session, user: User, profile: Profile, round_id: int, *, lock: bool = False
) -> tuple[MonevRound, Arsip]:
    """The round and its agreement, if ``user`` may see the agreement (else 404, as for a missing one)."""
    require_pemda(user)
    if not 1 <= round_id <= MAX_ID:
        raise NotFound(f"Monitoring dan evaluasi {round_id} tidak ditemukan.", round_id=round_id)
    query = select(MonevRound).where(MonevRound.id == round_id)
    round_ = session.exec(query.with_for_update() if lock else query).first()
    if round_ is None:
        raise NotFound(f"Monitoring dan evaluasi {round_id} tidak ditemukan.", round_id=round_id)
    try:
        arsip = _visible_arsip(session, user, profile, round_.arsip_id)
    except NotFound:
        raise NotFound(f"Monitoring dan evaluasi {round_id} tidak ditemukan.", round_id=round_id) from None
    return round_, arsip


def list_rounds(
    session: Session,
    user: User,
    profile: Profile,
    *,
    arsip_id: int | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[MonevRound], int]:
    """The rounds ``user`` may see (newest first), with their count under the same rule."""
    require_pemda(user)
    visible = select(Arsip.id).where(access.arsip_clause(session, user, profile))
    where = [col(MonevRound.arsip_id).in_(visible)]
    if arsip_id is not None:
        where.append(MonevRound.arsip_id == arsip_id)
    if status:
        if status not in {s.value for s in MonevStatus}:
            raise InvalidInput(
                f"Status '{status}' tidak dikenal; pilih {', '.join(s.value for s in MonevStatus)}.",
                reason="unknown_status",
            )
        where.append(MonevRound.status == status)
    from sqlmodel import func

    count = session.exec(select(func.count()).select_from(MonevRound).where(*where)).one()
    rows = session.exec(
        select(MonevRound).where(*where).order_by(col(MonevRound.id).desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), int(count)


def step_deadline(profile: Profile, round_: MonevRound) -> dt.datetime | None:
    """When the round's current state is due by the SOP's standard times (None: no time is set).

    A state that spans several steps (``persiapan``: data 1 hari + bahan 1 hari) adds them in turn
    from ``status_since``, each on its own clock (minutes, days, working days)."""
    monev = _config(profile)
    steps = STATE_STEPS.get(MonevStatus(round_.status), ())
    durations = monev.waktu(*steps)
    if not durations:
        return None
    at = round_.status_since.astimezone(profile.tz)
    for duration in durations:
        at = profile.deadline(duration, at)
    return at


def _tindak_lanjut(session: Session, round_id: int) -> list[MonevTindakLanjut]:
    return list(
        session.exec(
            select(MonevTindakLanjut)
            .where(MonevTindakLanjut.round_id == round_id)
            .order_by(col(MonevTindakLanjut.urutan))
        ).all()
    )


def _lampiran(session: Session, round_id: int) -> list[MonevLampiran]:
    return list(
        session.exec(
            select(MonevLampiran).where(MonevLampiran.round_id == round_id).order_by(col(MonevLampiran.id))
        ).all()
    )


@dataclass
class RoundView:
    """A round as a page or the API shows it: the row, its agreement, files, items, history, what the
    reader may do now, and the current step's due time against the SOP."""

    round: MonevRound
    arsip: Arsip
    status_label: str
    lampiran: list[MonevLampiran]
    tindak_lanjut: list[MonevTindakLanjut]
    events: list[MonevEvent]
    people: dict[int, User]
    boleh: list[str]
    """Actions the reader may take now (``MonevAction`` values, table order)."""
    giliran: str
    """Who acts next, as a person reads it (empty once the round is final)."""
    tenggat: dt.datetime | None
    terlambat: bool

    def name(self, user_id: int | None) -> str:
        person = self.people.get(user_id or 0)
        return person.nama if person is not None else ("sistem" if user_id is None else str(user_id))


def _next_roles(status: MonevStatus) -> list[MonevRole]:
    roles: list[MonevRole] = []
    for t in TRANSITIONS:
        if t.source == status and t.action is not MonevAction.BATALKAN:
            roles.extend(r for r in sorted(t.roles) if r not in roles)
    return roles


def round_view(
    session: Session, user: User, profile: Profile, round_id: int, now: dt.datetime | None = None
) -> RoundView:
    round_, arsip = get_round(session, user, profile, round_id)
    now = now or utcnow()
    status = MonevStatus(round_.status)
    items = _tindak_lanjut(session, round_id)
    events = list(
        session.exec(select(MonevEvent).where(MonevEvent.round_id == round_id).order_by(col(MonevEvent.id))).all()
    )
    people = _users(
        session,
        [round_.ketua_tim_id, round_.analis_id, round_.assigned_by, round_.reported_by, round_.closed_by]
        + [e.actor_id for e in events]
        + [i.penanggung_jawab_id for i in items]
        + [i.selesai_by for i in items],
    )
    roles = roles_for(user, profile, arsip, round_)
    boleh = [a.value for a in available(status, roles)]
    if status is MonevStatus.TINDAK_LANJUT and any(i.selesai_at is None for i in items) and "monev_tutup" in boleh:
        boleh.remove("monev_tutup")  # the guard: every item done first
    giliran = ""
    if status not in FINAL_STATES:
        giliran = " atau ".join(_who(profile, r, arsip, round_, people) for r in _next_roles(status))
    deadline = step_deadline(profile, round_) if status not in FINAL_STATES else None
    return RoundView(
        round=round_,
        arsip=arsip,
        status_label=STATUS_LABELS[status],
        lampiran=_lampiran(session, round_id),
        tindak_lanjut=items,
        events=events,
        people=people,
        boleh=boleh,
        giliran=giliran,
        tenggat=deadline,
        terlambat=deadline is not None and deadline < now,
    )


# -- rounds: the steps ------------------------------------------------------------------------------


def _refuse_role(
    profile: Profile,
    arsip: Arsip,
    round_: MonevRound | None,
    t: Transition | None,
    action: MonevAction,
    session: Session,
) -> NotPermitted:
    needed = sorted(t.roles) if t is not None else sorted(CREATE_ROLES)
    people = _users(session, [round_.ketua_tim_id, round_.analis_id] if round_ else [])
    who = " atau ".join(_who(profile, r, arsip, round_, people) for r in needed)
    return NotPermitted(
        f"Langkah '{ACTION_LABELS[action]}' dilakukan oleh {who}.",
        reason="not_your_step",
        needed=[r.value for r in needed],
    )


def _check(
    session: Session,
    user: User,
    profile: Profile,
    round_: MonevRound,
    arsip: Arsip,
    action: MonevAction,
    *,
    guards: Mapping[str, bool] | None = None,
    note: str = "",
) -> Transition:
    """The row of the table ``user`` may take: state (409), role (403), guard (409), note (422)."""
    status = MonevStatus(round_.status)
    rows = [t for t in TRANSITIONS if t.source == status and t.action == action]
    if not rows:
        raise ActionNotAvailable(
            f"Monitoring dan evaluasi {round_.id} berstatus '{STATUS_LABELS[status]}'; langkah "
            f"'{ACTION_LABELS[action]}' tidak tersedia pada status ini.",
            reason="not_available_in_state",
            status=status.value,
            available=[a.value for a in available(status, set(MonevRole))],
        )
    roles = roles_for(user, profile, arsip, round_)
    if not rows[0].roles & roles:
        raise _refuse_role(profile, arsip, round_, rows[0], action, session)
    try:
        transition = resolve(status, action, guards)
    except LookupError:
        open_items = [i.urutan for i in _tindak_lanjut(session, round_.id or 0) if i.selesai_at is None]
        raise ActionNotAvailable(
            f"Monitoring dan evaluasi {round_.id} belum dapat ditutup: tindak lanjut nomor "
            f"{', '.join(str(n) for n in open_items)} belum selesai.",
            reason="tindak_lanjut_open",
            open=open_items,
        ) from None
    if transition.note_required and not note.strip():
        raise InvalidInput(
            f"Langkah '{ACTION_LABELS[action]}' wajib disertai catatan alasannya.",
            reason="note_required",
            field="catatan",
        )
    return transition


def _told(session: Session, profile: Profile, round_: MonevRound, arsip: Arsip, actor: User) -> None:
    """Tell whoever acts on the round now (``pipeline.inbox.flows.monev_step`` listens to
    :func:`pipeline.turns.announce`; never fails the step)."""
    turns.announce("monev", session, profile, round_, arsip, actor)


def _step(
    session: Session,
    user: User,
    profile: Profile,
    round_: MonevRound,
    arsip: Arsip,
    action: MonevAction,
    *,
    guards: Mapping[str, bool] | None = None,
    note: str = "",
    now: dt.datetime | None = None,
    **detail: Any,
) -> Transition:
    """Check and take one row of the table (:func:`_check`); then the new state, the round's event and
    the audit entry, in the caller's transaction."""
    status = MonevStatus(round_.status)
    transition = _check(session, user, profile, round_, arsip, action, guards=guards, note=note)
    at = now or utcnow()
    round_.status = transition.target.value
    round_.status_since = at
    round_.updated_at = at
    round_.lock_version += 1
    session.add(round_)
    session.add(
        MonevEvent(
            round_id=round_.id or 0,
            action=action.value,
            from_status=status.value,
            to_status=transition.target.value,
            actor_id=user.id or 0,
            note=note,
            created_at=at,
        )
    )
    audit.record(
        session,
        user,
        action.value,
        kerja_sama_id=arsip.kerja_sama_id,
        at=at,
        round_id=round_.id,
        arsip_id=arsip.id,
        from_status=status.value,
        to_status=transition.target.value,
        **({"note": note} if note else {}),
        **detail,
    )
    return transition


def tugaskan(
    session: Session, user: User, profile: Profile, arsip_id: int, data: Penugasan, now: dt.datetime | None = None
) -> MonevRound:
    """Step 1: the Kabag assigns a team to monitor and evaluate agreement ``arsip_id``: a new round."""
    _config(profile)
    arsip = _visible_arsip(session, user, profile, arsip_id)
    if MonevRole.KABAG not in roles_for(user, profile, arsip):
        raise _refuse_role(profile, arsip, None, None, MonevAction.TUGASKAN, session)
    at = now or utcnow()
    today = local_today(profile, at)
    if not in_force(arsip, today):
        why = (
            "Surat Kuasa bukan perjanjian"
            if arsip.jenis == "SK"
            else (
                f"berakhir {tanggal(arsip.selesai)}"
                if arsip.selesai < today
                else f"baru berlaku {tanggal(arsip.mulai)}"
            )
        )
        raise RuleViolation(
            f"Monitoring dan evaluasi hanya untuk kerja sama yang sedang berlaku; arsip {arsip_id} {why}.",
            reason="agreement_not_in_force",
            arsip_id=arsip_id,
            mulai=arsip.mulai.isoformat(),
            selesai=arsip.selesai.isoformat(),
        )
    open_round = session.exec(
        select(MonevRound).where(
            MonevRound.arsip_id == arsip_id, col(MonevRound.status).notin_([s.value for s in FINAL_STATES])
        )
    ).first()
    if open_round is not None:
        raise Conflict(
            f"Kerja sama ini sedang dimonitor (monitoring dan evaluasi {open_round.id}, "
            f"{STATUS_LABELS[MonevStatus(open_round.status)]}); selesaikan atau batalkan dahulu.",
            reason="round_open",
            round_id=open_round.id,
        )
    if data.periode_mulai > today:
        raise RuleViolation(
            "Periode yang dimonitor tidak boleh dimulai setelah hari ini.",
            reason="period_in_future",
            field="periode_mulai",
        )
    ketua = _team_member(session, user, profile, arsip, data.ketua_tim, "Ketua tim")
    analis = _team_member(session, user, profile, arsip, data.analis, "Analis") if data.analis else None
    if analis is not None and analis.id == ketua.id:
        raise InvalidInput("Ketua tim dan analis harus dua orang yang berbeda.", reason="same_person", field="analis")
    round_ = MonevRound(
        arsip_id=arsip_id,
        kerja_sama_id=arsip.kerja_sama_id,
        status=INITIAL_STATE.value,
        status_since=at,
        surat_perintah=data.surat_perintah,
        ketua_tim_id=ketua.id or 0,
        analis_id=analis.id if analis else None,
        periode_mulai=data.periode_mulai,
        periode_selesai=data.periode_selesai,
        catatan_penugasan=data.catatan,
        assigned_by=user.id or 0,
        assigned_at=at,
        created_at=at,
        updated_at=at,
    )
    session.add(round_)
    session.flush()
    session.add(
        MonevEvent(
            round_id=round_.id or 0,
            action=MonevAction.TUGASKAN.value,
            from_status=None,
            to_status=INITIAL_STATE.value,
            actor_id=user.id or 0,
            note=data.catatan,
            created_at=at,
        )
    )
    audit.record(
        session,
        user,
        MonevAction.TUGASKAN.value,
        kerja_sama_id=arsip.kerja_sama_id,
        at=at,
        round_id=round_.id,
        arsip_id=arsip_id,
        surat_perintah=data.surat_perintah,
        ketua_tim=ketua.username,
        analis=analis.username if analis else None,
    )
    _told(session, profile, round_, arsip, user)
    return round_


def jadwalkan(
    session: Session, user: User, profile: Profile, round_id: int, data: Jadwal, now: dt.datetime | None = None
) -> MonevRound:
    """Steps 2-3: the bahan and the jadwal; the OPD teknis is asked for its report by ``batas_laporan``
    (by default the monitoring step's standard time after the jadwal)."""
    monev = _config(profile)
    round_, arsip = get_round(session, user, profile, round_id, lock=True)
    at = now or utcnow()
    _step(session, user, profile, round_, arsip, MonevAction.JADWALKAN, now=at, jadwal=data.jadwal.isoformat())
    batas = data.batas_laporan
    if batas is None:
        waktu = monev.waktu("monitoring")
        start = dt.datetime.combine(data.jadwal, dt.time(0), tzinfo=profile.tz)
        batas = profile.deadline(waktu[0], start).astimezone(profile.tz).date() if waktu else data.jadwal
    round_.bahan, round_.jadwal, round_.batas_laporan = data.bahan, data.jadwal, batas
    session.add(round_)
    _told(session, profile, round_, arsip, user)
    return round_


def _store_files(
    svc: Services, round_id: int, files: Sequence[tuple[str | None, bytes]], folder: str
) -> list[tuple[str, str, Any]]:
    """Check every file first (nothing is stored when one is refused), then store each."""
    if len(files) > MAX_FILES:
        raise InvalidInput(
            f"Paling banyak {MAX_FILES} lampiran sekaligus; {len(files)} dikirim.",
            reason="too_many_files",
            limit=MAX_FILES,
        )
    checked = [
        check_attachment(data, name, docx_limits=svc.docx_limits, pdf_limits=svc.pdf_limits) for name, data in files
    ]
    stored = []
    for info, (_, data) in zip(checked, files, strict=True):
        key = f"monev/{round_id}/{folder}/{uuid.uuid4().hex}.{info.extension}"
        stored.append((info.filename, info.content_type, svc.put(key, data, info.content_type)))
    return stored


def _add_files(
    session: Session,
    user: User,
    round_id: int,
    stored: list[tuple[str, str, Any]],
    at: dt.datetime,
    tl_id: int | None = None,
) -> list[MonevLampiran]:
    rows = []
    for filename, content_type, obj in stored:
        row = MonevLampiran(
            round_id=round_id,
            tindak_lanjut_id=tl_id,
            filename=filename,
            content_type=content_type,
            key=obj.key,
            version_id=obj.version_id,
            sha256=obj.sha256,
            size=obj.size,
            uploaded_by=user.id or 0,
            uploaded_at=at,
        )
        session.add(row)
        rows.append(row)
    return rows


def lapor(
    session: Session,
    svc: Services,
    user: User,
    round_id: int,
    data: Laporan,
    files: Sequence[tuple[str | None, bytes]] = (),
    now: dt.datetime | None = None,
) -> MonevRound:
    """Step 4: the OPD teknis's Laporan Monitoring, with its attachments (checked, then stored)."""
    profile = svc.profile
    round_, arsip = get_round(session, user, profile, round_id, lock=True)
    _check(session, user, profile, round_, arsip, MonevAction.LAPOR)  # refuse before any file is stored
    stored = _store_files(svc, round_id, files, "laporan")
    at = now or utcnow()
    rows = _add_files(session, user, round_id, stored, at)
    _step(
        session,
        user,
        profile,
        round_,
        arsip,
        MonevAction.LAPOR,
        now=at,
        lampiran=[{"nama": r.filename, "sha256": r.sha256} for r in rows],
    )
    round_.realisasi, round_.kendala = data.realisasi, data.kendala
    round_.manfaat, round_.rekomendasi = data.manfaat, data.rekomendasi
    round_.reported_by, round_.reported_at = user.id, at
    session.add(round_)
    _told(session, profile, round_, arsip, user)
    return round_


def kembalikan(
    session: Session, user: User, profile: Profile, round_id: int, catatan: str, now: dt.datetime | None = None
) -> MonevRound:
    """The team returns an incomplete report to the OPD teknis, saying what is missing."""
    round_, arsip = get_round(session, user, profile, round_id, lock=True)
    _step(session, user, profile, round_, arsip, MonevAction.KEMBALIKAN, note=catatan, now=now)
    _told(session, profile, round_, arsip, user)
    return round_


def olah(
    session: Session, user: User, profile: Profile, round_id: int, hasil_olah: str, now: dt.datetime | None = None
) -> MonevRound:
    """Steps 5-6: the data handed over and processed for the Kabag (``hasil_olah``)."""
    if not hasil_olah.strip():
        raise InvalidInput("Hasil olah data monitoring wajib diisi.", reason="required", field="hasil_olah")
    round_, arsip = get_round(session, user, profile, round_id, lock=True)
    _step(session, user, profile, round_, arsip, MonevAction.OLAH, now=now)
    round_.hasil_olah = hasil_olah.strip()
    session.add(round_)
    _told(session, profile, round_, arsip, user)
    return round_


def evaluasi(
    session: Session, user: User, profile: Profile, round_id: int, data: Evaluasi, now: dt.datetime | None = None
) -> MonevRound:
    """Step 7: the Kabag, with the team, records the temuan and the evaluasi."""
    round_, arsip = get_round(session, user, profile, round_id, lock=True)
    _step(
        session,
        user,
        profile,
        round_,
        arsip,
        MonevAction.EVALUASI,
        now=now,
        penilaian=data.penilaian,
        temuan=len(data.temuan),
    )
    round_.temuan, round_.penilaian, round_.evaluasi = list(data.temuan), data.penilaian, data.evaluasi
    session.add(round_)
    _told(session, profile, round_, arsip, user)
    return round_


def arahkan(
    session: Session, user: User, profile: Profile, round_id: int, data: Arahan, now: dt.datetime | None = None
) -> MonevRound:
    """Step 8: the Kabag's arahan and the rencana tindak lanjut (disposisi): each item names who answers
    for it (an official who may see the agreement, or ``opd_teknis``) and a due date from today on."""
    round_, arsip = get_round(session, user, profile, round_id, lock=True)
    at = now or utcnow()
    today = local_today(profile, at)
    people: list[tuple[TindakLanjutItem, User | None]] = []
    for n, item in enumerate(data.tindak_lanjut, start=1):
        if item.tenggat < today:
            raise RuleViolation(
                f"Tenggat tindak lanjut nomor {n} ({tanggal(item.tenggat)}) sudah lewat.",
                reason="due_in_past",
                field=f"tindak_lanjut[{n - 1}].tenggat",
            )
        if item.penanggung_jawab == OPD_TEKNIS:
            people.append((item, None))
            continue
        person = session.exec(select(User).where(User.username == item.penanggung_jawab)).first()
        sees = (
            person is not None
            and session.exec(
                select(Arsip.id).where(Arsip.id == arsip.id, access.arsip_clause(session, person, profile))
            ).first()
        )
        if person is None or not person.active or person.pihak_luar or not sees:
            raise InvalidInput(
                f"Penanggung jawab tindak lanjut nomor {n} ('{item.penanggung_jawab}') bukan pengguna aktif Pemerintah "
                f"Daerah yang berwenang atas kerja sama ini; tulis nama pengguna atau '{OPD_TEKNIS}'.",
                reason="unknown_user",
                field=f"tindak_lanjut[{n - 1}].penanggung_jawab",
            )
        people.append((item, person))
    _step(session, user, profile, round_, arsip, MonevAction.ARAHKAN, now=at, tindak_lanjut=len(people))
    round_.arahan = data.arahan
    session.add(round_)
    for n, (item, person) in enumerate(people, start=1):
        session.add(
            MonevTindakLanjut(
                round_id=round_.id or 0,
                arsip_id=arsip.id or 0,
                urutan=n,
                uraian=item.uraian,
                penanggung_jawab_id=person.id if person else None,
                penanggung_jawab_opd=None if person else access.opd_key(arsip.opd_teknis),
                penanggung_jawab=f"{person.nama} ({person.jabatan})" if person else arsip.opd_teknis,
                tenggat=item.tenggat,
            )
        )
    _told(session, profile, round_, arsip, user)
    return round_


def may_finish(user: User, profile: Profile, arsip: Arsip, round_: MonevRound, item: MonevTindakLanjut) -> bool:
    """Who may mark an item done: whoever answers for it (the person, or an official of the OPD), and
    the round's team and the Kabag, who follow it up."""
    if item.penanggung_jawab_id is not None and item.penanggung_jawab_id == user.id:
        return True
    if item.penanggung_jawab_opd and of_opd(user, arsip.opd_teknis):
        return True
    return bool(roles_for(user, profile, arsip, round_) & {MonevRole.TIM, MonevRole.KABAG})


def selesaikan_tindak_lanjut(
    session: Session,
    svc: Services,
    user: User,
    tindak_lanjut_id: int,
    catatan: str,
    files: Sequence[tuple[str | None, bytes]] = (),
    now: dt.datetime | None = None,
) -> MonevTindakLanjut:
    """Step 9: one tindak lanjut item carried out, with a note on what was done and its proof."""
    profile = svc.profile
    item = session.get(MonevTindakLanjut, tindak_lanjut_id) if 1 <= tindak_lanjut_id <= MAX_ID else None
    if item is None:
        raise NotFound(f"Tindak lanjut {tindak_lanjut_id} tidak ditemukan.", tindak_lanjut_id=tindak_lanjut_id)
    try:
        round_, arsip = get_round(session, user, profile, item.round_id, lock=True)
    except NotFound:
        raise NotFound(
            f"Tindak lanjut {tindak_lanjut_id} tidak ditemukan.", tindak_lanjut_id=tindak_lanjut_id
        ) from None
    if MonevStatus(round_.status) is not MonevStatus.TINDAK_LANJUT:
        raise ActionNotAvailable(
            f"Monitoring dan evaluasi {round_.id} berstatus '{STATUS_LABELS[MonevStatus(round_.status)]}'; tindak "
            "lanjut hanya diselesaikan pada tahap tindak lanjut.",
            reason="not_available_in_state",
            status=round_.status,
        )
    if item.selesai_at is not None:
        raise Conflict(f"Tindak lanjut nomor {item.urutan} sudah diselesaikan.", reason="already_done")
    if not may_finish(user, profile, arsip, round_, item):
        raise NotPermitted(
            f"Tindak lanjut nomor {item.urutan} diselesaikan oleh penanggung jawabnya ({item.penanggung_jawab}) atau "
            "tim monev.",
            reason="not_your_step",
        )
    if not catatan.strip():
        raise InvalidInput(
            "Tuliskan apa yang sudah dilakukan untuk tindak lanjut ini.", reason="note_required", field="catatan"
        )
    stored = _store_files(svc, round_.id or 0, files, f"tindak-lanjut-{item.id}")
    at = now or utcnow()
    rows = _add_files(session, user, round_.id or 0, stored, at, tl_id=item.id)
    item.selesai_at, item.selesai_by, item.catatan_selesai = at, user.id, catatan.strip()
    session.add(item)
    audit.record(
        session,
        user,
        audit.AuditAction.MONEV_TINDAK_LANJUT,
        kerja_sama_id=arsip.kerja_sama_id,
        at=at,
        round_id=round_.id,
        arsip_id=arsip.id,
        tindak_lanjut=item.urutan,
        note=catatan.strip(),
        lampiran=[{"nama": r.filename, "sha256": r.sha256} for r in rows],
    )
    _told(session, profile, round_, arsip, user)  # the last item done: the round may be closed
    return item


def tutup(
    session: Session, user: User, profile: Profile, round_id: int, kesimpulan: str, now: dt.datetime | None = None
) -> MonevRound:
    """Step 9's end: every tindak lanjut item done, the round closes with its dokumen evaluasi."""
    round_, arsip = get_round(session, user, profile, round_id, lock=True)
    done = all(i.selesai_at is not None for i in _tindak_lanjut(session, round_id))
    if not kesimpulan.strip() and MonevStatus(round_.status) is MonevStatus.TINDAK_LANJUT:
        raise InvalidInput("Kesimpulan dokumen evaluasi wajib diisi.", reason="required", field="kesimpulan")
    at = now or utcnow()
    _step(session, user, profile, round_, arsip, MonevAction.TUTUP, guards={"tindak_lanjut_selesai": done}, now=at)
    round_.kesimpulan, round_.closed_by, round_.closed_at = kesimpulan.strip(), user.id, at
    session.add(round_)
    return round_


def batalkan(
    session: Session, user: User, profile: Profile, round_id: int, catatan: str, now: dt.datetime | None = None
) -> MonevRound:
    """The Kabag cancels a round that is not finished (kept for the record, with the reason)."""
    round_, arsip = get_round(session, user, profile, round_id, lock=True)
    at = now or utcnow()
    _step(session, user, profile, round_, arsip, MonevAction.BATALKAN, note=catatan, now=at)
    round_.closed_by, round_.closed_at = user.id, at
    session.add(round_)
    return round_


def read_lampiran(session: Session, svc: Services, user: User, lampiran_id: int) -> tuple[MonevLampiran, bytes]:
    """An attachment's bytes (sha256 checked by the store), for whoever may see its round; recorded."""
    row = session.get(MonevLampiran, lampiran_id) if 1 <= lampiran_id <= MAX_ID else None
    if row is None:
        raise NotFound(f"Lampiran {lampiran_id} tidak ditemukan.", lampiran_id=lampiran_id)
    try:
        _, arsip = get_round(session, user, svc.profile, row.round_id)
    except NotFound:
        raise NotFound(f"Lampiran {lampiran_id} tidak ditemukan.", lampiran_id=lampiran_id) from None
    data = svc.get(row.key, row.version_id, row.sha256)
    audit.record(
        session,
        user,
        audit.AuditAction.DOWNLOAD,
        kerja_sama_id=arsip.kerja_sama_id,
        sha256=row.sha256,
        round_id=row.round_id,
        lampiran=row.filename,
    )
    return row, data


# -- the decision to extend -------------------------------------------------------------------------


def putuskan_perpanjangan(
    session: Session, user: User, profile: Profile, arsip_id: int, data: Perpanjangan, now: dt.datetime | None = None
) -> MonevPerpanjangan:
    """The Kabag records whether the agreement is extended when it ends (a later decision replaces the
    earlier one; the audit trail keeps both).  An extension is then drafted as a new naskah."""
    monev = _config(profile)
    arsip = _visible_arsip(session, user, profile, arsip_id)
    if not is_kabag(user, profile):
        raise NotPermitted(
            f"Keputusan perpanjangan kerja sama dicatat oleh {profile.pelaksana_label(monev.kabag)}.",
            reason="not_your_step",
            needed=[MonevRole.KABAG.value],
        )
    if arsip.jenis == "SK":
        raise RuleViolation("Surat Kuasa bukan perjanjian; tidak ada perpanjangan.", reason="not_an_agreement")
    at = now or utcnow()
    row = session.exec(select(MonevPerpanjangan).where(MonevPerpanjangan.arsip_id == arsip_id)).first()
    before = row.keputusan if row else None
    if row is None:
        row = MonevPerpanjangan(arsip_id=arsip_id, keputusan=data.keputusan, decided_by=user.id or 0)
    row.keputusan, row.catatan, row.decided_by, row.decided_at = data.keputusan, data.catatan, user.id or 0, at
    session.add(row)
    audit.record(
        session,
        user,
        audit.AuditAction.MONEV_PERPANJANGAN,
        kerja_sama_id=arsip.kerja_sama_id,
        at=at,
        arsip_id=arsip_id,
        keputusan=data.keputusan,
        sebelumnya=before,
        **({"note": data.catatan} if data.catatan else {}),
    )
    session.flush()
    return row


def perpanjangan_of(session: Session, arsip_ids: Iterable[int]) -> dict[int, MonevPerpanjangan]:
    ids = sorted(set(arsip_ids))
    if not ids:
        return {}
    rows = session.exec(select(MonevPerpanjangan).where(col(MonevPerpanjangan.arsip_id).in_(ids))).all()
    return {r.arsip_id: r for r in rows}


# -- alerts -----------------------------------------------------------------------------------------

ALERT_LABELS: Mapping[str, str] = {
    "tanpa_laporan": "Belum ada laporan monitoring",
    "perpanjangan": "Segera berakhir, belum ada keputusan perpanjangan",
    "tindak_lanjut_terlambat": "Tindak lanjut melewati tenggat",
}


@dataclass
class Alert:
    """One thing that needs doing, with who must do it."""

    kind: str
    arsip_id: int
    judul: str
    jenis: str
    opd_teknis: str
    selesai: dt.date
    tanggal: dt.date
    """Since when (tanpa_laporan: the last report or the start), or the due date (the others)."""
    hari: int
    """Days since ``tanggal`` (tanpa_laporan, tindak lanjut overdue) or left until ``selesai`` (perpanjangan)."""
    pesan: str
    pelaku: str
    """Who must act, as a person reads it."""
    pelaku_roles: list[str]
    giliran_saya: bool
    round_id: int | None = None
    tindak_lanjut_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return ALERT_LABELS[self.kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "arsip_id": self.arsip_id,
            "judul": self.judul,
            "jenis": self.jenis,
            "opd_teknis": self.opd_teknis,
            "selesai": self.selesai,
            "tanggal": self.tanggal,
            "hari": self.hari,
            "pesan": self.pesan,
            "pelaku": self.pelaku,
            "pelaku_roles": self.pelaku_roles,
            "giliran_saya": self.giliran_saya,
            "round_id": self.round_id,
            "tindak_lanjut_id": self.tindak_lanjut_id,
        }


def _since_date(duration: Any, start: dt.date, profile: Profile) -> dt.date:
    return (
        profile.deadline(duration, dt.datetime.combine(start, dt.time(0), tzinfo=profile.tz))
        .astimezone(profile.tz)
        .date()
    )


def alerts(session: Session, user: User, profile: Profile, today: dt.date, *, mine: bool = False) -> list[Alert]:
    """The agreements ``user`` may see that need action on ``today`` (``mine``: only where it is the
    user's turn), in the order: overdue tindak lanjut, no report, decision to extend."""
    monev = _config(profile)
    agreements = agreements_in_force(session, user, profile, today)
    ids = [a.id or 0 for a in agreements]
    rounds = (
        list(
            session.exec(select(MonevRound).where(col(MonevRound.arsip_id).in_(ids)).order_by(col(MonevRound.id))).all()
        )
        if ids
        else []
    )
    by_arsip: dict[int, list[MonevRound]] = {}
    for r in rounds:
        by_arsip.setdefault(r.arsip_id, []).append(r)
    people = _users(session, [i for r in rounds for i in (r.ketua_tim_id, r.analis_id)])
    decided = perpanjangan_of(session, ids)
    kabag_label = profile.pelaksana_label(monev.kabag)
    out: list[Alert] = []

    # overdue tindak lanjut
    open_round_ids = [r.id for r in rounds if r.status == MonevStatus.TINDAK_LANJUT.value]
    items = (
        session.exec(
            select(MonevTindakLanjut)
            .where(
                col(MonevTindakLanjut.round_id).in_(open_round_ids),
                col(MonevTindakLanjut.selesai_at).is_(None),
                col(MonevTindakLanjut.tenggat) < today,
            )
            .order_by(col(MonevTindakLanjut.tenggat), col(MonevTindakLanjut.id))
        ).all()
        if open_round_ids
        else []
    )
    arsip_by_id = {a.id: a for a in agreements}
    round_by_id = {r.id: r for r in rounds}
    for item in items:
        arsip = arsip_by_id[item.arsip_id]
        round_ = round_by_id[item.round_id]
        mine_now = (item.penanggung_jawab_id is not None and item.penanggung_jawab_id == user.id) or (
            item.penanggung_jawab_opd is not None and of_opd(user, arsip.opd_teknis)
        )
        late = (today - item.tenggat).days
        out.append(
            Alert(
                kind="tindak_lanjut_terlambat",
                arsip_id=arsip.id or 0,
                judul=arsip.judul,
                jenis=arsip.jenis,
                opd_teknis=arsip.opd_teknis,
                selesai=arsip.selesai,
                tanggal=item.tenggat,
                hari=late,
                pesan=f"Tindak lanjut nomor {item.urutan} ({item.uraian[:120]}) lewat {late} hari dari tenggat "
                f"{tanggal(item.tenggat)}.",
                pelaku=item.penanggung_jawab,
                pelaku_roles=["penanggung_jawab"],
                giliran_saya=mine_now,
                round_id=round_.id,
                tindak_lanjut_id=item.id,
            )
        )

    # no report for the configured period
    for arsip in agreements:
        own = by_arsip.get(arsip.id or 0, [])
        reports = [d for d in (_day(r.reported_at, profile) for r in own) if d is not None]
        start = max(arsip.mulai, arsip.tanggal_ttd)
        since = max(reports) if reports else start
        if _since_date(monev.tanpa_laporan, since, profile) > today:
            continue
        current = next((r for r in reversed(own) if r.status not in {s.value for s in FINAL_STATES}), None)
        if current is None:
            roles = [MonevRole.KABAG]
            pelaku, saya = kabag_label, is_kabag(user, profile)
            what = "tugaskan tim monitoring dan evaluasi"
        else:
            status = MonevStatus(current.status)
            roles = _next_roles(status)
            pelaku = " atau ".join(_who(profile, r, arsip, current, people) for r in roles)
            saya = bool(roles_for(user, profile, arsip, current) & set(roles))
            what = f"monitoring dan evaluasi {current.id}: {STATUS_LABELS[status]}"
        ago = (today - since).days
        basis = (
            f"laporan terakhir {tanggal(since)}"
            if reports
            else f"belum pernah ada laporan sejak berlaku {tanggal(since)}"
        )
        out.append(
            Alert(
                kind="tanpa_laporan",
                arsip_id=arsip.id or 0,
                judul=arsip.judul,
                jenis=arsip.jenis,
                opd_teknis=arsip.opd_teknis,
                selesai=arsip.selesai,
                tanggal=since,
                hari=ago,
                pesan=f"Tidak ada laporan monitoring selama {ago} hari ({basis}; batas {monev.tanpa_laporan}); {what}.",
                pelaku=pelaku,
                pelaku_roles=[r.value for r in roles],
                giliran_saya=saya,
                round_id=current.id if current else None,
            )
        )

    # ending soon without a decision to extend
    for arsip in agreements:
        if arsip.id in decided:
            continue
        window_start = arsip.selesai - monev.perpanjangan_sebelum.value
        if today < window_start:
            continue
        left = (arsip.selesai - today).days
        out.append(
            Alert(
                kind="perpanjangan",
                arsip_id=arsip.id or 0,
                judul=arsip.judul,
                jenis=arsip.jenis,
                opd_teknis=arsip.opd_teknis,
                selesai=arsip.selesai,
                tanggal=arsip.selesai,
                hari=left,
                pesan=f"Berakhir {tanggal(arsip.selesai)} ({left} hari lagi); belum ada keputusan diperpanjang atau "
                "tidak.",
                pelaku=kabag_label,
                pelaku_roles=[MonevRole.KABAG.value],
                giliran_saya=is_kabag(user, profile),
            )
        )
    return [a for a in out if a.giliran_saya] if mine else out


# -- the inbox ------------------------------------------------------------------------------------


@dataclass
class MyStep:
    """A round waiting on the user: the step they may take now, and whether it is past its SOP time."""

    round_id: int
    arsip_id: int
    judul: str
    opd_teknis: str
    status: str
    status_label: str
    langkah: list[str]
    """The actions the user may take (``MonevAction`` values, cancelling left out)."""
    langkah_label: str
    sejak: dt.datetime
    tenggat: dt.datetime | None
    terlambat: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "round_id": self.round_id,
            "arsip_id": self.arsip_id,
            "judul": self.judul,
            "opd_teknis": self.opd_teknis,
            "status": self.status,
            "status_label": self.status_label,
            "langkah": self.langkah,
            "langkah_label": self.langkah_label,
            "sejak": self.sejak,
            "tenggat": self.tenggat,
            "terlambat": self.terlambat,
        }


def my_steps(session: Session, user: User, profile: Profile, now: dt.datetime | None = None) -> list[MyStep]:
    """The open rounds on which ``user`` may take the next step now (the Kabag's cancelling aside), late
    first, then the longest waiting; an open round with a tindak lanjut item of theirs counts too."""
    _config(profile)
    now = now or utcnow()
    if user.pihak_luar:
        return []
    rounds, _ = list_rounds(session, user, profile, limit=200)
    out: list[MyStep] = []
    for round_ in rounds:
        status = MonevStatus(round_.status)
        if status in FINAL_STATES:
            continue
        arsip = session.get(Arsip, round_.arsip_id)
        assert arsip is not None
        actions = [
            a for a in available(status, roles_for(user, profile, arsip, round_)) if a is not MonevAction.BATALKAN
        ]
        if status is MonevStatus.TINDAK_LANJUT:
            items = _tindak_lanjut(session, round_.id or 0)
            open_items = [i for i in items if i.selesai_at is None]
            if open_items:
                actions = [a for a in actions if a is not MonevAction.TUTUP]
                mine = [
                    i
                    for i in open_items
                    if (i.penanggung_jawab_id == user.id) or (i.penanggung_jawab_opd and of_opd(user, arsip.opd_teknis))
                ]
                if mine:
                    label = f"selesaikan tindak lanjut nomor {', '.join(str(i.urutan) for i in mine)}"
                    deadline = dt.datetime.combine(min(i.tenggat for i in mine), dt.time(23, 59), tzinfo=profile.tz)
                    out.append(
                        MyStep(
                            round_.id or 0,
                            arsip.id or 0,
                            arsip.judul,
                            arsip.opd_teknis,
                            status.value,
                            STATUS_LABELS[status],
                            ["tindak_lanjut"],
                            label,
                            round_.status_since,
                            deadline,
                            deadline < now,
                        )
                    )
                    continue
        if not actions:
            continue
        deadline = step_deadline(profile, round_)
        out.append(
            MyStep(
                round_.id or 0,
                arsip.id or 0,
                arsip.judul,
                arsip.opd_teknis,
                status.value,
                STATUS_LABELS[status],
                [a.value for a in actions],
                " atau ".join(ACTION_LABELS[a] for a in actions),
                round_.status_since,
                deadline,
                deadline is not None and deadline < now,
            )
        )
    out.sort(key=lambda s: (not s.terlambat, s.sejak, s.round_id))
    return out
