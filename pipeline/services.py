"""The long-lived parts a workflow needs, in one bundle built by the entry points.

Also the single place where storage exceptions become pipeline errors, so workflows
never see ``storage``'s own exception types.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from pipeline.convert import Converter
from pipeline.docxcheck import DocxLimits
from pipeline.errors import Conflict, IntegrityAlarm, NotFound, StorageUnavailable
from pipeline.pdflimits import PdfLimits
from pipeline.sop import Profile, load_profile
from pipeline.templates import TemplateRegistry
from storage.objects import (
    ChecksumMismatch,
    ObjectLocked,
    ObjectMissing,
    ObjectStore,
    StoredObject,
    StoreError,
    StoreUnavailable,
)

if TYPE_CHECKING:  # pyHanko behind it: imported where a worker is made (api.config), not by every user of Services
    from pipeline.pdfworker import PdfWorker

__all__ = ["Services", "store_errors"]

log = logging.getLogger(__name__)


@contextmanager
def store_errors() -> Iterator[None]:
    """Translate object-store failures into errors a person can act on."""
    try:
        yield
    except StoreUnavailable as exc:
        log.warning("object store unavailable: %s", exc)
        raise StorageUnavailable() from exc
    except ChecksumMismatch as exc:
        log.critical("INTEGRITY ALARM: %s", exc)
        raise IntegrityAlarm(key=getattr(exc, "key", None), version_id=getattr(exc, "version_id", None)) from exc
    except ObjectMissing as exc:
        log.error("object missing from store: %s", exc)
        raise NotFound(
            "Berkas revisi tidak ditemukan di penyimpanan. Laporkan kepada admin.",
            key=getattr(exc, "key", None),
        ) from exc
    except ObjectLocked as exc:
        log.warning("refused to change a locked object: %s", exc)
        raise Conflict(
            "Berkas arsip terkunci (object lock) dan tidak dapat diubah atau dihapus.",
            key=getattr(exc, "key", None),
            retain_until=str(getattr(exc, "retain_until", "")),
        ) from exc
    except StoreError as exc:  # anything else the store refuses: not the user's fault, maybe passing
        log.error("object store error: %s", exc)
        raise StorageUnavailable() from exc


@dataclass
class Services:
    """Database engine, object store, converter and template registry, built once."""

    engine: Engine
    store: ObjectStore
    converter: Converter
    templates: TemplateRegistry
    docx_limits: DocxLimits = field(default_factory=DocxLimits)
    pdf_limits: PdfLimits = field(default_factory=PdfLimits)
    """What a PDF from outside (a counterparty's return, a file to verify) may hold: size, pages, objects, fields."""
    pdf_worker: PdfWorker | None = None
    """Where the analysis of such a PDF runs: a child process with a memory and time limit (the API's
    wiring); None runs it in this process (the CLI, tests that do not test the worker)."""
    profile: Profile = field(default_factory=lambda: load_profile("paser"))
    """The SOP profile: paraf chain, reviewers, signers and standard times of this region."""
    trust_roots: list[Any] = field(default_factory=list)
    """Trusted root certificates (ours and every counterparty CA we accept), asn1crypto objects."""
    tsa_url: str | None = None
    """RFC 3161 timestamp authority for PAdES B-T (``pades_level`` B-T or B-LT needs it)."""
    pades_level: str = "B-LT"
    """The PAdES level every signature of a naskah must reach (``pipeline.pades``): B-LT by default;
    signing that cannot reach it is refused, naming the setting to fix."""
    signer_backends: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Username -> signer backend configuration (``pipeline.signer_config``; no official's secret)."""
    archive_store: ObjectStore | None = None
    """Where archived originals go, each version locked (S3 object lock COMPLIANCE / local read-only)."""
    archive_retention_days: int = 10957
    """How long an archived version is locked against deletion (default 30 years)."""

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        with store_errors():
            return self.store.put(key, data, content_type=content_type)

    def get(self, key: str, version_id: str, sha256: str) -> bytes:
        with store_errors():
            return self.store.get(key, version_id, sha256=sha256)

    def put_archive(self, key: str, data: bytes, content_type: str, retain_until: datetime) -> StoredObject:
        """Store a new locked version in the archive store."""
        if self.archive_store is None:
            raise StorageUnavailable("Penyimpanan arsip belum dikonfigurasi (NASKAH_ARCHIVE_STORAGE_URL).")
        with store_errors():
            return self.archive_store.put(key, data, content_type=content_type, retain_until=retain_until)

    def get_archive(self, key: str, version_id: str, sha256: str) -> bytes:
        """An archived original, byte-identical; a hash mismatch is an integrity alarm."""
        if self.archive_store is None:
            raise StorageUnavailable("Penyimpanan arsip belum dikonfigurasi (NASKAH_ARCHIVE_STORAGE_URL).")
        with store_errors():
            return self.archive_store.get(key, version_id, sha256=sha256)

    def close(self) -> None:
        self.converter.close()
        self.engine.dispose()
