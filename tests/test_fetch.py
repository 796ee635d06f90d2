"""Hostile certificates from a counterparty: no request into our network, none before the cheap checks.

A counterparty chooses the certificate it signs with, and the OCSP, CRL and AIA addresses in it.
A real HTTP server on 127.0.0.1 (:class:`Recorder`) stands for an intranet service and records
every request that reaches it; a PKI whose certificates point at it (``hostile_pki``, generated
with the recorder's port, never served) signs as the partner.  The server must never reach the
recorder unless the allowlist names it, and must not fetch at all for a file that fails the checks
the file alone can answer.  The guarded fetcher (``pipeline.sign.fetch``) is also driven directly, with
slow and huge answers.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from typing import Any

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko_certvalidator.errors import CRLFetchError
from pyhanko_certvalidator.registry import SimpleCertificateStore

from pipeline.sign import fetch
from pipeline.sign.desk import check_returned, export_for_counterparty
from pipeline.sign.devpki import DevPki, IssuedCert
from pipeline.sign.fetch import FetchPolicy, GuardedFetcherBackend, parse_allowlist
from tests.fixtures.pki import FIELD_KEDUA, WALIKOTA
from tests.test_signer_identity import import_file, plan
from tests.test_signing_backends import one_backend, state
from tests.test_signing_flow import fully_initialled

MB = 1024 * 1024


class Recorder:
    """A real HTTP server standing for an intranet service: records every request that reaches it.

    ``/slow`` answers after 20 s, ``/drip`` sends its headers and then one byte a second, ``/huge``
    streams 64 MB (``/huge-declared`` announces them in Content-Length), ``/redirect?to=URL``
    redirects; anything else is a 200 with a few bytes that are no CRL or OCSP response.
    """

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.sent = 0
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                recorder.requests.append(f"{self.command} {self.path}")
                if self.path.startswith("/redirect?to="):
                    self.send_response(302)
                    self.send_header("Location", self.path.partition("=")[2])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.path == "/slow":
                    time.sleep(20)
                    self._body(b"late")
                elif self.path == "/drip":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/pkix-crl")
                    self.send_header("Content-Length", "100")
                    self.end_headers()
                    self._stream(b"x", 100, pause=1.0)
                elif self.path.startswith("/huge"):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/pkix-crl")
                    if self.path == "/huge-declared":
                        self.send_header("Content-Length", str(64 * MB))
                    self.end_headers()
                    self._stream(b"x" * 65536, 64 * MB // 65536)
                else:
                    self._body(b"not a CRL")

            def _body(self, data: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, chunk: bytes, count: int, pause: float = 0.0) -> None:
                try:
                    for _ in range(count):
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        recorder.sent += len(chunk)
                        time.sleep(pause)
                except OSError:
                    pass  # the client hung up: what the limits are for

            do_GET = do_POST = _answer

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def clear(self) -> None:
        self.requests.clear()
        self.sent = 0

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


@pytest.fixture
def seen(recorder: Recorder) -> Recorder:
    """The recorder, with nothing recorded yet."""
    recorder.clear()
    return recorder


@pytest.fixture(scope="module")
def hostile_pki(tmp_path_factory: pytest.TempPathFactory, recorder: Recorder) -> DevPki:
    """A CA whose certificates name the recorder (127.0.0.1, not allowlisted) for OCSP and CRL; never served."""
    return DevPki.generate(tmp_path_factory.mktemp("pki") / "nakal", name="PSrE Nakal", port=recorder.port)


@pytest.fixture
def policy() -> Iterator[Callable[[FetchPolicy], FetchPolicy]]:
    """Use another fetch policy for one test (the session's allowlists the two served dev PKIs)."""
    saved = fetch.current_policy()

    def use(p: FetchPolicy) -> FetchPolicy:
        fetch.configure(p)
        return p

    yield use
    fetch.configure(saved)


def bare_signature(pdf: bytes, person: IssuedCert, field: str = FIELD_KEDUA, *, chain: bool = True) -> bytes:
    """The partner's own software: plain pyHanko, PAdES B-B (no timestamp, no validation data), so the
    revocation status can only be had by fetching; ``chain=False`` leaves out the CA certificates."""
    signer = signers.SimpleSigner(
        signing_cert=person.certificate,
        signing_key=person.key_info,
        cert_registry=SimpleCertificateStore.from_certs(list(person.chain) if chain else []),
    )
    meta = signers.PdfSignatureMetadata(field_name=field, subfilter=SigSeedSubFilter.PADES, reason="Menyetujui")
    return signers.PdfSigner(meta, signer).sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf))).getvalue()


