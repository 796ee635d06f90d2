"""A step that makes it someone's turn says so here; the inbox listens.

The intake and monev steps sit below the inbox (``pipeline.inbox``, which reads them to know whose turn
it is), so they cannot call it.  They :func:`announce` the turn; ``pipeline.inbox.flows`` registers the
listeners when it is imported, and ``pipeline.services`` (the composition root every entry point builds
before any step runs) imports it.  A listener never fails the step: it writes in a savepoint of the
step's transaction and logs what it could not write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

__all__ = ["Occasion", "announce", "listen"]

log = logging.getLogger(__name__)

Occasion = Literal["usulan", "monev"]
"""``usulan``: (session, profile, usulan, actor); ``monev``: (session, profile, round, arsip, actor)."""

_listeners: dict[str, Callable[..., Any]] = {}


def listen(occasion: Occasion, listener: Callable[..., Any]) -> None:
    """Register the one listener of ``occasion`` (registering again replaces it)."""
    _listeners[occasion] = listener


def announce(occasion: Occasion, *args: Any) -> None:
    """Tell the listener of ``occasion``; with none registered (a script that built no Services) the turn
    is only logged, and the inbox's reminders catch up with it."""
    listener = _listeners.get(occasion)
    if listener is None:
        log.warning("%s turn changed, but no notifier is registered: nobody told now", occasion)
        return
    listener(*args)
