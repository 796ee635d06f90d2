"""The PAdES level a naskah needs, and making sure every signature in it reaches that level.

Agreements run for years and are archived for decades, so a signature that only proves "some
key signed this" (PAdES B-B) is not enough: the level required of every signature is a
setting, ``NASKAH_PADES_LEVEL`` (default ``B-LT``: a signature timestamp from an RFC 3161
TSA, and the certificates and OCSP/CRL that prove the signer's certificate was good then,
embedded in the document so it verifies offline).  B-LTA is what archiving adds (a document
timestamp over everything), not a signing level.

What each level takes, and the setting that provides it:

======== =========================================================================================
``B-B``  nothing; allowed only when an admin chooses it explicitly
``B-T``  a TSA: ``NASKAH_TSA_URL``
``B-LT`` a TSA and the trust roots of every CA involved (to validate the signer and fetch
         OCSP/CRL for the DSS): ``NASKAH_TSA_URL`` and ``NASKAH_TRUST_ROOTS``
======== =========================================================================================

Signing that cannot reach the level is refused before anything is signed
(:func:`require_reachable`, ``ServiceUnavailable`` 503 with ``detail.reason``
``pades_level_unreachable``: a configuration problem is not the signer's fault, and retrying
after the admin fixes the named setting works).  After signing, the level actually reached is
read back from the produced file (:func:`require_reached`); a signature below it is not
recorded.

A signature made elsewhere — BSrE's esign-client, which returns B-B, or a counterparty's
software — is raised to the level after it comes back (:func:`raise_to_level`): its
validation data is embedded in the DSS and, when it carries no signature timestamp, a
document timestamp from our TSA is added over it.  When the signer's revocation status cannot be
had, the signature is refused (``desk.embed_validation_data``: ``revocation_unavailable``, saying
what the partner should send instead).  ETSI EN 319 142-1 (5.4, B-T) accepts a
document timestamp in place of the signature timestamp: it proves the signature existed at
that time, which is what B-T is for.  Nothing of the signature itself is changed (incremental
updates only; pyHanko's difference analysis counts both as validation data).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from typing import Any, Literal

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import TimestampRequestError
from pyhanko.sign.validation import DocumentSecurityStore
from pyhanko.sign.validation.ades import ades_timestamp_validation_internal
from pyhanko_certvalidator.errors import PathBuildingError, ValidationError

from pipeline import asyncrun
from pipeline.errors import InvalidInput, ServiceUnavailable
from pipeline.sign.desk import embed_validation_data
from pipeline.sign.signing import http_timestamper, validation_context
from pipeline.sign.verify import has_signature_timestamp, refuse_unreadable, signature_level

__all__ = [
    "DEFAULT_LEVEL",
    "LEVELS",
    "SIGNING_LEVELS",
    "PadesLevel",
    "at_least",
    "raise_to_level",
    "reached_level",
    "require_reachable",
    "require_reached",
]

log = logging.getLogger(__name__)

PadesLevel = Literal["B-B", "B-T", "B-LT"]
#: Every PAdES baseline level, weakest first.
LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")
#: The levels a naskah may require of its signatures (B-LTA is the archive's).
SIGNING_LEVELS: tuple[PadesLevel, ...] = ("B-B", "B-T", "B-LT")
DEFAULT_LEVEL: PadesLevel = "B-LT"

_WHAT = {
    "B-B": "tanda tangan dasar",
    "B-T": "dengan cap waktu",
    "B-LT": "dengan cap waktu dan data validasi",
}


def at_least(level: str, required: str) -> bool:
    """Is ``level`` as strong as ``required``?"""
    return LEVELS.index(level) >= LEVELS.index(required)


def missing_settings(required: str, *, tsa_url: str | None, trust_roots: Sequence[Any]) -> list[str]:
    """The settings that must be filled before signatures can reach ``required``."""
    missing = []
    if at_least(required, "B-T") and not tsa_url:
        missing.append("NASKAH_TSA_URL")
    if at_least(required, "B-LT") and not trust_roots:
        missing.append("NASKAH_TRUST_ROOTS")
    return missing


def require_reachable(required: str, *, tsa_url: str | None, trust_roots: Sequence[Any]) -> None:
    """Refuse to start a signature that cannot reach ``required`` with this configuration."""
    missing = missing_settings(required, tsa_url=tsa_url, trust_roots=trust_roots)
    if not missing:
        return
    what = {"NASKAH_TSA_URL": "alamat layanan cap waktu (TSA)", "NASKAH_TRUST_ROOTS": "sertifikat akar tepercaya"}
    named = " dan ".join(f"{name} ({what[name]})" for name in missing)
    raise ServiceUnavailable(
        f"Naskah memerlukan tanda tangan PAdES {required} ({_WHAT[required]}), tetapi server belum dikonfigurasi: "
        f"{named} belum diisi. Tidak ada yang ditandatangani. Minta admin mengisi pengaturan tersebut "
        "(NASKAH_PADES_LEVEL hanya boleh diturunkan dengan sengaja).",
        reason="pades_level_unreachable",
        required=required,
        missing=missing,
    )


def reached_level(pdf: bytes, field: str, trust_roots: Sequence[Any]) -> str:
    """The PAdES level the signature in ``field`` reaches, read from the file offline
    (:func:`pipeline.sign.verify.signature_level`; without trust roots at most B-T)."""
    return signature_level(pdf, field, trust_roots)


def _signature(pdf: bytes, field: str) -> Any:
    """The embedded signature in ``field`` (None when there is none)."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        return next((e for e in reader.embedded_regular_signatures if str(e.field_name) == field), None)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise refuse_unreadable(exc) from exc


