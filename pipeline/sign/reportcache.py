"""Verification reports of stored files, computed once and read again while nothing they depend on changed.

Why: the signing page shows the verification of the current signed file and the proof of every
counterparty return (``pipeline.sign.desk_proof``), each a full pyHanko validation (0.5-0.8 s of CPU
apiece on the demo's KB, 1-1.6 s through the bounded worker).  Run on every load, a page that people
reload, and that every form on it renders again, cost 1-3 s each time; on a loaded 2-core machine a
browser test waited more than 30 s for it.

What a report depends on, and so what its key holds (a report is never given for anything else):

- the bytes: their sha256, computed from the bytes being verified (not the name a row gives them);
- the trust configuration: the sha256 fingerprints of the trust roots (an admin who adds or drops a
  CA gets a fresh report at once), the validation options (revocation mode, fetching, archival,
  moment) and the PDF limits;
- whom each signature must belong to (``expected_signers``: the plan's officials and the certificate
  fingerprints registered for them, read from the database on every call);
- the time: validity periods and the freshness of embedded OCSP/CRL are judged at "now", so a report
  holds for one time bucket (:data:`BUCKET_S`, aligned to the clock) and the next bucket computes it
  again.  Revocation data comes from the file (the DSS) unless fetching is asked; a report that
  fetched OCSP/CRL online is never cached (a CA may revoke at any moment).

What a report adds from the database that may change without the bytes (the naskah it belongs to for
this user, the stated signing dates) is not cached: ``pipeline.sign.verification.verify_known`` adds
it to the cached report on every call.

Per process, in memory, bounded (:data:`MAX_ENTRIES`, least recently used dropped first), like the
certificates the trust roots are parsed into.  Two requests that miss the same key at once compute it
once: the second waits for the first's result (or its error, which is not kept: the next request tries
again).  A cached report is shared: callers read it and never change it (``dataclasses.replace`` for
a copy with more).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from pipeline.identity import Official
from pipeline.pdf.pdflimits import PdfLimits
from pipeline.sign.verify import VerificationReport, as_certificates

__all__ = ["BUCKET_S", "MAX_ENTRIES", "ReportCache", "ReportKey"]

log = logging.getLogger(__name__)

BUCKET_S = 300.0
"""Seconds a report holds: a certificate that expires, or embedded revocation data that goes stale,
shows at the latest this long after it happened."""

MAX_ENTRIES = 256
"""Reports kept per process (a report is a few kB)."""


@dataclass(frozen=True)
class ReportKey:
    """Everything a verification report is a function of (see the module docstring)."""

    sha256: str
    trust: tuple[str, ...]
    options: tuple[tuple[str, str], ...]
    expected: frozenset[tuple[str, Official]] | None
    bucket: int


class ReportCache:
    """Reports by :class:`ReportKey`; ``hits`` and ``misses`` count lookups (a miss computes)."""

    def __init__(
        self, max_entries: int = MAX_ENTRIES, bucket_s: float = BUCKET_S, clock: Callable[[], float] = time.time
    ) -> None:
        self.max_entries = max_entries
        self.bucket_s = bucket_s
        self.clock = clock
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self._reports: OrderedDict[ReportKey, VerificationReport] = OrderedDict()
        self._pending: dict[ReportKey, Future[VerificationReport]] = {}

    def key(
        self,
        pdf: bytes,
        trust_roots: Sequence[Any],
        expected: Mapping[str, Official] | None,
        limits: PdfLimits | None,
        options: Mapping[str, Hashable],
    ) -> ReportKey:
        """The key of ``pdf``'s report under this trust configuration and these expectations, now."""
        return ReportKey(
            sha256=hashlib.sha256(pdf).hexdigest(),
            trust=tuple(sorted(cert.sha256.hex() for cert in as_certificates(trust_roots))),
            options=tuple(sorted((name, repr(value)) for name, value in {**options, "limits": limits}.items())),
            expected=frozenset(expected.items()) if expected is not None else None,
            bucket=int(self.clock() // self.bucket_s),
        )

    def get(self, key: ReportKey, compute: Callable[[], VerificationReport]) -> VerificationReport:
        """The report kept for ``key``, else ``compute()``'s (kept; an error is raised and not kept)."""
        with self._lock:
            report = self._reports.get(key)
            if report is not None:
                self._reports.move_to_end(key)
                self.hits += 1
                return report
            pending = self._pending.get(key)
            if pending is None:
                self.misses += 1
                mine: Future[VerificationReport] = Future()
                self._pending[key] = mine
        if pending is not None:  # the same report is being computed: its result, or its error
            return pending.result()
        try:
            report = compute()
        except BaseException as exc:
            with self._lock:
                del self._pending[key]
            mine.set_exception(exc)
            raise
        with self._lock:
            del self._pending[key]
            for old in [k for k in self._reports if k.bucket < key.bucket]:  # judged at an earlier time
                del self._reports[old]
            self._reports[key] = report
            while len(self._reports) > self.max_entries:
                self._reports.popitem(last=False)
        mine.set_result(report)
        return report

    def clear(self) -> None:
        """Forget every report (the next lookup of each computes it)."""
        with self._lock:
            self._reports.clear()

    def __len__(self) -> int:
        return len(self._reports)
