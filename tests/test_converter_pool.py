"""A pool of warm converters with a bounded queue: side by side, a stuck one killed without stalling
the others, a full queue refused with "coba lagi", the wait reported.

Real LibreOffice throughout: the module starts two warm converters once (side by side, ~7 s).  A
*stuck* LibreOffice is made the way it happens in production, a process that stops answering: its
whole process group is stopped with SIGSTOP (unoserver and soffice.bin), so the call to it hangs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from pipeline.drafting.convert import ConverterPool, WarmConverter, check_pdf, collect_timings
from pipeline.errors import ConversionFailed, ConverterUnavailable
from tests.fixtures.converter import sample_docx

TIMEOUT = 8.0


@pytest.fixture(scope="module")
def pool() -> Iterator[ConverterPool]:
    with ConverterPool.start(2, lambda: WarmConverter(timeout=TIMEOUT)) as started:
        yield started


def _group(converter: WarmConverter) -> int:
    pid = converter.server_pid
    assert pid is not None
    return pid  # unoserver leads its own process group (soffice.bin in it)


def wait_until(check, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def convert_in_thread(pool: ConverterPool, docx: bytes) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def run() -> None:
        started = time.monotonic()
        with collect_timings() as timings:
            try:
                out["pdf"] = pool.to_pdf(docx)
            except Exception as exc:
                out["error"] = exc
        out["seconds"] = time.monotonic() - started
        out["timings"] = list(timings)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def test_conversions_run_side_by_side_on_the_pools_converters(pool):
    docx = sample_docx(3)
    threads = [convert_in_thread(pool, docx) for _ in range(6)]
    peak = 0
    while any(t.is_alive() for t, _ in threads):
        peak = max(peak, pool.stats().busy)
        time.sleep(0.005)
    used = set()
    for _t, out in threads:
        assert "error" not in out, out.get("error")
        assert check_pdf(out["pdf"]).pages == 3
        [timing] = out["timings"]
        used.add(timing.converter)
    assert used == {0, 1} and peak == 2


def test_a_stuck_conversion_is_killed_at_the_timeout_without_stalling_the_others(pool):
    first, second = pool.converters
    assert isinstance(first, WarmConverter) and isinstance(second, WarmConverter)
    assert wait_until(lambda: pool.stats().busy == 0 and pool.stats().restarting == 0)
    stuck_group = _group(first)
    stuck_pids = set(first.live_pids())
    os.killpg(stuck_group, signal.SIGSTOP)  # LibreOffice stops answering mid-way
    try:
        docx = sample_docx(1)
        # two at once: one lands on the stuck LibreOffice, the other on the healthy one
        a = convert_in_thread(pool, docx)
        b = convert_in_thread(pool, docx)
        # meanwhile the healthy converter keeps converting, one after the other
        quick = []
        for _ in range(4):
            started = time.monotonic()
            with collect_timings() as timings:
                assert check_pdf(pool.to_pdf(docx)).pages == 1
            quick.append((time.monotonic() - started, timings[0]))
        for thread, _out in (a, b):
            thread.join(TIMEOUT + 30)
    finally:
        with contextlib.suppress(ProcessLookupError):  # killed by the timeout already, unless the test failed
            os.killpg(stuck_group, signal.SIGCONT)

    outcomes = [a[1], b[1]]
    failed = [o for o in outcomes if "error" in o]
    assert len(failed) == 1, outcomes
    error = failed[0]["error"]
    assert isinstance(error, ConversionFailed) and error.detail["reason"] == "timeout"
    assert TIMEOUT <= failed[0]["seconds"] < TIMEOUT + 10
    assert failed[0]["timings"][0].converter == 0 and not failed[0]["timings"][0].ok
    # nobody else waited for the stuck one: the four went through the healthy converter while it hung
    assert all(t.converter == 1 for _s, t in quick)
    assert all(seconds < TIMEOUT / 2 for seconds, _t in quick), quick
    # the stuck LibreOffice is gone, and a fresh one takes its place in the pool
    assert wait_until(lambda: not any(os.path.exists(f"/proc/{p}") and _not_zombie(p) for p in stuck_pids))
    assert wait_until(lambda: pool.stats().restarting == 0 and pool.stats().busy == 0)
    assert first.server_pid not in (None, stuck_group)
    both = [convert_in_thread(pool, docx) for _ in range(4)]
    for thread, out in both:
        thread.join(60)
        assert "pdf" in out, out.get("error")
    assert {out["timings"][0].converter for _t, out in both} == {0, 1}


def _not_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def test_a_full_queue_is_refused_at_once_with_try_again_and_the_wait_is_reported(pool):
    one = pool.converters[1]
    assert isinstance(one, WarmConverter)
    small = ConverterPool([one], max_waiting=2, wait_timeout=TIMEOUT * 3)  # borrows it; not closed here
    group = _group(one)
    docx = sample_docx(1)
    os.killpg(group, signal.SIGSTOP)
    try:
        a = convert_in_thread(small, docx)
        assert wait_until(lambda: small.stats().busy == 1, 10)
        b = convert_in_thread(small, docx)
        assert wait_until(lambda: small.stats().waiting == 1, 10)
        c = convert_in_thread(small, docx)
        assert wait_until(lambda: small.stats().waiting == 2, 10)
        started = time.monotonic()
        with pytest.raises(ConverterUnavailable) as refused:
            small.to_pdf(docx)
        assert time.monotonic() - started < 0.5
        time.sleep(1.0)  # b and c have now waited a second
    finally:
        os.killpg(group, signal.SIGCONT)
    assert refused.value.detail["reason"] == "busy" and "Coba lagi" in refused.value.message
    for thread, out in (a, b, c):
        thread.join(TIMEOUT + 30)
        assert "pdf" in out, out.get("error")
    [waited_b], [waited_c] = b[1]["timings"], c[1]["timings"]
    assert waited_b.waited_ms >= 1000 and waited_b.ok
    assert waited_c.waited_ms > waited_b.waited_ms + waited_b.converted_ms * 0.5  # first come, first served
    stats = small.stats()
    assert stats.conversions == 3 and stats.refused == 1 and stats.wait_ms_max >= 1000


def test_the_pool_size_and_queue_come_from_the_settings(monkeypatch):
    from api.config import Settings

    assert Settings().converters == (os.cpu_count() or 1) and Settings().convert_queue == 16
    monkeypatch.setenv("NASKAH_CONVERTERS", "3")
    monkeypatch.setenv("NASKAH_CONVERT_QUEUE", "5")
    assert (Settings().converters, Settings().convert_queue) == (3, 5)


@pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
def test_an_api_response_says_how_long_its_conversion_waited_and_the_health_check_shows_the_pool(api, converter):
    from tests.test_api import create_case, naskah_body

    api.services.converter = ConverterPool([converter])  # the API's wiring: a pool (of the session's one)
    case_id = create_case(api)
    r = api.client.post(f"/api/v1/cases/{case_id}/naskah", json=naskah_body("KB"), headers=api.auth("drafter"))
    assert r.status_code == 201, r.text
    timing = r.headers["server-timing"]
    assert timing.startswith("konversi-antre;dur=") and "konversi;dur=" in timing and "(1x)" in timing
    assert "server-timing" not in api.client.get(f"/api/v1/cases/{case_id}", headers=api.auth("drafter")).headers
    health = api.client.get("/healthz").json()
    assert health["status"] == "ok"
    assert health["konverter"]["size"] == 1 and health["konverter"]["conversions"] == 1
    assert health["konverter"]["busy"] == 0 and health["konverter"]["refused"] == 0
