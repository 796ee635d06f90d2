"""The secretariat's walk, through the pages only, in a real browser (Debian's Chromium), from the KB that
``naskah demo`` signs to what anyone holding a copy reads about it.

The starting point is arranged with the demo's own building blocks (``api/demo.py``: its KSDD case
and KB, review, paraf in the profile's order, desk to desk with the partner signing in its own system
under another CA, the Bupati locking it): a naskah fully signed exactly as the demo leaves it.  Then
only pages:

1. the secretariat finds "Arsipkan naskah" in Tugas saya, follows it to the signing page, is refused
   with the reason on the page while the partner's CA is not trusted, and archives once it is;
2. finds the record on /arsip by free text and by every filter at once (jenis naskah, jenis kerja sama,
   tahun, masa berlaku, OPD; another value of each does not find it), each result page held to
   ``GET /api/v1/arsip`` for the same filter (the live server is shared: no count is known in
   advance), opens the record, reads the report (signers, jabatan, CA,
   the time each timestamp proves, intact/valid/trusted, the B-LTA chain and its renewal date) and
   downloads the original, byte for byte the locked object in the archive store;
3. signed out, in a fresh browser: /verifikasi recognises the genuine original as this Pemda's
   archived original, says a copy with one byte changed in a page's content stream and a copy with
   text added by an incremental update are not genuine, refuses a file that is not a PDF; the QR
   code's page shows the summary;
4. every page passes axe-core (no serious/critical violation); the archive refusal, the arsip search,
   the record, /verifikasi and the QR page fit a 390x844 phone (no horizontal scroll, every button
   inside the screen and at least 24 px high).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlmodel import Session, select

from api import demo
from api.web.arsip import PAGE_SIZE
from pipeline.auth import issue_token
from pipeline.drafting import cases, revisions
from pipeline.models import Arsip, PublicLink, User
from storage.db import session_scope
from tests.fixtures.app import OFFICIALS
from tests.fixtures.browser import axe_violations, screenshot
from tests.fixtures.pki import _incremental

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def demo_signed_kb(svc: Any, dev_pki: Any, counterparty_pki: Any) -> int:
    """The demo's KB, fully signed as ``naskah demo`` signs it, on the live app's services; its id.

    The people are the live app's accounts (the profile's officials by position, ``u-drafter``), so
    each can sign in to the pages; the steps are the demo's functions, not a copy of them."""
    steps = demo.Steps()
    today = demo._today(svc)
    with session_scope(svc.engine) as session:
        users = {u.username: u for u in session.exec(select(User)).all()}
    drafter = users["u-drafter"]
    people = {key: users[key] for key in OFFICIALS} | {"sekretariat.tkksd": users["u-secretariat"]}
    with session_scope(svc.engine) as session:
        case_id = cases.create_case(session, drafter, demo.demo_case(today)).id
    assert case_id is not None
    demo._upload_lambang(svc, drafter, case_id, "BPP")
    naskah, _ = revisions.create_naskah(svc, drafter, case_id, demo.demo_kb(today, today))
    nid = naskah.id
    assert nid is not None
    demo._review(svc, steps, nid, drafter, people)
    demo._paraf(svc, steps, nid, people, "KB")
    demo._sign_kb_desk_to_desk(svc, steps, nid, drafter, people, demo.DemoPki(ours=dev_pki, mitra=counterparty_pki))
    return nid


def token_of(svc: Any, username: str) -> dict[str, str]:
    """An API token of ``username``, as a header."""
    with session_scope(svc.engine) as session:
        user = session.exec(select(User).where(User.username == username)).one()
        return {"Authorization": f"Bearer {issue_token(session, user)}"}


