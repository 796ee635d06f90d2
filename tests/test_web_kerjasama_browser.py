"""The Kerja sama and Arsip pages in a real browser (Debian's Chromium via Playwright).

A drafter creates a kerja sama through the form (one error first), finds it in the list, opens it and
creates its Kesepakatan Bersama; the secretariat searches the archive and reads a verification report.
Every page: axe-core with no serious or critical violation, and a 390-px phone without horizontal
scrolling.  ``NASKAH_SCREENSHOTS=1`` writes the screenshots into docs/img/.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import select

from api.config import Settings
from api.main import create_app
from pipeline.auth import create_user, issue_token
from pipeline.models import User
from storage.db import session_scope
from tests.fixtures.app import Api
from tests.fixtures.browser import axe_violations, screenshot
from tests.test_api import naskah_body

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def _csp_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    return errors


def fits_a_phone(page: Any) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], (page.url, widths)


def checked(page: Any, name: str, tmp_path: Any) -> None:
    """axe finds nothing serious on the page as it is now; its screenshot is taken."""
    assert axe_violations(page) == [], page.url
    screenshot(page, name, tmp_path)


def test_a_drafter_creates_a_kerja_sama_finds_it_and_creates_its_kb(live, tmp_path):
    page = live.sign_in("u-drafter")
    blocked = _csp_errors(page)
    page.goto("/kerja-sama")
    checked(page, "web-kerja-sama-daftar", tmp_path)
    page.get_by_role("link", name="Buat kerja sama baru").click()
    page.wait_for_url(f"{live.url}/kerja-sama/baru")

    page.check("#f-jenis-KSDD")
    page.fill("#f-objek", "penyediaan air minum curah dari IPA Kuaro untuk wilayah perbatasan")
    page.fill("#f-manfaat", "Warga perbatasan kedua daerah mendapat air minum yang layak")
    page.fill("#f-bentuk", "Kesepakatan Bersama dilanjutkan Perjanjian Kerja Sama")
    page.fill("#f-tahun_anggaran_mulai", "2027")
    page.fill("#f-mulai", "2027-01-01")
    page.fill("#f-selesai", "2031-12-31")
    page.fill("#f-opd_teknis", "Dinas Pekerjaan Umum dan Penataan Ruang")
    for i, (instansi, kind, nama, jabatan) in enumerate(
        [
            ("Pemerintah Kabupaten Paser", "pemda", "dr. Fahmi Fadli", "Bupati Paser"),
            ("Pemerintah Kabupaten Penajam Paser Utara", "pemda", "Mudyat Noor", "Bupati Penajam Paser Utara"),
        ]
    ):
        page.fill(f"[id='f-pihak[{i}].instansi']", instansi)
        page.select_option(f"[id='f-pihak[{i}].kind']", kind)
        page.fill(f"[id='f-pihak[{i}].penandatangan_nama']", nama)
        page.fill(f"[id='f-pihak[{i}].penandatangan_jabatan']", jabatan)
    page.click("main button[value=simpan]:not(.visually-hidden)")  # the judul is still empty
    assert page.locator(".error-summary h2").inner_text() == "Ada masalah"
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert "is-invalid" in page.get_attribute("#f-judul", "class")
    assert page.input_value("[id='f-pihak[1].instansi']") == "Pemerintah Kabupaten Penajam Paser Utara"  # kept
    checked(page, "web-kerja-sama-baru-galat", tmp_path)
    page.click(".error-summary a")
    assert page.evaluate("document.activeElement.id") == "f-judul"
    page.fill("#f-judul", "Penyediaan Air Minum Lintas Batas Paser dan Penajam Paser Utara")
    page.keyboard.press("Tab")
    page.click("main button[value=simpan]:not(.visually-hidden)")
    page.wait_for_url(f"{live.url}/kerja-sama/*?dibuat=1")
    case_url = page.url.split("?")[0]
    assert "Kerja sama sudah disimpan" in page.inner_text("main")
    checked(page, "web-kerja-sama-rincian-baru", tmp_path)

    page.goto("/kerja-sama")  # the list: the search redraws the results in place (htmx)
    page.fill("#f-q", "lintas batas")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live.url}/kerja-sama?q=lintas*")  # the URL of the search, to bookmark
    page.locator("#hasil .result-count", has_text="1 kerja sama cocok").wait_for()
    checked(page, "web-kerja-sama-cari", tmp_path)
    page.get_by_role("link", name="Penyediaan Air Minum Lintas Batas Paser dan Penajam Paser Utara").click()
    page.wait_for_url(case_url)

    page.select_option("#f-jenis", "KB")
    page.get_by_role("button", name="Lanjut: isi naskah").click()
    page.wait_for_url(f"{case_url}/naskah/baru?*")
    checked(page, "web-kerja-sama-naskah-baru", tmp_path)
    sample = naskah_body("KB")
    page.fill("[id='f-nomor[1]']", sample["nomor"]["1"])
    page.fill("[id='f-nomor[2]']", sample["nomor"]["2"])
    page.fill("[id='f-data.tanggal']", sample["data"]["tanggal"])
    page.fill("[id='f-data.tempat']", "Tanah Grogot")
    page.fill("[id='f-data.maksud']", sample["data"]["maksud"])
    page.fill("[id='f-data.tujuan']", sample["data"]["tujuan"])
    page.fill("[id='f-data.ruang_lingkup']", "\n".join(sample["data"]["ruang_lingkup"]))
    page.get_by_role("button", name="Buat naskah").click()
    page.wait_for_url(f"{live.url}/naskah/*", timeout=60_000)  # the naskah page (its own helper's)
    naskah_id = page.url.rsplit("/", 1)[1]

    page.goto(case_url)
    tree = page.locator("section", has=page.get_by_role("heading", name="Naskah", exact=True))
    assert "Kesepakatan Bersama (KB)" in tree.inner_text() and "Penyusunan" in tree.inner_text()
    assert tree.get_by_role("link", name="Kesepakatan Bersama (KB)").get_attribute("href") == f"/naskah/{naskah_id}"
    checked(page, "web-kerja-sama-rincian", tmp_path)

    phone = live.sign_in("u-drafter", **PHONE)
    for path in (
        "/kerja-sama",
        "/kerja-sama/baru",
        case_url.removeprefix(live.url),
        f"{case_url.removeprefix(live.url)}/ubah",
    ):
        phone.goto(path)
        fits_a_phone(phone)
        assert axe_violations(phone) == [], path
    phone.goto("/kerja-sama")
    screenshot(phone, "web-kerja-sama-ponsel", tmp_path)
    phone.goto(case_url)
    screenshot(phone, "web-kerja-sama-rincian-ponsel", tmp_path)
    assert blocked == []


def _api_on(live: Any) -> Api:
    """The live app's services behind a TestClient with a token per user (to arrange data as the API would)."""
    tokens: dict[str, str] = {}
    with session_scope(live.services.engine) as session:
        for user in session.exec(select(User).where(User.active)).all():
            tokens[user.username.removeprefix("u-")] = issue_token(session, user)
    settings = Settings(
        database_url="sqlite://", storage_url="file:/nonexistent", migrate_on_start=False, cleanup_on_start=False
    )
    return Api(client=TestClient(create_app(settings, live.services)), services=live.services, tokens=tokens)