def require_reached(pdf: bytes, field: str, required: str, trust_roots: Sequence[Any]) -> str:
    """Refuse a signature that did not reach ``required`` (it is then not recorded); returns the level."""
    reached = reached_level(pdf, field, trust_roots)
    if not at_least(reached, required):
        log.warning("signature in %s reached %s only, %s required", field, reached, required)
        raise ServiceUnavailable(
            f"Tanda tangan yang dihasilkan hanya mencapai PAdES {reached}, padahal naskah memerlukan {required} "
            f"({_WHAT.get(required, required)}); tanda tangan tidak dicatat. Periksa layanan cap waktu dan "
            "OCSP/CRL, lalu ulangi.",
            reason="pades_level_not_reached",
            required=required,
            reached=reached,
            field=field,
        )
    return reached


def raise_to_level(pdf: bytes, field: str, required: str, *, tsa_url: str | None, trust_roots: Sequence[Any]) -> bytes:
    """``pdf`` with the signature in ``field`` (made elsewhere) raised to ``required``: its
    validation data embedded, then a document timestamp when it has no timestamp of its own
    (see the module docstring).  Returns ``pdf`` unchanged when it is there already (a partner's
    B-LT file is kept byte for byte)."""
    emb = _signature(pdf, field)
    if emb is None or at_least(reached_level(pdf, field, trust_roots), required):
        return pdf
    # its certificates and OCSP/CRL; refused (InvalidInput, revocation_unavailable) when they cannot be had
    out = embed_validation_data(pdf, trust_roots, field) if trust_roots else pdf
    if at_least(required, "B-T") and tsa_url and not has_signature_timestamp(emb):
        out = _document_timestamp(out, tsa_url, trust_roots)
    return out


def _document_timestamp(pdf: bytes, tsa_url: str, trust_roots: Sequence[Any]) -> bytes:
    try:
        return append_document_timestamp(pdf, tsa_url, trust_roots, renew=False)
    except (SigningError, TimestampRequestError, OSError) as exc:
        raise ServiceUnavailable(
            "Layanan cap waktu (TSA) tidak dapat dihubungi untuk memberi cap waktu pada tanda tangan ini. Coba lagi "
            "beberapa saat lagi.",
            reason="tsa_unavailable",
            diagnostic=str(exc),
        ) from exc
    except (PathBuildingError, ValidationError) as exc:
        raise ServiceUnavailable(
            "Sertifikat layanan cap waktu (TSA) tidak dapat divalidasi dengan akar tepercaya yang dikonfigurasi "
            "(NASKAH_TRUST_ROOTS).",
            reason="timestamp_chain_invalid",
            diagnostic=str(exc),
        ) from exc


def append_document_timestamp(pdf: bytes, tsa_url: str, trust_roots: Sequence[Any], *, renew: bool) -> bytes:
    """``pdf`` with a new document timestamp from ``tsa_url`` as an incremental update; with ``renew``
    (a B-LTA chain) the last document timestamp's validation data first.

    pyHanko's ``timestamp_pdf`` / ``update_archival_timestamp_chain`` do the same, but the latter
    writes through a STRICT incremental writer, which refuses files whose earlier updates another
    signer wrote its own way (poppler's orphaned generations: ``pdfread``); this writer reads
    leniently.  The bytes already there are judged elsewhere (``verify_pdf``, ``desk``); here only new
    ones are appended.  Raises pyHanko's errors (TSA unreachable, chain invalid): callers say what
    they mean for their users.
    """
    return asyncrun.run(_append_document_timestamp(pdf, tsa_url, trust_roots, renew=renew))


async def _append_document_timestamp(pdf: bytes, tsa_url: str, trust_roots: Sequence[Any], *, renew: bool) -> bytes:
    stamper = signers.PdfTimeStamper(http_timestamper(tsa_url))
    vc = validation_context(trust_roots) if trust_roots else None
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        md_algorithm = "sha256"
        if renew and vc is not None:
            last = writer.prev.embedded_timestamp_signatures[-1]
            status = await ades_timestamp_validation_internal(
                last.signed_data,
                validation_context=vc,
                expected_tst_imprint=last.compute_digest,
                ts_qualification_requirements=None,
            )
            api_status = status.api_status
            if api_status is None or api_status.validation_path is None:
                raise InvalidInput(
                    "Rantai sertifikat cap waktu dokumen terakhir tidak dapat divalidasi dengan akar tepercaya yang "
                    "dikonfigurasi; cap waktu baru tidak dibuat.",
                    reason="timestamp_chain_invalid",
                    diagnostic=str(status.ades_subindic),
                )
            md_algorithm = api_status.md_algorithm
            DocumentSecurityStore.supply_dss_in_writer(
                writer, last.pkcs7_content, paths=(api_status.validation_path,), validation_context=vc
            )
        out = io.BytesIO()
        await stamper.async_timestamp_pdf(writer, md_algorithm, vc, output=out)
        return out.getvalue()
    finally:
        if vc is not None:
            await vc.aclose()
