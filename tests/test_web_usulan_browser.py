"""One usulan walked through the pages in a real browser (Debian's Chromium; tests/fixtures/browser.py), each
step by the person whose step it is: the Tata Usaha records the letter with its scan and KAK, the Bupati,
the Sekda and the Kabag dispose it down the chain, the analis studies it, schedules the TKKSD meeting,
drafts the undangan, records the meeting and sends the recommendation up, and the Bupati approves it and
opens the kerja sama.  On every page axe-core finds no serious or critical violation, the CSP blocks
nothing, and a 390-px phone needs no horizontal scrolling; ``NASKAH_SCREENSHOTS=1`` writes
docs/img/web-usulan*.png."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlmodel import select

from pipeline.auth import create_user
from pipeline.intake import workflow as wf
from pipeline.models import User
from storage.db import session_scope
from tests.fixtures.browser import axe_violations, screenshot
from tests.test_intake import a_docx

PERIHAL = "Penawaran Kerja Sama Pengelolaan Sampah Regional Tana Paser"
DESKTOP = {"width": 1280, "height": 900}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _file(name: str, mime: str, data: bytes) -> dict[str, Any]:
    return {"name": name, "mimeType": mime, "buffer": data}


def _people(live) -> None:
    """The Tata Usaha and the analis of the Paser profile's intake (the chain's officials are the fixture's)."""
    with session_scope(live.services.engine) as session:
        if session.exec(select(User).where(User.username == "tu-usulan")).first():
            return
        known = session.exec(select(User).where(User.username == "u-drafter")).one().password_hash
        for username, nama, roles, posisi in [
            ("tu-usulan", "Rina Marlina", ["secretariat"], ["tata_usaha"]),
            ("analis-usulan", "Siti Rahmah, S.IP.", ["drafter"], ["analis_ks"]),
        ]:
            position = live.services.profile.positions[posisi[0]]
            user = create_user(
                session, username=username, nama=nama, jabatan=position.jabatan, roles=roles, posisi=posisi
            )
            user.password_hash = known


def _another(live) -> None:
    """An OPD's permohonan recorded two hours ago, still with the Bupati (past the 60-minute mutu baku)."""
    svc = live.services
    with session_scope(svc.engine) as session:
        tu = session.exec(select(User).where(User.username == "tu-usulan")).one()
        usulan = wf.create_usulan(
            session, tu,
            wf.UsulanInput(jenis="permohonan", perihal="Permohonan Kerja Sama Beasiswa Mahasiswa Paser",
                           surat_nomor="400.3/9/Disdik", surat_tanggal=dt.date.today() - dt.timedelta(days=3),
                           pengirim_instansi="Dinas Pendidikan dan Kebudayaan", pengirim_kind="opd"),
            profile=svc.profile,
        )  # fmt: skip
        usulan.turn_since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)


def _watch(page: Any, blocked: list[str]) -> Any:
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    return page


def _clean(page: Any) -> None:
    assert axe_violations(page) == [], page.url


def _submit(page: Any, section: str, url: str) -> None:
    page.click(f"{section} button[type=submit]")
    page.wait_for_url(url)


