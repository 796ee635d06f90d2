"""Tugas saya: what waits on one user now, by their roles and their position in the SOP profile.

The home page of every person in the process (SRIKANDI's counters, Documenso's inbox) and its API
twin ``GET /me/tasks``.  A task is a naskah on which THIS user can take the next step now, and the
pipeline would accept it: the rule of each step is asked, not copied.

=================  =======================================================  =============================
kind (``tugas``)   waits on                                                 the step the pipeline takes
=================  =======================================================  =============================
``telaah``         Bagian Hukum (role ``legal``), not the person who          ``review.approve`` / return
                   submitted the draft or wrote its revision (separation
                   of duties, ``review.approval_conflict``)
``paraf``          the official whose turn it is in the profile's chain     ``paraf.give_paraf``
                   (``paraf.turn_of``: not before their turn, not a second
                   paraf by one person)
``tanda_tangan``   the signer of the plan's next step (a Kepala OPD under   ``signature_plan.sign_step``
                   a Surat Kuasa too); desk to desk, the counterparty's
                   official whose party signs next in its own system
                   (they download the export)
``rencana_ttd``    fully initialled, no signature plan yet: the naskah's    ``signature_plan.create_plan``
                   drafters and the secretariat
``kirim_mitra``    desk to desk, the counterparty signs next and nothing    ``GET /naskah/{id}/export``
                   was exported since: drafters and secretariat
``impor``          desk to desk, exported and not yet imported: the         ``signature_plan.import_signed``
                   drafters and the secretariat who import the return
``arsip``          signed, not archived: the secretariat                    ``archive.archive_naskah``
``dikembalikan``   returned by Bagian Hukum (or a paraf refused) and not    a new revision, then submit
                   yet submitted again: the naskah's drafters, with the
                   note and who wrote it
=================  =======================================================  =============================

Each task carries where the naskah waits, since when and against which standard time
(``pipeline.archival.monitoring.waiting``: the one computation of waiting, so the inbox, monitoring and the
naskah's progress agree); late ones first, then the oldest.  Only naskah the user may see
(``pipeline.access``) are considered, and one user gets at most one task per naskah.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from pipeline import access, audit
from pipeline.approval import review
from pipeline.approval.paraf import turn_of
from pipeline.archival.monitoring import Waiting, durasi, waiting
from pipeline.auth import PERMISSIONS, require
from pipeline.lifecycle import Action, Role, Status
from pipeline.models import (
    AuditEntry,
    KerjaSama,
    Naskah,
    NaskahDrafter,
    NaskahEvent,
    NaskahNomor,
    Paraf,
    Pihak,
    Revision,
    RevisionState,
    SignaturePlan,
    SignatureStep,
    User,
)
from pipeline.sop import Profile

__all__ = ["KIND_LABELS", "Kind", "Task", "TaskList", "kinds_of", "tasks_for"]


class Kind(StrEnum):
    """What a task asks of the user (the order counters are shown in)."""

    TELAAH = "telaah"
    PARAF = "paraf"
    TANDA_TANGAN = "tanda_tangan"
    RENCANA_TTD = "rencana_ttd"
    KIRIM_MITRA = "kirim_mitra"
    IMPOR = "impor"
    ARSIP = "arsip"
    DIKEMBALIKAN = "dikembalikan"


KIND_LABELS: dict[Kind, str] = {
    Kind.TELAAH: "Telaah Bagian Hukum",
    Kind.PARAF: "Beri paraf",
    Kind.TANDA_TANGAN: "Tanda tangani",
    Kind.RENCANA_TTD: "Susun rencana tanda tangan",
    Kind.KIRIM_MITRA: "Kirim ke mitra (desk to desk)",
    Kind.IMPOR: "Impor berkas kembali dari mitra",
    Kind.ARSIP: "Arsipkan",
    Kind.DIKEMBALIKAN: "Perbaiki rancangan yang dikembalikan",
}

#: What the user does next, by kind: the pipeline action (lifecycle action or the plan/export step).
_TINDAKAN: dict[Kind, str] = {
    Kind.TELAAH: Action.APPROVE.value,
    Kind.PARAF: Action.PARAF.value,
    Kind.TANDA_TANGAN: Action.SIGN.value,
    Kind.RENCANA_TTD: "signature_plan",
    Kind.KIRIM_MITRA: "export",
    Kind.IMPOR: Action.IMPORT_SIGNED.value,
    Kind.ARSIP: Action.ARCHIVE.value,
    Kind.DIKEMBALIKAN: Action.REVISE.value,
}


@dataclass(frozen=True)
class Task:
    """One naskah waiting on the user, and what they are to do with it."""

    tugas: Kind
    naskah_id: int
    kerja_sama_id: int
    jenis: str
    """KB, NK, PKS or SK."""
    jenis_kerja_sama: str
    judul: str
    """The kerja sama's title as the naskah states it."""
    nomor: dict[str, str]
    """Each party's nomor of the naskah, by party order (``"1"``, ``"2"``)."""
    wait: Waiting
    """Where it waits, since when, against which standard (``pipeline.archival.monitoring``)."""
    keterangan: str
    """What to do, in words (``Paraf Anda sebagai Asisten Umum (urutan 2 dari 3)``)."""
    catatan: str | None = None
    """The note that came with it: Bagian Hukum's return, a refused paraf's reason."""
    catatan_oleh: str | None = None
    """Who wrote ``catatan`` (name and jabatan)."""
    catatan_pada: dt.datetime | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    """Kind-specific facts: paraf ``urutan``/``posisi``; signing ``pihak_urutan``, ``desk``,
    ``kuasa_naskah_id``; desk to desk ``diekspor_pada``."""

    @property
    def terlambat(self) -> bool:
        return self.wait.terlambat

    def to_dict(self) -> dict[str, Any]:
        w = self.wait
        return {
            "tugas": self.tugas.value,
            "tugas_label": KIND_LABELS[self.tugas],
            "tindakan": _TINDAKAN[self.tugas],
            "naskah_id": self.naskah_id,
            "kerja_sama_id": self.kerja_sama_id,
            "jenis": self.jenis,
            "jenis_kerja_sama": self.jenis_kerja_sama,
            "judul": self.judul,
            "nomor": self.nomor,
            "status": w.status,
            "status_label": w.keterangan,
            "langkah": w.langkah,
            "keterangan": self.keterangan,
            "sejak": w.sejak,
            "lama_menit": int(w.lama.total_seconds() // 60),
            "lama": durasi(w.lama, kerja=w.hari_kerja),
            "standar": w.standar.text if w.standar else None,
            "standar_menit": int(w.standar.value.total_seconds() // 60) if w.standar else None,
            "tenggat": w.tenggat,
            "terlambat": w.terlambat,
            "lewat_menit": int(w.lewat.total_seconds() // 60) if w.lewat else None,
            "lewat": durasi(w.lewat, kerja=w.hari_kerja) if w.lewat else None,
            "catatan": self.catatan,
            "catatan_oleh": self.catatan_oleh,
            "catatan_pada": self.catatan_pada,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class TaskList:
    """The user's tasks, late first then oldest, and how many of each kind (every kind, zeros too)."""

    data: list[Task]
    jumlah: dict[Kind, int]
    terlambat: dict[Kind, int]

    @property
    def count(self) -> int:
        return len(self.data)

    def ringkasan(self) -> list[dict[str, Any]]:
        """Counters in the fixed order of :class:`Kind`, for the home page's tiles."""
        return [
            {"tugas": k.value, "label": KIND_LABELS[k], "jumlah": self.jumlah[k], "terlambat": self.terlambat[k]}
            for k in Kind
        ]


# -- which naskah may hold a task for this user (SQL, so the inbox stays fast on a large database) --------


def _drafter_of(user: User) -> ColumnElement[bool]:
    """Naskah whose drafter ``user`` is (creator or assigned): what ``access.is_naskah_drafter`` accepts."""
    return sa.or_(
        Naskah.created_by == user.id,
        col(Naskah.id).in_(
            select(NaskahDrafter.naskah_id).where(
                NaskahDrafter.user_id == user.id, col(NaskahDrafter.removed_at).is_(None)
            )
        ),
    )


def _candidates(session: Session, user: User, profile: Profile) -> ColumnElement[bool] | None:
    roles = user.role_set
    parts: list[ColumnElement[bool]] = []
    signing = Naskah.status == Status.SIGNING.value
    if user.pihak_luar:  # a counterparty's official only ever signs
        parts.append(signing)
    else:
        if Role.LEGAL.value in roles:
            parts.append(Naskah.status == Status.LEGAL_REVIEW.value)
        if Role.PARAF.value in roles:
            jenis = [j for j in profile.paraf if any(k in user.posisi_set for k in profile.paraf[j])]
            if jenis:
                parts.append(sa.and_(Naskah.status == Status.PARAF.value, col(Naskah.jenis).in_(jenis)))
        if Role.SIGNER.value in roles:
            mine = (
                select(SignaturePlan.naskah_id)
                .join(SignatureStep, col(SignatureStep.plan_id) == col(SignaturePlan.id))
                .where(SignatureStep.user_id == user.id, col(SignatureStep.signed_at).is_(None))
            )
            parts.append(sa.and_(signing, col(Naskah.id).in_(mine)))
        if Role.SECRETARIAT.value in roles:
            parts.append(col(Naskah.status).in_([Status.SIGNING.value, Status.SIGNED.value]))
        if Role.DRAFTER.value in roles:
            sent_back = col(Naskah.id).in_(
                select(NaskahEvent.naskah_id).where(
                    col(NaskahEvent.action).in_([Action.RETURN.value, Action.REFUSE_PARAF.value])
                )
            )  # a draft is a task only when it came back (returned, a paraf refused)
            drafting = sa.or_(
                col(Naskah.status).in_([Status.SIGNING.value, Status.RETURNED.value]),
                sa.and_(Naskah.status == Status.DRAFT.value, sent_back),
            )
            parts.append(sa.and_(drafting, _drafter_of(user)))
    if not parts:
        return None
    return sa.and_(sa.or_(*parts), access.naskah_clause(session, user, profile))


def kinds_of(user: User, profile: Profile) -> list[Kind]:
    """The kinds of task ``user`` can ever hold, by their roles and SOP positions (in :class:`Kind`'s order).

    The home page shows a counter for each, zero or not ("0 to sign" is news to a Bupati), and none for
    what this person never does (a Bupati has no "Arsipkan" to watch).  The same reading of roles as
    :func:`_candidates`: a kind outside this list never appears in :func:`tasks_for`'s answer.
    """
    roles = user.role_set
    if not roles & {r.value for r in PERMISSIONS["read"]}:
        return []  # tasks_for refuses them (an administrator's account)
    if user.pihak_luar:  # a counterparty's official only ever signs (desk to desk, without the signer role too)
        return [Kind.TANDA_TANGAN]
    held: set[Kind] = set()
    if Role.LEGAL.value in roles:
        held.add(Kind.TELAAH)
    if Role.PARAF.value in roles and any(k in user.posisi_set for chain in profile.paraf.values() for k in chain):
        held.add(Kind.PARAF)
    if Role.SIGNER.value in roles:
        held.add(Kind.TANDA_TANGAN)
    if Role.SECRETARIAT.value in roles:
        held |= {Kind.RENCANA_TTD, Kind.KIRIM_MITRA, Kind.IMPOR, Kind.ARSIP}
    if Role.DRAFTER.value in roles:
        held |= {Kind.RENCANA_TTD, Kind.KIRIM_MITRA, Kind.IMPOR, Kind.DIKEMBALIKAN}
    return [k for k in Kind if k in held]


# -- the facts each decision needs, read once for all candidates -------------------------------------------


@dataclass
class _Facts:
    events: dict[int, list[NaskahEvent]]
    paraf: dict[int, list[Paraf]]
    plans: dict[int, SignaturePlan]
    steps: dict[int, list[SignatureStep]]
    authors: dict[int, int]
    """naskah id -> author of its newest complete revision."""
    drafted: set[int]
    """naskah the user drafts."""
    exports: dict[int, dt.datetime]
    """naskah id -> the newest desk-to-desk export."""
    nomor: dict[int, dict[str, str]]
    pihak: dict[tuple[int, int], Pihak]
    """(kerja sama id, party order) -> party."""
    users: dict[int, User]


def _facts(session: Session, user: User, pairs: list[tuple[Naskah, KerjaSama]]) -> _Facts:
    ids = [n.id or 0 for n, _ in pairs]
    events: dict[int, list[NaskahEvent]] = {i: [] for i in ids}
    for e in session.exec(  # revisions are many and decide nothing here
        select(NaskahEvent)
        .where(col(NaskahEvent.naskah_id).in_(ids), NaskahEvent.action != Action.REVISE.value)
        .order_by(col(NaskahEvent.created_at), col(NaskahEvent.id))
    ):
        events[e.naskah_id].append(e)
    paraf: dict[int, list[Paraf]] = {i: [] for i in ids}
    for p in session.exec(
        select(Paraf).where(col(Paraf.naskah_id).in_(ids), col(Paraf.voided_at).is_(None)).order_by(col(Paraf.urutan))
    ):
        paraf[p.naskah_id].append(p)
    plans = {p.naskah_id: p for p in session.exec(select(SignaturePlan).where(col(SignaturePlan.naskah_id).in_(ids)))}
    steps: dict[int, list[SignatureStep]] = {}
    if plans:
        by_plan = {p.id: p.naskah_id for p in plans.values()}
        for s in session.exec(
            select(SignatureStep)
            .where(col(SignatureStep.plan_id).in_(list(by_plan)))
            .order_by(col(SignatureStep.urutan))
        ):
            steps.setdefault(by_plan[s.plan_id], []).append(s)
    newest = (
        select(Revision.naskah_id, sa.func.max(Revision.number).label("number"))
        .where(col(Revision.naskah_id).in_(ids), Revision.state == RevisionState.COMPLETE.value)
        .group_by(col(Revision.naskah_id))
        .subquery()
    )
    authors = dict(
        session.exec(
            select(Revision.naskah_id, Revision.author_id).join(
                newest,
                sa.and_(col(Revision.naskah_id) == newest.c.naskah_id, col(Revision.number) == newest.c.number),
            )
        ).all()
    )
    drafted = set(session.exec(select(Naskah.id).where(col(Naskah.id).in_(ids), _drafter_of(user))).all())
    exports = dict(
        session.exec(
            select(AuditEntry.naskah_id, sa.func.max(AuditEntry.at))
            .where(col(AuditEntry.naskah_id).in_(ids), AuditEntry.action == audit.AuditAction.EXPORT.value)
            .group_by(col(AuditEntry.naskah_id))
        ).all()
    )
    nomor: dict[int, dict[str, str]] = {i: {} for i in ids}
    for nid, urutan, text in session.exec(
        select(NaskahNomor.naskah_id, Pihak.urutan, NaskahNomor.nomor)
        .join(Pihak, col(Pihak.id) == col(NaskahNomor.pihak_id))
        .where(col(NaskahNomor.naskah_id).in_(ids))
    ):
        nomor[nid][str(urutan)] = text
    cases = sorted({c.id or 0 for _, c in pairs})
    pihak = {
        (p.kerja_sama_id, p.urutan): p for p in session.exec(select(Pihak).where(col(Pihak.kerja_sama_id).in_(cases)))
    }
    actors = {e.actor_id for rows in events.values() for e in rows}
    users = {u.id or 0: u for u in session.exec(select(User).where(col(User.id).in_(sorted(actors))))} if actors else {}
    return _Facts(events, paraf, plans, steps, authors, drafted, exports, nomor, pihak, users)


def _who(user: User | None) -> str | None:
    return f"{user.nama} ({user.jabatan})" if user is not None else None


# -- the decision, per naskah ------------------------------------------------------------------------------


def _decide(user: User, profile: Profile, naskah: Naskah, case: KerjaSama, wait: Waiting, facts: _Facts) -> Task | None:
    nid = naskah.id or 0
    roles = user.role_set
    status = naskah.status

    def task(kind: Kind, keterangan: str, **extra: Any) -> Task:
        return Task(
            tugas=kind,
            naskah_id=nid,
            kerja_sama_id=case.id or 0,
            jenis=naskah.jenis,
            jenis_kerja_sama=case.jenis,
            judul=wait.judul,
            nomor=facts.nomor.get(nid, {}),
            wait=wait,
            keterangan=keterangan,
            **extra,
        )

    if user.pihak_luar:
        return _counterparty_task(user, naskah, case, facts, task)
    if status == Status.LEGAL_REVIEW.value and Role.LEGAL.value in roles:
        if profile.pemisahan_tugas:
            submits = [e for e in facts.events[nid] if e.action == Action.SUBMIT.value]
            submitter = submits[-1].actor_id if submits else None
            if review.approval_conflict(user.id, submitter, facts.authors.get(nid)) is not None:
                return None
        return task(Kind.TELAAH, "Telaah rancangan: setujui, atau kembalikan dengan catatan.")
    if status == Status.PARAF.value and Role.PARAF.value in roles:
        turn = turn_of(profile, naskah.jenis, facts.paraf[nid], user)
        if turn is None or not turn.boleh:
            return None
        chain = len(profile.paraf_chain(naskah.jenis))
        return task(
            Kind.PARAF,
            f"Paraf Anda sebagai {turn.position.jabatan} (urutan {turn.urutan} dari {chain}).",
            detail={"urutan": turn.urutan, "posisi": turn.position.key, "jumlah_paraf": chain},
        )
    if status == Status.SIGNING.value:
        return _signing_task(user, naskah, facts, task)
    if status == Status.SIGNED.value and Role.SECRETARIAT.value in roles:
        return task(Kind.ARSIP, "Semua tanda tangan lengkap: arsipkan naskah asli.")
    if status in (Status.RETURNED.value, Status.DRAFT.value) and Role.DRAFTER.value in roles and nid in facts.drafted:
        return _returned_task(naskah, facts, task)
    return None


def _signing_task(user: User, naskah: Naskah, facts: _Facts, task: Any) -> Task | None:
    nid = naskah.id or 0
    roles = user.role_set
    imports = Role.SECRETARIAT.value in roles or (Role.DRAFTER.value in roles and nid in facts.drafted)
    plan = facts.plans.get(nid)
    if plan is None:
        if imports:
            return task(
                Kind.RENCANA_TTD, "Semua paraf lengkap: susun rencana tanda tangan (tatap muka atau desk to desk)."
            )
        return None
    step = next((s for s in facts.steps.get(nid, []) if s.signed_at is None), None)
    if step is None:
        return None
    detail = {"urutan": step.urutan, "pihak_urutan": step.pihak_urutan, "nama": step.nama, "jabatan": step.jabatan}
    if step.external:
        if not imports:
            return None
        exported = facts.exports.get(nid)
        since = _step_started(facts, nid, plan)
        if exported is not None and exported >= since:
            return task(
                Kind.IMPOR,
                f"Berkas telah dikirim ke {step.nama} ({step.jabatan}); impor berkas yang ditandatangani mitra.",
                detail={**detail, "desk": True, "diekspor_pada": exported},
            )
        return task(
            Kind.KIRIM_MITRA,
            f"Unduh PDF untuk ditandatangani {step.nama} ({step.jabatan}) di sistemnya, lalu kirimkan.",
            detail={**detail, "desk": True, "diekspor_pada": None},
        )
    if step.user_id != user.id or Role.SIGNER.value not in roles:
        return None
    kuasa = " atas Surat Kuasa" if step.kuasa_naskah_id else ""
    return task(
        Kind.TANDA_TANGAN,
        f"Tanda tangani sebagai {step.jabatan}{kuasa} (pihak {step.pihak_urutan}).",
        detail={**detail, "desk": False, "kuasa_naskah_id": step.kuasa_naskah_id, "mode": plan.mode},
    )


def _counterparty_task(user: User, naskah: Naskah, case: KerjaSama, facts: _Facts, task: Any) -> Task | None:
    """A counterparty's official: their signature, on the server (a step naming their account) or desk to
    desk in their own system (the step of their party printed with their name)."""
    nid = naskah.id or 0
    plan = facts.plans.get(nid)
    if naskah.status != Status.SIGNING.value or plan is None:
        return None
    step = next((s for s in facts.steps.get(nid, []) if s.signed_at is None), None)
    if step is None:
        return None
    detail = {"urutan": step.urutan, "pihak_urutan": step.pihak_urutan, "nama": step.nama, "jabatan": step.jabatan}
    if step.user_id is not None and step.user_id == user.id and Role.SIGNER.value in user.role_set:
        return task(
            Kind.TANDA_TANGAN,
            f"Tanda tangani sebagai {step.jabatan} (pihak {step.pihak_urutan}).",
            detail={**detail, "desk": False, "kuasa_naskah_id": None, "mode": plan.mode},
        )
    if step.external and access.counterparty_signs(
        user, naskah, step, facts.pihak.get((case.id or 0, step.pihak_urutan))
    ):
        return task(
            Kind.TANDA_TANGAN,
            "Unduh PDF naskah, tanda tangani di sistem instansi Anda, lalu kirimkan kembali kepada Pemerintah Daerah.",
            detail={**detail, "desk": True, "kuasa_naskah_id": None, "mode": plan.mode},
        )
    return None


def _step_started(facts: _Facts, nid: int, plan: SignaturePlan) -> dt.datetime:
    """When the plan's next step opened: the newest signature or import, else the plan itself."""
    signed = [s.signed_at for s in facts.steps.get(nid, []) if s.signed_at is not None]
    return max([plan.created_at, *signed])


def _returned_task(naskah: Naskah, facts: _Facts, task: Any) -> Task | None:
    """Returned by Bagian Hukum, or a paraf refused: the task stays until the draft is submitted again."""
    nid = naskah.id or 0
    moves = [e for e in facts.events[nid] if e.action != Action.REVISE.value]
    last = moves[-1] if moves else None
    if last is None or last.action not in (Action.RETURN.value, Action.REFUSE_PARAF.value):
        return None
    by = facts.users.get(last.actor_id)
    if last.action == Action.RETURN.value:
        what = "Dikembalikan Bagian Hukum"
    else:
        what = f"Paraf ditolak oleh {by.jabatan if by else 'pejabat'}"
    then = "buat revisi baru lalu ajukan kembali" if naskah.status == Status.RETURNED.value else "ajukan kembali"
    return task(
        Kind.DIKEMBALIKAN,
        f"{what}: {then}.",
        catatan=last.note or None,
        catatan_oleh=_who(by),
        catatan_pada=last.created_at,
        detail={"aksi": last.action},
    )


# -- the list ----------------------------------------------------------------------------------------------


def tasks_for(
    session: Session, user: User, profile: Profile, now: dt.datetime, *, naskah_ids: Iterable[int] | None = None
) -> TaskList:
    """What waits on ``user`` now: one task per naskah at most, late first, then the longest waiting;
    counters per kind (every kind, zeros too).  ``naskah_ids`` limits it to those naskah (the progress of
    one naskah asks whether its current step is the user's turn).  Requires the read role (403 else)."""
    require(user, "read")
    where = _candidates(session, user, profile)
    found: list[Task] = []
    if where is not None:
        query = (
            select(Naskah, KerjaSama)
            .join(KerjaSama, col(KerjaSama.id) == col(Naskah.kerja_sama_id))
            .where(where)
            .order_by(col(Naskah.id))
        )
        if naskah_ids is not None:
            query = query.where(col(Naskah.id).in_(sorted(set(naskah_ids))))
        pairs = [(n, c) for n, c in session.exec(query).all()]
        if pairs:
            waits = {w.naskah_id: w for w in waiting(session, profile, pairs, now)}
            facts = _facts(session, user, pairs)
            for naskah, case in pairs:
                item = _decide(user, profile, naskah, case, waits[naskah.id or 0], facts)
                if item is not None:
                    found.append(item)
    found.sort(key=lambda t: (not t.terlambat, t.wait.sejak, t.naskah_id))
    jumlah = {k: 0 for k in Kind}
    late = {k: 0 for k in Kind}
    for t in found:
        jumlah[t.tugas] += 1
        late[t.tugas] += int(t.terlambat)
    return TaskList(found, jumlah, late)
