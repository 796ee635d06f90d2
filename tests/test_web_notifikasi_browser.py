"""Notifikasi in a real browser (Debian's Chromium; tests/fixtures/browser.py): the header's unread badge
agrees with the API, the inbox lists the turn and the reminder the pipeline wrote, opening one marks it
read and lands on its page, mail is turned off on the settings page; axe-core finds no serious or
critical violation, the CSP blocks nothing, a 390-px phone needs no horizontal scrolling, and the
screenshots (``NASKAH_SCREENSHOTS=1`` writes docs/img/web-notifikasi.png and -ponsel.png)."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlmodel import select

from pipeline.inbox import notifications
from pipeline.models import User
from storage.db import session_scope
from tests.fixtures.browser import axe_violations, screenshot
from tests.test_web_beranda_browser import _awaiting_paraf, _backdate, _token

TITLES = [
    "Kerja Sama Penyediaan Air Minum Lintas Batas Kabupaten Paser dan Kota Balikpapan",
    "Kerja Sama Pelatihan Aparatur Desa",
]


def _unread(live, headers: dict[str, str]) -> int:
    r = httpx.get(f"{live.url}/api/v1/me/notifications", headers=headers, timeout=60)
    assert r.status_code == 200, r.text
    return int(r.json()["unread"])


def _no_horizontal_scroll(page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths


def test_the_inbox_shows_whose_turn_it_is_opens_the_page_passes_axe_and_fits_a_phone(live, tmp_path):
    drafter, legal = _token(live, "u-drafter"), _token(live, "u-legal")
    kabag = _token(live, "kabag_pemerintahan")
    ids = [_awaiting_paraf(live, judul, drafter, legal) for judul in TITLES]
    # the first has waited a day for a paraf of 30 minutes: the sender's round writes a reminder
    _backdate(live, ids[0], dt.timedelta(hours=26))
    with session_scope(live.services.engine) as session:
        assert notifications.remind(session, live.services.profile, dt.datetime.now(dt.UTC)) >= 1
    # the live server is shared with the other browser tests: the badge is held to the API's answer
    unread = _unread(live, kabag)
    assert unread >= 3  # two turns to initial and the reminder

    page = live.sign_in("kabag_pemerintahan", viewport={"width": 1200, "height": 900})
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.reload()
    badge = page.locator("#notifikasi-jumlah")
    assert badge.inner_text().split()[0] == str(unread)
    page.click("#notifikasi-tautan")
    page.wait_for_url(f"{live.url}/notifikasi")
    assert page.locator("#notifikasi-tautan").get_attribute("aria-current") == "page"
    assert f"{unread} notifikasi belum dibaca" in page.locator("#notifikasi-ringkasan").inner_text()
    items = page.locator("#daftar-notifikasi > li")
    texts = [items.nth(i).inner_text() for i in range(items.count())]
    reminder = [t for t in texts if "Pengingat" in t and TITLES[0] in t]
    turns = [t for t in texts if "Beri paraf" in t and any(title in t for title in TITLES) and "Pengingat" not in t]
    assert len(reminder) == 1 and len(turns) == 2, texts
    assert all("Baru" in t for t in reminder + turns)
    assert axe_violations(page) == []
    screenshot(page, "web-notifikasi", tmp_path)

    # on a phone the menu is folded: the count sits on its button and leads to the inbox
    phone = live.sign_in("kabag_pemerintahan", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    assert not phone.locator("#notifikasi-tautan").is_visible()
    mini = phone.locator("#notifikasi-ponsel")
    assert mini.is_visible() and " ".join(mini.inner_text().split()) == f"Notifikasi: {unread} belum dibaca"
    _no_horizontal_scroll(phone)
    assert axe_violations(phone) == []
    mini.click()
    phone.wait_for_url(f"{live.url}/notifikasi")

    # "Buka halaman" of the reminder: read, and the paraf page of that naskah
    item = page.locator("#daftar-notifikasi > li", has_text="Pengingat").filter(has_text=TITLES[0])
    item.locator("button[type=submit]", has_text="Buka halaman").click()
    page.wait_for_url(f"{live.url}/naskah/{ids[0]}/paraf")
    assert _unread(live, kabag) == unread - 1
    assert page.locator("#notifikasi-jumlah").inner_text().split()[0] == str(unread - 1)

    # "Tandai semua sudah dibaca": the badge goes, the list says so
    page.goto(f"{live.url}/notifikasi")
    page.click("main #baca-semua")
    page.wait_for_url(f"{live.url}/notifikasi")
    assert page.locator("#notifikasi-jumlah").count() == 0 and _unread(live, kabag) == 0
    assert "Semua notifikasi sudah dibaca" in page.locator("main").inner_text()

    # a phone: everything read is shown on asking, without horizontal scrolling
    phone.goto(f"{live.url}/notifikasi?semua=1")
    assert phone.locator("#notifikasi-ponsel").count() == 0
    assert phone.locator("#daftar-notifikasi > li").count() >= 3
    _no_horizontal_scroll(phone)
    assert axe_violations(phone) == []
    screenshot(phone, "web-notifikasi-ponsel", tmp_path)

    # mail off on the settings page: saved, said so, the user's row holds it
    phone.goto(f"{live.url}/akun/notifikasi")
    _no_horizontal_scroll(phone)
    assert axe_violations(phone) == []
    phone.uncheck("#f-email_notifikasi")
    phone.click("main button[type=submit]")
    phone.wait_for_url(f"{live.url}/akun/notifikasi?disimpan=1")
    assert "sudah disimpan" in phone.locator("main [role=status]").inner_text()
    assert not phone.locator("#f-email_notifikasi").is_checked()
    with session_scope(live.services.engine) as session:
        user = session.exec(select(User).where(User.username == "kabag_pemerintahan")).one()
        assert user.email_notifikasi is False
        user.email_notifikasi = True  # as it was, for the other tests on the shared server
        session.add(user)
    assert blocked == []
