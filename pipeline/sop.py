"""SOP profiles: who reviews, who gives paraf in which order, who signs, and how long each step may take.

The four seed SOPs (Kota Tangerang, Kabupaten Magetan, Provinsi Kepulauan Bangka Belitung,
Kabupaten Paser) run the same lifecycle with different officials, orders and standard
times ("mutu baku waktu"), so a region is described by a YAML file in
``pipeline/profiles/`` rather than by code.  A profile is checked completely when it is
loaded — every key it references exists, every official has the role the step needs,
paraf chains have one to three officials (Tata Naskah Dinas, Permendagri 54/2009
Lampiran C), the Kepala Daerah signs KB, NK and Surat Kuasa — so a wrong profile stops the
application at start-up with the file and field named, not halfway through a paraf chain.

Durations are written the way the SOPs write them: ``30 menit``, ``1 jam``, ``3 hari``,
``2 hari kerja``, ``4 hari 420 menit``.  ``hari`` is a calendar day.  ``hari kerja`` is a
working day: :attr:`Duration.value` counts it as one day of 24 hours (the budget on a
working-day clock), and :meth:`Profile.deadline` places it on the region's calendar
(:mod:`pipeline.workdays`: weekends, national holidays and cuti bersama skipped, in the
profile's time zone, corrected by the profile's ``hari_libur``).  Every "late" of the system
(inbox, progress, monitoring, dashboard) is :meth:`Profile.deadline` and :meth:`Profile.elapsed`.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from pipeline.errors import InvalidInput, NotFound
from pipeline.lifecycle import FINAL_STATES, Role, Status
from pipeline.models import JENIS_NASKAH
from pipeline.workdays import WorkCalendar, library_holidays

__all__ = [
    "INTAKE_STEPS",
    "MAX_PARAF",
    "MONEV_STEPS",
    "PROFILE_DIR",
    "ZONA_WAKTU",
    "Duration",
    "HariLibur",
    "IntakeProfile",
    "MonevProfile",
    "MonevStep",
    "Position",
    "Profile",
    "available_profiles",
    "load_profile",
    "parse_duration",
]

CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")


@dataclass(frozen=True)
class ParafBox:
    """Where the per-page paraf marks are stamped, in PDF points, relative to a page corner.

    ``x`` and ``y`` are the distances from that corner's two page edges to the nearest
    corner of the box (for "bottom-right": from the right edge to the box's right side
    and from the bottom edge to its bottom side), so one box fits portrait and landscape
    pages alike.
    """

    corner: str
    x: float
    y: float
    width: float
    height: float

    def rect(self, page_width: float, page_height: float) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) in PDF user space (origin bottom-left) on a page of this size."""
        x0 = page_width - self.x - self.width if self.corner.endswith("right") else self.x
        y0 = page_height - self.y - self.height if self.corner.startswith("top") else self.y
        return (x0, y0, x0 + self.width, y0 + self.height)

    def public(self) -> dict[str, Any]:
        return {"corner": self.corner, "x": self.x, "y": self.y, "width": self.width, "height": self.height}


DEFAULT_PARAF = ParafBox("bottom-right", 36, 24, 160, 46)


PROFILE_DIR = Path(__file__).with_name("profiles")
MAX_PARAF = 3  # Tata Naskah Dinas: at most three officials give the hierarchical paraf
# Indonesia has no daylight saving time, so fixed offsets are exact and need no tz database.
ZONA_WAKTU: dict[str, tzinfo] = {
    "WIB": timezone(timedelta(hours=7), "WIB"),
    "WITA": timezone(timedelta(hours=8), "WITA"),
    "WIT": timezone(timedelta(hours=9), "WIT"),
}
# Lifecycle states a naskah can wait in (the final ones wait for nothing).
STEP_STATES = tuple(s.value for s in Status if s not in FINAL_STATES)
_KEY = re.compile(r"[a-z][a-z0-9_]*")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_UNITS: dict[str, timedelta] = {
    "menit": timedelta(minutes=1),
    "jam": timedelta(hours=1),
    "hari": timedelta(days=1),
    "minggu": timedelta(weeks=1),
    "pekan": timedelta(weeks=1),
}
_PART = re.compile(r"(\d+)\s*(menit|jam|hari\s+kerja|hari|minggu|pekan)\b", re.IGNORECASE)
_GLUE = re.compile(r"\s*(?:,|dan)?\s*", re.IGNORECASE)


