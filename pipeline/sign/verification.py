"""Verify any PDF as the system knows it: which naskah it is, and whose signature each one must be.

``pipeline.sign.verify`` judges signatures without a database; whether the certificate in the
PIHAK KESATU block belongs to the Bupati printed there can only be said by someone who knows
the naskah.  This module finds the naskah a PDF is a state of, passes the signature
plan's officials (field -> official) to the verifier, and adds to the report the date the naskah
states and each signature's day with its date note (``pipeline.sign.signing_date``).

How a file is recognised: every incremental update ends with ``%%EOF``; the bytes up to each
such end are an earlier state of the file.  A signed naskah, an archived original with its
document timestamps, a file a counterparty signed and sent back: each begins with the exact
bytes of a file we stored (the final PDF everyone signs, or a signed state), so hashing the
prefix at each boundary and looking the sha256 up among the stored files finds it.  The
longest stored prefix wins.  A file that was rewritten (not incrementally updated) is not
recognised, and its signatures then say ``belongs_to_signer: null``.

Anyone signed in may verify a file they hold, but what the database adds (which naskah, whose
signature each must be, the dates and their notes) is told only to a user who may see that naskah
(``may_see``, from ``pipeline.access``): to anyone else the file is simply not known, so verifying
a copy does not reveal a naskah they may not see.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from pipeline.identity import Official
from pipeline.models import NaskahFile
from pipeline.pdf.pdflimits import PdfLimits, check_pdf
from pipeline.sign.pdfworker import PdfWorker, verify_bounded
from pipeline.sign.reportcache import ReportCache
from pipeline.sign.signature_plan import expected_signers
from pipeline.sign.signing_date import signing_dates
from pipeline.sign.verify import VerificationReport, verify_pdf

__all__ = ["find_naskah", "known_signers", "prefix_hashes", "verify_known"]

log = logging.getLogger(__name__)

_EOF = re.compile(rb"%%EOF(\r\n|\r|\n)?")


def prefix_hashes(pdf: bytes) -> dict[str, int]:
    """sha256 of the bytes up to each ``%%EOF`` (with and without its end-of-line) -> that length.

    One pass over the file (the running hash is copied at each end), so a file with many ``%%EOF``
    costs as much as reading it once, not once per marker."""
    out: dict[str, int] = {}
    running = hashlib.sha256()
    hashed = 0
    for found in _EOF.finditer(pdf):
        for end in sorted({found.start() + 5, found.end()}):
            running.update(pdf[hashed:end])
            hashed = end
            out.setdefault(running.copy().hexdigest(), end)
    return out


def find_naskah(session: Session, pdf: bytes) -> int | None:
    """The naskah ``pdf`` is a state of (its longest prefix that is a stored file), else None."""
    hashes = prefix_hashes(pdf)
    if not hashes:
        return None
    rows = session.exec(select(NaskahFile).where(col(NaskahFile.sha256).in_(list(hashes)))).all()
    if not rows:
        return None
    best = max(rows, key=lambda f: (hashes[f.sha256], f.id or 0))
    return best.naskah_id


def known_signers(session: Session, pdf: bytes) -> tuple[int | None, dict[str, Official] | None]:
    """(naskah id, field -> expected official) for a PDF of a naskah with a signature plan; (None, None)
    when the system does not know the file (or the naskah has no plan yet: nobody is expected)."""
    naskah_id = find_naskah(session, pdf)
    if naskah_id is None:
        return None, None
    expected = expected_signers(session, naskah_id)
    return (naskah_id, expected) if expected else (naskah_id, None)


def verify_known(
    engine: Engine | None,
    pdf: bytes,
    trust_roots: Sequence[Any],
    *,
    archival: bool = False,
    may_see: Callable[[Session, int], bool] | None = None,
    limits: PdfLimits | None = None,
    worker: PdfWorker | None = None,
    cache: ReportCache | None = None,
    **options: Any,
) -> VerificationReport:
    """:func:`pipeline.sign.verify.verify_pdf`, told whom each signature must belong to when ``engine``'s
    database knows the file.  A database that cannot be read (not set up, not reachable) only
    means the file is not known: the signatures are still judged, ``belongs_to_signer`` None.
    ``may_see(session, naskah_id)``: whether the asking user may see the naskah found; if not, the file
    is treated as unknown (nothing of the naskah is told).

    A file from outside comes with ``limits`` (``pipeline.pdf.pdflimits``): its size, revisions and
    objects are checked from its bytes before anything else, its pages and fields before the
    analysis; with a ``worker`` the analysis runs there, under its memory and time limits.

    With a ``cache`` (``pipeline.sign.reportcache``) the analysis of the same bytes, under the same trust
    configuration, for the same expected officials, within the same time bucket, is read from it instead
    of run again (not when ``allow_fetching``); what the database adds is read on every call."""
    if limits is not None:
        check_pdf(pdf, limits)
    naskah_id, expected, dates = None, None, None
    if engine is not None:
        try:
            with Session(engine) as session:
                naskah_id, expected = known_signers(session, pdf)
                if naskah_id is not None and may_see is not None and not may_see(session, naskah_id):
                    naskah_id, expected = None, None
                dates = signing_dates(session, naskah_id) if naskah_id is not None else None
        except SQLAlchemyError as exc:
            log.warning("verification without the database's knowledge of the file: %s", exc)

    def compute() -> VerificationReport:
        if worker is not None:
            return worker.run(
                verify_bounded,
                pdf,
                list(trust_roots),
                limits or PdfLimits(),
                archival=archival,
                expected_signers=expected,
                **options,
            )
        if limits is not None:
            return verify_bounded(pdf, trust_roots, limits, archival=archival, expected_signers=expected, **options)
        return verify_pdf(pdf, trust_roots, archival=archival, expected_signers=expected, **options)

    if cache is None or options.get("allow_fetching"):  # fetched revocation data may change any moment
        report = compute()
    else:
        report = cache.get(cache.key(pdf, trust_roots, expected, limits, {**options, "archival": archival}), compute)
    return dataclasses.replace(
        report, naskah_id=naskah_id, tanggal_penandatanganan=dates.to_dict() if dates is not None else None
    )
