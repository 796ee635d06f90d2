"""The monev pages over plain HTTP (no browser): what waits on me and the alerts with who must act, the
agreements in force, a round with its report and files, the OPD's report form (errors on the form,
input kept; Post/Redirect/Get), visibility as the API's, the menu link, the report downloads."""

from __future__ import annotations

import io

import pytest
from lxml import html as lxml_html
from openpyxl import load_workbook

from tests.test_monev import LAPORAN, OPD, M, _agreement, _people, _png, _to_monitoring, _today
from tests.test_web import page_csrf
from tests.test_web_beranda import browsers

SERVICES = pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)

__all__ = ["browsers"]


def doc_of(client, path: str) -> lxml_html.HtmlElement:
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return lxml_html.fromstring(r.text)


def words(node) -> str:
    return " ".join(node.text_content().split())


@SERVICES
def test_the_monev_page_shows_what_waits_on_me_and_every_alert_with_who_acts(api, browsers):
    _people(api)
    arsip_id = _agreement(api)
    doc = doc_of(browsers["kabag_pemerintahan"], "/monev")
    [row] = doc.xpath('//table[contains(@class, "monev-peringatan")]//tr[@data-kind="tanpa_laporan"]')
    assert "Kepala Bagian Pemerintahan" in words(row) and "Anda" in words(row)
    assert "Pengelolaan Sampah Regional" in words(doc.xpath('//*[contains(@class, "monev-giliran")]')[0])
    assert [a.get("href") for a in doc.xpath('//table[contains(@class, "monev-berlaku")]//a')] == [
        f"/monev/kerja-sama/{arsip_id}"
    ]
    assert doc.xpath('//nav//a[@href="/monev" and @aria-current="page"]')
    other = doc_of(browsers["opd-lain"], "/monev")
    assert "Pengelolaan Sampah Regional" not in words(other) and "Tidak ada peringatan." in words(other)
    assert browsers["mitra"].get("/monev").status_code == 403
    assert not doc_of(browsers["mitra"], "/").xpath('//nav//a[@href="/monev"]')


