"""A kerja sama's naskah at a glance: how they relate (PKS under its KB, Surat Kuasa under its PKS) and
the step each one waits on now, for the case's page.

What a user is shown is what ``pipeline.access`` lets them see: a naskah they may not see is not listed
(nor counted), and one whose induk they may not see stands at the top, as if it had none.  The step is
said in the words of the lifecycle (``lifecycle.STATUS_LABELS``) and of the SOP profile (the jabatan
whose paraf is awaited, the signer whose signature is); it names no drafter, so it is the same for a
counterparty's official, who sees no internal drafting material.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from pipeline import access
from pipeline.approval.paraf import active_paraf
from pipeline.drafting.cases import NASKAH_NAMES, list_naskah, nomor_of
from pipeline.lifecycle import STATUS_LABELS, Status
from pipeline.models import JenisNaskah, KerjaSama, Naskah, Pihak, User
from pipeline.sign.signature_plan import get_plan, next_step
from pipeline.sop import Profile

__all__ = ["CaseRow", "NaskahOverview", "case_naskah", "current_step", "list_rows"]


@dataclass
class NaskahOverview:
    """One naskah of a case as its page lists it, with the naskah made under it."""

    naskah: Naskah
    nama_jenis: str
    """"Kesepakatan Bersama", "Perjanjian Kerja Sama", ..."""
    status_label: str
    """The lifecycle's Indonesian label of its status."""
    step: str
    """What it waits on now, in a sentence."""
    nomor: dict[int, str]
    """{pihak urutan: nomor}."""
    children: list[NaskahOverview] = field(default_factory=list)


def current_step(session: Session, profile: Profile, naskah: Naskah) -> str:
    """The step ``naskah`` waits on now, said plainly (the paraf chain's next jabatan, the next signer)."""
    status = Status(naskah.status)
    if status == Status.DRAFT:
        return "Penyusunan rancangan oleh Bagian Pemerintahan"
    if status == Status.LEGAL_REVIEW:
        return "Menunggu telaah Bagian Hukum"
    if status == Status.RETURNED:
        return "Dikembalikan Bagian Hukum; menunggu revisi dari penyusun"
    if status == Status.PARAF:
        chain = profile.paraf_chain(naskah.jenis)
        given = {p.urutan for p in active_paraf(session, naskah.id or 0)}
        waiting = next(((i, pos) for i, pos in enumerate(chain, start=1) if i not in given), None)
        if waiting is None:
            return "Paraf lengkap"
        return f"Menunggu paraf {waiting[1].jabatan} ({waiting[0]} dari {len(chain)})"
    if status == Status.SIGNING:
        plan = get_plan(session, naskah.id or 0)
        step = next_step(session, plan) if plan is not None else None
        if step is None:
            return "Menunggu rencana penandatanganan"
        return f"Menunggu tanda tangan {step.nama}, {step.jabatan}"
    if status == Status.SIGNED:
        return "Sudah ditandatangani semua pihak; menunggu diarsipkan Sekretariat"
    if status == Status.ARCHIVED:
        return "Tersimpan di arsip"
    return "Dibatalkan"


def case_naskah(session: Session, user: User, profile: Profile, case: KerjaSama) -> list[NaskahOverview]:
    """The naskah of ``case`` that ``user`` may see, as a tree: each under its induk, in creation order."""
    rows = list_naskah(session, case.id or 0)
    shown = access.visible_naskah_ids(session, user, profile, [n.id or 0 for n in rows])
    items = {
        n.id: NaskahOverview(
            naskah=n,
            nama_jenis=NASKAH_NAMES.get(JenisNaskah(n.jenis), n.jenis),
            status_label=STATUS_LABELS[Status(n.status)],
            step=current_step(session, profile, n),
            nomor=nomor_of(session, n.id or 0),
        )
        for n in rows
        if n.id in shown
    }
    top: list[NaskahOverview] = []
    for item in items.values():
        parent = items.get(item.naskah.parent_id) if item.naskah.parent_id else None
        (parent.children if parent is not None else top).append(item)
    return top


@dataclass(frozen=True)
class CaseRow:
    """One kerja sama as the list shows it: its counterparties and its naskah (those the user sees)."""

    case: KerjaSama
    mitra: list[str]
    """The instansi of PIHAK KEDUA and further."""
    naskah: list[tuple[str, str]]
    """(jenis, status label) of each naskah the user may see, oldest first."""


def list_rows(session: Session, user: User, profile: Profile, rows: list[KerjaSama]) -> list[CaseRow]:
    """The list's rows for ``rows`` (a page of ``cases.list_cases``), in two queries, not one per case."""
    ids = [c.id for c in rows if c.id is not None]
    if not ids:
        return []
    mitra: dict[int, list[str]] = {i: [] for i in ids}
    for p in session.exec(
        select(Pihak).where(col(Pihak.kerja_sama_id).in_(ids), Pihak.urutan > 1).order_by(col(Pihak.urutan))
    ).all():
        mitra[p.kerja_sama_id].append(p.instansi)
    naskah: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}
    for n in session.exec(
        select(Naskah)
        .where(col(Naskah.kerja_sama_id).in_(ids), access.naskah_clause(session, user, profile))
        .order_by(col(Naskah.id))
    ).all():
        naskah[n.kerja_sama_id].append((n.jenis, STATUS_LABELS[Status(n.status)]))
    return [CaseRow(c, mitra.get(c.id or 0, []), naskah.get(c.id or 0, [])) for c in rows]
