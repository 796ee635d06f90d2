"""Run a coroutine to its end from synchronous code, whatever the calling thread is doing.

pyHanko's signing and validation are coroutines; the pipeline is synchronous (routes run it in the
thread pool, the CLI in the main thread) and runs each one with :func:`run`.  ``asyncio.run`` refuses
to start when the calling thread already has a running event loop: an ``async`` caller, or a library
that keeps its loop marked running between calls (Playwright's synchronous API does, in the browser
tests).  Then the coroutine runs on a fresh loop in a short-lived thread of its own, and the caller
waits for it, so the pipeline's functions stay callable from anywhere.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run"]

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)``, in a thread of its own when this thread's event loop is running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coro)
        except BaseException as exc:  # handed to the caller as if raised here
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="naskah-asyncrun", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
