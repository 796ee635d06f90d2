"""Certificates kept for the life of the process (trust roots, the TSA's, a signer's chain) are read by
every request thread at once.

asn1crypto parses lazily and writes what it parsed into the object as it goes; two threads reading a
fresh certificate together could see a half-parsed extension list.  CI saw it as a 500 on one of two
concurrent archive requests (``KeyError: 'No field numbered 2 is present in this
asn1crypto.x509.Extension'`` in pyHanko's document timestamp).  Each test makes the threads switch as
often as possible and reads the same fresh objects from four threads at once, many times over: on the
unparsed certificates the same reads fail hundreds of times in 200 rounds.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator, Sequence

import pytest
from asn1crypto import cms
from asn1crypto import x509 as asn1_x509

from pipeline import asyncrun
from pipeline.services import Services
from pipeline.sign.devpki import DevPki
from pipeline.sign.signing import LearningTimestamper, ParsedKeySigner
from pipeline.sign.verify import as_certificates
from tests.fixtures.pki import make_signer

ROUNDS = 200


@pytest.fixture(autouse=True)
def _threads_switch_often() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _read_at_once(
    certs: Sequence[asn1_x509.Certificate],
    threads: int = 4,
    through: Callable[[Sequence[asn1_x509.Certificate]], Sequence[asn1_x509.Certificate]] | None = None,
) -> list[BaseException]:
    """What pyHanko's certificate registry reads of each certificate, from ``threads`` threads at once
    (each first passing them ``through`` a function, as every request does)."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def work() -> None:
        barrier.wait()
        for cert in through(certs) if through else certs:
            try:
                cert.key_identifier  # noqa: B018
                cert.authority_key_identifier  # noqa: B018
                cert.issuer_serial  # noqa: B018
                cert.subject.hashable  # noqa: B018
            except Exception as exc:
                errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors


def _rounds(fresh: Callable[[], Sequence[asn1_x509.Certificate]]) -> list[BaseException]:
    errors: list[BaseException] = []
    for _ in range(ROUNDS):
        errors += _read_at_once(fresh())
    return errors


def _ders(pki: DevPki) -> list[bytes]:
    return [cert.dump() for cert in (*pki.roots, pki.intermediate, pki.tsa_certificate)]


def test_trust_roots_given_to_the_services_are_read_safely_by_threads_at_once(dev_pki: DevPki) -> None:
    ders = _ders(dev_pki)
    services = Services.__new__(Services)  # only its handling of the roots, no database or store

    def fresh() -> list[asn1_x509.Certificate]:
        services.__post_init__()  # what building the services does with the roots it is given
        return services.trust_roots

    def load() -> list[asn1_x509.Certificate]:
        services.trust_roots = [asn1_x509.Certificate.load(der) for der in ders]
        return fresh()

    assert _rounds(load) == []


def test_certificates_loaded_from_settings_are_read_safely_by_threads_at_once(dev_pki: DevPki) -> None:
    pem = dev_pki.roots_pem.read_bytes()
    ders = _ders(dev_pki)
    assert _rounds(lambda: as_certificates([pem])) == []
    assert _rounds(lambda: as_certificates(ders)) == []


def test_fresh_roots_shared_by_threads_are_parsed_once_by_the_first(dev_pki: DevPki) -> None:
    """Roots assigned to running services (as the tests' fixtures do) reach every request unparsed;
    each request's validation context passes them through :func:`as_certificates` first."""
    ders = _ders(dev_pki)
    errors: list[BaseException] = []
    for _ in range(ROUNDS):
        errors += _read_at_once([asn1_x509.Certificate.load(der) for der in ders], through=as_certificates)
    assert errors == []


def test_a_signers_certificates_are_read_safely_by_threads_at_once(dev_pki: DevPki, signer_person) -> None:
    base = make_signer(signer_person)
    ders = _ders(dev_pki)

    def fresh() -> list[asn1_x509.Certificate]:
        signer = ParsedKeySigner(
            asn1_x509.Certificate.load(base.signing_cert.dump()),
            base._private_key,  # type: ignore[arg-type]
            [asn1_x509.Certificate.load(der) for der in ders],
        )
        return [signer.signing_cert, *signer.cert_registry]

    assert _rounds(fresh) == []


def test_the_tsa_certificates_a_timestamper_learns_are_read_safely_by_threads_at_once(dev_pki: DevPki) -> None:
    learner = LearningTimestamper(dev_pki.tsa_url, 10.0)
    dummy = asyncrun.run(learner.async_dummy_response("sha256")).dump()
    assert learner._certs, "the dev TSA's token names its certificate"

    def fresh() -> list[asn1_x509.Certificate]:
        learner._forget()
        learner._register_dummy("sha256", cms.ContentInfo.load(dummy))
        return [*learner._certs.values(), *learner.cert_registry]

    assert _rounds(fresh) == []


def test_validation_paths_of_one_timestamper_from_threads_at_once(dev_pki: DevPki) -> None:
    """The whole path the archive race took: one shared timestamper, its paths validated by four
    request threads at once, right after it learned its TSA (no parse race, no list changing size)."""
    from pipeline.sign.signing import validation_context

    errors: list[BaseException] = []
    for _ in range(5):
        learner = LearningTimestamper(dev_pki.tsa_url, 10.0)
        barrier = threading.Barrier(4)

        def work(learner: LearningTimestamper = learner, barrier: threading.Barrier = barrier) -> None:
            async def paths() -> int:
                vc = validation_context(dev_pki.roots, allow_fetching=False, revocation_mode="soft-fail")
                try:
                    return len([path async for path in learner.validation_paths(vc)])
                finally:
                    await vc.aclose()

            barrier.wait()
            try:
                assert asyncrun.run(paths()) == 1
            except BaseException as exc:
                errors.append(exc)

        workers = [threading.Thread(target=work) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert errors == []
