"""The verification report cache (``pipeline.sign.reportcache``): a report is read again only for the same
bytes, trust configuration, expected officials and time bucket; anything else verifies afresh.

``verify_known`` is called as the signing page calls it, without a database (the bytes alone); the
analysis it runs is counted by wrapping ``pipeline.sign.verification.verify_pdf``.  Each call returns a
copy (``verify_known`` adds what the database knows), so reports are compared by value.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from pipeline.identity import Official
from pipeline.sign import verification
from pipeline.sign.reportcache import ReportCache
from pipeline.sign.verification import verify_known
from tests.fixtures.pki import FIELD_KEDUA
from tests.test_web_sekretariat_browser import add_text_incrementally, flip_byte_in_page_content


@pytest.fixture(scope="module")
def signed(signed_by_bupati: bytes) -> bytes:
    return signed_by_bupati


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def analysed_by(monkeypatch: pytest.MonkeyPatch, name: str) -> list[bytes]:
    """The bytes of every PDF ``pipeline.sign.verification.<name>`` analyses from now on, in order."""
    runs: list[bytes] = []
    real = getattr(verification, name)

    def counted(data: bytes, *args: Any, **kwargs: Any) -> Any:
        runs.append(data)
        return real(data, *args, **kwargs)

    monkeypatch.setattr(verification, name, counted)
    return runs


@pytest.fixture
def analyses(monkeypatch) -> list[bytes]:
    """The bytes of every full verification run (``verify_pdf`` in ``verify_known``), in order."""
    return analysed_by(monkeypatch, "verify_pdf")


def check(cache: ReportCache, roots: list[Any], **options: Any) -> Callable[[bytes], Any]:
    return lambda pdf: verify_known(None, pdf, roots, cache=cache, **options)


def test_the_same_bytes_are_verified_once_and_changed_bytes_get_a_fresh_report(signed, dev_pki, analyses):
    cache = ReportCache(clock=Clock())
    verify = check(cache, dev_pki.roots)

    first = verify(signed)
    assert first.ok and verify(signed) == first and verify(bytes(signed)) == first
    assert analyses == [signed] and (cache.hits, cache.misses) == (2, 1)

    flipped = flip_byte_in_page_content(signed)  # same length, one byte of the page's text
    report = verify(flipped)
    assert analyses == [signed, flipped]
    assert not report.ok and report.bottom_line == "invalid"
    added = add_text_incrementally(signed, "DIUBAH")  # a save after the signature
    report = verify(added)
    assert analyses == [signed, flipped, added]
    assert not report.ok and report.bottom_line == "modified"
    assert verify(signed) == first  # the original's report is still the original's
    assert len(analyses) == 3


def test_another_trust_configuration_or_expected_official_gets_a_fresh_report(
    signed, dev_pki, counterparty_pki, analyses
):
    cache = ReportCache(clock=Clock())
    assert check(cache, dev_pki.roots)(signed).ok
    # the CA no longer trusted: the report says so at once
    report = check(cache, counterparty_pki.roots)(signed)
    assert not report.ok and report.bottom_line == "untrusted"
    # the same roots in another order, or as another object, are the same configuration
    assert check(cache, [*dev_pki.roots, *counterparty_pki.roots])(signed).ok
    assert check(cache, [*counterparty_pki.roots, *dev_pki.roots])(signed).ok
    assert len(analyses) == 3
    # another revocation mode is another report
    check(cache, dev_pki.roots, revocation_mode="soft-fail")(signed)
    assert len(analyses) == 4

    # whose signature it must be is part of the key (verify_known reads it from the database)
    key = cache.key(signed, dev_pki.roots, None, None, {})
    expected = {FIELD_KEDUA: Official(nama="Dr. H. Fahmi Fadli, M.Si.")}
    assert cache.key(signed, dev_pki.roots, expected, None, {}) != key
    other = {FIELD_KEDUA: Official(nama="Dr. H. Fahmi Fadli, M.Si.", fingerprints=frozenset({"ab" * 32}))}
    assert cache.key(signed, dev_pki.roots, other, None, {}) != cache.key(signed, dev_pki.roots, expected, None, {})


def test_a_report_holds_for_one_time_bucket_and_fetched_revocation_data_is_never_kept(signed, dev_pki, analyses):
    clock = Clock()
    cache = ReportCache(clock=clock, bucket_s=300)
    verify = check(cache, dev_pki.roots)
    first = verify(signed)
    clock.now += 299 - clock.now % 300  # the last second of the bucket
    assert verify(signed) == first and len(analyses) == 1
    clock.now += 1  # the next bucket: judged at the new time
    assert verify(signed).ok
    assert len(analyses) == 2 and len(cache) == 1  # the earlier bucket's report is dropped

    cache.clear()
    online = check(cache, dev_pki.roots, allow_fetching=True)
    online(signed)
    online(signed)
    assert len(analyses) == 4 and len(cache) == 0


def test_two_requests_missing_the_same_report_at_once_verify_once(signed, dev_pki, analyses):
    cache = ReportCache(clock=Clock())
    verify = check(cache, dev_pki.roots)
    start = threading.Barrier(4)
    reports: list[Any] = []

    def one() -> None:
        start.wait()
        reports.append(verify(signed))

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(reports) == 4 and all(r == reports[0] for r in reports) and reports[0].ok
    assert len(analyses) == 1 and cache.misses == 1


def test_an_error_is_not_kept(signed, dev_pki, monkeypatch):
    cache = ReportCache(clock=Clock())
    real = verification.verify_pdf
    calls = []

    def flaky(data: bytes, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("worker died")
        return real(data, *args, **kwargs)

    monkeypatch.setattr(verification, "verify_pdf", flaky)
    with pytest.raises(RuntimeError):
        verify_known(None, signed, dev_pki.roots, cache=cache)
    assert verify_known(None, signed, dev_pki.roots, cache=cache).ok
    assert len(calls) == 2 and len(cache) == 1
