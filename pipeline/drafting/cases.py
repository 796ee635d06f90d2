"""Kerja sama cases and the naskah they may have.

The rules (DOMAIN.md, seed 002): a KB only for KSDD/KSDPK, an NK only for KSIV, a PKS
only for KSDD/KSDPK and only after the case has a KB, and a Surat Kuasa names the PKS it
empowers.  A kerja sama runs at most five years.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from pipeline import access, audit
from pipeline.auth import get_user, require
from pipeline.drafting.templates import data_size_problems
from pipeline.errors import Conflict, InvalidInput, NotFound, RuleViolation
from pipeline.lifecycle import INITIAL_STATE
from pipeline.models import (
    MAX_ID,
    JenisKerjaSama,
    JenisNaskah,
    KerjaSama,
    Naskah,
    NaskahNomor,
    Pihak,
    PihakKind,
    User,
    utcnow,
)
from pipeline.sop import Profile
from pipeline.terbilang import akhir_jangka_waktu, tanggal
from pipeline.textcheck import Line, LineCheck, MultiLineCheck

#: A case filter on its naskah: one of their lifecycle states, or ``tanpa_naskah`` (none yet).
NO_NASKAH = "tanpa_naskah"
CaseStatus = Literal[
    "draft", "legal_review", "returned", "paraf", "signing", "signed", "archived", "cancelled", "tanpa_naskah"
]

__all__ = [
    "ALLOWED_NASKAH",
    "NO_NASKAH",
    "CaseInput",
    "CaseQuery",
    "CaseUpdate",
    "LongText",
    "NaskahInput",
    "Note",
    "PihakInput",
    "Text",
    "assign_drafter",
    "case_for_edit",
    "check_data_size",
    "check_naskah_allowed",
    "create_case",
    "get_case",
    "get_naskah",
    "list_cases",
    "list_naskah",
    "opd_choices",
    "pihak_of",
    "register_key",
    "release_nomor",
    "remove_drafter",
    "update_case",
]

MAX_YEARS = 5

#: One line of case text (judul, names, instansi): no control or bidi characters (``pipeline.textcheck``).
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), LineCheck]
#: Text for the columns that hold less (``bentuk``, ``opd_teknis``, a signer's name and jabatan: 200; a
#: party's instansi: 300): longer input is a 422 naming the field, not a value PostgreSQL refuses (a 500).
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), LineCheck]
Text300 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), LineCheck]
#: Case text over several lines (objek, manfaat): TAB, LF, CR allowed, no other control or bidi character.
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000), MultiLineCheck]
#: A note (revision, review, cancel): may be empty, may run over several lines.
Note = Annotated[str, StringConstraints(max_length=2000), MultiLineCheck]
#: A party's nomor in its register, e.g. ``100.3.7.1/12/Tapem/2026``.
Nomor = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), LineCheck]
Nip = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9 ]{18,21}$")]
#: NIK (Nomor Induk Kependudukan): 16 digits.  The signer of a party who is not a civil servant (a
#: company director, an elected Kepala Daerah) has one; PSrE certificates carry it (pipeline.identity).
Nik = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{16}$")]

# Which jenis naskah each jenis kerja sama may have.
ALLOWED_NASKAH: dict[JenisKerjaSama, frozenset[JenisNaskah]] = {
    JenisKerjaSama.KSDD: frozenset({JenisNaskah.KB, JenisNaskah.PKS, JenisNaskah.SK}),
    JenisKerjaSama.KSDPK: frozenset({JenisNaskah.KB, JenisNaskah.PKS, JenisNaskah.SK}),
    JenisKerjaSama.KSIV: frozenset({JenisNaskah.NK}),
}

# The kinds of counterparty (PIHAK KEDUA and further) each jenis kerja sama expects.
COUNTERPARTY_KIND: dict[JenisKerjaSama, PihakKind] = {
    JenisKerjaSama.KSDD: PihakKind.PEMDA,
    JenisKerjaSama.KSDPK: PihakKind.PIHAK_KETIGA,
    JenisKerjaSama.KSIV: PihakKind.INSTANSI_VERTIKAL,
}

NASKAH_NAMES = {
    JenisNaskah.KB: "Kesepakatan Bersama",
    JenisNaskah.NK: "Nota Kesepakatan",
    JenisNaskah.PKS: "Perjanjian Kerja Sama",
    JenisNaskah.SK: "Surat Kuasa",
}


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PihakInput(_Input):
    """A party; PIHAK KESATU (the first) is our own Pemda."""

    instansi: Text300
    kind: PihakKind
    alamat: Text | None = None
    penandatangan_nama: Text200
    penandatangan_jabatan: Text200
    penandatangan_nip: Nip | None = None
    penandatangan_nik: Nik | None = Field(
        default=None, description="NIK penanda tangan (16 digit) bila bukan PNS; dicocokkan dengan sertifikatnya"
    )


class CaseInput(_Input):
    jenis: JenisKerjaSama
    judul: Text
    objek: LongText
    manfaat: LongText
    bentuk: Text200
    tahun_anggaran_mulai: int = Field(ge=2000, le=2100)
    mulai: date
    selesai: date
    opd_teknis: Text200
    pihak: list[PihakInput] = Field(min_length=2, max_length=10)

    @field_validator("selesai")
    @classmethod
    def _dates(cls, selesai: date, info: ValidationInfo) -> date:
        """The jangka waktu, reported on ``selesai`` (a form marks that field)."""
        mulai = info.data.get("mulai")
        if isinstance(mulai, date):
            check_jangka_waktu(mulai, selesai)
        return selesai


class CaseUpdate(_Input):
    """Fields of a case that can be corrected while drafting; omitted fields stay."""

    judul: Text | None = None
    objek: LongText | None = None
    manfaat: LongText | None = None
    bentuk: Text200 | None = None
    tahun_anggaran_mulai: int | None = Field(default=None, ge=2000, le=2100)
    mulai: date | None = None
    selesai: date | None = None
    opd_teknis: Text200 | None = None


class NaskahInput(_Input):
    jenis: JenisNaskah
    template: Line | None = Field(default=None, description="Nama templat; kosong = templat standar jenis ini")
    nomor: dict[int, Nomor] = Field(
        description="Nomor naskah per pihak: {urutan pihak: nomor}, mis. {1: '100.3.7.1/12/Tapem/2026'}"
    )
    parent_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="PKS: KB induknya; Surat Kuasa: PKS yang dikuasakan"
    )
    data: dict[str, Any] = Field(default_factory=dict, description="Isian templat di luar data kerja sama")
    note: Note = ""

    @field_validator("data")
    @classmethod
    def _data_size(cls, data: dict[str, Any]) -> dict[str, Any]:
        check_data_size(data)
        return data


def check_data_size(data: dict[str, Any]) -> None:
    """Template data within the limits of ``pipeline.drafting.templates`` (a text, a list, the whole), as a
    validator's ValueError naming each field (``data.ruang_lingkup[3]``), so the answer is a 422."""
    problems = data_size_problems(data, prefix="data")
    if problems:
        raise ValueError("isian terlalu panjang: " + "; ".join(f"{p['field']} ({p['message']})" for p in problems))


