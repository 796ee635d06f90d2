"""Public verification over HTTP (no sign-in): ``/verifikasi`` and the QR code's ``/v/<token>``.

Anyone may check a PDF: the report, whether it is byte for byte an archived original, and only what
is printed on the document (never notes, drafters or audit).  The upload is bounded (size: a page,
not a 5xx; a rate per client address, shared through the database), hostile or non-PDF files are
refused with a message, and the anonymous form has the sign-in form's double-submit CSRF.  The QR
code in every signature block is decoded with zbar (``zbarimg``, not ours) from the page as
``pdftoppm`` renders it.  The browser's view (axe, a phone's width) is tests/test_web_publik_browser.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.main import create_app
from pipeline.models import Naskah, NaskahDrafter, NaskahEvent, PublicLink, Revision, User
from pipeline.sign.publiklink import FALLBACK_PREFIX, qr_reference
from tests.test_archive import signed_kb

SERVICES = pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
PUBLIC = "https://naskah.paserkab.go.id"


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def upload(client: TestClient, data: bytes, name: str = "naskah.pdf", **headers: str):
    """The public form as a browser sends it: GET (the CSRF cookie), then POST the file with its token."""
    client.cookies.clear()
    form = client.get("/verifikasi")
    assert form.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    return client.post(
        "/verifikasi",
        data={"csrf_token": token},
        files={"berkas": (name, data, "application/pdf")},
        headers=headers,
        follow_redirects=False,
    )


def set_setting(api, **values) -> None:
    app = api.client.app
    app.state.settings = app.state.settings.model_copy(update=values)


def archived(api, dev_pki, counterparty_pki) -> tuple[int, bytes, bytes]:
    """(naskah id, the signed PDF, the archived original) of a KB signed by both parties and archived."""
    nid = signed_kb(api, dev_pki, counterparty_pki)
    signed = api.client.get(f"/api/v1/naskah/{nid}/signed.pdf", headers=api.auth("secretariat")).content
    r = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat"))
    assert r.status_code == 201, r.text
    arsip = r.json()
    original = api.client.get(f"/api/v1/arsip/{arsip['id']}/original.pdf", headers=api.auth("secretariat")).content
    return nid, signed, original


def internal_words(api, nid: int) -> list[str]:
    """What must never show publicly: every note of the naskah (revisions, workflow), its drafters'
    usernames and names, the creator's.  The drafter's revision note is made unmistakable first."""
    with Session(api.services.engine) as session:
        revision = session.exec(select(Revision).where(Revision.naskah_id == nid)).first()
        revision.note = "Catatan internal penyusun: jangan disebarkan"
        session.add(revision)
        session.commit()
        naskah = session.get(Naskah, nid)
        notes = [r.note for r in session.exec(select(Revision).where(Revision.naskah_id == nid)).all()]
        notes += [e.note for e in session.exec(select(NaskahEvent).where(NaskahEvent.naskah_id == nid)).all()]
        ids = {naskah.created_by} | {
            d.user_id for d in session.exec(select(NaskahDrafter).where(NaskahDrafter.naskah_id == nid)).all()
        }
        people = [session.get(User, i) for i in ids]
    words = [n for n in notes if n and len(n) > 3]
    words += [p.username for p in people] + [p.nama for p in people]
    assert "u-drafter" in words
    return words


@SERVICES
def test_an_archived_original_verifies_is_recognised_as_archived_and_shows_only_what_is_printed(
    signers_api, dev_pki, counterparty_pki
):
    api = signers_api
    nid, signed, original = archived(api, dev_pki, counterparty_pki)
    api.client.cookies.clear()

    r = upload(api.client, original)
    assert r.status_code == 200, r.text
    text = text_of(r.text)
    assert "Sama persis dengan naskah asli di arsip Pemda" in text
    assert "Tanda tangan pada berkas ini sah dan isinya utuh" in text
    assert "Terbukti tidak berubah sejak" in text  # since its first document timestamp
    assert hashlib.sha256(original).hexdigest() in text
    # the summary: what the document prints, and its status
    assert "Pemerintah Kabupaten Paser" in text and "Pemerintah Kota Balikpapan" in text
    assert "dr. Fahmi Fadli" in text and "H. Rahmad Mas'ud, S.E., M.E." in text
    assert "Sudah ditandatangani semua pihak dan diarsipkan" in text
    with Session(api.services.engine) as session:
        from pipeline.drafting.cases import nomor_of

        for nomor in nomor_of(session, nid).values():
            assert nomor in text
    for word in internal_words(api, nid):
        assert word not in text, word
    assert f"/naskah/{nid}" not in r.text and "/arsip/" not in r.text  # no internal link, no id

    # the signed state before archiving: genuine, known, but not the archived original
    text = text_of(upload(api.client, signed).text)
    assert "Tidak sama persis dengan naskah asli mana pun" in text
    assert "Berkas ini dikenal sebagai salah satu tahap naskah" in text


@SERVICES
def test_a_tampered_copy_of_an_archived_original_is_flagged_with_the_reason(signers_api, dev_pki, counterparty_pki):
    api = signers_api
    _nid, _signed, original = archived(api, dev_pki, counterparty_pki)
    # one byte of the signed content changed in place (the catalog's opening view), as a forger would
    tampered = original.replace(b"/XYZ null null 0 ]", b"/XYZ null null 1 ]", 1)
    assert tampered != original and len(tampered) == len(original)
    api.client.cookies.clear()
    r = upload(api.client, tampered)
    assert r.status_code == 200, r.text
    text = text_of(r.text)
    assert "Berkas ini TIDAK lolos verifikasi" in text
    assert "BUKAN naskah asli: tanda tangannya tidak cocok dengan isinya" in text  # said first, plainly
    assert "Jangan gunakan berkas ini sebagai naskah kerja sama" in text
    assert "Tidak sama persis dengan naskah asli mana pun" in text
    assert "Yang ditemukan" in text  # the reasons, in words
    assert "Terbukti tidak berubah" not in text  # it was changed: nothing proves it unchanged
    # the naskah it claims to be is archived, but no green tick may stand beside a copy that is not it
    assert "Naskah asli tersimpan di arsip" not in text
    for technical in ("OTHER", "DocMDP", "FORM_FILLING", "ANNOTATIONS"):
        assert technical not in text, technical


@SERVICES
def test_a_non_pdf_a_hostile_pdf_and_an_empty_form_are_refused_on_the_form_never_a_5xx(api, dev_pki):
    api.services.trust_roots = list(dev_pki.roots)
    r = upload(api.client, b"PK\x03\x04 this is a zip, not a pdf", name="naskah.docx")
    assert r.status_code == 422 and "Berkas ini bukan PDF" in text_of(r.text)
    assert 'aria-invalid="true"' in r.text and "Ada masalah" in r.text
    for hostile in (
        b"%PDF-1.7\n" + b"1 0 obj <<" * 20000 + b"\n%%EOF\n",  # nesting without end
        b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 1 0 R >>\nendobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
        b"%PDF-1.4\n" + b"\x00\xff" * 5000,
    ):
        r = upload(api.client, hostile)
        assert r.status_code == 422, (r.status_code, r.text[:300])
        assert "Ada masalah" in r.text
    client = api.client
    client.cookies.clear()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/verifikasi").text).group(1)
    r = client.post("/verifikasi", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 422 and "Pilih berkas PDF" in text_of(r.text)


@SERVICES
def test_a_server_without_trusted_roots_says_it_cannot_verify_yet(api):
    r = upload(api.client, b"%PDF-1.7\n%%EOF\n")
    assert r.status_code == 409 and "NASKAH_TRUST_ROOTS" in text_of(r.text)


@SERVICES
def test_an_oversized_upload_gets_an_error_page_before_the_body_is_read(api):
    api.services.pdf_limits = dataclasses.replace(api.services.pdf_limits, max_bytes=200 * 1024)
    r = upload(api.client, b"%PDF-1.7\n" + b"0" * (400 * 1024))
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("text/html")
    assert "Berkas terlalu besar" in text_of(r.text) and "200 KB" in text_of(r.text)


@SERVICES
def test_the_anonymous_form_needs_its_csrf_token_and_a_same_site_origin(api):
    client = api.client
    client.cookies.clear()
    client.get("/verifikasi")
    r = client.post("/verifikasi", files={"berkas": ("a.pdf", b"%PDF-1.7", "application/pdf")})
    assert r.status_code == 403 and "Formulir ini kedaluwarsa" in text_of(r.text)
    r = upload(client, b"%PDF-1.7\n%%EOF\n", Origin="https://jahat.example")
    assert r.status_code == 403 and "dikirim dari situs lain" in text_of(r.text)


@pytest.mark.parametrize("services", ["sqlite-local", "postgres-local"], indirect=True)
def test_checks_are_rate_limited_per_client_address_across_processes_with_the_time_to_try_again(api):
    set_setting(api, public_verify_per_hour=2)
    for _ in range(2):
        assert upload(api.client, b"not a pdf").status_code == 422  # counted, even when refused
    r = upload(api.client, b"not a pdf")
    assert r.status_code == 429
    assert re.search(r"Coba lagi pukul \d\d\.\d\d \(sekitar \d+ menit lagi\)", text_of(r.text)), text_of(r.text)
    assert int(r.headers["Retry-After"]) > 3000
    # another process of the app (its own app object, the same database) counts the same requests
    other = create_app(api.client.app.state.settings, api.services)
    with TestClient(other) as second:
        assert upload(second, b"not a pdf").status_code == 429


@SERVICES
def test_the_qr_code_opens_the_public_summary_and_the_original_downloads_only_when_switched_on(
    signers_api, dev_pki, counterparty_pki, tmp_path: Path
):
    api = signers_api
    api.services.public_url = PUBLIC
    nid, _signed, original = archived(api, dev_pki, counterparty_pki)
    with Session(api.services.engine) as session:
        token = session.exec(select(PublicLink).where(PublicLink.naskah_id == nid)).one().token
    assert (
        token != str(nid) and not token.isdigit() and len(token) >= 24
    )  # random, not the id (which a random token may contain by chance)

    # decode the QR code of the last page (the signature blocks) with zbar, as a phone would read it
    assert shutil.which("zbarimg"), "zbar-tools missing (make system-deps-test installs it)"
    pdf = tmp_path / "asli.pdf"
    pdf.write_bytes(original)
    subprocess.run(["pdftoppm", "-r", "200", "-png", str(pdf), str(tmp_path / "p")], check=True)
    decoded = set()
    for png in sorted(tmp_path.glob("p-*.png")):
        out = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sqrcode.enable", str(png)], capture_output=True)
        decoded |= {line for line in out.stdout.decode().splitlines() if line}
    assert decoded == {f"{PUBLIC}/v/{token}"}, decoded

    api.client.cookies.clear()
    page = api.client.get(f"/v/{token}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Keterangan naskah kerja sama" in text
    assert "Pemerintah Kabupaten Paser" in text and "dr. Fahmi Fadli" in text
    assert "Naskah asli tersimpan di arsip" in text
    for word in internal_words(api, nid):
        assert word not in text, word
    # download: off by default (no button, the address is not found), on by the Pemda's setting
    assert "Unduh naskah asli" not in text
    assert api.client.get(f"/v/{token}/asli.pdf").status_code == 404
    set_setting(api, public_download=True)
    assert "Unduh naskah asli" in text_of(api.client.get(f"/v/{token}").text)
    r = api.client.get(f"/v/{token}/asli.pdf")
    assert r.status_code == 200 and r.content == original
    # a guessed token is simply not found
    assert api.client.get("/v/" + "A" * 24).status_code == 404
    assert api.client.get(f"/v/{nid}").status_code == 404


def test_without_a_public_address_the_qr_holds_the_token_and_never_the_sequential_id():
    assert qr_reference("", "abcdefghijklmnopqrstuvwx") == f"{FALLBACK_PREFIX}abcdefghijklmnopqrstuvwx"
    assert qr_reference(PUBLIC + "/", "tok") == f"{PUBLIC}/v/tok"


@SERVICES
def test_the_public_pages_need_no_sign_in_and_a_signed_in_person_keeps_their_header(api):
    from pipeline.signin import set_password
    from storage.db import session_scope
    from tests.test_web import PASSWORD, sign_in_as

    client = api.client
    client.cookies.clear()
    r = client.get("/verifikasi", follow_redirects=False)
    assert r.status_code == 200 and "Keluar" not in r.text
    with session_scope(api.services.engine) as session:
        set_password(session, None, "u-drafter", PASSWORD)
    assert sign_in_as(client, "u-drafter").status_code == 303
    r = client.get("/verifikasi")
    assert r.status_code == 200 and "Pengguna drafter" in r.text and "Keluar" in r.text
