"""The lifecycle table is checked the way python-statemachine checks its classes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.lifecycle import (
    FINAL_STATES,
    INITIAL_STATE,
    TRANSITIONS,
    Action,
    Role,
    Status,
    available,
    markdown_table,
    resolve,
)

GUARDS = {"paraf_remaining", "paraf_complete", "signatures_remain", "plan_complete"}


def reachable(start: Status = INITIAL_STATE) -> set[Status]:
    seen, todo = {start}, [start]
    while todo:
        s = todo.pop()
        for t in TRANSITIONS:
            if t.source == s and t.target not in seen:
                seen.add(t.target)
                todo.append(t.target)
    return seen


def test_every_state_is_reachable_from_the_initial_state():
    assert reachable() == set(Status)


def test_nothing_leaves_a_final_state():
    assert not [t for t in TRANSITIONS if t.source in FINAL_STATES]


def test_every_non_final_state_has_a_way_out():
    for status in set(Status) - FINAL_STATES:
        assert any(t.source == status for t in TRANSITIONS), status


def test_every_state_can_still_reach_a_final_state():
    for status in Status:
        assert reachable(status) & FINAL_STATES, status


def test_guards_are_known_and_rows_with_the_same_step_are_told_apart_by_guards():
    for t in TRANSITIONS:
        assert t.guard is None or t.guard in GUARDS
    pairs: dict[tuple[Status, Action], list] = {}
    for t in TRANSITIONS:
        pairs.setdefault((t.source, t.action), []).append(t)
    for rows in pairs.values():
        if len(rows) > 1:
            assert all(r.guard for r in rows), rows
            assert len({r.guard for r in rows}) == len(rows)


def test_admin_may_not_act_on_naskah():
    assert all(Role.ADMIN not in t.roles for t in TRANSITIONS)


def test_drafting_steps_resolve_as_the_sop_says():
    assert resolve(Status.DRAFT, Action.SUBMIT).target == Status.LEGAL_REVIEW
    assert resolve(Status.LEGAL_REVIEW, Action.RETURN).target == Status.RETURNED
    assert resolve(Status.RETURNED, Action.REVISE).target == Status.DRAFT
    assert resolve(Status.PARAF, Action.REVISE).target == Status.DRAFT  # a new revision voids paraf
    assert resolve(Status.PARAF, Action.PARAF, {"paraf_complete": True}).target == Status.SIGNING
    assert resolve(Status.PARAF, Action.PARAF, {"paraf_remaining": True}).target == Status.PARAF


def test_unknown_step_is_refused():
    with pytest.raises(LookupError):
        resolve(Status.ARCHIVED, Action.REVISE)
    with pytest.raises(LookupError):
        resolve(Status.PARAF, Action.PARAF)  # no guard holds


def test_returned_naskah_cannot_be_submitted_without_a_new_revision():
    assert Action.SUBMIT not in available(Status.RETURNED, [Role.DRAFTER])
    assert available(Status.RETURNED, [Role.DRAFTER]) == [Action.REVISE, Action.CANCEL]


def test_available_depends_on_role():
    assert available(Status.LEGAL_REVIEW, [Role.LEGAL]) == [Action.APPROVE, Action.RETURN]
    assert available(Status.LEGAL_REVIEW, [Role.PARAF]) == []


def test_readme_table_is_generated_from_the_code():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme, "README.md's lifecycle table is stale: paste pipeline.lifecycle.markdown_table()"
