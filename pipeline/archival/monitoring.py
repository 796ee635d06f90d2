"""Monitoring: agreements that are ending, and where each naskah in progress waits against the SOP's time.

Three lists for the TKKSD secretariat (seed 001, "Monitoring dan Evaluasi Kerja Sama Daerah"; the
"Mutu Baku — Waktu" column of every seed SOP):

* :func:`expiring` — archived agreements whose ``selesai`` falls within the coming ``dalam_hari``
  days, soonest first, with those already ended (within the last ``lewat_hari`` days) flagged
  ``kedaluwarsa`` at the top, so an extension can be prepared in time.
* :func:`in_progress` — every naskah not yet archived or cancelled (a signed naskah waits for the
  secretariat to archive it): the step it waits in, whose move it is, since when, the SOP
  profile's standard time for that step, how long it has waited, overdue first.
* :func:`renewal_due` — archived originals whose last document timestamp's TSA certificate
  expires within ``dalam_hari`` days (or has expired: the proof chain is broken, most urgent),
  soonest first: what ``naskah arsip perbarui-cap-waktu`` should be run for.

The step of a naskah is its lifecycle status, refined where the status has several steps:
``paraf.<posisi>`` names whose paraf is next in the profile's chain, and in ``signing`` the next
signer of the signature plan is named.  A step starts at the last lifecycle event that put the
naskah there (a revision while drafting does not restart the clock; each paraf and each
signature starts the next one); a naskah with no event yet waits since it was created.

The standard time of a step is the profile's ``mutu_baku`` entry for it (for ``paraf.<posisi>``,
the whole round's ``paraf`` when the position has none); the deadline places it on the region's
calendar (:meth:`pipeline.sop.Profile.deadline`: ``hari kerja`` skip weekends, national holidays and
cuti bersama, see :mod:`pipeline.workdays`).  How long a step has waited (``lama``) and how far past
its deadline it is (``lewat``) are on the same clock as its standard: working time for a ``hari
kerja`` standard, wall-clock time otherwise (:meth:`pipeline.sop.Profile.elapsed`).  A step the
profile gives no time for is never overdue.

Both are plain functions of the session, the profile and ``now``/``today``, so tests pass a fixed clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session, col, select

from pipeline import access
from pipeline.archival.archive import due_for_renewal
from pipeline.auth import require
from pipeline.lifecycle import FINAL_STATES, STATUS_LABELS, Action, Status
from pipeline.models import (
    Arsip,
    KerjaSama,
    Naskah,
    NaskahEvent,
    Paraf,
    SignaturePlan,
    SignatureStep,
    User,
    as_utc,
)
from pipeline.sop import Duration, Profile

__all__ = [
    "Ending",
    "RenewalDue",
    "Waiting",
    "durasi",
    "expiring",
    "in_progress",
    "renewal_due",
    "standard_for",
    "step_of",
    "waiting",
]


# -- agreements ending -----------------------------------------------------------------------


@dataclass(frozen=True)
class Ending:
    """An archived agreement that ends soon or has ended."""

    arsip_id: int
    naskah_id: int
    jenis: str
    jenis_kerja_sama: str
    judul: str
    pihak: tuple[str, ...]
    """Each party's instansi, PIHAK KESATU first."""
    nomor: dict[str, str]
    """Each party's nomor, by party order (``"1"``, ``"2"``)."""
    opd_teknis: str
    mulai: dt.date
    selesai: dt.date
    sisa_hari: int
    """Days from today to ``selesai``: 0 on the last day, negative once ended."""
    kedaluwarsa: bool
    """True when ``selesai`` has passed."""

    @property
    def status(self) -> str:
        return "kedaluwarsa" if self.kedaluwarsa else "segera_berakhir"

    def to_dict(self) -> dict[str, Any]:
        return {
            "arsip_id": self.arsip_id,
            "naskah_id": self.naskah_id,
            "jenis": self.jenis,
            "jenis_kerja_sama": self.jenis_kerja_sama,
            "judul": self.judul,
            "pihak": list(self.pihak),
            "nomor": self.nomor,
            "opd_teknis": self.opd_teknis,
            "mulai": self.mulai.isoformat(),
            "selesai": self.selesai.isoformat(),
            "sisa_hari": self.sisa_hari,
            "kedaluwarsa": self.kedaluwarsa,
            "status": self.status,
        }


