"""Paraf and signing pages over HTTP (no browser): /naskah/{id}/paraf and /naskah/{id}/tanda-tangan.

Each page calls the pipeline as its API twin does; these tests check what a person sees and that a
POST from the wrong person is refused with the pipeline's reason.  The browser's view (axe, a phone's
width, screenshots) is tests/test_web_sign_browser.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pipeline.auth import create_user
from pipeline.models import Arsip
from pipeline.sign.reportcache import ReportCache
from storage.db import session_scope
from tests.fixtures.pki import WALIKOTA
from tests.test_reportcache import analysed_by
from tests.test_signing_flow import counterparty_signs, fully_initialled
from tests.test_web import PASSWORD, _hash_of_password, page_csrf, sign_in_as
from tests.test_workflow import approved_kb

SERVICES = pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
BUPATI = "dr. Fahmi Fadli"


@pytest.fixture
def web(signers_api):
    """A browser-like client on the signing API (both PKIs trusted, a TSA); every user has ``PASSWORD``."""
    api = signers_api
    with session_scope(api.services.engine) as session:
        from pipeline.models import User

        create_user(
            session,
            username="kadis.hub",
            nama="Drs. Joko Widodo",
            jabatan="Kepala Dinas Perhubungan",
            roles=["signer"],
            opd="Dinas Perhubungan Kabupaten Paser",
        )
        for user in session.exec(select(User)).all():
            user.password_hash = _hash_of_password()
            session.add(user)
    yield api
    api.client.cookies.clear()


def as_user(api, username: str) -> TestClient:
    """The app's client signed in as ``username`` through the sign-in form (one person at a time)."""
    client = api.client
    client.cookies.clear()
    r = sign_in_as(client, username, PASSWORD)
    assert r.status_code == 303, r.text
    return client


def post_form(client: TestClient, path: str, data: dict | None = None, files: dict | None = None, page: str = ""):
    token = page_csrf(client, page or path)
    return client.post(path, data={**(data or {}), "csrf_token": token}, files=files, follow_redirects=False)


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# --- paraf ------------------------------------------------------------------------------------


@SERVICES
def test_paraf_is_given_by_each_official_in_order_after_seeing_the_stamped_page(web):
    nid = approved_kb(web)
    for who in ("kabag_pemerintahan", "asisten_umum", "sekda"):
        client = as_user(web, who)
        page = client.get(f"/naskah/{nid}/paraf")
        assert page.status_code == 200
        assert "Beri paraf" in page.text and f"/naskah/{nid}/paraf/pratinjau.pdf" in page.text
        preview = client.get(f"/naskah/{nid}/paraf/pratinjau.pdf")
        assert preview.status_code == 200 and preview.content.startswith(b"%PDF-")
        r = post_form(client, f"/naskah/{nid}/paraf")
        assert r.status_code == 303 and r.headers["location"] == f"/naskah/{nid}/paraf?selesai=paraf"
        done = text_of(client.get(r.headers["location"]).text)
        assert "Paraf Anda sudah dibubuhkan" in done and "Beri paraf" not in done
    chain = web.client.get(f"/api/v1/naskah/{nid}/paraf", headers=web.auth("drafter")).json()
    assert [s["status"] for s in chain["steps"]] == ["sudah", "sudah", "sudah"]
    page = text_of(as_user(web, "u-drafter").get(f"/naskah/{nid}/paraf").text)
    assert "Paraf lengkap" in page and "Andi Saputra" in page


@SERVICES
def test_an_official_whose_turn_it_is_not_gets_no_button_and_a_crafted_post_is_refused_with_the_reason(web):
    nid = approved_kb(web)
    client = as_user(web, "sekda")
    page = client.get(f"/naskah/{nid}/paraf")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Beri paraf" not in text and "Paraf berikutnya: Kepala Bagian Pemerintahan" in text
    assert "Belum giliran Anda" in text
    assert client.get(f"/naskah/{nid}/paraf/pratinjau.pdf").status_code == 403  # not their page to stamp
    r = post_form(client, f"/naskah/{nid}/paraf")
    assert r.status_code == 403
    refused = text_of(r.text)
    assert "Belum giliran Anda. Paraf berikutnya adalah Kepala Bagian Pemerintahan" in refused
    assert "not_your_turn" in refused
    chain = web.client.get(f"/api/v1/naskah/{nid}/paraf", headers=web.auth("drafter")).json()
    assert [s["status"] for s in chain["steps"]] == ["menunggu"] * 3  # nothing was given


