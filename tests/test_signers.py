"""pipeline.sign.signers: every backend signs a PDF that pyHanko judges intact, valid and trusted; every
wrong secret is refused with a reason code and never reaches a log; remote failures are
ServiceUnavailable and are not retried.

The services are real processes (tests/services), the token is a real SoftHSM2 token, the PKI is
generated for this session.  No mocks.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers as pyhanko_signers
from pyhanko.sign.validation.status import PdfSignatureStatus

from pipeline.errors import InvalidInput, ServiceUnavailable
from pipeline.sign.signers import (
    BsreBackend,
    CscBackend,
    DigestSignerBackend,
    Pkcs11Backend,
    Pkcs12Backend,
    RemoteSignRequest,
    SignerBackend,
    SigningSession,
    WholeFileSignerBackend,
    open_backend,
)
from tests.fixtures.signer_pki import (
    BsreService,
    CscService,
    SignerPki,
    sample_pdf,
    validate_signature,
    write_csc_keys,
)
from tests.fixtures.softhsm import SoftHsmToken
from tests.services import ServiceProcess, free_port, read_request_log

PASSPHRASE = "Kunci-Bupati-Sukamaju-2024"
WRONG_SECRET = "SalahSekali-9f3Q-jangan-dicatat"
BUPATI_NIK = "3520011203800001"
NO_CERT_NIK = "3520011203800002"
FAILING_NIK = "3520011203800003"
SLOW_NIK = "3520011203800004"


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return sample_pdf(pages=3)


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture every logger at DEBUG, so a secret leaking through any library would show up."""
    caplog.set_level(logging.DEBUG)
    return caplog


def sign_with(signer: pyhanko_signers.Signer, pdf: bytes, field_name: str = "ttd_pihak_kesatu") -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = pyhanko_signers.PdfSignatureMetadata(field_name=field_name, reason="Persetujuan", location="Sukamaju")
    return pyhanko_signers.sign_pdf(writer, meta, signer=signer).getvalue()


def assert_valid(signed: bytes, pki: SignerPki, certificate: x509.Certificate) -> PdfSignatureStatus:
    status = validate_signature(signed, pki)
    assert status.intact, status.pretty_print_details()
    assert status.valid, status.pretty_print_details()
    assert status.trusted, status.pretty_print_details()
    assert status.bottom_line
    assert status.signing_cert.dump() == certificate.dump()
    return status


def assert_secret_hidden(secret: str, logs: pytest.LogCaptureFixture, error: BaseException | None = None) -> None:
    assert logs.records, "nothing was logged: the check would be empty"
    assert secret not in logs.text
    for record in logs.records:
        assert secret not in record.getMessage()
        assert secret not in repr(record.args)
    if error is not None:
        assert secret not in str(error)
        assert secret not in repr(getattr(error, "detail", None))


def expect_error(error_type: type[Exception], action: Callable[[], Any]) -> Any:
    with pytest.raises(error_type) as info:
        action()
    return info.value


# ----------------------------------------------------------------------------------------------
# PKCS#12


@pytest.mark.parametrize("key_type", ["rsa", "ec"])
def test_pkcs12_signature_is_intact_valid_and_trusted(
    signer_pki: SignerPki, pdf: bytes, key_type: str, debug_logs: pytest.LogCaptureFixture
):
    issued = signer_pki.issue(f"Bupati Sukamaju ({key_type})", key_type=key_type)
    backend = Pkcs12Backend(data=signer_pki.pkcs12(issued, PASSPHRASE))
    with backend.open(PASSPHRASE) as session:
        assert isinstance(session, SigningSession)
        assert session.certificate.dump() == issued.asn1_cert.dump()
        signed = sign_with(session.signer, pdf)
    assert_valid(signed, signer_pki, issued.asn1_cert)
    assert_secret_hidden(PASSPHRASE, debug_logs)


def test_pkcs12_wrong_passphrase_is_refused_and_never_logged(
    signer_pki: SignerPki, tmp_path: Path, debug_logs: pytest.LogCaptureFixture
):
    p12 = tmp_path / "bupati.p12"
    p12.write_bytes(signer_pki.pkcs12(signer_pki.issue("Bupati Sukamaju"), PASSPHRASE))
    error = expect_error(InvalidInput, lambda: Pkcs12Backend(path=p12).open(WRONG_SECRET))
    assert error.detail["reason"] == "wrong_passphrase"
    assert "Passphrase salah" in error.message
    assert_secret_hidden(WRONG_SECRET, debug_logs, error)