def check_jangka_waktu(mulai: date, selesai: date) -> None:
    """A kerja sama runs at most five years; ``selesai`` is its last day.

    Five years from ``mulai`` end the day before the same date five years later (6 December
    2026 to 5 December 2031), as the naskah's text counts them (``terbilang.jangka_waktu``);
    from 29 February they end on 28 February.  The message names the last allowed day.
    """
    if selesai <= mulai:
        raise ValueError("tanggal selesai harus sesudah tanggal mulai")
    limit = akhir_jangka_waktu(mulai, 12 * MAX_YEARS)
    if selesai > limit:
        raise ValueError(
            f"jangka waktu kerja sama paling lama {MAX_YEARS} tahun: dimulai {tanggal(mulai)}, "
            f"selesai paling lambat {tanggal(limit)}"
        )


def _check_parties(jenis: JenisKerjaSama, pihak: list[PihakInput]) -> None:
    if pihak[0].kind != PihakKind.PEMDA:
        raise RuleViolation(
            "PIHAK KESATU harus Pemerintah Daerah sendiri (jenis pihak 'pemda').", field="pihak[0].kind"
        )
    expected = COUNTERPARTY_KIND[jenis]
    for i, p in enumerate(pihak[1:], start=1):
        if p.kind != expected:
            raise RuleViolation(
                f"Untuk kerja sama {jenis.value}, pihak ke-{i + 1} harus berjenis '{expected.value}', "
                f"bukan '{p.kind.value}'.",
                field=f"pihak[{i}].kind",
                expected=expected.value,
            )


