"""Least privilege: which kerja sama, naskah and arsip a user may see, and who may edit them.

The ONE place that decides.  Lists and searches take the same rule as a SQL condition
(:func:`naskah_clause`, :func:`case_clause`, :func:`arsip_clause`), so rows and counts never
include what the user may not see; single objects are checked with the same condition
(:func:`may_see_naskah`).  ``pipeline.auth.require`` still checks the role first.

Who sees what:

* **Pemda staff who run the process** see every kerja sama of the Pemda: Bagian Pemerintahan (the
  ``drafter`` role, and the Kepala Bagian Pemerintahan the SOP profile names), Bagian Hukum
  (``legal``) and the secretariat (``secretariat``).
* **Another official of the Pemda** (paraf, signer: Asisten, Sekda, Bupati, a Kepala OPD) sees the
  naskah on which they have a step — their position in the profile's paraf chain or as its signer
  for that jenis naskah, a paraf they gave, a signature step of a plan naming them, an assignment
  as drafter — and every naskah of a kerja sama whose OPD teknis is their OPD (``users.opd``,
  compared after :func:`opd_key`); the kerja sama of each naskah they see.
* **A counterparty's official** (``users.pihak_luar``) sees only the naskah they sign: a signature
  step naming their account, or, desk to desk where the step has no account, the step of their
  party (``users.instansi`` = the party's instansi) printed with their name (or NIP/NIK).  Nothing
  before the signature plan exists.  Of such a naskah they get what is put before them for
  signature (the naskah, its paraf, the final and signed PDFs, the plan, the export, the archived
  original), not the Pemda's internal drafting material (revisions and their files, diffs, the
  history with its notes, the audit trail, who drafts it): that is refused (403, ``internal_only``).
* A user without the read role (admin) is refused alike for every object (403).

An object the user may not see is answered exactly as one that does not exist (404, the same
message), so its existence does not leak.

Who edits: a naskah (new revisions, submitting, cancelling, the signature plan and a desk-to-desk
import done as drafter) only its drafters — its creator and those the Kepala Bagian Pemerintahan
(or an admin) assigned (:func:`assign_drafter`); a kerja sama (its data, a lambang, a new naskah)
its creator and the drafters of its naskah.  Case data of a kerja sama with a signed or archived
naskah is frozen (:func:`require_case_editable`): a change needs a new naskah (addendum).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from pipeline.errors import Conflict, InvalidInput, NotFound, NotPermitted
from pipeline.identity import digits, same_person
from pipeline.lifecycle import Role, Status
from pipeline.models import (
    JENIS_NASKAH,
    Arsip,
    KerjaSama,
    Naskah,
    NaskahDrafter,
    Paraf,
    Pihak,
    SignaturePlan,
    SignatureStep,
    User,
    utcnow,
)
from pipeline.sop import Profile

__all__ = [
    "FROZEN_STATES",
    "Scope",
    "arsip_clause",
    "assign_drafter",
    "case_clause",
    "counterparty_signs",
    "drafters_of",
    "frozen_by",
    "instansi_key",
    "is_case_drafter",
    "is_naskah_drafter",
    "may_see_naskah",
    "naskah_clause",
    "opd_key",
    "remove_drafter",
    "require_assigner",
    "require_case_editable",
    "require_case_editor",
    "require_internal",
    "require_naskah_editor",
    "scope",
    "visible_naskah_ids",
]

#: Roles whose holders (of our own Pemda) see every kerja sama: Bagian Pemerintahan, Hukum, secretariat.
STAFF_ROLES = frozenset({Role.DRAFTER.value, Role.LEGAL.value, Role.SECRETARIAT.value})
#: A naskah in one of these states fixes the case data it was made from.
FROZEN_STATES = frozenset({Status.SIGNED.value, Status.ARCHIVED.value})


def opd_key(text: str | None) -> str:
    """An OPD's name as compared: case, punctuation and spacing aside ("Dinas Lingkungan Hidup,
    Kabupaten Paser" is "dinas lingkungan hidup kabupaten paser")."""
    return " ".join(re.sub(r"[^\w]+", " ", (text or "").casefold()).split())[:200]


