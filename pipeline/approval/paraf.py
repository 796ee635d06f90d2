"""Paraf: officials initial the approved draft, in the SOP profile's order, on every page.

One person gives one paraf in a naskah's chain, even holding two of its positions (separation of
duties, the profile's ``pemisahan_tugas``; a profile may relax it).

Each paraf is bound to the sha256 of the revision PDF it was given on; a new revision
voids them all (``revisions.void_paraf``).  Every paraf produces a new stamped PDF from
the clean revision PDF with all marks so far (deterministic, so the chain can always be
re-derived); the last one also creates the empty signature fields and becomes the FINAL
document that every party signs.  Nothing is ever stamped onto a signed PDF.

Order of writes: the stamped PDF is stored first, then the paraf row, the file row and
the lifecycle step commit together under the naskah's optimistic lock, so two officials
racing for the same turn cannot both succeed (the loser's object is an unreferenced
version, harmless).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from pipeline import actions
from pipeline.approval.stamp import ParafMark, SignatureSlot, inisial_dari, prepare_signature_fields, stamp_paraf
from pipeline.drafting.cases import get_naskah, pihak_of
from pipeline.drafting.revisions import ORDINAL, PDF_TYPE, derived_file, latest_revision, read_revision_file, void_paraf
from pipeline.errors import ActionNotAvailable, InvalidInput, NotPermitted
from pipeline.lifecycle import Action, Status
from pipeline.models import Naskah, NaskahFile, Paraf, Revision, User, utcnow
from pipeline.sop import Position, Profile
from storage.db import session_scope

if TYPE_CHECKING:
    from pipeline.services import Services

__all__ = [
    "ParafStep",
    "ParafTurn",
    "SigningParty",
    "active_paraf",
    "chain",
    "current_pdf",
    "field_name",
    "final_file",
    "give_paraf",
    "preview_paraf",
    "refuse_paraf",
    "signature_slots",
    "signing_parties",
    "turn_of",
]


@dataclass(frozen=True)
class ParafStep:
    """One place in the paraf chain and, once given, who gave it."""

    urutan: int
    """1-based position in the chain."""
    posisi: str
    """SOP profile position key, e.g. ``kabag_pemerintahan``."""
    jabatan: str
    singkatan: str
    given: Paraf | None
    """The active paraf row, or None while it is still awaited."""


def active_paraf(session: Session, naskah_id: int) -> list[Paraf]:
    return list(
        session.exec(
            select(Paraf)
            .where(Paraf.naskah_id == naskah_id, col(Paraf.voided_at).is_(None))
            .order_by(col(Paraf.urutan))
        ).all()
    )


def chain(svc: Services, session: Session, naskah: Naskah) -> list[ParafStep]:
    given = {p.urutan: p for p in active_paraf(session, naskah.id or 0)}
    return [
        ParafStep(i, pos.key, pos.jabatan, pos.singkatan, given.get(i))
        for i, pos in enumerate(svc.profile.paraf_chain(naskah.jenis), start=1)
    ]


def field_name(pihak_urutan: int) -> str:
    """The signature field of a party's block (created up front with the final PDF)."""
    return f"ttd_pihak_{pihak_urutan}"


@dataclass(frozen=True)
class SigningParty:
    """Who signs for a party, as the naskah prints it in its signature block."""

    urutan: int
    nama: str
    jabatan: str
    nip: str = ""


