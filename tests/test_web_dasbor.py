"""Monitoring dashboard over plain HTTP (no browser): the numbers in the page's tables are the pipeline's
and the API's for a small seeded set (kerja sama over several years and jenis, naskah at different steps,
one late, an agreement ending in 20 days, an archived original whose timestamp is due); a reader who may
not see some kerja sama gets counts without them; the header links to the page for those who may read it.

The browser's view (charts drawn, axe, a phone's width, the screenshot) is tests/test_web_dasbor_browser.py.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from lxml import html as lxml_html
from sqlmodel import select

from pipeline.archival import dashboard
from pipeline.auth import create_user, issue_token
from pipeline.models import User
from storage.db import session_scope
from tests.test_monitoring import _stamp_expiry, event
from tests.test_recap import add_arsip, add_case, add_naskah, with_monitoring_routes
from tests.test_web_beranda import browsers

SERVICES = pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
# The counts are SQL (per year: EXTRACT), so the numbers are checked on PostgreSQL as well.
BOTH_DATABASES = pytest.mark.parametrize("services", ["sqlite-local", "postgres-local"], indirect=True)

__all__ = ["browsers"]


def seed(engine, profile) -> dict[str, int]:
    """Archived agreements over 2024-2026 and the three jenis (one ending in 20 days, one SK, one of the
    Dinas Perhubungan), naskah in drafting, review (one late) and paraf, an original whose timestamp is due."""
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(profile.tz).date()
    ids: dict[str, int] = {}
    add_arsip(db := engine, jenis_kerja_sama="KSDD", tanggal_ttd=dt.date(2024, 2, 1), serial=1)
    add_arsip(db, jenis_kerja_sama="KSDPK", tanggal_ttd=dt.date(2025, 3, 1), serial=2)
    add_arsip(db, jenis_kerja_sama="KSIV", tanggal_ttd=dt.date(2025, 4, 1), serial=3)
    ids["ending"], _ = add_arsip(
        db,
        jenis_kerja_sama="KSDD",
        judul="Pengelolaan Air Minum Lintas Daerah",
        tanggal_ttd=dt.date(2026, 1, 5),
        mulai=dt.date(2024, 1, 1),
        selesai=today + dt.timedelta(days=20),
        serial=4,
    )
    add_arsip(db, jenis_kerja_sama="KSDD", jenis="SK", tanggal_ttd=dt.date(2026, 1, 5), serial=5)
    ids["renew"], _ = add_arsip(
        db, jenis_kerja_sama="KSIV", judul="Sertipikasi Aset", tanggal_ttd=dt.date(2026, 2, 1), serial=6
    )
    _stamp_expiry(db, ids["renew"], now + dt.timedelta(days=10))
    ids["dishub"], _ = add_arsip(
        db, jenis_kerja_sama="KSDPK", opd="Dinas Perhubungan", tanggal_ttd=dt.date(2026, 3, 1), serial=7
    )
    case = add_case(db, jenis_kerja_sama="KSDD")
    ids["draft"] = add_naskah(db, case, status="draft", created_at=now - dt.timedelta(hours=1))
    ids["late"] = add_naskah(db, case, status="legal_review", created_at=now - dt.timedelta(days=3))
    event(db, ids["late"], "submit", "draft", "legal_review", now - dt.timedelta(hours=5))  # mutu baku 30 menit
    ids["paraf"] = add_naskah(db, case, status="paraf", created_at=now - dt.timedelta(days=3))
    event(db, ids["paraf"], "submit", "draft", "legal_review", now - dt.timedelta(hours=3))
    event(db, ids["paraf"], "approve", "legal_review", "paraf", now - dt.timedelta(minutes=5))
    dishub = add_case(db, jenis_kerja_sama="KSDPK", opd="Dinas Perhubungan")
    ids["dishub_draft"] = add_naskah(db, dishub, status="draft", created_at=now - dt.timedelta(hours=2))
    with session_scope(db) as session:
        create_user(
            session,
            username="kadis_dlh",
            nama="Kadis DLH",
            jabatan="Kepala Dinas",
            roles=["signer"],
            opd="Dinas Lingkungan Hidup",
        )
    return ids


def table(doc, name: str) -> dict[str, dict[str, str]]:
    """Row header -> {column key: cell text} of the table ``#tabel-<name>``."""
    out = {}
    for tr in doc.xpath(f'//table[@id="tabel-{name}"]/tbody/tr'):
        head = " ".join(tr.xpath("./th")[0].text_content().split())
        out[head] = {td.get("data-kolom"): td.text_content().strip() for td in tr.xpath("./td[@data-kolom]")}
    return out