@pytest.fixture(scope="module")
def sent(final_pdf: bytes) -> bytes:
    return export_for_counterparty(final_pdf)


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "pipeline.sign.fetch" and "refused" in r.getMessage()]


# -- the desk-to-desk import ----------------------------------------------------------------------


def test_import_fetches_nothing_from_a_loopback_address_a_trusted_partner_certificate_names(
    sent, hostile_pki, dev_pki, seen, caplog
):
    person = hostile_pki.issue_person(WALIKOTA, ca_issuers_url=seen.url("/aia/ca.cer"))
    returned = bare_signature(sent, person)
    caplog.set_level(logging.WARNING, logger="pipeline.sign.fetch")

    check = check_returned(sent, returned, dev_pki.roots + hostile_pki.roots, expected_fields=[FIELD_KEDUA])

    assert not check.ok and check.code == "revocation_unavailable", check.reason
    assert seen.requests == []
    assert any(f"127.0.0.1 port {seen.port}" in line and "loopback" in line for line in refusals(caplog))


def test_import_fetches_nothing_from_private_or_link_local_addresses(sent, dev_pki, caplog):
    # issued by our own (served, allowlisted) CA, so validation gets as far as the partner's own addresses
    person = dev_pki.issue_person(
        WALIKOTA,
        ocsp_url="http://10.255.255.1/ocsp",
        crl_url="http://192.168.255.1:8080/ca.crl",
        ca_issuers_url="http://169.254.169.254/latest/meta-data/",
    )
    returned = bare_signature(sent, person)
    caplog.set_level(logging.WARNING, logger="pipeline.sign.fetch")

    started = time.monotonic()
    check = check_returned(sent, returned, dev_pki.roots, expected_fields=[FIELD_KEDUA])
    elapsed = time.monotonic() - started

    assert not check.ok and check.code == "revocation_unavailable", check.reason
    lines = refusals(caplog)
    assert any("10.255.255.1 port 80" in line and "private" in line for line in lines), lines
    assert any("192.168.255.1 port 8080" in line for line in lines), lines
    assert elapsed < 5, f"{elapsed:.1f} s: a connection was attempted instead of refused"


def test_a_tampered_return_is_refused_without_any_request(sent, hostile_pki, dev_pki, seen, policy):
    policy(fetch.current_policy().allowing(f"127.0.0.1:{seen.port}"))  # even where fetching would be allowed
    returned = bare_signature(sent, hostile_pki.issue_person(WALIKOTA, ca_issuers_url=seen.url("/aia")))
    at = returned.index(b"(Menyetujui)", len(sent))
    tampered = returned[:at] + b"(Menyetujuj)" + returned[at + len(b"(Menyetujui)") :]

    check = check_returned(sent, tampered, dev_pki.roots + hostile_pki.roots, expected_fields=[FIELD_KEDUA])

    assert not check.ok and check.code == "signature_not_accepted", check.reason
    assert "hash tidak cocok" in check.reason
    assert seen.requests == []


def test_a_chain_that_does_not_end_at_our_roots_is_refused_without_any_request(
    sent, hostile_pki, dev_pki, seen, policy
):
    policy(fetch.current_policy().allowing(f"127.0.0.1:{seen.port}"))
    returned = bare_signature(sent, hostile_pki.issue_person(WALIKOTA, ca_issuers_url=seen.url("/aia")))

    check = check_returned(sent, returned, dev_pki.roots, expected_fields=[FIELD_KEDUA])  # their CA not trusted

    assert not check.ok and check.code == "untrusted_chain", check.reason
    assert "NASKAH_TRUST_ROOTS" in check.reason and check.report is not None
    assert seen.requests == []