def _invalid(message: str) -> PydanticCustomError:
    """A validation error whose message is already Indonesian (shown as is)."""
    return PydanticCustomError("naskah_invalid", message)


class Duration(BaseModel):
    """A standard time as the SOP writes it (``text``), and what it means.

    Written in YAML as text ("30 menit"); the model keeps the original words so screens
    can show them exactly as the SOP does.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    """The original words, e.g. ``"2 hari kerja"``."""
    value: timedelta
    """The whole duration; each hari kerja counts as one 24-hour day (see :meth:`Profile.deadline`)."""
    hari_kerja: int = 0
    """How many of ``value``'s days are working days."""

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if isinstance(data, str):
            try:
                return parse_duration(data).model_dump()
            except InvalidInput as exc:
                raise _invalid(exc.message.rstrip(".")) from None
        if isinstance(data, int | float):
            raise _invalid(f"'{data}' tidak bersatuan; tulis mis. '30 menit', '1 jam', '3 hari' atau '2 hari kerja'")
        return data

    @property
    def kerja(self) -> timedelta:
        """The part of the duration on the working-day clock (its hari kerja, 24 hours each)."""
        return timedelta(days=self.hari_kerja)

    def __str__(self) -> str:
        return self.text


def parse_duration(text: str) -> Duration:
    """``"30 menit"``, ``"1 jam"``, ``"3 hari"``, ``"2 hari kerja"``, ``"4 hari 420 menit"`` -> :class:`Duration`.

    Units: menit, jam, hari, hari kerja, minggu/pekan; case-insensitive; parts may be
    joined by spaces, commas or "dan".  Ranges ("30-60 menit") are refused: the profile
    must choose one standard.  Raises InvalidInput.
    """
    cleaned = " ".join(str(text).split())
    parts = list(_PART.finditer(cleaned))
    gaps = [cleaned[a.end() : b.start()] for a, b in itertools.pairwise(parts)]
    if (
        not parts
        or parts[0].start() != 0
        or parts[-1].end() != len(cleaned)
        or not all(_GLUE.fullmatch(gap) for gap in gaps)
    ):
        raise InvalidInput(
            f"Waktu '{text}' tidak dapat dibaca; tulis mis. '30 menit', '1 jam', '3 hari' atau '2 hari kerja'.",
            text=str(text),
        )
    total = timedelta()
    working = 0
    for part in parts:
        amount, unit = int(part.group(1)), " ".join(part.group(2).lower().split())
        if unit == "hari kerja":
            working += amount
            total += timedelta(days=amount)
        else:
            total += amount * _UNITS[unit]
    if total <= timedelta():
        raise InvalidInput(f"Waktu '{text}' harus lebih dari nol.", text=str(text))
    return Duration.model_construct(text=cleaned, value=total, hari_kerja=working)


