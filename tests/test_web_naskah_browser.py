"""The naskah pages in a real browser (Debian's Chromium via Playwright; tests/fixtures/browser.py).

One drafter and one Kepala Bagian Hukum, each in their own browser context, take a Kesepakatan Bersama
through drafting and legal review on the pages only: a revision through the manifest's form (one
mistake first, shown on its field), submitted; returned with a note the drafter then reads; revised,
submitted again, read in the preview and approved.  axe-core on every page, a 390-px phone without horizontal scrolling,
and the screenshots (``NASKAH_SCREENSHOTS=1`` writes docs/img/web-naskah.png for the README).
"""

from __future__ import annotations

import re

import httpx
from sqlmodel import Session, select

from pipeline.auth import issue_token
from pipeline.models import Naskah, User
from storage.db import session_scope
from tests.fixtures.browser import axe_violations, screenshot
from tests.test_api import case_body, naskah_body

RETURN_NOTE = "Pasal 2: tujuan kerja sama belum menyebut TPA Regional Kuaro. Mohon dilengkapi."


def _csp_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    return errors


def _a_naskah(live) -> int:
    """A kerja sama and its KB, made by the drafter through the API (the pages start from the naskah)."""
    with session_scope(live.services.engine) as session:
        user = session.exec(select(User).where(User.username == "u-drafter")).one()
        token = issue_token(session, user)
    auth = {"Authorization": f"Bearer {token}"}
    case = httpx.post(f"{live.url}/api/v1/cases", json=case_body(), headers=auth, timeout=60)
    assert case.status_code == 201, case.text
    naskah = httpx.post(
        f"{live.url}/api/v1/cases/{case.json()['id']}/naskah", json=naskah_body("KB"), headers=auth, timeout=120
    )
    assert naskah.status_code == 201, naskah.text
    return naskah.json()["id"]


def _status(live, nid: int) -> str:
    with Session(live.services.engine) as session:
        return session.get(Naskah, nid).status


def _no_horizontal_scroll(page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], (page.url, widths)