def signing_parties(session: Session, naskah: Naskah, revision: Revision) -> dict[int, SigningParty]:
    """The signers printed in ``revision``'s signature blocks, by party.

    A Surat Kuasa is signed by the pemberi kuasa (1, the Kepala Daerah) and the penerima kuasa
    (2, the Kepala OPD); any other naskah by the case's parties, with the name and jabatan the
    naskah prints (a PKS's PIHAK KESATU may be a Kepala OPD acting under a Surat Kuasa).
    """
    data: dict[str, Any] = revision.data or {}
    if naskah.jenis == "SK":
        keys = {1: "pihak_kesatu", 2: "penerima_kuasa"}
        parties = {}
        for urutan, key in keys.items():
            value = data.get(key)
            if not (isinstance(value, dict) and value.get("nama")):
                raise InvalidInput(f"Surat Kuasa belum memuat '{key}.nama' untuk kolom tanda tangan.", field=key)
            parties[urutan] = SigningParty(urutan, value["nama"], value.get("jabatan", ""), value.get("nip") or "")
        return parties
    out = {}
    for p in pihak_of(session, naskah.kerja_sama_id):
        printed = data.get(ORDINAL.get(p.urutan, ""))
        if isinstance(printed, dict) and printed.get("nama"):
            out[p.urutan] = SigningParty(
                p.urutan, printed["nama"], printed.get("jabatan") or p.penandatangan_jabatan, printed.get("nip") or ""
            )
        else:
            out[p.urutan] = SigningParty(
                p.urutan, p.penandatangan_nama, p.penandatangan_jabatan, p.penandatangan_nip or ""
            )
    return out


def signature_slots(session: Session, naskah: Naskah, revision: Revision) -> list[SignatureSlot]:
    """Where each party signs: found by the printed name of its signer in the signature block."""
    return [
        SignatureSlot(field_name=field_name(p.urutan), pihak_urutan=p.urutan, nama=p.nama)
        for p in signing_parties(session, naskah, revision).values()
    ]


def _mark(row: Paraf) -> ParafMark:
    return ParafMark(
        urutan=row.urutan,
        nama=row.nama,
        jabatan=row.jabatan,
        singkatan=row.singkatan,
        inisial=row.inisial,
        waktu=row.waktu,
    )


@dataclass(frozen=True)
class ParafTurn:
    """Whose paraf is next on a naskah, and whether ``user`` may give it now: the one answer for the
    "Beri paraf" button, "Tugas saya" and :func:`give_paraf` itself (which refuses exactly when
    ``boleh`` is false, with ``alasan`` as its ``detail.reason``)."""

    urutan: int
    """1-based place of the next paraf in the chain."""
    position: Position
    """The position whose paraf is next."""
    boleh: bool
    """``user`` may give it now: they hold that position and (separation of duties) have given no
    other paraf on this naskah."""
    alasan: str | None = None
    """Why not: ``already_given``, ``separation_of_duties`` or ``not_your_turn`` (None when ``boleh``)."""
    pesan: str = ""
    """Why not, in Indonesian words a person can act on."""
    given_as: str | None = None
    """The position of the paraf ``user`` already gave on this naskah, if any."""


def turn_of(profile: Profile, jenis: str, given: list[Paraf], user: User) -> ParafTurn | None:
    """The next paraf of a chain whose active paraf are ``given`` (None: the chain is complete), and
    whether ``user`` may give it now.  Pure: the lifecycle state and the role are checked apart
    (``actions.check``); a naskah not in ``paraf`` has no turn at all."""
    positions = profile.paraf_chain(jenis)
    turn = len(given)
    if turn >= len(positions):
        return None
    expected = positions[turn]
    mine = next((p for p in given if p.user_id == user.id), None)
    given_as = mine.posisi if mine is not None else None
    if mine is not None and expected.key not in user.posisi_set:
        return ParafTurn(
            turn + 1, expected, False, "already_given", "Anda sudah memberi paraf pada revisi ini.", given_as
        )
    if mine is not None and profile.pemisahan_tugas:
        # one person holding two positions of the chain gives one paraf, not two (separation of duties)
        return ParafTurn(
            turn + 1,
            expected,
            False,
            "separation_of_duties",
            f"Pemisahan tugas: Anda sudah memberi paraf sebagai {mine.jabatan} pada naskah ini; paraf "
            f"{expected.jabatan} diberikan oleh pejabat lain.",
            given_as,
        )
    if expected.key not in user.posisi_set:
        held = [i for i, p in enumerate(positions) if p.key in user.posisi_set]
        if held and held[0] > turn:
            message = f"Belum giliran Anda. Paraf berikutnya adalah {expected.jabatan}."
        elif held:
            message = "Paraf Anda pada rantai ini sudah tercatat."
        else:
            message = f"Anda tidak termasuk rantai paraf naskah ini. Paraf berikutnya adalah {expected.jabatan}."
        return ParafTurn(turn + 1, expected, False, "not_your_turn", message, given_as)
    return ParafTurn(turn + 1, expected, True, given_as=given_as)


