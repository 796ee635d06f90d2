"""Legal review by Bagian Hukum: submit, approve, or return with a note; and cancelling.

A returned naskah needs a new revision (``revisions``) before it can be submitted again:
the lifecycle table has no SUBMIT from ``returned``.

Separation of duties (the SOP profile's ``pemisahan_tugas``, on by default): the person who
submitted a draft, or wrote the revision submitted, does not approve it, even holding both the
drafter and the legal role (403, ``reason: separation_of_duties``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from pipeline import access, actions
from pipeline.drafting.cases import get_naskah, release_nomor
from pipeline.drafting.revisions import latest_revision
from pipeline.errors import NotPermitted
from pipeline.lifecycle import Action
from pipeline.models import Naskah, NaskahEvent, Revision, User
from pipeline.sop import Profile
from storage.db import session_scope

if TYPE_CHECKING:
    from pipeline.services import Services

__all__ = ["approval_conflict", "approve", "cancel", "history", "last_submitter", "return_for_revision", "submit"]


def _step(
    svc: Services,
    user: User,
    naskah_id: int,
    action: Action,
    note: str | None,
    then: Callable[[Session, int], None] | None = None,
    before: Callable[[Session, Naskah, Revision | None], None] | None = None,
) -> Naskah:
    """One review step in one transaction; ``before`` checks what the step needs beyond the table,
    ``then`` does what belongs to the step in the same transaction."""
    with session_scope(svc.engine) as session:
        naskah = get_naskah(session, user, naskah_id, profile=svc.profile)
        latest = latest_revision(session, user, naskah_id, profile=svc.profile)
        if before is not None:
            before(session, naskah, latest)
        actions.perform(
            session,
            naskah,
            user,
            action,
            note=note,
            revision_number=latest.number if latest else None,
            sha256=latest.pdf_sha256 if latest else None,
        )
        if then is not None:
            then(session, naskah_id)
        svc.after_step(session, naskah, user)
        return naskah


def submit(svc: Services, user: User, naskah_id: int, note: str = "") -> Naskah:
    """The drafter sends the latest revision to Bagian Hukum."""
    return _step(svc, user, naskah_id, Action.SUBMIT, note)


def approve(svc: Services, user: User, naskah_id: int, note: str = "") -> Naskah:
    """Bagian Hukum approves the latest revision as the final draft; paraf collection starts.
    Not the person who submitted it or wrote that revision (separation of duties)."""

    def four_eyes(session: Session, naskah: Naskah, latest: Revision | None) -> None:
        actions.check(naskah, user, Action.APPROVE)  # the role and the state first, then the person
        if svc.profile.pemisahan_tugas:
            _not_own_draft(session, user, naskah, latest)

    return _step(svc, user, naskah_id, Action.APPROVE, note, before=four_eyes)


def last_submitter(session: Session, naskah_id: int) -> int | None:
    """Who sent the naskah to Bagian Hukum last (None: never submitted)."""
    submitted = session.exec(
        select(NaskahEvent)
        .where(NaskahEvent.naskah_id == naskah_id, NaskahEvent.action == Action.SUBMIT.value)
        .order_by(col(NaskahEvent.id).desc())
    ).first()
    return submitted.actor_id if submitted is not None else None


def approval_conflict(user_id: int | None, submitted_by: int | None, latest_author: int | None) -> str | None:
    """Separation of duties at approval: ``submitted`` when ``user_id`` sent the draft, ``authored`` when
    they wrote the revision sent, else None.  Pure, so "Tugas saya" offers the approval to exactly the
    reviewers :func:`approve` accepts."""
    if submitted_by is not None and submitted_by == user_id:
        return "submitted"
    if latest_author is not None and latest_author == user_id:
        return "authored"
    return None


def _not_own_draft(session: Session, user: User, naskah: Naskah, latest: Revision | None) -> None:
    conflict = approval_conflict(
        user.id, last_submitter(session, naskah.id or 0), latest.author_id if latest is not None else None
    )
    if conflict is None:
        return
    what = (
        "mengajukan" if conflict == "submitted" else f"menyusun revisi {latest.number if latest else ''} yang diajukan"
    )
    raise NotPermitted(
        f"Pemisahan tugas: Anda {what} naskah ini, sehingga tidak dapat menyetujuinya sendiri. Persetujuan "
        "diberikan pejabat Bagian Hukum yang lain.",
        reason="separation_of_duties",
        naskah_id=naskah.id,
        conflict=conflict,
    )


def return_for_revision(svc: Services, user: User, naskah_id: int, note: str) -> Naskah:
    """Bagian Hukum returns the draft with a note saying what to correct."""
    return _step(svc, user, naskah_id, Action.RETURN, note)


def cancel(svc: Services, user: User, naskah_id: int, note: str) -> Naskah:
    """The drafter cancels the naskah with a note; its nomor are free again in each party's register."""
    return _step(svc, user, naskah_id, Action.CANCEL, note, then=release_nomor)


def history(session: Session, user: User, naskah_id: int, *, profile: Profile) -> list[NaskahEvent]:
    """Every step with its note: internal drafting material (``access.require_internal``)."""
    get_naskah(session, user, naskah_id, profile=profile)
    access.require_internal(user, naskah_id)
    return list(
        session.exec(select(NaskahEvent).where(NaskahEvent.naskah_id == naskah_id).order_by(col(NaskahEvent.id))).all()
    )