def test_draft_return_revise_and_approve_through_the_pages(live, tmp_path):
    nid = _a_naskah(live)
    drafter = live.sign_in("u-drafter")
    blocked = _csp_errors(drafter)
    drafter.goto(f"/naskah/{nid}")
    assert drafter.locator("h1").inner_text() == "Kesepakatan Bersama"
    assert axe_violations(drafter) == []

    # a new revision through the manifest's form: a required date emptied first
    drafter.get_by_role("link", name="Revisi baru dari isian").click()
    drafter.wait_for_url(f"{live.url}/naskah/{nid}/revisi/baru")
    assert axe_violations(drafter) == []
    drafter.fill("#f-tanggal", "")
    drafter.fill("#f-tempat", "Balikpapan")
    drafter.fill("#f-note", "tempat penandatanganan diubah")
    drafter.click("main button[type=submit]")
    drafter.wait_for_load_state()
    assert drafter.locator(".error-summary h2").inner_text() == "Ada masalah"
    assert drafter.evaluate("document.activeElement.classList.contains('error-summary')")
    assert "is-invalid" in (drafter.get_attribute("#f-tanggal", "class") or "")
    assert drafter.input_value("#f-tempat") == "Balikpapan"  # what was typed is kept
    assert axe_violations(drafter) == []
    screenshot(drafter, "web-naskah-revisi-galat", tmp_path, full_page=False)
    drafter.click(".error-summary a")
    assert drafter.evaluate("document.activeElement.id") == "f-tanggal"
    drafter.fill("#f-tanggal", naskah_body("KB")["data"]["tanggal"])
    drafter.click("main button[type=submit]")
    drafter.wait_for_url(f"{live.url}/naskah/{nid}?selesai=revisi")
    assert "Revisi baru tersimpan" in drafter.inner_text("main")

    drafter.get_by_role("button", name=re.compile("Ajukan revisi 2 ke Bagian Hukum")).click()
    drafter.wait_for_url(f"{live.url}/naskah/{nid}?selesai=ajukan")
    assert _status(live, nid) == "legal_review"

    # Kabag Hukum: the return needs a note; then returns with one
    hukum = live.sign_in("kabag_hukum")
    hukum.goto(f"/naskah/{nid}")
    assert hukum.get_by_role("button", name="Setujui rancangan").is_visible()
    assert "giliran Anda" in hukum.inner_text("#alur")
    assert axe_violations(hukum) == []
    screenshot(hukum, "web-naskah-telaah", tmp_path)
    hukum.get_by_role("button", name="Kembalikan ke penyusun").click()
    hukum.wait_for_load_state()
    assert "Catatan wajib diisi" in hukum.inner_text(".error-summary")
    assert "is-invalid" in (hukum.get_attribute("#f-note", "class") or "")
    assert axe_violations(hukum) == []
    hukum.fill("#f-note", RETURN_NOTE)
    hukum.get_by_role("button", name="Kembalikan ke penyusun").click()
    hukum.wait_for_url(f"{live.url}/naskah/{nid}?selesai=kembalikan")
    assert _status(live, nid) == "returned"

    # the drafter reads the note, revises, submits again
    drafter.goto(f"/naskah/{nid}")
    assert RETURN_NOTE in drafter.inner_text(".catatan-kembali")
    assert axe_violations(drafter) == []
    screenshot(drafter, "web-naskah-dikembalikan", tmp_path)
    drafter.locator(".catatan-kembali").get_by_role("link", name="Buat revisi baru").click()
    drafter.fill("#f-tujuan", "pengelolaan sampah yang terpadu di TPA Regional Kuaro")
    drafter.fill("#f-note", "tujuan dilengkapi sesuai catatan Bagian Hukum")
    drafter.click("main button[type=submit]")
    drafter.wait_for_url(f"{live.url}/naskah/{nid}?selesai=revisi")
    drafter.get_by_role("button", name=re.compile("Ajukan revisi 3")).click()
    drafter.wait_for_url(f"{live.url}/naskah/{nid}?selesai=ajukan")

    # the diff of the last two revisions
    drafter.goto(f"/naskah/{nid}/beda?a=2&b=3")
    assert drafter.locator("ins", has_text="TPA Regional Kuaro").count() >= 1
    assert axe_violations(drafter) == []
    screenshot(drafter, "web-naskah-beda", tmp_path)

    # Kabag Hukum reads revision 3 in the preview: page images, each page's text for screen readers
    hukum.goto(f"/naskah/{nid}")
    hukum.get_by_role("link", name="Baca revisi 3").click()
    hukum.wait_for_url(f"{live.url}/naskah/{nid}/revisi/3/pratinjau")
    first = hukum.locator("#halaman-1 img")
    first.wait_for()
    assert hukum.evaluate("document.querySelector('#halaman-1 img').naturalWidth") > 500  # the PNG loaded
    text = hukum.locator("#teks-1")
    assert "visually-hidden" in (text.get_attribute("class") or "")  # folded, still read aloud
    assert "KESEPAKATAN BERSAMA" in text.text_content()
    toggle = hukum.locator("#halaman-1 .tombol-teks")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert text.is_visible() and toggle.get_attribute("aria-expanded") == "true"
    assert axe_violations(hukum) == []
    screenshot(hukum, "web-naskah-pratinjau", tmp_path, full_page=False)
    hukum.goto(f"/naskah/{nid}")
    hukum.get_by_role("button", name="Setujui rancangan").click()
    hukum.wait_for_url(f"{live.url}/naskah/{nid}?selesai=setujui")
    assert _status(live, nid) == "paraf"
    assert hukum.get_by_role("link", name="Paraf", exact=True).is_visible()

    drafter.goto(f"/naskah/{nid}")
    assert "Pengumpulan paraf" in drafter.inner_text(".page-head")
    assert RETURN_NOTE in drafter.inner_text("#riwayat")
    assert axe_violations(drafter) == []
    screenshot(drafter, "web-naskah", tmp_path)
    drafter.goto(f"/naskah/{nid}/revisi/unggah")
    assert axe_violations(drafter) == []
    assert blocked == []

    # a 390-px phone: the naskah page, the form and the diff without horizontal scrolling
    phone = live.sign_in("u-drafter", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    for path in (f"/naskah/{nid}", f"/naskah/{nid}/beda?a=1&b=3", f"/naskah/{nid}/revisi/3/pratinjau"):
        phone.goto(path)
        _no_horizontal_scroll(phone)
        assert axe_violations(phone) == []
        screenshot(phone, "web-naskah-ponsel-" + path.rsplit("/", 1)[-1].split("?")[0], tmp_path)
    phone_hukum = live.sign_in("kabag_hukum", viewport={"width": 390, "height": 844}, is_mobile=True)
    phone_hukum.goto(f"/naskah/{nid}")
    _no_horizontal_scroll(phone_hukum)


def test_the_revision_form_fits_a_phone_and_uploads_refuse_on_the_field(live, tmp_path):
    nid = _a_naskah(live)
    phone = live.sign_in("u-drafter", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.goto(f"/naskah/{nid}/revisi/baru")
    _no_horizontal_scroll(phone)
    assert axe_violations(phone) == []
    phone.goto(f"/naskah/{nid}/revisi/unggah")
    phone.set_input_files(
        "#f-file", files=[{"name": "naskah.docx", "mimeType": "application/msword", "buffer": b"bukan"}]
    )
    phone.click("main button[type=submit]")
    phone.wait_for_load_state()
    assert "is-invalid" in (phone.get_attribute("#f-file", "class") or "")
    _no_horizontal_scroll(phone)
    assert axe_violations(phone) == []
    screenshot(phone, "web-naskah-unggah-galat", tmp_path)
