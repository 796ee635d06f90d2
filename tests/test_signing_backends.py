"""Signing over the API with the backend the admin configured for each official (NASKAH_SIGNERS_FILE).

Real backends, no mocks: a SoftHSM2 token (PKCS#11), the CSC and BSrE stand-ins of
tests/services running as separate processes.  The keys are issued by the session's dev PKIs
(live OCSP/CRL, so B-LT and the import check's revocation check are real) for the persons
printed in the signature blocks: PIHAK KESATU "dr. Fahmi Fadli" (the Bupati, the profile's
signer), PIHAK KEDUA "H. Rahmad Mas'ud, S.E., M.E." (the Wali Kota).

The flows run on one database x store combination: the other three add nothing to signing.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pkcs11
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
from pkcs11.util.rsa import decode_rsa_private_key
from pkcs11.util.x509 import decode_x509_certificate
from pyhanko.pdf_utils.reader import PdfFileReader

from api.config import Settings
from api.main import create_app
from pipeline.errors import InvalidInput
from pipeline.sign.devpki import DevPki, IssuedCert
from pipeline.sign.signer_config import check_signer_configs, load_signers_file
from pipeline.sign.verify import verify_pdf
from tests.fixtures.pki import WALIKOTA
from tests.fixtures.softhsm import SoftHsmToken
from tests.services import ServiceProcess, hash_secret, read_request_log
from tests.test_signing_flow import fully_initialled

BUPATI = "dr. Fahmi Fadli"
TOKEN_PIN_WRONG = "999999"
CSC_PIN = "482915"
BSRE_PASSPHRASE = "Rahasia-Bupati-Paser-2026"
NIK = {
    "ok": "6401011203800001",
    "tamper": "6401011203800002",
    "foreign": "6401011203800003",
    "double": "6401011203800004",
}

one_backend = pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)


# -- the signing services, with keys for the printed signers -----------------------------------


def _pem(cert: Any) -> bytes:
    return x509.load_der_x509_certificate(cert.dump()).public_bytes(serialization.Encoding.PEM)


def _write_key_and_chain(directory: Path, name: str, issued: IssuedCert) -> dict[str, Any]:
    key = issued.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (directory / f"{name}.key.pem").write_bytes(key)
    chain = []
    for index, cert in enumerate((issued.certificate, *issued.chain)):
        (directory / f"{name}-{index}.pem").write_bytes(_pem(cert))
        chain.append(f"{name}-{index}.pem")
    return {"key": f"{name}.key.pem", "chain": chain}


@dataclass(frozen=True)
class Service:
    base_url: str
    directory: Path
    credentials: dict[str, str]
    """What the application sends (CSC bearer token; BSrE Basic user and password)."""
    issued: IssuedCert


@pytest.fixture(scope="module")
def bupati_cert(dev_pki: DevPki) -> IssuedCert:
    return dev_pki.issue_person(BUPATI)


@pytest.fixture(scope="module")
def bupati_token(softhsm_token: SoftHsmToken, bupati_cert: IssuedCert, dev_pki: DevPki) -> dict[str, Any]:
    """The Bupati's key on the session's SoftHSM2 token (label ``bupati-api``), with the CA chain."""
    lib = pkcs11.lib(softhsm_token.module)
    with lib.get_token(token_label=softhsm_token.token_label).open(rw=True, user_pin=softhsm_token.user_pin) as s:
        der = bupati_cert.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
        key = decode_rsa_private_key(der)
        key.update(
            {
                pkcs11.Attribute.TOKEN: True,
                pkcs11.Attribute.LABEL: "bupati-api",
                pkcs11.Attribute.ID: b"\x42",
                pkcs11.Attribute.SIGN: True,
                pkcs11.Attribute.PRIVATE: True,
                pkcs11.Attribute.SENSITIVE: True,
                pkcs11.Attribute.EXTRACTABLE: False,
            }
        )
        s.create_object(key)
        for label, cert, object_id in (
            ("bupati-api", bupati_cert.certificate, b"\x42"),
            ("bupati-api-ca", dev_pki.intermediate, b"\x43"),
        ):
            attrs = decode_x509_certificate(cert.dump())
            attrs.update({pkcs11.Attribute.TOKEN: True, pkcs11.Attribute.LABEL: label, pkcs11.Attribute.ID: object_id})
            s.create_object(attrs)
    return {
        "kind": "pkcs11",
        "module": softhsm_token.module,
        "token_label": softhsm_token.token_label,
        "key_label": "bupati-api",
    }


@pytest.fixture(scope="module")
def csc_walikota(counterparty_pki: DevPki) -> Iterator[Service]:
    """tests/services/csc_server with the Wali Kota's credential (their PSrE's certificate)."""
    issued = counterparty_pki.issue_person(WALIKOTA)
    token = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="csc-api-") as tmp:
        directory = Path(tmp)
        entry = _write_key_and_chain(directory, "walikota", issued)
        entry.update({"pin": hash_secret(CSC_PIN), "auth": "PIN", "scal": 1})
        (directory / "credentials.json").write_text(json.dumps({"walikota": entry}), encoding="utf-8")
        process = ServiceProcess("tests.services.csc_server", directory, ["--keys", tmp, f"--token={token}"]).start()
        try:
            yield Service(process.base_url, directory, {"auth_token": token}, issued)
        finally:
            process.stop()


@pytest.fixture(scope="module")
def bsre_bupati(bupati_cert: IssuedCert) -> Iterator[Service]:
    """tests/services/bsre_server knowing the Bupati under four NIKs: one honest, three misbehaving."""
    with tempfile.TemporaryDirectory(prefix="bsre-api-") as tmp:
        directory = Path(tmp)
        files = _write_key_and_chain(directory, "bupati", bupati_cert)
        users = {
            nik: {
                **files,
                "email": "",
                "passphrase": hash_secret(BSRE_PASSPHRASE),
                "misbehave": None if mode == "ok" else mode,
            }
            for mode, nik in NIK.items()
        }
        (directory / "users.json").write_text(json.dumps(users), encoding="utf-8")
        user, password = "naskah-app", secrets.token_urlsafe(16)
        args = ["--keys", tmp, f"--basic-user={user}", f"--basic-pass={password}"]  # a secret may start with "-"
        process = ServiceProcess("tests.services.bsre_server", directory, args).start()
        try:
            yield Service(process.base_url, directory, {"username": user, "password": password}, bupati_cert)
        finally:
            process.stop()


# -- the API ------------------------------------------------------------------------------------


def configure(api, **entries: dict[str, Any]) -> None:
    """What NASKAH_SIGNERS_FILE would give, checked the same way."""
    api.services.signer_backends = check_signer_configs(entries, "uji")


def tatap_muka(api) -> int:
    nid = fully_initialled(api)
    steps = [{"pihak_urutan": 2, "username": "walikota"}, {"pihak_urutan": 1, "username": "bupati"}]
    r = api.client.post(
        f"/api/v1/naskah/{nid}/signature-plan", json={"mode": "tatap_muka", "steps": steps}, headers=api.auth("drafter")
    )
    assert r.status_code == 201, r.text
    return nid


def sign(api, nid: int, who: str, secret: str, **files: Any):
    return api.client.post(
        f"/api/v1/naskah/{nid}/sign",
        data={"passphrase": secret, "location": "Tanah Grogot"},
        files=files or None,
        headers=api.auth(who),
    )


def state(api, nid: int) -> tuple[int | None, str, str]:
    """(next step, naskah status, sha256 of the current PDF): what a refused signature must not change."""
    plan = api.client.get(f"/api/v1/naskah/{nid}/signature-plan", headers=api.auth("drafter")).json()
    status = api.client.get(f"/api/v1/naskah/{nid}", headers=api.auth("drafter")).json()["status"]
    pdf = api.client.get(f"/api/v1/naskah/{nid}/signed.pdf", headers=api.auth("drafter")).content
    return plan["next"], status, hashlib.sha256(pdf).hexdigest()


def refused(response: Any, reason: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "signing_refused" and body["detail"]["reason"] == reason, body
    return body


@one_backend
def test_tatap_muka_signed_with_a_csc_service_and_a_pkcs11_token(
    signers_api,
    csc_walikota: Service,
    bupati_token: dict[str, Any],
    softhsm_token: SoftHsmToken,
    dev_pki,
    counterparty_pki,
):
    api = signers_api
    csc = {"kind": "csc", "base_url": csc_walikota.base_url, "credential_id": "walikota", **csc_walikota.credentials}
    configure(api, walikota=csc, bupati=bupati_token)
    me = api.client.get("/api/v1/me/signer", headers=api.auth("walikota"))
    assert me.status_code == 200
    assert me.json() | {"backend": None} == {
        "configured": True,
        "kind": "csc",
        "secret": "PIN",
        "backend": None,
        "signer_id": None,
        "registered": None,
        "has_certificate": None,
    }
    assert csc_walikota.credentials["auth_token"] not in me.text
    assert api.client.get("/api/v1/me/signer", headers=api.auth("bupati")).json()["kind"] == "pkcs11"

    nid = tatap_muka(api)
    before = state(api, nid)
    body = refused(sign(api, nid, "walikota", TOKEN_PIN_WRONG), "wrong_pin")
    assert TOKEN_PIN_WRONG not in json.dumps(body)
    assert state(api, nid) == before == (1, "signing", before[2])

    r = sign(api, nid, "walikota", CSC_PIN)
    assert r.status_code == 200, r.text
    assert r.json()["next"] == 2
    paths = [entry["path"] for entry in read_request_log(csc_walikota.directory)]
    assert paths[-1] == "/csc/v1/signatures/signHash"  # only a digest went out

    middle = state(api, nid)
    refused(sign(api, nid, "bupati", TOKEN_PIN_WRONG), "wrong_pin")
    assert state(api, nid) == middle
    r = sign(api, nid, "bupati", softhsm_token.user_pin)
    assert r.status_code == 200, r.text
    assert r.json()["next"] is None
    assert [s["signer_subject"] is not None for s in r.json()["steps"]] == [True, True]
    assert api.client.get(f"/api/v1/naskah/{nid}", headers=api.auth("drafter")).json()["status"] == "signed"

    signed = api.client.get(f"/api/v1/naskah/{nid}/signed.pdf", headers=api.auth("secretariat")).content
    report = verify_pdf(signed, [*dev_pki.roots, *counterparty_pki.roots])
    assert report.ok, report.to_dict()
    assert [(s.field, s.signer, s.pades_level) for s in report.signatures] == [
        ("ttd_pihak_2", WALIKOTA, "B-LT"),
        ("ttd_pihak_1", BUPATI, "B-LT"),
    ]


@one_backend
def test_bsre_signs_the_bupati_step_and_a_bad_returned_file_is_refused(
    signers_api, bsre_bupati: Service, counterparty_pki, dev_pki
):
    api = signers_api
    bsre = {"kind": "bsre", "base_url": bsre_bupati.base_url, **bsre_bupati.credentials}
    configure(api, bupati={**bsre, "signer_id": NIK["ok"]})
    me = api.client.get("/api/v1/me/signer?check=true", headers=api.auth("bupati")).json()
    assert (me["kind"], me["secret"], me["registered"], me["has_certificate"]) == ("bsre", "passphrase", True, True)
    assert me["signer_id"] == "*" * 12 + NIK["ok"][-4:]
    assert bsre_bupati.credentials["password"] not in json.dumps(me)

    nid = tatap_muka(api)
    # the Wali Kota has no configured backend: the PKCS#12 upload still works next to the configured ones
    mitra_p12 = counterparty_pki.issue_person(WALIKOTA).to_pkcs12("m")
    r = sign(api, nid, "walikota", "m", p12=("k.p12", mitra_p12, "application/x-pkcs12"))
    assert r.status_code == 200, r.text
    before = state(api, nid)
    assert before[:2] == (2, "signing")

    for mode, reason, why in (
        ("tamper", "returned_file_rejected", "diubah"),  # a valid signature over a changed page
        ("foreign", "returned_file_rejected", "bukan kelanjutan"),  # another document, validly signed
        ("double", "unexpected_signature_count", "tepat satu"),
    ):
        configure(api, bupati={**bsre, "signer_id": NIK[mode]})
        body = refused(sign(api, nid, "bupati", BSRE_PASSPHRASE), reason)
        assert "ditolak" in body["message"] and why in body["message"], body
        assert state(api, nid) == before, mode

    configure(api, bupati={**bsre, "signer_id": NIK["ok"]})
    body = refused(sign(api, nid, "bupati", "bukan-passphrase"), "wrong_passphrase")
    assert "bukan-passphrase" not in json.dumps(body)
    assert state(api, nid) == before

    r = sign(api, nid, "bupati", BSRE_PASSPHRASE)
    assert r.status_code == 200, r.text
    assert r.json()["next"] is None and r.json()["steps"][1]["signer_subject"]
    assert api.client.get(f"/api/v1/naskah/{nid}", headers=api.auth("drafter")).json()["status"] == "signed"

    signed = api.client.get(f"/api/v1/naskah/{nid}/signed.pdf", headers=api.auth("secretariat")).content
    # BSrE's signature comes back B-B; on acceptance its validation data is embedded and a document
    # timestamp is put over it, so it reaches the required B-LT and verifies offline
    report = verify_pdf(signed, [*dev_pki.roots, *counterparty_pki.roots])
    assert report.ok, report.to_dict()
    assert report.after_last_signature == "document timestamp" and report.document_timestamps == 1
    # the document timestamp also covers the Wali Kota's B-LT signature and its validation data: B-LTA
    assert [s.pades_level for s in report.signatures] == ["B-LTA", "B-LT"]
    assert report.signatures[1].timestamp is None  # the service's own signature carries no timestamp
    assert [s.signer for s in report.signatures] == [WALIKOTA, BUPATI]
    assert report.signatures[0].field == "ttd_pihak_2" and report.signatures[1].field.startswith("BSrE_")
    # the service placed its field exactly over our (still empty) field of PIHAK KESATU
    fields = {str(e.field_name): e.sig_field for e in PdfFileReader(io.BytesIO(signed)).embedded_regular_signatures}
    ours = next(w for w in _sig_widgets(signed) if w["/T"] == "ttd_pihak_1")
    assert [float(v) for v in fields[report.signatures[1].field]["/Rect"]] == [float(v) for v in ours["/Rect"]]


def _sig_widgets(pdf: bytes) -> list[Any]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return [
        a.get_object()
        for page in reader.pages
        for a in page.get("/Annots") or []
        if a.get_object().get("/FT") == "/Sig"
    ]


@one_backend
def test_no_p12_and_no_configured_signer_is_explained(signers_api):
    api = signers_api
    me = api.client.get("/api/v1/me/signer", headers=api.auth("bupati")).json()
    assert me["configured"] is False and me["secret"] == "passphrase"
    r = api.client.post("/api/v1/naskah/1/sign", data={"passphrase": "x"}, headers=api.auth("bupati"))
    assert r.status_code == 422, r.text
    assert r.json()["detail"]["reason"] == "no_signer_configured"
    assert "PKCS#12" in r.json()["message"] and "admin" in r.json()["message"]


# -- the signers file ---------------------------------------------------------------------------


def test_signers_file_is_read_and_checked(tmp_path: Path):
    yaml_file = tmp_path / "signers.yaml"
    yaml_file.write_text(
        "bupati:\n  kind: bsre\n  base_url: http://bsre.local\n  username: app\n  password: pw\n"
        '  signer_id: "6401011203800001"\n'
        "sekda:\n  kind: pkcs11\n  token_label: naskah\n  key_label: sekda\n",
        encoding="utf-8",
    )
    loaded = Settings(signers_file=str(yaml_file)).signer_backends
    assert loaded["bupati"]["signer_id"] == "6401011203800001" and loaded["sekda"]["kind"] == "pkcs11"
    toml_file = tmp_path / "signers.toml"
    toml_file.write_text('[walikota]\nkind = "csc"\nbase_url = "http://csc.local"\ncredential_id = "c1"\n')
    assert load_signers_file(toml_file)["walikota"]["credential_id"] == "c1"
    assert Settings().signer_backends == {}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("bupati:\n  kind: pkcs11\n  token_label: t\n  key_label: k\n  pin: '1234'\n", "secret_in_signer_config"),
        ("bupati:\n  kind: bsre\n  base_url: x\n  username: u\n  password: p\n", "missing_signer_id"),
        (
            "bupati:\n  kind: bsre\n  base_url: x\n  username: u\n  password: p\n  signer_id: 6401\n",
            "missing_signer_id",
        ),
        ("bupati:\n  kind: csc\n  base_url: x\n  credential_id: c\n  signer_id: '1'\n", "invalid_signer_config"),
        ("bupati:\n  kind: gpg\n", "invalid_signer_config"),
        ("- bupati\n", "invalid_signer_config"),
    ],
)
def test_a_bad_signers_file_names_the_file_and_the_entry(tmp_path: Path, text: str, reason: str):
    path = tmp_path / "signers.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as info:
        load_signers_file(path)
    assert info.value.detail["reason"] == reason
    assert str(path) in info.value.message
    if reason != "invalid_signer_config" or "kind" in text:
        assert "'bupati'" in info.value.message
    assert "1234" not in info.value.message + repr(info.value.detail)


def test_a_signers_file_with_a_secret_stops_the_start_up(tmp_path: Path):
    path = tmp_path / "signers.yaml"
    path.write_text("bupati:\n  kind: pkcs11\n  token_label: t\n  key_label: k\n  user_pin: '1234'\n")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/naskah.db",
        storage_url=f"file:{tmp_path}/objects",
        converter="cold",
        signers_file=str(path),
    )
    with pytest.raises(InvalidInput) as info, TestClient(create_app(settings)):
        pass
    assert info.value.detail["reason"] == "secret_in_signer_config"
    assert "'bupati'" in info.value.message and str(path) in info.value.message
    assert not (tmp_path / "naskah.db").exists()  # nothing was opened before the file was checked
