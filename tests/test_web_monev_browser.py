"""The monev pages in a real browser (Debian's Chromium; tests/fixtures/browser.py): the OPD official finds
the round waiting on them on /monev, reports through the form with an attachment, and the round page
shows it; axe-core finds no serious or critical violation, the CSP blocks nothing, a 390-px phone needs
no horizontal scrolling; the screenshots (``NASKAH_SCREENSHOTS=1`` writes docs/img/web-monev*.png)."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
from typing import Any

import openpyxl
from PIL import Image
from sqlmodel import select

from pipeline.archival import monev
from pipeline.auth import create_user
from pipeline.models import User
from pipeline.monev_lifecycle import ACTION_LABELS, MonevAction
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


# -- a whole round, each step by its own user, through the pages only ------------------------------

WALK_JUDUL = "Penyelenggaraan Angkutan Antarwilayah Paser"
WALKED = [
    MonevAction.TUGASKAN, MonevAction.JADWALKAN, MonevAction.LAPOR, MonevAction.OLAH, MonevAction.EVALUASI,
    MonevAction.ARAHKAN, MonevAction.TUTUP,
]  # fmt: skip
WALK_LAPORAN = {
    "realisasi": "Bus antarwilayah Tanah Grogot-Balikpapan berjalan 12 rit per minggu.",
    "kendala": "Satu bus rusak selama dua minggu.",
    "manfaat": "Waktu tunggu penumpang di terminal turun dari 60 menjadi 25 menit.",
    "rekomendasi": "Pengadaan satu bus cadangan.",
}
OVERFLOW_JS = "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"


def _walk_users(live) -> None:
    """The round's people (the Kabag is the profile's official): a ketua tim and an OPD official."""
    with session_scope(live.services.engine) as session:
        known = session.exec(select(User).where(User.username == "u-drafter")).one().password_hash
        for username, nama, roles, posisi, opd in [
            ("katim-w", "Rina Lestari, S.IP.", ["drafter"], ["kasubbag_humas_ks"], None),
            ("dishub-w", "Budi Santoso, S.T.", ["signer"], [], "Dinas Perhubungan"),
        ]:
            user = create_user(
                session, username=username, nama=nama, jabatan="Pejabat", roles=roles, posisi=posisi, opd=opd
            )
            user.password_hash = known


class _Walker:
    """Every page a user opens in the walk is checked the same way: axe-core finds no serious or
    critical violation, the CSP blocked nothing, and the page needs no horizontal scrolling."""

    def __init__(self, live, username: str, *, phone: bool = False) -> None:
        options = (
            {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
            if phone
            else {"viewport": {"width": 1280, "height": 900}}
        )
        self.live = live
        self.page = live.sign_in(username, **options)
        self.blocked: list[str] = []
        self.page.on("console", lambda m: self.blocked.append(m.text) if "Content Security Policy" in m.text else None)
        self.page.on("pageerror", lambda e: self.blocked.append(str(e)))

    def check(self) -> Any:
        page = self.page
        assert axe_violations(page) == [], page.url
        width = page.evaluate(OVERFLOW_JS)
        assert width[0] <= width[1], (page.url, width)
        assert self.blocked == [], (page.url, self.blocked)
        return page

    def goto(self, path: str) -> Any:
        response = self.page.goto(path)
        assert response is not None and response.status == 200, (path, response and response.status)
        return self.check()

    def submit(self, form: str, expect: str | None = None) -> Any:
        self.page.click(f"{form} button[type=submit]")
        if expect is not None:
            self.page.wait_for_url(f"{self.live.url}{expect}")
        else:
            self.page.wait_for_load_state()
        return self.check()


def _alert_kinds(page: Any, judul: str) -> list[str]:
    rows = page.locator(".monev-peringatan tbody tr").filter(has_text=judul)
    return [rows.nth(i).get_attribute("data-kind") or "" for i in range(rows.count())]


def test_a_whole_monev_round_walks_through_the_pages_by_its_own_people(live, tmp_path):
    svc = live.services
    today = dt.datetime.now(svc.profile.tz).date()
    _walk_users(live)
    start = today - dt.timedelta(days=400)
    arsip_id, _ = add_arsip(
        svc.engine, judul=WALK_JUDUL, mulai=start, tanggal_ttd=start, selesai=today + dt.timedelta(days=900),
        opd="Dinas Perhubungan", serial=92,
    )  # fmt: skip

    # Before: the agreement has had no report for 400 days; the Kabag sees it on /monev and on the dashboard.
    kabag = _Walker(live, "kabag_pemerintahan")
    kabag.page.click('nav a[href="/monev"]')
    kabag.page.wait_for_url(f"{live.url}/monev")
    kabag.check()
    assert _alert_kinds(kabag.page, WALK_JUDUL) == ["tanpa_laporan"]
    mine = kabag.page.locator(".monev-giliran li").filter(has_text=WALK_JUDUL)
    assert "tugaskan tim monitoring dan evaluasi" in mine.inner_text()
    dasbor = kabag.goto("/monitoring")
    assert int(dasbor.locator('#tabel-monev tr[data-kind="tanpa_laporan"] [data-kolom="jumlah"]').inner_text()) >= 1

    # Step 1: the Kabag assigns the team from the agreement's page; a period ending before it starts is marked.
    page = kabag.goto("/monev")
    page.locator(".monev-berlaku a", has_text=WALK_JUDUL).click()
    page.wait_for_url(f"{live.url}/monev/kerja-sama/{arsip_id}")
    kabag.check()
    page.fill("#f-surat_perintah", "800.1.11.1/77/Pem")
    page.select_option("#f-ketua_tim", "katim-w")
    page.fill("#f-periode_mulai", today.isoformat())
    page.fill("#f-periode_selesai", (today - dt.timedelta(days=30)).isoformat())
    kabag.submit("form.monev-tugaskan")
    assert "Ada masalah" in page.locator("main").inner_text()
    assert page.locator("#f-periode_selesai").get_attribute("aria-invalid") == "true"
    assert page.input_value("#f-surat_perintah") == "800.1.11.1/77/Pem"
    screenshot(page, "web-monev-walk-tugaskan-galat", tmp_path)
    page.fill("#f-periode_mulai", (today - dt.timedelta(days=180)).isoformat())
    page.fill("#f-periode_selesai", today.isoformat())
    kabag.submit("form.monev-tugaskan")
    page.wait_for_url(f"{live.url}/monev/*?selesai=monev_tugaskan")
    round_id = int(page.url.split("/monev/")[1].split("?")[0])
    assert "Tersimpan: menugaskan tim monitoring dan evaluasi." in page.locator("main").inner_text()
    assert page.locator('[data-field="status"]').inner_text().startswith("Persiapan")

    # Steps 2-3: the ketua tim finds the round waiting and sets the bahan and jadwal.
    katim = _Walker(live, "katim-w")
    page = katim.goto("/monev")
    page.locator(".monev-giliran a", has_text=WALK_JUDUL).click()
    page.wait_for_url(f"{live.url}/monev/{round_id}")
    katim.check()
    page.fill("#langkah-monev_jadwalkan #f-bahan", "Data armada dan trayek antarwilayah 2026.")
    page.fill("#langkah-monev_jadwalkan #f-jadwal", today.isoformat())
    katim.submit("#langkah-monev_jadwalkan", f"/monev/{round_id}?selesai=monev_jadwalkan")
    assert page.locator('[data-field="status"]').inner_text().startswith("Menunggu laporan monitoring OPD")

    # Step 4: the OPD official, on a phone, reports with an attachment.
    opd = _Walker(live, "dishub-w", phone=True)
    page = opd.goto("/monev")
    page.locator(".monev-giliran a", has_text=WALK_JUDUL).first.click()
    page.wait_for_url(f"{live.url}/monev/{round_id}")
    opd.check()
    for name, value in WALK_LAPORAN.items():
        page.fill(f"#f-{name}", value)
    photo = io.BytesIO()
    Image.new("RGB", (160, 100), (30, 80, 160)).save(photo, "PNG")
    page.set_input_files(
        "#f-files", files=[{"name": "foto-terminal.png", "mimeType": "image/png", "buffer": photo.getvalue()}]
    )
    opd.submit("main form[action$='/laporan']", f"/monev/{round_id}?selesai=laporan")
    assert page.locator(".monev-lampiran a").inner_text() == "foto-terminal.png"
    screenshot(page, "web-monev-walk-laporan-ponsel", tmp_path)

    # After the report the agreement no longer shows as without a report.
    page = kabag.goto("/monev")
    assert "tanpa_laporan" not in _alert_kinds(page, WALK_JUDUL)

    # Steps 5-6: the ketua tim hands over the processed data.
    page = katim.goto(f"/monev/{round_id}")
    page.fill("#langkah-monev_olah #f-hasil_olah", "Realisasi 12 rit per minggu, 96 persen dari target.")
    katim.submit("#langkah-monev_olah", f"/monev/{round_id}?selesai=monev_olah")

    # Step 7: the Kabag records the findings and the evaluation.
    page = kabag.goto(f"/monev/{round_id}")
    page.fill("#langkah-monev_evaluasi #f-temuan", "Satu bus rusak dua minggu.\nJadwal trayek malam belum jalan.")
    page.select_option("#langkah-monev_evaluasi #f-penilaian", "cukup")
    page.fill("#langkah-monev_evaluasi #f-evaluasi", "Kerja sama berjalan dengan kendala armada.")
    kabag.submit("#langkah-monev_evaluasi", f"/monev/{round_id}?selesai=monev_evaluasi")
    assert page.locator("#judul-evaluasi").is_visible()

    # The arahan form, the longest of the round, on a phone too.
    phone = _Walker(live, "kabag_pemerintahan", phone=True)
    phone.goto(f"/monev/{round_id}")
    assert phone.page.locator("#langkah-monev_arahkan .monev-tl-baris").count() == 5
    screenshot(phone.page, "web-monev-walk-arahan-ponsel", tmp_path)

    # Step 8: the arahan and the tindak lanjut, one row each; an item due yesterday is marked on its field.
    form = page.locator("#langkah-monev_arahkan")
    form.locator("#f-arahan").fill("Siapkan armada cadangan dan jalankan trayek malam.")
    form.locator("#f-tl_uraian_1").fill("Pengadaan bus cadangan")
    assert form.locator("#f-tl_pj_1 option").all_inner_texts()[:2] == [
        "Pilih penanggung jawab",
        "OPD teknis: Dinas Perhubungan",
    ]
    form.locator("#f-tl_pj_1").select_option("opd_teknis")
    form.locator("#f-tl_tenggat_1").fill((today - dt.timedelta(days=1)).isoformat())
    form.locator("#f-tl_uraian_3").fill("Laporan trayek malam")
    kabag.submit("#langkah-monev_arahkan")  # row 3 has neither a penanggung jawab nor a tenggat
    assert "Ada masalah" in page.locator("main").inner_text()
    marked = form.locator("[aria-invalid=true]").evaluate_all("els => els.map(e => e.id)")
    assert marked == ["f-tl_pj_3", "f-tl_tenggat_3"]
    assert form.locator("#f-tl_uraian_3").input_value() == "Laporan trayek malam"
    form.locator("#f-tl_pj_3").select_option("katim-w")
    due = (today + dt.timedelta(days=30)).isoformat()
    form.locator("#f-tl_tenggat_3").fill(due)
    kabag.submit("#langkah-monev_arahkan")  # row 1 is due yesterday
    assert form.locator("[aria-invalid=true]").evaluate_all("els => els.map(e => e.id)") == ["f-tl_tenggat_1"]
    assert "sudah lewat" in form.locator("#f-tl_tenggat_1-galat").inner_text()
    screenshot(page, "web-monev-walk-arahan-galat", tmp_path)
    form.locator("#f-tl_tenggat_1").fill(due)
    kabag.submit("#langkah-monev_arahkan", f"/monev/{round_id}?selesai=monev_arahkan")
    items = page.locator(".monev-tl tbody tr:not(.monev-tl-form)").all_inner_texts()
    assert [i.split()[:3] for i in items] == [["1", "Pengadaan", "bus"], ["2", "Laporan", "trayek"]]
    assert "Dinas Perhubungan" in items[0] and "Rina Lestari" in items[1]

    # Step 9: the OPD (on its phone) and the ketua tim each mark their item done; then the round closes.
    page = opd.goto(f"/monev/{round_id}")
    forms = page.locator(".monev-tl-form form")
    assert forms.count() == 1
    forms.locator("textarea").fill("Bus cadangan sudah dibeli melalui e-katalog.")
    opd.submit(".monev-tl-form form", f"/monev/{round_id}?selesai=tindak_lanjut")
    page = katim.goto(f"/monev/{round_id}")
    assert page.locator("#langkah-monev_tutup").count() == 0  # not before every item is done
    page.locator(".monev-tl-form form textarea").fill("Laporan trayek malam disampaikan.")
    katim.submit(".monev-tl-form form", f"/monev/{round_id}?selesai=tindak_lanjut")
    assert page.locator(".monev-tl").inner_text().count("Selesai") == 2
    page.fill("#langkah-monev_tutup #f-kesimpulan", "Kerja sama dilanjutkan; kendala armada teratasi.")
    katim.submit("#langkah-monev_tutup", f"/monev/{round_id}?selesai=monev_tutup")
    assert page.locator('[data-field="status"]').inner_text() == "Selesai"
    assert page.locator(".monev-langkah").count() == 0
    screenshot(page, "web-monev-walk-selesai", tmp_path)
    history = page.locator(".monev-riwayat").inner_text()
    done = [label for label in ACTION_LABELS.values() if label in history]
    assert done == [ACTION_LABELS[a] for a in WALKED], history

    # The dashboard and the alerts: nothing left for this agreement.
    page = kabag.goto("/monev")
    assert _alert_kinds(page, WALK_JUDUL) == []
    assert page.locator(".monev-giliran").filter(has_text=WALK_JUDUL).count() == 0
    row = page.locator(".monev-berlaku tr", has_text=WALK_JUDUL)
    assert "Selesai" in row.inner_text()
    dasbor = kabag.goto("/monitoring")
    assert WALK_JUDUL not in dasbor.locator("#tabel-monev").inner_text()
    for path in ("/monev", f"/monev/{round_id}", f"/monev/kerja-sama/{arsip_id}", "/monitoring"):
        phone.goto(path)

    # The evaluation report, downloaded from the page: the XLSX and the PDF hold this round.
    page = kabag.goto("/monev")
    with page.expect_download() as got:
        page.click("text=Unduh XLSX")
    xlsx = tmp_path / got.value.suggested_filename
    got.value.save_as(xlsx)
    book = openpyxl.load_workbook(xlsx)
    sheet = book["Evaluasi"]
    header = [c.value for c in sheet[4]]
    [row] = [[c.value for c in r] for r in sheet.iter_rows(min_row=5) if r[1].value == f"{WALK_JUDUL} (KB)"]
    record = dict(zip(header, row, strict=True))
    assert record["Kesimpulan"] == "Kerja sama dilanjutkan; kendala armada teratasi."
    assert record["Realisasi"] == WALK_LAPORAN["realisasi"] and record["Tindak lanjut"] == "2 dari 2 selesai"
    assert record["Monev"] == f"{round_id}: Selesai"
    with page.expect_download() as got:
        page.click("text=Unduh PDF")
    report = tmp_path / got.value.suggested_filename
    got.value.save_as(report)
    assert report.read_bytes().startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(report), str(tmp_path / "laporan")], check=True)
    text = subprocess.run(["pdftotext", str(report), "-"], check=True, capture_output=True, text=True).stdout
    flat = " ".join(text.split())
    assert WALK_JUDUL.split()[0] in flat and "Kesimpulan: Kerja sama dilanjutkan;" in flat