def test_a_partner_who_leaves_out_its_ca_certificate_is_asked_for_it_not_looked_up(
    sent, hostile_pki, dev_pki, seen, policy
):
    policy(fetch.current_policy().allowing(f"127.0.0.1:{seen.port}"))
    person = hostile_pki.issue_person(WALIKOTA, ca_issuers_url=seen.url("/aia/intermediate.cer"))
    returned = bare_signature(sent, person, chain=False)

    check = check_returned(sent, returned, dev_pki.roots + hostile_pki.roots, expected_fields=[FIELD_KEDUA])

    assert not check.ok and check.code == "untrusted_chain", check.reason
    assert "menyertakan rantai sertifikatnya" in check.reason
    assert seen.requests == []


def test_with_the_allowlist_a_partner_without_validation_data_imports_and_without_it_is_refused(
    sent, dev_pki, counterparty_pki, counterparty_person, policy
):
    returned = bare_signature(sent, counterparty_person)
    roots = dev_pki.roots + counterparty_pki.roots

    allowed = check_returned(sent, returned, roots, expected_fields=[FIELD_KEDUA])  # the session allowlists it
    policy(FetchPolicy())
    strict = check_returned(sent, returned, roots, expected_fields=[FIELD_KEDUA])

    assert allowed.ok, allowed.reason
    assert not strict.ok and strict.code == "revocation_unavailable"


@one_backend
def test_the_import_endpoint_refuses_a_certificate_pointing_into_our_network_without_a_request(
    signers_api, hostile_pki, seen
):
    api = signers_api
    api.services.trust_roots = [*api.services.trust_roots, *hostile_pki.roots]
    nid = fully_initialled(api, "desk")
    plan(api, nid, "desk")
    exported = api.client.get(f"/api/v1/naskah/{nid}/export", headers=api.auth("drafter")).content
    before = state(api, nid)
    person = hostile_pki.issue_person(WALIKOTA, ca_issuers_url=seen.url("/aia"))

    r = import_file(api, nid, bare_signature(exported, person, "ttd_pihak_2"))

    assert r.status_code == 422, r.text
    assert r.json()["detail"]["reason"] == "revocation_unavailable", r.text
    assert seen.requests == []
    assert state(api, nid) == before


# -- the guarded fetcher itself ---------------------------------------------------------------------


def fetch_crl(pki: DevPki, url: str, policy: FetchPolicy) -> tuple[list[Any], float]:
    """pyHanko's CRL fetcher on the guarded backend, for a certificate whose CRL is at ``url``."""
    cert = pki.issue_person("Sertifikat Uji", crl_url=url).certificate

    async def go() -> list[Any]:
        backend = GuardedFetcherBackend(policy)
        try:
            return list(await backend.get_fetchers().crl_fetcher.fetch(cert))
        except CRLFetchError:  # pyHanko's fetch error: what a refused, failed or timed-out fetch must be
            return []
        finally:
            await backend.close()

    started = time.monotonic()
    result = asyncio.run(go())
    return result, time.monotonic() - started


@pytest.mark.parametrize(
    "host",
    ["localhost", "127.0.0.1", "[::ffff:127.0.0.1]", "127.1.2.3", "[::1]"],
)
def test_the_fetcher_never_connects_to_loopback_whatever_the_address_looks_like(hostile_pki, seen, host):
    crls, _ = fetch_crl(hostile_pki, f"http://{host}:{seen.port}/ca.crl", FetchPolicy())
    assert crls == [] and seen.requests == []


def test_the_fetcher_reaches_an_allowlisted_address(hostile_pki, seen):
    fetch_crl(hostile_pki, seen.url("/ca.crl"), FetchPolicy().allowing(f"127.0.0.1:{seen.port}"))
    assert seen.requests == ["GET /ca.crl"]  # the recorder does see what is allowed: the tests above can fail


