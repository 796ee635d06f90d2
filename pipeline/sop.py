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
working-day clock), and :meth:`Duration.deadline` places it on the calendar by skipping
Saturdays and Sundays.  National holidays and cuti bersama are not known to the system,
so a deadline that spans one is early, never late.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from pipeline.errors import InvalidInput, NotFound
from pipeline.lifecycle import FINAL_STATES, Role, Status
from pipeline.templates import CORNERS, JENIS_NASKAH, ParafBox

__all__ = [
    "MAX_PARAF",
    "MONEV_STEPS",
    "PROFILE_DIR",
    "ZONA_WAKTU",
    "Duration",
    "MonevProfile",
    "MonevStep",
    "Position",
    "Profile",
    "available_profiles",
    "load_profile",
    "parse_duration",
]

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


def _add_working_days(start: datetime, days: int) -> datetime:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:  # Monday..Friday
            days -= 1
    return current


class Duration(BaseModel):
    """A standard time as the SOP writes it (``text``), and what it means.

    Written in YAML as text ("30 menit"); the model keeps the original words so screens
    can show them exactly as the SOP does.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    """The original words, e.g. ``"2 hari kerja"``."""
    value: timedelta
    """The whole duration; each hari kerja counts as one 24-hour day (see :meth:`deadline`)."""
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

    def deadline(self, start: datetime) -> datetime:
        """When a step that started at ``start`` is due: working days skip Saturday and Sunday."""
        calendar = self.value - timedelta(days=self.hari_kerja)
        return _add_working_days(start, self.hari_kerja) + calendar

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
    """Monitoring and evaluation of running agreements (``pipeline.monev``; seed 001, Kota Tangerang).

    ``kabag`` assigns a ketua tim to a monev round (step 1), leads the discussion (step 7) and gives the
    arahan (step 8), and records the decision to extend an agreement; ``ketua_tim`` is the position a
    ketua tim usually holds (any drafter, the analis, may be assigned too).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kabag: str
    ketua_tim: str
    tanpa_laporan: Duration
    """An agreement in force whose last monev report (or its start, without one) is older than this is
    flagged (``pipeline.monev.alerts``)."""
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
    paraf_box: ParafBox | None = None
    """Overrides the template's per-page paraf box when set."""
    kabag_pemerintahan: str | None = None
    """Position key of the Kepala Bagian Pemerintahan / Tata Pemerintahan, who assigns drafters to a
    naskah (``pipeline.access``); unset: the position keyed ``kabag_pemerintahan``, if any."""
    monev: MonevProfile | None = None
    """Monitoring and evaluation of running agreements (None: this region runs none; ``pipeline.monev`` refuses)."""
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
