"""Public verification in a real browser (Debian's Chromium), nobody signed in.

A KB signed by both parties and archived (through the API over HTTP); then an anonymous visitor
uploads the archived original at /verifikasi and reads that it is genuine and archived, uploads a
tampered copy and reads that it is not, and opens the page the QR code points at.  Every page passes
axe and fits a 390-px phone without horizontal scrolling; the screenshots are the README's.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlmodel import Session, select

from pipeline.auth import create_user, issue_token
from pipeline.models import PublicLink, User
from storage.db import session_scope
from tests.fixtures.app import Api
from tests.fixtures.browser import axe_violations, screenshot
from tests.fixtures.pki import WALIKOTA
from tests.test_archive import signed_kb

PHONE = {"width": 390, "height": 844}


def _api(live) -> Api:
    """The live app's JSON API over real HTTP, a bearer token per active role and official (and the Wali Kota)."""
    tokens: dict[str, str] = {}
    with session_scope(live.services.engine) as session:
        if session.exec(select(User).where(User.username == "walikota")).first() is None:
            create_user(session, username="walikota", nama=WALIKOTA, jabatan="Wali Kota", roles=["signer"])
        for user in session.exec(select(User).where(User.active)).all():  # the admin pages' test deactivates some
            tokens[user.username.removeprefix("u-")] = issue_token(session, user)
    return Api(client=httpx.Client(base_url=live.url, timeout=120), services=live.services, tokens=tokens)  # type: ignore[arg-type]


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_anyone_checks_a_genuine_original_and_a_tampered_copy_and_opens_the_qr_page_on_a_phone(
    live, tmp_path: Path, dev_pki, counterparty_pki
):
    svc = live.services
    saved = (svc.trust_roots, svc.tsa_url)
    svc.trust_roots, svc.tsa_url = [*dev_pki.roots, *counterparty_pki.roots], dev_pki.tsa_url
    try:
        api = _api(live)
        nid = signed_kb(api, dev_pki, counterparty_pki)
        r = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat"))
        assert r.status_code == 201, r.text
        arsip_id = r.json()["id"]
        original = api.client.get(f"/api/v1/arsip/{arsip_id}/original.pdf", headers=api.auth("secretariat")).content
        (tmp_path / "asli.pdf").write_bytes(original)
        (tmp_path / "ubahan.pdf").write_bytes(original.replace(b"/XYZ null null 0 ]", b"/XYZ null null 1 ]", 1))
        with Session(svc.engine) as session:
            token = session.exec(select(PublicLink).where(PublicLink.naskah_id == nid)).one().token

        page = live.context(viewport=PHONE).new_page()  # anonymous: nobody signed in
        page.goto("/verifikasi")
        assert page.locator("h1").inner_text() == "Verifikasi naskah kerja sama"
        assert axe_violations(page) == []
        assert _fits(page)
        screenshot(page, "web-verifikasi-390", tmp_path)

        page.set_input_files("#f-berkas", str(tmp_path / "asli.pdf"))
        page.click("main button[type=submit]")
        page.wait_for_selector("#judul-arsip")
        assert "Sama persis dengan naskah asli di arsip Pemda" in page.locator("#judul-arsip").inner_text()
        assert "sah dan isinya utuh" in page.locator("#judul-kesimpulan").inner_text()
        assert "dr. Fahmi Fadli" in page.locator(".public-summary").inner_text()
        assert axe_violations(page) == []
        assert _fits(page)
        screenshot(page, "web-verifikasi-hasil-390", tmp_path)

        page.goto("/verifikasi")
        page.set_input_files("#f-berkas", str(tmp_path / "ubahan.pdf"))
        page.click("main button[type=submit]")
        page.wait_for_selector("#judul-arsip")
        assert "TIDAK lolos verifikasi" in page.locator("#judul-kesimpulan").inner_text()
        assert "BUKAN naskah asli" in page.locator("#judul-arsip").inner_text()
        assert "Tidak sama persis" in page.locator(".arsip-match").inner_text()
        assert axe_violations(page) == []
        assert _fits(page)

        page.goto(f"/v/{token}")
        assert "Naskah asli tersimpan di arsip" in page.locator(".public-summary").inner_text()
        assert axe_violations(page) == []
        assert _fits(page)
        screenshot(page, "web-qr-ringkasan-390", tmp_path)

        wide = live.context().new_page()
        wide.goto("/verifikasi")
        wide.set_input_files("#f-berkas", str(tmp_path / "asli.pdf"))
        wide.click("main button[type=submit]")
        wide.wait_for_selector("#judul-arsip")
        assert axe_violations(wide) == []
        screenshot(wide, "web-verifikasi-hasil", tmp_path)
    finally:
        svc.trust_roots, svc.tsa_url = saved
