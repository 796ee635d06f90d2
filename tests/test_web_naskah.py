"""The naskah pages over HTTP (no browser): the naskah page, Bagian Hukum's review, a new revision from
the manifest's form or from Word, downloads, the diff, and who may do what.

Every action goes through the pages as a signed-in browser would (session cookie, CSRF token, plain
form posts); the data is arranged through the API (``tests/test_api.py`` helpers).  The browser's view
(axe, a phone's width, screenshots) is tests/test_web_naskah_browser.py.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pipeline.auth import create_user
from pipeline.models import Naskah, Revision, User
from storage.db import session_scope
from tests.test_api import create_case, create_naskah
from tests.test_web import SERVICES, _hash_of_password, page_csrf, sign_in_as

pytestmark = SERVICES


@pytest.fixture
def web(api) -> Iterator[TestClient]:
    """A browser-like client on the API fixture's app; every user has the password of tests/test_web.py."""
    with session_scope(api.services.engine) as session:
        for user in session.exec(select(User)).all():
            user.password_hash = _hash_of_password()
            session.add(user)
    yield api.client
    api.client.cookies.clear()


def signed(client: TestClient, username: str) -> TestClient:
    client.cookies.clear()
    r = sign_in_as(client, username)
    assert r.status_code == 303, r.text
    return client


def post(client: TestClient, path: str, data: dict | None = None, csrf_from: str | None = None, **kw):
    token = page_csrf(client, csrf_from or "/")
    return client.post(path, data={"csrf_token": token, **(data or {})}, follow_redirects=False, **kw)


def status_of(api, naskah_id: int) -> str:
    with Session(api.services.engine) as session:
        return session.get(Naskah, naskah_id).status


def a_naskah(api, jenis_kerja_sama: str = "KSDD", jenis: str = "KB") -> tuple[int, int]:
    case_id = create_case(api, jenis_kerja_sama)
    return case_id, create_naskah(api, case_id, jenis)["id"]


def field_markup(text: str, field_id: str) -> str:
    """The opening tag of the element with this id."""
    match = re.search(rf'<(?:input|textarea|select)[^>]*id="{re.escape(field_id)}"[^>]*>', text)
    assert match, f"no input #{field_id}"
    return match.group(0)


# --- the naskah page -----------------------------------------------------------------------------


def test_naskah_page_shows_head_nomor_revisions_and_the_drafters_actions(api, web):
    case_id, nid = a_naskah(api)
    client = signed(web, "u-drafter")
    r = client.get(f"/naskah/{nid}")
    assert r.status_code == 200, r.text
    text = r.text
    assert '<h1 class="h2 mb-0">Kesepakatan Bersama</h1>' in text
    assert f'href="/kerja-sama/{case_id}"' in text
    assert "Penyusunan" in text  # the status, in Indonesian
    assert "100.3.7.1/" in text and "Nomor Pemerintahan Kabupaten Paser" not in text
    with Session(api.services.engine) as session:
        rev = session.exec(select(Revision).where(Revision.naskah_id == nid)).one()
    assert rev.pdf_sha256[:12] in text and rev.pdf_sha256 in text  # short, and the whole in its details
    assert f'href="/naskah/{nid}/revisi/1/docx"' in text and f'href="/naskah/{nid}/revisi/1/pdf"' in text
    assert f'action="/naskah/{nid}/ajukan"' in text and f'href="/naskah/{nid}/revisi/baru"' in text
    assert f'action="/naskah/{nid}/batalkan"' in text
    assert f'action="/naskah/{nid}/setujui"' not in text and f'action="/naskah/{nid}/kembalikan"' not in text
    assert "Pengguna drafter" in text  # the revision's author by name


def test_a_naskah_someone_may_not_see_is_404_page_and_files_too(api, web):
    _case, nid = a_naskah(api)
    client = signed(web, "u-signer")  # an official with no step on it and no OPD
    for path in (
        f"/naskah/{nid}",
        f"/naskah/{nid}/revisi/1/docx",
        f"/naskah/{nid}/revisi/1/pdf",
        f"/naskah/{nid}/beda",
    ):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.headers["content-type"].startswith("text/html") and "Halaman tidak ditemukan" in r.text
    assert client.get("/naskah/999999").status_code == 404


