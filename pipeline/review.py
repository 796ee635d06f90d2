"""Legal review by Bagian Hukum: submit, approve, or return with a note; and cancelling.

A returned naskah needs a new revision (``revisions``) before it can be submitted again:
the lifecycle table has no SUBMIT from ``returned``.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session, col, select

from pipeline import actions
from pipeline.cases import get_naskah, release_nomor
from pipeline.lifecycle import Action
from pipeline.models import Naskah, NaskahEvent, User
from pipeline.revisions import latest_revision
from pipeline.services import Services
from storage.db import session_scope

__all__ = ["approve", "cancel", "history", "return_for_revision", "submit"]


def _step(
    svc: Services,
    user: User,
    naskah_id: int,
    action: Action,
    note: str | None,
    then: Callable[[Session, int], None] | None = None,
) -> Naskah:
    """One review step in one transaction; ``then`` does what belongs to the step in the same one."""
    with session_scope(svc.engine) as session:
        naskah = get_naskah(session, user, naskah_id)
        latest = latest_revision(session, user, naskah_id)
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
        return naskah


def submit(svc: Services, user: User, naskah_id: int, note: str = "") -> Naskah:
    """The drafter sends the latest revision to Bagian Hukum."""
    return _step(svc, user, naskah_id, Action.SUBMIT, note)


def approve(svc: Services, user: User, naskah_id: int, note: str = "") -> Naskah:
    """Bagian Hukum approves the latest revision as the final draft; paraf collection starts."""
    return _step(svc, user, naskah_id, Action.APPROVE, note)


def return_for_revision(svc: Services, user: User, naskah_id: int, note: str) -> Naskah:
    """Bagian Hukum returns the draft with a note saying what to correct."""
    return _step(svc, user, naskah_id, Action.RETURN, note)


def cancel(svc: Services, user: User, naskah_id: int, note: str) -> Naskah:
    """The drafter cancels the naskah with a note; its nomor are free again in each party's register."""
    return _step(svc, user, naskah_id, Action.CANCEL, note, then=release_nomor)


def history(session: Session, user: User, naskah_id: int) -> list[NaskahEvent]:
    get_naskah(session, user, naskah_id)
    return list(
        session.exec(select(NaskahEvent).where(NaskahEvent.naskah_id == naskah_id).order_by(col(NaskahEvent.id))).all()
    )
