"""Desk to desk with signing software the project did not write: poppler's pdfsig (NSS) and endesive.

The counterparty signs our exported PDF with whatever its office uses.  Here that is:

* poppler's ``pdfsig -sign`` (into our prepared field) and ``pdfsig -add-signature`` (a field of its
  own), with an NSS database made at test time by ``certutil``/``pk12util`` (Debian's libnss3-tools);
* endesive (PyPI), whose vendored PyPDF2 writes the incremental update, into our field, into a new
  visible field and invisibly;

each signer with its own CA.  What they write differs from pyHanko (a generation-1 object, an ``/M``
added to our widget, a rewritten page with its numbers rounded, a field of their own); the import
must accept exactly "our bytes + one signature" from them, refuse every other change with an
Indonesian reason, embed the validation data, and our own signature must follow on their file.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from cryptography import x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pypdf import PdfReader

from pipeline.approval.stamp import lock_signature_field, prepare_signature_fields, stamp_paraf
from pipeline.drafting.templates import TemplateRegistry
from pipeline.errors import InvalidInput
from pipeline.sign.desk import check_returned, embed_validation_data
from pipeline.sign.devpki import DevPki, IssuedCert
from pipeline.sign.signing import SignatureAppearance, SignOptions, http_timestamper, sign_pdf, validation_context
from pipeline.sign.verify import verify_pdf
from tests.fixtures.pki import add_annotation, allow_fetching_from, make_signer, replace_page_content
from tests.test_signing_flow import fully_initialled
from tests.test_stamp import KB_SLOTS, MARKS

PARTNER = "H. Rahmad Mas'ud, S.E., M.E."
OUR_FIELD = "ttd_pihak_1"
THEIR_FIELD = "ttd_pihak_2"
#: Words of pyHanko's English diagnostics that must never reach a message a person reads.
ENGLISH = re.compile(r"\b(Dict|differ|revision|Reference|unexplained|object|Values|keys|xref|generation)\b")


def require_tools() -> None:
    """A missing tool fails the run (never a silent skip): the counterparty's signer is real."""
    missing = [tool for tool in ("pdfsig", "certutil", "pk12util") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: apt-get install poppler-utils libnss3-tools (make test does it)")


def assert_indonesian(message: str) -> None:
    assert not ENGLISH.search(message), f"English in a message for people: {message}"


# -- the counterparty's software --------------------------------------------------------------


@dataclass(frozen=True)
class NssDb:
    """An NSS database holding one partner's key and certificate, as an office PC would."""

    directory: Path
    nickname: str

    @property
    def spec(self) -> str:
        return f"sql:{self.directory}"


def make_nss_db(directory: Path, person: IssuedCert, roots: list[Path]) -> NssDb:
    """``certutil -N`` + ``pk12util -i`` + ``certutil -A -t CT,C,C`` for each trusted root."""
    require_tools()
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{directory}", "--empty-password"], check=True, capture_output=True)
    p12 = directory / "partner.p12"
    p12.write_bytes(person.to_pkcs12("mitra-nss"))
    subprocess.run(
        ["pk12util", "-i", str(p12), "-d", f"sql:{directory}", "-W", "mitra-nss"], check=True, capture_output=True
    )
    p12.unlink()
    for index, root in enumerate(roots):
        subprocess.run(
            ["certutil", "-A", "-d", f"sql:{directory}", "-n", f"root-{index}", "-t", "CT,C,C", "-i", str(root)],
            check=True,
            capture_output=True,
        )
    return NssDb(directory, person.common_name)


def pdfsig_sign(
    pdf: bytes, nss: NssDb, workdir: Path, *, field: str | None = THEIR_FIELD, new_field: str = ""
) -> bytes:
    """poppler's pdfsig: ``-sign FIELD`` into an existing field, or ``-add-signature`` (field=None)."""
    src, out = workdir / "in.pdf", workdir / "out.pdf"
    src.write_bytes(pdf)
    out.unlink(missing_ok=True)
    command = ["pdfsig", "-nssdir", nss.spec, "-nick", nss.nickname, "-reason", "Menyetujui"]
    if field is not None:
        command += ["-sign", field]
    else:
        command += ["-add-signature", "-new-signature-field-name", new_field]
    result = subprocess.run([*command, str(src), str(out)], capture_output=True, text=True)
    assert result.returncode == 0 and out.exists(), result.stderr
    return out.read_bytes()


def pdfsig_report(pdf: bytes, nss: NssDb, workdir: Path) -> str:
    """What poppler says about every signature (validated against the roots in ``nss``, OCSP online)."""
    path = workdir / "check.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(["pdfsig", "-nssdir", nss.spec, str(path)], capture_output=True, text=True)
    return result.stdout


def endesive_sign(pdf: bytes, person: IssuedCert, tsa_url: str | None, **udct: object) -> bytes:
    """endesive's ``pdf.cms.sign``: it returns the incremental update to append."""
    from endesive.pdf import cms

    cert = x509.load_der_x509_certificate(person.certificate.dump())
    chain = [x509.load_der_x509_certificate(c.dump()) for c in person.chain]
    settings = {
        "aligned": 32768,
        "sigflags": 3,
        "contact": "walikota@balikpapan.go.id",
        "location": "Balikpapan",
        "signingdate": dt.datetime.now(dt.UTC).strftime("D:%Y%m%d%H%M%S+00'00'"),
        "reason": "Menyetujui",
        **udct,
    }
    return pdf + cms.sign(pdf, settings, person.key, cert, chain, "sha256", timestampurl=tsa_url)


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sent(naskah_pdf: bytes) -> bytes:
    """What the pipeline exports: paraf on every page, both empty fields, ours (the last) locking."""
    box = TemplateRegistry.load().get("kb/standar").paraf
    prepared = prepare_signature_fields(stamp_paraf(naskah_pdf, MARKS, box), KB_SLOTS)
    return lock_signature_field(prepared, OUR_FIELD)


@pytest.fixture(scope="module")
def last_page(sent: bytes) -> int:
    return len(PdfReader(BytesIO(sent)).pages)


@pytest.fixture(scope="module")
def poppler_partner(counterparty_pki: DevPki) -> IssuedCert:
    return counterparty_pki.issue_person(PARTNER, email="walikota@balikpapan.go.id")


@pytest.fixture(scope="module")
def partner_nss(tmp_path_factory, poppler_partner: IssuedCert, counterparty_pki: DevPki) -> NssDb:
    return make_nss_db(tmp_path_factory.mktemp("nss-mitra"), poppler_partner, [counterparty_pki.roots_pem])


@pytest.fixture(scope="module")
def endesive_pki(tmp_path_factory) -> Iterator[DevPki]:
    """A third, independent CA for the endesive partner (its own OCSP, CRL and TSA)."""
    pki = DevPki.generate(tmp_path_factory.mktemp("pki") / "mitra-dua", name="PSrE Mitra Dua")
    allow_fetching_from(pki)
    with pki.serve():
        yield pki


@pytest.fixture(scope="module")
def endesive_partner(endesive_pki: DevPki) -> IssuedCert:
    return endesive_pki.issue_person(PARTNER)


@pytest.fixture(scope="module")
def roots(dev_pki: DevPki, counterparty_pki: DevPki, endesive_pki: DevPki) -> list:
    return dev_pki.roots + counterparty_pki.roots + endesive_pki.roots


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pdfsig")


@pytest.fixture(scope="module")
def returned(sent, partner_nss, workdir, endesive_partner, endesive_pki) -> dict[str, bytes]:
    """The signed file from each real signer (made once per module)."""
    return {
        "pdfsig-sign": pdfsig_sign(sent, partner_nss, workdir),
        "pdfsig-add-signature": pdfsig_sign(sent, partner_nss, workdir, field=None, new_field="ttd_walikota"),
        "endesive-our-field": endesive_sign(
            sent,
            endesive_partner,
            endesive_pki.tsa_url,
            signform=True,
            sigfield=THEIR_FIELD,
            sigpage=-1,
            signature=f"Ditandatangani oleh {PARTNER}",
        ),
        "endesive-own-field": endesive_sign(
            sent,
            endesive_partner,
            endesive_pki.tsa_url,
            sigfield="Signature1",
            sigpage=-1,
            signaturebox=(60, 470, 260, 530),
            signature=f"Ditandatangani oleh {PARTNER}",
        ),
        "endesive-invisible": endesive_sign(sent, endesive_partner, None, sigfield="Signature1"),
    }


# (kind, field carrying the signature, page: "last" / 1, visible)
SIGNERS = [
    ("pdfsig-sign", THEIR_FIELD, "last", False),
    ("pdfsig-add-signature", "ttd_walikota", 1, False),
    ("endesive-our-field", THEIR_FIELD, "last", True),
    ("endesive-own-field", "Signature1", "last", True),
    ("endesive-invisible", "Signature1", 1, False),
]


# -- accepting an honest return -------------------------------------------------------------


def test_pyhanko_strict_reader_refuses_what_poppler_writes(returned):
    """The reason this module exists: poppler writes a generation-1 object that pyHanko's strict
    reader calls orphaned, so the import used to say "not a readable PDF"."""
    from pyhanko.pdf_utils.misc import PdfStrictReadError

    with pytest.raises(PdfStrictReadError, match="orphaned generation"):
        PdfFileReader(BytesIO(returned["pdfsig-sign"]), strict=True)


@pytest.mark.parametrize(("kind", "field", "page", "visible"), SIGNERS)
def test_a_real_signers_return_is_accepted_and_where_it_signed_is_recorded(
    kind, field, page, visible, sent, returned, roots, last_page
):
    check = check_returned(sent, returned[kind], roots, expected_fields=[THEIR_FIELD], allow_new_fields=True)

    assert check.ok, (check.reason, check.diagnostic)
    assert [c.signer for c in check.new_signatures] == [PARTNER]
    assert check.placement is not None
    assert check.placement.field == field
    assert check.placement.page == (last_page if page == "last" else page)
    assert check.placement.visible is visible


def test_our_prepared_field_is_not_given_to_a_signer_that_fills_another_of_ours(sent, partner_nss, workdir, roots):
    """Leniency about a field of their own never extends to OUR other party's field."""
    candidate = pdfsig_sign(sent, partner_nss, workdir, field=OUR_FIELD)

    check = check_returned(sent, candidate, roots, expected_fields=[THEIR_FIELD], allow_new_fields=True)

    assert not check.ok and "tidak diharapkan" in check.reason and OUR_FIELD in check.reason


# -- judging strictly: leniency lets nothing else through ------------------------------------


def _other_field_changed(pdf: bytes) -> bytes:
    """Our (still empty) PIHAK KESATU field moved onto the text, after the partner signed."""
    return _append_update(pdf, _rewritten_widget(pdf, OUR_FIELD, b"/Rect [ 100 700 300 760 ]"))


TAMPERS: dict[str, Callable[[bytes], bytes]] = {
    "page_content_changed": replace_page_content,
    "annotation_added": add_annotation,
    "other_field_changed": _other_field_changed,
}


@pytest.mark.parametrize("kind", ["pdfsig-sign", "endesive-our-field", "pdfsig-add-signature"])
@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_a_change_after_a_real_signers_signature_is_refused_in_indonesian(tamper, kind, sent, returned, roots):
    candidate = TAMPERS[tamper](returned[kind])

    check = check_returned(sent, candidate, roots, expected_fields=[THEIR_FIELD], allow_new_fields=True)

    assert not check.ok
    assert "diubah" in check.reason, check.reason
    assert_indonesian(check.reason)
    assert check.diagnostic  # pyHanko's English stays available to support staff


def test_content_changed_before_pdfsig_signs_is_refused(sent, partner_nss, workdir, roots):
    candidate = pdfsig_sign(replace_page_content(sent, overlay=True), partner_nss, workdir)

    check = check_returned(sent, candidate, roots, expected_fields=[THEIR_FIELD], allow_new_fields=True)

    assert not check.ok and "sebelum mitra menandatanganinya" in check.reason


def test_a_content_stream_replaced_under_another_generation_is_refused(sent, returned, roots):
    """What lenient reading must not let through: ``N 1 obj`` for our page content ``N 0``.  A
    reader that ignores generations shows the new text while pyHanko sees an unused object."""
    signed = returned["pdfsig-sign"]
    number = _first_content_stream(signed)
    drawing = b"BT /F1 24 Tf 100 700 Td (Pasal 3 diganti) Tj ET"
    candidate = _append_update(
        signed, {(number, 1): b"<< /Length %d >>\nstream\n%s\nendstream" % (len(drawing), drawing)}
    )

    check = check_returned(sent, candidate, roots, expected_fields=[THEIR_FIELD], allow_new_fields=True)

    assert not check.ok and "diubah" in check.reason, check.reason
    assert "re-generated or freed" in check.diagnostic, check.diagnostic  # caught as a hidden replacement
    assert_indonesian(check.reason)
    # and the verifier, reading the same file leniently, calls the partner's signature modified
    report = verify_pdf(candidate, roots, allow_fetching=True)
    assert report.signatures[0].bottom_line == "modified" and not report.ok


def test_an_object_freed_while_the_document_still_uses_it_is_refused(sent, returned, roots):
    signed = returned["endesive-our-field"]
    number = _first_content_stream(signed)

    check = check_returned(
        sent, _append_update(signed, {}, freed=[number]), roots, expected_fields=[THEIR_FIELD], allow_new_fields=True
    )

    assert not check.ok and "diubah" in check.reason, check.reason
    assert "re-generated or freed" in check.diagnostic, check.diagnostic


def test_two_signatures_in_one_return_are_refused(sent, returned, partner_nss, workdir, roots):
    twice = pdfsig_sign(returned["pdfsig-sign"], partner_nss, workdir, field=None, new_field="ttd_kedua_lagi")

    check = check_returned(sent, twice, roots, expected_fields=[THEIR_FIELD], allow_new_fields=True)

    assert not check.ok and "satu tanda tangan" in check.reason, check.reason


def test_a_partner_certification_that_forbids_our_signature_is_refused(sent, endesive_partner, endesive_pki, roots):
    """endesive's "sign and certify" with no changes allowed: our Bupati could never sign after it."""
    candidate = endesive_sign(
        sent,
        endesive_partner,
        endesive_pki.tsa_url,
        signform=True,
        sigfield=THEIR_FIELD,
        sigpage=-1,
        signature=PARTNER,
        sigandcertify=True,
        sigflags=1,
    )

    check = check_returned(sent, candidate, roots, expected_fields=[THEIR_FIELD], allow_new_fields=True)

    assert not check.ok and check.code == "locked_by_partner"
    assert "mengunci" in check.reason and "persetujuan" in check.reason
    assert_indonesian(check.reason)


MALFORMED: dict[str, Callable[[bytes, bytes], bytes]] = {
    "truncated": lambda sent, signed: signed[: len(signed) - 700],
    "garbage_after_eof": lambda sent, signed: signed + b"\n\x00\xff sampah setelah akhir berkas " * 40,
    "broken_xref": lambda sent, signed: signed[: signed.rindex(b"startxref")] + b"startxref\n999999999\n%%EOF\n",
    "not_a_pdf": lambda sent, signed: b"PK\x03\x04 ini berkas zip, bukan PDF" * 10,
    "another_pdf": lambda sent, signed: signed.replace(b"%PDF-1.", b"%PDF-1.", 1)[:100] + sent[100:],
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_a_malformed_return_is_refused_in_indonesian_or_is_invalid_input(kind, sent, returned, roots):
    candidate = MALFORMED[kind](sent, returned["pdfsig-sign"])
    try:
        check = check_returned(sent, candidate, roots, expected_fields=[THEIR_FIELD], allow_new_fields=True)
    except InvalidInput as exc:
        assert_indonesian(exc.message)
        return
    assert not check.ok and check.reason
    assert_indonesian(check.reason)


# -- validation data and our countersignature ---------------------------------------------------


def test_validation_data_is_embedded_for_a_partner_signature_without_it(sent, returned, roots):
    signed = returned["pdfsig-sign"]
    assert not verify_pdf(signed, roots).ok  # offline: no OCSP/CRL in the file yet

    completed = embed_validation_data(signed, roots)

    assert completed.startswith(signed)
    report = verify_pdf(completed, roots)  # offline again
    assert report.ok, report.to_dict()
    assert report.after_last_signature == "validation data"


def test_a_partner_whose_revocation_status_cannot_be_had_is_refused_saying_what_to_send(
    tmp_path_factory, sent, workdir, dev_pki
):
    """A partner CA whose OCSP and CRL point nowhere (never served) and no LTV data in the file."""
    silent = DevPki.generate(tmp_path_factory.mktemp("pki") / "bisu", name="PSrE Bisu")
    person = silent.issue_person(PARTNER)
    nss = make_nss_db(tmp_path_factory.mktemp("nss-bisu"), person, [silent.roots_pem])
    signed = pdfsig_sign(sent, nss, workdir)
    roots = dev_pki.roots + silent.roots

    check = check_returned(sent, signed, roots, expected_fields=[THEIR_FIELD], allow_new_fields=True)
    assert not check.ok and check.code == "revocation_unavailable", (check.code, check.reason)
    assert "OCSP/CRL" in check.reason and "LTV" in check.reason
    assert_indonesian(check.reason)
    with pytest.raises(InvalidInput) as caught:
        embed_validation_data(signed, roots)
    assert caught.value.detail["reason"] == "revocation_unavailable" and "LTV" in caught.value.message


@pytest.mark.parametrize("kind", ["pdfsig-sign", "pdfsig-add-signature", "endesive-our-field", "endesive-own-field"])
def test_our_signature_follows_on_a_real_signers_file_and_everyone_verifies_it(
    kind, returned, roots, dev_pki, counterparty_pki, endesive_pki, signer_person, tmp_path_factory, workdir
):
    completed = embed_validation_data(returned[kind], roots)

    final = sign_pdf(
        completed,
        make_signer(signer_person),
        SignatureAppearance(nama="dr. Fahmi Fadli", jabatan="BUPATI PASER", tanggal=dt.date.today(), reference="KB"),
        SignOptions(field_name=OUR_FIELD, lock_document=True),
        timestamper=http_timestamper(dev_pki.tsa_url),
        validation_context=validation_context(roots),
    )

    report = verify_pdf(final, roots)
    assert report.ok, report.to_dict()
    assert [c.signer for c in report.signatures] == [PARTNER, signer_person.common_name]
    assert report.signatures[-1].docmdp_ok is not False
    # poppler, with an NSS database trusting all three roots, agrees
    judge = make_nss_db(
        tmp_path_factory.mktemp("nss-hakim"),
        dev_pki.issue_person("Pemeriksa"),
        [dev_pki.roots_pem, counterparty_pki.roots_pem, endesive_pki.roots_pem],
    )
    said = pdfsig_report(final, judge, workdir)
    assert said.count("Signature is Valid.") == 2, said
    assert said.count("Certificate is Trusted.") == 2, said


# -- raw incremental updates (what a hostile writer can do) -------------------------------------


def _first_content_stream(pdf: bytes) -> int:
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    contents = page.raw_get("/Contents")
    first = contents.raw_get(0) if isinstance(contents, generic.ArrayObject) else contents
    return int(first.idnum)


def _rewritten_widget(pdf: bytes, name: str, replacement: bytes) -> dict[tuple[int, int], bytes]:
    """The widget of field ``name`` written again with its ``/Rect`` replaced."""
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    for ref in reader.root["/AcroForm"]["/Fields"]:
        widget = ref.get_object()
        if widget.get("/T") == name:
            out = BytesIO()
            widget.write_to_stream(out, None)
            body = re.sub(rb"/Rect\s*\[[^\]]*\]", replacement, out.getvalue())
            return {(ref.idnum, ref.generation): body}
    raise AssertionError(f"no field {name}")


def _append_update(pdf: bytes, objects: dict[tuple[int, int], bytes], *, freed: list[int] = ()) -> bytes:
    """A classic incremental update written by hand: ``objects`` (number, generation) -> body,
    ``freed`` object numbers marked free; trailer chained to the previous one."""
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    trailer = reader.trailer
    prev = reader.xrefs.get_startxref_for_revision(reader.xrefs.total_revisions - 1)
    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    entries: dict[int, bytes] = {}
    for (number, generation), body in sorted(objects.items()):
        entries[number] = b"%010d %05d n\r\n" % (len(out), generation)
        out += b"%d %d obj\n%s\nendobj\n" % (number, generation, body)
    for number in freed:
        entries[number] = b"%010d %05d f\r\n" % (0, 1)
    xref_at = len(out)
    out += b"xref\n0 1\n0000000000 65535 f\r\n"
    for number in sorted(entries):
        out += b"%d 1\n%s" % (number, entries[number])
    root = trailer.raw_get("/Root")
    info = trailer.raw_get("/Info") if "/Info" in trailer else None
    size = int(trailer["/Size"])
    out += b"trailer\n<< /Size %d /Root %d %d R" % (size, root.idnum, root.generation)
    if info is not None:
        out += b" /Info %d %d R" % (info.idnum, info.generation)
    out += b" /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (prev, xref_at)
    return bytes(out)


# -- over the API: import, our signature, the archive ---------------------------------------------


@pytest.fixture
def desk_api(api, dev_pki, counterparty_pki):
    api.services.trust_roots = [*dev_pki.roots, *counterparty_pki.roots]
    api.services.tsa_url = dev_pki.tsa_url
    return api


def _exported(api) -> tuple[int, bytes]:
    nid = fully_initialled(api, "desk")
    r = api.client.post(f"/api/v1/naskah/{nid}/signature-plan", json={"mode": "desk"}, headers=api.auth("drafter"))
    assert r.status_code == 201, r.text
    return nid, api.client.get(f"/api/v1/naskah/{nid}/export", headers=api.auth("drafter")).content


def _import(api, nid: int, pdf: bytes):
    return api.client.post(
        f"/api/v1/naskah/{nid}/import",
        files={"file": ("balik.pdf", pdf, "application/pdf")},
        headers=api.auth("drafter"),
    )


def _bupati_signs(api, nid: int, dev_pki: DevPki):
    p12 = dev_pki.issue_person("dr. Fahmi Fadli").to_pkcs12("rahasia-bupati")
    return api.client.post(
        f"/api/v1/naskah/{nid}/sign",
        files={"p12": ("bupati.p12", p12, "application/x-pkcs12")},
        data={"passphrase": "rahasia-bupati"},
        headers=api.auth("bupati"),
    )


@pytest.mark.parametrize("services", ["postgres-s3"], indirect=True)
def test_pdfsig_return_over_the_api_is_imported_countersigned_and_archived(
    desk_api, dev_pki, counterparty_pki, partner_nss, workdir, tmp_path_factory
):
    api = desk_api
    nid, exported = _exported(api)
    pages = len(PdfReader(BytesIO(exported)).pages)

    r = _import(api, nid, pdfsig_sign(exported, partner_nss, workdir))

    assert r.status_code == 200, r.text
    step = r.json()["steps"][0]
    assert (step["signed_field"], step["signed_page"], step["signed_visible"]) == (THEIR_FIELD, pages, False)
    assert step["signer_subject"] and PARTNER in step["signer_subject"]
    history = api.client.get(f"/api/v1/naskah/{nid}/history", headers=api.auth("drafter")).json()["data"]
    note = history[-1]["note"]
    assert history[-1]["action"] == "import_signed" and THEIR_FIELD in note and f"halaman {pages}" in note, note

    assert _bupati_signs(api, nid, dev_pki).status_code == 200
    signed = api.client.get(f"/api/v1/naskah/{nid}/signed.pdf", headers=api.auth("secretariat")).content
    report = verify_pdf(signed, api.services.trust_roots)  # offline: the import embedded the partner's OCSP/CRL
    assert report.ok, report.to_dict()
    judge = make_nss_db(
        tmp_path_factory.mktemp("nss-api"),
        dev_pki.issue_person("Pemeriksa"),
        [dev_pki.roots_pem, counterparty_pki.roots_pem],
    )
    assert pdfsig_report(signed, judge, workdir).count("Signature is Valid.") == 2

    r = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat"))
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
def test_a_signature_in_a_field_of_their_own_is_recorded_and_our_field_stays_empty(
    desk_api, dev_pki, partner_nss, workdir
):
    api = desk_api
    nid, exported = _exported(api)

    r = _import(api, nid, pdfsig_sign(exported, partner_nss, workdir, field=None, new_field="ttd_walikota"))

    assert r.status_code == 200, r.text
    step = r.json()["steps"][0]
    assert (step["field_name"], step["signed_field"], step["signed_page"]) == (THEIR_FIELD, "ttd_walikota", 1)
    note = api.client.get(f"/api/v1/naskah/{nid}/history", headers=api.auth("drafter")).json()["data"][-1]["note"]
    assert "ttd_walikota" in note and "tidak tampak" in note and f"'{THEIR_FIELD}' tetap kosong" in note, note
    assert _bupati_signs(api, nid, dev_pki).status_code == 200
    r = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat"))
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
def test_a_malformed_or_hostile_return_is_a_4xx_in_indonesian_and_stores_nothing(desk_api, partner_nss, workdir):
    api = desk_api
    nid, exported = _exported(api)
    signed = pdfsig_sign(exported, partner_nss, workdir)
    store = api.services.store
    before = _stored_objects(api)
    candidates = {kind: make(exported, signed) for kind, make in MALFORMED.items()}
    candidates["content_changed_after_signing"] = replace_page_content(signed)
    candidates["hidden_replacement"] = _append_update(
        signed, {(_first_content_stream(signed), 1): b"<< /Length 0 >>\nstream\n\nendstream"}
    )

    for kind, candidate in candidates.items():
        r = _import(api, nid, candidate)
        assert 400 <= r.status_code < 500, (kind, r.status_code, r.text)
        body = r.json()
        assert body["detail"]["reason"], (kind, body)
        assert_indonesian(body["message"])

    assert _stored_objects(api) == before, store
    plan = api.client.get(f"/api/v1/naskah/{nid}/signature-plan", headers=api.auth("drafter")).json()
    assert plan["steps"][0]["status"] == "menunggu" and plan["next"] == 1


@pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
def test_the_archive_refusal_lists_every_problem_per_signature(desk_api, dev_pki, partner_nss, workdir):
    api = desk_api
    nid, exported = _exported(api)
    assert _import(api, nid, pdfsig_sign(exported, partner_nss, workdir)).status_code == 200
    assert _bupati_signs(api, nid, dev_pki).status_code == 200
    api.services.trust_roots = list(dev_pki.roots)  # the partner's root is no longer configured

    r = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat"))

    assert r.status_code == 422, r.text
    body = r.json()
    assert THEIR_FIELD in body["message"] and "dipercaya" in body["message"], body["message"]
    assert_indonesian(body["message"])
    problems = body["detail"]["problems"]
    assert any(THEIR_FIELD in p and "dipercaya" in p for p in problems), problems


def _stored_objects(api) -> int:
    from sqlmodel import select

    from pipeline.models import NaskahFile
    from storage.db import session_scope

    with session_scope(api.services.engine) as session:
        return len(session.exec(select(NaskahFile)).all())