def create_case(session: Session, user: User, data: CaseInput) -> KerjaSama:
    require(user, "create_case")
    _check_parties(data.jenis, data.pihak)
    assert user.id is not None
    case = KerjaSama(
        jenis=data.jenis.value,
        **data.model_dump(include={"judul", "objek", "manfaat", "bentuk", "tahun_anggaran_mulai", "mulai", "selesai"}),
        opd_teknis=data.opd_teknis,
        opd_key=access.opd_key(data.opd_teknis),
        created_by=user.id,
    )
    session.add(case)
    session.flush()
    assert case.id is not None
    for urutan, p in enumerate(data.pihak, start=1):
        session.add(Pihak(kerja_sama_id=case.id, urutan=urutan, **p.model_dump(exclude={"kind"}), kind=p.kind.value))
    audit.record(
        session, user, audit.AuditAction.CREATE_CASE, kerja_sama_id=case.id, jenis=case.jenis, judul=case.judul
    )
    return case


def case_for_edit(session: Session, user: User, case_id: int, *, profile: Profile) -> KerjaSama:
    """The case, when ``user`` may correct its data now: the drafter role, one of its drafters
    (``access.require_case_editor``, 403), and no naskah made from it signed (409 ``case_frozen``).
    The edit form asks this before it is shown, so a refusal comes before anyone types."""
    require(user, "edit_case")
    case = get_case(session, user, case_id, profile=profile)
    access.require_case_editor(session, user, case)
    access.require_case_editable(session, case)
    return case


def update_case(session: Session, user: User, case_id: int, patch: CaseUpdate, *, profile: Profile) -> KerjaSama:
    """Correct a case's data: its drafters only, and only while no naskah made from it is signed
    (``access.require_case_editable``: a change after that needs an addendum)."""
    case = case_for_edit(session, user, case_id, profile=profile)
    changes = patch.model_dump(exclude_unset=True, exclude_none=True)
    mulai, selesai = changes.get("mulai", case.mulai), changes.get("selesai", case.selesai)
    try:
        check_jangka_waktu(mulai, selesai)
    except ValueError as exc:
        raise RuleViolation(f"Jangka waktu tidak valid: {exc}.", field="selesai") from None
    for key, value in changes.items():
        setattr(case, key, value)
    case.opd_key = access.opd_key(case.opd_teknis)
    case.updated_at = utcnow()
    session.add(case)
    audit.record(session, user, audit.AuditAction.EDIT_CASE, kerja_sama_id=case.id, fields=sorted(changes))
    return case


def get_case(session: Session, user: User, case_id: int, *, profile: Profile) -> KerjaSama:
    """A case ``user`` may see (``pipeline.access``); one they may not see is not found, as one that
    does not exist."""
    require(user, "read")
    case = session.exec(
        select(KerjaSama).where(KerjaSama.id == case_id, access.case_clause(session, user, profile))
    ).first()
    if case is None:
        raise NotFound(f"Kerja sama dengan id {case_id} tidak ditemukan.", kerja_sama_id=case_id)
    return case