def test_an_usulan_walks_from_its_letter_to_the_opened_kerja_sama_in_the_browser(live, tmp_path):
    _people(live)
    svc = live.services
    now = dt.datetime.now(svc.profile.tz)
    blocked: list[str] = []

    # the Tata Usaha records the letter with its scan and the KAK
    tu = _watch(live.sign_in("tu-usulan", viewport=DESKTOP), blocked)
    tu.click('nav a[href="/usulan"]')
    tu.wait_for_url(f"{live.url}/usulan")
    tu.click('a[href="/usulan/baru"]')
    tu.wait_for_url(f"{live.url}/usulan/baru")
    tu.click("form.usulan-form button[type=submit]")  # empty: refused on its fields
    assert "Ada masalah" in tu.locator("main").inner_text()
    assert tu.locator("#f-perihal").get_attribute("aria-invalid") == "true"
    _clean(tu)
    screenshot(tu, "web-usulan-baru", tmp_path, full_page=False)
    tu.fill("#f-perihal", PERIHAL)
    tu.fill("#f-surat_nomor", "415.4/123/Pem")
    tu.fill("#f-surat_tanggal", (now.date() - dt.timedelta(days=5)).isoformat())
    tu.fill("#f-pengirim_instansi", "Pemerintah Kota Balikpapan")
    tu.select_option("#f-pengirim_kind", "pemda")
    tu.fill("#f-pengirim_nama", "H. Rahmad Mas'ud, S.E., M.E.")
    tu.fill("#f-pengirim_jabatan", "Wali Kota Balikpapan")
    tu.fill("#f-objek", "Pengelolaan sampah regional di TPA Kuaro")
    tu.fill("#f-manfaat", "Pengurangan timbulan sampah kedua daerah")
    tu.fill("#f-bentuk", "Kesepakatan Bersama")
    tu.fill("#f-tahun_anggaran_mulai", str(now.year + 1))
    tu.fill("#f-jangka_waktu_bulan", "60")
    tu.fill("#f-opd_teknis", "Dinas Lingkungan Hidup Kabupaten Paser")
    scan = svc.converter.to_pdf(a_docx("Surat penawaran kerja sama dari Pemerintah Kota Balikpapan"))
    tu.set_input_files("#f-file_surat", files=[_file("Surat Penawaran.pdf", "application/pdf", scan)])
    tu.set_input_files("#f-file_kak", files=[_file("KAK Sampah Regional.docx", DOCX, a_docx())])
    _clean(tu)
    tu.click("form.usulan-form button[type=submit]")
    tu.wait_for_url(re.compile(r".*/usulan/\d+\?selesai=baru$"))
    uid = int(re.search(r"/usulan/(\d+)", tu.url).group(1))
    detail = f"{live.url}/usulan/{uid}"
    assert "Usulan tercatat." in tu.locator("main").inner_text()
    assert tu.locator('[data-field="kelengkapan"]').inner_text() == "Lengkap."
    assert tu.locator(".usulan-berkas a").all_inner_texts()[:2] == ["Surat Penawaran.pdf", "KAK Sampah Regional.docx"]
    _clean(tu)

    # down the chain: each official finds it waiting on them and disposes it with a note
    for who, note in [
        ("bupati", "Sekda: kaji bersama TKKSD"),
        ("sekda", "Kabag Pemerintahan: tindak lanjuti"),
        ("kabag_pemerintahan", "Analis: telaah dan siapkan rapat TKKSD"),
    ]:
        official = _watch(live.sign_in(who, viewport=DESKTOP), blocked)
        official.goto("/usulan")
        official.click(f'.usulan-giliran a[href="/usulan/{uid}"]')
        official.wait_for_url(detail)
        assert "giliran Anda" in official.locator('[data-field="giliran"]').inner_text()
        _clean(official)
        official.fill("#f-disposisi_note", note)
        _submit(official, "#langkah-disposisi", f"{detail}?selesai=disposisi")
        assert official.locator(".usulan-riwayat li").last.inner_text().count(note) == 1

    # the analis: telaah, the meeting, the undangan, the notulen, the recommendation
    analis = _watch(live.sign_in("analis-usulan", viewport=DESKTOP), blocked)
    analis.goto(f"/usulan/{uid}")
    analis.fill("#f-telaah", "Objek sesuai RPJMD dan kewenangan daerah; pembiayaan berbagi menurut volume sampah.")
    _submit(analis, "#langkah-telaah", f"{detail}?selesai=telaah")
    analis.fill("#f-waktu", (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    analis.fill("#f-tempat", "Ruang Rapat Sekretariat Daerah")
    analis.fill("#f-peserta", "Bagian Hukum Setda\nBappeda")
    _submit(analis, "#langkah-jadwalkan_rapat", f"{detail}?selesai=jadwalkan_rapat")
    assert "Bappeda (undangan)" in analis.locator("main").inner_text()
    analis.select_option("#f-surat_jenis", "undangan")
    analis.fill("#f-surat_nomor_keluar", "005/77/Pem")
    analis.fill("#f-surat_tempat", "Tanah Grogot")
    _submit(analis, "#langkah-surat", f"{detail}?selesai=surat")
    pdf_link = analis.locator('.usulan-berkas li[data-kind="undangan"] a[href$="?pdf=true"]')
    with analis.expect_download() as download:
        pdf_link.click()
    assert download.value.suggested_filename == "undangan.pdf"
    analis.fill("#f-notulen", "Objek sesuai RPJMD.\nPembiayaan dibagi menurut volume sampah.")
    analis.fill("#f-kesimpulan", "Usulan dibahas lengkap dan layak dilanjutkan.")
    analis.select_option("#f-rekomendasi", "setuju")
    _submit(analis, "#langkah-catat_rapat", f"{detail}?selesai=catat_rapat")
    _clean(analis)
    screenshot(analis, "web-usulan-rincian", tmp_path)
    analis.fill("#f-rekomendasi_note", "TKKSD merekomendasikan disetujui.")
    _submit(analis, "#langkah-rekomendasi", f"{detail}?selesai=rekomendasi")
    assert analis.locator('[data-field="status"]').inner_text().startswith("Menunggu keputusan Kepala Daerah")

    # the Bupati decides: approved, the kerja sama opens
    bupati = _watch(live.sign_in("bupati", viewport=DESKTOP), blocked)
    bupati.goto("/usulan")
    bupati.click(f'.usulan-giliran a[href="/usulan/{uid}"]')
    bupati.wait_for_url(detail)
    bupati.check("#f-keputusan-setuju")
    bupati.fill("#f-keputusan_note", "Setuju, lanjutkan penyusunan Kesepakatan Bersama.")
    _clean(bupati)
    _submit(bupati, "#langkah-keputusan", f"{detail}?selesai=keputusan")
    assert bupati.locator('[data-field="status"]').inner_text() == "Disetujui"
    assert len(bupati.locator(".usulan-riwayat li").all()) == 9  # catat, 3 disposisi, telaah, rapat, hasil, rek., ok
    _clean(bupati)
    # the case is the analis's to draft: they open it from the usulan (the Bupati is told who drafts it)
    assert bupati.locator("#kerja-sama-dibuka a").count() == 0
    assert "Siti Rahmah" in bupati.locator("#kerja-sama-dibuka").inner_text()
    analis.goto(f"/usulan/{uid}")
    analis.click("#kerja-sama-dibuka a")
    analis.wait_for_url(re.compile(r".*/kerja-sama/\d+$"))
    assert PERIHAL in analis.locator("h1").inner_text()

    # another letter waits on the Bupati: the list shows it first, late when past its mutu baku
    _another(live)
    bupati.goto("/usulan")
    assert "Permohonan Kerja Sama Beasiswa" in bupati.locator(".usulan-giliran").inner_text()
    assert "Terlambat" in bupati.locator(".usulan-giliran").inner_text()
    _clean(bupati)
    screenshot(bupati, "web-usulan", tmp_path)
    tu.goto("/usulan")
    _clean(tu)
    # eight menu items (Jejak audit too) and the user still fit a 1280-px screen
    assert tu.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert tu.locator(".navbar-brand").bounding_box()["height"] < 70  # two lines at most (three: 90 px)
    assert blocked == []

    phone = live.sign_in("analis-usulan", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    for path in ("/usulan", "/usulan/baru", f"/usulan/{uid}"):
        phone.goto(path)
        widths = phone.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        wide = phone.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > "
            "document.documentElement.clientWidth + 1).slice(0, 5).map(e => e.tagName + '.' + e.className)"
        )
        assert widths[0] <= widths[1], (path, widths, wide)
    _clean(phone)
    screenshot(phone, "web-usulan-ponsel", tmp_path, full_page=False)
