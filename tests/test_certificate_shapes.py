"""Signing over the API with certificates of many shapes: each one signs, or is refused with a reason.

Every shape of :data:`tests.fixtures.cert_shapes.SHAPES` is a PKCS#12 for the Bupati printed
in PIHAK KESATU ("dr. Fahmi Fadli"), uploaded to ``POST /naskah/{id}/sign``.  What signs is
judged by two validators the project did not write: pyHanko's and poppler's ``pdfsig`` (NSS,
with a database built here by ``certutil`` holding our root).  What is refused must be a 4xx
with ``detail.reason`` and an Indonesian message, nothing stored, never a 5xx.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext

from pipeline.sign.devpki import DevPki
from tests.fixtures.cert_shapes import SHAPES, issue_shape, nss_db, pdfsig
from tests.test_signing_backends import one_backend, state
from tests.test_signing_flow import fully_initialled

BUPATI = "dr. Fahmi Fadli"


@pytest.fixture(scope="module")
def untrusted_pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    """A CA that is not among the configured trust roots (never served: nothing may ask it)."""
    return DevPki.generate(tmp_path_factory.mktemp("pki") / "asing", name="CA Tak Dikenal")


@pytest.fixture(scope="module")
def nss(tmp_path_factory: pytest.TempPathFactory, dev_pki: DevPki, counterparty_pki: DevPki) -> Path:
    return nss_db(tmp_path_factory.mktemp("nss"), [*dev_pki.roots, *counterparty_pki.roots])


@pytest.fixture
def bupati_first(signers_api):
    """A fully initialled KB whose tatap muka plan has the Bupati sign first (PIHAK KESATU)."""
    api = signers_api
    nid = fully_initialled(api)
    steps = [{"pihak_urutan": 1, "username": "bupati"}, {"pihak_urutan": 2, "username": "walikota"}]
    r = api.client.post(
        f"/api/v1/naskah/{nid}/signature-plan", json={"mode": "tatap_muka", "steps": steps}, headers=api.auth("drafter")
    )
    assert r.status_code == 201, r.text
    return api, nid


def upload_sign(api, nid: int, who: str, p12: bytes, passphrase: str = "rahasia"):
    return api.client.post(
        f"/api/v1/naskah/{nid}/sign",
        files={"p12": ("ttd.p12", p12, "application/x-pkcs12")},
        data={"passphrase": passphrase, "location": "Tanah Grogot"},
        headers=api.auth(who),
    )


@one_backend
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_certificate_shape_signs_or_is_refused_with_a_reason_never_a_5xx(
    shape: str, bupati_first, dev_pki, counterparty_pki, untrusted_pki, nss, tmp_path
):
    api, nid = bupati_first
    expected = SHAPES[shape].refused
    issued = issue_shape(shape, BUPATI, dev_pki, untrusted_pki)
    before = state(api, nid)

    r = upload_sign(api, nid, "bupati", issued.to_pkcs12("rahasia"))

    assert r.status_code < 500, (r.status_code, r.text)
    body = r.json()  # always the JSON envelope, never a plain-text error page
    if expected is not None:
        assert r.status_code == 422, r.text
        assert body["code"] == "signing_refused" and body["detail"]["reason"] == expected, body
        assert body["message"] and "Traceback" not in body["message"]
        assert state(api, nid) == before  # nothing signed, nothing stored
        return
    assert r.status_code == 200, r.text
    assert body["next"] == 2 and body["pades_level"] == "B-LT"

    signed = api.client.get(f"/api/v1/naskah/{nid}/signed.pdf", headers=api.auth("secretariat")).content
    # pyHanko's own validator, with our roots, told the key usage we sign with (nonRepudiation OR
    # digitalSignature; pyHanko's default asks for nonRepudiation only)
    emb = PdfFileReader(io.BytesIO(signed)).embedded_regular_signatures[0]
    vc = ValidationContext(trust_roots=[*dev_pki.roots, *counterparty_pki.roots], allow_fetching=True)
    usage = KeyUsageConstraints(key_usage={"non_repudiation", "digital_signature"}, match_all_key_usages=False)
    status = validate_pdf_signature(emb, vc, key_usage_settings=usage)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.timestamp_validity is not None and status.timestamp_validity.valid
    # poppler's pdfsig (NSS), which shares no code with pyHanko
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    (poppler,) = pdfsig(path, nss)
    assert poppler.signature_valid and poppler.signer == BUPATI, poppler.text
    assert poppler.certificate_trusted is SHAPES[shape].nss_trusts, poppler.text