def expiring(
    session: Session,
    user: User,
    today: dt.date,
    *,
    profile: Profile,
    dalam_hari: int = 90,
    lewat_hari: int | None = 365,
) -> list[Ending]:
    """Archived agreements (KB, NK, PKS) ending within ``dalam_hari`` days of ``today``, and those that
    ended within the last ``lewat_hari`` days (None: all that ended; 0: none), flagged; ordered by
    ``selesai``, so the ended ones come first, then the soonest to end.  Only those ``user`` may see."""
    require(user, "read")
    if dalam_hari < 0 or (lewat_hari is not None and lewat_hari < 0):
        raise ValueError("dalam_hari and lewat_hari must not be negative")
    query = select(Arsip).where(
        access.arsip_clause(session, user, profile),
        Arsip.jenis != "SK",
        Arsip.selesai <= today + dt.timedelta(days=dalam_hari),
    )
    if lewat_hari is not None:
        query = query.where(Arsip.selesai >= today - dt.timedelta(days=lewat_hari))
    rows = session.exec(query.order_by(col(Arsip.selesai), col(Arsip.id))).all()
    return [
        Ending(
            arsip_id=a.id or 0,
            naskah_id=a.naskah_id,
            jenis=a.jenis,
            jenis_kerja_sama=a.jenis_kerja_sama,
            judul=a.judul,
            pihak=tuple(str(p.get("instansi") or "-") for p in sorted(a.pihak, key=lambda p: int(p.get("urutan", 0)))),
            nomor=dict(a.nomor),
            opd_teknis=a.opd_teknis,
            mulai=a.mulai,
            selesai=a.selesai,
            sisa_hari=(a.selesai - today).days,
            kedaluwarsa=a.selesai < today,
        )
        for a in rows
    ]


# -- naskah in progress ----------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """Where one naskah in progress waits, since when, against which standard time."""

    naskah_id: int
    kerja_sama_id: int
    jenis: str
    jenis_kerja_sama: str
    judul: str
    opd_teknis: str
    status: str
    """The lifecycle status (``draft``, ``legal_review``, ``returned``, ``paraf``, ``signing``, ``signed``)."""
    langkah: str
    """The step: the status, or ``paraf.<posisi>`` for whose paraf is next."""
    keterangan: str
    """The step in words (``Pengumpulan paraf``)."""
    menunggu: str
    """Whose move it is: a jabatan, a signer's name and jabatan, the drafter, the secretariat."""
    sejak: dt.datetime
    """When the step started (UTC): the last lifecycle event that put the naskah there."""
    lama: dt.timedelta
    """How long it has waited, until ``now``, on its standard's clock (working time for hari kerja)."""
    standar: Duration | None
    """The SOP profile's standard time for the step; None when the SOP gives none."""
    standar_dari: str | None
    """The ``mutu_baku`` key the standard came from (``paraf.sekda``, or ``paraf`` for the round)."""
    tenggat: dt.datetime | None
    """When the step is due (:meth:`pipeline.sop.Profile.deadline`: hari kerja skip weekends, national
    holidays and cuti bersama)."""
    terlambat: bool
    """``now`` is past ``tenggat``."""
    lewat: dt.timedelta | None = None
    """How far past the deadline, on the standard's clock (None while not overdue)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "naskah_id": self.naskah_id,
            "kerja_sama_id": self.kerja_sama_id,
            "jenis": self.jenis,
            "jenis_kerja_sama": self.jenis_kerja_sama,
            "judul": self.judul,
            "opd_teknis": self.opd_teknis,
            "status": self.status,
            "langkah": self.langkah,
            "keterangan": self.keterangan,
            "menunggu": self.menunggu,
            "sejak": self.sejak.isoformat(),
            "lama_menit": int(self.lama.total_seconds() // 60),
            "lama": durasi(self.lama, kerja=self.hari_kerja),
            "standar": self.standar.text if self.standar else None,
            "standar_menit": int(self.standar.value.total_seconds() // 60) if self.standar else None,
            "standar_dari": self.standar_dari,
            "tenggat": self.tenggat.isoformat() if self.tenggat else None,
            "terlambat": self.terlambat,
            "lewat_menit": int(self.lewat.total_seconds() // 60) if self.lewat else None,
            "lewat": durasi(self.lewat, kerja=self.hari_kerja) if self.lewat else None,
        }

    @property
    def hari_kerja(self) -> bool:
        """The standard counts working days: ``lama`` and ``lewat`` are working time."""
        return bool(self.standar and self.standar.hari_kerja)


def durasi(value: dt.timedelta, *, kerja: bool = False) -> str:
    """A wait as people say it: ``3 hari 4 jam``, ``2 jam 5 menit``, ``12 menit``; working time
    (``kerja``, measured against a hari kerja standard) says ``3 hari kerja 4 jam``."""
    minutes = max(0, int(value.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} hari kerja" if kerja else f"{days} hari"] if days else []
    if hours:
        parts.append(f"{hours} jam")
    if minutes and not days:
        parts.append(f"{minutes} menit")
    return " ".join(parts) or "0 menit"


_DRAFTER = "Penyusun (Analis / Pengelola Kerja Sama)"
_SECRETARIAT = "Sekretariat TKKSD (pengarsipan)"


def step_of(
    profile: Profile, naskah: Naskah, paraf_given: int, next_signer: SignatureStep | None, has_plan: bool
) -> tuple[str, str]:
    """The step key of ``naskah`` (its status, or ``paraf.<posisi>``) and whose move it is."""
    status = naskah.status
    if status == Status.PARAF:
        chain = profile.paraf_chain(naskah.jenis)
        if paraf_given < len(chain):
            position = chain[paraf_given]
            return f"paraf.{position.key}", position.jabatan
        return "paraf", "-"
    if status == Status.LEGAL_REVIEW:
        return status, profile.reviewer.jabatan
    if status == Status.SIGNING:
        if not has_plan:
            return status, f"{_DRAFTER}: rencana penandatanganan"
        if next_signer is None:
            return status, "-"
        who = f"{next_signer.nama} ({next_signer.jabatan})"
        return status, f"{who}, di sistem mitra (desk to desk)" if next_signer.external else who
    if status == Status.SIGNED:
        return status, _SECRETARIAT
    return status, _DRAFTER  # draft, returned


def standard_for(profile: Profile, step: str) -> tuple[Duration | None, str | None]:
    """The profile's standard time of ``step`` (``legal_review``, ``paraf.sekda``; for a position with none,
    the whole round's ``paraf``) and the ``mutu_baku`` key it came from; (None, None) when the SOP gives none."""
    for key in (step, step.partition(".")[0]):
        if key in profile.mutu_baku:
            return profile.mutu_baku[key], key
    return None, None