class CaseQuery(BaseModel):
    """What the list of kerja sama is searched and filtered by (``GET /api/v1/cases`` and the
    Kerja sama page take the same).  Every condition is applied within what the user may see, so
    the rows and the count say nothing of other cases; a condition on naskah (``status``, a nomor in
    ``q``) looks only at naskah the user may see."""

    model_config = ConfigDict(extra="forbid")

    q: Line = Field(
        default="",
        max_length=200,
        description="kata kunci: judul, pihak (instansi, penanda tangan) atau nomor naskah; semua kata harus ada",
    )
    jenis: JenisKerjaSama | None = Field(default=None, description="jenis kerja sama")
    status: CaseStatus | None = Field(
        default=None, description="kerja sama yang punya naskah berstatus ini, atau tanpa_naskah"
    )
    opd: Line | None = Field(default=None, max_length=200, description="OPD teknis (sebagian nama)")
    tahun: int | None = Field(
        default=None, ge=2000, le=2100, description="kerja sama yang berjalan pada tahun ini (antara mulai dan selesai)"
    )
    offset: int = Field(default=0, ge=0, le=MAX_ID)
    limit: int = Field(default=50, ge=1, le=200)


def _like(text: str) -> str:
    """``%text%`` for LIKE, its own wildcards escaped (a ``%`` typed is a ``%`` searched)."""
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _case_conditions(session: Session, user: User, profile: Profile, query: CaseQuery) -> list[Any]:
    visible = access.case_clause(session, user, profile)
    conditions: list[Any] = [visible]
    seen_naskah = access.naskah_clause(session, user, profile)
    for word in query.q.split():
        pattern = _like(word)
        in_pihak = select(Pihak.kerja_sama_id).where(
            sa.or_(
                func.lower(Pihak.instansi).like(pattern, escape="\\"),
                func.lower(Pihak.penandatangan_nama).like(pattern, escape="\\"),
            )
        )
        in_nomor = (
            select(Naskah.kerja_sama_id)
            .join(NaskahNomor, col(NaskahNomor.naskah_id) == col(Naskah.id))
            .where(func.lower(NaskahNomor.nomor).like(pattern, escape="\\"), seen_naskah)
        )
        conditions.append(
            sa.or_(
                func.lower(KerjaSama.judul).like(pattern, escape="\\"),
                col(KerjaSama.id).in_(in_pihak),
                col(KerjaSama.id).in_(in_nomor),
            )
        )
    if query.jenis:
        conditions.append(KerjaSama.jenis == query.jenis.value)
    if query.status == NO_NASKAH:
        conditions.append(~col(KerjaSama.id).in_(select(Naskah.kerja_sama_id).where(seen_naskah)))
    elif query.status:
        conditions.append(
            col(KerjaSama.id).in_(select(Naskah.kerja_sama_id).where(Naskah.status == query.status, seen_naskah))
        )
    if query.opd and access.opd_key(query.opd):
        conditions.append(col(KerjaSama.opd_key).like(_like(access.opd_key(query.opd)), escape="\\"))
    if query.tahun:
        conditions.append(KerjaSama.mulai <= date(query.tahun, 12, 31))
        conditions.append(KerjaSama.selesai >= date(query.tahun, 1, 1))
    return conditions


def list_cases(
    session: Session,
    user: User,
    *,
    profile: Profile,
    query: CaseQuery | None = None,
    jenis: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[KerjaSama], int]:
    """The cases ``user`` may see that match ``query``, newest first, and how many there are (the
    same conditions count).  Without ``query``: ``jenis``, ``offset`` and ``limit`` alone."""
    require(user, "read")
    if query is None:
        query = CaseQuery(jenis=JenisKerjaSama(jenis) if jenis else None, offset=offset, limit=limit)
    where = sa.and_(*_case_conditions(session, user, profile, query))
    total = int(session.exec(select(func.count()).select_from(KerjaSama).where(where)).one())
    if not total or query.offset >= total:
        return [], total
    rows = session.exec(
        select(KerjaSama).where(where).order_by(col(KerjaSama.id).desc()).offset(query.offset).limit(query.limit)
    ).all()
    return list(rows), total