def _whose_turn(svc: Services, naskah: Naskah, given: list[Paraf], user: User) -> tuple[int, Position]:
    turn = turn_of(svc.profile, naskah.jenis, given, user)
    assert turn is not None  # the lifecycle's guards keep a complete chain out of ``paraf``
    if turn.alasan == "already_given":
        raise ActionNotAvailable(turn.pesan, naskah_id=naskah.id, reason="already_given")
    if turn.alasan == "separation_of_duties":
        raise NotPermitted(
            turn.pesan,
            naskah_id=naskah.id,
            reason="separation_of_duties",
            given_as=turn.given_as,
            expected=turn.position.key,
        )
    if not turn.boleh:
        raise NotPermitted(turn.pesan, expected=turn.position.key, reason="not_your_turn")
    return turn.urutan, turn.position


def _guards(given: list[Paraf], positions: list[Position]) -> dict[str, bool]:
    complete = len(given) + 1 >= len(positions)
    return {"paraf_complete": complete, "paraf_remaining": not complete}


@dataclass(frozen=True)
class _Pending:
    """A paraf about to be given, checked under the naskah's lock: what stamping it needs."""

    expected_version: int
    guards: dict[str, bool]
    complete: bool
    urutan: int
    position: Position
    revision: Revision
    slots: list[SignatureSlot]
    marks: list[ParafMark]
    template: str


def _pending(svc: Services, user: User, naskah_id: int) -> _Pending:
    with session_scope(svc.engine) as session:
        naskah = get_naskah(session, user, naskah_id, profile=svc.profile)
        given = active_paraf(session, naskah_id)
        guards = _guards(given, svc.profile.paraf_chain(naskah.jenis))
        actions.check(naskah, user, Action.PARAF, guards)
        urutan, position = _whose_turn(svc, naskah, given, user)
        revision = latest_revision(session, user, naskah_id, profile=svc.profile)
        assert revision is not None
        complete = guards["paraf_complete"]
        return _Pending(
            expected_version=naskah.lock_version,
            guards=guards,
            complete=complete,
            urutan=urutan,
            position=position,
            revision=revision,
            slots=signature_slots(session, naskah, revision) if complete else [],
            marks=[_mark(p) for p in given],
            template=naskah.template,
        )


def _new_paraf(user: User, naskah_id: int, pending: _Pending) -> Paraf:
    assert user.id is not None
    return Paraf(
        naskah_id=naskah_id,
        revision_number=pending.revision.number,
        revision_sha256=pending.revision.pdf_sha256,
        urutan=pending.urutan,
        posisi=pending.position.key,
        user_id=user.id,
        nama=user.nama,
        jabatan=pending.position.jabatan,
        singkatan=pending.position.singkatan,
        inisial=inisial_dari(user.nama),
        waktu=utcnow(),
    )


def _stamped(svc: Services, pending: _Pending, new: Paraf) -> bytes:
    box = svc.profile.paraf_box or svc.templates.get(pending.template).paraf
    pdf = read_revision_file(svc, pending.revision, "pdf")
    return stamp_paraf(pdf, [*pending.marks, _mark(new)], box, tz=svc.profile.tz)


def preview_paraf(svc: Services, user: User, naskah_id: int) -> bytes:
    """The latest revision stamped as it will be when ``user`` gives the next paraf now, with every
    mark so far and theirs (stored nowhere): what the official sees before confirming.  Refused with
    :func:`give_paraf`'s reason when it is not their turn."""
    pending = _pending(svc, user, naskah_id)
    return _stamped(svc, pending, _new_paraf(user, naskah_id, pending))


def current_pdf(svc: Services, user: User, naskah_id: int) -> tuple[bytes, str]:
    """The naskah's PDF as the paraf chain stands (the last stamped file, else the latest revision's
    PDF) and its sha256: what anyone who may see the naskah can read while the paraf is collected."""
    with session_scope(svc.engine) as session:
        get_naskah(session, user, naskah_id, profile=svc.profile)
        given = active_paraf(session, naskah_id)
        file = session.get(NaskahFile, given[-1].file_id) if given and given[-1].file_id else None
        revision = None if file is not None else latest_revision(session, user, naskah_id, profile=svc.profile)
    if file is not None:
        return svc.get(file.key, file.version_id, file.sha256), file.sha256
    if revision is None or not revision.pdf_sha256:
        raise ActionNotAvailable("Naskah ini belum memiliki PDF.", naskah_id=naskah_id, reason="no_pdf")
    return read_revision_file(svc, revision, "pdf"), revision.pdf_sha256


