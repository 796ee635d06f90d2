"""The Kerja sama and Arsip pages over HTTP (no browser): the list with search and filters (and what a
user may see of it), the create and edit forms with their errors, a frozen case, crafted POSTs, the
"Buat naskah" steps, the archive's search, download and verification report.

The browser's view of the same (axe, screenshots, a phone's width) is tests/test_web_kerjasama_browser.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from pipeline.auth import create_user
from pipeline.drafting import cases
from pipeline.lifecycle import Status
from pipeline.models import Naskah, NaskahDrafter, User
from storage.db import session_scope
from tests.test_api import case_body, create_case, create_naskah, naskah_body
from tests.test_web import _hash_of_password, page_csrf, sign_in_as

SERVICES = pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
BOTH_DATABASES = pytest.mark.parametrize("services", ["sqlite-local", "postgres-local"], indirect=True)


@pytest.fixture
def web(api) -> Iterator[TestClient]:
    """A browser-like client on the API fixture's app; every user has the test password, and there is
    a Kepala OPD (signer, no paraf position) of "Dinas Pendidikan" and a second drafter."""
    with session_scope(api.services.engine) as session:
        create_user(
            session,
            username="u-opd",
            nama="Kepala Dinas",
            jabatan="Kepala Dinas",
            roles=["signer"],
            opd="Dinas Pendidikan",
        )
        create_user(session, username="u-drafter2", nama="Analis Dua", jabatan="Analis", roles=["drafter"])
        for user in session.exec(select(User)).all():
            user.password_hash = _hash_of_password()
            session.add(user)
    yield api.client
    api.client.cookies.clear()


def as_user(client: TestClient, username: str) -> TestClient:
    client.cookies.clear()
    r = sign_in_as(client, username)
    assert r.status_code == 303, r.text
    return client


def new_case(api, judul: str, *, opd: str = "Dinas Lingkungan Hidup Kabupaten Paser", jenis: str = "KSDD", **changes):
    body = case_body(jenis)
    body.update(judul=judul, opd_teknis=opd, **changes)
    r = api.client.post("/api/v1/cases", json=body, headers=api.auth("drafter"))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def count_on(html: str) -> int:
    found = re.search(r"(\d+) kerja sama", html)
    assert found, html
    return int(found.group(1))


def case_form(**changes: str) -> dict[str, str]:
    """A complete, valid create form (KSDD), as a browser would post it."""
    body = case_body("KSDD")
    form = {k: str(body[k]) for k in cases.CaseInput.model_fields if k != "pihak"}
    for i, p in enumerate(body["pihak"]):
        for key, value in p.items():
            if value is not None:
                form[f"pihak[{i}].{key}"] = str(value)
    form["judul"] = "Kerja Sama Air Minum Lintas Daerah"
    form.update(changes)
    return form


def post_form(client: TestClient, path: str, data: dict[str, Any], csrf_from: str = "/") -> Any:
    return client.post(path, data={**data, "csrf_token": page_csrf(client, csrf_from)}, follow_redirects=False)


def marked(html: str, name: str) -> bool:
    """The field ``name`` is marked invalid (class and aria) and its message is tied to it."""
    field = re.search(rf'<(?:input|textarea|select)[^>]*id="f-{re.escape(name)}"[^>]*>', html)
    return bool(field) and "is-invalid" in field.group(0) and f"f-{name}-galat" in field.group(0)


# --- the list ------------------------------------------------------------------------------------


@BOTH_DATABASES
def test_the_list_searches_judul_pihak_and_nomor_and_filters_by_jenis_status_opd_and_year(api, web):
    air = new_case(api, "Penyediaan Air Minum Regional", opd="Dinas Pekerjaan Umum")
    new_case(api, "Pengelolaan Sampah Regional", opd="Dinas Lingkungan Hidup", mulai="2027-01-01", selesai="2028-12-31")
    ksiv = new_case(api, "Sertifikasi Tanah Aset Daerah", jenis="KSIV", opd="Badan Pengelolaan Keuangan")
    kb = create_naskah(api, air, "KB", nomor={"1": "100.3.7.1/77/Tapem/2026", "2": "415.4/88/Pem/2026"})
    as_user(web, "u-legal")

    def ids(**params: str) -> set[int]:
        r = web.get("/kerja-sama", params=params)
        assert r.status_code == 200, r.text
        return {int(i) for i in re.findall(r'class="fw-semibold case-title" href="/kerja-sama/(\d+)"', r.text)}

    assert len(ids()) == 3
    assert ids(q="air minum") == {air}
    assert ids(q="BALIKPAPAN sampah") == ids(q="sampah")  # pihak instansi, every word, any case
    assert ids(q="Kantor Pertanahan") == {ksiv}  # a party of the KSIV case
    assert ids(q="77/Tapem") == {air}  # a nomor of its KB
    assert ids(q="50%") == set()  # a % typed is searched for, not a wildcard
    assert ids(jenis="KSIV") == {ksiv}
    assert ids(status="draft") == {air} and ids(status="tanpa_naskah") == ids() - {air}
    assert ids(opd="pekerjaan umum") == {air}
    assert len(ids(tahun="2028")) == 3 and ids(tahun="2033") == set()
    combined = web.get("/kerja-sama", params={"q": "regional", "jenis": "KSDD", "status": "draft"})
    assert count_on(combined.text) == 1 and "cocok dengan pencarian" in combined.text
    assert 'value="regional"' in combined.text and '<option value="draft" selected>' in combined.text  # kept
    assert kb["status"] == "draft"


@SERVICES
def test_htmx_gets_only_the_results_and_a_wrong_year_is_said_on_the_form(api, web):
    new_case(api, "Penyediaan Air Minum Regional")
    as_user(web, "u-drafter")
    fragment = web.get("/kerja-sama", params={"q": "air"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and "1 kerja sama" in fragment.text
    wrong = web.get("/kerja-sama", params={"tahun": "dua ribu"})
    assert wrong.status_code == 422 and "Ada masalah" in wrong.text and 'href="#f-tahun"' in wrong.text
    swapped = web.get("/kerja-sama", params={"tahun": "dua ribu"}, headers={"HX-Request": "true"})
    assert swapped.status_code == 200 and 'role="alert"' in swapped.text and 'href="#f-tahun"' in swapped.text


@SERVICES
def test_the_list_and_its_count_show_only_what_the_user_may_see(api, web):
    for i in range(3):
        new_case(api, f"Kerja Sama Lingkungan {i}")
    mine = new_case(api, "Beasiswa Pendidikan Bersama", opd="Dinas Pendidikan")
    as_user(web, "u-opd")
    page = web.get("/kerja-sama")
    assert count_on(page.text) == 1 and f'href="/kerja-sama/{mine}"' in page.text
    assert count_on(web.get("/kerja-sama", params={"q": "Lingkungan"}).text) == 0  # the count does not leak
    assert "Buat kerja sama baru" not in page.text  # a Kepala OPD does not create cases
    other = mine - 1
    assert web.get(f"/kerja-sama/{other}").status_code == 404
    assert as_user(web, "u-drafter").get("/kerja-sama").text.count("case-title") == 4


@SERVICES
def test_status_and_nomor_search_look_only_at_naskah_the_user_may_see(api, web):
    case_id = create_case(api)
    kb = create_naskah(api, case_id, "KB")
    pks = create_naskah(api, case_id, "PKS", nomor={"1": "100.3.7.1/901/Tapem/2026", "2": "415.4/902/Pem/2026"})
    with session_scope(api.services.engine) as session:  # the official drafts the KB only: sees it alone
        opd = session.exec(select(User).where(User.username == "u-opd")).one()
        drafter = session.exec(select(User).where(User.username == "u-drafter")).one()
        session.add(NaskahDrafter(naskah_id=kb["id"], user_id=opd.id, assigned_by=drafter.id))
        row = session.get(Naskah, pks["id"])
        row.status = Status.LEGAL_REVIEW.value
    as_user(web, "u-drafter")
    assert count_on(web.get("/kerja-sama", params={"status": "legal_review"}).text) == 1
    assert count_on(web.get("/kerja-sama", params={"q": "901/Tapem"}).text) == 1
    as_user(web, "u-opd")
    assert count_on(web.get("/kerja-sama").text) == 1
    assert count_on(web.get("/kerja-sama", params={"status": "legal_review"}).text) == 0
    assert count_on(web.get("/kerja-sama", params={"q": "901/Tapem"}).text) == 0
    detail = web.get(f"/kerja-sama/{case_id}").text
    assert f'href="/naskah/{kb["id"]}"' in detail and f'href="/naskah/{pks["id"]}"' not in detail


@SERVICES
def test_the_api_list_takes_the_same_search_and_filters(api):
    air = new_case(api, "Penyediaan Air Minum Regional")
    new_case(api, "Pengelolaan Sampah Regional")
    r = api.client.get("/api/v1/cases", params={"q": "air minum", "jenis": "KSDD"}, headers=api.auth("legal"))
    assert r.status_code == 200 and r.json()["count"] == 1 and r.json()["data"][0]["id"] == air
    bad = api.client.get("/api/v1/cases", params={"status": "entah"}, headers=api.auth("legal"))
    assert bad.status_code == 422 and bad.json()["detail"]["fields"][0]["field"] == "status"


def test_the_status_filter_knows_every_lifecycle_state():
    from typing import get_args

    assert set(get_args(cases.CaseStatus)) == {s.value for s in Status} | {cases.NO_NASKAH}


# --- create -------------------------------------------------------------------------------------


@SERVICES
def test_create_shows_each_error_on_its_field_keeps_the_input_then_saves(api, web):
    as_user(web, "u-drafter")
    form = web.get("/kerja-sama/baru")
    assert form.status_code == 200 and 'name="pihak[1].penandatangan_nip"' in form.text
    assert "Buat kerja sama baru" in web.get("/kerja-sama").text

    first = post_form(web, "/kerja-sama/baru", case_form(judul="", **{"pihak[0].penandatangan_nip": "12345"}))
    assert first.status_code == 422 and "Ada masalah" in first.text
    assert marked(first.text, "judul") and marked(first.text, "pihak[0].penandatangan_nip")
    assert 'href="#f-judul"' in first.text and 'href="#f-pihak[0].penandatangan_nip"' in first.text
    assert "Pemerintah Kota Balikpapan" in first.text and 'value="12345"' in first.text  # input kept

    too_long = post_form(web, "/kerja-sama/baru", case_form(mulai="2026-01-01", selesai="2031-06-01"))
    assert too_long.status_code == 422 and marked(too_long.text, "selesai") and "paling lama 5 tahun" in too_long.text

    wrong_kind = post_form(web, "/kerja-sama/baru", case_form(**{"pihak[1].kind": "pihak_ketiga"}))
    assert wrong_kind.status_code == 422 and marked(wrong_kind.text, "pihak[1].kind")  # the pipeline's rule
    assert "harus berjenis" in wrong_kind.text

    done = post_form(web, "/kerja-sama/baru", case_form())
    assert done.status_code == 303, done.text
    case_id = int(re.search(r"/kerja-sama/(\d+)\?dibuat=1", done.headers["location"]).group(1))
    detail = web.get(done.headers["location"])
    assert "Kerja Sama Air Minum Lintas Daerah" in detail.text and "Kerja sama sudah disimpan" in detail.text
    stored = api.client.get(f"/api/v1/cases/{case_id}", headers=api.auth("legal")).json()
    assert stored["pihak"][1]["instansi"] == "Pemerintah Kota Balikpapan" and stored["jenis"] == "KSDD"


@SERVICES
def test_add_and_remove_a_party_redraw_the_form_without_saving(api, web):
    as_user(web, "u-drafter")
    three = post_form(web, "/kerja-sama/baru", {**case_form(), "aksi": "tambah_pihak"})
    assert three.status_code == 200 and 'name="pihak[2].instansi"' in three.text and "PIHAK KETIGA" in three.text
    assert "Kerja Sama Air Minum Lintas Daerah" in three.text  # kept
    data = {**case_form(), "pihak[2].instansi": "Pemerintah Kabupaten Penajam Paser Utara", "aksi": "hapus_pihak_2"}
    two = post_form(web, "/kerja-sama/baru", data)
    assert two.status_code == 200 and 'name="pihak[2].instansi"' not in two.text
    assert api.client.get("/api/v1/cases", headers=api.auth("legal")).json()["count"] == 0


@SERVICES
def test_only_drafters_see_create_and_a_crafted_post_is_refused_with_the_reason(api, web):
    as_user(web, "u-legal")
    assert "Buat kerja sama baru" not in web.get("/kerja-sama").text
    assert web.get("/kerja-sama/baru").status_code == 403
    r = post_form(web, "/kerja-sama/baru", case_form())
    assert r.status_code == 403 and "memerlukan peran: drafter" in r.text
    assert api.client.get("/api/v1/cases", headers=api.auth("legal")).json()["count"] == 0
    no_token = web.post("/kerja-sama/baru", data=case_form(), follow_redirects=False)
    assert no_token.status_code == 403 and "CSRF" in no_token.text


# --- edit and frozen ------------------------------------------------------------------------------


@SERVICES
def test_edit_shows_the_data_marks_errors_and_saves(api, web):
    case_id = new_case(api, "Penyediaan Air Minum Regional")
    as_user(web, "u-drafter")
    detail = web.get(f"/kerja-sama/{case_id}")
    assert f'href="/kerja-sama/{case_id}/ubah"' in detail.text
    form = web.get(f"/kerja-sama/{case_id}/ubah")
    assert form.status_code == 200 and "Penyediaan Air Minum Regional" in form.text
    values = {
        k: str(v) for k, v in api.client.get(f"/api/v1/cases/{case_id}", headers=api.auth("legal")).json().items()
    }
    data = {k: values[k] for k in cases.CaseUpdate.model_fields}
    emptied = post_form(web, f"/kerja-sama/{case_id}/ubah", {**data, "judul": " "})
    assert emptied.status_code == 422 and marked(emptied.text, "judul") and 'value="PDAM"' not in emptied.text
    too_long = post_form(web, f"/kerja-sama/{case_id}/ubah", {**data, "selesai": "2040-01-01"})
    assert too_long.status_code == 422 and marked(too_long.text, "selesai") and 'value="2040-01-01"' in too_long.text
    good = post_form(
        web, f"/kerja-sama/{case_id}/ubah", {**data, "judul": "Air Minum Regional Paser", "opd_teknis": "PDAM"}
    )
    assert good.status_code == 303 and good.headers["location"] == f"/kerja-sama/{case_id}?diubah=1"
    stored = api.client.get(f"/api/v1/cases/{case_id}", headers=api.auth("legal")).json()
    assert stored["judul"] == "Air Minum Regional Paser" and stored["opd_teknis"] == "PDAM"


@SERVICES
def test_others_get_no_edit_button_and_a_crafted_edit_is_refused_with_the_reason(api, web):
    case_id = new_case(api, "Penyediaan Air Minum Regional")
    data = {"judul": "Diubah orang lain", "objek": "x", "manfaat": "y", "bentuk": "z"}
    for who, reason in (("u-drafter2", "hanya penyusunnya"), ("u-legal", "memerlukan peran: drafter")):
        as_user(web, who)
        assert f'href="/kerja-sama/{case_id}/ubah"' not in web.get(f"/kerja-sama/{case_id}").text
        assert "Buat naskah" not in web.get(f"/kerja-sama/{case_id}").text
        r = post_form(web, f"/kerja-sama/{case_id}/ubah", data)
        assert r.status_code == 403 and reason in r.text
    stored = api.client.get(f"/api/v1/cases/{case_id}", headers=api.auth("legal")).json()
    assert stored["judul"] == "Penyediaan Air Minum Regional"


@SERVICES
def test_a_case_frozen_by_a_signed_naskah_says_why_instead_of_a_form(api, web):
    case_id = create_case(api)
    kb = create_naskah(api, case_id, "KB")
    with session_scope(api.services.engine) as session:
        session.get(Naskah, kb["id"]).status = Status.SIGNED.value
    as_user(web, "u-drafter")
    detail = web.get(f"/kerja-sama/{case_id}").text
    assert "Data kerja sama ini terkunci" in detail and f'href="/kerja-sama/{case_id}/ubah">Ubah data' not in detail
    page = web.get(f"/kerja-sama/{case_id}/ubah")
    assert page.status_code == 409 and "tidak dapat diubah" in page.text and "<form" not in page.text.split("<main")[1]
    assert (
        f'href="/naskah/{kb["id"]}"' in page.text and "case_frozen" in page.text and "Sudah ditandatangani" in page.text
    )
    crafted = post_form(web, f"/kerja-sama/{case_id}/ubah", {"judul": "Diam-diam diubah"})
    assert crafted.status_code == 409 and "case_frozen" in crafted.text


# --- detail and a new naskah ----------------------------------------------------------------------


@SERVICES
def test_the_detail_shows_each_naskah_under_its_induk_with_status_and_step(api, web):
    case_id = create_case(api)
    kb = create_naskah(api, case_id, "KB")
    pks = create_naskah(api, case_id, "PKS")
    with session_scope(api.services.engine) as session:
        session.get(Naskah, kb["id"]).status = Status.LEGAL_REVIEW.value
    as_user(web, "u-legal")
    html = web.get(f"/kerja-sama/{case_id}").text
    assert "Pemerintah Kota Balikpapan" in html and "Wali Kota Balikpapan" in html
    tree = html.split('id="judul-naskah"')[1]
    kb_at, pks_at = tree.index(f'href="/naskah/{kb["id"]}"'), tree.index(f'href="/naskah/{pks["id"]}"')
    children = tree.index("naskah-children")
    assert kb_at < children < pks_at  # the PKS is listed under its KB
    assert "Telaah Bagian Hukum" in tree and "Menunggu telaah Bagian Hukum" in tree and "Penyusunan" in tree
    assert kb["nomor"]["1"] in tree
    assert "Buat naskah" not in html  # legal does not draft


@SERVICES
def test_buat_naskah_checks_the_choice_then_the_fields_then_opens_the_new_naskah(api, web):
    case_id = create_case(api)
    as_user(web, "u-drafter")
    detail = web.get(f"/kerja-sama/{case_id}").text
    assert f'action="/kerja-sama/{case_id}/naskah/baru"' in detail and "Kesepakatan Bersama (KB)" in detail
    pks_first = web.get(f"/kerja-sama/{case_id}/naskah/baru", params={"jenis": "PKS"})
    assert pks_first.status_code == 422 and "setelah kerja sama ini memiliki Kesepakatan Bersama" in pks_first.text
    nk = web.get(f"/kerja-sama/{case_id}/naskah/baru", params={"jenis": "NK"})
    assert nk.status_code == 422 and marked(nk.text, "jenis") is False and "tidak dapat dibuat" in nk.text

    step2 = web.get(f"/kerja-sama/{case_id}/naskah/baru", params={"jenis": "KB"})
    assert step2.status_code == 200
    for name in ("nomor[1]", "nomor[2]", "data.maksud", "data.ruang_lingkup", "data.tanggal"):
        assert f'name="{name}"' in step2.text, name
    assert 'name="data.judul"' not in step2.text and 'name="data.pihak_kesatu"' not in step2.text  # from the case

    body = naskah_body("KB")
    data = {
        "jenis": "KB",
        "template": "",
        "parent_id": "",
        "nomor[1]": body["nomor"]["1"],
        "nomor[2]": body["nomor"]["2"],
        "data.tanggal": body["data"]["tanggal"],
        "data.tempat": body["data"].get("tempat", "Tanah Grogot"),
        "data.cara_penandatanganan": "tatap_muka",
        "data.tujuan": body["data"]["tujuan"],
        "data.ruang_lingkup": "\n".join(body["data"]["ruang_lingkup"]),
    }
    missing = post_form(web, f"/kerja-sama/{case_id}/naskah/baru", data)
    assert missing.status_code == 422 and marked(missing.text, "data.maksud"), missing.text[:3000]
    assert body["data"]["tujuan"] in missing.text  # kept
    done = post_form(web, f"/kerja-sama/{case_id}/naskah/baru", {**data, "data.maksud": body["data"]["maksud"]})
    assert done.status_code == 303, done.text[:3000]
    naskah_id = int(done.headers["location"].removeprefix("/naskah/"))
    stored = api.client.get(f"/api/v1/naskah/{naskah_id}", headers=api.auth("legal")).json()
    assert stored["jenis"] == "KB" and stored["revision_count"] == 1 and stored["nomor"]["1"] == body["nomor"]["1"]

    again = post_form(web, f"/kerja-sama/{case_id}/naskah/baru", {**data, "data.maksud": "lagi"})
    assert again.status_code == 409 and marked(again.text, "nomor[1]") and "sudah dipakai" in again.text


@SERVICES
def test_a_crafted_buat_naskah_is_refused_with_the_reason(api, web):
    case_id = create_case(api)
    as_user(web, "u-drafter2")
    assert web.get(f"/kerja-sama/{case_id}/naskah/baru").status_code == 403
    r = post_form(web, f"/kerja-sama/{case_id}/naskah/baru", {"jenis": "KB", "nomor[1]": "1", "nomor[2]": "2"})
    assert r.status_code == 403 and "hanya penyusunnya" in r.text
    assert api.client.get(f"/api/v1/cases/{case_id}", headers=api.auth("legal")).json()["naskah"] == []


# --- arsip --------------------------------------------------------------------------------------


@SERVICES
def test_arsip_search_download_and_a_plain_verification_report(signers_api, web, dev_pki, counterparty_pki):
    from tests.test_archive import signed_kb

    api = signers_api
    nid = signed_kb(api, dev_pki, counterparty_pki)
    r = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat"))
    assert r.status_code == 201, r.text
    arsip = r.json()
    as_user(web, "u-secretariat")
    page = web.get("/arsip", params={"q": "balikpapan", "jenis": "KB"})
    assert page.status_code == 200 and "1 arsip" in page.text and arsip["judul"] in page.text
    assert f'href="/arsip/{arsip["id"]}/asli.pdf"' in page.text and f'href="/arsip/{arsip["id"]}"' in page.text
    assert "0 arsip" in web.get("/arsip", params={"jenis": "PKS"}).text
    assert web.get("/arsip", params={"tahun": "1999"}).status_code == 422
    original = web.get(f"/arsip/{arsip['id']}/asli.pdf")
    assert original.status_code == 200 and original.content.startswith(b"%PDF")
    assert original.headers["x-content-sha256"] == arsip["sha256"]
    report = web.get(f"/arsip/{arsip['id']}/verifikasi")
    assert report.status_code == 200 and "verdict-ok" in report.text and "Naskah asli ini sah dan utuh" in report.text
    assert "dr. Fahmi Fadli" in report.text and "Milik penanda tangan yang tercantum" in report.text
    assert report.text.count("signature-card sig-ok") == 2 and "Stempel waktu dokumen" in report.text

    as_user(web, "u-opd")  # least privilege: nothing found, counted or opened
    assert "0 arsip" in web.get("/arsip").text
    assert web.get(f"/arsip/{arsip['id']}/verifikasi").status_code == 404
    assert web.get(f"/arsip/{arsip['id']}/asli.pdf").status_code == 404