def test_a_redirect_to_an_address_not_allowlisted_is_not_followed(hostile_pki, seen):
    inner = Recorder()
    try:
        url = seen.url(f"/redirect?to={inner.url('/ca.crl')}")
        crls, _ = fetch_crl(hostile_pki, url, FetchPolicy().allowing(f"127.0.0.1:{seen.port}"))
    finally:
        inner.close()
    assert crls == []
    assert seen.requests == [f"GET /redirect?to={inner.url('/ca.crl')}"] and inner.requests == []


@pytest.mark.parametrize("path", ["/slow", "/drip"])
def test_a_slow_responder_is_cut_off_at_the_time_limit(hostile_pki, seen, path):
    crls, elapsed = fetch_crl(hostile_pki, seen.url(path), FetchPolicy(timeout=1.0).allowing(f"127.0.0.1:{seen.port}"))
    assert crls == [] and seen.requests == [f"GET {path}"]
    assert elapsed < 4, f"{elapsed:.1f} s"


@pytest.mark.parametrize("path", ["/huge", "/huge-declared"])
def test_a_huge_answer_is_cut_off_at_the_size_limit(hostile_pki, seen, path):
    limited = FetchPolicy(max_crl_bytes=1 * MB).allowing(f"127.0.0.1:{seen.port}")
    crls, _ = fetch_crl(hostile_pki, seen.url(path), limited)
    time.sleep(0.5)  # let the server notice the hang-up
    assert crls == [] and seen.requests == [f"GET {path}"]
    assert seen.sent < 16 * MB, f"{seen.sent / MB:.0f} MB were sent before the client hung up"


# -- the policy -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "port", "allowed"),
    [
        ("203.0.113.7", 80, False),  # TEST-NET-3: documentation, not global
        ("8.8.8.8", 80, True),
        ("8.8.8.8", 443, True),
        ("8.8.8.8", 22, False),
        ("2606:4700:4700::1111", 443, True),
        ("127.0.0.1", 80, False),
        ("127.9.9.9", 80, False),
        ("0.0.0.0", 80, False),
        ("10.1.2.3", 80, False),
        ("172.16.0.1", 80, False),
        ("192.168.1.1", 80, False),
        ("100.64.0.1", 80, False),
        ("169.254.169.254", 80, False),
        ("224.0.0.1", 80, False),
        ("240.0.0.1", 80, False),
        ("255.255.255.255", 80, False),
        ("::", 80, False),
        ("::1", 80, False),
        ("fe80::1", 80, False),
        ("fc00::1", 80, False),
        ("fd12:3456::1", 80, False),
        ("ff02::1", 80, False),
        ("::ffff:127.0.0.1", 80, False),
        ("::ffff:10.0.0.1", 80, False),
        ("::ffff:8.8.8.8", 80, True),
        ("64:ff9b::a00:1", 80, False),  # NAT64 of 10.0.0.1
        ("2002:7f00:1::1", 80, False),  # 6to4 of 127.0.0.1
        ("::127.0.0.1", 80, False),  # IPv4-compatible
    ],
)
def test_only_public_addresses_on_web_ports_may_be_fetched_from(host, port, allowed):
    assert (FetchPolicy().refusal(host, port) is None) is allowed


def test_the_allowlist_admits_exactly_what_it_names():
    policy = FetchPolicy(allow=parse_allowlist("127.0.0.1:8123, 10.20.0.0/16 [::1]:9000"))
    assert policy.refusal("127.0.0.1", 8123) is None
    assert policy.refusal("::ffff:127.0.0.1", 8123) is None
    assert policy.refusal("127.0.0.1", 8124) is not None
    assert policy.refusal("10.20.3.4", 5555) is None
    assert policy.refusal("10.21.0.1", 80) is not None
    assert policy.refusal("::1", 9000) is None and policy.refusal("::1", 9001) is not None


@pytest.mark.parametrize("entry", ["intranet.local:80", "127.0.0.1:99999", "10.0.0.0/33", "[::1", "ocsp:x"])
def test_a_bad_allowlist_entry_is_named(entry):
    with pytest.raises(ValueError, match="NASKAH_FETCH_ALLOW") as err:
        parse_allowlist(f"127.0.0.1:8000,{entry}")
    assert entry in str(err.value)