def instansi_key(text: str | None) -> str:
    """An instansi's name as compared (same normalisation as :func:`opd_key`)."""
    return opd_key(text)


@dataclass(frozen=True)
class Scope:
    """What one user's visibility rests on (computed from the account and the SOP profile)."""

    user_id: int
    everything: bool
    """Pemda staff of Bagian Pemerintahan, Hukum or the secretariat: every kerja sama."""
    pihak_luar: bool
    """A counterparty's official: only the naskah they sign."""
    jenis: frozenset[str]
    """Jenis naskah on which the profile gives this official a step (paraf chain or signer)."""
    opd: str
    """Their OPD, normalised (empty: none)."""


def scope(user: User, profile: Profile) -> Scope:
    """The user's scope.  A counterparty's official never gets a Pemda-wide or OPD-wide view,
    whatever roles or positions an account was given."""
    uid = user.id or 0  # the command line's system user has no row (it is the secretariat: sees everything)
    if user.pihak_luar:
        return Scope(uid, False, True, frozenset(), "")
    assigner = profile.drafter_assigner
    everything = bool(user.role_set & STAFF_ROLES) or (assigner is not None and assigner.key in user.posisi_set)
    jenis = frozenset(
        j
        for j in JENIS_NASKAH
        if any(p.key in user.posisi_set for p in profile.paraf_chain(j)) or profile.signer(j).key in user.posisi_set
    )
    return Scope(uid, everything, False, jenis, opd_key(user.opd))


# -- the conditions ------------------------------------------------------------------------------


def naskah_clause(session: Session, user: User, profile: Profile) -> ColumnElement[bool]:
    """A condition on ``Naskah`` true exactly for the naskah ``user`` may see (use it in WHERE)."""
    s = scope(user, profile)
    if s.everything:
        return sa.true()
    steps = select(SignaturePlan.naskah_id).join(SignatureStep, col(SignatureStep.plan_id) == col(SignaturePlan.id))
    signs = col(Naskah.id).in_(steps.where(SignatureStep.user_id == s.user_id))
    if s.pihak_luar:
        desk = _counterparty_steps(session, user)
        return sa.or_(signs, col(Naskah.id).in_(sorted(desk))) if desk else signs
    parts: list[ColumnElement[bool]] = [
        signs,
        col(Naskah.id).in_(select(Paraf.naskah_id).where(Paraf.user_id == s.user_id)),
        col(Naskah.id).in_(
            select(NaskahDrafter.naskah_id).where(
                NaskahDrafter.user_id == s.user_id, col(NaskahDrafter.removed_at).is_(None)
            )
        ),
        Naskah.created_by == s.user_id,
    ]
    if s.jenis:
        parts.append(col(Naskah.jenis).in_(sorted(s.jenis)))
    if s.opd:
        parts.append(col(Naskah.kerja_sama_id).in_(select(KerjaSama.id).where(KerjaSama.opd_key == s.opd)))
    return sa.or_(*parts)


def case_clause(session: Session, user: User, profile: Profile) -> ColumnElement[bool]:
    """A condition on ``KerjaSama``: the cases of the naskah the user sees, their OPD's, their own."""
    s = scope(user, profile)
    if s.everything:
        return sa.true()
    through_naskah = col(KerjaSama.id).in_(select(Naskah.kerja_sama_id).where(naskah_clause(session, user, profile)))
    if s.pihak_luar:
        return through_naskah
    parts = [through_naskah, KerjaSama.created_by == s.user_id]
    if s.opd:
        parts.append(KerjaSama.opd_key == s.opd)
    return sa.or_(*parts)