def test_pkcs12_broken_file_is_not_reported_as_wrong_passphrase():
    error = expect_error(InvalidInput, lambda: Pkcs12Backend(data=b"bukan berkas pkcs12").open(PASSPHRASE))
    assert error.detail["reason"] == "invalid_keystore"


def test_pkcs12_session_parses_the_key_once_for_many_signatures(
    signer_pki: SignerPki, pdf: bytes, monkeypatch: pytest.MonkeyPatch
):
    """Spy on the two ways a key gets parsed (PKCS#12 decryption, DER private key loading), counting
    calls while passing them through.  The control shows the spy sees pyHanko's SimpleSigner
    re-parsing at every signature, so a zero for our session means something."""
    issued = signer_pki.issue("Bupati Sukamaju")
    backend = Pkcs12Backend(data=signer_pki.pkcs12(issued, PASSPHRASE))
    parses: list[str] = []
    real_der, real_p12 = serialization.load_der_private_key, pkcs12.load_key_and_certificates

    def spy_der(*args: Any, **kwargs: Any) -> Any:
        parses.append("der")
        return real_der(*args, **kwargs)

    def spy_p12(*args: Any, **kwargs: Any) -> Any:
        parses.append("pkcs12")
        return real_p12(*args, **kwargs)

    monkeypatch.setattr(serialization, "load_der_private_key", spy_der)
    monkeypatch.setattr(pkcs12, "load_key_and_certificates", spy_p12)

    control = pyhanko_signers.SimpleSigner.load_pkcs12_data(
        signer_pki.pkcs12(issued, PASSPHRASE), other_certs=[], passphrase=PASSPHRASE.encode()
    )
    parses.clear()
    sign_with(control, pdf)
    assert parses.count("der") >= 1, "the spy does not see pyHanko's key parsing"

    parses.clear()
    with backend.open(PASSPHRASE) as session:
        assert parses == ["pkcs12"]
        first = sign_with(session.signer, pdf, "ttd_pihak_kesatu")
        second = sign_with(session.signer, first, "ttd_pihak_kedua")
    assert parses == ["pkcs12"], "the session parsed the key again while signing"
    assert_valid(second, signer_pki, issued.asn1_cert)
    assert validate_signature(second, signer_pki, index=0).bottom_line


def test_pkcs12_closed_session_cannot_sign(signer_pki: SignerPki, pdf: bytes):
    backend = Pkcs12Backend(data=signer_pki.pkcs12(signer_pki.issue("Bupati Sukamaju"), PASSPHRASE))
    session = backend.open(PASSPHRASE)
    signer = session.signer
    session.close()
    session.close()  # idempotent
    with pytest.raises(RuntimeError):
        _ = session.signer
    with pytest.raises(Exception, match="closed"):
        sign_with(signer, pdf)


# ----------------------------------------------------------------------------------------------
# PKCS#11 (SoftHSM2)


def pkcs11_backend(token: SoftHsmToken, **changes: Any) -> Pkcs11Backend:
    backend = Pkcs11Backend(module=token.module, token_label=token.token_label, key_label=token.key_label)
    return replace(backend, **changes)


def test_pkcs11_signature_is_intact_valid_and_trusted(
    softhsm_token: SoftHsmToken, signer_pki: SignerPki, pdf: bytes, debug_logs: pytest.LogCaptureFixture
):
    backend = pkcs11_backend(softhsm_token)
    assert isinstance(backend, DigestSignerBackend)
    with backend.open(softhsm_token.user_pin) as session:
        assert session.certificate.dump() == softhsm_token.signer.asn1_cert.dump()
        first = sign_with(session.signer, pdf, "ttd_pihak_kesatu")
        second = sign_with(session.signer, first, "ttd_pihak_kedua")
    assert_valid(second, signer_pki, softhsm_token.signer.asn1_cert)
    assert_valid(first, signer_pki, softhsm_token.signer.asn1_cert)
    # the session logged out: the same PIN opens a new one
    with backend.open(softhsm_token.user_pin) as again:
        assert again.certificate.dump() == softhsm_token.signer.asn1_cert.dump()


