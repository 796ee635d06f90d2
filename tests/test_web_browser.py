"""The pages in a real browser (Debian's Chromium via Playwright; tests/fixtures/browser.py).

What only a browser shows: the sign-in form works with a keyboard and real cookies, htmx really
sends the CSRF header from ``<body hx-headers>``, axe-core finds no serious or critical accessibility
problem, the Content-Security-Policy blocks nothing of our own, and a phone's width needs no
horizontal scrolling.  ``NASKAH_SCREENSHOTS=1`` writes the screenshots into docs/img/.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlmodel import select

from pipeline.auth import issue_token
from pipeline.models import SignInFailure, User, WebSession
from storage.db import session_scope
from tests.fixtures.browser import PASSWORD, axe_violations, screenshot
from tests.test_api import case_body


def _csp_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    return errors


def test_sign_in_page_passes_axe_and_signs_in_to_beranda(live, tmp_path):
    page = live.context().new_page()
    blocked = _csp_errors(page)
    page.goto("/masuk")
    assert page.locator("html").get_attribute("lang") == "id"
    assert axe_violations(page) == []
    screenshot(page, "web-masuk", tmp_path)
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent").strip() == "Langsung ke isi halaman"
    page.fill("#f-username", "u-drafter")
    page.fill("#f-password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live.url}/")
    assert "Pengguna drafter" in page.inner_text("header")
    assert blocked == []


def test_a_wrong_password_marks_the_field_and_focuses_the_summary(live, tmp_path):
    page = live.context().new_page()
    page.goto("/masuk")
    page.fill("#f-username", "u-legal")
    page.fill("#f-password", "bukan-kata-sandinya")
    page.click("main button[type=submit]")
    assert page.locator(".error-summary h2").inner_text() == "Ada masalah"
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert "is-invalid" in page.get_attribute("#f-password", "class")
    assert page.input_value("#f-username") == "u-legal" and page.input_value("#f-password") == ""
    assert axe_violations(page) == []
    screenshot(page, "web-masuk-galat", tmp_path)
    page.click(".error-summary a")  # the link goes to the field
    assert page.evaluate("document.activeElement.id") == "f-password"
    with session_scope(live.services.engine) as session:
        for row in session.exec(select(SignInFailure)).all():
            session.delete(row)  # leave no brake for the other tests


def test_repeated_failures_are_braked_with_a_clear_message(live):
    page = live.context().new_page()
    for _ in range(6):
        page.goto("/masuk")
        page.fill("#f-username", "u-paraf")
        page.fill("#f-password", "tebakan-yang-salah")
        page.click("main button[type=submit]")
    text = page.inner_text(".error-summary")
    assert "Terlalu banyak percobaan masuk yang gagal" in text and "coba lagi pukul" in text
    with session_scope(live.services.engine) as session:
        for row in session.exec(select(SignInFailure)).all():
            session.delete(row)


def test_beranda_passes_axe_and_fits_a_390_px_phone(live):
    created = live.services  # a kerja sama the drafter sees, made through the API's pipeline call
    from fastapi.testclient import TestClient  # noqa: F401 - the live server is used, not a TestClient

    with session_scope(created.engine) as session:
        user = session.exec(select(User).where(User.username == "u-drafter")).one()
        token = issue_token(session, user)
    r = httpx.post(f"{live.url}/api/v1/cases", json=case_body(), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    page = live.sign_in("u-drafter")
    blocked = _csp_errors(page)
    page.reload()
    assert page.get_by_role("heading", name="Tugas saya").is_visible()
    assert r.json()["judul"] in page.inner_text("main")
    assert axe_violations(page) == []
    phone = live.sign_in("u-drafter", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    widths = phone.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths
    assert axe_violations(phone) == []
    phone.click(".navbar-toggler")  # the menu opens (Bootstrap's script, not blocked by the CSP)
    phone.get_by_role("link", name="Kerja sama", exact=True).wait_for(state="visible")
    assert blocked == []


def test_sign_out_ends_the_session_and_the_back_button_shows_nothing(live):
    page = live.sign_in("u-secretariat")
    page.click("text=Keluar")
    page.wait_for_url(f"{live.url}/masuk?keluar=1")
    assert "Anda sudah keluar" in page.inner_text("main")
    page.goto("/")
    assert page.url.startswith(f"{live.url}/masuk")


def test_a_session_that_has_been_idle_too_long_asks_to_sign_in_again(live):
    page = live.sign_in("u-signer")
    with session_scope(live.services.engine) as session:
        for row in session.exec(select(WebSession)).all():
            row.last_seen_at -= timedelta(minutes=31)
            session.add(row)
    page.goto("/akun/kata-sandi")
    assert page.url == f"{live.url}/masuk?next=/akun/kata-sandi"
    page.fill("#f-username", "u-signer")
    page.fill("#f-password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live.url}/akun/kata-sandi")  # back where they were going


def test_htmx_sends_the_csrf_header_from_body_and_a_post_without_it_is_refused(live):
    page = live.sign_in("u-legal")
    # htmx 2.0.x inherits hx-headers from <body>: a request it makes carries X-CSRF-Token
    status = page.evaluate(
        """() => new Promise(resolve => {
            document.body.addEventListener('htmx:afterRequest', e => resolve(e.detail.xhr.status), {once: true});
            htmx.ajax('POST', '/akun/kata-sandi', {target: 'main', values: {password_lama: 'x'}});
        })"""
    )
    assert status == 422  # reached the form (its own error), not the CSRF refusal
    refused = page.request.post(f"{live.url}/akun/kata-sandi", form={"password_lama": "x"})
    assert refused.status == 403 and "csrf_token_missing" in refused.text()
    cross = page.request.post(f"{live.url}/keluar", form={"csrf_token": "x"}, headers={"Origin": "http://evil.example"})
    assert cross.status == 403 and "cross_site_request" in cross.text()


def test_the_password_page_passes_axe_with_errors_shown(live, tmp_path):
    page = live.sign_in("u-admin")
    page.goto("/akun/kata-sandi")
    assert axe_violations(page) == []
    page.fill("#f-password_lama", PASSWORD)
    page.fill("#f-password_baru", "pendek")
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    assert "is-invalid" in (page.get_attribute("#f-password_baru", "class") or "")
    assert axe_violations(page) == []
    screenshot(page, "web-kata-sandi-galat", tmp_path)
