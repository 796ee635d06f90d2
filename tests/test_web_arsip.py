"""The Arsip pages over plain HTTP (no browser): the search page's filters, sorting, counts and masa berlaku
buckets are the pipeline's and the API's (``GET /api/v1/arsip``); the rekap downloads with the page's
filters are the API's bytes; the record page shows every field, the related naskah, each stored version
and the verification report; a damaged stored original is a red banner, not a 500; a reader who may
not see a kerja sama finds nothing of it (rows, counts, rekap, record: 404).

The browser's view (search, open a record, download, axe, a phone's width) is
tests/test_web_arsip_browser.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
from pathlib import Path

import pytest
from lxml import html as lxml_html
from openpyxl import load_workbook
from sqlmodel import col, select

from api.web.render import environment
from pipeline.archival import archive
from pipeline.auth import create_user, issue_token
from pipeline.models import Arsip, User
from storage.db import session_scope
from storage.objects import LocalObjectStore
from tests.test_archive import signed_kb
from tests.test_kuasa import kuasa_api
from tests.test_recap import add_arsip
from tests.test_web_beranda import browsers

SERVICES = pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
# free text and masa are SQL (LIKE, dates): the same answers on PostgreSQL
BOTH_DATABASES = pytest.mark.parametrize("services", ["sqlite-local", "postgres-local"], indirect=True)

__all__ = ["browsers", "kuasa_api"]


def today_of(api) -> dt.date:
    return dt.datetime.now(api.services.profile.tz).date()


def seed(api) -> dict[str, int]:
    """Archived agreements around today: ended yesterday, ending today, in 90 and 91 days, over
    three years, three jenis kerja sama, two OPD (one Dinas Perhubungan's)."""
    db, today = api.services.engine, today_of(api)
    ids: dict[str, int] = {}
    ids["lewat"], _ = add_arsip(
        db, judul="Air Minum Lintas Batas", tanggal_ttd=dt.date(2024, 2, 1), selesai=today - dt.timedelta(days=1)
    )
    ids["hari_ini"], _ = add_arsip(
        db, jenis_kerja_sama="KSDPK", judul="Bank Sampah", tanggal_ttd=dt.date(2025, 3, 1), selesai=today, serial=2
    )
    ids["90"], _ = add_arsip(
        db,
        jenis_kerja_sama="KSIV",
        judul="Sertipikasi Aset",
        tanggal_ttd=dt.date(2025, 4, 1),
        selesai=today + dt.timedelta(days=90),
        serial=3,
    )
    ids["91"], _ = add_arsip(
        db,
        jenis="PKS",
        judul="Pengangkutan Sampah",
        tanggal_ttd=dt.date(2026, 1, 5),
        selesai=today + dt.timedelta(days=91),
        serial=4,
    )
    ids["dishub"], _ = add_arsip(
        db,
        jenis_kerja_sama="KSDPK",
        judul="Terminal Tipe B",
        opd="Dinas Perhubungan",
        tanggal_ttd=dt.date(2026, 3, 1),
        selesai=today + dt.timedelta(days=400),
        serial=5,
    )
    return ids


def search_page(browsers, who: str, **params: str):
    r = browsers[who].get("/arsip", params=params, follow_redirects=False)
    assert r.status_code == 200, (r.status_code, r.text[:500])
    return lxml_html.fromstring(r.text)


def row_ids(doc) -> list[int]:
    """The arsip ids of the result rows, in the page's order (each row's judul links its record)."""
    return [int(h.rsplit("/", 1)[1]) for h in doc.xpath("//table//td[@data-label='Naskah']/a/@href")]


def api_ids(api, who: str = "secretariat", **params) -> tuple[list[int], int]:
    r = api.client.get("/api/v1/arsip", params={"limit": 200, **params}, headers=api.auth(who))
    assert r.status_code == 200, r.text
    return [a["id"] for a in r.json()["data"]], r.json()["count"]


def count_text(doc) -> str:
    return " ".join(doc.xpath("string(//p[contains(@class,'result-count')])").split())


@BOTH_DATABASES
def test_search_filters_and_sorting_are_the_apis_and_each_row_shows_nomor_pihak_and_dates(api, browsers):
    ids = seed(api)
    for params in (
        {},
        {"jenis_kerja_sama": "KSDPK"},
        {"jenis": "PKS"},
        {"tahun": "2025"},
        {"opd": "perhubungan"},
        {"q": "sampah"},
        {"q": "sampah", "sort": "judul"},
        {"sort": "selesai"},
        {"sort": "-judul"},
        {"sort": "tanggal", "jenis_kerja_sama": "KSDD"},
    ):
        doc = search_page(browsers, "secretariat", **params)
        expected, count = api_ids(api, **params)
        assert row_ids(doc) == expected, params
        assert count_text(doc).startswith(f"{count} arsip"), (params, count_text(doc))
    assert row_ids(search_page(browsers, "secretariat", sort="selesai")) == [
        ids["lewat"],
        ids["hari_ini"],
        ids["90"],
        ids["91"],
        ids["dishub"],
    ]
    assert row_ids(search_page(browsers, "secretariat", sort="judul"))[0] == ids["lewat"]  # "Air Minum ..."
    doc = search_page(browsers, "secretariat", jenis_kerja_sama="KSDPK")
    assert count_text(doc).startswith("2 arsip cocok dengan pencarian")
    assert doc.xpath("//select[@name='sort']/option[@selected]/@value") == ["-tanggal"]

    # a row: both parties' nomor, judul, pihak, signing date, valid until
    row = search_page(browsers, "secretariat", q="terminal").xpath("//table/tbody/tr")[0]
    text = " ".join(row.text_content().split())
    for part in (
        "Terminal Tipe B",
        "100.3.7.1/5/Tapem/2026",
        "000.1/5/MITRA/2026",
        "Pemerintah Kabupaten Paser",
        "PT Energi Hijau Nusantara",
        "1 Maret 2026",
    ):
        assert part in text, part
    selesai = today_of(api) + dt.timedelta(days=400)
    assert str(selesai.year) in row.xpath("string(./td[@data-label='Masa berlaku'])")


def test_masa_of_is_three_disjoint_buckets_around_today():
    from pipeline.archival.archive import masa_of

    today = dt.date(2026, 12, 7)
    assert masa_of(today - dt.timedelta(days=1), today) == "kedaluwarsa"
    assert masa_of(today, today) == "segera_berakhir"  # the last day still holds
    assert masa_of(today + dt.timedelta(days=90), today) == "segera_berakhir"
    assert masa_of(today + dt.timedelta(days=91), today) == "berlaku"
    assert masa_of(today + dt.timedelta(days=31), today, dalam_hari=30) == "berlaku"


@SERVICES
def test_masa_berlaku_buckets_around_today_and_the_badges_agree(api, browsers):
    ids = seed(api)
    buckets = {
        "kedaluwarsa": [ids["lewat"]],
        "segera_berakhir": [ids["hari_ini"], ids["90"]],  # ending today still holds today; day 90 is within
        "berlaku": [ids["91"], ids["dishub"]],
    }
    for masa, expected in buckets.items():
        doc = search_page(browsers, "secretariat", masa=masa, sort="selesai")
        assert row_ids(doc) == expected, masa
        assert api_ids(api, masa=masa, sort="selesai")[0] == expected
        badges = doc.xpath("//td[@data-label='Masa berlaku']/span[contains(@class,'badge')]/@class")
        assert all(f"masa-{masa}" in b for b in badges) and len(badges) == len(expected)
    labels = {
        "kedaluwarsa": "Sudah berakhir",
        "segera_berakhir": "Segera berakhir",
        "berlaku": "Masih berlaku",
    }
    doc = search_page(browsers, "secretariat", sort="selesai")
    shown = [
        " ".join(b.split()) for b in doc.xpath("//td[@data-label='Masa berlaku']/span[contains(@class,'badge')]/text()")
    ]
    assert shown == [
        labels["kedaluwarsa"],
        labels["segera_berakhir"],
        labels["segera_berakhir"],
        labels["berlaku"],
        labels["berlaku"],
    ]
    # the API says the same bucket for each record
    r = api.client.get("/api/v1/arsip", params={"sort": "selesai"}, headers=api.auth("secretariat"))
    assert [a["status_masa"] for a in r.json()["data"]] == [
        "kedaluwarsa",
        "segera_berakhir",
        "segera_berakhir",
        "berlaku",
        "berlaku",
    ]


@SERVICES
def test_pagination_counts_and_links_keep_the_filters(api, browsers):
    db = api.services.engine
    for n in range(23):
        add_arsip(
            db, judul=f"Kerja Sama Nomor {n:02d}", tanggal_ttd=dt.date(2025, 1, 1) + dt.timedelta(days=n), serial=n
        )
    doc = search_page(browsers, "secretariat", q="kerja sama", sort="judul")
    assert count_text(doc) == "23 arsip cocok dengan pencarian · menampilkan 1–20 · halaman 1 dari 2"
    assert len(row_ids(doc)) == 20
    next_url = doc.xpath("//a[@rel='next']/@href")[0]
    assert "q=kerja+sama" in next_url and "sort=judul" in next_url and "halaman=2" in next_url
    page2 = lxml_html.fromstring(browsers["secretariat"].get(next_url).text)
    assert count_text(page2) == "23 arsip cocok dengan pencarian · menampilkan 21–23 · halaman 2 dari 2"
    assert row_ids(doc) + row_ids(page2) == api_ids(api, q="kerja sama", sort="judul")[0]


@BOTH_DATABASES
def test_a_broad_search_is_counted_up_to_the_limit_and_says_more_than(api, browsers, monkeypatch):
    """An exact count reads every match (100,000 records: the page's slowest part), so the page counts
    up to ``archive.PAGE_COUNT_LIMIT`` or the end of the asked page: "lebih dari N"; rows are the API's."""
    monkeypatch.setattr(archive, "PAGE_COUNT_LIMIT", 30)
    db = api.services.engine
    for n in range(45):
        add_arsip(
            db, judul=f"Kerja Sama Nomor {n:02d}", tanggal_ttd=dt.date(2025, 1, 1) + dt.timedelta(days=n), serial=n
        )
    doc = search_page(browsers, "secretariat", q="kerja sama", sort="judul")
    assert count_text(doc) == "lebih dari 30 arsip cocok dengan pencarian · menampilkan 1–20 · halaman 1"
    assert doc.xpath("string(//li[@aria-current='page'])").strip() == "1"
    page2 = lxml_html.fromstring(browsers["secretariat"].get(doc.xpath("//a[@rel='next']/@href")[0]).text)
    assert count_text(page2) == "lebih dari 40 arsip cocok dengan pencarian · menampilkan 21–40 · halaman 2"
    page3 = lxml_html.fromstring(browsers["secretariat"].get(page2.xpath("//a[@rel='next']/@href")[0]).text)
    assert count_text(page3) == "45 arsip cocok dengan pencarian · menampilkan 41–45 · halaman 3 dari 3"
    assert page3.xpath("//a[@rel='next']") == []
    assert row_ids(doc) + row_ids(page2) + row_ids(page3) == api_ids(api, q="kerja sama", sort="judul")[0]
    assert api_ids(api, q="kerja sama")[1] == 45  # the API's count stays exact
    assert count_text(search_page(browsers, "secretariat", q="nomor 07")).startswith("1 arsip cocok")
    # in the pipeline: exact below the limit, a lower bound above it
    with session_scope(db) as session:
        user = session.exec(select(User).where(col(User.username).in_(["secretariat", "u-secretariat"]))).one()
        today = today_of(api)
        query = archive.ArsipQuery(q="kerja sama", limit=20)
        broad = archive.search_page(session, user, query, today, profile=api.services.profile, count_limit=44)
        assert (broad.count, broad.exact) == (44, False)
        whole = archive.search_page(session, user, query, today, profile=api.services.profile, count_limit=45)
        assert (whole.count, whole.exact) == (45, True)
        assert [a.id for a in whole.rows] == [
            a.id for a in archive.search(session, user, query, today, profile=api.services.profile)[0]
        ]


@BOTH_DATABASES
def test_the_page_has_the_apis_rows_when_matches_lie_at_the_far_end_of_the_sort(api):
    """Matches that are not spread over the archive (a word only in the oldest records, one OPD's) are
    where the database's plan in sort order reads every record: the page finds the matches first.  For
    every sort and page, narrow (exact count) and broad (counted up to a limit), the rows are the API's."""
    db, today = api.services.engine, today_of(api)
    for n in range(30):  # "Irigasi" only in the 6 oldest, which end first and sort first by judul
        old = n < 6
        add_arsip(
            db,
            judul=f"{'Air Irigasi' if old else 'Jalan Kabupaten'} Ruas {n:02d}",
            tanggal_ttd=dt.date(2020, 1, 1) + dt.timedelta(days=30 * n),
            selesai=dt.date(2030, 1, 1) + dt.timedelta(days=30 * n),
            opd="Dinas Pekerjaan Umum" if old else "Dinas Lingkungan Hidup",
            jenis="PKS" if n % 3 else "KB",
            serial=n,
        )
    with session_scope(db) as session:
        create_user(
            session,
            username="kadis_pu",
            nama="Kadis PU",
            jabatan="Kepala Dinas",
            roles=["signer"],
            opd="Dinas Pekerjaan Umum",
        )
    profile = api.services.profile
    with session_scope(db) as session:
        users = {u.username: u for u in session.exec(select(User)).all()}
        secretariat = next(u for name, u in users.items() if name in ("secretariat", "u-secretariat"))
        cases = [
            (secretariat, {"q": "irigasi"}, 6),
            (secretariat, {"q": "ruas", "jenis": "KB"}, 10),
            (secretariat, {"q": "ruas"}, 30),
            (users["kadis_pu"], {}, 6),
            (users["kadis_pu"], {"q": "jalan"}, 0),
        ]
        for user, params, total in cases:
            for sort in archive.SORT_KEYS:
                for offset in (0, 5, 40):
                    query = archive.ArsipQuery(**params, sort=sort, offset=offset, limit=5)
                    want, count = archive.search(session, user, query, today, profile=profile)
                    assert count == total
                    for limit in (8, 1000):  # 8: a broad search past its count limit
                        got = archive.search_page(session, user, query, today, profile=profile, count_limit=limit)
                        assert [a.id for a in got.rows] == [a.id for a in want], (params, sort, offset, limit)
                        upto = max(limit, offset + 5)
                        assert (got.count, got.exact) == ((total, True) if total <= upto else (upto, False))


def test_more_than_a_thousand_is_written_the_indonesian_way():
    template = environment().get_template("arsip/_hasil.html")
    ctx = dict(
        errors=None,
        fragment=True,
        filtered=False,
        rows=[],
        pages=60,
        page_no=1,
        count=1000,
        exact=False,
        rekap_csv="",
        rekap_xlsx="",
    )
    text = " ".join(lxml_html.fromstring(template.render(**ctx)).xpath("string(//p[@class='result-count'])").split())
    assert text == "lebih dari 1.000 arsip · halaman 1"


@pytest.mark.parametrize("services", ["postgres-local"], indirect=True)
def test_a_reader_of_one_opd_finds_only_its_kerja_sama_on_postgresql_too(api, browsers):
    """On PostgreSQL ``access.arsip_clause`` reads the OPD's kerja sama ids first (one array): the same rows."""
    test_a_reader_of_one_opd_finds_only_its_kerja_sama_in_rows_counts_rekap_and_records(api, browsers)


@SERVICES
def test_rekap_downloads_with_the_pages_filters_are_the_apis(api, browsers):
    seed(api)
    doc = search_page(browsers, "secretariat", jenis_kerja_sama="KSDPK", sort="judul")
    csv_url = doc.xpath("//p[contains(@class,'rekap-links')]/a[1]/@href")[0]
    xlsx_url = doc.xpath("//p[contains(@class,'rekap-links')]/a[2]/@href")[0]
    assert csv_url == "/arsip/rekap.csv?jenis_kerja_sama=KSDPK&sort=judul"
    page_csv = browsers["secretariat"].get(csv_url)
    api_csv = api.client.get(
        "/api/v1/arsip/rekap.csv",
        params={"jenis_kerja_sama": "KSDPK", "sort": "judul"},
        headers=api.auth("secretariat"),
    )
    assert page_csv.status_code == api_csv.status_code == 200
    assert page_csv.content == api_csv.content
    assert page_csv.headers["content-disposition"].startswith("attachment;")
    text = page_csv.content.decode("utf-8-sig")
    assert "Bank Sampah" in text and "Terminal Tipe B" in text and "Sertipikasi Aset" not in text

    page_xlsx = browsers["secretariat"].get(xlsx_url)
    api_xlsx = api.client.get(
        "/api/v1/arsip/rekap.xlsx",
        params={"jenis_kerja_sama": "KSDPK", "sort": "judul"},
        headers=api.auth("secretariat"),
    )
    assert page_xlsx.status_code == 200

    def cells(data: bytes) -> list[tuple]:
        return [tuple(r) for r in load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)]

    assert cells(page_xlsx.content) == cells(api_xlsx.content)
    assert browsers["secretariat"].get("/arsip/rekap.csv?masa=selamanya").status_code == 422