def test_pkcs11_wrong_pin_is_refused_and_never_logged(
    softhsm_token: SoftHsmToken, debug_logs: pytest.LogCaptureFixture
):
    error = expect_error(InvalidInput, lambda: pkcs11_backend(softhsm_token).open(WRONG_SECRET))
    assert error.detail["reason"] == "wrong_pin"
    assert_secret_hidden(WRONG_SECRET, debug_logs, error)


def test_pkcs11_second_sitting_on_an_open_token_is_refused_not_merged(softhsm_token: SoftHsmToken):
    """PKCS#11 logs in per process and token: a second open() must not ride on the first login."""
    backend = pkcs11_backend(softhsm_token)
    with backend.open(softhsm_token.user_pin):
        error = expect_error(ServiceUnavailable, lambda: backend.open(WRONG_SECRET))
        assert error.detail["reason"] == "token_busy"
    with backend.open(softhsm_token.user_pin) as session:
        assert session.certificate.dump() == softhsm_token.signer.asn1_cert.dump()


def test_pkcs11_missing_certificate_is_named(softhsm_token: SoftHsmToken):
    backend = pkcs11_backend(softhsm_token, key_label="tidak-ada")
    error = expect_error(InvalidInput, lambda: backend.open(softhsm_token.user_pin))
    assert error.detail["reason"] == "no_certificate"


def test_pkcs11_unknown_token_is_service_unavailable(softhsm_token: SoftHsmToken):
    backend = pkcs11_backend(softhsm_token, token_label="token-lain")
    error = expect_error(ServiceUnavailable, lambda: backend.open(softhsm_token.user_pin))
    assert error.detail["reason"] == "token_unavailable"


# ----------------------------------------------------------------------------------------------
# CSC


def csc_backend(service: CscService, credential_id: str = "pejabat-1", **kwargs: Any) -> CscBackend:
    return CscBackend(service.base_url, credential_id, auth_token=service.token, **kwargs)


def test_csc_signature_is_valid_and_only_a_digest_crosses_the_wire(
    csc_service: CscService, signer_pki: SignerPki, pdf: bytes, debug_logs: pytest.LogCaptureFixture
):
    assert len(pdf) > 4 * 4096  # the document is far larger than any request the service may receive
    before = len(read_request_log(csc_service.directory))
    pin = csc_service.pins["pejabat-1"]
    with csc_backend(csc_service).open(pin) as session:
        signed = sign_with(session.signer, pdf)
    issued = csc_service.credentials["pejabat-1"]
    assert_valid(signed, signer_pki, issued.asn1_cert)
    requests = read_request_log(csc_service.directory)[before:]
    paths = [r["path"] for r in requests]
    assert paths == ["/csc/v1/credentials/info", "/csc/v1/credentials/authorize", "/csc/v1/signatures/signHash"]
    assert all(r["status"] == 200 for r in requests)
    assert max(r["body_size"] for r in requests) < 4096
    assert_secret_hidden(pin, debug_logs)


def test_csc_wrong_pin_is_refused_when_the_session_opens_and_never_logged(
    csc_service: CscService, debug_logs: pytest.LogCaptureFixture
):
    error = expect_error(InvalidInput, lambda: csc_backend(csc_service).open(WRONG_SECRET))
    assert error.detail["reason"] == "wrong_pin"
    assert error.detail["service_error"] == "invalid_pin"
    assert_secret_hidden(WRONG_SECRET, debug_logs, error)


def test_csc_session_authorises_only_the_agreed_number_of_signatures(
    csc_service: CscService, signer_pki: SignerPki, pdf: bytes
):
    backend = csc_backend(csc_service, signatures_per_session=2)
    issued = csc_service.credentials["pejabat-1"]
    with backend.open(csc_service.pins["pejabat-1"]) as session:
        first = sign_with(session.signer, pdf, "ttd_1")
        second = sign_with(session.signer, first, "ttd_2")
        error = expect_error(InvalidInput, lambda: sign_with(session.signer, second, "ttd_3"))
    assert error.detail["reason"] == "authorisation_used_up"
    assert_valid(second, signer_pki, issued.asn1_cert)


