"""Desk to desk: the partner signs our final PDF with THEIR CA, outside our code, and sends it back.

The partner's signature is made with a plain pyHanko call (their software, not ours); the
import check must accept exactly "our bytes + their signature" and refuse everything else.
"""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from pipeline.errors import InvalidInput
from pipeline.sign.desk import check_returned, export_for_counterparty
from pipeline.sign.devpki import DevPki, IssuedCert
from pipeline.sign.signing import SignatureAppearance, SignOptions, http_timestamper, sign_pdf, validation_context
from pipeline.sign.verify import verify_pdf
from tests.fixtures.converter import sample_docx
from tests.fixtures.pki import (
    FIELD_KEDUA,
    FIELD_KESATU,
    add_annotation,
    append_page_incremental,
    make_signer,
    replace_page_content,
    with_signature_fields,
)


def partner_signs(
    pdf: bytes, pki: DevPki, person: IssuedCert, field: str = FIELD_KEDUA, *, edit_in_same_revision: bool = False
) -> bytes:
    """The partner's own software: plain pyHanko, their key, their TSA, B-LT (optionally also
    painting over page 1 in the very update that carries the signature)."""
    signer = signers.SimpleSigner(
        signing_cert=person.certificate,
        signing_key=person.key_info,
        cert_registry=SimpleCertificateStore.from_certs(list(person.chain)),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=field,
        subfilter=SigSeedSubFilter.PADES,
        reason="Menyetujui",
        embed_validation_info=True,
        validation_context=ValidationContext(trust_roots=pki.roots, allow_fetching=True, revocation_mode="require"),
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    if edit_in_same_revision:
        page_ref, _ = writer.find_page_for_modification(0)
        page = page_ref.get_object()
        page["/Contents"] = writer.add_object(generic.StreamObject(stream_data=b"q 1 1 1 rg 0 0 600 800 re f Q"))
        writer.update_container(page)
    out = signers.PdfSigner(meta, signer, timestamper=HTTPTimeStamper(pki.tsa_url)).sign_pdf(writer)
    return out.getvalue()


@pytest.fixture(scope="module")
def sent(final_pdf: bytes) -> bytes:
    return export_for_counterparty(final_pdf)


@pytest.fixture(scope="module")
def returned(sent: bytes, counterparty_pki: DevPki, counterparty_person: IssuedCert) -> bytes:
    return partner_signs(sent, counterparty_pki, counterparty_person)


@pytest.fixture(scope="module")
def both_roots(dev_pki: DevPki, counterparty_pki: DevPki) -> list:
    return dev_pki.roots + counterparty_pki.roots


def test_export_sends_exactly_the_final_pdf(final_pdf, sent):
    assert sent == final_pdf


def test_partner_signature_from_their_ca_is_accepted_when_their_root_is_configured(sent, returned, both_roots):
    check = check_returned(sent, returned, both_roots, expected_fields=[FIELD_KEDUA])

    assert check.ok, check.reason
    assert check.reason is None and check.bottom_line == "accepted"
    assert [c.signer for c in check.new_signatures] == ["Dr. H. Rahmad Mas'ud, S.E., M.E."]
    assert check.report is not None and check.report.ok


def _edit_then_sign(sent, pki, person):
    return partner_signs(replace_page_content(sent, overlay=True), pki, person)


def _different_base(converter, pki, person):
    other = with_signature_fields(converter.to_pdf(sample_docx(2)))
    return partner_signs(other, pki, person)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        ("text_edited_after_signing", "diubah"),
        ("text_edited_before_signing", "sebelum mitra menandatanganinya"),
        ("text_edited_in_the_signing_update", "diubah"),
        ("page_added", "diubah"),
        ("annotation_added", "diubah"),
        ("different_base", "bukan kelanjutan"),
        ("no_new_signature", "tidak memuat tanda tangan baru"),
        ("unexpected_field", "tidak diharapkan"),
    ],
)
def test_returned_file_is_refused_with_a_reason(
    make, words, sent, returned, both_roots, converter, counterparty_pki, counterparty_person
):
    expected_fields = [FIELD_KEDUA]
    if make == "text_edited_after_signing":
        candidate = replace_page_content(returned)
    elif make == "text_edited_before_signing":
        candidate = _edit_then_sign(sent, counterparty_pki, counterparty_person)
    elif make == "text_edited_in_the_signing_update":
        candidate = partner_signs(sent, counterparty_pki, counterparty_person, edit_in_same_revision=True)
        assert verify_pdf(candidate, both_roots).ok  # the signature itself is fine: it signed the edit
    elif make == "page_added":
        candidate = append_page_incremental(returned)
    elif make == "annotation_added":
        candidate = add_annotation(returned)
    elif make == "different_base":
        candidate = _different_base(converter, counterparty_pki, counterparty_person)
    elif make == "no_new_signature":
        candidate = sent
    else:
        candidate = returned
        expected_fields = [FIELD_KESATU]

    check = check_returned(sent, candidate, both_roots, expected_fields=expected_fields)

    assert not check.ok
    assert check.bottom_line == "refused"
    assert check.reason is not None and words in check.reason, check.reason


