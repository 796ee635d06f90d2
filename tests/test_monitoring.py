"""Monitoring: agreements ending, and where each naskah in progress waits against the SOP's standard time."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Engine

from pipeline.archival.monitoring import durasi, expiring, in_progress, renewal_due
from pipeline.models import Arsip, NaskahEvent, NaskahFile, Paraf, SignaturePlan, SignatureStep
from pipeline.sop import load_profile, parse_duration
from storage.db import session_scope
from tests.test_recap import TODAY, add_arsip, add_case, add_naskah, db, reader, seeder, with_monitoring_routes
from tests.test_workflow import approved_kb

PASER = load_profile("paser")

__all__ = ["db"]  # the fixture, shared with tests/test_recap.py

WITA = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 6, 3, 10, 0, tzinfo=WITA)  # a Wednesday, 10:00 in Paser


def event(engine: Engine, naskah_id: int, action: str, source: str, target: str, at: dt.datetime) -> None:
    with session_scope(engine) as session:
        user = seeder(session)
        session.add(
            NaskahEvent(
                naskah_id=naskah_id,
                action=action,
                from_status=source,
                to_status=target,
                actor_id=user.id or 0,
                created_at=at,
            )
        )


def paraf(engine: Engine, naskah_id: int, urutan: int, posisi: str, at: dt.datetime, voided: bool = False) -> None:
    with session_scope(engine) as session:
        user = seeder(session)
        session.add(
            Paraf(
                naskah_id=naskah_id,
                revision_number=1,
                revision_sha256="a" * 64,
                urutan=urutan,
                posisi=posisi,
                user_id=user.id or 0,
                nama="Pejabat",
                jabatan="Pejabat",
                singkatan="P",
                inisial="P",
                waktu=at,
                voided_at=at if voided else None,
            )
        )


def plan(engine: Engine, naskah_id: int, signed_first_at: dt.datetime) -> None:
    """Desk to desk: we signed first (step 1), the counterparty (step 2, external) is next."""
    with session_scope(engine) as session:
        user = seeder(session)
        final = NaskahFile(
            naskah_id=naskah_id,
            kind="final",
            revision_number=1,
            key="k",
            version_id="v",
            sha256="b" * 64,
            size=1,
            created_by=user.id or 0,
        )
        session.add(final)
        session.flush()
        row = SignaturePlan(naskah_id=naskah_id, mode="desk", final_file_id=final.id or 0, created_by=user.id or 0)
        session.add(row)
        session.flush()
        session.add(
            SignatureStep(
                plan_id=row.id or 0,
                urutan=1,
                pihak_urutan=1,
                field_name="ttd_pihak_1",
                nama="dr. Fahmi Fadli",
                jabatan="Bupati Paser",
                user_id=user.id,
                signed_at=signed_first_at,
            )
        )
        session.add(
            SignatureStep(
                plan_id=row.id or 0,
                urutan=2,
                pihak_urutan=2,
                field_name="ttd_pihak_2",
                nama="H. Rahmad Mas'ud, S.E., M.E.",
                jabatan="Wali Kota Balikpapan",
                external=True,
            )
        )


def test_durasi_reads_as_people_say_it():
    assert durasi(dt.timedelta(minutes=12)) == "12 menit"
    assert durasi(dt.timedelta(hours=2, minutes=5)) == "2 jam 5 menit"
    assert durasi(dt.timedelta(days=3, hours=4, minutes=7)) == "3 hari 4 jam"
    assert durasi(dt.timedelta(seconds=-5)) == "0 menit"


def test_expiring_lists_the_soonest_first_and_flags_those_ended(db):
    ids = {}
    for name, days in (("far", 200), ("month", 30), ("today", 0), ("ended", -1), ("long_ago", -400), ("week", 7)):
        ids[name], _ = add_arsip(db, judul=name, mulai=dt.date(2024, 1, 1), selesai=TODAY + dt.timedelta(days=days))
    add_arsip(db, jenis="SK", judul="kuasa", mulai=dt.date(2024, 1, 1), selesai=TODAY + dt.timedelta(days=3))
    with session_scope(db) as session:
        rows = expiring(session, reader(db), TODAY, profile=PASER, dalam_hari=90)
        everything = expiring(session, reader(db), TODAY, profile=PASER, dalam_hari=365, lewat_hari=None)
        none_ended = expiring(session, reader(db), TODAY, profile=PASER, dalam_hari=90, lewat_hari=0)
    assert [r.judul for r in rows] == ["ended", "today", "week", "month"]
    assert [(r.kedaluwarsa, r.sisa_hari, r.status) for r in rows[:2]] == [
        (True, -1, "kedaluwarsa"),
        (False, 0, "segera_berakhir"),
    ]
    assert [r.judul for r in everything] == ["long_ago", "ended", "today", "week", "month", "far"]
    assert [r.judul for r in none_ended] == ["today", "week", "month"]
    assert rows[0].to_dict()["pihak"] == ["Pemerintah Kabupaten Paser", "Pemerintah Kota Balikpapan"]


def test_in_progress_orders_overdue_first_and_measures_waits_against_the_profile(db):
    profile = load_profile("paser")  # legal_review 30 menit, paraf.<posisi> 30 menit, signing 30, signed 30, draft 460
    case = add_case(db)
    at = NOW.astimezone(dt.UTC)

    # in legal review for two hours (standard 30 menit): 90 minutes late
    review = add_naskah(db, case, status="legal_review", created_at=at - dt.timedelta(days=1))
    event(db, review, "submit", "draft", "legal_review", at - dt.timedelta(hours=2))
    # the Kabag gave paraf 20 minutes ago (a voided older round does not count): the Asisten is next
    para = add_naskah(db, case, status="paraf", created_at=at - dt.timedelta(days=2))
    event(db, para, "approve", "legal_review", "paraf", at - dt.timedelta(hours=5))
    event(db, para, "paraf", "paraf", "paraf", at - dt.timedelta(minutes=20))
    paraf(db, para, 1, "kabag_pemerintahan", at - dt.timedelta(hours=30), voided=True)
    paraf(db, para, 1, "kabag_pemerintahan", at - dt.timedelta(minutes=20))
    # drafting for three days; revisions an hour ago do not restart the clock (standard 460 menit)
    draft = add_naskah(db, case, status="draft", created_at=at - dt.timedelta(days=3))
    event(db, draft, "revise", "draft", "draft", at - dt.timedelta(hours=1))
    # desk to desk: we signed 10 minutes ago, the counterparty signs next (standard 30 menit)
    signing = add_naskah(db, case, status="signing", created_at=at - dt.timedelta(days=4))
    event(db, signing, "paraf", "paraf", "signing", at - dt.timedelta(hours=3))
    event(db, signing, "sign", "signing", "signing", at - dt.timedelta(minutes=10))
    plan(db, signing, at - dt.timedelta(minutes=10))
    # signed five days ago and not yet archived (standard 30 menit)
    signed = add_naskah(db, case, status="signed", created_at=at - dt.timedelta(days=9))
    event(db, signed, "sign", "signing", "signed", at - dt.timedelta(days=5))
    # finished ones are not in progress
    add_naskah(db, case, status="archived")
    add_naskah(db, case, status="cancelled")

    with session_scope(db) as session:
        rows = in_progress(session, reader(db), profile, NOW)
    assert [r.naskah_id for r in rows] == [signed, draft, review, para, signing]
    assert [r.terlambat for r in rows] == [True, True, True, False, False]
    by_id = {r.naskah_id: r for r in rows}

    r = by_id[review]
    assert (r.langkah, r.menunggu) == ("legal_review", "Kepala Bagian Hukum")
    assert r.sejak == at - dt.timedelta(hours=2) and r.lama == dt.timedelta(hours=2)
    assert r.standar is not None and r.standar.text == "30 menit" and r.standar_dari == "legal_review"
    assert r.tenggat == at - dt.timedelta(minutes=90) and r.lewat == dt.timedelta(minutes=90)
    assert r.to_dict()["lewat_menit"] == 90 and r.to_dict()["standar_menit"] == 30

    r = by_id[para]
    assert (r.langkah, r.menunggu, r.standar_dari) == ("paraf.asisten_umum", "Asisten Umum", "paraf.asisten_umum")
    assert r.lama == dt.timedelta(minutes=20) and r.lewat is None

    r = by_id[draft]
    assert r.langkah == "draft" and r.sejak == at - dt.timedelta(days=3) and r.standar.text == "460 menit"

    r = by_id[signing]
    assert r.langkah == "signing" and r.lama == dt.timedelta(minutes=10)
    assert r.menunggu == "H. Rahmad Mas'ud, S.E., M.E. (Wali Kota Balikpapan), di sistem mitra (desk to desk)"

    r = by_id[signed]
    assert r.langkah == "signed" and r.menunggu.startswith("Sekretariat") and r.lama == dt.timedelta(days=5)


def test_working_days_skip_the_weekend_and_a_step_without_standard_is_never_late(db):
    paser = load_profile("paser")
    profile = paser.model_copy(update={"mutu_baku": {"legal_review": parse_duration("2 hari kerja")}})
    case = add_case(db)
    friday = dt.datetime(2026, 5, 29, 10, 0, tzinfo=WITA)
    review = add_naskah(db, case, status="legal_review", created_at=friday.astimezone(dt.UTC))
    event(db, review, "submit", "draft", "legal_review", friday.astimezone(dt.UTC))
    # Monday 1 June is Hari Lahir Pancasila, a national holiday: Friday 14 hours, Tuesday 24, Wednesday 10.
    tuesday_noon = dt.datetime(2026, 6, 2, 12, 0, tzinfo=WITA)  # 4 days 2 hours later: 26 working hours
    with session_scope(db) as session:
        (r,) = in_progress(session, reader(db), profile, tuesday_noon)
        assert r.tenggat == dt.datetime(2026, 6, 3, 10, 0, tzinfo=WITA) and not r.terlambat
        assert r.lama == dt.timedelta(hours=26) and r.to_dict()["lama"] == "1 hari kerja 2 jam"
        (r,) = in_progress(session, reader(db), profile, dt.datetime(2026, 6, 3, 10, 1, tzinfo=WITA))
        assert r.terlambat and r.lewat == dt.timedelta(minutes=1)
        # Tangerang's SOP gives no time for legal review: shown, never overdue
        (r,) = in_progress(session, reader(db), load_profile("tangerang"), NOW + dt.timedelta(days=30))
        assert r.standar is None and r.tenggat is None and not r.terlambat


def test_monitoring_over_the_api(api):
    api = with_monitoring_routes(api)
    engine = api.services.engine
    today = dt.datetime.now(api.services.profile.tz).date()
    soon, _ = add_arsip(engine, judul="Segera", mulai=today - dt.timedelta(days=300), selesai=today + dt.timedelta(5))
    ended, _ = add_arsip(engine, judul="Usai", mulai=today - dt.timedelta(days=300), selesai=today - dt.timedelta(3))
    add_arsip(engine, judul="Lama", mulai=today, selesai=today + dt.timedelta(days=400))

    r = api.client.get("/api/v1/monitoring/kedaluwarsa", params={"dalam_hari": 30}, headers=api.auth("secretariat"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == 2 and [d["arsip_id"] for d in body["data"]] == [ended, soon]
    assert [d["status"] for d in body["data"]] == ["kedaluwarsa", "segera_berakhir"]
    r = api.client.get("/api/v1/monitoring/kedaluwarsa", params={"lewat_hari": 0}, headers=api.auth("sekda"))
    assert [d["arsip_id"] for d in r.json()["data"]] == [soon]
    r = api.client.get("/api/v1/monitoring/kedaluwarsa", params={"dalam_hari": -1}, headers=api.auth("sekda"))
    assert r.status_code == 422

    nid = approved_kb(api)  # the real lifecycle: submitted, approved; the Kabag Pemerintahan is next
    r = api.client.get("/api/v1/monitoring/proses", headers=api.auth("secretariat"))
    assert r.status_code == 200, r.text
    (item,) = [d for d in r.json()["data"] if d["naskah_id"] == nid]
    assert item["status"] == "paraf" and item["langkah"] == "paraf.kabag_pemerintahan"
    assert item["menunggu"] == "Kepala Bagian Pemerintahan" and item["standar"] == "30 menit"
    assert item["terlambat"] is False and item["lewat_menit"] is None and 0 <= item["lama_menit"] < 30
    assert api.client.get("/api/v1/monitoring/proses").status_code == 401
    assert api.client.get("/api/v1/monitoring/proses", headers=api.auth("admin")).status_code == 403


def _stamp_expiry(engine: Engine, arsip_id: int, when: dt.datetime | None) -> None:
    with session_scope(engine) as session:
        arsip = session.get(Arsip, arsip_id)
        assert arsip is not None
        arsip.timestamp_expiry = when
        session.add(arsip)


def test_renewal_due_lists_overdue_and_unknown_first_then_the_soonest(db):
    now = NOW.astimezone(dt.UTC)
    ids = {}
    for serial, (name, ends) in enumerate(
        (
            ("far", now + dt.timedelta(days=2000)),
            ("month", now + dt.timedelta(days=30, hours=1)),
            ("lapsed", now - dt.timedelta(days=2)),
            ("unknown", None),
            ("week", now + dt.timedelta(days=7, hours=1)),
        ),
        start=1,
    ):
        ids[name], _ = add_arsip(db, judul=name, serial=serial)
        _stamp_expiry(db, ids[name], ends)
    with session_scope(db) as session:
        rows = renewal_due(session, reader(db), now, profile=PASER, dalam_hari=365)
        none = renewal_due(session, reader(db), now, profile=PASER, dalam_hari=0)
    assert [r.judul for r in rows] == ["unknown", "lapsed", "week", "month"]
    assert [(r.sisa_hari, r.terlambat) for r in rows] == [(None, True), (-2, True), (7, False), (30, False)]
    assert [r.judul for r in none] == ["unknown", "lapsed"]
    assert rows[2].to_dict()["cap_waktu_berakhir"].startswith((now + dt.timedelta(days=7)).date().isoformat())


def test_renewal_due_over_the_api(api):
    api = with_monitoring_routes(api)
    engine = api.services.engine
    soon, _ = add_arsip(engine, judul="Segera diperbarui", serial=1)
    later, _ = add_arsip(engine, judul="Masih lama", serial=2)
    _stamp_expiry(engine, soon, dt.datetime.now(dt.UTC) + dt.timedelta(days=40))
    r = api.client.get("/api/v1/monitoring/cap-waktu", params={"dalam_hari": 90}, headers=api.auth("secretariat"))
    assert r.status_code == 200, r.text
    assert [(d["arsip_id"], d["terlambat"]) for d in r.json()["data"]] == [(soon, False)]
    r = api.client.get("/api/v1/monitoring/cap-waktu", params={"dalam_hari": 36500}, headers=api.auth("secretariat"))
    assert [d["arsip_id"] for d in r.json()["data"]] == [soon, later]
    r = api.client.get("/api/v1/monitoring/cap-waktu", params={"dalam_hari": -1}, headers=api.auth("secretariat"))
    assert r.status_code == 422
    assert api.client.get("/api/v1/monitoring/cap-waktu").status_code == 401