def test_csc_hash_bound_credential_signs_and_refuses_a_wrong_pin(
    csc_service: CscService, signer_pki: SignerPki, pdf: bytes, debug_logs: pytest.LogCaptureFixture
):
    """SCAL 2: the SAD is bound to the hash, so the PIN is checked at signing time."""
    backend = csc_backend(csc_service, "pejabat-scal2")
    with backend.open(csc_service.pins["pejabat-scal2"]) as session:
        signed = sign_with(session.signer, pdf)
    assert_valid(signed, signer_pki, csc_service.credentials["pejabat-scal2"].asn1_cert)

    with backend.open(WRONG_SECRET) as session:
        error = expect_error(InvalidInput, lambda: sign_with(session.signer, pdf))
    assert error.detail["reason"] == "wrong_pin"
    assert_secret_hidden(WRONG_SECRET, debug_logs, error)


def test_csc_otp_credential_sends_the_secret_as_otp(csc_service: CscService, signer_pki: SignerPki, pdf: bytes):
    backend = csc_backend(csc_service, "pejabat-otp", secret_kind="OTP")
    with backend.open(csc_service.pins["pejabat-otp"]) as session:
        signed = sign_with(session.signer, pdf)
    assert_valid(signed, signer_pki, csc_service.credentials["pejabat-otp"].asn1_cert)
    error = expect_error(InvalidInput, lambda: backend.open(WRONG_SECRET))
    assert error.detail["reason"] == "wrong_otp"


def test_csc_unknown_credential_is_not_registered(csc_service: CscService):
    error = expect_error(InvalidInput, lambda: csc_backend(csc_service, "tidak-ada").open("0000"))
    assert error.detail["reason"] == "not_registered"


def test_csc_wrong_service_token_is_service_unavailable(csc_service: CscService):
    backend = CscBackend(csc_service.base_url, "pejabat-1", auth_token="token-salah")
    error = expect_error(ServiceUnavailable, lambda: backend.open(csc_service.pins["pejabat-1"]))
    assert error.detail["reason"] == "service_rejected_credentials"


def test_csc_service_stopped_after_authorisation_is_service_unavailable_at_signing(
    signer_pki: SignerPki, tmp_path: Path, pdf: bytes
):
    write_csc_keys(tmp_path, signer_pki, {"sekda": {"pin": "112233"}})
    process = ServiceProcess("tests.services.csc_server", tmp_path, ["--keys", str(tmp_path), "--token", "t"]).start()
    try:
        session = CscBackend(process.base_url, "sekda", auth_token="t").open("112233")
    finally:
        process.stop()
    with session:
        error = expect_error(ServiceUnavailable, lambda: sign_with(session.signer, pdf))
    assert error.detail["reason"] == "service_unavailable"
    assert [r["path"] for r in read_request_log(tmp_path)][-1] == "/csc/v1/credentials/authorize"


def test_csc_service_down_is_service_unavailable():
    backend = CscBackend(f"http://127.0.0.1:{free_port()}", "pejabat-1", auth_token="x", timeout=5)
    started = time.monotonic()
    error = expect_error(ServiceUnavailable, lambda: backend.open("246810"))
    assert time.monotonic() - started < 5
    assert error.detail["reason"] == "service_unavailable"


# ----------------------------------------------------------------------------------------------
# BSrE esign-client


def bsre_backend(service: BsreService, **kwargs: Any) -> BsreBackend:
    return BsreBackend(service.base_url, service.username, service.password, **kwargs)


def bsre_request(signer_id: str = BUPATI_NIK, *, visible: bool = True) -> RemoteSignRequest:
    return RemoteSignRequest(
        signer_id=signer_id,
        field_name="ttd_pihak_kesatu",
        page=3,
        box=(360.0, 80.0, 540.0, 150.0) if visible else None,
        reason="Menyetujui Kesepakatan Bersama",
        location="Sukamaju",
        visible=visible,
    )


def sign_posts(service: BsreService) -> int:
    return sum(1 for r in read_request_log(service.directory) if r["path"] == "/api/sign/pdf")


