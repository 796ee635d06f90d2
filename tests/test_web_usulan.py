"""The Usulan pages over plain HTTP (no browser): the list with what waits on me first and its filters,
recording a letter with its attachments (a refused file stores nothing), the detail's forms offered only
to whoever may take the step, refusals on their field with the input kept, the letters and the decision
opening a kerja sama; a counterparty's official finds none of it (404), nor the menu link.

The walk in a real browser (axe, a phone's width, screenshots) is tests/test_web_usulan_browser.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from sqlmodel import func, select

from pipeline.auth import create_user
from pipeline.models import Usulan
from storage.db import session_scope
from tests.fixtures.app import Api, session_jars
from tests.test_intake import a_docx, a_pdf, hasil, intake, penawaran, post, to_rapat, upload

__all__ = ["intake"]  # the fixture, used here

INTAKE = pytest.mark.parametrize("intake", ["sqlite-local"], indirect=True)


@pytest.fixture
def browsers(intake: Api) -> Iterator[dict[str, TestClient]]:
    """A cookie jar per person of tests.test_intake.PEOPLE (plus ``mitra``, a counterparty's official)."""
    with session_scope(intake.services.engine) as session:
        create_user(
            session, username="mitra", nama="Direktur Mitra", jabatan="Direktur", roles=["signer"],
            pihak_luar=True, instansi="PT Mitra Sampah",
        )  # fmt: skip
    yield from session_jars(intake)


def doc_of(client: TestClient, path: str) -> lxml_html.HtmlElement:
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return lxml_html.fromstring(r.text)


def words(node: Any) -> str:
    return " ".join(node.text_content().split())


def csrf_of(client: TestClient, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def step_forms(doc: lxml_html.HtmlElement) -> list[str]:
    return [f.get("action").rsplit("/", 1)[-1] for f in doc.xpath("//form[contains(@action, '/langkah/')]")]


def count_usulan(api: Api) -> int:
    with session_scope(api.services.engine) as session:
        return int(session.exec(select(func.count()).select_from(Usulan)).one())


NEW = {
    "jenis": "penawaran",
    "perihal": "Penawaran Kerja Sama Pengelolaan Sampah Regional",
    "surat_nomor": "415.4/123/Pem",
    "surat_tanggal": "2026-12-01",
    "diterima_at": "",
    "pengirim_instansi": "Pemerintah Kota Balikpapan",
    "pengirim_kind": "pemda",
    "pengirim_nama": "H. Rahmad Mas'ud, S.E., M.E.",
    "pengirim_jabatan": "Wali Kota Balikpapan",
    "objek": "pengelolaan sampah regional di TPA Kuaro",
    "bentuk": "Kesepakatan Bersama",
    "tahun_anggaran_mulai": "2027",
    "jangka_waktu_bulan": "60",
    "opd_teknis": "Dinas Lingkungan Hidup Kabupaten Paser",
}


@INTAKE
def test_the_list_shows_what_waits_on_me_first_filters_and_hides_from_a_counterparty(intake, browsers):
    api = intake
    offer = post(api, "tu", "", penawaran()).json()["id"]
    request = post(
        api, "tu", "",
        penawaran(jenis="permohonan", pengirim_kind="opd", pengirim_instansi="Dinas Pendidikan",
                  perihal="Permohonan Kerja Sama Beasiswa", surat_nomor="400.3/9/Disdik"),
    ).json()["id"]  # fmt: skip

    doc = doc_of(browsers["bupati"], "/usulan")
    waiting = doc.xpath('//ul[contains(@class, "usulan-giliran")]//a/@href')
    assert sorted(waiting) == sorted([f"/usulan/{offer}", f"/usulan/{request}"])
    assert doc.xpath('//nav//a[@href="/usulan" and @aria-current="page"]')
    assert not doc.xpath('//a[@href="/usulan/baru"]')  # the Bupati does not record letters
    # Beranda says so too, with the way there; nobody else's Beranda does
    card = doc_of(browsers["bupati"], "/").xpath('//section[contains(@class, "usulan-inbox")]')
    assert card and "2 usulan menunggu Anda" in words(card[0]) and card[0].xpath('.//a[@href="/usulan"]')
    assert not doc_of(browsers["sekda"], "/").xpath('//section[contains(@class, "usulan-inbox")]')
    # the Sekda's turn comes after the Bupati's disposisi
    assert "Tidak ada usulan yang menunggu Anda." in words(doc_of(browsers["sekda"], "/usulan"))
    assert post(api, "bupati", f"/{offer}/disposisi", {"note": "Sekda: kaji"}).status_code == 200
    sekda = doc_of(browsers["sekda"], "/usulan")
    assert sekda.xpath('//ul[contains(@class, "usulan-giliran")]//a/@href') == [f"/usulan/{offer}"]
    assert "Sekretaris Daerah" in words(sekda.xpath('//table[contains(@class, "usulan-daftar")]')[0])

    tu = browsers["tu"]
    assert doc_of(tu, "/usulan").xpath('//a[@href="/usulan/baru"]')
    rows = doc_of(tu, "/usulan?jenis=permohonan").xpath('//table[contains(@class, "usulan-daftar")]//tbody/tr')
    assert [words(r.xpath("./td[1]")[0]) for r in rows] == ["Permohonan Kerja Sama Beasiswa 400.3/9/Disdik"]
    found = doc_of(tu, "/usulan?q=balikpapan&status=disposisi")
    assert found.xpath('//table[contains(@class, "usulan-daftar")]//a/@href') == [f"/usulan/{offer}"]
    assert "1 usulan cocok dengan pencarian" in words(found)
    assert "0 usulan cocok" in words(doc_of(tu, "/usulan?q=balikpapan&status=telaah"))
    bad = tu.get("/usulan?jenis=hibah")
    assert bad.status_code == 422
    assert lxml_html.fromstring(bad.text).xpath('//select[@id="f-jenis" and @aria-invalid="true"]')

    # an official off the chain sees nothing of it; the OPD teknis's official sees its own
    assert "0 usulan" in words(doc_of(browsers["paraf"], "/usulan"))
    assert browsers["paraf"].get(f"/usulan/{offer}").status_code == 404
    assert doc_of(browsers["dlh"], f"/usulan/{offer}").xpath("//h1")[0].text == penawaran()["perihal"]
    # a counterparty's official: no link, no list, no usulan
    mitra = browsers["mitra"]
    assert not doc_of(mitra, "/").xpath('//nav//a[@href="/usulan"]')
    for path in ("/usulan", f"/usulan/{offer}", "/usulan/baru", f"/usulan/{offer}/berkas/1"):
        assert mitra.get(path, follow_redirects=False).status_code == 404, path


@INTAKE
def test_a_letter_is_recorded_through_the_form_with_its_attachments(intake, browsers):
    api = intake
    tu = browsers["tu"]
    assert browsers["bupati"].get("/usulan/baru").status_code == 403
    token = csrf_of(tu, "/usulan/baru")
    pdf, kak = a_pdf(api), a_docx()

    # wrong input comes back on its fields, the rest kept; nothing is stored
    bad = tu.post(
        "/usulan/baru",
        data={**NEW, "perihal": "", "jangka_waktu_bulan": "72", "csrf_token": token},
        files=[("file_surat", ("surat.pdf", pdf, "application/pdf"))],
        follow_redirects=False,
    )
    assert bad.status_code == 422
    form = lxml_html.fromstring(bad.text)
    assert form.xpath('//*[@id="f-perihal-galat"]') and form.xpath('//*[@id="f-jangka_waktu_bulan-galat"]')
    assert "Ada masalah" in words(form)
    assert form.xpath('//input[@name="surat_nomor"]/@value') == [NEW["surat_nomor"]]
    hostile = tu.post(
        "/usulan/baru",
        data={**NEW, "csrf_token": token},
        files=[("file_kak", ("kak.pdf", b"MZ\x90\x00" + b"\x00" * 100, "application/pdf"))],
        follow_redirects=False,
    )
    assert hostile.status_code == 422
    assert lxml_html.fromstring(hostile.text).xpath('//*[@id="f-file_kak-galat"]')
    wrong_kind = tu.post(
        "/usulan/baru", data={**NEW, "pengirim_kind": "opd", "csrf_token": token}, follow_redirects=False
    )
    assert wrong_kind.status_code == 422
    assert lxml_html.fromstring(wrong_kind.text).xpath('//select[@id="f-pengirim_kind" and @aria-invalid="true"]')
    assert count_usulan(api) == 0
    no_token = tu.post("/usulan/baru", data=NEW, follow_redirects=False)
    assert no_token.status_code == 403 and count_usulan(api) == 0

    ok = tu.post(
        "/usulan/baru",
        data={**NEW, "diterima_at": "2026-12-02T09:30", "csrf_token": token},
        files=[
            ("file_surat", ("Surat Penawaran.pdf", pdf, "application/pdf")),
            ("file_kak", ("KAK.docx", kak, "application/octet-stream")),
        ],
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text[:500]
    uid = int(ok.headers["location"].split("/")[2].split("?")[0])
    doc = doc_of(tu, ok.headers["location"])
    assert "Usulan tercatat." in words(doc)
    assert "2 Desember 2026 pukul 09.30 WITA" in words(doc)  # the region's clock
    assert [words(li) for li in doc.xpath('//ul[contains(@class, "usulan-kurang")]/li')] == ["manfaat kerja sama"]
    links = {a.text: a.get("href") for a in doc.xpath('//ul[contains(@class, "usulan-berkas")]//a')}
    assert tu.get(links["Surat Penawaran.pdf"]).content == pdf
    assert tu.get(links["KAK.docx"]).content == kak
    assert "Bupati Paser" in words(doc.xpath('//*[@data-field="giliran"]')[0])
    # the Tata Usaha may complete the data, not dispose it
    assert step_forms(doc) == ["berkas", "lengkapi", "batalkan"]

    token = csrf_of(tu, f"/usulan/{uid}")
    nothing = tu.post(f"/usulan/{uid}/langkah/lengkapi", data={"csrf_token": token}, follow_redirects=False)
    assert nothing.status_code == 422 and "Tidak ada isian yang diubah" in nothing.text
    filled = tu.post(
        f"/usulan/{uid}/langkah/lengkapi",
        data={"manfaat": "pengurangan timbulan sampah", "csrf_token": token},
        follow_redirects=False,
    )
    assert filled.status_code == 303
    assert words(doc_of(tu, f"/usulan/{uid}").xpath('//*[@data-field="kelengkapan"]')[0]) == "Lengkap."


@INTAKE
def test_each_step_form_is_offered_to_whose_turn_it_is_and_refusals_land_on_their_field(intake, browsers):
    api = intake
    uid = post(api, "tu", "", penawaran()).json()["id"]
    assert upload(api, "tu", uid, "surat", "surat.pdf", a_pdf(api)).status_code == 201
    assert upload(api, "tu", uid, "kak", "kak.docx", a_docx()).status_code == 201
    assert "disposisi" not in step_forms(doc_of(browsers["sekda"], f"/usulan/{uid}"))
    bupati = browsers["bupati"]
    assert step_forms(doc_of(bupati, f"/usulan/{uid}")) == ["disposisi"]
    token = csrf_of(bupati, f"/usulan/{uid}")
    r = bupati.post(
        f"/usulan/{uid}/langkah/disposisi",
        data={"disposisi_note": "Sekda: kaji bersama TKKSD", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    doc = doc_of(bupati, r.headers["location"])
    assert step_forms(doc) == [] and "Usulan didisposisikan." in words(doc)
    entry = words(doc.xpath('//ol[contains(@class, "usulan-riwayat")]/li')[1])
    assert "dr. Fahmi Fadli" in entry and "kepada Sekretaris Daerah" in entry
    assert "“Sekda: kaji bersama TKKSD”" in entry and "mutu baku 60 menit" in entry
    # a crafted POST from someone whose turn it is not is refused by the step (403 page)
    again = bupati.post(f"/usulan/{uid}/langkah/disposisi", data={"csrf_token": token}, follow_redirects=False)
    assert again.status_code == 403 and "Sekretaris Daerah" in again.text
    for who in ("sekda", "kabag"):
        assert post(api, who, f"/{uid}/disposisi", {"note": "lanjut"}).status_code == 200

    analis = browsers["analis"]
    doc = doc_of(analis, f"/usulan/{uid}")
    assert step_forms(doc) == ["berkas", "lengkapi", "telaah", "jadwalkan_rapat", "batalkan"]
    token = csrf_of(analis, f"/usulan/{uid}")
    empty = analis.post(f"/usulan/{uid}/langkah/telaah", data={"telaah": " ", "csrf_token": token})
    assert empty.status_code == 422 and lxml_html.fromstring(empty.text).xpath('//*[@id="f-telaah-galat"]')
    early = analis.post(
        f"/usulan/{uid}/langkah/jadwalkan_rapat",
        data={"waktu": "2026-12-10T09:00", "tempat": "", "csrf_token": token},
    )
    assert early.status_code == 422
    assert lxml_html.fromstring(early.text).xpath('//*[@id="f-tempat-galat"]')
    assert lxml_html.fromstring(early.text).xpath('//input[@name="waktu"]/@value') == ["2026-12-10T09:00"]
    studied = analis.post(
        f"/usulan/{uid}/langkah/telaah",
        data={"telaah": "Objek sesuai RPJMD; layak dibahas.", "csrf_token": token},
        files=[("telaah_file", ("telaah.docx", a_docx("TELAAH"), "application/octet-stream"))],
        follow_redirects=False,
    )
    assert studied.status_code == 303
    doc = doc_of(analis, f"/usulan/{uid}")
    assert words(doc.xpath('//*[@data-field="telaah"]')[0]).startswith("Objek sesuai RPJMD")
    assert doc.xpath('//ul[contains(@class, "usulan-berkas")]/li[@data-kind="telaah"]')


@INTAKE
def test_letters_are_drafted_from_the_page_and_the_decision_opens_the_case(intake, browsers):
    api = intake
    uid = to_rapat(api, a_pdf(api))
    analis = browsers["analis"]
    doc = doc_of(analis, f"/usulan/{uid}")
    assert doc.xpath('//select[@id="f-surat_jenis"]/option/@value') == ["undangan", "berita_acara"]
    token = csrf_of(analis, f"/usulan/{uid}")
    no_nomor = analis.post(f"/usulan/{uid}/surat", data={"surat_jenis": "undangan", "surat_tempat": "Tanah Grogot",
                                                         "csrf_token": token})  # fmt: skip
    assert no_nomor.status_code == 422
    assert lxml_html.fromstring(no_nomor.text).xpath('//*[@id="f-surat_nomor_keluar-galat"]')
    made = analis.post(
        f"/usulan/{uid}/surat",
        data={"surat_jenis": "undangan", "surat_nomor_keluar": "005/77/Pem", "surat_tempat": "Tanah Grogot",
              "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert made.status_code == 303
    doc = doc_of(analis, f"/usulan/{uid}")
    [item] = doc.xpath('//ul[contains(@class, "usulan-berkas")]/li[@data-kind="undangan"]')
    pdf_link = next(a.get("href") for a in item.xpath(".//a") if a.get("href").endswith("?pdf=true"))
    assert analis.get(pdf_link).content.startswith(b"%PDF-")

    hasil(api, uid, "setuju")
    r = analis.post(
        f"/usulan/{uid}/langkah/rekomendasi",
        data={"rekomendasi_note": "TKKSD merekomendasikan disetujui", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    bupati = browsers["bupati"]
    assert step_forms(doc_of(bupati, f"/usulan/{uid}")) == ["keputusan"]
    token = csrf_of(bupati, f"/usulan/{uid}")
    undecided = bupati.post(f"/usulan/{uid}/langkah/keputusan", data={"csrf_token": token})
    assert undecided.status_code == 422
    assert lxml_html.fromstring(undecided.text).xpath('//*[@id="f-keputusan-galat"]')
    no_reason = bupati.post(
        f"/usulan/{uid}/langkah/keputusan",
        data={"keputusan": "tolak", "jawaban_nomor": "1/2/Pem", "jawaban_tempat": "Tanah Grogot", "csrf_token": token},
    )
    assert no_reason.status_code == 422
    form = lxml_html.fromstring(no_reason.text)
    assert form.xpath('//*[@id="f-keputusan_note-galat"]')
    assert form.xpath('//input[@id="f-keputusan-tolak"]/@checked')  # the choice is kept
    past = bupati.post(
        f"/usulan/{uid}/langkah/keputusan", data={"keputusan": "setuju", "mulai": "2020-01-01", "csrf_token": token}
    )
    assert past.status_code == 422 and lxml_html.fromstring(past.text).xpath('//*[@id="f-mulai-galat"]')
    ok = bupati.post(
        f"/usulan/{uid}/langkah/keputusan",
        data={"keputusan": "setuju", "keputusan_note": "Setuju, lanjutkan", "csrf_token": token},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    doc = doc_of(bupati, ok.headers["location"])
    case_id = api.client.get(f"/api/v1/usulan/{uid}", headers=api.auth("tu")).json()["kerja_sama_id"]
    # the case is the analis's to draft: a link for them; the Bupati, who may not see it yet, is told who
    assert (
        not doc.xpath('//div[@id="kerja-sama-dibuka"]//a') and bupati.get(f"/kerja-sama/{case_id}").status_code == 404
    )
    assert "Siti Rahmah" in words(doc.xpath('//div[@id="kerja-sama-dibuka"]')[0])
    [link] = doc_of(analis, f"/usulan/{uid}").xpath('//div[@id="kerja-sama-dibuka"]//a/@href')
    assert link == f"/kerja-sama/{case_id}" and analis.get(link).status_code == 200
    assert words(doc.xpath('//*[@data-field="status"]')[0]) == "Disetujui"
    assert step_forms(doc) == []
