"""The monitoring dashboard's numbers: the aggregates behind the secretariat's charts and tables.

Seed 001 ("Monitoring dan Evaluasi Kerja Sama Daerah") has the Sekretariat TKKSD report on every
agreement and on how the process keeps the SOP's "Mutu Baku — Waktu".  Five aggregates, each a plain
function of the session, the reader, the SOP profile and the clock, each counting ONLY what the reader
may see (``pipeline.access``: the same SQL conditions as the lists, so a count never reveals a kerja sama
the reader may not open):

* :func:`per_year` — archived agreements (KB, NK, PKS; a Surat Kuasa is not an agreement) per year of
  signing (``tanggal_ttd``), by jenis kerja sama (KSDD, KSDPK, KSIV).
* :func:`ending` — archived agreements still in force that end within 30, 90 and 180 days (cumulative:
  "within 90 days" includes those within 30), by jenis kerja sama; from ``monitoring.expiring``.
* :func:`in_progress_by_step` — naskah in progress per step of the path, on time and late against the
  profile's standard time; from ``monitoring.in_progress`` (``monitoring.waiting``, the one computation
  of waiting).
* :func:`step_durations` — how long each COMPLETED step took, against its standard: per step the number
  done, the average and the longest, and how many took longer than the standard allowed (the deadline
  on the region's calendar, :meth:`pipeline.sop.Profile.deadline`, as for waiting).  Against a ``hari
  kerja`` standard the time taken is working time (:meth:`pipeline.sop.Profile.elapsed`: weekends,
  national holidays and cuti bersama left out), so average and standard are on one clock.  A step is measured
  as ``monitoring`` measures waiting: it starts at the event that moved the naskah into it (drafting at
  the naskah's creation; a revision while drafting does not restart it) and ends at the next event that
  moves it on; each paraf ends one position's step and each signature one signer's step.  A step cut
  short by a cancellation was not completed and is not measured.
* :func:`renewal` — archived originals whose last document timestamp must be renewed: already overdue
  (or unknown), within 90 days, within 365 days; from ``monitoring.renewal_due``.

:func:`dashboard` gathers all five for one reader.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session, col, select

from pipeline import access
from pipeline.archival import monitoring
from pipeline.auth import require
from pipeline.lifecycle import STATUS_LABELS, Action, Status
from pipeline.models import JENIS_NASKAH, Arsip, Naskah, NaskahEvent, User, as_utc
from pipeline.sop import Profile

__all__ = [
    "ENDING_WINDOWS",
    "JENIS_KERJA_SAMA",
    "RENEWAL_WINDOWS",
    "Dashboard",
    "DurationRow",
    "EndingRow",
    "RenewalRow",
    "StepRow",
    "YearRow",
    "dashboard",
    "ending",
    "in_progress_by_step",
    "per_year",
    "renewal",
    "step_durations",
    "step_label",
    "step_order",
]

JENIS_KERJA_SAMA = ("KSDD", "KSDPK", "KSIV")
ENDING_WINDOWS = (30, 90, 180)
RENEWAL_WINDOWS = (90, 365)


def _by_jenis() -> dict[str, int]:
    return dict.fromkeys(JENIS_KERJA_SAMA, 0)


# -- the path's steps, in order ----------------------------------------------------------------


def step_order(profile: Profile) -> list[str]:
    """Every step key of the path in the order a naskah meets them: drafting, a return, Bagian Hukum's
    review, each paraf position (in the profile's chains, first seen first), signing, archiving."""
    keys = [Status.DRAFT.value, Status.RETURNED.value, Status.LEGAL_REVIEW.value]
    for jenis in JENIS_NASKAH:
        for position in profile.paraf_chain(jenis):
            key = f"paraf.{position.key}"
            if key not in keys:
                keys.append(key)
    keys += [Status.PARAF.value, Status.SIGNING.value, Status.SIGNED.value]
    return keys


def step_label(profile: Profile, key: str) -> str:
    """A step as people name it: ``Paraf Sekretaris Daerah``, ``Penandatanganan``."""
    head, _, position = key.partition(".")
    if position:
        for jenis in JENIS_NASKAH:
            for p in profile.paraf_chain(jenis):
                if p.key == position:
                    return f"Paraf {p.jabatan}"
        return f"Paraf {position}"
    try:
        return STATUS_LABELS[Status(head)]
    except ValueError:
        return key


def _rank(profile: Profile) -> dict[str, int]:
    return {k: i for i, k in enumerate(step_order(profile))}


# -- agreements per year -----------------------------------------------------------------------


@dataclass(frozen=True)
class YearRow:
    tahun: int
    jumlah: dict[str, int]
    """By jenis kerja sama (KSDD, KSDPK, KSIV; each present, 0 when none)."""

    @property
    def total(self) -> int:
        return sum(self.jumlah.values())

    def to_dict(self) -> dict[str, Any]:
        return {"tahun": self.tahun, "jumlah": dict(self.jumlah), "total": self.total}


def per_year(session: Session, user: User, profile: Profile) -> list[YearRow]:
    """Archived agreements (not Surat Kuasa) per year of signing, by jenis kerja sama, oldest year
    first; only the originals ``user`` may see (``access.arsip_clause``)."""
    require(user, "read")
    year = sa.extract("year", col(Arsip.tanggal_ttd))
    rows = session.exec(
        select(year, Arsip.jenis_kerja_sama, func.count())
        .where(access.arsip_clause(session, user, profile), Arsip.jenis != "SK")
        .group_by(year, Arsip.jenis_kerja_sama)
    ).all()
    years: dict[int, dict[str, int]] = defaultdict(_by_jenis)
    for tahun, jenis, count in rows:
        years[int(tahun)][jenis] = years[int(tahun)].get(jenis, 0) + int(count)
    return [YearRow(t, years[t]) for t in sorted(years)]


# -- agreements ending -------------------------------------------------------------------------


@dataclass(frozen=True)
class EndingRow:
    dalam_hari: int
    jumlah: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.jumlah.values())

    def to_dict(self) -> dict[str, Any]:
        return {"dalam_hari": self.dalam_hari, "jumlah": dict(self.jumlah), "total": self.total}