def fits(page: Any) -> bool:
    """Nothing wider than the screen: no horizontal scrolling."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def buttons_out_of_reach(page: Any) -> list[str]:
    """The visible buttons (and links styled as buttons) of ``main`` that stick out of the screen's width
    or are too small to tap (under 24 px high, WCAG 2.2's target size minimum)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('main button, main .btn, main input[type=file]')]
            .filter(e => e.offsetParent !== null && !e.closest('.visually-hidden'))
            .filter(e => { const r = e.getBoundingClientRect();
                           return r.left < 0 || r.right > window.innerWidth || r.height < 24; })
            .map(e => e.textContent.trim() || e.outerHTML.slice(0, 80))"""
    )


def clean(page: Any) -> None:
    """axe-core: no serious or critical violation on the page as it is now."""
    assert axe_violations(page) == [], page.url


def phone_usable(page: Any) -> None:
    """At 390x844: no horizontal scroll, every button within reach; then back to the desktop size."""
    page.set_viewport_size(PHONE)
    try:
        assert fits(page), page.url
        assert buttons_out_of_reach(page) == [], page.url
        clean(page)
    finally:
        page.set_viewport_size(DESKTOP)


def flip_byte_in_page_content(pdf: bytes) -> bytes:
    """The original with one byte changed inside the first page's own content stream (the text)."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    contents = reader.root["/Pages"]["/Kids"][0].get_object().raw_get("/Contents")
    if isinstance(contents.get_object(), generic.ArrayObject):  # an array of streams: the first
        contents = contents.get_object().raw_get(0)
    ref = contents
    start = pdf.rfind(b"\n%d 0 obj" % ref.idnum)
    assert start > 0
    data_start = pdf.index(b"stream", start) + len(b"stream")
    data_start += 2 if pdf[data_start : data_start + 2] == b"\r\n" else 1
    end = pdf.index(b"endstream", data_start)
    changed = bytearray(pdf)
    changed[(data_start + end) // 2] ^= 0x01
    return bytes(changed)


def add_text_incrementally(pdf: bytes, text: str) -> bytes:
    """The original with text added to its first page by an incremental update after the last signature
    (what an editor's "save" does), in one of the page's own fonts."""

    def change(writer: IncrementalPdfFileWriter) -> None:
        page_ref, _ = writer.find_page_for_modification(0)
        page = page_ref.get_object()
        font = next(iter(page["/Resources"]["/Font"]))
        drawing = generic.StreamObject(stream_data=f"BT {font} 11 Tf 72 60 Td ({text}) Tj ET".encode("latin-1"))
        existing = page["/Contents"]
        parts = list(existing) if isinstance(existing, generic.ArrayObject) else [page.raw_get("/Contents")]
        page["/Contents"] = generic.ArrayObject([*parts, writer.add_object(drawing)])
        writer.update_container(page)

    return _incremental(pdf, change)


def upload(page: Any, path: Path) -> str:
    """A file through /verifikasi's form; the text of the page that answers."""
    page.goto("/verifikasi")
    page.set_input_files("#f-berkas", str(path))
    with page.expect_navigation():
        page.click("main button[type=submit]")
    return page.inner_text("main")


def search(page: Any, api: dict[str, str], **fields: str) -> list[int]:
    """The arsip search form as a person fills it (no JavaScript needed: plain GET), then submits; the ids
    of the records it lists.  The page is held to ``GET /api/v1/arsip`` for the same filter and the same
    person (``api``: their token): the same count and the same records in the same order (the live server
    is shared with other browser tests, so no count is known in advance)."""
    page.goto("/arsip")
    for name, value in fields.items():
        if name in ("q", "tahun", "opd"):
            page.fill(f"#f-{name}", value)
        else:
            page.select_option(f"#f-{name}", value)
    page.click("main form[role=search] button[type=submit]")
    page.wait_for_function(
        "params => params.every(([k, v]) => new URL(location.href).searchParams.get(k) === v)",
        arg=list(fields.items()),
    )
    page.wait_for_selector("#hasil p.result-count")
    page.wait_for_load_state("networkidle")
    shown = [
        int(h.rsplit("/", 1)[1])
        for h in page.eval_on_selector_all("#hasil a.case-title", "as => as.map(a => a.getAttribute('href'))")
    ]
    url = page.url.split("/arsip", 1)[0] + "/api/v1/arsip"
    answer = httpx.get(url, params={**fields, "limit": PAGE_SIZE}, headers=api, timeout=60).json()
    assert shown == [a["id"] for a in answer["data"]], (fields, shown, answer)
    count = page.inner_text("#hasil p.result-count")
    assert re.match(rf"{answer['count']} arsip\b", count), (fields, count, answer["count"])
    return shown


def test_the_secretariat_archives_the_demos_signed_kb_finds_it_and_anyone_checks_a_copy_of_it(
    live, tmp_path: Path, dev_pki, counterparty_pki
):
    started = time.monotonic()
    svc = live.services
    saved = (svc.trust_roots, svc.tsa_url)
    svc.trust_roots, svc.tsa_url = [*dev_pki.roots, *counterparty_pki.roots], dev_pki.tsa_url
    try:
        with ThreadPoolExecutor(1) as pool:  # the demo's steps off the browser's (Playwright's) thread
            nid = pool.submit(demo_signed_kb, svc, dev_pki, counterparty_pki).result()
        arranged = time.monotonic() - started

        # 1. Tugas saya → the signing page; refused while the partner's CA is not trusted; archived
        page = live.sign_in("u-secretariat", viewport=DESKTOP)
        task = page.locator(f"#tugas-saya a[href^='/naskah/{nid}']", has_text="Arsipkan naskah")
        assert task.get_attribute("href") == f"/naskah/{nid}/tanda-tangan"
        clean(page)
        task.click()
        page.wait_for_url(f"**/naskah/{nid}/tanda-tangan")
        assert "Semua tanda tangan sah dan tepercaya" in page.inner_text("main")
        clean(page)

        svc.trust_roots = list(dev_pki.roots)  # the partner's CA is not (or no longer) trusted here
        try:
            page.click("#f-arsip")
            page.wait_for_selector(".refusal")
        finally:
            svc.trust_roots = [*dev_pki.roots, *counterparty_pki.roots]
        assert page.locator(".error-summary").is_visible()
        refusal = page.inner_text(".refusal")
        assert "tidak diarsipkan" in refusal and "not_verified" in refusal, refusal
        assert "H. Rahmad Mas'ud" in refusal, refusal  # which signature, by name
        clean(page)
        phone_usable(page)
        with Session(svc.engine) as session:
            assert session.exec(select(Arsip).where(Arsip.naskah_id == nid)).first() is None

        page.click("#f-arsip")
        page.wait_for_url(f"**/naskah/{nid}/tanda-tangan?selesai=arsip", timeout=60_000)
        assert "Naskah sudah diarsipkan" in page.inner_text("main")
        clean(page)
        with Session(svc.engine) as session:
            arsip = session.exec(select(Arsip).where(Arsip.naskah_id == nid)).one()
            token = session.exec(select(PublicLink).where(PublicLink.naskah_id == nid)).one().token
        page.goto("/")
        assert page.locator(f"#tugas-saya a[href^='/naskah/{nid}']").count() == 0  # the task is done
        page.goto(f"/naskah/{nid}/tanda-tangan")
        page.get_by_role("link", name="Buka rincian arsip").click()
        page.wait_for_url(f"**/arsip/{arsip.id}")

        # 2. /arsip: free text, then every filter; the wrong year and "kedaluwarsa" do not find it
        record_link = f"#hasil a.case-title[href='/arsip/{arsip.id}']"
        today = demo._today(svc)
        api = token_of(svc, "u-secretariat")
        assert arsip.id in search(page, api, q="ekonomi sirkular")
        clean(page)
        every_filter = {"jenis": "KB", "jenis_kerja_sama": "KSDD", "tahun": str(today.year), "masa": "berlaku"}
        found = search(page, api, q="balikpapan", **every_filter, opd="lingkungan hidup")
        assert arsip.id in found
        row = page.locator("#hasil tr", has=page.locator(f"a.case-title[href='/arsip/{arsip.id}']")).inner_text()
        for nomor in arsip.nomor.values():
            assert nomor in row
        assert "Pemerintah Kota Balikpapan" in row and "Masih berlaku" in row
        clean(page)
        phone_usable(page)
        screenshot(page, "web-arsip-sekretariat-cari", tmp_path)
        assert arsip.id not in search(page, api, q="balikpapan", tahun=str(today.year - 1))
        assert arsip.id not in search(page, api, q="balikpapan", masa="kedaluwarsa")
        assert arsip.id not in search(page, api, q="balikpapan", masa="segera_berakhir")
        assert arsip.id not in search(page, api, q="balikpapan", jenis="PKS")
        assert arsip.id not in search(page, api, q="balikpapan", jenis_kerja_sama="KSDPK")
        assert arsip.id not in search(page, api, q="balikpapan", opd="pekerjaan umum")

        # ... the record: every signature for people, the B-LTA chain and when to renew it
        assert arsip.id in search(page, api, q="ekonomi sirkular", jenis="KB")
        page.click(record_link)
        page.wait_for_url(f"**/arsip/{arsip.id}")
        assert "Naskah asli ini sah dan utuh" in page.inner_text("#judul-kesimpulan")
        cards = page.locator(".signature-card")
        assert cards.count() == 2
        report = page.inner_text("#judul-ttd >> xpath=..")
        for nama, jabatan in (("dr. Fahmi Fadli", "Bupati Paser"), ("H. Rahmad Mas'ud", "Wali Kota Balikpapan")):
            card = cards.filter(has_text=nama).inner_text()
            assert f"Tercantum pada blok tanda tangan: {nama}" in card and jabatan in card, card
            assert re.search(r"Milik penanda tangan yang tercantum\s+✓ Ya", card), card
            assert re.search(r"Isi utuh dan tanda tangan cocok\s+✓ Ya", card), card
            assert "Ya, berantai ke otoritas yang dipercaya dan tidak dicabut" in card, card
            assert re.search(r"Stempel waktu\s+\d{1,2} \w+ \d{4} pukul \d{2}\.\d{2} WITA · ✓ sah", card), card
            assert "Tidak (menandatangani sendiri)" in card
        assert "Naskah Dev" in cards.filter(has_text="dr. Fahmi Fadli").locator(".ca").inner_text()
        assert "PSrE Mitra" in cards.filter(has_text="H. Rahmad Mas'ud").locator(".ca").inner_text()
        assert "Tidak dapat dipastikan" not in report
        chain = page.inner_text("#judul-stempel >> xpath=..")
        assert re.search(r"pukul \d{2}\.\d{2} WITA oleh .+ · ✓ sah · sertifikat TSA berlaku s\.d\.", chain), chain
        assert arsip.timestamp_expiry is not None
        renew = page.inner_text(".renew")
        assert "Rantai B-LTA harus diperbarui" in renew and str(arsip.timestamp_expiry.year) in renew, renew
        assert arsip.sha256 in page.inner_text(".versions")
        clean(page)
        phone_usable(page)

        # ... and the original, byte for byte the locked object in the archive store
        with page.expect_download() as info:
            page.get_by_role("link", name="Unduh naskah asli").click()
        original = Path(info.value.path()).read_bytes()
        stored = svc.get_archive(arsip.key, arsip.version_id, arsip.sha256)
        assert hashlib.sha256(original).hexdigest() == hashlib.sha256(stored).hexdigest() == arsip.sha256
        assert original == stored
        asli = tmp_path / "asli.pdf"
        asli.write_bytes(original)
        if shutil.which("pdftoppm"):  # poppler, not ours, renders what the secretariat downloaded
            subprocess.run(
                ["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(asli), str(tmp_path / "asli")], check=True
            )
            assert list(tmp_path.glob("asli-*1.png"))

        # 3. anyone, signed out, in a fresh browser: the original, two tampered copies, not a PDF, the QR page
        byte = tmp_path / "satu-bita-diubah.pdf"
        byte.write_bytes(flip_byte_in_page_content(original))
        added = tmp_path / "teks-ditambah.pdf"
        added.write_bytes(add_text_incrementally(original, "Nilai kerja sama: Rp 9.999.999.999"))
        words = tmp_path / "naskah.pdf.txt"
        words.write_text("Ini bukan PDF, hanya teks yang diberi nama naskah.", encoding="utf-8")

        anyone = live.context(viewport=DESKTOP).new_page()
        anyone.goto("/verifikasi")
        assert anyone.locator("header").get_by_role("button", name="Keluar").count() == 0  # nobody signed in
        clean(anyone)
        phone_usable(anyone)
        text = upload(anyone, asli)
        assert "Sama persis dengan naskah asli di arsip Pemda" in anyone.inner_text("#judul-arsip")
        assert "Tanda tangan pada berkas ini sah dan isinya utuh" in anyone.inner_text("#judul-kesimpulan")
        assert "Pemerintah Kota Balikpapan" in anyone.inner_text(".public-summary")
        assert arsip.sha256 in text
        clean(anyone)
        phone_usable(anyone)

        for tampered in (byte, added):
            text = upload(anyone, tampered)
            verdict = anyone.inner_text("#judul-arsip")
            assert "BUKAN naskah asli" in verdict, (tampered.name, verdict)
            assert "TIDAK lolos verifikasi" in anyone.inner_text("#judul-kesimpulan"), tampered.name
            assert "Sama persis" not in text and "Terbukti tidak berubah" not in text
            assert "Naskah asli tersimpan di arsip" not in text, tampered.name  # no green tick beside a copy
            if anyone.locator(".public-summary").count():  # a copy recognised as this naskah's: said so, not ticked
                assert "berkas yang diperiksa berbeda dari naskah asli itu" in text, tampered.name
            clean(anyone)
        screenshot(anyone, "web-verifikasi-diubah", tmp_path)

        text = upload(anyone, words)
        assert "Berkas ini bukan PDF" in anyone.inner_text(".error-summary"), text
        assert anyone.locator("#f-berkas[aria-invalid=true]").count() == 1
        clean(anyone)

        anyone.goto(f"/v/{token}")
        summary = anyone.inner_text(".public-summary")
        assert "Naskah asli tersimpan di arsip" in summary
        assert "dr. Fahmi Fadli" in summary and "Pengelolaan Sampah Regional" in summary
        clean(anyone)
        phone_usable(anyone)
    finally:
        svc.trust_roots, svc.tsa_url = saved
    walked = time.monotonic() - started - arranged
    print(f"sekretariat walk: arranged {arranged:.1f} s, pages {walked:.1f} s, {dt.datetime.now(dt.UTC):%H:%M:%S}")