class Position(BaseModel):
    """One official of the SOP (a jabatan), by the key the profile and user accounts use."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    """E.g. ``sekda``; users are bound to positions by this key (``User.posisi``)."""
    jabatan: str
    """Full title as printed: ``Kepala Bagian Pemerintahan``."""
    singkatan: str
    """Short title for paraf stamps: ``Kabag Pem``."""
    role: Role
    """The lifecycle role this official acts in (paraf, legal, signer, ...)."""
    kepala_daerah: bool = False
    """Bupati / Wali Kota / Gubernur: the only one who may sign KB, NK and Surat Kuasa."""

    @field_validator("key")
    @classmethod
    def _key_form(cls, value: str) -> str:
        if not _KEY.fullmatch(value):
            raise _invalid(f"kunci '{value}' hanya boleh huruf kecil, angka dan garis bawah (mis. kabag_hukum)")
        return value

    @field_validator("jabatan", "singkatan")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise _invalid("tidak boleh kosong")
        return value.strip()


_DATE_HINT = "tulis TTTT-BB-HH, mis. 2028-01-27"


def _as_date(value: Any) -> date | None:
    """A date from YAML (already a date when unquoted) or from text ``2028-01-27``; None if neither."""
    if isinstance(value, datetime):
        return None  # a time of day has no place in a list of holidays
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


class HariLibur(BaseModel):
    """A profile's corrections to the national holiday library (:mod:`pipeline.workdays`).

    In YAML::

        hari_libur:
          tambah:                      # not working days, whatever the library says
            2028-01-27: Cuti bersama Tahun Baru Imlek
            2026-05-13: Hari Jadi Kabupaten Paser
          hapus:                       # working days after all (the government moved a cuti bersama)
            - 2027-03-15

    Each date is checked at load time: a date that is not a date, a ``tambah`` without a name, a
    ``hapus`` of a date the library has no holiday on (nothing to remove: a typo or a stale entry),
    a date both added and removed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    tambah: dict[date, str] = {}
    """Days off the library lacks, with their names as shown to people."""
    hapus: frozenset[date] = frozenset()
    """Library holidays that are working days in this region after all."""

    @model_validator(mode="before")
    @classmethod
    def _entries(cls, data: Any) -> Any:
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise _invalid("harus berupa pemetaan dengan 'tambah' dan/atau 'hapus'")
        problems: list[str] = []
        unknown = [str(k) for k in data if k not in ("tambah", "hapus")]
        if unknown:
            problems.append(f"kolom tidak dikenal: {', '.join(unknown)}; pilih 'tambah' atau 'hapus'")
        tambah: dict[date, str] = {}
        raw_tambah = data.get("tambah") or {}
        if not isinstance(raw_tambah, dict):
            problems.append("tambah: harus berupa pemetaan tanggal: nama libur (mis. 2028-01-27: Cuti bersama Imlek)")
            raw_tambah = {}
        for key, name in raw_tambah.items():
            day = _as_date(key)
            if day is None:
                problems.append(f"tambah: '{key}' bukan tanggal; {_DATE_HINT}")
            elif not isinstance(name, str) or not name.strip():
                problems.append(f"tambah.{day.isoformat()}: nama libur wajib diisi (mis. Cuti bersama Idul Fitri)")
            else:
                tambah[day] = name.strip()
        hapus: set[date] = set()
        raw_hapus = data.get("hapus") or []
        if not isinstance(raw_hapus, list):
            problems.append("hapus: harus berupa daftar tanggal [..]")
            raw_hapus = []
        for entry in raw_hapus:
            day = _as_date(entry)
            if day is None:
                problems.append(f"hapus: '{entry}' bukan tanggal; {_DATE_HINT}")
            elif day in hapus:
                problems.append(f"hapus: {day.isoformat()} tertulis dua kali")
            elif day in tambah:
                problems.append(f"hapus: {day.isoformat()} juga ada di tambah; pilih salah satu")
            elif day not in library_holidays(day.year):
                problems.append(
                    f"hapus: {day.isoformat()} bukan hari libur nasional atau cuti bersama menurut pustaka "
                    "holidays, jadi tidak ada yang dihapus; periksa tanggalnya"
                )
            else:
                hapus.add(day)
        if problems:
            raise _invalid("; ".join(problems))
        return {"tambah": tambah, "hapus": frozenset(hapus)}


#: Steps of an usulan that take time, besides ``disposisi.<posisi>`` (``pipeline.intake``).
INTAKE_STEPS = ("diterima", "telaah", "rapat", "keputusan")


