"""PAdES B-LTA for archived originals: a document timestamp over the signed file, and its renewal."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.archival.archive import add_document_timestamp, last_timestamp_expiry
from pipeline.errors import InvalidInput, ServiceUnavailable
from pipeline.sign.verify import verify_pdf
from tests.test_verify import signed  # noqa: F401 - the module-scoped B-LT fixture


def test_document_timestamp_makes_b_lta_and_keeps_every_signature_valid(signed, dev_pki):  # noqa: F811
    assert last_timestamp_expiry(signed) is None
    lta = add_document_timestamp(signed, dev_pki.tsa_url, dev_pki.roots)
    assert lta.startswith(signed)  # an incremental update: the signed bytes are untouched
    report = verify_pdf(lta, dev_pki.roots)
    assert report.ok and report.document_timestamps == 1, report.problems
    assert report.after_last_signature == "document timestamp"
    assert [s.pades_level for s in report.signatures] == ["B-LTA"]
    expiry = last_timestamp_expiry(lta)
    assert expiry is not None and expiry > dt.datetime.now(dt.UTC)

    renewed = add_document_timestamp(lta, dev_pki.tsa_url, dev_pki.roots)  # the renewal of the chain
    assert renewed.startswith(lta)
    again = verify_pdf(renewed, dev_pki.roots)
    assert again.ok and again.document_timestamps == 2, again.problems


def test_document_timestamp_refusals_change_nothing(signed, dev_pki, counterparty_pki):  # noqa: F811
    with pytest.raises(InvalidInput, match="TSA"):
        add_document_timestamp(signed, "", dev_pki.roots)
    with pytest.raises(InvalidInput, match="PDF"):
        add_document_timestamp(b"bukan pdf", dev_pki.tsa_url, dev_pki.roots)
    with pytest.raises(ServiceUnavailable):
        add_document_timestamp(signed, "http://127.0.0.1:9/tsa", dev_pki.roots)
    with pytest.raises(InvalidInput) as err:  # the TSA is not under the configured roots
        add_document_timestamp(signed, dev_pki.tsa_url, counterparty_pki.roots)
    assert err.value.detail["reason"] == "timestamp_chain_invalid"
