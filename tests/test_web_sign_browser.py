"""The paraf and signing pages in a real browser (Debian's Chromium): each person in their own context.

The three paraf officials give paraf in order, the drafter makes a desk-to-desk plan, downloads the
export, and imports the counterparty's signed return (signed with pyHanko under the partner's PKI),
the Bupati checks readiness and signs with a PKCS#12 file; every page passes axe, the paraf page
fits a 390-px phone without horizontal scrolling, and the signing page is the README's screenshot.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlmodel import select

from pipeline.auth import issue_token
from pipeline.models import User
from storage.db import session_scope
from tests.fixtures.app import Api
from tests.fixtures.browser import axe_violations, screenshot
from tests.test_signing_flow import counterparty_signs
from tests.test_workflow import approved_kb


def _api(live) -> Api:
    """The live app's JSON API over real HTTP, a bearer token per role and per official."""
    tokens: dict[str, str] = {}
    with session_scope(live.services.engine) as session:
        for user in session.exec(select(User).where(User.active)).all():
            key = user.username.removeprefix("u-")
            tokens[key] = issue_token(session, user)
    return Api(client=httpx.Client(base_url=live.url, timeout=60), services=live.services, tokens=tokens)  # type: ignore[arg-type]


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_paraf_in_order_desk_to_desk_import_and_the_bupati_signing_in_the_browser(
    live, tmp_path: Path, dev_pki, counterparty_pki, counterparty_person
):
    svc = live.services
    saved = (svc.trust_roots, svc.tsa_url)
    svc.trust_roots, svc.tsa_url = [*dev_pki.roots, *counterparty_pki.roots], dev_pki.tsa_url
    try:
        api = _api(live)
        nid = approved_kb(api, "desk")

        # the three paraf officials, in order, each in their own browser
        sekda_early = live.sign_in("sekda", viewport={"width": 390, "height": 844})
        sekda_early.goto(f"/naskah/{nid}/paraf")
        assert sekda_early.locator("main button", has_text="Beri paraf").count() == 0
        assert "Belum giliran Anda" in sekda_early.inner_text("main")
        assert _no_horizontal_scroll(sekda_early)
        assert axe_violations(sekda_early) == []
        screenshot(sekda_early, "web-paraf-390", tmp_path)
        for who in ("kabag_pemerintahan", "asisten_umum", "sekda"):
            page = live.sign_in(who)
            page.goto(f"/naskah/{nid}/paraf")
            assert page.get_by_role("link", name="Lihat naskah dengan paraf Anda (PDF)").count() == 1
            assert axe_violations(page) == []
            if who == "kabag_pemerintahan":
                screenshot(page, "web-paraf", tmp_path)
            page.locator("main button[type=submit]", has_text="Beri paraf").click()
            page.wait_for_url(f"**/naskah/{nid}/paraf?selesai=paraf")
            assert "Paraf Anda sudah dibubuhkan" in page.inner_text("main")

        # desk to desk: the drafter makes the plan, sends the export, imports the partner's return
        drafter = live.sign_in("u-drafter")
        drafter.goto(f"/naskah/{nid}/tanda-tangan")
        assert axe_violations(drafter) == []
        drafter.locator("main button[type=submit]", has_text="Susun rencana").click()
        drafter.wait_for_url(f"**/naskah/{nid}/tanda-tangan?selesai=rencana")
        with drafter.expect_download() as download:
            drafter.get_by_role("link", name="Unduh PDF untuk mitra").click()
        exported = Path(download.value.path()).read_bytes()
        returned = tmp_path / "kembali-dari-mitra.pdf"
        with ThreadPoolExecutor(1) as pool:  # pyHanko runs asyncio; Playwright's sync API holds this thread's loop
            signed = pool.submit(counterparty_signs, exported, counterparty_pki, counterparty_person).result()
        returned.write_bytes(signed)
        drafter.set_input_files("#f-file", str(returned))
        drafter.locator("main button[type=submit]", has_text="Periksa dan impor").click()
        drafter.wait_for_url(f"**/naskah/{nid}/tanda-tangan?selesai=impor")
        proof = drafter.inner_text("main")
        assert "Bukti pemeriksaan berkas mitra" in proof and "bita pertama identik" in proof
        assert "Tanda tangan utuh dan sah: ya" in proof
        assert axe_violations(drafter) == []

        # the Bupati: readiness, then signing with a PKCS#12 file
        p12 = tmp_path / "bupati.p12"
        p12.write_bytes(dev_pki.issue_person("dr. Fahmi Fadli", nip="197201011998031005").to_pkcs12("Rahasia-Bupati"))
        bupati = live.sign_in("bupati")
        bupati.goto(f"/naskah/{nid}/tanda-tangan")
        bupati.set_input_files("#f-p12", str(p12))
        bupati.fill("#f-passphrase", "Rahasia-Bupati")
        bupati.fill("#f-location", "Tanah Grogot")
        bupati.locator("main button", has_text="Periksa kesiapan sertifikat").click()  # htmx: the card in place
        bupati.wait_for_selector("#kesiapan-hasil .readiness-hijau")
        assert bupati.input_value("#f-passphrase") == "Rahasia-Bupati"  # the form stayed as it was
        assert axe_violations(bupati) == []
        screenshot(bupati, "web-tanda-tangan", tmp_path)
        bupati.locator("main button[type=submit]", has_text="Tanda tangani").click()
        bupati.wait_for_url(f"**/naskah/{nid}/tanda-tangan?selesai=ttd")
        done = bupati.inner_text("main")
        assert "Semua tanda tangan sah dan tepercaya" in done and "Rahasia-Bupati" not in bupati.content()
        assert axe_violations(bupati) == []
        screenshot(bupati, "web-tanda-tangan-selesai", tmp_path)
        naskah = api.client.get(f"/api/v1/naskah/{nid}", headers=api.auth("drafter")).json()
        assert naskah["status"] == "signed"
    finally:
        svc.trust_roots, svc.tsa_url = saved