@pytest.mark.parametrize("visible", [True, False])
def test_bsre_returned_file_is_our_bytes_plus_a_valid_signature(
    bsre_service: BsreService, signer_pki: SignerPki, pdf: bytes, visible: bool, debug_logs: pytest.LogCaptureFixture
):
    backend = bsre_backend(bsre_service)
    assert isinstance(backend, WholeFileSignerBackend)
    passphrase = bsre_service.passphrases[BUPATI_NIK]
    signed = backend.sign_file(pdf, bsre_request(visible=visible), passphrase)
    assert signed[: len(pdf)] == pdf
    issued = bsre_service.users[BUPATI_NIK]
    assert issued is not None
    status = assert_valid(signed, signer_pki, issued.asn1_cert)
    assert status.coverage.name == "ENTIRE_FILE"
    reader = PdfFileReader(io.BytesIO(signed))
    assert len(reader.embedded_signatures) == 1
    rect = [float(v) for v in reader.embedded_signatures[0].sig_field["/Rect"]]
    assert rect == ([360.0, 80.0, 540.0, 150.0] if visible else [0.0, 0.0, 0.0, 0.0])
    assert_secret_hidden(passphrase, debug_logs)


def test_bsre_signs_by_registered_email(bsre_service: BsreService, signer_pki: SignerPki, pdf: bytes):
    request = bsre_request(bsre_service.emails[BUPATI_NIK], visible=False)
    signed = bsre_backend(bsre_service).sign_file(pdf, request, bsre_service.passphrases[BUPATI_NIK])
    issued = bsre_service.users[BUPATI_NIK]
    assert issued is not None
    assert_valid(signed, signer_pki, issued.asn1_cert)


def test_bsre_unknown_nik_is_not_registered(bsre_service: BsreService, pdf: bytes):
    backend = bsre_backend(bsre_service)
    error = expect_error(InvalidInput, lambda: backend.sign_file(pdf, bsre_request("3520999999990000"), PASSPHRASE))
    assert error.detail["reason"] == "not_registered"


def test_bsre_user_without_certificate_is_no_certificate(bsre_service: BsreService, pdf: bytes):
    backend = bsre_backend(bsre_service)
    passphrase = bsre_service.passphrases[NO_CERT_NIK]
    error = expect_error(InvalidInput, lambda: backend.sign_file(pdf, bsre_request(NO_CERT_NIK), passphrase))
    assert error.detail["reason"] == "no_certificate"


def test_bsre_wrong_passphrase_is_refused_and_never_logged(
    bsre_service: BsreService, pdf: bytes, debug_logs: pytest.LogCaptureFixture
):
    backend = bsre_backend(bsre_service)
    error = expect_error(InvalidInput, lambda: backend.sign_file(pdf, bsre_request(), WRONG_SECRET))
    assert error.detail["reason"] == "wrong_passphrase"
    assert "Passphrase salah" in error.message
    assert_secret_hidden(WRONG_SECRET, debug_logs, error)
    assert WRONG_SECRET not in (bsre_service.directory / "server.log").read_text()


def test_bsre_visible_signature_needs_a_box(bsre_service: BsreService, pdf: bytes):
    request = replace(bsre_request(), box=None)
    before = sign_posts(bsre_service)
    error = expect_error(InvalidInput, lambda: bsre_backend(bsre_service).sign_file(pdf, request, PASSPHRASE))
    assert error.detail["reason"] == "missing_signature_box"
    assert sign_posts(bsre_service) == before


def test_bsre_stopped_service_is_service_unavailable_quickly(
    signer_pki: SignerPki, tmp_path: Path, pdf: bytes, bsre_service: BsreService
):
    (tmp_path / "users.json").write_text("{}", encoding="utf-8")
    args = ["--keys", str(tmp_path), "--basic-user", "u", "--basic-pass", "p"]
    process = ServiceProcess("tests.services.bsre_server", tmp_path, args).start()
    backend = BsreBackend(process.base_url, "u", "p")
    assert backend.user_status(BUPATI_NIK).registered is False  # it was really up
    process.stop()
    started = time.monotonic()
    error = expect_error(ServiceUnavailable, lambda: backend.sign_file(pdf, bsre_request(), PASSPHRASE))
    assert time.monotonic() - started < 5
    assert error.detail["reason"] == "service_unavailable"