def _starts(session: Session, ids: list[int]) -> dict[int, dt.datetime]:
    """When each naskah entered its current step: its last event that moved it (a revision while
    drafting, draft -> draft, does not restart the clock; a paraf or a signature does)."""
    out: dict[int, dt.datetime] = {}
    moves = session.exec(
        select(NaskahEvent.naskah_id, NaskahEvent.created_at)
        .where(
            col(NaskahEvent.naskah_id).in_(ids),
            sa.not_(
                sa.and_(NaskahEvent.action == Action.REVISE.value, NaskahEvent.from_status == NaskahEvent.to_status)
            ),
        )
        .order_by(col(NaskahEvent.created_at), col(NaskahEvent.id))
    ).all()
    for naskah_id, at in moves:
        out[naskah_id] = at
    return out


def in_progress(session: Session, user: User, profile: Profile, now: dt.datetime) -> list[Waiting]:
    """Every naskah not archived or cancelled, where it waits and for how long, against ``profile``'s
    standard times: overdue first, then the longest waiting.  Only the naskah ``user`` may see."""
    require(user, "read")
    final = [s.value for s in FINAL_STATES]
    pairs = session.exec(
        select(Naskah, KerjaSama)
        .join(KerjaSama, col(KerjaSama.id) == col(Naskah.kerja_sama_id))
        .where(col(Naskah.status).notin_(final), access.naskah_clause(session, user, profile))
        .order_by(col(Naskah.id))
    ).all()
    return waiting(session, profile, list(pairs), now)


