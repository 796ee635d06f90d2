"""The audit trail's pages in a real browser (Debian's Chromium): the drafter opens a naskah's timeline from
its page; the Kepala Bagian Hukum filters the whole trail and presses "Periksa rantai"; every page passes
axe and fits a 390-px phone without horizontal scrolling.  The rules behind the pages are
tests/test_web_audit.py's (plain HTTP).
"""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.browser import axe_violations, screenshot
from tests.test_web_audit import NOTE, returned_naskah
from tests.test_web_publik_browser import _api, _fits

PHONE = {"width": 390, "height": 844}


def test_the_timeline_the_filtered_trail_and_periksa_rantai_on_a_phone(live, tmp_path: Path):
    api = _api(live)
    naskah = returned_naskah(api)
    nid = naskah["id"]

    page = live.sign_in("u-drafter", viewport=PHONE)
    page.goto(f"/naskah/{nid}")
    page.click(f"a[href='/naskah/{nid}/jejak']")
    page.wait_for_selector("h1:has-text('Jejak audit')")
    first = page.locator("ol.jejak > li").first
    assert "mengembalikan rancangan" in first.inner_text() and NOTE in first.inner_text()  # newest first
    assert "WITA" in first.inner_text()
    assert axe_violations(page) == []
    assert _fits(page)
    screenshot(page, "web-jejak-naskah-390", tmp_path)

    page = live.sign_in("kabag_hukum", viewport=PHONE)
    page.goto("/audit")
    page.select_option("#f-action", "return")
    page.fill("#f-naskah", str(nid))
    page.click("main form[role=search] button[type=submit]")
    page.wait_for_selector("p.result-count:has-text('1 entri cocok')")
    assert page.locator("ol.jejak > li").count() == 1
    assert NOTE in page.locator("ol.jejak > li").inner_text()
    assert axe_violations(page) == []
    assert _fits(page)
    screenshot(page, "web-jejak-daftar-390", tmp_path)

    page.click("#rantai button[type=submit]")
    page.wait_for_selector("#hasil-rantai")
    result = page.locator("#hasil-rantai").inner_text()
    assert "Rantai utuh" in result and "entri diperiksa" in result
    assert axe_violations(page) == []
    assert _fits(page)
    screenshot(page, "web-jejak-rantai-390", tmp_path, full_page=False)


def test_periksa_rantai_works_without_javascript(live, tmp_path: Path):
    page = live.sign_in("u-secretariat", java_script_enabled=False)
    page.goto("/audit")
    page.click("#rantai button[type=submit]")
    page.wait_for_url("**/audit?periksa=*")
    assert "Rantai utuh" in page.locator("#hasil-rantai").inner_text()
    screenshot(page, "web-jejak-rantai", tmp_path, full_page=False)
