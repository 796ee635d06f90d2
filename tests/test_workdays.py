"""The SOP's working-day clock (issue 15): hari kerja skip weekends, national holidays and cuti bersama
(the ``holidays`` library plus the profile's ``hari_libur``), in the profile's time zone; and every "late"
of the system — the inbox, the progress stepper, the monitoring dashboard — reads this one clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.archival import dashboard, monitoring
from pipeline.errors import InvalidInput
from pipeline.inbox import tasks
from pipeline.sop import PROFILE_DIR, ZONA_WAKTU, Profile, load_profile, parse_duration
from pipeline.workdays import WorkCalendar, library_holidays
from pipeline.workspace import progress
from storage.db import session_scope
from tests.test_monitoring import event
from tests.test_recap import add_case, add_naskah, db, reader

__all__ = ["db"]

WIB, WITA, WIT = ZONA_WAKTU["WIB"], ZONA_WAKTU["WITA"], ZONA_WAKTU["WIT"]


def raw(name: str = "paser") -> dict[str, Any]:
    return yaml.safe_load((PROFILE_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


def profile_with(name: str = "paser", **changes: Any) -> Profile:
    """A shipped profile with some keys replaced (``mutu_baku`` merged into the profile's own)."""
    data = raw(name)
    if "mutu_baku" in changes:
        changes["mutu_baku"] = {**data.get("mutu_baku", {}), **changes["mutu_baku"]}
    return Profile.model_validate({**data, **changes})


def at(tz: dt.tzinfo, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz)


def due(profile: Profile, text: str, start: dt.datetime) -> dt.datetime:
    """The deadline in the profile's zone, to compare with local times."""
    return profile.deadline(parse_duration(text), start).astimezone(profile.tz)


PASER = load_profile("paser")  # WITA
TANGERANG = load_profile("tangerang")  # WIB


# -- the calendar --------------------------------------------------------------------------------------


def test_the_library_knows_idul_fitri_nyepi_christmas_and_their_cuti_bersama_in_indonesian():
    days = library_holidays(2026)
    assert days[dt.date(2026, 3, 19)] == "Hari Suci Nyepi"
    assert days[dt.date(2026, 3, 18)] == "Cuti Bersama Hari Suci Nyepi"
    assert days[dt.date(2026, 3, 20)] == "Cuti Bersama Hari Raya Idul Fitri"
    assert dt.date(2026, 3, 24) in days and dt.date(2026, 12, 24) in days  # cuti bersama Idul Fitri, Natal
    assert days[dt.date(2026, 12, 25)] == "Hari Raya Natal"
    assert dt.date(2027, 3, 12) in library_holidays(2027)  # cuti bersama Idul Fitri 2027


def test_a_working_day_is_a_weekday_that_is_no_holiday_nor_cuti_bersama():
    calendar = PASER.kalender
    assert calendar.is_working_day(dt.date(2026, 3, 17))  # Tuesday
    assert not calendar.is_working_day(dt.date(2026, 3, 14))  # Saturday
    assert not calendar.is_working_day(dt.date(2026, 3, 18))  # Wednesday, cuti bersama Nyepi
    assert not calendar.is_working_day(dt.date(2026, 3, 23))  # Monday, cuti bersama Idul Fitri
    assert calendar.is_working_day(dt.date(2026, 3, 25))


def test_friday_afternoon_plus_one_working_day_is_monday_afternoon_in_the_profiles_zone():
    friday = at(WITA, 2026, 12, 4, 16, 0)
    assert due(PASER, "1 hari kerja", friday) == at(WITA, 2026, 12, 7, 16, 0)
    assert due(PASER, "1 hari kerja", friday).utcoffset() == dt.timedelta(hours=8)
    assert PASER.deadline(parse_duration("1 hari kerja"), friday).tzinfo == dt.UTC


def test_an_ordinary_weekend_is_skipped_and_calendar_days_minutes_and_hours_are_not():
    wednesday = at(WITA, 2026, 11, 18, 9, 0)
    friday = at(WITA, 2026, 11, 20, 9, 0)
    assert due(PASER, "2 hari kerja", wednesday) == at(WITA, 2026, 11, 20, 9, 0)
    assert due(PASER, "2 hari kerja", friday) == at(WITA, 2026, 11, 24, 9, 0)  # Tuesday
    assert due(PASER, "2 hari", friday) == at(WITA, 2026, 11, 22, 9, 0)  # Sunday: calendar days
    assert due(PASER, "420 menit", friday) == at(WITA, 2026, 11, 20, 16, 0)
    assert due(PASER, "3 jam", at(WITA, 2026, 12, 24, 9, 0)) == at(WITA, 2026, 12, 24, 12, 0)  # on a holiday too


def test_mixed_durations_run_their_working_days_first_then_the_rest_on_the_wall_clock():
    friday = at(WITA, 2026, 11, 20, 9, 0)
    assert due(PASER, "1 hari kerja 2 jam", friday) == at(WITA, 2026, 11, 23, 11, 0)
    # Tangerang's verification SOP total: no hari kerja in it, so holidays do not stretch it.
    before_lebaran = at(WIB, 2026, 3, 17, 8, 0)
    assert due(TANGERANG, "4 hari 420 menit", before_lebaran) == at(WIB, 2026, 3, 21, 15, 0)


def test_the_idul_fitri_and_nyepi_week_of_2026_is_skipped_with_its_cuti_bersama():
    # Tue 17 March 2026; Wed 18 cuti Nyepi, Thu 19 Nyepi, Fri 20 cuti Idul Fitri, Sat-Sun Idul Fitri,
    # Mon 23 and Tue 24 cuti Idul Fitri: the next working day is Wednesday 25 March.
    tuesday = at(WITA, 2026, 3, 17, 10, 0)
    assert due(PASER, "1 hari kerja", tuesday) == at(WITA, 2026, 3, 25, 10, 0)
    assert due(PASER, "3 hari kerja", tuesday) == at(WITA, 2026, 3, 27, 10, 0)


def test_the_idul_fitri_cuti_bersama_of_2027_are_skipped():
    # 2027 (library): Mon 8 March Nyepi, Tue 9 cuti, Wed-Thu 10-11 Idul Fitri, Fri 12 and Mon 15 cuti.
    friday = at(WIB, 2027, 3, 5, 14, 0)
    assert due(TANGERANG, "1 hari kerja", friday) == at(WIB, 2027, 3, 16, 14, 0)
    assert due(TANGERANG, "6 hari kerja", friday) == at(WIB, 2027, 3, 23, 14, 0)


def test_christmas_and_its_cuti_bersama_are_skipped():
    # Wed 23 Dec 2026; Thu 24 cuti bersama Natal, Fri 25 Natal, weekend: Monday 28.
    assert due(PASER, "1 hari kerja", at(WITA, 2026, 12, 23, 15, 30)) == at(WITA, 2026, 12, 28, 15, 30)


def test_a_step_started_on_a_non_working_day_counts_from_the_start_of_the_next_working_day():
    saturday = at(WITA, 2026, 12, 5, 10, 0)
    assert due(PASER, "1 hari kerja", saturday) == at(WITA, 2026, 12, 8, 0, 0)  # the end of Monday
    nyepi = at(WITA, 2026, 3, 19, 9, 0)
    assert due(PASER, "2 hari kerja", nyepi) == at(WITA, 2026, 3, 27, 0, 0)  # Wed 25 and Thu 26


def test_a_wit_step_at_half_past_eleven_at_night_belongs_to_its_own_local_day():
    profile = profile_with(zona_waktu="WIT")
    # Friday 23:30 WIT (14:30 UTC): half an hour of Friday left, then Monday until 23:30.
    friday_night = at(WIT, 2026, 12, 4, 23, 30)
    assert due(profile, "1 hari kerja", friday_night.astimezone(dt.UTC)) == at(WIT, 2026, 12, 7, 23, 30)
    # Wednesday 23:30 WIT before Christmas: Thursday (cuti bersama) and Friday (Natal) do not count.
    assert due(profile, "1 hari kerja", at(WIT, 2026, 12, 23, 23, 30)) == at(WIT, 2026, 12, 28, 23, 30)
    # Sunday 15:30 UTC is already Monday 00:30 in WIT: a working day, counted from 00:30 …
    sunday_utc = dt.datetime(2026, 12, 6, 15, 30, tzinfo=dt.UTC)
    assert due(profile, "1 hari kerja", sunday_utc) == at(WIT, 2026, 12, 8, 0, 30)
    # … but still Sunday in WIB: counted from the start of Monday.
    assert due(TANGERANG, "1 hari kerja", sunday_utc) == at(WIB, 2026, 12, 8, 0, 0)


def test_elapsed_working_time_leaves_out_weekends_and_holidays():
    calendar = WorkCalendar(WITA)
    friday = at(WITA, 2026, 12, 4, 16, 0)
    assert calendar.elapsed(friday, at(WITA, 2026, 12, 7, 10, 0)) == dt.timedelta(hours=18)
    assert calendar.elapsed(at(WITA, 2026, 3, 17, 10, 0), at(WITA, 2026, 3, 25, 12, 0)) == dt.timedelta(hours=26)
    assert calendar.elapsed(friday, friday - dt.timedelta(hours=1)) == dt.timedelta(0)
    # deadline and elapsed agree: the working time until the deadline is the standard
    start = at(WITA, 2026, 12, 23, 11, 0)
    assert calendar.elapsed(start, calendar.add_days(start, 3)) == dt.timedelta(days=3)


def test_a_year_of_working_time_is_its_working_days_and_a_wait_crosses_new_year():
    calendar = WorkCalendar(WITA)
    # 2026: 261 weekdays, 25 holidays and cuti bersama of which 4 on a weekend (21-22 March, 5 April, 31 May).
    assert calendar.elapsed(at(WITA, 2026, 1, 1, 0, 0), at(WITA, 2027, 1, 1, 0, 0)) == dt.timedelta(days=240)
    # Thursday 31 December noon to Monday 4 January noon: New Year's Day and the weekend do not count.
    assert calendar.elapsed(at(WITA, 2026, 12, 31, 12, 0), at(WITA, 2027, 1, 4, 12, 0)) == dt.timedelta(days=1)
    assert calendar.add_days(at(WITA, 2026, 12, 31, 12, 0), 1) == at(WITA, 2027, 1, 4, 12, 0)


# -- the profile's own list ----------------------------------------------------------------------------


def test_a_profile_adds_a_day_the_library_lacks_and_removes_one_it_got_wrong():
    profile = profile_with(
        hari_libur={
            "tambah": {dt.date(2028, 1, 27): "Cuti bersama Tahun Baru Imlek", "2026-12-09": "Hari Jadi Kabupaten"},
            "hapus": [dt.date(2026, 12, 24)],
        }
    )
    assert library_holidays(2028).get(dt.date(2028, 1, 27)) is None  # the library has no 2028 cuti bersama
    assert profile.kalender.holiday(dt.date(2028, 1, 27)) == "Cuti bersama Tahun Baru Imlek"
    # Tuesday 25 January 2028; Wednesday 26 is Imlek (the library's estimate), Thursday 27 the added day.
    assert due(profile, "1 hari kerja", at(WITA, 2028, 1, 25, 9, 0)) == at(WITA, 2028, 1, 28, 9, 0)
    assert due(PASER, "1 hari kerja", at(WITA, 2028, 1, 25, 9, 0)) == at(WITA, 2028, 1, 27, 9, 0)
    assert due(profile, "1 hari kerja", at(WITA, 2026, 12, 8, 9, 0)) == at(WITA, 2026, 12, 10, 9, 0)
    # 24 Dec 2026 is a working day for this region after all: only Christmas Day is skipped.
    assert due(profile, "1 hari kerja", at(WITA, 2026, 12, 23, 9, 0)) == at(WITA, 2026, 12, 24, 9, 0)
    assert due(PASER, "1 hari kerja", at(WITA, 2026, 12, 23, 9, 0)) == at(WITA, 2026, 12, 28, 9, 0)
    listed = profile.kalender.holidays_of(2026)
    assert dt.date(2026, 12, 24) not in listed and listed[dt.date(2026, 12, 9)] == "Hari Jadi Kabupaten"
    assert list(listed) == sorted(listed)


def test_the_shipped_profiles_load_with_their_holiday_lists():
    for name in ("paser", "magetan", "tangerang"):
        profile = load_profile(name)
        assert profile.hari_libur.tambah == {} and profile.hari_libur.hapus == frozenset()


@pytest.mark.parametrize(
    ("hari_libur", "message"),
    [
        ({"tambah": {"2028-02-30": "Cuti"}}, "hari_libur: tambah: '2028-02-30' bukan tanggal; tulis TTTT-BB-HH"),
        ({"tambah": {"2028-01-27": ""}}, "hari_libur: tambah.2028-01-27: nama libur wajib diisi"),
        ({"tambah": ["2028-01-27"]}, "hari_libur: tambah: harus berupa pemetaan tanggal: nama libur"),
        ({"hapus": ["27-01-2028"]}, "hari_libur: hapus: '27-01-2028' bukan tanggal"),
        ({"hapus": "2026-12-24"}, "hari_libur: hapus: harus berupa daftar tanggal"),
        ({"hapus": ["2026-12-23"]}, "hari_libur: hapus: 2026-12-23 bukan hari libur nasional atau cuti bersama"),
        (
            {"tambah": {"2026-12-24": "Cuti"}, "hapus": ["2026-12-24"]},
            "hari_libur: hapus: 2026-12-24 juga ada di tambah; pilih salah satu",
        ),
        ({"tambahan": {}}, "hari_libur: kolom tidak dikenal: tambahan; pilih 'tambah' atau 'hapus'"),
        (["2026-12-24"], "hari_libur: harus berupa pemetaan dengan 'tambah' dan/atau 'hapus'"),
    ],
)
def test_a_wrong_holiday_entry_is_refused_at_load_time_with_an_indonesian_message(
    tmp_path: Path, hari_libur: Any, message: str
):
    path = tmp_path / "wilayah.yaml"
    path.write_text(yaml.safe_dump({**raw(), "hari_libur": hari_libur}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_profile(str(path))
    assert any(p.startswith(message) for p in caught.value.detail["problems"]), caught.value.detail["problems"]
    assert str(path) in caught.value.message


def test_unquoted_yaml_dates_are_read_as_dates(tmp_path: Path):
    text = (PROFILE_DIR / "paser.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "hari_libur:\n  tambah: {}\n  hapus: []",
        "hari_libur:\n  tambah:\n    2028-01-27: Cuti bersama Imlek\n  hapus:\n    - 2027-03-15\n",
    )
    path = tmp_path / "paser.yaml"
    path.write_text(text, encoding="utf-8")
    profile = load_profile(str(path))
    assert profile.hari_libur.tambah == {dt.date(2028, 1, 27): "Cuti bersama Imlek"}
    assert profile.kalender.is_working_day(dt.date(2027, 3, 15))


# -- every consumer reads the one clock ----------------------------------------------------------------

#: Paser with its legal review and archiving in working days.
HARI_KERJA = profile_with(mutu_baku={"legal_review": "1 hari kerja", "signed": "2 hari kerja"})
BEFORE_LEBARAN = at(WITA, 2026, 3, 17, 10, 0)  # Tuesday before Nyepi and Idul Fitri 2026
DURING_LEBARAN = at(WITA, 2026, 3, 24, 9, 0)  # Tuesday, the last cuti bersama day
AFTER_LEBARAN = at(WITA, 2026, 3, 26, 12, 0)  # Thursday after, noon


def submitted(engine, when: dt.datetime, status: str = "legal_review") -> int:
    """A naskah that entered ``status`` at ``when``."""
    case = add_case(engine)
    nid = add_naskah(engine, case, status=status, created_at=when - dt.timedelta(days=2))
    source = {"legal_review": "draft", "signed": "signing"}[status]
    event(engine, nid, "submit" if status == "legal_review" else "sign", source, status, when)
    return nid


def test_tasks_inbox_is_not_late_over_the_idul_fitri_holidays_but_late_after_them(db):
    nid = submitted(db, BEFORE_LEBARAN, "signed")  # the secretariat must archive it: 2 hari kerja
    with session_scope(db) as session:
        during = tasks.tasks_for(session, reader(db), HARI_KERJA, DURING_LEBARAN)
        after = tasks.tasks_for(session, reader(db), HARI_KERJA, AFTER_LEBARAN)
    [task] = during.data
    assert task.naskah_id == nid and task.tugas == tasks.Kind.ARSIP
    # The weekday-only clock said late since Thursday 19 March 10:00 (Nyepi); Paser worked none of it.
    assert not task.terlambat and during.terlambat[tasks.Kind.ARSIP] == 0
    assert task.to_dict()["tenggat"] == dt.datetime(2026, 3, 26, 2, 0, tzinfo=dt.UTC)  # Thu 26 March 10:00 WITA
    assert task.to_dict()["lama"] == "14 jam"  # Tuesday 10:00 to midnight, then only holidays
    [late] = after.data
    assert late.terlambat and after.terlambat[tasks.Kind.ARSIP] == 1
    # 14 working hours on Tuesday, 24 on Wednesday 25, 12 on Thursday; due Thursday 10:00.
    assert late.to_dict()["lama"] == "2 hari kerja 2 jam" and late.to_dict()["lewat"] == "2 jam"


def test_progress_stepper_marks_the_current_step_by_the_working_day_clock(db):
    nid = submitted(db, BEFORE_LEBARAN)
    with session_scope(db) as session:
        during = progress.progress_of(session, reader(db), nid, profile=HARI_KERJA, now=DURING_LEBARAN)
        after = progress.progress_of(session, reader(db), nid, profile=HARI_KERJA, now=AFTER_LEBARAN)
    step = during.to_dict()["langkah"]
    [current] = [s for s in step if s["keadaan"] == "current"]
    assert current["kunci"] == "telaah" and current["standar_dari"] == "legal_review"
    assert current["standar"] == "1 hari kerja"
    assert current["terlambat"] is False  # the weekday-only clock: late since Wednesday 18 March 10:00
    assert current["tenggat"] == dt.datetime(2026, 3, 25, 2, 0, tzinfo=dt.UTC)  # Wed 25 March 10:00 WITA
    [late] = [s for s in after.to_dict()["langkah"] if s["keadaan"] == "current"]
    # Late by Wednesday 10:00 to Thursday noon, 26 working hours; the holidays before are not counted.
    assert late["terlambat"] is True and late["lewat"] == "1 hari kerja 2 jam" and late["lewat_menit"] == 26 * 60
    assert late["lama"] == "2 hari kerja 2 jam"


def test_dashboard_counts_waiting_and_completed_steps_on_the_working_day_clock(db):
    waiting = submitted(db, BEFORE_LEBARAN)
    done = add_naskah(db, add_case(db), status="paraf", created_at=BEFORE_LEBARAN - dt.timedelta(days=2))
    event(db, done, "submit", "draft", "legal_review", BEFORE_LEBARAN)
    event(db, done, "approve", "legal_review", "paraf", DURING_LEBARAN)  # approved on the last cuti bersama
    with session_scope(db) as session:
        steps, listed = dashboard.in_progress_by_step(session, reader(db), HARI_KERJA, DURING_LEBARAN)
        durations = {r.langkah: r for r in dashboard.step_durations(session, reader(db), HARI_KERJA)}
        rows = monitoring.in_progress(session, reader(db), HARI_KERJA, DURING_LEBARAN)
    review = next(r for r in steps if r.langkah == "legal_review")
    assert (review.tepat_waktu, review.terlambat) == (1, 0)  # the weekday-only clock counted it late
    assert [w.naskah_id for w in listed if w.langkah == "legal_review"] == [waiting]
    assert {w.naskah_id: w.terlambat for w in rows}[waiting] is False
    # How long the review took, against 1 hari kerja: 14 working hours, not 6 days 23 hours; not over.
    took = durations["legal_review"]
    assert (took.jumlah, took.melebihi) == (1, 0)
    assert took.to_dict()["rata_rata"] == "14 jam" and took.to_dict()["terlama_menit"] == 14 * 60


def test_a_step_started_the_friday_before_lebaran_is_not_late_on_the_mondays_after_it(db):
    # Kota Tangerang (WIB), archiving in 1 hari kerja.  Friday 5 March 2027 14:00; Monday 8 is Nyepi, Tuesday
    # 9 its cuti bersama, Wednesday-Thursday 10-11 Idul Fitri, Friday 12 and Monday 15 cuti bersama: the
    # working day after Friday is Tuesday 16 March, due 14:00.  Counting calendar days it was late on
    # Saturday 6 March; counting weekdays only, on Monday 8 March at 14:00.
    profile = profile_with("tangerang", mutu_baku={"signed": "1 hari kerja"})
    friday = at(WIB, 2027, 3, 5, 14, 0)
    nid = submitted(db, friday, "signed")
    mondays = [at(WIB, 2027, 3, 8, 15, 0), at(WIB, 2027, 3, 15, 15, 0)]
    with session_scope(db) as session:
        for monday in mondays:
            [task] = tasks.tasks_for(session, reader(db), profile, monday).data
            assert task.naskah_id == nid and not task.terlambat, monday
            assert task.to_dict()["lama"] == "10 jam"  # Friday 14:00 to midnight; nothing since
            [row] = monitoring.in_progress(session, reader(db), profile, monday)
            assert not row.terlambat
        [task] = tasks.tasks_for(session, reader(db), profile, at(WIB, 2027, 3, 16, 15, 0)).data
    assert task.terlambat and task.to_dict()["tenggat"] == at(WIB, 2027, 3, 16, 14, 0).astimezone(dt.UTC)
    assert task.to_dict()["lewat"] == "1 jam" and task.to_dict()["lama"] == "1 hari kerja 1 jam"


def test_naskah_libur_lists_the_profiles_days_off_and_warns_of_a_year_without_cuti_bersama(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from api.cli import app

    data = {
        **raw(),
        "hari_libur": {"tambah": {"2026-12-09": "Hari Jadi Kabupaten"}, "hapus": ["2026-12-24"]},
    }
    path = tmp_path / "wilayah.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("NASKAH_SOP_PROFILE", str(path))
    runner = CliRunner()
    result = runner.invoke(app, ["libur", "--tahun", "2026"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Profil paser (WITA), tahun 2026: 25 hari libur"
    assert "2026-03-20  Jumat   Cuti Bersama Hari Raya Idul Fitri  [pustaka]" in lines
    assert "2026-12-09  Rabu    Hari Jadi Kabupaten  [profil]" in lines
    assert "2026-12-24  Kamis   hari kerja (dihapus oleh profil)" in lines
    assert "Perhatian" not in result.output
    later = runner.invoke(app, ["libur", "--tahun", "2028"])
    assert later.exit_code == 0 and "belum memuat cuti bersama tahun 2028" in later.output