def opd_choices(session: Session, user: User, *, profile: Profile) -> list[str]:
    """The OPD teknis of the cases ``user`` may see, sorted (suggestions for the OPD filter: only
    names the user could read on the list anyway)."""
    require(user, "read")
    rows = session.exec(select(KerjaSama.opd_teknis).where(access.case_clause(session, user, profile)).distinct()).all()
    return sorted({r for r in rows if r}, key=str.casefold)


def pihak_of(session: Session, case_id: int) -> list[Pihak]:
    return list(session.exec(select(Pihak).where(Pihak.kerja_sama_id == case_id).order_by(col(Pihak.urutan))).all())


def get_naskah(session: Session, user: User, naskah_id: int, *, profile: Profile) -> Naskah:
    """A naskah ``user`` may see (``pipeline.access``); one they may not see is not found, with the
    same message as one that does not exist, so its existence does not leak."""
    require(user, "read")
    naskah = session.get(Naskah, naskah_id)
    if naskah is None or not access.may_see_naskah(session, user, profile, naskah_id):
        raise NotFound(f"Naskah dengan id {naskah_id} tidak ditemukan.", naskah_id=naskah_id)
    return naskah


def _naskah_for_assigner(session: Session, actor: User, naskah_id: int, profile: Profile) -> Naskah:
    access.require_assigner(actor, profile)  # before the look-up: a refusal says nothing of the naskah
    naskah = session.get(Naskah, naskah_id)
    if naskah is None:
        raise NotFound(f"Naskah dengan id {naskah_id} tidak ditemukan.", naskah_id=naskah_id)
    return naskah


def assign_drafter(session: Session, actor: User, naskah_id: int, username: str, *, profile: Profile) -> Naskah:
    """The Kepala Bagian Pemerintahan (or an admin) makes ``username`` a drafter of the naskah."""
    naskah = _naskah_for_assigner(session, actor, naskah_id, profile)
    target = get_user(session, username)
    access.assign_drafter(session, actor, profile, naskah, target)
    audit.record(session, actor, audit.AuditAction.ASSIGN_DRAFTER, naskah_id=naskah_id, username=target.username)
    return naskah


def remove_drafter(session: Session, actor: User, naskah_id: int, username: str, *, profile: Profile) -> Naskah:
    """End ``username``'s assignment as a drafter of the naskah (its creator always stays one)."""
    naskah = _naskah_for_assigner(session, actor, naskah_id, profile)
    target = get_user(session, username)
    access.remove_drafter(session, actor, profile, naskah, target)
    audit.record(session, actor, audit.AuditAction.REMOVE_DRAFTER, naskah_id=naskah_id, username=target.username)
    return naskah


def list_naskah(session: Session, case_id: int) -> list[Naskah]:
    return list(session.exec(select(Naskah).where(Naskah.kerja_sama_id == case_id).order_by(col(Naskah.id))).all())


def nomor_of(session: Session, naskah_id: int) -> dict[int, str]:
    """{pihak urutan: nomor} of a naskah."""
    rows = session.exec(
        select(Pihak.urutan, NaskahNomor.nomor)
        .join(Pihak, Pihak.id == NaskahNomor.pihak_id)  # type: ignore[arg-type]
        .where(NaskahNomor.naskah_id == naskah_id)
    ).all()
    return {urutan: nomor for urutan, nomor in rows}


