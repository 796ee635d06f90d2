"""Applying one lifecycle step: check the table, then move the naskah under an optimistic lock.

``check`` answers "may this user do this now?" from ``lifecycle.TRANSITIONS`` (the role) and, for the
drafter's own steps on a naskah (revise, submit, cancel, a desk-to-desk import done as drafter),
``pipeline.access`` (the person: only the naskah's drafters);
``advance`` writes the new status only if nobody changed the naskah since it was read
(``lock_version``), so two officials racing for the same step cannot both succeed;
``perform`` does both and records the step (event and audit entry) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import object_session
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from pipeline import access, audit
from pipeline.errors import ActionNotAvailable, Conflict, InvalidInput, NotPermitted
from pipeline.lifecycle import ACTION_LABELS, STATUS_LABELS, Action, Role, Status, Transition, available, resolve
from pipeline.models import Naskah, NaskahEvent, User, utcnow

__all__ = ["DRAFTING_ACTIONS", "advance", "check", "perform", "require_note"]

#: The drafter's own steps on a naskah: only its drafters take them (``access.require_naskah_editor``).
DRAFTING_ACTIONS = frozenset({Action.REVISE, Action.SUBMIT, Action.CANCEL})


def check(naskah: Naskah, user: User, action: Action, guards: Mapping[str, bool] | None = None) -> Transition:
    status = Status(naskah.status)
    try:
        transition = resolve(status, action, guards)
    except LookupError:
        raise ActionNotAvailable(
            f"Naskah berstatus '{STATUS_LABELS[status]}': tidak dapat {ACTION_LABELS[action]}.",
            status=status.value,
            action=action.value,
            available=[a.value for a in available(status, [*user.role_set])],  # type: ignore[list-item]
        ) from None
    if not transition.roles & user.role_set:
        names = ", ".join(sorted(r.value for r in transition.roles))
        raise NotPermitted(
            f"Untuk {ACTION_LABELS[action]} diperlukan peran: {names}.",
            action=action.value,
            needed=sorted(r.value for r in transition.roles),
        )
    as_drafter = action in DRAFTING_ACTIONS or (
        action == Action.IMPORT_SIGNED and Role.SECRETARIAT.value not in user.role_set
    )
    if as_drafter:
        session = object_session(naskah)  # the naskah's own session: every caller holds it open
        assert session is not None, "actions.check needs a naskah attached to its session"
        access.require_naskah_editor(session, user, naskah)  # type: ignore[arg-type]
    return transition


def require_note(transition: Transition, note: str | None) -> None:
    if transition.note_required and not (note and note.strip()):
        raise InvalidInput(f"Catatan wajib diisi untuk {ACTION_LABELS[transition.action]}.", field="note")


def advance(session: Session, naskah: Naskah, transition: Transition, expected_version: int) -> None:
    """Set the new status if ``lock_version`` is still ``expected_version`` (in the caller's transaction)."""
    table = Naskah.__table__  # type: ignore[attr-defined]
    result = session.execute(
        sa.update(table)
        .where(table.c.id == naskah.id, table.c.lock_version == expected_version)
        .values(status=transition.target.value, lock_version=expected_version + 1, updated_at=utcnow())
    )
    if result.rowcount != 1:
        raise Conflict(naskah_id=naskah.id)
    # Reflect the row without marking the object dirty (the UPDATE above already wrote it).
    set_committed_value(naskah, "status", transition.target.value)
    set_committed_value(naskah, "lock_version", expected_version + 1)


def perform(
    session: Session,
    naskah: Naskah,
    user: User,
    action: Action,
    *,
    guards: Mapping[str, bool] | None = None,
    note: str | None = None,
    revision_number: int | None = None,
    expected_version: int | None = None,
    sha256: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> Transition:
    """One lifecycle step in the caller's transaction: check the table, require a note where the
    table says so, move the naskah under its optimistic lock, and record the event and the audit
    entry (``sha256``: the file the step produced or acted on; ``detail``: extra facts for the entry)."""
    transition = check(naskah, user, action, guards)
    require_note(transition, note)
    source = naskah.status
    advance(session, naskah, transition, naskah.lock_version if expected_version is None else expected_version)
    assert naskah.id is not None and user.id is not None
    session.add(
        NaskahEvent(
            naskah_id=naskah.id,
            action=action.value,
            from_status=source,
            to_status=transition.target.value,
            actor_id=user.id,
            note=(note or "").strip(),
            revision_number=revision_number,
        )
    )
    audit.record(
        session,
        user,
        action.value,
        naskah_id=naskah.id,
        sha256=sha256,
        **{
            "from_status": source,
            "to_status": transition.target.value,
            "revision_number": revision_number,
            "note": (note or "").strip() or None,
            **(detail or {}),
        },
    )
    return transition
