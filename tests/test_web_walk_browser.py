"""One KB from a new kerja sama to fully signed through the pages only, each person in their own browser.

Debian's Chromium, one context per person, nothing arranged through the API: the drafter creates the
kerja sama and its KB with the forms, submits; the Kepala Bagian Hukum returns it once with a note, the
drafter reads the note on Beranda, revises and submits again, the Kabag Hukum approves; the three paraf
officials give paraf in the profile's order (each finds the task on Beranda); the drafter makes the
desk-to-desk plan, downloads the export, and imports the file the counterparty signed in its own
system; the Bupati signs with a PKCS#12 file.  The signed PDF downloaded from the page then verifies
with the project's verifier: two signatures, intact, trusted, each the official printed in its block.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pipeline.sign.verification import verify_known
from tests.fixtures.browser import axe_violations
from tests.test_api import case_body, naskah_body
from tests.test_signing_flow import counterparty_signs

RETURN_NOTE = "Pasal 3: ruang lingkup belum menyebut pengangkutan sampah. Mohon dilengkapi."


def _task_link(page, nid: int) -> str:
    """The one action link of naskah ``nid`` in the signed-in person's Beranda."""
    page.goto("/")
    link = page.locator(f"#tugas-saya a[href^='/naskah/{nid}']").first
    link.wait_for()
    return link.get_attribute("href") or ""


