"""The whole path of one naskah, step by step: the stepper of the naskah page and the paraf chain.

From the lifecycle table and the SOP profile: drafting → Bagian Hukum's review (with every return and
its note) → each paraf official in the profile's order → the signature plan → each signer of the plan
(per party; desk to desk or on the server; under a Surat Kuasa) → archive.  Each step says who (name,
jabatan), its state, when it was done and by whom, since when it waits, the profile's standard time
(mutu baku) and, for the step the naskah waits in, whether it is late — that step's waiting is
``pipeline.archival.monitoring.waiting``'s, the same computation as monitoring and "Tugas saya" — and whether it
is the reader's own turn (``giliran_saya``: exactly when ``pipeline.inbox.tasks`` gives the reader a task on
this naskah, i.e. when the pipeline would accept their step now; the page shows its button then).

States (``keadaan``): ``done``, ``current`` (the naskah waits here), ``waiting`` (later), ``refused``
(Bagian Hukum returned the draft, or an official refused the paraf, and the draft has not gone through
again), ``skipped`` (the naskah was cancelled before it).

A counterparty's official sees the path without the Pemda's internal drafting material (who drafts,
review notes and history: ``access.require_internal``'s rule): those fields are empty for them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from pipeline.access import drafters_of
from pipeline.approval.paraf import signing_parties
from pipeline.archival.monitoring import Waiting, durasi, standard_for, waiting
from pipeline.drafting.cases import get_naskah, nomor_of
from pipeline.errors import NaskahError
from pipeline.inbox.tasks import tasks_for
from pipeline.lifecycle import STATUS_LABELS, Action, Status
from pipeline.models import (
    KerjaSama,
    Naskah,
    NaskahEvent,
    Paraf,
    Revision,
    RevisionState,
    SignaturePlan,
    SignatureStep,
    User,
    as_utc,
)
from pipeline.sop import Profile

__all__ = ["KEADAAN_LABELS", "Progress", "ProgressStep", "progress_of"]

KEADAAN_LABELS = {
    "done": "selesai",
    "current": "sedang berjalan",
    "waiting": "menunggu",
    "refused": "dikembalikan / ditolak",
    "skipped": "dilewati",
}
_PIHAK = {1: "PIHAK KESATU", 2: "PIHAK KEDUA", 3: "PIHAK KETIGA", 4: "PIHAK KEEMPAT"}
_SK_PIHAK = {1: "pemberi kuasa", 2: "penerima kuasa"}
# Where each lifecycle status sits on the path (0 drafting .. 5 archived).
_PHASE = {
    Status.DRAFT.value: 0,
    Status.RETURNED.value: 0,
    Status.LEGAL_REVIEW.value: 1,
    Status.PARAF.value: 2,
    Status.SIGNING.value: 3,
    Status.SIGNED.value: 4,
    Status.ARCHIVED.value: 5,
}


@dataclass(frozen=True)
class Person:
    """Someone on the path: a name when it is known, always a jabatan."""

    nama: str | None
    jabatan: str

    def to_dict(self) -> dict[str, Any]:
        return {"nama": self.nama, "jabatan": self.jabatan}


@dataclass(frozen=True)
class Event:
    """One thing done on a step (a submission, a return with its note, an approval, a refused paraf)."""

    aksi: str
    label: str
    oleh: Person | None
    pada: dt.datetime
    catatan: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "aksi": self.aksi,
            "label": self.label,
            "oleh": self.oleh.to_dict() if self.oleh else None,
            "pada": self.pada,
            "catatan": self.catatan,
        }


@dataclass
class ProgressStep:
    """One step of the stepper."""

    kunci: str
    """Stable key: ``penyusunan``, ``telaah``, ``paraf.<posisi>``, ``rencana_ttd``, ``ttd.<pihak>``, ``arsip``."""
    tahap: str
    """The group it belongs to: penyusunan, telaah, paraf, rencana_ttd, tanda_tangan, arsip."""
    label: str
    pelaku: list[Person]
    """Who is to do it (the planned official(s); empty when not known yet)."""
    standar_dari: str
    """The ``mutu_baku`` step it is measured against (``draft``, ``paraf.sekda``, ``signing``)."""
    standar: str | None
    keadaan: str = "waiting"
    oleh: Person | None = None
    """Who did it (done) or refused it."""
    selesai_pada: dt.datetime | None = None
    catatan: str | None = None
    wait: Waiting | None = None
    """Set on the step the naskah waits in."""
    giliran_saya: bool = False
    riwayat: list[Event] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        w = self.wait
        return {
            "kunci": self.kunci,
            "tahap": self.tahap,
            "label": self.label,
            "keadaan": self.keadaan,
            "keadaan_label": KEADAAN_LABELS[self.keadaan],
            "pelaku": [p.to_dict() for p in self.pelaku],
            "oleh": self.oleh.to_dict() if self.oleh else None,
            "selesai_pada": self.selesai_pada,
            "catatan": self.catatan,
            "standar": self.standar,
            "standar_dari": self.standar_dari,
            "sejak": w.sejak if w else None,
            "lama_menit": int(w.lama.total_seconds() // 60) if w else None,
            "lama": durasi(w.lama, kerja=w.hari_kerja) if w else None,
            "tenggat": w.tenggat if w else None,
            "terlambat": w.terlambat if w else False,
            "lewat_menit": int(w.lewat.total_seconds() // 60) if w and w.lewat else None,
            "lewat": durasi(w.lewat, kerja=w.hari_kerja) if w and w.lewat else None,
            "giliran_saya": self.giliran_saya,
            "riwayat": [e.to_dict() for e in self.riwayat],
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Progress:
    naskah_id: int
    kerja_sama_id: int
    jenis: str
    judul: str
    nomor: dict[str, str]
    status: str
    status_label: str
    langkah: list[ProgressStep]
    dibatalkan: Event | None

    @property
    def current(self) -> ProgressStep | None:
        return next((s for s in self.langkah if s.keadaan == "current"), None)

    def to_dict(self) -> dict[str, Any]:
        current = self.current
        return {
            "naskah_id": self.naskah_id,
            "kerja_sama_id": self.kerja_sama_id,
            "jenis": self.jenis,
            "judul": self.judul,
            "nomor": self.nomor,
            "status": self.status,
            "status_label": self.status_label,
            "langkah_sekarang": current.kunci if current else None,
            "giliran_saya": bool(current and current.giliran_saya),
            "dibatalkan": self.dibatalkan.to_dict() if self.dibatalkan else None,
            "langkah": [s.to_dict() for s in self.langkah],
        }


def _holders(users: list[User], key: str) -> list[Person]:
    found = [Person(u.nama, u.jabatan) for u in users if key in u.posisi_set and not u.pihak_luar]
    return found


def progress_of(session: Session, user: User, naskah_id: int, *, profile: Profile, now: dt.datetime) -> Progress:
    """The path of naskah ``naskah_id`` as ``user`` may see it (NotFound, as for any read, when they may
    not see it)."""
    naskah = get_naskah(session, user, naskah_id, profile=profile)
    case = session.get(KerjaSama, naskah.kerja_sama_id)
    assert case is not None
    now = as_utc(now)
    internal = not user.pihak_luar
    events = list(
        session.exec(
            select(NaskahEvent)
            .where(NaskahEvent.naskah_id == naskah_id)
            .order_by(col(NaskahEvent.created_at), col(NaskahEvent.id))
        ).all()
    )
    actor_ids = sorted({e.actor_id for e in events})
    actors = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(actor_ids)))} if actor_ids else {}
    officials = list(session.exec(select(User).where(User.active == True)).all())  # noqa: E712 - SQL comparison

    def person(uid: int | None) -> Person | None:
        u = actors.get(uid) if uid is not None else None
        return Person(u.nama, u.jabatan) if u is not None else None

    def event(e: NaskahEvent, label: str) -> Event:
        return Event(e.action, label, person(e.actor_id), e.created_at, e.note or None)

    status = naskah.status
    cancelled = next((e for e in reversed(events) if e.action == Action.CANCEL.value), None)
    phase = _PHASE.get(cancelled.from_status if cancelled else status, 0)

    def standard(key: str) -> str | None:
        found, _ = standard_for(profile, key)
        return found.text if found else None

    def step(kunci: str, tahap: str, label: str, pelaku: list[Person], measured: str) -> ProgressStep:
        return ProgressStep(kunci, tahap, label, pelaku, measured, standard(measured))

    last_approve = max((i for i, e in enumerate(events) if e.action == Action.APPROVE.value), default=-1)
    last_refusal = max((i for i, e in enumerate(events) if e.action == Action.REFUSE_PARAF.value), default=-1)
    refusal = events[last_refusal] if last_refusal > last_approve else None
    steps: list[ProgressStep] = []

    # drafting
    drafting = step(
        "penyusunan",
        "penyusunan",
        "Penyusunan naskah",
        [Person(u.nama, u.jabatan) for u, _ in drafters_of(session, naskah)] if internal else [],
        "draft",
    )
    submits = [e for e in events if e.action == Action.SUBMIT.value]
    if phase > 0 and submits:
        drafting.keadaan, drafting.oleh, drafting.selesai_pada = (
            "done",
            person(submits[-1].actor_id),
            submits[-1].created_at,
        )
    steps.append(drafting)

    # Bagian Hukum
    reviewer = profile.reviewer
    telaah = step("telaah", "telaah", f"Telaah {reviewer.jabatan}", _holders(officials, reviewer.key), "legal_review")
    labels = {
        Action.SUBMIT.value: "diajukan ke Bagian Hukum",
        Action.RETURN.value: "dikembalikan dengan catatan",
        Action.APPROVE.value: "disetujui",
    }
    if internal:
        telaah.riwayat = [event(e, labels[e.action]) for e in events if e.action in labels]
    approvals = [e for e in events if e.action == Action.APPROVE.value]
    if phase > 1 and approvals:
        telaah.keadaan, telaah.oleh, telaah.selesai_pada = (
            "done",
            person(approvals[-1].actor_id),
            approvals[-1].created_at,
        )
    elif status == Status.RETURNED.value:
        back = next(e for e in reversed(events) if e.action == Action.RETURN.value)
        telaah.keadaan, telaah.oleh, telaah.selesai_pada = "refused", person(back.actor_id), back.created_at
        telaah.catatan = (back.note or None) if internal else None
    steps.append(telaah)

    # paraf, in the profile's order
    given = {
        p.urutan: p
        for p in session.exec(
            select(Paraf)
            .where(Paraf.naskah_id == naskah_id, col(Paraf.voided_at).is_(None))
            .order_by(col(Paraf.urutan))
        )
    }
    chain = profile.paraf_chain(naskah.jenis)
    refuser = actors.get(refusal.actor_id) if refusal is not None else None
    refused_key = next((p.key for p in chain if refuser is not None and p.key in refuser.posisi_set), None)
    for urutan, position in enumerate(chain, start=1):
        s = step(
            f"paraf.{position.key}",
            "paraf",
            f"Paraf {position.jabatan}",
            _holders(officials, position.key),
            f"paraf.{position.key}",
        )
        s.detail = {"urutan": urutan, "posisi": position.key, "singkatan": position.singkatan}
        row = given.get(urutan)
        if row is not None:
            s.keadaan, s.oleh, s.selesai_pada = "done", Person(row.nama, row.jabatan), row.waktu
            s.detail["revision_number"] = row.revision_number
        elif refusal is not None and position.key == refused_key and phase < 2:
            s.keadaan, s.oleh, s.selesai_pada = "refused", person(refusal.actor_id), refusal.created_at
            s.catatan = (refusal.note or None) if internal else None
        steps.append(s)

    # the signature plan, then each signer
    plan = session.exec(select(SignaturePlan).where(SignaturePlan.naskah_id == naskah_id)).first()
    rencana = step("rencana_ttd", "rencana_ttd", "Rencana penandatanganan", [], "signing")
    if plan is not None:
        maker = session.get(User, plan.created_by)
        rencana.keadaan, rencana.selesai_pada = "done", plan.created_at
        rencana.oleh = Person(maker.nama, maker.jabatan) if maker is not None and internal else None
        rencana.detail = {"mode": plan.mode, "tanggal_naskah": plan.tanggal_naskah}
    steps.append(rencana)
    steps.extend(_signers(session, naskah, plan, step))

    arsip = step("arsip", "arsip", "Pengarsipan naskah asli", [Person(None, "Sekretariat TKKSD")], "signed")
    archived = next((e for e in reversed(events) if e.action == Action.ARCHIVE.value), None)
    if archived is not None:
        arsip.keadaan, arsip.oleh, arsip.selesai_pada = "done", person(archived.actor_id), archived.created_at
    steps.append(arsip)

    _mark_current(steps, status, given, chain, plan)
    if cancelled is not None:
        for s in steps:
            if s.keadaan in ("waiting", "current"):
                s.keadaan = "skipped"
    current = next((s for s in steps if s.keadaan == "current"), None)
    if current is not None:
        (current.wait,) = waiting(session, profile, [(naskah, case)], now)
        current.giliran_saya = tasks_for(session, user, profile, now, naskah_ids=[naskah_id]).count > 0
    return Progress(
        naskah_id=naskah_id,
        kerja_sama_id=case.id or 0,
        jenis=naskah.jenis,
        judul=str((naskah.data or {}).get("judul") or case.judul),
        nomor={str(k): v for k, v in nomor_of(session, naskah_id).items()},
        status=status,
        status_label=STATUS_LABELS[Status(status)],
        langkah=steps,
        dibatalkan=(
            Event(
                cancelled.action,
                "dibatalkan",
                person(cancelled.actor_id) if internal else None,
                cancelled.created_at,
                (cancelled.note or None) if internal else None,
            )
            if cancelled is not None
            else None
        ),
    )


def _signers(session: Session, naskah: Naskah, plan: SignaturePlan | None, step: Any) -> list[ProgressStep]:
    """A step per signer: the plan's, in its order; before a plan, each party printed in the newest
    revision's signature blocks (the order and the mode are the plan's to fix)."""
    names = _SK_PIHAK if naskah.jenis == "SK" else _PIHAK
    out = []
    if plan is not None:
        rows = list(
            session.exec(
                select(SignatureStep).where(SignatureStep.plan_id == plan.id).order_by(col(SignatureStep.urutan))
            ).all()
        )
        for row in rows:
            pihak = names.get(row.pihak_urutan, f"pihak {row.pihak_urutan}")
            how = (
                " (desk to desk, di sistem mitra)"
                if row.external
                else (" atas Surat Kuasa" if row.kuasa_naskah_id else "")
            )
            s = step(
                f"ttd.{row.pihak_urutan}",
                "tanda_tangan",
                f"Tanda tangan {pihak}{how}",
                [Person(row.nama, row.jabatan)],
                "signing",
            )
            s.detail = {
                "urutan": row.urutan,
                "pihak_urutan": row.pihak_urutan,
                "desk": row.external,
                "kuasa_naskah_id": row.kuasa_naskah_id,
                "direncanakan": True,
                "tanggal_ttd": row.tanggal_ttd,
                "catatan_tanggal": row.catatan_tanggal,
            }
            if row.signed_at is not None:
                s.keadaan, s.oleh, s.selesai_pada = "done", Person(row.nama, row.jabatan), row.signed_at
                s.detail["penanda_tangan_sertifikat"] = row.signer_subject
            out.append(s)
        return out
    latest = session.exec(
        select(Revision)
        .where(Revision.naskah_id == naskah.id, Revision.state == RevisionState.COMPLETE.value)
        .order_by(col(Revision.number).desc())
    ).first()
    if latest is None:
        return out
    try:
        parties = signing_parties(session, naskah, latest)
    except NaskahError:  # a Surat Kuasa whose blocks are not filled in yet
        return out
    for urutan in sorted(parties, reverse=True):  # the counterparty first, our Kepala Daerah last, as usual
        party = parties[urutan]
        s = step(
            f"ttd.{urutan}",
            "tanda_tangan",
            f"Tanda tangan {names.get(urutan, f'pihak {urutan}')}",
            [Person(party.nama, party.jabatan)],
            "signing",
        )
        s.detail = {"pihak_urutan": urutan, "direncanakan": False}
        out.append(s)
    return out


def _mark_current(
    steps: list[ProgressStep],
    status: str,
    given: dict[int, Paraf],
    chain: list[Any],
    plan: SignaturePlan | None,
) -> None:
    """The step the naskah waits in (none once archived or cancelled)."""
    by_key = {s.kunci: s for s in steps}
    target: ProgressStep | None = None
    if status in (Status.DRAFT.value, Status.RETURNED.value):
        target = by_key["penyusunan"]
    elif status == Status.LEGAL_REVIEW.value:
        target = by_key["telaah"]
    elif status == Status.PARAF.value and len(given) < len(chain):
        target = by_key[f"paraf.{chain[len(given)].key}"]
    elif status == Status.SIGNING.value:
        target = (
            by_key["rencana_ttd"]
            if plan is None
            else next((s for s in steps if s.tahap == "tanda_tangan" and s.keadaan == "waiting"), None)
        )
    elif status == Status.SIGNED.value:
        target = by_key["arsip"]
    if target is not None:
        target.keadaan = "current"