def monitoring(browsers, who: str):
    r = browsers[who].get("/monitoring", follow_redirects=False)
    assert r.status_code == 200, (who, r.status_code, r.text[:300])
    return lxml_html.fromstring(r.text)


@BOTH_DATABASES
def test_the_tables_show_the_pipelines_and_the_apis_numbers(api, browsers):
    with_monitoring_routes(api)
    ids = seed(api.services.engine, api.services.profile)
    doc = monitoring(browsers, "secretariat")

    assert table(doc, "per_tahun") == {
        "2024": {"KSDD": "1", "KSDPK": "0", "KSIV": "0", "total": "1"},
        "2025": {"KSDD": "0", "KSDPK": "1", "KSIV": "1", "total": "2"},
        "2026": {"KSDD": "1", "KSDPK": "1", "KSIV": "1", "total": "3"},
    }
    ending = table(doc, "berakhir")
    assert ending["Dalam 30 hari"] == {"KSDD": "1", "KSDPK": "0", "KSIV": "0", "total": "1"}
    assert ending["Dalam 180 hari"]["total"] == "1"
    for days in (30, 90, 180):
        r = api.client.get(
            f"/api/v1/monitoring/kedaluwarsa?dalam_hari={days}&lewat_hari=0", headers=api.auth("secretariat")
        )
        assert str(r.json()["count"]) == ending[f"Dalam {days} hari"]["total"]
    assert "Pengelolaan Air Minum Lintas Daerah" in doc.xpath('string(//section[@aria-labelledby="judul-berakhir"])')

    proses = {tr.get("data-langkah"): tr for tr in doc.xpath('//table[@id="tabel-proses"]/tbody/tr')}
    waits = api.client.get("/api/v1/monitoring/proses", headers=api.auth("secretariat")).json()["data"]
    assert set(proses) == {w["langkah"] for w in waits} == {"draft", "legal_review", "paraf.kabag_pemerintahan"}
    for key, tr in proses.items():
        late = sum(1 for w in waits if w["langkah"] == key and w["terlambat"])
        on_time = sum(1 for w in waits if w["langkah"] == key and not w["terlambat"])
        assert tr.xpath('string(./td[@data-kolom="terlambat"])') == str(late)
        assert tr.xpath('string(./td[@data-kolom="tepat_waktu"])') == str(on_time)
    assert proses["legal_review"].xpath('string(./td[@data-kolom="terlambat"])') == "1"
    assert doc.xpath(f'//a[@href="/naskah/{ids["late"]}"]'), "the late naskah is listed with a link"

    durasi = {tr.get("data-langkah"): tr for tr in doc.xpath('//table[@id="tabel-durasi"]/tbody/tr')}
    assert durasi["draft"].xpath('string(./td[@data-kolom="jumlah"])') == "2"  # two submits
    assert durasi["legal_review"].xpath('string(./td[@data-kolom="jumlah"])') == "1"
    assert durasi["legal_review"].xpath('string(./td[@data-kolom="melebihi"])') == "1"  # 2 h 55 m > 30 menit

    cap = {
        tr.get("data-kelompok"): tr.xpath('string(./td[@data-kolom="jumlah"])')
        for tr in doc.xpath('//table[@id="tabel-cap_waktu"]/tbody/tr')
    }
    due = api.client.get("/api/v1/monitoring/cap-waktu", headers=api.auth("secretariat")).json()
    assert cap == {"terlambat": "0", "90": "1", "365": "0"} and due["count"] == 1
    assert doc.xpath(f'//a[@href="/arsip/{ids["renew"]}/verifikasi"]')

    # the page's numbers are the pipeline's, and the charts draw the same numbers (the JSON data block)
    with session_scope(api.services.engine) as session:
        user = session.exec(select(User).where(User.username == "u-secretariat")).one()
        d = dashboard.dashboard(session, user, api.services.profile, dt.datetime.now(dt.UTC))
    summary = api.client.get("/api/v1/monitoring/ringkasan", headers=api.auth("secretariat"))
    assert summary.status_code == 200, summary.text
    body = summary.json()
    surel = body.pop("surel")  # the mail outbox (pipeline.inbox.notifications.mail_health): the secretariat's
    assert surel["antre"] == 0 and surel["bermasalah"] is False and surel["server"] == "tidak dikonfigurasi"
    assert body == json.loads(json.dumps(d.to_dict()))  # the API's numbers are the page's
    assert {str(r["tahun"]): r["total"] for r in summary.json()["per_tahun"]} == {"2024": 1, "2025": 2, "2026": 3}
    assert [r["total"] for r in summary.json()["berakhir"]] == [int(v["total"]) for v in ending.values()]
    assert {r["langkah"]: r["melebihi"] for r in summary.json()["durasi"]} == {
        k: int(tr.xpath('string(./td[@data-kolom="melebihi"])')) for k, tr in durasi.items()
    }
    charts = json.loads(doc.xpath('string(//script[@id="dasbor-data"])'))
    assert doc.xpath('//script[@id="dasbor-data"]/@type') == ["application/json"]
    assert charts["per_tahun"]["labels"] == ["2024", "2025", "2026"]
    assert [ds["data"] for ds in charts["per_tahun"]["datasets"]] == [
        [r.jumlah[j] for r in d.per_tahun] for j in ("KSDD", "KSDPK", "KSIV")
    ]
    assert charts["proses"]["datasets"][1]["data"] == [r.terlambat for r in d.proses]
    for canvas in doc.xpath("//canvas"):
        assert canvas.get("role") == "img" and canvas.get("aria-label")