def give_paraf(svc: Services, user: User, naskah_id: int) -> Paraf:
    """The official whose turn it is initials every page of the latest revision."""
    pending = _pending(svc, user, naskah_id)
    expected_version, guards, complete = pending.expected_version, pending.guards, pending.complete
    urutan, position, revision, slots = pending.urutan, pending.position, pending.revision, pending.slots
    new = _new_paraf(user, naskah_id, pending)
    stamped = _stamped(svc, pending, new)
    kind = "final" if complete else "paraf"
    if complete:
        stamped = prepare_signature_fields(stamped, slots)
    key = (
        f"naskah/{naskah_id}/r{revision.number:03d}-paraf{urutan}.pdf"
        if not complete
        else (f"naskah/{naskah_id}/r{revision.number:03d}-final.pdf")
    )
    stored = svc.put(key, stamped, PDF_TYPE)
    with session_scope(svc.engine) as session:
        naskah = get_naskah(session, user, naskah_id, profile=svc.profile)
        if naskah.status != Status.PARAF.value or naskah.lock_version != expected_version:
            raise ActionNotAvailable(
                "Naskah berubah saat paraf diproses (paraf lain atau revisi baru). Muat ulang lalu coba lagi.",
                naskah_id=naskah_id,
                reason="changed",
            )
        file = derived_file(naskah_id, kind, revision.number, urutan, stored, user.id)
        session.add(file)
        session.flush()
        new.file_id = file.id
        session.add(new)
        actions.perform(
            session,
            naskah,
            user,
            Action.PARAF,
            guards=guards,
            revision_number=revision.number,
            expected_version=expected_version,
            sha256=stored.sha256,
            detail={"urutan": urutan, "posisi": position.key, "kind": kind},
        )
        svc.after_step(session, naskah, user)
    return new


def refuse_paraf(svc: Services, user: User, naskah_id: int, note: str) -> Naskah:
    """The official whose paraf is next refuses, with a note; the naskah returns to drafting.  Only at
    their turn, as the paraf itself: an official later in the chain has not been asked yet, one who
    gave theirs already passed the draft on (the same answer as :func:`turn_of` gives the button)."""
    with session_scope(svc.engine) as session:
        naskah = get_naskah(session, user, naskah_id, profile=svc.profile)
        positions = {p.key for p in svc.profile.paraf_chain(naskah.jenis)}
        if not positions & user.posisi_set:
            raise NotPermitted("Anda tidak termasuk rantai paraf naskah ini.", reason="not_in_chain")
        if naskah.status == Status.PARAF.value:
            turn = turn_of(svc.profile, naskah.jenis, active_paraf(session, naskah_id), user)
            if turn is not None and not turn.boleh:
                raise NotPermitted(
                    turn.pesan.replace("Belum giliran Anda.", "Belum giliran Anda menolak paraf."),
                    naskah_id=naskah_id,
                    reason=turn.alasan,
                )
        latest = latest_revision(session, user, naskah_id, profile=svc.profile)
        actions.perform(
            session,
            naskah,
            user,
            Action.REFUSE_PARAF,
            note=note,
            revision_number=latest.number if latest else None,
            sha256=latest.pdf_sha256 if latest else None,
        )
        void_paraf(session, naskah_id)  # the chain starts again after the draft is reworked
        svc.after_step(session, naskah, user)
        return naskah


def final_file(session: Session, naskah_id: int) -> NaskahFile | None:
    """The fully initialled PDF of the current paraf chain (None until the chain is complete)."""
    active = active_paraf(session, naskah_id)
    if not active:
        return None
    last = active[-1]
    file = session.get(NaskahFile, last.file_id) if last.file_id else None
    return file if file is not None and file.kind == "final" else None