@SERVICES
def test_refusing_a_paraf_needs_a_note_and_returns_the_draft(web):
    nid = approved_kb(web)
    client = as_user(web, "kabag_pemerintahan")
    r = post_form(client, f"/naskah/{nid}/paraf/tolak", {"note": "  "}, page=f"/naskah/{nid}/paraf")
    assert r.status_code == 422
    assert "Ada masalah" in r.text and 'id="f-note-galat"' in r.text and "Catatan wajib" in r.text
    note = "Pasal 4: sebutkan OPD pelaksana."
    r = post_form(client, f"/naskah/{nid}/paraf/tolak", {"note": note}, page=f"/naskah/{nid}/paraf")
    assert r.status_code == 303
    naskah = web.client.get(f"/api/v1/naskah/{nid}", headers=web.auth("drafter")).json()
    assert naskah["status"] == "draft"  # back to the drafter (lifecycle: refuse_paraf)


@SERVICES
def test_the_pages_and_their_downloads_are_404_for_a_user_who_may_not_see_the_naskah(web):
    nid = fully_initialled(web, "desk")
    client = as_user(web, "kadis.hub")
    for path in (
        "paraf",
        "paraf/naskah.pdf",
        "tanda-tangan",
        "tanda-tangan/naskah.pdf",
        "tanda-tangan/untuk-mitra.pdf",
    ):
        assert client.get(f"/naskah/{nid}/{path}").status_code == 404, path


# --- signing ----------------------------------------------------------------------------------


def desk_plan(web) -> int:
    """A fully initialled KB for desk to desk, its plan made on the page by the drafter."""
    nid = fully_initialled(web, "desk")
    client = as_user(web, "u-drafter")
    page = text_of(client.get(f"/naskah/{nid}/tanda-tangan").text)
    assert "Susun rencana tanda tangan" in page and WALIKOTA in page
    data = {"mode": "desk", "urutan_2": "1", "eksternal_2": "1", "username_2": "", "urutan_1": "2", "username_1": ""}
    r = post_form(client, f"/naskah/{nid}/tanda-tangan/rencana", data, page=f"/naskah/{nid}/tanda-tangan")
    assert r.status_code == 303, r.text
    return nid


@SERVICES
def test_the_drafter_creates_a_desk_to_desk_plan_on_the_page(web):
    nid = desk_plan(web)
    plan = web.client.get(f"/api/v1/naskah/{nid}/signature-plan", headers=web.auth("drafter")).json()
    assert [(s["pihak_urutan"], s["external"]) for s in plan["steps"]] == [(2, True), (1, False)]
    page = text_of(web.client.get(f"/naskah/{nid}/tanda-tangan?selesai=rencana").text)
    assert "Rencana: desk to desk" in page and "Unduh PDF untuk mitra" in page


@SERVICES
def test_a_tatap_muka_plan_without_signers_is_refused_on_the_form(web):
    nid = fully_initialled(web)
    client = as_user(web, "u-drafter")
    r = post_form(
        client, f"/naskah/{nid}/tanda-tangan/rencana", {"mode": "tatap_muka"}, page=f"/naskah/{nid}/tanda-tangan"
    )
    assert r.status_code == 422 and "Ada masalah" in r.text and "tatap muka" in r.text.lower()


def imported(web, counterparty_pki, counterparty_person) -> int:
    nid = desk_plan(web)
    client = web.client
    exported = client.get(f"/naskah/{nid}/tanda-tangan/untuk-mitra.pdf")
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/pdf"
    returned = counterparty_signs(exported.content, counterparty_pki, counterparty_person)
    files = {"file": ("balik.pdf", returned, "application/pdf")}
    r = post_form(client, f"/naskah/{nid}/tanda-tangan/impor", files=files, page=f"/naskah/{nid}/tanda-tangan")
    assert r.status_code == 303, text_of(r.text)[:2000]
    return nid