def test_a_signature_in_a_field_of_its_own_needs_allow_new_fields(
    sent, both_roots, counterparty_pki, counterparty_person
):
    """A signing service that names its own field (BSrE v1): accepted only when the caller says so."""
    candidate = partner_signs(sent, counterparty_pki, counterparty_person, field="BSrE_0a1b2c3d")

    default = check_returned(sent, candidate, both_roots, expected_fields=[FIELD_KEDUA])
    assert not default.ok and "tidak diharapkan" in default.reason

    allowed = check_returned(sent, candidate, both_roots, expected_fields=[FIELD_KEDUA], allow_new_fields=True)
    assert allowed.ok, allowed.reason
    assert [c.field for c in allowed.new_signatures] == ["BSrE_0a1b2c3d"]


def test_allow_new_fields_never_admits_another_party_s_existing_field(sent, returned, both_roots):
    check = check_returned(sent, returned, both_roots, expected_fields=[FIELD_KESATU], allow_new_fields=True)

    assert not check.ok
    assert "tidak diharapkan" in check.reason and FIELD_KEDUA in check.reason


def test_signature_from_a_ca_we_do_not_trust_is_refused(sent, returned, dev_pki):
    check = check_returned(sent, returned, dev_pki.roots)

    assert not check.ok and check.code == "untrusted_chain"
    assert "tidak berantai ke CA yang kami percayai" in check.reason and "NASKAH_TRUST_ROOTS" in check.reason


def test_garbage_returned_is_invalid_input(sent, both_roots):
    with pytest.raises(InvalidInput):
        check_returned(sent, b"bukan pdf", both_roots)


def test_our_signature_after_import_leaves_every_signature_valid(
    sent, returned, both_roots, dev_pki, counterparty_pki, signer_person
):
    assert check_returned(sent, returned, both_roots).ok
    roots = dev_pki.roots + counterparty_pki.roots

    final = sign_pdf(
        returned,
        make_signer(signer_person),
        SignatureAppearance(
            nama="Dr. H. Fahmi Fadli, M.Si.", jabatan="BUPATI PASER", tanggal=dt.date(2025, 3, 14), reference="KB-7"
        ),
        SignOptions(field_name=FIELD_KESATU, lock_document=True),
        timestamper=http_timestamper(dev_pki.tsa_url),
        validation_context=validation_context(roots),
    )

    report = verify_pdf(final, roots)
    assert report.ok, report.to_dict()
    assert [(c.field, c.bottom_line) for c in report.signatures] == [(FIELD_KEDUA, "ok"), (FIELD_KESATU, "ok")]
    assert {c.signer for c in report.signatures} == {"Dr. H. Rahmad Mas'ud, S.E., M.E.", "Dr. H. Fahmi Fadli, M.Si."}