@SERVICES
def test_a_reader_who_may_not_see_some_kerja_sama_gets_counts_without_them(api, browsers):
    with_monitoring_routes(api)
    seed(api.services.engine, api.services.profile)
    doc = monitoring(browsers, "kadis_dlh")  # the Dinas Lingkungan Hidup's head: not Dinas Perhubungan's
    everyone = monitoring(browsers, "secretariat")
    assert table(everyone, "per_tahun")["2026"]["KSDPK"] == "1"
    assert table(doc, "per_tahun")["2026"] == {"KSDD": "1", "KSDPK": "0", "KSIV": "1", "total": "2"}
    assert "Dinas Perhubungan" not in doc.text_content()
    assert sum(int(v["tepat_waktu"]) + int(v["terlambat"]) for v in table(doc, "proses").values()) == 3
    assert sum(int(v["tepat_waktu"]) + int(v["terlambat"]) for v in table(everyone, "proses").values()) == 4
    with session_scope(api.services.engine) as session:
        kadis = session.exec(select(User).where(User.username == "kadis_dlh")).one()
        token = issue_token(session, kadis)
    r = api.client.get("/api/v1/monitoring/ringkasan", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and {x["tahun"]: x["jumlah"]["KSDPK"] for x in r.json()["per_tahun"]}[2026] == 0


@SERVICES
def test_the_header_links_to_monitoring_for_readers_only(api, browsers):
    page = monitoring(browsers, "secretariat")  # nothing yet: each section says so, no empty chart
    assert page.xpath('//nav//a[@href="/monitoring"][@aria-current="page"]')
    assert "Belum ada kerja sama yang diarsipkan." in page.text_content()
    assert "Tidak ada naskah dalam proses." in page.text_content()
    admin = lxml_html.fromstring(browsers["admin"].get("/akun/kata-sandi").text)
    assert not admin.xpath('//nav//a[@href="/monitoring"]')
    assert browsers["admin"].get("/monitoring").status_code == 403
    assert browsers["drafter"].get("/", follow_redirects=False).text.count('href="/monitoring"') == 1