def arsip_clause(session: Session, user: User, profile: Profile) -> ColumnElement[bool]:
    """A condition on ``Arsip``: the archived originals of the naskah the user sees.

    For an official of the Pemda who is not staff it is :func:`naskah_clause`'s rule on the record's own
    columns (an archived naskah's jenis, kerja sama and OPD are the record's): the naskah they made,
    initialled, sign or draft, and their OPD's kerja sama (``arsip.opd_key``, the kerja sama's, fixed
    once it has a signed naskah: :func:`require_case_editable`).  On PostgreSQL the naskah ids are read
    first and given as one array, so that the archive search reads the record's indexes instead of
    joining every naskah (100,000 records: ~300 ms a search, ``bench/web.py``); the OPD is one indexed
    equality (its ~3,000 kerja sama ids as an array cost ~10 ms of the API's CPU per page).
    """
    s = scope(user, profile)
    if s.everything:
        return sa.true()
    if s.pihak_luar:
        return col(Arsip.naskah_id).in_(select(Naskah.id).where(naskah_clause(session, user, profile)))
    own = sa.union(
        select(SignaturePlan.naskah_id)
        .join(SignatureStep, col(SignatureStep.plan_id) == col(SignaturePlan.id))
        .where(SignatureStep.user_id == s.user_id),
        select(Paraf.naskah_id).where(Paraf.user_id == s.user_id),
        select(NaskahDrafter.naskah_id).where(
            NaskahDrafter.user_id == s.user_id, col(NaskahDrafter.removed_at).is_(None)
        ),
        select(Naskah.id).where(Naskah.created_by == s.user_id),
    )
    parts = [_in_ids(session, col(Arsip.naskah_id), own)]
    if s.jenis:
        parts.append(col(Arsip.jenis).in_(sorted(s.jenis)))
    if s.opd:
        parts.append(Arsip.opd_key == s.opd)
    return sa.or_(*parts)


def _in_ids(session: Session, column: Any, query: Any) -> ColumnElement[bool]:
    """``column IN (query)``; on PostgreSQL the ids are read first and compared as ONE array value
    (``= ANY``): an index condition, or a hashed test, where a subquery under OR is neither and a
    list of thousands of values costs more to send and plan than the search itself."""
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(query)
    ids = list(session.execute(query).scalars().all())
    if not ids:
        return sa.false()
    return column == sa.any_(sa.bindparam(None, ids, type_=postgresql.ARRAY(sa.Integer)))


def _counterparty_steps(session: Session, user: User) -> set[int]:
    """Naskah whose plan has a step with no account for ``user``'s party, printed with their name
    (or their NIP/NIK): desk to desk, a counterparty's official is not named by account."""
    key = instansi_key(user.instansi)
    if not key:
        return set()
    rows = session.exec(
        select(
            SignaturePlan.naskah_id,
            SignatureStep.nama,
            Pihak.instansi,
            Pihak.penandatangan_nip,
            Pihak.penandatangan_nik,
        )
        .join(SignatureStep, col(SignatureStep.plan_id) == col(SignaturePlan.id))
        .join(Naskah, col(Naskah.id) == col(SignaturePlan.naskah_id))
        .join(
            Pihak,
            sa.and_(
                col(Pihak.kerja_sama_id) == col(Naskah.kerja_sama_id),
                col(Pihak.urutan) == col(SignatureStep.pihak_urutan),
            ),
        )
        .where(col(SignatureStep.user_id).is_(None), Naskah.jenis != "SK")  # a Surat Kuasa has no counterparty
    ).all()
    out = set()
    for naskah_id, nama, instansi, nip, nik in rows:
        if _is_counterparty_signer(user, nama, instansi, nip, nik):
            out.add(naskah_id)
    return out


def _is_counterparty_signer(user: User, nama: str, instansi: str | None, nip: str | None, nik: str | None) -> bool:
    """Is ``user`` the counterparty's official printed in a block (``nama``) of party ``instansi``?"""
    key = instansi_key(user.instansi)
    if not user.pihak_luar or not key or instansi_key(instansi) != key:
        return False
    mine = {digits(user.nip), digits(user.nik)} - {""}
    theirs = {digits(nip), digits(nik)} - {""}
    return same_person(user.nama, nama) or bool(mine & theirs)


def counterparty_signs(user: User, naskah: Naskah, step: SignatureStep, pihak: Pihak | None) -> bool:
    """Is ``step`` (desk to desk, no account) the one ``user``, a counterparty's official, signs in their
    own system?  The same rule that lets them see the naskah (:func:`naskah_clause`)."""
    if step.user_id is not None or pihak is None or naskah.jenis == "SK":
        return False
    return _is_counterparty_signer(user, step.nama, pihak.instansi, pihak.penandatangan_nip, pihak.penandatangan_nik)