@SERVICES
def test_a_reader_of_one_opd_finds_only_its_kerja_sama_in_rows_counts_rekap_and_records(api, browsers):
    ids = seed(api)
    with session_scope(api.services.engine) as session:
        create_user(
            session,
            username="kadis_dishub",
            nama="Kadis Dishub",
            jabatan="Kepala Dinas",
            roles=["signer"],
            opd="Dinas Perhubungan",
        )
        token = issue_token(session, session.exec(select(User).where(User.username == "kadis_dishub")).one())
    doc = search_page(browsers, "kadis_dishub")
    assert row_ids(doc) == [ids["dishub"]] and count_text(doc).startswith("1 arsip")
    assert row_ids(search_page(browsers, "kadis_dishub", q="sampah")) == []
    assert count_text(search_page(browsers, "kadis_dishub", q="sampah")).startswith("0 arsip")
    rekap = browsers["kadis_dishub"].get("/arsip/rekap.csv").content.decode("utf-8-sig")
    assert "Terminal Tipe B" in rekap and "Sampah" not in rekap
    assert (
        rekap.encode()
        == api.client.get("/api/v1/arsip/rekap.csv", headers={"Authorization": f"Bearer {token}"})
        .content.decode("utf-8-sig")
        .encode()
    )
    for other in (ids["lewat"], ids["91"]):
        assert browsers["kadis_dishub"].get(f"/arsip/{other}").status_code == 404
        assert browsers["kadis_dishub"].get(f"/arsip/{other}/asli.pdf").status_code == 404
        assert browsers["kadis_dishub"].get(f"/arsip/{other}/lihat.pdf").status_code == 404
    assert browsers["kadis_dishub"].get("/arsip/999999").status_code == 404