def check_naskah_allowed(session: Session, case: KerjaSama, jenis: JenisNaskah, parent_id: int | None) -> Naskah | None:
    """Enforce which naskah a case may have; returns the parent naskah (KB of a PKS, PKS of a SK)."""
    kind = JenisKerjaSama(case.jenis)
    if jenis not in ALLOWED_NASKAH[kind]:
        allowed = ", ".join(sorted(j.value for j in ALLOWED_NASKAH[kind]))
        raise RuleViolation(
            f"{NASKAH_NAMES[jenis]} ({jenis.value}) tidak dapat dibuat untuk kerja sama {kind.value}. "
            f"Jenis naskah yang diperbolehkan: {allowed}.",
            jenis=jenis.value,
            jenis_kerja_sama=kind.value,
            allowed=sorted(j.value for j in ALLOWED_NASKAH[kind]),
        )
    existing = list_naskah(session, case.id or 0)
    if jenis == JenisNaskah.PKS:
        kbs = [n for n in existing if n.jenis == JenisNaskah.KB and n.status != "cancelled"]
        if not kbs:
            raise RuleViolation(
                "Perjanjian Kerja Sama hanya dapat disusun setelah kerja sama ini memiliki Kesepakatan Bersama.",
                jenis=jenis.value,
            )
        return _pick_parent(kbs, parent_id, "Kesepakatan Bersama induk")
    if jenis == JenisNaskah.SK:
        pkss = [n for n in existing if n.jenis == JenisNaskah.PKS and n.status != "cancelled"]
        if parent_id is None:
            raise RuleViolation(
                "Surat Kuasa harus menyebut Perjanjian Kerja Sama yang dikuasakan (parent_id).", field="parent_id"
            )
        return _pick_parent(pkss, parent_id, "Perjanjian Kerja Sama yang dikuasakan")
    if parent_id is not None:
        raise InvalidInput(f"{NASKAH_NAMES[jenis]} tidak memiliki naskah induk (parent_id).", field="parent_id")
    return None


def _pick_parent(candidates: list[Naskah], parent_id: int | None, what: str) -> Naskah:
    if parent_id is None:
        if len(candidates) == 1:
            return candidates[0]
        raise InvalidInput(f"Pilih {what} dengan parent_id (ada {len(candidates)} pilihan).", field="parent_id")
    for n in candidates:
        if n.id == parent_id:
            return n
    raise RuleViolation(
        f"Naskah {parent_id} bukan {what} yang sah untuk kerja sama ini.",
        field="parent_id",
        choices=[n.id for n in candidates],
    )


def new_naskah(
    session: Session, user: User, case: KerjaSama, data: NaskahInput, template: str, parent: Naskah | None
) -> Naskah:
    """Insert the naskah row and its nomor per pihak (no revision yet).

    A nomor already given by the same party to another live naskah is refused (``Conflict``,
    ``reason: nomor_duplicate``, naming that naskah).
    """
    require(user, "create_naskah")
    access.require_case_editor(session, user, case)
    pihak = {p.urutan: p for p in pihak_of(session, case.id or 0)}
    # A Surat Kuasa is issued by the Pemerintah Daerah alone: only PIHAK KESATU numbers it.
    needed = {1} if data.jenis == JenisNaskah.SK else set(pihak)
    unknown = sorted(set(data.nomor) - set(pihak))
    missing = sorted(needed - set(data.nomor))
    if unknown or missing:
        raise InvalidInput(
            (
                "Surat Kuasa harus memiliki nomor PIHAK KESATU"
                if data.jenis == JenisNaskah.SK
                else "Setiap pihak harus memiliki satu nomor naskah"
            )
            + (f"; pihak tanpa nomor: {missing}" if missing else "")
            + (f"; pihak tidak dikenal: {unknown}" if unknown else "")
            + ".",
            field="nomor",
            missing=missing,
            unknown=unknown,
        )
    nomor = dict(data.nomor)
    if data.jenis == JenisNaskah.SK and parent is not None:
        # The other parties' nomor a Surat Kuasa shows is its PKS's (build_context): given again
        # here, it is that PKS's own entry, not a second use of the number.
        parent_nomor = {u: _plain_nomor(n) for u, n in nomor_of(session, parent.id or 0).items()}
        nomor = {u: n for u, n in nomor.items() if u == 1 or _plain_nomor(n) != parent_nomor.get(u)}
    keys = {urutan: register_key(pihak[urutan].instansi, text) for urutan, text in nomor.items()}
    _refuse_duplicates(_taken(session, keys), pihak)
    assert user.id is not None and case.id is not None
    naskah = Naskah(
        kerja_sama_id=case.id,
        jenis=data.jenis.value,
        template=template,
        status=INITIAL_STATE.value,
        parent_id=parent.id if parent else None,
        data=dict(data.data),
        created_by=user.id,
    )
    session.add(naskah)
    session.flush()
    assert naskah.id is not None
    try:
        with session.begin_nested():  # the unique index settles a race the check above cannot see
            for urutan, text in nomor.items():
                session.add(
                    NaskahNomor(
                        naskah_id=naskah.id, pihak_id=pihak[urutan].id or 0, nomor=text, register_key=keys[urutan]
                    )
                )
            session.flush()
    except IntegrityError:
        _refuse_duplicates(_taken(session, keys), pihak)
        raise Conflict(
            "Nomor naskah baru saja dipakai naskah lain dari pihak yang sama. Gunakan nomor lain.",
            reason="nomor_duplicate",
            duplicates=[],
        ) from None
    return naskah