class IntakeProfile(BaseModel):
    """How an incoming penawaran or permohonan travels before drafting (``pipeline.intake``).

    Seeds 000 (Kota Tangerang), 002 (Magetan), 003 (Bangka Belitung), 004 (Paser steps 1-7).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    disposisi: list[str]
    """The chain, highest first: the letter reaches the first (the Kepala Daerah, or the Kabag for an
    OPD's permohonan in Paser), each disposes it to the next, the last (Ketua Tim / Analis) studies it,
    prepares the TKKSD meeting and reports its recommendation."""
    pemutus: str
    """The Kepala Daerah, who approves or refuses (seed 000 step 8, seed 003 step 9)."""
    penerima: str | None = None
    """Who records incoming letters (Tata Usaha); informative: the role ``secretariat`` or ``drafter`` may."""
    mutu_baku: dict[str, Duration] = {}
    """Standard time per step: ``diterima`` (recorded -> first disposisi), ``disposisi.<posisi>`` (that
    official's disposisi), ``telaah``, ``rapat`` (scheduled -> recommendation), ``keputusan``."""

    def standard(self, step: str) -> Duration | None:
        return self.mutu_baku.get(step)


#: The monev SOP's steps in order (Kota Tangerang, seed 001), as keys of ``monev.langkah``.
MONEV_STEPS: dict[str, str] = {
    "penugasan": "Menugaskan ketua tim melakukan monitoring dan evaluasi (Surat Perintah)",
    "pengumpulan_data": "Mengumpulkan data dan informasi penyelenggaraan kerja sama",
    "bahan": "Mengolah data menjadi bahan dan jadwal monitoring",
    "monitoring": "Melaksanakan monitoring pada OPD (Laporan Monitoring)",
    "penyerahan": "Menyerahkan data hasil monitoring kepada Ketua Tim",
    "pengolahan": "Mengolah data hasil monitoring untuk Kepala Bagian",
    "pembahasan": "Membahas hasil monitoring: temuan dan evaluasi",
    "arahan": "Memberikan arahan dan rencana tindak lanjut (disposisi)",
    "tindak_lanjut": "Menindaklanjuti hasil monitoring dan evaluasi (dokumen evaluasi)",
}
#: Who acts in a monev step besides a position of the profile: the agreement's OPD teknis.
OPD_TEKNIS = "opd_teknis"


class MonevStep(BaseModel):
    """One step of the monev SOP: its standard time (none for the open-ended tindak lanjut) and who acts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    waktu: Duration | None = None
    pelaksana: str
    """A position key, or ``opd_teknis`` (the agreement's OPD teknis, as ``users.opd``)."""


class MonevProfile(BaseModel):
    """Monitoring and evaluation of running agreements (``pipeline.archival.monev``; seed 001, Kota Tangerang).

    ``kabag`` assigns a ketua tim to a monev round (step 1), leads the discussion (step 7) and gives the
    arahan (step 8), and records the decision to extend an agreement; ``ketua_tim`` is the position a
    ketua tim usually holds (any drafter, the analis, may be assigned too).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kabag: str
    ketua_tim: str
    tanpa_laporan: Duration
    """An agreement in force whose last monev report (or its start, without one) is older than this is
    flagged (``pipeline.archival.monev.alerts``)."""
    perpanjangan_sebelum: Duration
    """An agreement ending within this period without a decision to extend (or not) is flagged."""
    langkah: dict[str, MonevStep]
    """The SOP's steps (every key of ``MONEV_STEPS``)."""

    def waktu(self, *steps: str) -> list[Duration]:
        """The standard times of ``steps`` that have one (for a state that spans several steps)."""
        return [d for d in (self.langkah[s].waktu if s in self.langkah else None for s in steps) if d is not None]


class Profile(BaseModel):
    """A region's SOP for naskah kerja sama; see ``pipeline/profiles/paser.yaml`` for a commented example."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    daerah: str
    alamat: str | None = None
    """The Pemda's office address: where our party "berkedudukan di" in a case the intake opens, and the
    kop of the letters the Sekretariat Daerah sends (None: left out, the drafter fills it in)."""
    sumber: str
    """Which SOP document this profile transcribes (and what is assumed beyond it)."""
    zona_waktu: str = "WIB"
    """WIB, WITA or WIT: the region's clock, for dates on paraf stamps and deadlines."""
    positions: dict[str, Position]
    review: str
    """Position key of the legal reviewer (Kabag Hukum)."""
    paraf: dict[str, list[str]]
    """Ordered paraf chain per jenis naskah, lowest rank first."""
    signers: dict[str, str]
    """Our own side's signer per jenis naskah (a PKS may be delegated by Surat Kuasa)."""
    mutu_baku: dict[str, Duration] = {}
    """Standard time per lifecycle status (``legal_review``) or paraf position (``paraf.sekda``)."""
    hari_libur: HariLibur = HariLibur()
    """Days off the holiday library lacks (``tambah``) or wrongly has (``hapus``), for ``hari kerja``."""
    paraf_box: ParafBox | None = None
    """Overrides the template's per-page paraf box when set."""
    kabag_pemerintahan: str | None = None
    """Position key of the Kepala Bagian Pemerintahan / Tata Pemerintahan, who assigns drafters to a
    naskah (``pipeline.access``); unset: the position keyed ``kabag_pemerintahan``, if any."""
    monev: MonevProfile | None = None
    """Monitoring and evaluation of running agreements (None: this region runs none;
    ``pipeline.archival.monev`` refuses)."""
    intake: IntakeProfile | None = None
    """The intake of penawaran and permohonan (None: this region records none; ``pipeline.intake`` refuses)."""
    pemisahan_tugas: bool = True
    """Separation of duties: one person may not both submit and approve a naskah, give two paraf in
    its chain, or sign for two of its parties, whatever roles and positions they hold.  ``false``
    relaxes it (a small office where one official holds two positions)."""

    @model_validator(mode="before")
    @classmethod
    def _position_keys(cls, data: Any) -> Any:
        """Positions are keyed in YAML; copy each key into its entry so a Position knows its own key."""
        if not isinstance(data, dict) or not isinstance(data.get("positions"), dict):
            return data
        positions = {}
        for key, entry in data["positions"].items():
            if isinstance(entry, dict):
                if "key" in entry and entry["key"] != key:
                    raise _invalid(f"positions.{key}.key: '{entry['key']}' berbeda dengan kuncinya '{key}'")
                entry = {**entry, "key": str(key)}
            positions[key] = entry
        return {**data, "positions": positions}

    @field_validator("name")
    @classmethod
    def _name_form(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise _invalid(f"nama profil '{value}' hanya boleh huruf kecil, angka, '-' dan '_'")
        return value

    @field_validator("zona_waktu")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value.upper() not in ZONA_WAKTU:
            raise _invalid(f"'{value}' bukan zona waktu Indonesia; pilih {', '.join(ZONA_WAKTU)}")
        return value.upper()

    @field_validator("paraf_box", mode="before")
    @classmethod
    def _box(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        problems = []
        if value.get("corner") not in CORNERS:
            problems.append(f"corner harus salah satu dari {', '.join(CORNERS)}")
        for name in ("x", "y", "width", "height"):
            number = value.get(name)
            if isinstance(number, bool) or not isinstance(number, int | float):
                problems.append(f"{name} harus berupa angka (poin PDF)")
            elif number < 0 or (name in ("width", "height") and number == 0):
                problems.append(f"{name} harus {'lebih dari nol' if name in ('width', 'height') else 'tidak negatif'}")
        if problems:
            raise _invalid("; ".join(problems))
        return value

    @model_validator(mode="after")
    def _references(self) -> Profile:
        """Every cross-reference at once, so one run shows every mistake of the file."""
        problems: list[str] = []
        if not self.positions:
            problems.append("positions: belum ada pejabat")

        def check(field: str, key: str, role: Role) -> Position | None:
            position = self.positions.get(key)
            if position is None:
                problems.append(f"{field}: posisi '{key}' tidak ada di positions")
            elif position.role != role:
                problems.append(f"{field}: posisi '{key}' berperan '{position.role}', seharusnya '{role}'")
            return position

        check("review", self.review, Role.LEGAL)
        if self.kabag_pemerintahan is not None and self.kabag_pemerintahan not in self.positions:
            problems.append(f"kabag_pemerintahan: posisi '{self.kabag_pemerintahan}' tidak ada di positions")
        for mapping, field in ((self.paraf, "paraf"), (self.signers, "signers")):
            for jenis in mapping:
                if jenis not in JENIS_NASKAH:
                    problems.append(f"{field}.{jenis}: jenis naskah tidak dikenal; pilih {', '.join(JENIS_NASKAH)}")
            for jenis in JENIS_NASKAH:
                if jenis not in mapping:
                    problems.append(f"{field}.{jenis}: belum ditentukan")
        for jenis, chain in self.paraf.items():
            if not 1 <= len(chain) <= MAX_PARAF:
                problems.append(
                    f"paraf.{jenis}: {len(chain)} pejabat; Tata Naskah Dinas membolehkan 1 sampai {MAX_PARAF}"
                )
            if len(set(chain)) != len(chain):
                problems.append(f"paraf.{jenis}: pejabat yang sama muncul dua kali")
            for key in chain:
                check(f"paraf.{jenis}", key, Role.PARAF)
        for jenis, key in self.signers.items():
            signer = check(f"signers.{jenis}", key, Role.SIGNER)
            # KB, NK and the Surat Kuasa itself are the Kepala Daerah's; only a PKS may be delegated.
            if signer is not None and jenis in ("KB", "NK", "SK") and not signer.kepala_daerah:
                problems.append(f"signers.{jenis}: {jenis} ditandatangani Kepala Daerah (kepala_daerah: true)")
        in_chains = {key for chain in self.paraf.values() for key in chain}
        for step in self.mutu_baku:
            kind, _, key = step.partition(".")
            if kind == "paraf" and key:
                if key not in in_chains:
                    problems.append(f"mutu_baku.{step}: '{key}' tidak ada di rantai paraf mana pun")
            elif key or step not in STEP_STATES:
                problems.append(
                    f"mutu_baku.{step}: langkah tidak dikenal; pilih {', '.join(STEP_STATES)} atau paraf.<posisi>"
                )
        if self.intake is not None:
            problems += self._intake_problems(self.intake)
        if self.monev is not None:
            problems += self._monev_problems(self.monev)
        if problems:
            raise _invalid("\n".join(problems))  # split again into one problem each by _problems()
        return self

    def _monev_problems(self, monev: MonevProfile) -> list[str]:
        problems: list[str] = []
        for field, key in (("kabag", monev.kabag), ("ketua_tim", monev.ketua_tim)):
            if key not in self.positions:
                problems.append(f"monev.{field}: posisi '{key}' tidak ada di positions")
        for step in MONEV_STEPS:
            if step not in monev.langkah:
                problems.append(f"monev.langkah.{step}: belum ditentukan")
        for step, entry in monev.langkah.items():
            if step not in MONEV_STEPS:
                problems.append(f"monev.langkah.{step}: langkah tidak dikenal; pilih {', '.join(MONEV_STEPS)}")
            if entry.pelaksana != OPD_TEKNIS and entry.pelaksana not in self.positions:
                problems.append(
                    f"monev.langkah.{step}.pelaksana: '{entry.pelaksana}' bukan posisi di positions atau {OPD_TEKNIS}"
                )
        return problems

    def pelaksana_label(self, key: str, opd: str | None = None) -> str:
        """Who acts, as a person reads it: the position's jabatan, or the agreement's OPD teknis."""
        if key == OPD_TEKNIS:
            return opd or "OPD teknis"
        position = self.positions.get(key)
        return position.jabatan if position is not None else key

    def _intake_problems(self, intake: IntakeProfile) -> list[str]:
        problems: list[str] = []
        if len(intake.disposisi) < 2:
            problems.append("intake.disposisi: paling sedikit dua pejabat (yang menerima dan analis yang menelaah)")
        if len(set(intake.disposisi)) != len(intake.disposisi):
            problems.append("intake.disposisi: pejabat yang sama muncul dua kali")
        for key in [*intake.disposisi, intake.pemutus, *([intake.penerima] if intake.penerima else [])]:
            if key not in self.positions:
                problems.append(f"intake: posisi '{key}' tidak ada di positions")
        pemutus = self.positions.get(intake.pemutus)
        if pemutus is not None and not pemutus.kepala_daerah:
            problems.append(f"intake.pemutus: '{intake.pemutus}' bukan Kepala Daerah (kepala_daerah: true)")
        for step in intake.mutu_baku:
            kind, _, key = step.partition(".")
            if kind == "disposisi" and key:
                if key not in intake.disposisi[:-1]:
                    problems.append(
                        f"intake.mutu_baku.{step}: '{key}' tidak mendisposisikan di rantai intake.disposisi"
                    )
            elif key or step not in INTAKE_STEPS:
                problems.append(
                    f"intake.mutu_baku.{step}: langkah tidak dikenal; pilih {', '.join(INTAKE_STEPS)} atau "
                    "disposisi.<posisi>"
                )
        return problems

    @property
    def tz(self) -> tzinfo:
        """The region's clock (WIB +7, WITA +8, WIT +9)."""
        return ZONA_WAKTU[self.zona_waktu]

    def _jenis(self, jenis: str) -> str:
        key = jenis.upper()
        if key not in JENIS_NASKAH:
            raise InvalidInput(
                f"Jenis naskah '{jenis}' tidak dikenal; pilih {', '.join(JENIS_NASKAH)}.",
                jenis=jenis,
                profile=self.name,
            )
        return key

    def paraf_chain(self, jenis: str) -> list[Position]:
        """The officials who give paraf on a naskah of ``jenis``, in the order they must give it."""
        return [self.positions[key] for key in self.paraf[self._jenis(jenis)]]

    def signer(self, jenis: str) -> Position:
        """Our own side's signer of a naskah of ``jenis`` (the counterparty's comes from the case)."""
        return self.positions[self.signers[self._jenis(jenis)]]

    @property
    def drafter_assigner(self) -> Position | None:
        """The Kepala Bagian Pemerintahan, who assigns drafters to a naskah (None: the profile names none)."""
        return self.positions.get(self.kabag_pemerintahan or "kabag_pemerintahan")

    @property
    def reviewer(self) -> Position:
        """The legal reviewer (Bagian Hukum)."""
        return self.positions[self.review]

    @cached_property
    def kalender(self) -> WorkCalendar:
        """The region's working days: weekdays minus national holidays and cuti bersama, corrected by
        ``hari_libur``, in the region's time zone."""
        return WorkCalendar(self.tz, self.hari_libur.tambah, self.hari_libur.hapus)

    def deadline(self, standard: Duration, start: datetime) -> datetime:
        """When a step that started at ``start`` (naive: UTC) is due under ``standard``, in UTC.

        Its hari kerja run on the working-day clock (:meth:`WorkCalendar.add`: Friday 16:00 + 1 hari
        kerja = Monday 16:00, holidays skipped; from a non-working day the count starts at 00:00 of
        the next working day), then the rest (minutes, hours, calendar days) on the wall clock.  The
        one deadline of the system: inbox, progress, monitoring and dashboard all ask here."""
        at = start if start.tzinfo is not None else start.replace(tzinfo=UTC)
        if standard.hari_kerja:
            at = self.kalender.add(at, standard.kerja)
        return (at + (standard.value - standard.kerja)).astimezone(UTC)

    def elapsed(self, standard: Duration | None, start: datetime, end: datetime) -> timedelta:
        """How long from ``start`` to ``end`` counts against ``standard``: working time (weekends,
        holidays and cuti bersama left out) when it is written in hari kerja, else wall-clock time."""
        if standard is not None and standard.hari_kerja:
            return self.kalender.elapsed(start, end)
        aware = [t if t.tzinfo is not None else t.replace(tzinfo=UTC) for t in (start, end)]
        return max(aware[1] - aware[0], timedelta(0))

    def standard_time(self, step: str) -> timedelta | None:
        """The SOP's standard time of ``step`` (``legal_review``, ``paraf.sekda``); None if the SOP gives none."""
        duration = self.mutu_baku.get(step)
        return duration.value if duration is not None else None


# --- loading ------------------------------------------------------------------------

_MESSAGES = {
    "missing": "wajib diisi",
    "extra_forbidden": "kolom tidak dikenal",
    "string_type": "harus berupa teks",
    "bool_type": "harus true atau false",
    "bool_parsing": "harus true atau false",
    "dict_type": "harus berupa pemetaan (kunci: nilai)",
    "list_type": "harus berupa daftar [..]",
    "model_type": "harus berupa pemetaan (kunci: nilai)",
    "dataclass_type": "harus berupa pemetaan (kunci: nilai)",
    "float_type": "harus berupa angka",
    "float_parsing": "harus berupa angka",
    "date_type": "harus berupa tanggal (TTTT-BB-HH)",
    "date_parsing": "harus berupa tanggal (TTTT-BB-HH)",
    "date_from_datetime_parsing": "harus berupa tanggal (TTTT-BB-HH)",
}


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _problems(exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors(include_url=False):
        where = _where(tuple(err["loc"]))
        if err["type"] == "naskah_invalid" and not where:
            problems.extend(err["msg"].splitlines())
            continue
        if err["type"] == "naskah_invalid":
            message = err["msg"]
        elif err["type"] == "enum":
            message = "harus salah satu dari: " + str(err.get("ctx", {}).get("expected", "")).replace(" or ", " atau ")
        else:
            message = _MESSAGES.get(err["type"], f"tidak sesuai ({err['msg']})")
        problems.append(f"{where}: {message}" if where else message)
    return problems


def _resolve(name_or_path: str) -> Path:
    text = str(name_or_path).strip()
    if "/" in text or "\\" in text or text.endswith((".yaml", ".yml")):
        path = Path(text)
        if not path.is_file():
            raise NotFound(f"Berkas profil SOP '{text}' tidak ditemukan.", profile=text)
        return path
    if not _NAME.fullmatch(text) or not (PROFILE_DIR / f"{text}.yaml").is_file():
        raise NotFound(
            f"Profil SOP '{text}' tidak ditemukan. Pilih salah satu: {', '.join(available_profiles())}, "
            "atau berikan path berkas .yaml.",
            profile=text,
            available=available_profiles(),
        )
    return PROFILE_DIR / f"{text}.yaml"


def load_profile(name_or_path: str) -> Profile:
    """The profile named ``name_or_path`` (``"paser"`` -> ``pipeline/profiles/paser.yaml``) or at that path.

    Raises NotFound for an unknown name or a missing file, InvalidInput naming the file and
    every wrong field (``detail["problems"]``) for a broken one.
    """
    path = _resolve(name_or_path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" baris {mark.line + 1}, kolom {mark.column + 1}" if mark is not None else ""
        raise InvalidInput(
            f"Profil SOP {path}: YAML tidak dapat dibaca{where} ({getattr(exc, 'problem', exc)}).", file=str(path)
        ) from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"Profil SOP {path} bukan teks UTF-8.", file=str(path), diagnostic=str(exc)) from exc
    except OSError as exc:
        raise InvalidInput(
            f"Profil SOP {path} tidak dapat dibaca ({exc.strerror or 'galat berkas'}).", file=str(path)
        ) from exc
    if not isinstance(raw, dict):
        raise InvalidInput(f"Profil SOP {path}: isi berkas harus berupa pemetaan (name:, positions:, ...).")
    try:
        return Profile.model_validate(raw)
    except ValidationError as exc:
        problems = _problems(exc)
        raise InvalidInput(
            f"Profil SOP {path} tidak valid — " + "; ".join(problems) + ".", file=str(path), problems=problems
        ) from None


def available_profiles() -> list[str]:
    """Names of the profiles shipped in ``pipeline/profiles/``."""
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))
