"""The monitoring dashboard's aggregates (``pipeline.archival.dashboard``): counts per year and jenis, agreements
ending, naskah per step on time or late, how long completed steps took against the SOP, renewals due;
and that a reader who may not see a kerja sama gets counts without it."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from pipeline.archival import dashboard
from pipeline.models import User
from pipeline.sop import load_profile
from storage.db import session_scope
from tests.test_monitoring import NOW, _stamp_expiry, event, paraf
from tests.test_recap import add_arsip, add_case, add_naskah, db, reader

PASER = load_profile("paser")  # draft 460 menit, legal_review 30 menit, paraf.<posisi> 30 menit, signing 30

__all__ = ["db"]

AT = NOW.astimezone(dt.UTC)
TODAY = NOW.date()


def test_agreements_per_year_count_archived_agreements_by_jenis_kerja_sama_without_surat_kuasa(db):
    add_arsip(db, jenis_kerja_sama="KSDD", tanggal_ttd=dt.date(2024, 3, 1), serial=1)
    add_arsip(db, jenis_kerja_sama="KSDD", tanggal_ttd=dt.date(2025, 3, 1), serial=2)
    add_arsip(db, jenis_kerja_sama="KSDPK", tanggal_ttd=dt.date(2025, 7, 1), serial=3)
    add_arsip(db, jenis_kerja_sama="KSIV", tanggal_ttd=dt.date(2025, 9, 1), serial=4)
    add_arsip(db, jenis_kerja_sama="KSDD", jenis="SK", tanggal_ttd=dt.date(2025, 9, 1), serial=5)
    with session_scope(db) as session:
        rows = dashboard.per_year(session, reader(db), PASER)
    assert [r.to_dict() for r in rows] == [
        {"tahun": 2024, "jumlah": {"KSDD": 1, "KSDPK": 0, "KSIV": 0}, "total": 1},
        {"tahun": 2025, "jumlah": {"KSDD": 1, "KSDPK": 1, "KSIV": 1}, "total": 3},
    ]


def test_ending_counts_are_cumulative_windows_of_30_90_180_days_and_leave_out_those_ended(db):
    for serial, (jks, days) in enumerate((("KSDD", 20), ("KSDPK", 60), ("KSDD", 150), ("KSIV", 400), ("KSDD", -3)), 1):
        add_arsip(
            db, jenis_kerja_sama=jks, mulai=dt.date(2024, 1, 1), selesai=TODAY + dt.timedelta(days=days), serial=serial
        )
    with session_scope(db) as session:
        rows, items = dashboard.ending(session, reader(db), PASER, TODAY)
    assert [(r.dalam_hari, r.jumlah, r.total) for r in rows] == [
        (30, {"KSDD": 1, "KSDPK": 0, "KSIV": 0}, 1),
        (90, {"KSDD": 1, "KSDPK": 1, "KSIV": 0}, 2),
        (180, {"KSDD": 2, "KSDPK": 1, "KSIV": 0}, 3),
    ]
    assert [i.sisa_hari for i in items] == [20, 60, 150]


def test_in_progress_by_step_follows_the_path_and_splits_on_time_from_late(db):
    case = add_case(db)
    late = add_naskah(db, case, status="legal_review", created_at=AT - dt.timedelta(days=1))
    event(db, late, "submit", "draft", "legal_review", AT - dt.timedelta(hours=2))  # standard 30 menit
    fresh = add_naskah(db, case, status="legal_review", created_at=AT - dt.timedelta(days=1))
    event(db, fresh, "submit", "draft", "legal_review", AT - dt.timedelta(minutes=10))
    add_naskah(db, case, status="draft", created_at=AT - dt.timedelta(hours=1))
    para = add_naskah(db, case, status="paraf", created_at=AT - dt.timedelta(days=2))
    event(db, para, "approve", "legal_review", "paraf", AT - dt.timedelta(minutes=5))
    add_naskah(db, case, status="archived")
    with session_scope(db) as session:
        rows, waits = dashboard.in_progress_by_step(session, reader(db), PASER, NOW)
    assert [(r.langkah, r.tepat_waktu, r.terlambat, r.standar) for r in rows] == [
        ("draft", 1, 0, "460 menit"),
        ("legal_review", 1, 1, "30 menit"),
        ("paraf.kabag_pemerintahan", 1, 0, "30 menit"),
    ]
    assert rows[2].label.startswith("Paraf ") and len(waits) == 4 and waits[0].naskah_id == late


def test_step_durations_measure_completed_steps_against_the_standard_per_paraf_position(db):
    case = add_case(db)
    start = AT - dt.timedelta(days=10)  # a Wednesday: no weekend inside the short steps below
    n = add_naskah(db, case, status="signing", created_at=start)
    event(db, n, "revise", "draft", "draft", start + dt.timedelta(hours=1))  # does not end drafting
    event(db, n, "submit", "draft", "legal_review", start + dt.timedelta(hours=5))  # drafting 5 jam < 460 menit
    event(db, n, "approve", "legal_review", "paraf", start + dt.timedelta(hours=6))  # review 60 menit > 30
    event(db, n, "paraf", "paraf", "paraf", start + dt.timedelta(hours=6, minutes=20))  # kabag 20 menit
    paraf(db, n, 1, "kabag_pemerintahan", start + dt.timedelta(hours=6, minutes=20))
    event(db, n, "paraf", "paraf", "paraf", start + dt.timedelta(hours=7, minutes=20))  # asisten 60 menit > 30
    m = add_naskah(db, case, status="cancelled", created_at=start)
    event(db, m, "submit", "draft", "legal_review", start + dt.timedelta(hours=3))  # drafting 3 jam
    event(db, m, "cancel", "legal_review", "cancelled", start + dt.timedelta(hours=4))  # not a completed review
    with session_scope(db) as session:
        rows = {r.langkah: r for r in dashboard.step_durations(session, reader(db), PASER)}
    assert list(rows) == ["draft", "legal_review", "paraf.kabag_pemerintahan", "paraf.asisten_umum"]
    assert (rows["draft"].jumlah, rows["draft"].melebihi, rows["draft"].rata_rata) == (2, 0, dt.timedelta(hours=4))
    assert rows["draft"].terlama == dt.timedelta(hours=5) and rows["draft"].standar == "460 menit"
    assert (rows["legal_review"].jumlah, rows["legal_review"].melebihi) == (1, 1)
    assert (rows["paraf.kabag_pemerintahan"].jumlah, rows["paraf.kabag_pemerintahan"].melebihi) == (1, 0)
    assert rows["paraf.asisten_umum"].to_dict()["rata_rata_menit"] == 60 and rows["paraf.asisten_umum"].melebihi == 1


def test_renewal_groups_overdue_soon_and_later_without_overlap(db):
    for serial, ends in enumerate(
        (
            AT - dt.timedelta(days=1),
            None,
            AT + dt.timedelta(days=20, hours=1),
            AT + dt.timedelta(days=200),
            AT + dt.timedelta(days=900),
        ),
        1,
    ):
        arsip_id, _ = add_arsip(db, serial=serial)
        _stamp_expiry(db, arsip_id, ends)
    with session_scope(db) as session:
        rows, items = dashboard.renewal(session, reader(db), PASER, AT)
    assert [(r.kelompok, r.jumlah) for r in rows] == [("terlambat", 2), ("90", 1), ("365", 1)]
    assert len(items) == 4


def test_a_reader_who_may_not_see_a_kerja_sama_gets_counts_without_it(db):
    """An official of one OPD (no paraf or signer position) sees only their OPD's kerja sama."""
    add_arsip(
        db, jenis_kerja_sama="KSDD", opd="Dinas Lingkungan Hidup", selesai=TODAY + dt.timedelta(days=20), serial=1
    )
    add_arsip(db, jenis_kerja_sama="KSDPK", opd="Dinas Perhubungan", selesai=TODAY + dt.timedelta(days=20), serial=2)
    other = add_case(db, jenis_kerja_sama="KSDPK", opd="Dinas Perhubungan")
    add_naskah(db, other, status="draft", created_at=AT - dt.timedelta(hours=1))
    with session_scope(db) as session:
        session.add(
            User(
                username="kadis", nama="Kadis DLH", jabatan="Kepala Dinas", roles="signer", opd="Dinas Lingkungan Hidup"
            )
        )
    with session_scope(db) as session:
        kadis = session.exec(select(User).where(User.username == "kadis")).one()
        everyone = dashboard.dashboard(session, reader(db), PASER, NOW)
        mine = dashboard.dashboard(session, kadis, PASER, NOW)
    assert sum(r.total for r in everyone.per_tahun) == 2 and sum(r.total for r in mine.per_tahun) == 1
    assert mine.berakhir[0].jumlah == {"KSDD": 1, "KSDPK": 0, "KSIV": 0}
    assert sum(r.total for r in everyone.proses) == 1 and mine.proses == [] and mine.durasi == []
