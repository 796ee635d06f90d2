"""The pipeline's coroutines run from synchronous code even where the thread's event loop is running
(an async caller; Playwright's synchronous API in the browser tests keeps its loop marked running)."""

from __future__ import annotations

import asyncio

import pytest

from pipeline import asyncrun
from pipeline.verify import verify_pdf


async def _answer() -> int:
    await asyncio.sleep(0)
    return 42


async def _fails() -> None:
    raise ValueError("rusak")


def test_run_works_without_a_loop_and_inside_a_running_one():
    assert asyncrun.run(_answer()) == 42

    async def caller() -> int:
        return asyncrun.run(_answer())  # asyncio.run would refuse: "cannot be called from a running event loop"

    assert asyncio.run(caller()) == 42


def test_an_error_reaches_the_caller_inside_a_running_loop():
    async def caller() -> None:
        asyncrun.run(_fails())

    with pytest.raises(ValueError, match="rusak"):
        asyncio.run(caller())


def test_verification_works_from_inside_a_running_loop(final_pdf, dev_pki):
    async def caller():
        return verify_pdf(final_pdf, dev_pki.roots)

    report = asyncio.run(caller())
    assert report.signatures == []
