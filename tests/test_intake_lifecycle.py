"""The intake's lifecycle table is checked as the naskah's is (tests/test_lifecycle.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.lifecycle import Role
from pipeline.sop import load_profile
from pipeline.usulan_lifecycle import (
    FINAL_STATES,
    GUARDS,
    INITIAL_STATE,
    LETTER_STATES,
    TRANSITIONS,
    Action,
    Letter,
    Status,
    available,
    markdown_table,
    resolve,
)


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


def test_every_state_can_still_reach_a_final_state():
    for status in Status:
        assert reachable(status) & FINAL_STATES, status


def test_guards_are_known_and_rows_with_the_same_step_are_told_apart_by_guards():
    pairs: dict[tuple[Status, Action], list] = {}
    for t in TRANSITIONS:
        assert t.guard is None or t.guard in GUARDS
        pairs.setdefault((t.source, t.action), []).append(t)
    for rows in pairs.values():
        if len(rows) > 1:
            assert all(r.guard for r in rows) and len({r.guard for r in rows}) == len(rows), rows


def test_each_step_has_its_roles_and_the_admin_none():
    roles = {(t.source, t.action): t.roles for t in TRANSITIONS}
    assert all(Role.ADMIN not in r for r in roles.values())
    assert roles[(Status.KEPUTUSAN, Action.SETUJUI)] == {Role.SIGNER}  # only the Kepala Daerah decides
    assert roles[(Status.KEPUTUSAN, Action.TOLAK)] == {Role.SIGNER}
    assert roles[(Status.TELAAH, Action.TELAAH)] == {Role.DRAFTER}
    assert roles[(Status.RAPAT, Action.REKOMENDASI)] == {Role.DRAFTER}
    assert Role.LEGAL not in roles[(Status.DISPOSISI, Action.DISPOSISI)]
    assert available(Status.KEPUTUSAN, [Role.DRAFTER, Role.SECRETARIAT]) == []
    assert available(Status.KEPUTUSAN, [Role.SIGNER]) == [Action.SETUJUI, Action.TOLAK]


def test_refusal_and_withdrawal_need_a_note_and_nothing_is_withdrawn_once_with_the_kepala_daerah():
    assert all(t.note_required for t in TRANSITIONS if t.action in (Action.TOLAK, Action.BATALKAN))
    assert Action.BATALKAN not in available(Status.KEPUTUSAN, list(Role))


def test_the_steps_resolve_as_the_sop_says():
    assert resolve(Status.DITERIMA, Action.DISPOSISI, {"chain_remaining": True}).target == Status.DISPOSISI
    assert resolve(Status.DISPOSISI, Action.DISPOSISI, {"chain_complete": True}).target == Status.TELAAH
    assert resolve(Status.TELAAH, Action.JADWALKAN_RAPAT, {"lengkap": True}).target == Status.RAPAT
    assert resolve(Status.RAPAT, Action.REKOMENDASI, {"notulen": True}).target == Status.KEPUTUSAN
    assert resolve(Status.KEPUTUSAN, Action.SETUJUI, {"lengkap": True}).target == Status.DISETUJUI
    with pytest.raises(LookupError):
        resolve(Status.TELAAH, Action.JADWALKAN_RAPAT)  # incomplete: no guard holds
    with pytest.raises(LookupError):
        resolve(Status.DISETUJUI, Action.TOLAK)


def test_letters_are_drafted_only_where_they_belong():
    assert LETTER_STATES[Letter.JAWABAN] == {Status.DITOLAK}
    assert LETTER_STATES[Letter.UNDANGAN] == {Status.RAPAT}
    assert set(LETTER_STATES) == set(Letter)


def test_every_profile_names_an_intake_chain_with_standard_times():
    for name in ("paser", "tangerang", "magetan"):
        profile = load_profile(name)
        assert profile.intake is not None, name
        assert profile.positions[profile.intake.pemutus].kepala_daerah
        assert profile.intake.mutu_baku, name
    magetan = load_profile("magetan").intake
    assert magetan is not None and magetan.mutu_baku["rapat"].hari_kerja == 7


def test_a_broken_intake_section_is_refused_with_every_problem_named(tmp_path: Path):
    text = (Path(__file__).parents[1] / "pipeline/profiles/paser.yaml").read_text(encoding="utf-8")
    text = text.replace("disposisi: [bupati, sekda, kabag_pemerintahan, analis_ks]", "disposisi: [bupati, camat]")
    text = text.replace("  pemutus: bupati", "  pemutus: sekda")
    path = tmp_path / "rusak.yaml"
    path.write_text(text, encoding="utf-8")
    from pipeline.errors import InvalidInput

    with pytest.raises(InvalidInput) as exc:
        load_profile(str(path))
    problems = " | ".join(exc.value.detail["problems"])
    assert "posisi 'camat' tidak ada" in problems
    assert "intake.pemutus: 'sekda' bukan Kepala Daerah" in problems
    assert "intake.mutu_baku.disposisi.sekda" in problems


def test_readme_table_is_generated_from_the_code():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme, (
        "README.md's intake table is stale: paste pipeline.usulan_lifecycle.markdown_table()"
    )