def waiting(
    session: Session, profile: Profile, pairs: list[tuple[Naskah, KerjaSama]], now: dt.datetime
) -> list[Waiting]:
    """Where each of ``pairs`` (naskah in progress with their kerja sama, already filtered for what the
    reader may see) waits, since when, against the profile's standard time: overdue first, then the
    longest waiting.  The one computation of waiting: monitoring, "Tugas saya" (``pipeline.inbox.tasks``) and
    the naskah's progress (``pipeline.workspace.progress``) all read it."""
    now = as_utc(now)
    if not pairs:
        return []
    ids = [n.id or 0 for n, _ in pairs]
    starts = _starts(session, ids)
    paraf_counts = dict(
        session.exec(
            select(Paraf.naskah_id, func.count())
            .where(col(Paraf.naskah_id).in_(ids), col(Paraf.voided_at).is_(None))
            .group_by(col(Paraf.naskah_id))
        ).all()
    )
    plans = {p.naskah_id: p for p in session.exec(select(SignaturePlan).where(col(SignaturePlan.naskah_id).in_(ids)))}
    next_signer: dict[int, SignatureStep] = {}
    if plans:
        plan_naskah = {p.id: p.naskah_id for p in plans.values()}
        pending = session.exec(
            select(SignatureStep)
            .where(col(SignatureStep.plan_id).in_(list(plan_naskah)), col(SignatureStep.signed_at).is_(None))
            .order_by(col(SignatureStep.urutan))
        ).all()
        for step in pending:
            next_signer.setdefault(plan_naskah[step.plan_id], step)

    out = []
    for naskah, case in pairs:
        nid = naskah.id or 0
        langkah, menunggu = step_of(profile, naskah, int(paraf_counts.get(nid, 0)), next_signer.get(nid), nid in plans)
        since = starts.get(nid) or naskah.created_at
        standard, source = standard_for(profile, langkah)
        deadline = profile.deadline(standard, since) if standard is not None else None
        late = deadline is not None and now > deadline
        try:
            label = STATUS_LABELS[Status(naskah.status)]
        except ValueError:
            label = naskah.status
        out.append(
            Waiting(
                naskah_id=nid,
                kerja_sama_id=case.id or 0,
                jenis=naskah.jenis,
                jenis_kerja_sama=case.jenis,
                judul=str((naskah.data or {}).get("judul") or case.judul),
                opd_teknis=case.opd_teknis,
                status=naskah.status,
                langkah=langkah,
                keterangan=label,
                menunggu=menunggu,
                sejak=since.astimezone(dt.UTC),
                lama=profile.elapsed(standard, since, now),
                standar=standard,
                standar_dari=source,
                tenggat=deadline,
                terlambat=late,
                lewat=profile.elapsed(standard, deadline, now) if late and deadline is not None else None,
            )
        )
    out.sort(key=lambda w: (not w.terlambat, w.sejak, w.naskah_id))
    return out


# -- archive timestamps to renew -------------------------------------------------------------


@dataclass(frozen=True)
class RenewalDue:
    """An archived original whose last document timestamp must be renewed soon (or is overdue)."""

    arsip_id: int
    naskah_id: int
    jenis: str
    judul: str
    nomor: dict[str, str]
    cap_waktu_berakhir: dt.datetime | None
    """When the last document timestamp's TSA certificate expires (None: unknown, renew)."""
    sisa_hari: int | None
    """Whole days left until then; negative once passed (None with an unknown expiry)."""

    @property
    def terlambat(self) -> bool:
        """The TSA certificate has expired: the archive's proof is no longer carried on."""
        return self.sisa_hari is None or self.sisa_hari < 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "arsip_id": self.arsip_id,
            "naskah_id": self.naskah_id,
            "jenis": self.jenis,
            "judul": self.judul,
            "nomor": self.nomor,
            "cap_waktu_berakhir": self.cap_waktu_berakhir.isoformat() if self.cap_waktu_berakhir else None,
            "sisa_hari": self.sisa_hari,
            "terlambat": self.terlambat,
        }


def renewal_due(
    session: Session, user: User, now: dt.datetime, *, profile: Profile, dalam_hari: int = 365
) -> list[RenewalDue]:
    """Archived originals whose last document timestamp's TSA certificate expires within
    ``dalam_hari`` days of ``now`` (those already expired and unknown ones first), soonest first;
    only those ``user`` may see."""
    require(user, "read")
    if dalam_hari < 0:
        raise ValueError("dalam_hari must not be negative")
    result = []
    due = due_for_renewal(session, dalam_hari, now)
    shown = access.visible_naskah_ids(session, user, profile, [a.naskah_id for a in due])
    for a in (a for a in due if a.naskah_id in shown):
        ends = a.timestamp_expiry
        result.append(
            RenewalDue(
                arsip_id=a.id or 0,
                naskah_id=a.naskah_id,
                jenis=a.jenis,
                judul=a.judul,
                nomor=dict(a.nomor),
                cap_waktu_berakhir=ends,
                sisa_hari=(ends - now).days if ends else None,
            )
        )
    return result
