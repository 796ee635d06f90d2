"""SOP profiles: the shipped regions, Indonesian durations, and a broken profile named field by field."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.errors import InvalidInput, NotFound
from pipeline.lifecycle import Role
from pipeline.models import JENIS_NASKAH
from pipeline.sop import PROFILE_DIR, ParafBox, available_profiles, load_profile, parse_duration


def paser_raw() -> dict[str, Any]:
    return yaml.safe_load((PROFILE_DIR / "paser.yaml").read_text(encoding="utf-8"))


def write(tmp_path: Path, raw: dict[str, Any], name: str = "daerah.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def problems_of(tmp_path: Path, raw: dict[str, Any]) -> tuple[str, list[str]]:
    path = write(tmp_path, raw)
    with pytest.raises(InvalidInput) as caught:
        load_profile(str(path))
    assert str(path) in caught.value.message  # the file is named
    return caught.value.message, caught.value.detail.get("problems", [])


# --- the shipped profiles -----------------------------------------------------------


def test_the_three_seed_regions_are_shipped_and_valid():
    assert {"paser", "magetan", "tangerang"} <= set(available_profiles())
    for name in available_profiles():
        profile = load_profile(name)
        assert profile.name == name
        for jenis in JENIS_NASKAH:
            assert 1 <= len(profile.paraf_chain(jenis)) <= 3
            assert profile.signer(jenis).role is Role.SIGNER
        assert profile.reviewer.role is Role.LEGAL


def test_paser_paraf_goes_kabag_pemerintahan_asisten_umum_sekda_then_the_bupati_signs():
    profile = load_profile("paser")
    chain = profile.paraf_chain("KB")
    assert [p.key for p in chain] == ["kabag_pemerintahan", "asisten_umum", "sekda"]
    assert [p.jabatan for p in chain] == ["Kepala Bagian Pemerintahan", "Asisten Umum", "Sekretaris Daerah"]
    assert all(p.role is Role.PARAF for p in chain)
    bupati = profile.signer("kb")  # jenis is case-insensitive
    assert bupati.jabatan == "Bupati Paser" and bupati.kepala_daerah
    assert profile.reviewer.jabatan == "Kepala Bagian Hukum"
    assert profile.zona_waktu == "WITA" and profile.tz.utcoffset(None) == timedelta(hours=8)


def test_paser_standard_times_are_those_of_seed_004():
    profile = load_profile("paser")
    assert profile.standard_time("legal_review") == timedelta(minutes=30)  # step 16
    for key in ("kabag_pemerintahan", "asisten_umum", "sekda"):  # steps 19, 21, 22
        assert profile.standard_time(f"paraf.{key}") == timedelta(minutes=30)
    assert profile.standard_time("signing") == timedelta(minutes=30)  # step 35
    assert profile.mutu_baku["legal_review"].text == "30 menit"
    assert profile.standard_time("tidak_ada") is None


def test_magetan_legal_drafting_takes_three_days_and_signing_one():
    profile = load_profile("magetan")
    assert profile.standard_time("legal_review") == timedelta(days=3)
    assert profile.standard_time("signing") == timedelta(days=1)
    assert profile.standard_time("paraf") is None  # the seed gives none
    assert profile.signer("NK").jabatan == "Bupati Magetan"
    assert "tkksd" in profile.positions
    assert [p.key for p in profile.paraf_chain("PKS")] == ["kabag_tapem", "asisten_pemerintahan", "sekda"]


def test_tangerang_officials_are_those_of_seed_000():
    profile = load_profile("tangerang")
    assert profile.signer("KB").jabatan == "Wali Kota Tangerang"
    jabatan = {p.jabatan for p in profile.positions.values()}
    assert {"Sekretaris Daerah", "Kepala Bagian Tata Pemerintahan"} <= jabatan
    assert any(j.startswith("Ketua Tim Kerja Otonomi Daerah") for j in jabatan)
    assert profile.standard_time("paraf.sekda") == timedelta(minutes=60)


def test_unknown_jenis_naskah_in_a_lookup_is_invalid_input():
    with pytest.raises(InvalidInput, match="Jenis naskah 'MOU' tidak dikenal"):
        load_profile("paser").paraf_chain("MOU")


# --- durations ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "hari_kerja"),
    [
        ("30 menit", timedelta(minutes=30), 0),
        ("30 Menit", timedelta(minutes=30), 0),
        ("1 jam", timedelta(hours=1), 0),
        ("3 hari", timedelta(days=3), 0),
        ("2 hari kerja", timedelta(days=2), 2),
        ("6 Hari Kerja", timedelta(days=6), 6),
        ("4 Hari 420 menit", timedelta(days=4, minutes=420), 0),
        ("1 jam dan 30 menit", timedelta(minutes=90), 0),
        ("1 minggu", timedelta(days=7), 0),
    ],
)
def test_durations_are_read_in_indonesian_units(text: str, expected: timedelta, hari_kerja: int):
    duration = parse_duration(text)
    assert duration.value == expected and duration.hari_kerja == hari_kerja
    assert duration.text == " ".join(text.split())


@pytest.mark.parametrize("text", ["30-60 menit", "30", "menit", "30 menitan", "tiga hari", "0 menit", ""])
def test_unreadable_or_ranged_durations_are_refused(text: str):
    with pytest.raises(InvalidInput):
        parse_duration(text)


# Deadlines on the working-day clock (weekends, holidays, cuti bersama, time zones): tests/test_workdays.py.


# --- loading ------------------------------------------------------------------------


def test_unknown_profile_name_is_not_found_and_lists_the_shipped_ones():
    with pytest.raises(NotFound) as caught:
        load_profile("atlantis")
    assert "paser" in caught.value.message and caught.value.detail["available"] == available_profiles()
    with pytest.raises(NotFound):
        load_profile("../paser")
    with pytest.raises(NotFound, match="tidak ditemukan"):
        load_profile("/nonexistent/daerah.yaml")


def test_a_profile_can_be_loaded_from_a_path(tmp_path: Path):
    raw = paser_raw()
    raw["name"] = "paser-uji"
    raw["paraf_box"] = {"corner": "bottom-left", "x": 30, "y": 20, "width": 150, "height": 40}
    profile = load_profile(str(write(tmp_path, raw)))
    assert profile.name == "paser-uji"
    assert profile.paraf_box == ParafBox("bottom-left", 30, 20, 150, 40)


def test_broken_yaml_names_the_file_and_the_line(tmp_path: Path):
    path = tmp_path / "rusak.yaml"
    path.write_text("name: rusak\npositions: {a: [\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"rusak\.yaml: YAML tidak dapat dibaca baris \d+"):
        load_profile(str(path))


def test_paraf_chain_of_more_than_three_officials_is_refused(tmp_path: Path):
    raw = paser_raw()
    raw["positions"]["kabag_umum"] = {"jabatan": "Kepala Bagian Umum", "singkatan": "Kabag Umum", "role": "paraf"}
    raw["paraf"]["KB"] = ["kabag_umum", "kabag_pemerintahan", "asisten_umum", "sekda"]
    message, problems = problems_of(tmp_path, raw)
    assert any(p.startswith("paraf.KB: 4 pejabat") for p in problems), problems
    assert "Tata Naskah Dinas" in message


def test_empty_or_repeated_paraf_chain_is_refused(tmp_path: Path):
    raw = paser_raw()
    raw["paraf"]["NK"] = []
    raw["paraf"]["PKS"] = ["sekda", "sekda"]
    _, problems = problems_of(tmp_path, raw)
    assert any(p.startswith("paraf.NK: 0 pejabat") for p in problems)
    assert any(p.startswith("paraf.PKS:") and "dua kali" in p for p in problems)


def test_every_referenced_position_must_exist(tmp_path: Path):
    raw = paser_raw()
    raw["review"] = "inspektur"
    raw["paraf"]["SK"] = ["kabag_pemerintahan", "asisten_pemerintahan"]
    raw["signers"]["PKS"] = "kepala_dinas"
    _, problems = problems_of(tmp_path, raw)
    assert "review: posisi 'inspektur' tidak ada di positions" in problems
    assert "paraf.SK: posisi 'asisten_pemerintahan' tidak ada di positions" in problems
    assert "signers.PKS: posisi 'kepala_dinas' tidak ada di positions" in problems


def test_each_step_needs_an_official_of_the_right_role(tmp_path: Path):
    raw = paser_raw()
    raw["review"] = "sekda"  # a paraf official cannot be the legal reviewer
    raw["paraf"]["KB"] = ["kabag_hukum", "sekda"]  # the legal reviewer does not give hierarchical paraf
    raw["signers"]["NK"] = "asisten_umum"
    _, problems = problems_of(tmp_path, raw)
    assert "review: posisi 'sekda' berperan 'paraf', seharusnya 'legal'" in problems
    assert "paraf.KB: posisi 'kabag_hukum' berperan 'legal', seharusnya 'paraf'" in problems
    assert "signers.NK: posisi 'asisten_umum' berperan 'paraf', seharusnya 'signer'" in problems


def test_kb_nk_and_surat_kuasa_are_signed_by_the_kepala_daerah_only_pks_may_be_delegated(tmp_path: Path):
    raw = paser_raw()
    raw["positions"]["kepala_dlh"] = {
        "jabatan": "Kepala Dinas Lingkungan Hidup",
        "singkatan": "Kadis",
        "role": "signer",
    }
    raw["signers"] = {"KB": "kepala_dlh", "NK": "bupati", "PKS": "kepala_dlh", "SK": "bupati"}
    _, problems = problems_of(tmp_path, raw)
    assert problems == ["signers.KB: KB ditandatangani Kepala Daerah (kepala_daerah: true)"]
    raw["signers"]["KB"] = "bupati"
    assert load_profile(str(write(tmp_path, raw))).signer("PKS").key == "kepala_dlh"


def test_unknown_and_missing_jenis_naskah_keys_are_refused(tmp_path: Path):
    raw = paser_raw()
    raw["paraf"]["MOU"] = ["sekda"]
    del raw["signers"]["SK"]
    _, problems = problems_of(tmp_path, raw)
    assert any(p.startswith("paraf.MOU: jenis naskah tidak dikenal") for p in problems)
    assert "signers.SK: belum ditentukan" in problems


def test_typos_wrong_types_and_bad_durations_are_named_field_by_field(tmp_path: Path):
    raw = paser_raw()
    raw["paraff"] = raw["paraf"]
    raw["positions"]["sekda"]["role"] = "penandatangan"
    raw["positions"]["bupati"]["kepala_daerah"] = "mungkin"
    raw["mutu_baku"]["legal_review"] = "30-60 menit"
    raw["mutu_baku"]["signing"] = 30
    _, problems = problems_of(tmp_path, raw)
    assert "paraff: kolom tidak dikenal" in problems
    assert any(p.startswith("positions.sekda.role: harus salah satu dari") for p in problems)
    assert "positions.bupati.kepala_daerah: harus true atau false" in problems
    assert any(p.startswith("mutu_baku.legal_review: Waktu '30-60 menit' tidak dapat dibaca") for p in problems)
    assert any(p.startswith("mutu_baku.signing: '30' tidak bersatuan") for p in problems)


def test_mutu_baku_steps_must_be_lifecycle_states_or_paraf_positions(tmp_path: Path):
    raw = paser_raw()
    raw["mutu_baku"]["penggandaan"] = "30 menit"
    raw["mutu_baku"]["paraf.bupati"] = "30 menit"
    raw["mutu_baku"]["archived"] = "1 hari"  # a final state waits for nothing
    _, problems = problems_of(tmp_path, raw)
    assert any(p.startswith("mutu_baku.penggandaan: langkah tidak dikenal") for p in problems)
    assert "mutu_baku.paraf.bupati: 'bupati' tidak ada di rantai paraf mana pun" in problems
    assert any(p.startswith("mutu_baku.archived: langkah tidak dikenal") for p in problems)


def test_paraf_box_override_is_checked(tmp_path: Path):
    raw = paser_raw()
    raw["paraf_box"] = {"corner": "middle", "x": -1, "y": 20, "width": 0, "height": 40}
    _, problems = problems_of(tmp_path, raw)
    assert len(problems) == 1 and problems[0].startswith("paraf_box: corner harus salah satu dari")
    assert "x harus tidak negatif" in problems[0] and "width harus lebih dari nol" in problems[0]


def test_a_position_key_written_in_its_entry_must_match(tmp_path: Path):
    raw = copy.deepcopy(paser_raw())
    raw["positions"]["sekda"]["key"] = "sekretaris"
    _, problems = problems_of(tmp_path, raw)
    assert problems == ["positions.sekda.key: 'sekretaris' berbeda dengan kuncinya 'sekda'"]