def test_pages_need_a_session(api, web):
    _case, nid = a_naskah(api)
    web.cookies.clear()
    r = web.get(f"/naskah/{nid}/revisi/1/docx", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/masuk?next=")


def test_downloads_are_the_stored_bytes_and_audited(api, web):
    _case, nid = a_naskah(api)
    api_docx = api.client.get(f"/api/v1/naskah/{nid}/revisions/1/docx", headers=api.auth("drafter")).content
    client = signed(web, "u-legal")  # Bagian Hukum sees every naskah of the Pemda
    docx = client.get(f"/naskah/{nid}/revisi/1/docx")
    assert docx.status_code == 200 and docx.content == api_docx
    assert docx.headers["content-disposition"].startswith("attachment;")
    pdf = client.get(f"/naskah/{nid}/revisi/1/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.headers["content-disposition"].startswith("inline;")
    trail = api.client.get(f"/api/v1/naskah/{nid}/audit", headers=api.auth("drafter")).json()["data"]
    downloads = [e for e in trail if e["action"] == "download" and e["actor"] == "u-legal"]
    assert {e["detail"]["file"] for e in downloads} == {"r1.docx", "r1.pdf"}


def test_a_counterpartys_official_gets_no_revisions_even_by_url(api, web):
    _case, nid = a_naskah(api)
    with session_scope(api.services.engine) as session:
        user = create_user(
            session,
            username="mitra",
            nama="Mitra",
            jabatan="Wali Kota",
            roles=["signer"],
            pihak_luar=True,
            instansi="X",
        )
        user.password_hash = _hash_of_password()
    client = signed(web, "mitra")
    assert client.get(f"/naskah/{nid}/revisi/1/docx").status_code == 404  # not even his to see


# --- submit, review, return, approve, cancel -----------------------------------------------------


def test_submit_return_with_note_revise_and_approve_through_the_pages(api, web):
    _case, nid = a_naskah(api)
    client = signed(web, "u-drafter")
    r = post(client, f"/naskah/{nid}/ajukan", {"note": "mohon ditelaah"})
    assert r.status_code == 303 and r.headers["location"] == f"/naskah/{nid}?selesai=ajukan"
    assert status_of(api, nid) == "legal_review"
    assert "Naskah diajukan ke Bagian Hukum." in client.get(r.headers["location"]).text

    client = signed(web, "kabag_hukum")
    page = client.get(f"/naskah/{nid}").text
    assert f'action="/naskah/{nid}/setujui"' in page and f'action="/naskah/{nid}/kembalikan"' in page
    assert f'action="/naskah/{nid}/ajukan"' not in page  # not the drafter's button

    # the return needs a note: the form comes back with the message on its field
    r = post(client, f"/naskah/{nid}/kembalikan", {"note": "   "})
    assert r.status_code == 422
    assert "Ada masalah" in r.text and 'href="#f-note"' in r.text
    marked = field_markup(r.text, "f-note")
    assert "is-invalid" in marked and 'aria-invalid="true"' in marked
    assert f'action="/naskah/{nid}/kembalikan"' in r.text.split('id="f-note"')[0].rsplit("<form", 1)[1]
    assert status_of(api, nid) == "legal_review"

    note = "Pasal 3 ayat (2): sebutkan TPA Regional Kuaro dengan lengkap."
    r = post(client, f"/naskah/{nid}/kembalikan", {"note": note})
    assert r.status_code == 303 and status_of(api, nid) == "returned"

    client = signed(web, "u-drafter")
    page = client.get(f"/naskah/{nid}").text
    alert = page.split('class="alert alert-warning catatan-kembali"')[1].split("</section>")[0]
    assert html.escape(note) in alert and "Hj. Nurul Hidayah" in alert and "Dikembalikan Bagian Hukum" in alert
    assert f'action="/naskah/{nid}/ajukan"' not in page  # a returned draft needs a new revision first

    r = post(client, f"/naskah/{nid}/revisi/baru", {**_form_values(client, nid), "note": "pasal 3 dilengkapi"})
    assert r.status_code == 303, r.text
    page = client.get(f"/naskah/{nid}").text
    assert "catatan-kembali" not in page  # answered by a revision: no longer shown as waiting
    assert html.escape(note) in page  # still in the history
    assert post(client, f"/naskah/{nid}/ajukan").status_code == 303

    client = signed(web, "kabag_hukum")
    r = post(client, f"/naskah/{nid}/setujui")
    assert r.status_code == 303 and status_of(api, nid) == "paraf"
    page = client.get(r.headers["location"]).text
    assert f'href="/naskah/{nid}/paraf"' in page and f'href="/naskah/{nid}/tanda-tangan"' not in page
    drafter_view = signed(web, "u-drafter").get(f"/naskah/{nid}").text
    assert "revisi baru membatalkan semua paraf" in drafter_view  # said before a revision voids them


def test_an_action_not_yours_has_no_button_and_a_crafted_post_is_refused_with_the_reason(api, web):
    _case, nid = a_naskah(api)
    client = signed(web, "u-drafter")
    assert post(client, f"/naskah/{nid}/ajukan").status_code == 303
    page = client.get(f"/naskah/{nid}").text
    assert f'action="/naskah/{nid}/setujui"' not in page
    r = post(client, f"/naskah/{nid}/setujui")
    assert r.status_code == 403 and "diperlukan peran: legal" in r.text
    assert status_of(api, nid) == "legal_review"

    client = signed(web, "kabag_hukum")
    r = post(client, f"/naskah/{nid}/batalkan", {"note": "tidak jadi"})  # only its drafters cancel
    assert r.status_code == 403 and "Tidak diizinkan" in r.text
    r = post(client, f"/naskah/{nid}/ajukan")
    assert r.status_code in (403, 409) and status_of(api, nid) == "legal_review"


def test_a_post_without_the_csrf_token_is_refused(api, web):
    _case, nid = a_naskah(api)
    client = signed(web, "u-drafter")
    r = client.post(f"/naskah/{nid}/ajukan", data={"note": ""}, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text and status_of(api, nid) == "draft"


def test_separation_of_duties_refusal_is_shown_with_its_reason(api, web):
    with session_scope(api.services.engine) as session:
        user = create_user(session, username="ganda", nama="Dua Peran", jabatan="Analis", roles=["drafter", "legal"])
        user.password_hash = _hash_of_password()
    client = signed(web, "ganda")
    case_id = create_case(api)
    nid = create_naskah(api, case_id)["id"]
    api.client.post(
        f"/api/v1/naskah/{nid}/drafters", json={"username": "ganda"}, headers=api.auth("kabag_pemerintahan")
    ).raise_for_status()
    assert post(client, f"/naskah/{nid}/ajukan").status_code == 303
    page = client.get(f"/naskah/{nid}").text
    assert f'action="/naskah/{nid}/setujui"' not in page and "Pemisahan tugas: Anda mengajukan naskah ini" in page
    r = post(client, f"/naskah/{nid}/setujui")
    assert r.status_code == 403 and "Pemisahan tugas" in r.text and "separation_of_duties" in r.text
    assert status_of(api, nid) == "legal_review"


def test_cancel_needs_a_note_then_cancels(api, web):
    _case, nid = a_naskah(api)
    client = signed(web, "u-drafter")
    r = post(client, f"/naskah/{nid}/batalkan", {"note": ""})
    assert r.status_code == 422 and "Catatan wajib diisi untuk membatalkan" in r.text
    assert "is-invalid" in field_markup(r.text, "f-note") and '<details class="card batal" open>' in r.text
    r = post(client, f"/naskah/{nid}/batalkan", {"note": "mitra mengundurkan diri"})
    assert r.status_code == 303 and status_of(api, nid) == "cancelled"
    page = client.get(f"/naskah/{nid}").text
    assert "Dibatalkan" in page and "mitra mengundurkan diri" in page and f'/naskah/{nid}/ajukan"' not in page


# --- a new revision from the manifest's form ------------------------------------------------------


def _form_values(client: TestClient, nid: int) -> dict[str, str]:
    """Every input of the Revisi baru form as it is shown (what a browser would send untouched)."""
    text = client.get(f"/naskah/{nid}/revisi/baru").text
    values: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", text):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name.group(1) == "csrf_token":
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        if kind and kind.group(1) == "checkbox":
            if " checked" in tag:
                values[name.group(1)] = re.search(r'value="([^"]*)"', tag).group(1)
            continue
        value = re.search(r'value="([^"]*)"', tag)
        values[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', text, re.S):
        values[name] = html.unescape(body)
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', text, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        values[name] = chosen.group(1) if chosen else ""
    return values


def test_the_revision_form_is_the_templates_manifest_with_types_and_required_marks(api, web):
    _case, nid = a_naskah(api)
    client = signed(web, "u-drafter")
    r = client.get(f"/naskah/{nid}/revisi/baru")
    assert r.status_code == 200, r.text
    text = r.text
    assert 'type="date"' in field_markup(text, "f-tanggal")
    assert field_markup(text, "f-ruang_lingkup").startswith("<textarea")
    assert field_markup(text, "f-cara_penandatanganan").startswith("<select")
    assert 'type="checkbox"' in field_markup(text, "f-bermeterai")
    assert 'aria-required="true"' in field_markup(text, "f-pihak_kesatu.nama")
    assert 'aria-required="true"' not in field_markup(text, "f-pihak_kesatu.nip")
    assert "lambang_pihak_kesatu" not in text  # filled from the kerja sama's lambang, not here
    values = _form_values(client, nid)
    assert values["pihak_kesatu.instansi"] == "Pemerintah Kabupaten Paser"  # what a render would use now
    assert "pengurangan sampah" in values["ruang_lingkup"] or values["ruang_lingkup"].count("\n") >= 1


def test_the_form_may_not_be_opened_by_who_may_not_revise(api, web):
    _case, nid = a_naskah(api)
    client = signed(web, "kabag_hukum")
    assert client.get(f"/naskah/{nid}/revisi/baru").status_code == 403
    assert post(client, f"/naskah/{nid}/revisi/baru", {"judul": "x"}).status_code == 403
    assert client.get(f"/naskah/{nid}/revisi/unggah").status_code == 403


def test_a_missing_field_is_marked_on_its_input_with_the_rest_of_the_input_kept(api, web):
    _case, nid = a_naskah(api)
    client = signed(web, "u-drafter")
    values = _form_values(client, nid)
    values.update({"tanggal": "", "maksud": "maksud yang baru ditulis", "pihak_kedua.jabatan": ""})
    r = post(client, f"/naskah/{nid}/revisi/baru", values)
    assert r.status_code == 422
    assert 'href="#f-tanggal"' in r.text and 'href="#f-pihak_kedua.jabatan"' in r.text
    for field_id in ("f-tanggal", "f-pihak_kedua.jabatan"):
        assert "is-invalid" in field_markup(r.text, field_id)
    assert "is-invalid" not in field_markup(r.text, "f-judul")
    assert "Tanggal: wajib diisi." in r.text
    assert ">maksud yang baru ditulis</textarea>" in r.text  # kept
    assert _revisions(api, nid) == 1


def test_an_invalid_value_in_a_table_cell_lands_on_that_cell(api, web):
    _case, nid = a_naskah(api, "KSIV", "NK")
    client = signed(web, "u-drafter")
    values = _form_values(client, nid)
    assert "rencana_kerja[0].lokasi" in values
    values["rencana_kerja[0].lokasi"] = ""
    values["ruang_lingkup"] = ""
    r = post(client, f"/naskah/{nid}/revisi/baru", values)
    assert r.status_code == 422
    assert "is-invalid" in field_markup(r.text, "f-rencana_kerja[0].lokasi")
    assert "is-invalid" in field_markup(r.text, "f-ruang_lingkup")
    assert "Rencana kerja: lokasi: baris 1: wajib diisi." in r.text


def test_a_rendered_revision_sends_only_what_changed(api, web):
    _case, nid = a_naskah(api)
    client = signed(web, "u-drafter")
    values = _form_values(client, nid)
    values["tempat"] = "Balikpapan"
    r = post(client, f"/naskah/{nid}/revisi/baru", {**values, "note": "tempat diubah"})
    assert r.status_code == 303 and r.headers["location"] == f"/naskah/{nid}?selesai=revisi"
    assert _revisions(api, nid) == 2
    with Session(api.services.engine) as session:
        naskah = session.get(Naskah, nid)
        rev = session.exec(select(Revision).where(Revision.naskah_id == nid, Revision.number == 2)).one()
    assert naskah.data["tempat"] == "Balikpapan" and rev.note == "tempat diubah"
    assert "pihak_kesatu" not in naskah.data and "judul" not in naskah.data  # still from the kerja sama
    assert rev.data["pihak_kesatu"]["instansi"] == "Pemerintah Kabupaten Paser"


def _revisions(api, nid: int) -> int:
    r = api.client.get(f"/api/v1/naskah/{nid}/revisions", headers=api.auth("drafter"))
    return r.json()["count"]


# --- a revision uploaded from Word ---------------------------------------------------------------


def test_an_upload_refused_by_the_docx_checks_is_shown_on_the_file_field(api, web):
    _case, nid = a_naskah(api)
    client = signed(web, "u-drafter")
    token = page_csrf(client, f"/naskah/{nid}/revisi/unggah")
    macro = io.BytesIO()
    with zipfile.ZipFile(macro, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/vbaProject.bin", b"\0" * 10)
    r = client.post(
        f"/naskah/{nid}/revisi/unggah",
        data={"csrf_token": token, "note": "dari Word"},
        files={"file": ("naskah.docx", macro.getvalue(), "application/octet-stream")},
        follow_redirects=False,
    )
    assert r.status_code == 422, r.text
    assert "is-invalid" in field_markup(r.text, "f-file") and 'href="#f-file"' in r.text
    assert ">dari Word</textarea>" in r.text
    r = client.post(f"/naskah/{nid}/revisi/unggah", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 422 and "Pilih berkas" in r.text
    assert _revisions(api, nid) == 1


def test_an_upload_from_word_becomes_the_next_revision(api, web):
    _case, nid = a_naskah(api)
    client = signed(web, "u-drafter")
    docx = client.get(f"/naskah/{nid}/revisi/1/docx").content
    token = page_csrf(client, f"/naskah/{nid}/revisi/unggah")
    r = client.post(
        f"/naskah/{nid}/revisi/unggah",
        data={"csrf_token": token, "note": "disunting di Word"},
        files={
            "file": ("naskah.docx", docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = client.get(f"/naskah/{nid}").text
    assert "disunting di Word" in page and ">Word</span>" in page
    # rendering now would drop the Word edits: the form asks to confirm, on its own box
    form = client.get(f"/naskah/{nid}/revisi/baru").text
    assert 'name="buang_suntingan_word" value="2"' in form
    values = _form_values(client, nid)
    values["tempat"] = "Penajam"
    r = post(client, f"/naskah/{nid}/revisi/baru", values)
    assert r.status_code == 409 and "is-invalid" in field_markup(r.text, "f-buang_suntingan_word")
    assert 'href="#f-buang_suntingan_word"' in r.text and 'value="Penajam"' in r.text  # the input kept
    r = post(client, f"/naskah/{nid}/revisi/baru", {**values, "buang_suntingan_word": "2"})
    assert r.status_code == 303 and _revisions(api, nid) == 3


def test_an_upload_over_the_limit_gets_a_page_not_json(api, web):
    _case, nid = a_naskah(api)
    client = signed(web, "u-drafter")
    token = page_csrf(client, f"/naskah/{nid}/revisi/unggah")
    big = b"x" * (api.services.docx_limits.max_bytes + 128 * 1024)
    r = client.post(
        f"/naskah/{nid}/revisi/unggah",
        data={"csrf_token": token},
        files={"file": ("besar.docx", big, "application/octet-stream")},
        headers={"Referer": f"http://testserver/naskah/{nid}/revisi/unggah"},
        follow_redirects=False,
    )
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("text/html")
    assert "Berkas terlalu besar" in r.text and "2 MB" in r.text
    assert f'href="/naskah/{nid}/revisi/unggah"' in r.text  # a way back to the form


# --- the diff ------------------------------------------------------------------------------------


def test_the_diff_page_shows_two_revisions_side_by_side_with_changes_marked(api, web):
    _case, nid = a_naskah(api)
    client = signed(web, "u-drafter")
    values = _form_values(client, nid)
    values["maksud"] = "sebagai pedoman bersama pengelolaan sampah regional yang ramah lingkungan"
    assert post(client, f"/naskah/{nid}/revisi/baru", values).status_code == 303
    r = client.get(f"/naskah/{nid}/beda?a=1&b=2")
    assert r.status_code == 200
    assert "<del>" in r.text and "<ins>" in r.text and "ramah lingkungan" in r.text
    assert "Revisi 1" in r.text and "Revisi 2" in r.text
    assert "diff-same" not in r.text  # only what changed, unless asked
    full = client.get(f"/naskah/{nid}/beda?a=1&b=2&semua=1").text
    assert full.count('<tr class="diff-same">') > 10 and full.count('<tr class="diff-changed">') == 1
    same = client.get(f"/naskah/{nid}/beda?a=2&b=2")
    assert "sama" in same.text and "<del>" not in same.text
    assert client.get(f"/naskah/{nid}/beda?a=1&b=9").status_code == 404


# --- the path ------------------------------------------------------------------------------------


def test_the_path_shows_every_step_in_order_and_where_it_waits_against_the_standard(api, web):
    _case, nid = a_naskah(api)
    api.client.post(f"/api/v1/naskah/{nid}/submit", headers=api.auth("drafter")).raise_for_status()
    client = signed(web, "kabag_hukum")
    text = client.get(f"/naskah/{nid}").text
    stepper = text.split('<ol class="stepper">')[1].split("</ol>")[0]
    labels = re.findall(r'<div class="step-label">([^<]+)</div>', stepper)
    assert labels[0] == "Penyusunan naskah" and labels[1].startswith("Telaah")
    paraf = [label for label in labels if label.startswith("Paraf ")]
    assert paraf == ["Paraf Kepala Bagian Pemerintahan", "Paraf Asisten Umum", "Paraf Sekretaris Daerah"]
    assert labels[-1] == "Pengarsipan naskah asli"
    current = stepper.split('aria-current="step"')[1].split("</li>")[0]
    assert "Telaah" in current and "giliran Anda" in current
    assert "Menunggu sejak" in current and "mutu baku" in current
    done = stepper.split("</li>")[0]
    assert "step-done" in done and "Pengguna drafter" in done  # who submitted, and when
    # the drafter sees the same path, not his turn
    client = signed(web, "u-drafter")
    current = client.get(f"/naskah/{nid}").text.split('aria-current="step"')[1].split("</li>")[0]
    assert "Telaah" in current and "giliran Anda" not in current


# --- the preview ---------------------------------------------------------------------------------


def test_the_preview_shows_each_page_as_an_image_with_its_text_and_the_pdf_link(api, web):
    _case, nid = a_naskah(api)
    client = signed(web, "kabag_hukum")
    r = client.get(f"/naskah/{nid}/revisi/1/pratinjau")
    assert r.status_code == 200, r.text
    images = re.findall(rf'<img src="(/naskah/{nid}/revisi/1/halaman/(\d+)\.png)"', r.text)
    with Session(api.services.engine) as session:
        pages = session.exec(select(Revision).where(Revision.naskah_id == nid)).one().pdf_pages
    assert [int(n) for _src, n in images] == list(range(1, pages + 1))
    assert "KESEPAKATAN BERSAMA" in r.text.split('id="teks-1"')[1]  # the page's own text, beside it
    assert f'href="/naskah/{nid}/revisi/1/pdf"' in r.text
    image = client.get(images[0][0])
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG") and image.headers["etag"]
    again = client.get(images[0][0], headers={"If-None-Match": image.headers["etag"]})
    assert again.status_code == 304
    thumb = client.get(images[0][0] + "?kecil=1")
    assert thumb.status_code == 200 and len(thumb.content) < len(image.content)
    assert client.get(f"/naskah/{nid}/revisi/1/halaman/{pages + 1}.png").status_code == 404
    # the naskah page links each revision's preview
    assert f'href="/naskah/{nid}/revisi/1/pratinjau"' in client.get(f"/naskah/{nid}").text


def test_the_preview_is_not_shown_to_who_may_not_see_the_revision(api, web):
    _case, nid = a_naskah(api)
    client = signed(web, "u-signer")
    assert client.get(f"/naskah/{nid}/revisi/1/pratinjau").status_code == 404
    assert client.get(f"/naskah/{nid}/revisi/1/halaman/1.png").status_code == 404