@SERVICES
def test_record_page_shows_every_field_versions_and_the_report_and_a_damaged_original_is_a_red_banner(
    signers_api, browsers, dev_pki, counterparty_pki
):
    api = signers_api
    nid = signed_kb(api, dev_pki, counterparty_pki)
    r = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat"))
    assert r.status_code == 201, r.text
    arsip = r.json()
    aid = arsip["id"]

    page = browsers["secretariat"].get(f"/arsip/{aid}")
    assert page.status_code == 200, page.text[:500]
    doc = lxml_html.fromstring(page.text)
    fields = {dd.get("data-field"): " ".join(dd.text_content().split()) for dd in doc.xpath("//dd[@data-field]")}
    assert fields["id"] == str(aid) and arsip["judul"] in doc.xpath("string(//h1)")
    assert fields["sha256"] == arsip["sha256"] and fields["jenis_kerja_sama"] == "KSDD"
    for nomor in arsip["nomor"].values():
        assert nomor in fields["pihak"]
    assert "dr. Fahmi Fadli" in fields["pihak"] and "H. Rahmad Mas'ud, S.E., M.E." in fields["pihak"]
    assert fields["opd_teknis"] == arsip["opd_teknis"]
    assert "Masih berlaku" in fields["masa"]
    with session_scope(api.services.engine) as session:
        row = session.get(Arsip, aid)
        retain = row.retain_until
    from api.web.render import _tanggal

    assert fields["retain_until"] == _tanggal(retain)
    versions = doc.xpath("//ol[contains(@class,'versions')]/li")
    assert len(versions) == 1
    assert arsip["sha256"] in versions[0].text_content() and "versi sekarang" in versions[0].text_content()
    assert _tanggal(retain) in versions[0].xpath("string(.//dd[contains(@class,'lock-until')])")
    listed = api.client.get(f"/api/v1/arsip/{aid}/versions", headers=api.auth("secretariat")).json()
    assert [(v["sha256"], v["reason"], v["current"]) for v in listed] == [(arsip["sha256"], "archive", True)]
    assert dt.datetime.fromisoformat(listed[0]["lock_until"]) == retain

    report = doc.xpath("string(//section[@aria-labelledby='judul-laporan'])")
    report = " ".join(report.split())
    assert "Naskah asli ini sah dan utuh" in report
    assert report.count("Milik penanda tangan yang tercantum") == 2
    assert "Diterbitkan oleh (CA)" in report and "Atas kuasa" in report
    cas = [" ".join(x.text_content().split()) for x in doc.xpath("//dd[contains(@class,'ca')]")]
    verified = api.client.get(f"/api/v1/arsip/{aid}/verify", headers=api.auth("secretariat")).json()
    assert cas == [s["certificate_issuer"] for s in verified["signatures"]] and all(cas)
    assert "Tidak (menandatangani sendiri)" in report
    assert "Rantai B-LTA harus diperbarui" in report

    # download the original: byte for byte the API's, and the same sha256
    data = browsers["secretariat"].get(doc.xpath("//a[text()='Unduh naskah asli']/@href")[0]).content
    assert data == api.client.get(f"/api/v1/arsip/{aid}/original.pdf", headers=api.auth("secretariat")).content
    assert hashlib.sha256(data).hexdigest() == arsip["sha256"]
    lihat = browsers["secretariat"].get(f"/arsip/{aid}/lihat.pdf")
    assert lihat.content == data and lihat.headers["content-disposition"].startswith("inline;")

    # one bit flipped in the stored version: the page says so in red, the fields stay, no 500
    store = api.services.archive_store
    assert isinstance(store, LocalObjectStore)
    blob = Path(store.root, *arsip["key"].split("/"), f"{arsip['version_id']}.blob")
    os.chmod(blob, 0o644)
    damaged = bytearray(blob.read_bytes())
    damaged[len(damaged) // 2] ^= 0x01
    blob.write_bytes(bytes(damaged))
    page = browsers["secretariat"].get(f"/arsip/{aid}")
    assert page.status_code == 200
    doc = lxml_html.fromstring(page.text)
    banner = doc.xpath("//div[contains(@class,'integrity-alarm')]")
    assert banner and banner[0].get("role") == "alert" and "alert-danger" in banner[0].get("class")
    assert "sidik (sha256)" in banner[0].text_content()
    assert arsip["sha256"] in page.text  # the record is still shown, to be reported
    assert not doc.xpath("//a[text()='Unduh naskah asli']")
    assert browsers["secretariat"].get(f"/arsip/{aid}/asli.pdf").status_code == 500  # never the damaged bytes


@SERVICES
def test_record_page_links_the_related_naskah_the_reader_may_see_and_says_when_the_original_is_unreadable(
    api, browsers
):
    db = api.services.engine
    kb, kb_naskah = add_arsip(db, judul="Pengelolaan Sampah Regional")
    _, dishub_naskah = add_arsip(db, judul="Terminal Tipe B", opd="Dinas Perhubungan", serial=2)
    with session_scope(db) as session:
        case_id = session.get(Arsip, kb).kerja_sama_id
    pks, _ = add_arsip(
        db,
        jenis="PKS",
        judul="Pengangkutan Sampah",
        case_id=case_id,
        parent_id=kb_naskah,
        related=[
            {"naskah_id": kb_naskah, "jenis": "KB", "hubungan": "induk", "status": "archived"},
            {"naskah_id": dishub_naskah, "jenis": "SK", "hubungan": "turunan", "status": "signed"},
        ],
        serial=3,
    )
    with session_scope(db) as session:
        create_user(
            session,
            username="kadis_dlh",
            nama="Kadis DLH",
            jabatan="Kepala Dinas",
            roles=["signer"],
            opd="Dinas Lingkungan Hidup",
        )
    for who, links in (
        ("secretariat", [f"/naskah/{kb_naskah}", f"/naskah/{dishub_naskah}"]),
        ("kadis_dlh", [f"/naskah/{kb_naskah}"]),  # the other OPD's naskah is not named
    ):
        r = browsers[who].get(f"/arsip/{pks}")
        assert r.status_code == 200, (who, r.text[:300])
        doc = lxml_html.fromstring(r.text)
        assert doc.xpath("//dd[@data-field='related']//a/@href") == links, who
        # the rows point at no stored object: the record is shown with a banner saying so, no download
        assert doc.xpath("//div[contains(@class,'stored-unreadable')][@role='alert']")
        assert not doc.xpath("//a[text()='Unduh naskah asli']")


@SERVICES
def test_record_page_names_the_surat_kuasa_a_delegate_signed_under_and_links_it(
    kuasa_api, browsers, dev_pki, counterparty_pki
):
    from tests.test_api import create_case, create_naskah, hari_ini
    from tests.test_kuasa import (
        KEPALA_DLH,
        MITRA_DLH,
        SK_NOMOR,
        pks_under_kuasa,
        plan,
        sign,
        surat_kuasa,
        through_paraf,
    )

    api = kuasa_api
    today = hari_ini()
    case_id = create_case(api)
    create_naskah(api, case_id, "KB")
    pks = pks_under_kuasa(api, case_id)
    through_paraf(api, pks)
    sk = surat_kuasa(api, case_id, pks, mulai=today, sampai=today + dt.timedelta(days=30))
    through_paraf(api, sk)
    assert (
        plan(
            api, sk, [{"pihak_urutan": 2, "username": "kadis_dlh"}, {"pihak_urutan": 1, "username": "bupati"}]
        ).status_code
        == 201
    )
    kadis_p12 = dev_pki.issue_person("Budi Santoso", nip="196612111986091002").to_pkcs12("rahasia")
    assert sign(api, sk, "kadis_dlh", kadis_p12).status_code == 200
    assert sign(api, sk, "bupati", dev_pki.issue_person("dr. Fahmi Fadli").to_pkcs12("rahasia")).status_code == 200
    steps = [{"pihak_urutan": 2, "username": "kadis_mitra"}, {"pihak_urutan": 1, "username": "kadis_dlh"}]
    assert plan(api, pks, steps).status_code == 201
    assert (
        sign(api, pks, "kadis_mitra", counterparty_pki.issue_person(MITRA_DLH).to_pkcs12("rahasia")).status_code == 200
    )
    assert sign(api, pks, "kadis_dlh", kadis_p12).status_code == 200
    r = api.client.post(f"/api/v1/naskah/{pks}/archive", headers=api.auth("secretariat"))
    assert r.status_code == 201, r.text

    doc = lxml_html.fromstring(browsers["secretariat"].get(f"/arsip/{r.json()['id']}").text)
    cards = {
        " ".join(c.xpath("string(.//h3)").split()): c for c in doc.xpath("//li[contains(@class,'signature-card')]")
    }
    delegate = next(c for name, c in cards.items() if "Budi Santoso" in name or KEPALA_DLH in name)
    kuasa = delegate.xpath(".//dd[contains(@class,'kuasa')]")[0]
    assert SK_NOMOR in kuasa.text_content() and kuasa.xpath(".//a/@href") == [f"/naskah/{sk}"]
    assert "Bupati" in kuasa.text_content()  # from whom
    mitra = next(c for name, c in cards.items() if MITRA_DLH in name)
    assert "Tidak (menandatangani sendiri)" in mitra.xpath("string(.//dd[contains(@class,'kuasa')])")
    assert f"/naskah/{sk}" in doc.xpath("//dd[@data-field='related']//a/@href")