# --- nomor registers ----------------------------------------------------------------------


def register_key(instansi: str, nomor: str) -> str:
    """A party's register and a nomor in it, normalised: case and spacing do not make a new number
    ("100.3.7.1 / 11 / TAPEM / 2026" is "100.3.7.1/11/Tapem/2026" of the same instansi)."""
    return " ".join(instansi.split()).casefold() + "|" + _plain_nomor(nomor)


def _plain_nomor(nomor: str) -> str:
    return "".join(nomor.split()).casefold()


def _taken(session: Session, keys: dict[int, str]) -> list[tuple[int, NaskahNomor, Naskah]]:
    """(pihak urutan, the row holding it, its naskah) for each key another live naskah already has."""
    if not keys:
        return []
    by_key = {key: urutan for urutan, key in keys.items()}
    rows = session.exec(
        select(NaskahNomor, Naskah)
        .join(Naskah, col(Naskah.id) == col(NaskahNomor.naskah_id))
        .where(col(NaskahNomor.register_key).in_(list(by_key)))
    ).all()
    return sorted(((by_key[row.register_key or ""], row, naskah) for row, naskah in rows), key=lambda t: t[0])


def _refuse_duplicates(taken: list[tuple[int, NaskahNomor, Naskah]], pihak: dict[int, Pihak]) -> None:
    if not taken:
        return
    said = []
    for urutan, row, holder in taken:
        name = NASKAH_NAMES.get(JenisNaskah(holder.jenis), holder.jenis)
        said.append(
            f"nomor '{row.nomor}' sudah dipakai {pihak[urutan].instansi} untuk naskah {holder.id} "
            f"({name}, kerja sama {holder.kerja_sama_id})"
        )
    raise Conflict(
        "Nomor naskah ganda: " + "; ".join(said) + ". Setiap pihak memberi satu nomor untuk satu naskah; "
        "gunakan nomor lain, atau batalkan naskah yang memakainya bila nomor itu memang untuk naskah ini.",
        reason="nomor_duplicate",
        duplicates=[
            {
                "pihak_urutan": urutan,
                "instansi": pihak[urutan].instansi,
                "nomor": row.nomor,
                "naskah_id": holder.id,
                "jenis": holder.jenis,
                "kerja_sama_id": holder.kerja_sama_id,
                "status": holder.status,
            }
            for urutan, row, holder in taken
        ],
    )


def release_nomor(session: Session, naskah_id: int) -> None:
    """A cancelled naskah gives its nomor back to each party's register (the rows stay, for the record)."""
    for row in session.exec(select(NaskahNomor).where(NaskahNomor.naskah_id == naskah_id)).all():
        row.register_key = None
        session.add(row)