def ending(
    session: Session, user: User, profile: Profile, today: dt.date
) -> tuple[list[EndingRow], list[monitoring.Ending]]:
    """Per window of :data:`ENDING_WINDOWS` the agreements in force that end within it (cumulative),
    by jenis kerja sama, and the agreements themselves (the widest window, soonest first)."""
    items = monitoring.expiring(session, user, today, profile=profile, dalam_hari=max(ENDING_WINDOWS), lewat_hari=0)
    rows = []
    for days in ENDING_WINDOWS:
        counts = _by_jenis()
        for e in items:
            if e.sisa_hari <= days:
                counts[e.jenis_kerja_sama] = counts.get(e.jenis_kerja_sama, 0) + 1
        rows.append(EndingRow(days, counts))
    return rows, items


# -- naskah in progress per step ---------------------------------------------------------------


@dataclass(frozen=True)
class StepRow:
    langkah: str
    label: str
    tepat_waktu: int
    """Waiting within the standard time (or a step the SOP gives no time for)."""
    terlambat: int
    standar: str | None

    @property
    def total(self) -> int:
        return self.tepat_waktu + self.terlambat

    def to_dict(self) -> dict[str, Any]:
        return {
            "langkah": self.langkah,
            "label": self.label,
            "tepat_waktu": self.tepat_waktu,
            "terlambat": self.terlambat,
            "total": self.total,
            "standar": self.standar,
        }