@SERVICES
def test_the_opd_reports_through_the_form_and_the_round_page_shows_it(api, browsers):
    _people(api)
    round_id = _to_monitoring(api, _agreement(api))
    client = browsers["opd-dlh"]
    doc = doc_of(client, f"/monev/{round_id}")
    assert "Menunggu laporan monitoring OPD" in words(doc) and OPD in words(doc)
    assert doc.xpath(f'//form[@action="/monev/{round_id}/laporan"]')
    assert not doc_of(browsers["katim"], f"/monev/{round_id}").xpath("//form[contains(@action, '/laporan')]")
    assert browsers["opd-lain"].get(f"/monev/{round_id}").status_code == 404

    # A missing field comes back on the form, the rest kept; nothing is stored.
    token = page_csrf(client, f"/monev/{round_id}")
    bad = client.post(
        f"/monev/{round_id}/laporan",
        data={**LAPORAN, "kendala": "", "csrf_token": token},
        follow_redirects=False,
    )
    assert bad.status_code == 422
    form = lxml_html.fromstring(bad.text)
    assert form.xpath('//*[@id="f-kendala-galat"]') and "Ada masalah" in words(form)
    assert form.xpath('//textarea[@name="realisasi"]')[0].text == LAPORAN["realisasi"]
    hostile = client.post(
        f"/monev/{round_id}/laporan",
        data={**LAPORAN, "csrf_token": token},
        files=[("files", ("laporan.pdf", b"MZ\x90\x00" + b"\x00" * 100, "application/pdf"))],
        follow_redirects=False,
    )
    assert hostile.status_code == 422 and lxml_html.fromstring(hostile.text).xpath('//*[@id="f-files-galat"]')

    png = _png()
    ok = client.post(
        f"/monev/{round_id}/laporan",
        data={**LAPORAN, "csrf_token": token},
        files=[("files", ("foto.png", png, "image/png"))],
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == f"/monev/{round_id}?selesai=laporan"
    doc = doc_of(browsers["katim"], ok.headers["location"])
    assert words(doc.xpath('//*[@data-field="realisasi"]')[0]) == LAPORAN["realisasi"]
    [link] = doc.xpath('//ul[contains(@class, "monev-lampiran")]//a')
    assert link.text == "foto.png" and browsers["katim"].get(link.get("href")).content == png
    assert api.client.get(f"{M}/{round_id}", headers=api.auth("katim")).json()["status"] == "pengolahan"


@SERVICES
def test_the_report_downloads_from_the_page(api, browsers):
    _people(api)
    _to_monitoring(api, _agreement(api))
    r = browsers["kabag_pemerintahan"].get("/monev/laporan.xlsx")
    assert r.status_code == 200
    assert load_workbook(io.BytesIO(r.content))["Evaluasi"].max_row == 5


@SERVICES
def test_the_monitoring_dashboard_counts_the_monev_alerts(api, browsers):
    _people(api)
    _agreement(api)
    _agreement(api, mulai_ago=10, ends_in=30, judul="Air Minum Regional")
    doc = doc_of(browsers["secretariat"], "/monitoring")
    rows = {r.get("data-kind"): r for r in doc.xpath('//table[@id="tabel-monev"]//tr[@data-kind]')}
    assert words(rows["tanpa_laporan"].xpath('./td[@data-kolom="jumlah"]')[0]) == "1"
    assert words(rows["perpanjangan"].xpath('./td[@data-kolom="jumlah"]')[0]) == "1"
    assert words(rows["tindak_lanjut_terlambat"].xpath('./td[@data-kolom="jumlah"]')[0]) == "0"
    assert "Air Minum Regional (Kepala Bagian Pemerintahan)" in words(rows["perpanjangan"])
    assert not doc_of(browsers["opd-lain"], "/monitoring").xpath('//table[@id="tabel-monev"]//td[text()="1"]')


@SERVICES
def test_beranda_tells_whom_monev_waits_on(api, browsers):
    _people(api)
    round_id = _to_monitoring(api, _agreement(api))
    card = doc_of(browsers["opd-dlh"], "/").xpath('//section[contains(@class, "monev-inbox")]')
    assert card and "1 langkah monev menunggu Anda" in words(card[0]) and card[0].xpath('.//a[@href="/monev"]')
    assert not doc_of(browsers["katim"], "/").xpath('//section[contains(@class, "monev-inbox")]')
    assert not doc_of(browsers["mitra"], "/").xpath('//section[contains(@class, "monev-inbox")]')
    assert round_id


@SERVICES
def test_a_round_walks_to_its_end_through_the_page_forms(api, browsers):
    _people(api)
    today = _today(api)
    round_id = _to_monitoring(api, _agreement(api))
    opd = browsers["opd-dlh"]
    token = page_csrf(opd, f"/monev/{round_id}")
    assert (
        opd.post(
            f"/monev/{round_id}/laporan", data={**LAPORAN, "csrf_token": token}, follow_redirects=False
        ).status_code
        == 303
    )

    def step(who: str, action: str, data: dict, expect: int = 303):
        client = browsers[who]
        token = page_csrf(client, f"/monev/{round_id}")
        r = client.post(
            f"/monev/{round_id}/langkah/{action}", data={**data, "csrf_token": token}, follow_redirects=False
        )
        assert r.status_code == expect, (action, r.status_code, r.text[:300])
        return r

    katim = doc_of(browsers["katim"], f"/monev/{round_id}")
    assert [f.get("action") for f in katim.xpath('//section[contains(@class, "monev-langkah")]//form')] == [
        f"/monev/{round_id}/langkah/monev_kembalikan",
        f"/monev/{round_id}/langkah/monev_olah",
    ]
    bad = step("katim", "monev_olah", {"hasil_olah": ""}, expect=422)
    assert "Ada masalah" in words(lxml_html.fromstring(bad.text))
    step("katim", "monev_olah", {"hasil_olah": "Rekap capaian"})
    step("katim", "monev_evaluasi", {"temuan": "x", "penilaian": "baik", "evaluasi": "x"}, expect=403)
    step(
        "kabag_pemerintahan",
        "monev_evaluasi",
        {"temuan": "Armada kurang\nJadwal molor", "penilaian": "cukup", "evaluasi": "Berjalan"},
    )
    wrong = step(
        "kabag_pemerintahan",
        "monev_arahkan",
        {"arahan": "Tambah armada", "tl_uraian_2": "Usulan truk", "tl_pj_2": "opd_teknis", "tl_tenggat_2": "31-12"},
        expect=422,
    )
    shown = lxml_html.fromstring(wrong.text)
    assert shown.xpath('//textarea[@name="arahan"]')[0].text == "Tambah armada"
    assert shown.xpath('//input[@name="tl_tenggat_2"]/@aria-invalid') == ["true"]
    assert shown.xpath('//input[@name="tl_uraian_2"]/@value') == ["Usulan truk"]
    plan = {"tl_uraian_2": "Usulan truk", "tl_pj_2": "opd_teknis", "tl_tenggat_2": today.isoformat()}
    step("kabag_pemerintahan", "monev_arahkan", {"arahan": "Tambah armada", **plan})
    doc = doc_of(opd, f"/monev/{round_id}")
    [form] = doc.xpath('//tr[contains(@class, "monev-tl-form")]//form')
    token = page_csrf(opd, f"/monev/{round_id}")
    r = opd.post(form.get("action"), data={"catatan": "Usulan dikirim", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    step("katim", "monev_tutup", {"kesimpulan": "Selesai dengan baik"})
    final = api.client.get(f"{M}/{round_id}", headers=api.auth("katim")).json()
    assert final["status"] == "selesai" and final["temuan"] == ["Armada kurang", "Jadwal molor"]
    assert browsers["katim"].post(f"/monev/{round_id}/langkah/hapus", data={"csrf_token": token}).status_code in (
        403,
        404,
    )


@SERVICES
def test_the_kabag_assigns_a_team_and_decides_on_extension_from_the_agreement_page(api, browsers):
    _people(api)
    today = _today(api)
    arsip_id = _agreement(api, ends_in=60)
    kabag = browsers["kabag_pemerintahan"]
    doc = doc_of(kabag, f"/monev/kerja-sama/{arsip_id}")
    choices = doc.xpath('//select[@name="ketua_tim"]/option/@value')
    assert "katim" in choices and "analis" in choices and "opd-dlh" not in choices
    assert not doc_of(browsers["opd-dlh"], f"/monev/kerja-sama/{arsip_id}").xpath("//main//form")  # reads, does not act
    assert browsers["opd-lain"].get(f"/monev/kerja-sama/{arsip_id}").status_code == 404

    token = page_csrf(kabag, f"/monev/kerja-sama/{arsip_id}")
    form = {"surat_perintah": "SP/9", "ketua_tim": "katim", "analis": "", "periode_mulai": today.isoformat(),
            "periode_selesai": today.isoformat(), "catatan": "", "csrf_token": token}  # fmt: skip
    bad = kabag.post(
        f"/monev/kerja-sama/{arsip_id}/tugaskan", data={**form, "surat_perintah": ""}, follow_redirects=False
    )
    assert bad.status_code == 422 and "Ada masalah" in words(lxml_html.fromstring(bad.text))
    ok = kabag.post(f"/monev/kerja-sama/{arsip_id}/tugaskan", data=form, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"].endswith("?selesai=monev_tugaskan")
    assert "Persiapan" in words(doc_of(kabag, ok.headers["location"]))

    decided = kabag.post(
        f"/monev/kerja-sama/{arsip_id}/perpanjangan",
        data={"keputusan": "tidak_diperpanjang", "catatan_keputusan": "Tujuan tercapai", "csrf_token": token},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    shown = doc_of(kabag, decided.headers["location"]).xpath('//*[@data-field="perpanjangan"]')[0]
    assert words(shown).startswith("Tidak diperpanjang")
    refused = browsers["katim"].post(
        f"/monev/kerja-sama/{arsip_id}/perpanjangan",
        data={"keputusan": "diperpanjang", "csrf_token": page_csrf(browsers["katim"], "/monev")},
        follow_redirects=False,
    )
    assert refused.status_code == 403