def test_a_kb_goes_from_a_new_kerja_sama_to_fully_signed_through_the_pages_only(
    live, tmp_path: Path, dev_pki, counterparty_pki
):
    svc = live.services
    saved = (svc.trust_roots, svc.tsa_url)
    svc.trust_roots, svc.tsa_url = [*dev_pki.roots, *counterparty_pki.roots], dev_pki.tsa_url
    try:
        body = case_body()
        sample = naskah_body("KB", cara="desk")

        # the drafter: a new kerja sama through its form
        drafter = live.sign_in("u-drafter")
        drafter.goto("/kerja-sama/baru")
        drafter.check("#f-jenis-KSDD")
        drafter.fill("#f-judul", body["judul"])
        drafter.fill("#f-objek", body["objek"])
        drafter.fill("#f-manfaat", body["manfaat"])
        drafter.fill("#f-bentuk", body["bentuk"])
        drafter.fill("#f-tahun_anggaran_mulai", str(body["tahun_anggaran_mulai"]))
        drafter.fill("#f-mulai", body["mulai"])
        drafter.fill("#f-selesai", body["selesai"])
        drafter.fill("#f-opd_teknis", body["opd_teknis"])
        for i, pihak in enumerate(body["pihak"]):
            drafter.fill(f"[id='f-pihak[{i}].instansi']", pihak["instansi"])
            drafter.select_option(f"[id='f-pihak[{i}].kind']", pihak["kind"])
            drafter.fill(f"[id='f-pihak[{i}].penandatangan_nama']", pihak["penandatangan_nama"])
            drafter.fill(f"[id='f-pihak[{i}].penandatangan_jabatan']", pihak["penandatangan_jabatan"])
        drafter.click("main button[value=simpan]:not(.visually-hidden)")
        drafter.wait_for_url(f"{live.url}/kerja-sama/*?dibuat=1")
        case_url = drafter.url.split("?")[0]

        # ... and its KB, to be signed desk to desk
        drafter.select_option("#f-jenis", "KB")
        drafter.get_by_role("button", name="Lanjut: isi naskah").click()
        drafter.wait_for_url(f"{case_url}/naskah/baru?*")
        drafter.fill("[id='f-nomor[1]']", sample["nomor"]["1"])
        drafter.fill("[id='f-nomor[2]']", sample["nomor"]["2"])
        drafter.fill("[id='f-data.tanggal']", sample["data"]["tanggal"])
        drafter.fill("[id='f-data.tempat']", "Tanah Grogot")
        drafter.fill("[id='f-data.maksud']", sample["data"]["maksud"])
        drafter.fill("[id='f-data.tujuan']", sample["data"]["tujuan"])
        drafter.fill("[id='f-data.ruang_lingkup']", "\n".join(sample["data"]["ruang_lingkup"]))
        drafter.select_option("[id='f-data.cara_penandatanganan']", "desk")
        drafter.get_by_role("button", name="Buat naskah").click()
        drafter.wait_for_url(f"{live.url}/naskah/*", timeout=60_000)
        nid = int(drafter.url.split("?")[0].rsplit("/", 1)[1])
        drafter.get_by_role("button", name="Ajukan revisi 1 ke Bagian Hukum").click()
        drafter.wait_for_url(f"{live.url}/naskah/{nid}?selesai=ajukan")

        # the Kepala Bagian Hukum finds it on Beranda and returns it once, with a note
        hukum = live.sign_in("kabag_hukum")
        assert _task_link(hukum, nid) == f"/naskah/{nid}"
        hukum.goto(f"/naskah/{nid}")
        hukum.fill("#f-note-kembalikan", RETURN_NOTE)
        hukum.get_by_role("button", name="Kembalikan ke penyusun").click()
        hukum.wait_for_url(f"{live.url}/naskah/{nid}?selesai=kembalikan")

        # the drafter sees the note on Beranda, revises through the manifest's form, submits again
        drafter.goto("/")
        assert RETURN_NOTE in drafter.inner_text("#tugas-saya")
        drafter.goto(f"/naskah/{nid}")
        drafter.locator(".catatan-kembali").get_by_role("link", name="Buat revisi baru").click()
        drafter.fill("#f-note", "ruang lingkup dilengkapi sesuai catatan Bagian Hukum")
        drafter.click("main button[type=submit]")
        drafter.wait_for_url(f"{live.url}/naskah/{nid}?selesai=revisi")
        drafter.get_by_role("button", name="Ajukan revisi 2 ke Bagian Hukum").click()
        drafter.wait_for_url(f"{live.url}/naskah/{nid}?selesai=ajukan")

        hukum.goto(f"/naskah/{nid}")
        hukum.get_by_role("button", name="Setujui rancangan").click()
        hukum.wait_for_url(f"{live.url}/naskah/{nid}?selesai=setujui")

        # the three paraf officials, in the profile's order, each from their own Beranda
        for who in ("kabag_pemerintahan", "asisten_umum", "sekda"):
            page = live.sign_in(who)
            assert _task_link(page, nid) == f"/naskah/{nid}/paraf"
            page.goto(f"/naskah/{nid}/paraf")
            page.locator("main button[type=submit]", has_text="Beri paraf").click()
            page.wait_for_url(f"**/naskah/{nid}/paraf?selesai=paraf")
            assert axe_violations(page) == []

        # desk to desk: the plan, the export, the counterparty's signed return imported with its proof
        drafter.goto(f"/naskah/{nid}/tanda-tangan")
        drafter.locator("main button[type=submit]", has_text="Susun rencana").click()
        drafter.wait_for_url(f"**/naskah/{nid}/tanda-tangan?selesai=rencana")
        with drafter.expect_download() as download:
            drafter.get_by_role("link", name="Unduh PDF untuk mitra").click()
        exported = Path(download.value.path()).read_bytes()
        partner = counterparty_pki.issue_person(body["pihak"][1]["penandatangan_nama"])
        with ThreadPoolExecutor(1) as pool:  # as the counterparty's own software would, elsewhere
            signed_by_partner = pool.submit(counterparty_signs, exported, counterparty_pki, partner).result()
        returned = tmp_path / "kembali-dari-mitra.pdf"
        returned.write_bytes(signed_by_partner)
        drafter.set_input_files("#f-file", str(returned))
        drafter.locator("main button[type=submit]", has_text="Periksa dan impor").click()
        drafter.wait_for_url(f"**/naskah/{nid}/tanda-tangan?selesai=impor")
        assert "Tanda tangan utuh dan sah: ya" in drafter.inner_text("main")

        # the Bupati signs with his PKCS#12 file
        p12 = tmp_path / "bupati.p12"
        p12.write_bytes(dev_pki.issue_person(body["pihak"][0]["penandatangan_nama"]).to_pkcs12("Rahasia-Bupati"))
        bupati = live.sign_in("bupati")
        assert _task_link(bupati, nid) == f"/naskah/{nid}/tanda-tangan"
        bupati.goto(f"/naskah/{nid}/tanda-tangan")
        bupati.set_input_files("#f-p12", str(p12))
        bupati.fill("#f-passphrase", "Rahasia-Bupati")
        bupati.fill("#f-location", "Tanah Grogot")
        bupati.locator("main button[type=submit]", has_text="Tanda tangani").click()
        bupati.wait_for_url(f"**/naskah/{nid}/tanda-tangan?selesai=ttd")
        assert "Semua tanda tangan sah dan tepercaya" in bupati.inner_text("main")
        with bupati.expect_download() as download:
            bupati.get_by_role("link", name="Unduh naskah bertanda tangan (PDF)").click()
        signed = Path(download.value.path()).read_bytes()
    finally:
        svc.trust_roots, svc.tsa_url = saved

    # the project's verifier, on the file a person downloaded
    with ThreadPoolExecutor(1) as pool:
        report = pool.submit(verify_known, svc.engine, signed, [*dev_pki.roots, *counterparty_pki.roots]).result()
    assert report.ok and report.bottom_line == "ok", report.to_dict()
    assert len(report.signatures) == 2
    assert all(s.intact and s.valid and s.trusted and s.belongs_to_signer for s in report.signatures)
    signers = " ".join(str(s.signer) for s in report.signatures)
    assert "Fahmi Fadli" in signers and "Rahmad Mas'ud" in signers