# -- single objects ------------------------------------------------------------------------------


def may_see_naskah(session: Session, user: User, profile: Profile, naskah_id: int) -> bool:
    """Whether ``user`` may see naskah ``naskah_id`` (the role is checked apart)."""
    if scope(user, profile).everything:
        return True
    found = session.exec(select(Naskah.id).where(Naskah.id == naskah_id, naskah_clause(session, user, profile))).first()
    return found is not None


def visible_naskah_ids(session: Session, user: User, profile: Profile, ids: Iterable[int]) -> set[int]:
    """Those of ``ids`` the user may see (to filter a short list: a case's naskah, related naskah)."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    if scope(user, profile).everything:
        return set(wanted)
    return set(
        session.exec(select(Naskah.id).where(col(Naskah.id).in_(wanted), naskah_clause(session, user, profile))).all()
    )  # type: ignore[arg-type]


def require_internal(user: User, naskah_id: int) -> None:
    """The Pemda's internal drafting material (revisions, diffs, history, audit trail) is not for a
    counterparty's official, who sees the naskah only as put before them for signature."""
    if user.pihak_luar:
        raise NotPermitted(
            "Bahan penyusunan internal Pemerintah Daerah (revisi, perbandingan, riwayat dan catatannya, jejak "
            "audit, penyusun naskah) tidak tersedia bagi pejabat pihak mitra. Yang tersedia: naskah, paraf, "
            "PDF final, rencana dan PDF bertanda tangan, serta arsipnya.",
            reason="internal_only",
            naskah_id=naskah_id,
        )


# -- who edits -----------------------------------------------------------------------------------


def _assigned(session: Session, naskah_id: int) -> list[NaskahDrafter]:
    return list(
        session.exec(
            select(NaskahDrafter)
            .where(NaskahDrafter.naskah_id == naskah_id, col(NaskahDrafter.removed_at).is_(None))
            .order_by(col(NaskahDrafter.id))
        ).all()
    )


def drafters_of(session: Session, naskah: Naskah) -> list[tuple[User, str]]:
    """The naskah's drafters: its creator (``pemilik``) then those assigned (``ditugaskan``)."""
    out: list[tuple[User, str]] = []
    owner = session.get(User, naskah.created_by)
    if owner is not None:
        out.append((owner, "pemilik"))
    for row in _assigned(session, naskah.id or 0):
        assigned = session.get(User, row.user_id)
        if assigned is not None and assigned.id != naskah.created_by:
            out.append((assigned, "ditugaskan"))
    return out


def is_naskah_drafter(session: Session, user: User, naskah: Naskah) -> bool:
    """May ``user`` edit ``naskah``: a drafter of our Pemda who created it or was assigned to it."""
    if user.pihak_luar or Role.DRAFTER.value not in user.role_set:
        return False
    if naskah.created_by == user.id:
        return True
    return any(row.user_id == user.id for row in _assigned(session, naskah.id or 0))


def require_naskah_editor(session: Session, user: User, naskah: Naskah) -> None:
    """Editing a naskah is for its drafters (the creator and those the Kepala Bagian Pemerintahan assigned)."""
    if not is_naskah_drafter(session, user, naskah):
        names = ", ".join(u.username for u, _ in drafters_of(session, naskah))
        raise NotPermitted(
            f"Naskah {naskah.id} disusun oleh {names}; hanya penyusunnya yang dapat mengubah, mengajukan atau "
            "membatalkannya. Minta Kepala Bagian Pemerintahan menugaskan Anda sebagai penyusun naskah ini.",
            reason="not_a_drafter",
            naskah_id=naskah.id,
            drafters=[u.username for u, _ in drafters_of(session, naskah)],
        )


def is_case_drafter(session: Session, user: User, case: KerjaSama) -> bool:
    """May ``user`` edit the case: its creator, or a drafter of one of its naskah."""
    if user.pihak_luar or Role.DRAFTER.value not in user.role_set:
        return False
    if case.created_by == user.id:
        return True
    naskah = session.exec(select(Naskah).where(Naskah.kerja_sama_id == case.id)).all()
    return any(is_naskah_drafter(session, user, n) for n in naskah)


