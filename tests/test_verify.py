"""pipeline.sign.verify: what a verification report says about real files, and what it refuses to read."""

from __future__ import annotations

import datetime as dt
import json
from io import BytesIO

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers

from pipeline.errors import InvalidInput
from pipeline.sign.signing import http_timestamper, validation_context
from pipeline.sign.verify import verify_pdf
from tests.fixtures.pki import encrypt


@pytest.fixture(scope="module")
def signed(signed_by_bupati: bytes) -> bytes:
    return signed_by_bupati


@pytest.mark.parametrize("data", [b"", b"bukan pdf sama sekali", b"%PDF-1.7\n%garbage\n" + b"x" * 500])
def test_bytes_that_are_not_a_readable_pdf_are_refused(data, dev_pki):
    with pytest.raises(InvalidInput) as err:
        verify_pdf(data, dev_pki.roots)

    assert err.value.message.startswith("Berkas bukan PDF yang dapat dibaca")


def test_a_truncated_pdf_is_refused(signed, dev_pki):
    with pytest.raises(InvalidInput) as err:
        verify_pdf(signed[: len(signed) // 2], dev_pki.roots)

    assert err.value.detail["reason"] == "pdf_unreadable"


def test_an_encrypted_pdf_is_refused(final_pdf, dev_pki):
    with pytest.raises(InvalidInput) as err:
        verify_pdf(encrypt(final_pdf), dev_pki.roots)

    assert "terenkripsi" in err.value.message


def test_an_unsigned_pdf_is_not_ok(final_pdf, dev_pki):
    report = verify_pdf(final_pdf, dev_pki.roots)

    assert not report.ok
    assert report.bottom_line == "unsigned"
    assert report.signatures == []


def test_no_trust_roots_is_a_configuration_error(signed):
    with pytest.raises(InvalidInput):
        verify_pdf(signed, [])


def test_trust_roots_may_be_given_as_pem_file_or_bytes(signed, dev_pki):
    assert verify_pdf(signed, [dev_pki.roots_pem]).ok
    assert verify_pdf(signed, [dev_pki.roots_pem.read_bytes()]).ok
    assert verify_pdf(signed, [dev_pki.root.dump()]).ok


def test_report_is_json_ready(signed, dev_pki):
    data = verify_pdf(signed, dev_pki.roots).to_dict()

    text = json.dumps(data)
    assert data["ok"] is True and data["bottom_line"] == "ok"
    assert data["signatures"][0]["pades_level"] == "B-LT"
    assert "timestamp" in text


def test_a_corrupted_signature_value_is_reported_invalid_not_crashed(signed, dev_pki):
    reader = PdfFileReader(BytesIO(signed))
    raw_signature = reader.embedded_regular_signatures[0].signer_info["signature"].native
    start = signed.lower().index(raw_signature.hex().encode()) + 10
    corrupted = bytearray(signed)
    corrupted[start] = ord("0") if corrupted[start] != ord("0") else ord("1")

    report = verify_pdf(bytes(corrupted), dev_pki.roots)

    assert not report.ok
    assert report.bottom_line == "invalid"


def test_document_timestamp_after_validation_data_makes_b_lta(signed, dev_pki):
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    timestamper = signers.PdfTimeStamper(http_timestamper(dev_pki.tsa_url))
    out = timestamper.timestamp_pdf(writer, "sha256", validation_context=validation_context(dev_pki.roots))

    report = verify_pdf(out.getvalue(), dev_pki.roots)

    assert report.ok, report.to_dict()
    assert report.document_timestamps == 1
    assert report.after_last_signature == "document timestamp"
    assert report.signatures[0].pades_level == "B-LTA"


def test_an_archived_file_verifies_at_the_time_its_timestamp_proves(signed, dev_pki):
    (check,) = verify_pdf(signed, dev_pki.roots).signatures

    report = verify_pdf(signed, dev_pki.roots, moment=check.timestamp)

    assert report.ok, report.to_dict()


def test_embedded_revocation_data_goes_stale_for_validation_long_after_signing(signed, dev_pki):
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=60)

    report = verify_pdf(signed, dev_pki.roots, moment=later)

    assert not report.ok
    assert report.bottom_line == "untrusted"