def in_progress_by_step(
    session: Session, user: User, profile: Profile, now: dt.datetime
) -> tuple[list[StepRow], list[monitoring.Waiting]]:
    """Naskah in progress per step (in the path's order), on time and late; and the naskah themselves
    (``monitoring.in_progress``: overdue first)."""
    waits = monitoring.in_progress(session, user, profile, now)
    late: dict[str, int] = defaultdict(int)
    on_time: dict[str, int] = defaultdict(int)
    for w in waits:
        (late if w.terlambat else on_time)[w.langkah] += 1
    rank = _rank(profile)
    keys = sorted(set(late) | set(on_time), key=lambda k: (rank.get(k, len(rank)), k))
    rows = []
    for key in keys:
        standard, _ = monitoring.standard_for(profile, key)
        rows.append(
            StepRow(key, step_label(profile, key), on_time[key], late[key], standard.text if standard else None)
        )
    return rows, waits


# -- how long each completed step took ---------------------------------------------------------


@dataclass
class DurationRow:
    langkah: str
    label: str
    standar: str | None
    standar_menit: int | None
    jumlah: int = 0
    """Completed steps measured."""
    melebihi: int = 0
    """Of those, how many ended after their deadline."""
    total: dt.timedelta = dt.timedelta(0)
    terlama: dt.timedelta = dt.timedelta(0)
    hari_kerja: bool = False
    """The standard counts working days: ``total`` and ``terlama`` are working time."""

    @property
    def rata_rata(self) -> dt.timedelta:
        return self.total / self.jumlah if self.jumlah else dt.timedelta(0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "langkah": self.langkah,
            "label": self.label,
            "standar": self.standar,
            "standar_menit": self.standar_menit,
            "jumlah": self.jumlah,
            "melebihi": self.melebihi,
            "rata_rata_menit": int(self.rata_rata.total_seconds() // 60),
            "rata_rata": monitoring.durasi(self.rata_rata, kerja=self.hari_kerja),
            "terlama_menit": int(self.terlama.total_seconds() // 60),
            "terlama": monitoring.durasi(self.terlama, kerja=self.hari_kerja),
        }


def step_durations(session: Session, user: User, profile: Profile) -> list[DurationRow]:
    """How long each completed step took against the profile's standard time, over every naskah
    ``user`` may see (in progress, signed, archived or cancelled), in the path's order."""
    require(user, "read")
    visible = access.naskah_clause(session, user, profile)
    # Plain columns, not ORM objects, and the visibility as a join condition (not a list of ids): the
    # dashboard reads every naskah's history at once.
    naskah = session.exec(
        select(Naskah.id, Naskah.jenis, Naskah.created_at).where(visible).order_by(col(Naskah.id))
    ).all()
    if not naskah:
        return []
    events: dict[int, list[tuple[str, str, str, dt.datetime]]] = defaultdict(list)
    for nid, action, source, target, at in session.exec(
        select(
            NaskahEvent.naskah_id,
            NaskahEvent.action,
            NaskahEvent.from_status,
            NaskahEvent.to_status,
            NaskahEvent.created_at,
        )
        .join(Naskah, col(Naskah.id) == col(NaskahEvent.naskah_id))
        .where(visible)
        .order_by(col(NaskahEvent.naskah_id), col(NaskahEvent.created_at), col(NaskahEvent.id))
    ):
        events[nid].append((action, source, target, at))

    rows: dict[str, DurationRow] = {}
    standards: dict[str, Any] = {}

    def measure(key: str, start: dt.datetime, end: dt.datetime) -> None:
        if key not in standards:
            standards[key], _ = monitoring.standard_for(profile, key)
        standard = standards[key]
        row = rows.get(key)
        if row is None:
            row = rows[key] = DurationRow(
                key,
                step_label(profile, key),
                standard.text if standard else None,
                int(standard.value.total_seconds() // 60) if standard else None,
                hari_kerja=bool(standard and standard.hari_kerja),
            )
        took = profile.elapsed(standard, start, end)
        row.jumlah += 1
        row.total += took
        row.terlama = max(row.terlama, took)
        if standard is not None and end > profile.deadline(standard, start):
            row.melebihi += 1

    chains = {j: profile.paraf_chain(j) for j in JENIS_NASKAH}
    for nid, jenis, created_at in naskah:
        start = as_utc(created_at)
        chain = chains.get(jenis) or profile.paraf_chain(jenis)
        parafs = 0  # paraf given since the naskah last entered the paraf step
        for action, source, target, at_raw in events.get(nid or 0, []):
            if action == Action.REVISE.value and source == target:
                continue  # a revision while drafting: the step goes on
            at = as_utc(at_raw)
            if action != Action.CANCEL.value:
                key = source
                if source == Status.PARAF.value:  # a paraf, or a refusal, ends one position's step
                    key = f"paraf.{chain[parafs].key}" if parafs < len(chain) else Status.PARAF.value
                    parafs += action == Action.PARAF.value
                measure(key, start, at)
            if target != Status.PARAF.value:
                parafs = 0
            start = at
    rank = _rank(profile)
    return sorted(rows.values(), key=lambda r: (rank.get(r.langkah, len(rank)), r.langkah))


# -- archive timestamps to renew ---------------------------------------------------------------


@dataclass(frozen=True)
class RenewalRow:
    kelompok: str
    """``terlambat`` (expired or unknown), ``90`` (within 90 days), ``365`` (91 to 365 days)."""
    label: str
    jumlah: int

    def to_dict(self) -> dict[str, Any]:
        return {"kelompok": self.kelompok, "label": self.label, "jumlah": self.jumlah}


def renewal(
    session: Session, user: User, profile: Profile, now: dt.datetime
) -> tuple[list[RenewalRow], list[monitoring.RenewalDue]]:
    """Archived originals whose timestamp must be renewed, counted by urgency (disjoint groups), and the
    originals themselves (``monitoring.renewal_due`` over 365 days: overdue first)."""
    items = monitoring.renewal_due(session, user, now, profile=profile, dalam_hari=max(RENEWAL_WINDOWS))
    near, far = RENEWAL_WINDOWS
    overdue = sum(1 for r in items if r.terlambat)
    soon = sum(1 for r in items if not r.terlambat and (r.sisa_hari or 0) <= near)
    rows = [
        RenewalRow("terlambat", "Sudah lewat atau tidak diketahui", overdue),
        RenewalRow(str(near), f"Dalam {near} hari", soon),
        RenewalRow(str(far), f"{near + 1}–{far} hari lagi", len(items) - overdue - soon),
    ]
    return rows, items


# -- all of it ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dashboard:
    per_tahun: list[YearRow]
    berakhir: list[EndingRow]
    berakhir_daftar: list[monitoring.Ending]
    proses: list[StepRow]
    proses_daftar: list[monitoring.Waiting]
    durasi: list[DurationRow]
    cap_waktu: list[RenewalRow]
    cap_waktu_daftar: list[monitoring.RenewalDue]
    profil: str
    per_tanggal: dt.date

    def to_dict(self) -> dict[str, Any]:
        return {
            "profil": self.profil,
            "per_tanggal": self.per_tanggal.isoformat(),
            "per_tahun": [r.to_dict() for r in self.per_tahun],
            "berakhir": [r.to_dict() for r in self.berakhir],
            "proses": [r.to_dict() for r in self.proses],
            "durasi": [r.to_dict() for r in self.durasi],
            "cap_waktu": [r.to_dict() for r in self.cap_waktu],
        }


def dashboard(session: Session, user: User, profile: Profile, now: dt.datetime) -> Dashboard:
    """Every aggregate of the dashboard for ``user``, on ``now`` (today in the profile's time zone)."""
    require(user, "read")
    now = as_utc(now)
    today = now.astimezone(profile.tz).date()
    berakhir, berakhir_daftar = ending(session, user, profile, today)
    proses, proses_daftar = in_progress_by_step(session, user, profile, now)
    cap_waktu, cap_waktu_daftar = renewal(session, user, profile, now)
    return Dashboard(
        per_tahun=per_year(session, user, profile),
        berakhir=berakhir,
        berakhir_daftar=berakhir_daftar,
        proses=proses,
        proses_daftar=proses_daftar,
        durasi=step_durations(session, user, profile),
        cap_waktu=cap_waktu,
        cap_waktu_daftar=cap_waktu_daftar,
        profil=profile.daerah,
        per_tanggal=today,
    )