def require_case_editor(session: Session, user: User, case: KerjaSama) -> None:
    if not is_case_drafter(session, user, case):
        owner = session.get(User, case.created_by)
        raise NotPermitted(
            f"Kerja sama {case.id} disusun oleh {owner.username if owner else case.created_by}; hanya penyusunnya "
            "(dan penyusun naskahnya) yang dapat mengubah datanya atau menyusun naskah baru untuknya.",
            reason="not_a_drafter",
            kerja_sama_id=case.id,
        )


def frozen_by(session: Session, case: KerjaSama) -> list[Naskah]:
    """The signed or archived naskah that fix the case's data (empty: it may still change)."""
    return list(
        session.exec(
            select(Naskah)
            .where(Naskah.kerja_sama_id == case.id, col(Naskah.status).in_(sorted(FROZEN_STATES)))
            .order_by(col(Naskah.id))
        ).all()
    )


def require_case_editable(session: Session, case: KerjaSama) -> None:
    """Case data a signed or archived naskah was made from cannot change (409): a change needs a new
    naskah, an addendum (perubahan) signed the same way."""
    fixed = frozen_by(session, case)
    if fixed:
        listed = ", ".join(f"{n.jenis} {n.id} ({n.status})" for n in fixed)
        raise Conflict(
            f"Data kerja sama {case.id} tidak dapat diubah: naskah yang dibuat dari data ini sudah ditandatangani "
            f"({listed}). Perubahan dituangkan dalam naskah baru (addendum/perubahan) yang disusun, diparaf dan "
            "ditandatangani seperti naskah asalnya.",
            reason="case_frozen",
            kerja_sama_id=case.id,
            naskah=[{"id": n.id, "jenis": n.jenis, "status": n.status} for n in fixed],
            advice="addendum",
        )


def _may_assign(user: User, profile: Profile) -> bool:
    assigner = profile.drafter_assigner
    return Role.ADMIN.value in user.role_set or (
        not user.pihak_luar and assigner is not None and assigner.key in user.posisi_set
    )


def require_assigner(user: User, profile: Profile) -> None:
    if not _may_assign(user, profile):
        assigner = profile.drafter_assigner
        raise NotPermitted(
            f"Penyusun naskah ditugaskan oleh {assigner.jabatan if assigner else 'Kepala Bagian Pemerintahan'} "
            "atau admin.",
            reason="not_the_assigner",
            needed=assigner.key if assigner else None,
        )


def assign_drafter(session: Session, actor: User, profile: Profile, naskah: Naskah, target: User) -> NaskahDrafter:
    """The Kepala Bagian Pemerintahan (or an admin) assigns ``target`` as a drafter of ``naskah``."""
    require_assigner(actor, profile)
    if not target.active or target.pihak_luar or Role.DRAFTER.value not in target.role_set:
        raise InvalidInput(
            f"'{target.username}' tidak dapat ditugaskan: penyusun naskah adalah pengguna aktif Pemerintah Daerah "
            "berperan drafter.",
            reason="not_a_drafter",
            username=target.username,
        )
    existing = next((row for row in _assigned(session, naskah.id or 0) if row.user_id == target.id), None)
    if existing is not None or naskah.created_by == target.id:
        raise Conflict(f"'{target.username}' sudah penyusun naskah {naskah.id}.", reason="already_drafter")
    assert naskah.id is not None and target.id is not None and actor.id is not None
    row = NaskahDrafter(naskah_id=naskah.id, user_id=target.id, assigned_by=actor.id)
    session.add(row)
    session.flush()
    return row


def remove_drafter(session: Session, actor: User, profile: Profile, naskah: Naskah, target: User) -> NaskahDrafter:
    """End an assignment (the creator stays a drafter; the row is kept with ``removed_at``)."""
    require_assigner(actor, profile)
    row = next((r for r in _assigned(session, naskah.id or 0) if r.user_id == target.id), None)
    if row is None:
        raise NotFound(
            f"'{target.username}' tidak ditugaskan sebagai penyusun naskah {naskah.id}.", username=target.username
        )
    row.removed_at = utcnow()
    session.add(row)
    return row
