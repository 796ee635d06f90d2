"""The monev round's lifecycle table (``pipeline.monev_lifecycle``): every state reachable from the
start, every state not final can end, final states have no way out, notes where they are required."""

from __future__ import annotations

from pipeline.monev_lifecycle import (
    CREATE_ROLES,
    FINAL_STATES,
    INITIAL_STATE,
    TRANSITIONS,
    MonevAction,
    MonevRole,
    MonevStatus,
    available,
    markdown_table,
    resolve,
)


def _reachable(start: MonevStatus) -> set[MonevStatus]:
    seen = {start}
    todo = [start]
    while todo:
        state = todo.pop()
        for t in TRANSITIONS:
            if t.source == state and t.target not in seen:
                seen.add(t.target)
                todo.append(t.target)
    return seen


def test_every_state_is_reachable_from_the_kabags_assignment():
    assert _reachable(INITIAL_STATE) == set(MonevStatus)
    assert {MonevRole.KABAG} == CREATE_ROLES


def test_final_states_have_no_way_out_and_every_other_state_reaches_selesai():
    assert {MonevStatus.SELESAI, MonevStatus.DIBATALKAN} == FINAL_STATES
    assert not [t for t in TRANSITIONS if t.source in FINAL_STATES]
    for state in set(MonevStatus) - FINAL_STATES:
        assert MonevStatus.SELESAI in _reachable(state), state
        assert resolve(state, MonevAction.BATALKAN).roles == {MonevRole.KABAG}


def test_only_the_opd_reports_only_the_kabag_evaluates_and_directs():
    assert available(MonevStatus.MONITORING, {MonevRole.OPD}) == [MonevAction.LAPOR]
    assert available(MonevStatus.MONITORING, {MonevRole.TIM}) == []
    assert available(MonevStatus.PEMBAHASAN, {MonevRole.TIM, MonevRole.OPD}) == []
    assert available(MonevStatus.ARAHAN, {MonevRole.KABAG}) == [MonevAction.ARAHKAN, MonevAction.BATALKAN]


def test_returning_a_report_and_cancelling_need_a_note_closing_needs_every_item_done():
    assert all(t.note_required for t in TRANSITIONS if t.action in (MonevAction.KEMBALIKAN, MonevAction.BATALKAN))
    closing = resolve(MonevStatus.TINDAK_LANJUT, MonevAction.TUTUP, {"tindak_lanjut_selesai": True})
    assert closing.target is MonevStatus.SELESAI
    try:
        resolve(MonevStatus.TINDAK_LANJUT, MonevAction.TUTUP, {"tindak_lanjut_selesai": False})
    except LookupError:
        pass
    else:
        raise AssertionError("closing with open items must not resolve")


def test_markdown_table_has_a_row_per_transition_and_the_creation():
    assert len(markdown_table().splitlines()) == len(TRANSITIONS) + 3


def test_readme_carries_the_monev_table():
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme, (
        "README.md's monev table is stale: paste pipeline.monev_lifecycle.markdown_table()"
    )
