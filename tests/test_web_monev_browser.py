"""The monev pages in a real browser (Debian's Chromium; tests/fixtures/browser.py): the OPD official finds
the round waiting on them on /monev, reports through the form with an attachment, and the round page
shows it; axe-core finds no serious or critical violation, the CSP blocks nothing, a 390-px phone needs
no horizontal scrolling; the screenshots (``NASKAH_SCREENSHOTS=1`` writes docs/img/web-monev*.png)."""

from __future__ import annotations

import datetime as dt
import io

from PIL import Image
from sqlmodel import select

from pipeline.archival import monev
from pipeline.auth import create_user
from pipeline.models import User
from storage.db import session_scope
from tests.fixtures.browser import axe_violations, screenshot
from tests.test_monev import LAPORAN
from tests.test_recap import add_arsip


def _arrange(live) -> tuple[int, int]:
    svc = live.services
    today = dt.datetime.now(svc.profile.tz).date()
    with session_scope(svc.engine) as session:
        known = session.exec(select(User).where(User.username == "u-drafter")).one().password_hash
        for username, roles, posisi, opd in [
            ("katim-b", ["drafter"], ["kasubbag_humas_ks"], None),
            ("dlh-b", ["signer"], [], "Dinas Lingkungan Hidup"),
        ]:
            user = create_user(
                session, username=username, nama=f"Pejabat {username}", jabatan="Pejabat", roles=roles,
                posisi=posisi, opd=opd,
            )  # fmt: skip
            user.password_hash = known
    start = today - dt.timedelta(days=400)
    arsip_id, _ = add_arsip(
        svc.engine, judul="Pengelolaan Sampah Regional Tana Paser", mulai=start, tanggal_ttd=start,
        selesai=today + dt.timedelta(days=90), opd="Dinas Lingkungan Hidup", serial=91,
    )  # fmt: skip
    with session_scope(svc.engine) as session:
        kabag = session.exec(select(User).where(User.username == "kabag_pemerintahan")).one()
        katim = session.exec(select(User).where(User.username == "katim-b")).one()
        round_ = monev.tugaskan(
            session, kabag, svc.profile, arsip_id,
            monev.Penugasan(surat_perintah="800.1.11.1/45/Pem", ketua_tim="katim-b",
                            periode_mulai=today - dt.timedelta(days=180), periode_selesai=today),
        )  # fmt: skip
        session.flush()
        monev.jadwalkan(
            session, katim, svc.profile, round_.id or 0, monev.Jadwal(bahan="Data penyelenggaraan", jadwal=today)
        )
        return round_.id or 0, arsip_id


def test_the_opd_reports_through_the_pages_which_pass_axe_and_fit_a_phone(live, tmp_path):
    round_id, arsip_id = _arrange(live)
    page = live.sign_in("dlh-b", viewport={"width": 1280, "height": 900})
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.click('nav a[href="/monev"]')
    page.wait_for_url(f"{live.url}/monev")
    waiting = page.locator(".monev-giliran")
    assert "Pengelolaan Sampah Regional Tana Paser" in waiting.inner_text()
    assert "Menyampaikan laporan monitoring" in waiting.inner_text()
    assert axe_violations(page) == []
    screenshot(page, "web-monev", tmp_path)

    waiting.locator(f'a[href="/monev/{round_id}"]').first.click()
    page.wait_for_url(f"{live.url}/monev/{round_id}")
    for name, value in LAPORAN.items():
        page.fill(f"#f-{name}", value)
    photo = io.BytesIO()
    Image.new("RGB", (160, 100), (40, 120, 70)).save(photo, "PNG")
    page.set_input_files(
        "#f-files", files=[{"name": "foto-armada.png", "mimeType": "image/png", "buffer": photo.getvalue()}]
    )
    assert axe_violations(page) == []
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live.url}/monev/{round_id}?selesai=laporan")
    assert "Laporan monitoring tersimpan." in page.locator("main").inner_text()
    assert page.locator('[data-field="realisasi"]').inner_text() == LAPORAN["realisasi"]
    assert page.locator(".monev-lampiran a").inner_text() == "foto-armada.png"
    assert axe_violations(page) == []
    screenshot(page, "web-monev-ronde", tmp_path)
    assert blocked == []

    team = live.sign_in("katim-b", viewport={"width": 1280, "height": 900})
    team.goto(f"/monev/{round_id}")
    assert team.locator("section.monev-langkah h2").all_inner_texts() == [
        "Mengembalikan laporan monitoring",
        "Menyerahkan hasil olah data monitoring",
    ]
    team.fill("#langkah-monev_olah #f-hasil_olah", "")
    team.click("#langkah-monev_olah button[type=submit]")
    assert "Ada masalah" in team.locator("main").inner_text()
    assert axe_violations(team) == []
    screenshot(team, "web-monev-langkah", tmp_path)

    kabag = live.sign_in("kabag_pemerintahan", viewport={"width": 1280, "height": 900})
    kabag.goto(f"/monev/kerja-sama/{arsip_id}")
    kabag.select_option("#f-keputusan", "diperpanjang")
    kabag.fill("#f-catatan_keputusan", "Diperpanjang lima tahun dengan addendum.")
    kabag.click("form.monev-perpanjangan button[type=submit]")
    kabag.wait_for_url(f"{live.url}/monev/kerja-sama/{arsip_id}?selesai=perpanjangan")
    assert kabag.locator('[data-field="perpanjangan"]').inner_text().startswith("Diperpanjang")
    assert axe_violations(kabag) == []
    screenshot(kabag, "web-monev-kerja-sama", tmp_path)

    phone = live.sign_in("kabag_pemerintahan", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    for path in ("/monev", f"/monev/{round_id}", f"/monev/kerja-sama/{arsip_id}"):
        phone.goto(path)
        widths = phone.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        wide = phone.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > "
            "document.documentElement.clientWidth + 1).slice(0, 5).map(e => e.tagName + '.' + e.className)"
        )
        assert widths[0] <= widths[1], (path, widths, wide)
    screenshot(phone, "web-monev-phone", tmp_path)