def test_bsre_failed_sign_call_is_not_retried(bsre_service: BsreService, pdf: bytes):
    before = sign_posts(bsre_service)
    backend = bsre_backend(bsre_service)
    passphrase = bsre_service.passphrases[FAILING_NIK]
    error = expect_error(ServiceUnavailable, lambda: backend.sign_file(pdf, bsre_request(FAILING_NIK), passphrase))
    assert error.detail["reason"] == "service_error"
    assert sign_posts(bsre_service) == before + 1


def test_bsre_time_out_is_reported_as_outcome_unknown_and_not_retried(bsre_service: BsreService, pdf: bytes):
    before = sign_posts(bsre_service)
    backend = bsre_backend(bsre_service, timeout=0.5)
    passphrase = bsre_service.passphrases[SLOW_NIK]
    error = expect_error(ServiceUnavailable, lambda: backend.sign_file(pdf, bsre_request(SLOW_NIK), passphrase))
    assert error.detail["reason"] == "service_timeout"
    assert "periksa" in error.message
    deadline = time.monotonic() + 10  # the slow service logs the request when it finishes
    while sign_posts(bsre_service) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # time for a retry to arrive, if there were one
    assert sign_posts(bsre_service) == before + 1


def test_bsre_wrong_application_credentials_are_service_unavailable(bsre_service: BsreService, pdf: bytes):
    backend = BsreBackend(bsre_service.base_url, bsre_service.username, "salah")
    passphrase = bsre_service.passphrases[BUPATI_NIK]
    error = expect_error(ServiceUnavailable, lambda: backend.sign_file(pdf, bsre_request(), passphrase))
    assert error.detail["reason"] == "service_rejected_credentials"


def test_bsre_user_status_tells_registration_and_certificate(bsre_service: BsreService):
    backend = bsre_backend(bsre_service)
    active = backend.user_status(BUPATI_NIK)
    assert (active.registered, active.has_certificate) == (True, True)
    no_cert = backend.user_status(NO_CERT_NIK)
    assert (no_cert.registered, no_cert.has_certificate) == (True, False)
    unknown = backend.user_status("3520999999990000")
    assert (unknown.registered, unknown.has_certificate) == (False, False)


# ----------------------------------------------------------------------------------------------
# Configuration


def test_open_backend_builds_each_kind_and_describe_holds_no_secret(tmp_path: Path):
    configs: list[dict[str, Any]] = [
        {"kind": "pkcs12", "path": str(tmp_path / "bupati.p12")},
        {"kind": "pkcs11", "token_label": "naskah", "key_label": "signer"},
        {"kind": "csc", "base_url": "http://csc.local", "credential_id": "c1", "auth_token": "tok-rahasia"},
        {"kind": "bsre", "base_url": "http://bsre.local", "username": "app", "password": "pw-rahasia"},
    ]
    for config in configs:
        backend = open_backend(config)
        assert isinstance(backend, SignerBackend)
        assert backend.kind == config["kind"]
        described = repr(backend.describe()) + repr(backend)
        assert "rahasia" not in described


@pytest.mark.parametrize(
    "config",
    [
        {"kind": "pkcs12", "path": "/tmp/x.p12", "passphrase": "rahasia"},
        {"kind": "pkcs11", "token_label": "naskah", "key_label": "signer", "PIN": "1234"},
        {"kind": "csc", "base_url": "http://csc.local", "credential_id": "c1", "otp": "123456"},
    ],
)
def test_open_backend_refuses_a_signer_secret_in_the_config(config: dict[str, Any]):
    error = expect_error(InvalidInput, lambda: open_backend(config))
    assert error.detail["reason"] == "secret_in_signer_config"
    assert "rahasia" not in str(error) and "1234" not in repr(error.detail)


@pytest.mark.parametrize(
    "config",
    [{"kind": "gpg"}, {"kind": "pkcs11", "token_label": "naskah"}, {"kind": "bsre", "base_url": "x", "user": "a"}],
)
def test_open_backend_refuses_an_incomplete_or_unknown_config(config: dict[str, Any]):
    error = expect_error(InvalidInput, lambda: open_backend(config))
    assert error.detail["reason"] == "invalid_signer_config"
