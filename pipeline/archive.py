"""Archival form of a signed original: PAdES B-LTA, and renewing it before its timestamp expires.

A signed naskah is B-LT: every signature carries an RFC 3161 timestamp and the DSS holds the
certificates and OCSP/CRL needed to validate it offline.  That proof lasts only as long as the
certificates and algorithms behind it; B-LTA adds a *document timestamp* over everything (the
signatures and their validation data), and the archive renews it — validation data for the
last timestamp, then a fresh one — before the last timestamp's TSA certificate expires.  Each
step is an incremental update, so every earlier signature and timestamp stays valid.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Sequence
from typing import Any

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.validation import ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

from pipeline.errors import InvalidInput, ServiceUnavailable
from pipeline.signing import http_timestamper, validation_context
from pipeline.verify import refuse_unreadable

__all__ = ["add_document_timestamp", "last_timestamp_expiry"]

log = logging.getLogger(__name__)


def add_document_timestamp(pdf: bytes, tsa_url: str, trust_roots: Sequence[Any]) -> bytes:
    """``pdf`` plus validation data and a fresh document timestamp (PAdES B-LTA), as an incremental update.

    On a file that has document timestamps already, the last one's validation data is added
    first (the renewal of a B-LTA chain); on a B-LT file the signatures' data is there already.
    Refuses a file whose timestamp chain cannot be validated against ``trust_roots``.
    """
    if not tsa_url:
        raise InvalidInput("Alamat TSA (NASKAH_TSA_URL) belum dikonfigurasi; cap waktu dokumen tidak dapat dibuat.")
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        has_timestamp = any(sig.sig_object_type == "/DocTimeStamp" for sig in reader.embedded_signatures)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise refuse_unreadable(exc) from exc
    stamper = signers.PdfTimeStamper(http_timestamper(tsa_url))
    vc: ValidationContext = validation_context(trust_roots)
    try:
        if has_timestamp:
            out = stamper.update_archival_timestamp_chain(reader, vc, in_place=False)
        else:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
            out = stamper.timestamp_pdf(writer, "sha256", validation_context=vc, in_place=False)
    except (PathBuildingError, PathValidationError) as exc:
        raise InvalidInput(
            "Rantai sertifikat cap waktu tidak dapat divalidasi dengan akar tepercaya yang dikonfigurasi.",
            reason="timestamp_chain_invalid",
            error=str(exc),
        ) from exc
    except (SigningError, OSError) as exc:
        raise ServiceUnavailable(
            "Layanan cap waktu (TSA) tidak dapat dihubungi; arsip tidak diubah. Coba lagi beberapa saat lagi.",
            reason="tsa_unavailable",
            error=type(exc).__name__,
        ) from exc
    assert isinstance(out, io.BytesIO)
    data = out.getvalue()
    log.info("document timestamp added (%d -> %d bytes, renewal=%s)", len(pdf), len(data), has_timestamp)
    return data


def last_timestamp_expiry(pdf: bytes) -> dt.datetime | None:
    """When the TSA certificate of the last document timestamp in ``pdf`` expires (None: there is none).

    The renewal command re-stamps archived originals whose date comes within its margin.
    """
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = sorted(reader.embedded_signatures, key=lambda s: s.signed_revision)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise refuse_unreadable(exc) from exc
    stamps = [sig for sig in embedded if sig.sig_object_type == "/DocTimeStamp"]
    return _not_after(stamps[-1].signer_cert) if stamps else None


def _not_after(cert: Any) -> dt.datetime | None:
    if cert is None:
        return None
    value = cert["tbs_certificate"]["validity"]["not_after"].native
    return value if isinstance(value, dt.datetime) else None