def test_the_secretariat_searches_the_archive_and_reads_a_verification_report(
    live, tmp_path, dev_pki, counterparty_pki
):
    from tests.fixtures.pki import WALIKOTA
    from tests.test_archive import signed_kb

    live.services.trust_roots = [*dev_pki.roots, *counterparty_pki.roots]
    live.services.tsa_url = dev_pki.tsa_url
    with session_scope(live.services.engine) as session:
        if session.exec(select(User).where(User.username == "walikota")).first() is None:
            create_user(session, username="walikota", nama=WALIKOTA, jabatan="Wali Kota", roles=["signer"])
    api = _api_on(live)
    with api.client:
        nid = signed_kb(api, dev_pki, counterparty_pki)
        r = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat"))
        assert r.status_code == 201, r.text
    arsip = r.json()

    page = live.sign_in("u-secretariat")
    blocked = _csp_errors(page)
    page.goto("/arsip")
    page.select_option("#f-jenis", "KB")  # htmx redraws the results
    page.wait_for_url(f"{live.url}/arsip?*jenis=KB*")
    assert page.locator("#hasil").get_by_role("link", name=f"Rincian KB {nid}").is_visible()
    checked(page, "web-arsip", tmp_path)
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Unduh asli KB {nid}").click()
    assert download.value.suggested_filename == f"kb-{nid}.pdf"
    page.get_by_role("link", name=f"Rincian KB {nid}").click()  # the record page carries the report
    page.wait_for_url(f"{live.url}/arsip/{arsip['id']}", timeout=60_000)
    assert "Naskah asli ini sah dan utuh" in page.inner_text(".verdict")
    checked(page, "web-arsip-verifikasi", tmp_path)

    phone = live.sign_in("u-secretariat", **PHONE)
    for path in ("/arsip", f"/arsip/{arsip['id']}/verifikasi"):
        phone.goto(path)
        fits_a_phone(phone)
        assert axe_violations(phone) == [], path
    screenshot(phone, "web-arsip-verifikasi-ponsel", tmp_path)
    assert blocked == []
