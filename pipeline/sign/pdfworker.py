"""The analysis of a PDF from outside, in a child process with a memory and a time limit.

Why: verifying a file someone uploaded (``POST /verify``, a counterparty's signed return) runs
pyHanko over whatever the file holds.  Limits on its shape (``pipeline.pdf.pdflimits``) stop the files
built to hurt, but not every way a parser can be made to work hard; in the server's own process
one such file took 57 s and left it at 1.36 GB.  Here each analysis runs in a fresh child process
whose address space is capped (``RLIMIT_AS``) and which is killed at its deadline, so one file can
cost at most that child; the server's memory does not grow with it, and at most ``max_workers``
analyses run at once (a further request waits for a slot, then 503 "coba lagi").

Children are forked from a *fork server* (``multiprocessing``'s ``forkserver``) that has imported
pyHanko once: a child costs ~50 ms on top of the analysis (measured; a normal verification is
100-600 ms), not the 2-4 s of a fresh interpreter, and it never inherits the server's threads,
locks or open connections (a plain ``fork`` of a threaded server could).  The API starts the fork
server in the background when it starts (:meth:`PdfWorker.warm_up`).

What comes back: the function's result (pickled: plain dataclasses), or its ``NaskahError`` as it
was raised (class, message and detail).  A child over its memory becomes ``DocumentRejected``
``pdf_verify_memory`` (422); one past its deadline is killed, ``pdf_verify_timeout`` (422); one
that died otherwise (a crash in a parser) ``pdf_verify_crashed`` (422): the file is the cause.
Any other exception is ours (every reading error is already an ``InvalidInput``): a 500, with
the child's traceback in the log.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from asn1crypto import x509 as asn1_x509

from pipeline.errors import DocumentRejected, NaskahError, ServiceUnavailable
from pipeline.pdf.pdflimits import PdfLimits, check_structure
from pipeline.sign.desk import ImportCheck, check_returned_offline
from pipeline.sign.verify import VerificationReport, verify_pdf

__all__ = ["PdfWorker", "WorkerLimits", "check_returned_bounded", "verify_bounded"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Imported once by the fork server, so that each child starts with them in place (the tasks below
#: and everything they use).
PRELOAD = ["__main__", "pipeline.sign.pdfworker"]

# asn1crypto sets a class up (its field specs) in the first instance's __init__; a certificate that
# arrives unparsed by pickle (trust roots sent to a child) skips __init__, and parsing it in a child
# where no Certificate was made yet fails ("'NoneType' object is not subscriptable").  One made here,
# at import, sets the class up in the fork server, so in every child it forks.
asn1_x509.Certificate()


# -- the tasks (run in the child; also callable in-process) -------------------------------------


def verify_bounded(data: bytes, trust_roots: Any, limits: PdfLimits, **options: Any) -> VerificationReport:
    """``pipeline.sign.verify.verify_pdf`` after the structure limits (pages, fields) of ``data``."""
    check_structure(data, limits)
    return verify_pdf(data, trust_roots, **options)


def check_returned_bounded(
    final_pdf: bytes, returned: bytes, trust_roots: Any, limits: PdfLimits, **options: Any
) -> ImportCheck:
    """``pipeline.sign.desk.check_returned_offline`` (what the file alone tells, nothing fetched) after the
    structure limits of the ``returned`` file.  The trust confirmation that may fetch OCSP/CRL
    (``desk.confirm_trust``) follows in the server process, whose fetch policy applies."""
    check_structure(returned, limits)
    return check_returned_offline(final_pdf, returned, trust_roots, **options)


@dataclass(frozen=True)
class WorkerLimits:
    """What one analysis may use."""

    memory_mb: int = 1024
    """Address space of the child (``NASKAH_VERIFY_MEMORY_MB``); the child starts at ~130 MB."""
    timeout_s: float = 60.0
    """Wall-clock seconds before the child is killed (``NASKAH_VERIFY_TIMEOUT``)."""
    max_workers: int = os.cpu_count() or 1
    """Analyses at once (``NASKAH_VERIFY_WORKERS``); a further one waits up to ``timeout_s`` for a slot."""


_preloaded = threading.Lock()
_context: Any = None


def _forkserver() -> Any:
    """The ``forkserver`` context with pyHanko preloaded (set once per process, before it starts)."""
    global _context
    with _preloaded:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD + main_script_imports())
            _context = context
        return _context


def main_script_imports() -> list[str]:
    """The modules this process's main *script* imported (a console script such as ``naskah``: ``from
    api.cli import main``), for the fork server to import once.

    A child of the fork server runs the main script again before its task (``multiprocessing``
    prepares a child whose ``__main__`` was given by path so), and the fork server's own preload of
    ``"__main__"`` never happens (CPython 3.11 asks ``get_preparation_data`` for a ``main_path`` it does
    not give), so every child imported the CLI and all below it again: ~1 s of CPU per verification
    under ``naskah serve`` (350 ms under ``python -m uvicorn``, whose ``__main__`` is named, not a path).
    With the script's modules in the fork server, running it again costs nothing."""
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None or not getattr(main, "__file__", None):
        return []
    names: set[str] = set()
    for value in list(vars(main).values()):
        if isinstance(value, types.ModuleType):
            names.add(value.__name__)
        elif isinstance(module := getattr(value, "__module__", None), str):
            names.add(module)
    return sorted(name for name in names if name in sys.modules and name not in ("__main__", "__mp_main__"))