@SERVICES
def test_desk_to_desk_a_tampered_return_is_refused_with_the_reason_and_a_good_one_shows_its_proof(
    web, counterparty_pki, counterparty_person
):
    nid = desk_plan(web)
    client = web.client
    exported = client.get(f"/naskah/{nid}/tanda-tangan/untuk-mitra.pdf").content
    api_export = client.get(f"/api/v1/naskah/{nid}/export", headers=web.auth("drafter")).content
    assert exported == api_export
    returned = counterparty_signs(exported, counterparty_pki, counterparty_person)
    tampered = bytearray(returned)
    tampered[len(exported) // 2] ^= 0x01  # one byte of the naskah we sent
    files = {"file": ("balik.pdf", bytes(tampered), "application/pdf")}
    r = post_form(client, f"/naskah/{nid}/tanda-tangan/impor", files=files, page=f"/naskah/{nid}/tanda-tangan")
    assert r.status_code == 422
    refused = text_of(r.text)
    assert "Berkas dari mitra ditolak" in refused and "returned_file_rejected" in refused
    assert "pemeriksaan: not_our_document" in refused

    files = {"file": ("balik.pdf", returned, "application/pdf")}
    r = post_form(client, f"/naskah/{nid}/tanda-tangan/impor", files=files, page=f"/naskah/{nid}/tanda-tangan")
    assert r.status_code == 303
    proof = text_of(client.get(r.headers["location"]).text)
    assert "Bukti pemeriksaan berkas mitra" in proof
    assert f"{len(exported):,}".replace(",", ".") + " bita pertama identik" in proof
    assert "Penanda tangan: Dr. H. Rahmad Mas'ud, S.E., M.E." in proof
    assert "Penerbit sertifikat (CA): PSrE Mitra" in proof
    assert "Tanda tangan utuh dan sah: ya" in proof and "tepercaya" in proof
    assert "Sertifikat tepercaya (rantai ke CA yang diakui, tidak dicabut): ya" in proof
    assert "(cap waktu tepercaya)" in proof
    assert re.search(r"Milik pejabat yang tercantum \(H\. Rahmad Mas.+?\): ya", proof)


@SERVICES
@pytest.mark.parametrize(
    ("validity", "level", "words"),
    [
        ("10 days", "readiness-kuning", "berakhir dalam 10 hari"),
        ("expired", "readiness-merah", "sudah kedaluwarsa sejak"),
        ("someone else", "readiness-merah", "bukan milik dr. Fahmi Fadli"),
        ("a year", "readiness-hijau", "siap dipakai"),
    ],
)
def test_signer_readiness_is_green_amber_within_30_days_and_red_when_expired_or_not_the_official(
    web, dev_pki, counterparty_pki, counterparty_person, validity, level, words
):
    nid = imported(web, counterparty_pki, counterparty_person)
    now = dt.datetime.now(dt.UTC)
    issued = {
        "10 days": lambda: dev_pki.issue_person(BUPATI, valid_days=10),
        "expired": lambda: dev_pki.issue_person(
            BUPATI, not_before=now - dt.timedelta(days=40), not_after=now - dt.timedelta(days=2)
        ),
        "someone else": lambda: dev_pki.issue_person("Drs. Joko Widodo"),
        "a year": lambda: dev_pki.issue_person(BUPATI),
    }[validity]()
    client = as_user(web, "bupati")
    page = text_of(client.get(f"/naskah/{nid}/tanda-tangan").text)
    assert "Giliran Anda menandatangani" in page and "Periksa kesiapan sertifikat" in page
    files = {"p12": ("k.p12", issued.to_pkcs12("rahasia-kesiapan"), "application/x-pkcs12")}
    r = post_form(
        client,
        f"/naskah/{nid}/tanda-tangan/kesiapan",
        {"passphrase": "rahasia-kesiapan"},
        files,
        page=f"/naskah/{nid}/tanda-tangan",
    )
    assert r.status_code == 200
    assert level in r.text and words in text_of(r.text)
    assert "rahasia-kesiapan" not in r.text
    # htmx asks for the card alone
    r = client.post(
        f"/naskah/{nid}/tanda-tangan/kesiapan",
        data={"passphrase": "rahasia-kesiapan"},
        files=files,
        headers={"HX-Request": "true", "X-CSRF-Token": page_csrf(client, f"/naskah/{nid}/tanda-tangan")},
    )
    assert r.status_code == 200 and level in r.text and "<html" not in r.text


@SERVICES
def test_signing_with_pkcs12_wrong_passphrase_is_a_field_error_never_echoed_or_logged_then_verified_and_archived(
    web, dev_pki, counterparty_pki, counterparty_person, caplog
):
    caplog.set_level(logging.DEBUG)
    nid = imported(web, counterparty_pki, counterparty_person)
    client = as_user(web, "bupati")
    p12 = dev_pki.issue_person(BUPATI).to_pkcs12("Rahasia-Bupati-77")
    files = {"p12": ("bupati.p12", p12, "application/x-pkcs12")}
    wrong = "Salah-Sekali-123"
    r = post_form(
        client,
        f"/naskah/{nid}/tanda-tangan/tandatangani",
        {"passphrase": wrong, "location": "Tanah Grogot"},
        files,
        page=f"/naskah/{nid}/tanda-tangan",
    )
    assert r.status_code == 422
    assert 'id="f-passphrase-galat"' in r.text and "Passphrase salah" in r.text
    assert 'value="Tanah Grogot"' in r.text  # the rest of the input kept
    assert wrong not in r.text

    r = post_form(
        client,
        f"/naskah/{nid}/tanda-tangan/tandatangani",
        {"passphrase": "Rahasia-Bupati-77", "location": "Tanah Grogot"},
        files,
        page=f"/naskah/{nid}/tanda-tangan",
    )
    assert r.status_code == 303, text_of(r.text)[:1500]
    page = client.get(r.headers["location"])
    assert "Rahasia-Bupati-77" not in page.text
    text = text_of(page.text)
    assert "Semua tanda tangan sah dan tepercaya" in text and "Unduh naskah bertanda tangan" in text
    assert "Arsipkan" not in text  # the Bupati does not archive
    signed = client.get(f"/naskah/{nid}/tanda-tangan/naskah.pdf")
    api_signed = web.client.get(f"/api/v1/naskah/{nid}/signed.pdf", headers=web.auth("secretariat"))
    assert signed.status_code == 200 and signed.content == api_signed.content
    for secret in (wrong, "Rahasia-Bupati-77"):
        assert secret not in caplog.text
        assert all(secret not in str(r.args) for r in caplog.records)

    client = as_user(web, "u-secretariat")
    home = client.get("/").text  # Tugas saya's "Arsipkan naskah" leads to the page that archives
    assert f'href="/naskah/{nid}/tanda-tangan"' in home and "Arsipkan naskah" in text_of(home)
    page = text_of(client.get(f"/naskah/{nid}/tanda-tangan").text)
    assert "Arsipkan" in page
    trusted = web.services.trust_roots
    web.services.trust_roots = list(dev_pki.roots)  # the partner's CA is not trusted here: refused on the page
    try:
        r = post_form(client, f"/naskah/{nid}/tanda-tangan/arsipkan", page=f"/naskah/{nid}/tanda-tangan")
    finally:
        web.services.trust_roots = trusted
    assert r.status_code == 422, text_of(r.text)[:800]
    text = text_of(r.text)
    assert "Ada masalah" in text and "tidak diarsipkan" in text and "not_verified" in text
    assert 'href="#f-arsip"' in r.text and 'id="f-arsip"' in r.text  # the summary points at the button
    assert web.client.get(f"/api/v1/naskah/{nid}", headers=web.auth("drafter")).json()["status"] == "signed"
    r = post_form(client, f"/naskah/{nid}/tanda-tangan/arsipkan", page=f"/naskah/{nid}/tanda-tangan")
    assert r.status_code == 303
    page = client.get(f"/naskah/{nid}/tanda-tangan").text
    assert "Sudah diarsipkan" in text_of(page)
    with Session(web.services.engine) as session:
        arsip_id = session.exec(select(Arsip.id).where(Arsip.naskah_id == nid)).one()
    assert f'href="/arsip/{arsip_id}"' in page  # the record, one click away
    naskah = web.client.get(f"/api/v1/naskah/{nid}", headers=web.auth("drafter")).json()
    assert naskah["status"] == "archived"


@SERVICES
def test_a_crafted_signing_post_by_someone_whose_turn_it_is_not_is_refused_with_the_reason(
    web, dev_pki, counterparty_pki, counterparty_person
):
    nid = desk_plan(web)
    client = as_user(web, "bupati")
    page = text_of(client.get(f"/naskah/{nid}/tanda-tangan").text)
    assert "Giliran Anda menandatangani" not in page  # the partner signs first
    files = {"p12": ("b.p12", dev_pki.issue_person(BUPATI).to_pkcs12("x-rahasia"), "application/x-pkcs12")}
    r = post_form(
        client,
        f"/naskah/{nid}/tanda-tangan/tandatangani",
        {"passphrase": "x-rahasia"},
        files,
        page=f"/naskah/{nid}/tanda-tangan",
    )
    assert r.status_code == 409 and "waiting_for_counterparty" in r.text


@SERVICES
def test_the_signing_page_verifies_a_file_once_and_a_new_signature_afresh(
    web, dev_pki, counterparty_pki, counterparty_person, monkeypatch
):
    """Reloading the page reads the reports it showed (pipeline.sign.reportcache) instead of running pyHanko's
    validation again (0.5-1.5 s each: the page took 1-3 s a load); the file the next signature makes is
    verified afresh, and another trust configuration gets its own report."""
    nid = imported(web, counterparty_pki, counterparty_person)
    web.services.report_cache = ReportCache(clock=lambda: 0.0)  # one time bucket for the whole test
    analysed = analysed_by(monkeypatch, "verify_bounded")
    client = as_user(web, "bupati")
    path = f"/naskah/{nid}/tanda-tangan"
    for _ in range(3):
        page = text_of(client.get(path).text)
        assert "Bukti pemeriksaan berkas mitra" in page and "Tanda tangan utuh dan sah: ya" in page
    assert len(analysed) <= 1  # the partner's return: once (or not at all, when its proof was shown already)
    seen = len(analysed)

    files = {"p12": ("bupati.p12", dev_pki.issue_person(BUPATI).to_pkcs12("Rahasia-77"), "application/x-pkcs12")}
    r = post_form(client, f"{path}/tandatangani", {"passphrase": "Rahasia-77"}, files, page=path)
    assert r.status_code == 303, text_of(r.text)[:1500]
    signed = client.get(f"{path}/naskah.pdf").content
    for _ in range(3):
        page = text_of(client.get(path).text)
        assert "Semua tanda tangan sah dan tepercaya" in page
    assert analysed[seen:] == [signed]  # the new file, once; the partner's return not again

    trusted = web.services.trust_roots
    web.services.trust_roots = list(dev_pki.roots)  # the partner's CA is no longer trusted here
    try:
        page = text_of(client.get(path).text)
    finally:
        web.services.trust_roots = trusted
    assert "Naskah ini bermasalah" in page
    assert "Sertifikat tepercaya (rantai ke CA yang diakui, tidak dicabut): tidak" in page
    again = analysed[seen + 1 :]  # both files again, under it: ours and the partner's return (its prefix)
    assert len(again) == 2 and signed in again and signed.startswith(next(a for a in again if a != signed))
    assert "Semua tanda tangan sah dan tepercaya" in text_of(client.get(path).text)  # trusted again: as before
    assert len(analysed) == seen + 3
