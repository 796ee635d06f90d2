"""The pipeline's coroutines run from synchronous code even where the thread's event loop is running
(an async caller; Playwright's synchronous API in the browser tests keeps its loop marked running)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from pipeline import asyncrun
from pipeline.sign.verify import verify_pdf


async def _answer() -> int:
    await asyncio.sleep(0)
    return 42


async def _fails() -> None:
    raise ValueError("rusak")


def inside_a_running_loop(call: Callable[[], Any]) -> Any:
    """``call()`` made synchronously from code running in an event loop (in a thread of its own, so that
    this thread's state does not matter: a browser test before may have left its loop here)."""
    out: dict[str, Any] = {}

    def target() -> None:
        async def main() -> None:
            out["value"] = call()  # asyncio.run inside would refuse: "cannot be called from a running event loop"

        try:
            asyncio.run(main())
        except BaseException as exc:
            out["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_run_works_without_a_loop_and_inside_a_running_one():
    assert inside_a_running_loop(lambda: asyncrun.run(_answer())) == 42
    assert asyncrun.run(_answer()) == 42


def test_an_error_reaches_the_caller_inside_a_running_loop():
    with pytest.raises(ValueError, match="rusak"):
        inside_a_running_loop(lambda: asyncrun.run(_fails()))


def test_verification_works_from_inside_a_running_loop(final_pdf, dev_pki):
    report = inside_a_running_loop(lambda: verify_pdf(final_pdf, dev_pki.roots))
    assert report.signatures == []