def _child(conn: Connection, memory: int, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    """Runs in the child: cap the address space, run ``fn``, send back what happened."""
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        outcome: tuple[Any, ...] = ("ok", fn(*args, **kwargs))
    except NaskahError as exc:
        outcome = ("naskah_error", type(exc), exc.message, exc.detail)
    except MemoryError:
        outcome = ("memory",)
    except BaseException as exc:  # reported by type; the traceback goes to the log, not to the user
        outcome = ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=20))
    try:
        conn.send(outcome)
    except MemoryError:
        conn.send(("memory",))
    except Exception as exc:  # a result that does not pickle: a bug, said as such
        conn.send(("error", f"result not sendable: {type(exc).__name__}: {exc}", ""))
    finally:
        conn.close()


class PdfWorker:
    """Runs one function per child process under :class:`WorkerLimits` (see the module docstring)."""

    def __init__(self, limits: WorkerLimits | None = None) -> None:
        self.limits = limits or WorkerLimits()
        self._slots = threading.BoundedSemaphore(max(1, self.limits.max_workers))
        self._context = _forkserver()

    def warm_up(self) -> None:
        """Start the fork server (it imports pyHanko: 2-4 s) in the background, so that the first
        user's request does not wait for it (the API does this at start-up; a CLI command need not)."""

        def start() -> None:
            try:
                from multiprocessing import forkserver

                forkserver.ensure_running()
            except Exception as exc:  # the first run tries again and reports
                log.warning("PDF worker fork server did not start: %s", exc)

        threading.Thread(target=start, name="pdfworker-forkserver", daemon=True).start()

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in a child under the limits; its result, or its error re-raised."""
        if not self._slots.acquire(timeout=self.limits.timeout_s):
            raise ServiceUnavailable(
                "Semua pemeriksa PDF sedang sibuk. Coba lagi beberapa saat lagi.",
                reason="busy",
                workers=self.limits.max_workers,
            )
        try:
            return self._run(fn, args, kwargs)
        finally:
            self._slots.release()

    def _run(self, fn: Callable[..., T], args: tuple, kwargs: dict) -> T:
        limits = self.limits
        receive, send = self._context.Pipe(duplex=False)
        child = self._context.Process(
            target=_child,
            args=(send, limits.memory_mb * 1024 * 1024, fn, args, kwargs),
            name=f"pdfworker-{getattr(fn, '__name__', 'task')}",
            daemon=True,
        )
        started = time.monotonic()
        child.start()
        send.close()
        try:
            outcome = receive.recv() if receive.poll(limits.timeout_s) else None
        except (EOFError, OSError):  # died without a word: killed by the kernel, or crashed
            outcome = ("died",)
        finally:
            receive.close()
            if child.is_alive():
                child.kill()
            child.join(5)
        elapsed = time.monotonic() - started
        name = getattr(fn, "__name__", "task")
        if outcome is None:
            log.warning("PDF analysis %s killed after %.1f s (limit %.0f s)", name, elapsed, limits.timeout_s)
            raise DocumentRejected(
                f"Pemeriksaan berkas PDF dihentikan setelah {limits.timeout_s:.0f} detik; berkas ini terlalu rumit "
                "untuk diperiksa. Minta pengirim mengirim PDF naskah yang biasa.",
                reason="pdf_verify_timeout",
                limit_s=limits.timeout_s,
            )
        kind = outcome[0]
        log.info("PDF analysis %s in a worker: %s after %.0f ms", name, kind, elapsed * 1000)
        if kind == "ok":
            return outcome[1]
        if kind == "naskah_error":
            cls, message, detail = outcome[1], outcome[2], outcome[3]
            raise cls(message, **detail)
        if kind == "memory":
            raise DocumentRejected(
                f"Pemeriksaan berkas PDF memerlukan lebih dari {limits.memory_mb} MB memori dan dihentikan; berkas "
                "ini terlalu rumit untuk diperiksa. Minta pengirim mengirim PDF naskah yang biasa.",
                reason="pdf_verify_memory",
                limit_mb=limits.memory_mb,
            )
        if kind == "error":  # not the file's doing (every reading error is an InvalidInput): ours, a 500
            log.error("PDF analysis %s failed in its worker: %s\n%s", name, outcome[1], outcome[2])
            raise RuntimeError(f"PDF analysis {name} failed in its worker: {outcome[1]}")
        log.error("PDF analysis %s: worker died (exit code %s)", name, child.exitcode)
        raise DocumentRejected(
            "Berkas PDF tidak dapat diperiksa: pemeriksaannya berhenti karena isi berkas. Minta pengirim mengirim "
            "ulang PDF aslinya.",
            reason="pdf_verify_crashed",
            diagnostic=f"exit code {child.exitcode}",
        )
