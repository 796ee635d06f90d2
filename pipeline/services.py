"""The long-lived parts a workflow needs, in one bundle built by the entry points.

The composition root of ``pipeline``: it builds the engines (converter, page renderer, PDF worker,
template registry) and is imported at run time only by the entry points (``api``); every module
below names :class:`Services` for type checking only (import-linter checks it).  A step that makes
it someone's turn calls :meth:`Services.after_step` (naskah steps) or announces it through
``pipeline.turns`` (intake and monev steps, whose listeners this module registers by importing
``pipeline.inbox.flows``): either way no step imports the inbox above it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

import pipeline.inbox.flows  # noqa: F401  registers the listeners of pipeline.turns (module docstring)
from pipeline.drafting.convert import Converter
from pipeline.drafting.docxcheck import DocxLimits
from pipeline.drafting.templates import TemplateRegistry
from pipeline.errors import StorageUnavailable, store_errors
from pipeline.models import ArsipVersion, Naskah, NaskahFile, ObjectStoreRecord, Pihak, Revision, User
from pipeline.pdf.pagerender import PageRenderer
from pipeline.pdf.pdflimits import PdfLimits
from pipeline.sign.reportcache import ReportCache
from pipeline.sign.verify import as_certificates
from pipeline.sop import Profile, load_profile
from storage.db import session_scope
from storage.objects import (
    LocalObjectStore,
    ObjectStore,
    StoredObject,
    StoreMissing,
    open_store,
    parse_store_url,
)

if TYPE_CHECKING:  # pyHanko behind it: imported where a worker is made (api.config), not by every user of Services
    from pipeline.sign.pdfworker import PdfWorker

__all__ = ["Services", "open_bound_store"]

log = logging.getLogger(__name__)


#: Rows that point at objects in each role's store: a database holding any has had its store.
_POINTERS = {
    "objects": (
        select(Revision.id).limit(1),
        select(NaskahFile.id).limit(1),
        select(Pihak.id).where(col(Pihak.lambang_key).is_not(None)).limit(1),
    ),
    "arsip": (select(ArsipVersion.id).limit(1),),
}


def open_bound_store(engine: Engine, role: str, url: str, *, object_lock: bool = False) -> ObjectStore:
    """The store ``url`` names for ``role`` (``objects`` or ``arsip``), bound to this database.

    A local store is the one this database recorded (``object_store``): its folder must be there
    with a marker of the recorded id, else StorageUnavailable, never a new empty folder.  The first
    start with a database that recorded none sets the folder up (or marks an existing one, a store
    from before markers) and records it; a missing or empty folder is refused even then when the
    database already points at stored objects (the volume was not mounted at the upgrade).  Two processes
    starting at once record one id; the other finds the recorded id in the same marker.

    S3 is opened as before: the bucket is created when missing at start, and a bucket that goes
    away later is storage_unavailable per request.  The database must be migrated.
    """
    loc = parse_store_url(url)
    if loc.kind != "local":
        with store_errors():
            return open_store(url, object_lock=object_lock)
    assert loc.path is not None
    root = loc.path.expanduser().absolute()
    with session_scope(engine) as session:
        record = session.get(ObjectStoreRecord, role)
        holds_objects = record is None and any(session.exec(q).first() is not None for q in _POINTERS[role])
    with store_errors():
        if record is not None:
            return LocalObjectStore(root, store_id=record.store_id)
        if holds_objects and (not root.is_dir() or not any(root.iterdir())):  # gone, or an empty mount point
            raise StoreMissing(
                f"object store folder {root} is missing or empty and the database points at objects stored in it",
                path=root,
                reason="missing",
            )
        store = LocalObjectStore.create(root)
    try:
        with session_scope(engine) as session:
            session.add(ObjectStoreRecord(role=role, store_id=store.store_id, location=str(root)))
        log.info("recorded the %s store %s (id %s) in the database", role, root, store.store_id)
        return store
    except IntegrityError:  # another process recorded it first: it must be this very store
        with session_scope(engine) as session:
            record = session.get(ObjectStoreRecord, role)
        assert record is not None
        with store_errors():
            return LocalObjectStore(root, store_id=record.store_id)


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
    """The PAdES level every signature of a naskah must reach (``pipeline.sign.pades``): B-LT by default;
    signing that cannot reach it is refused, naming the setting to fix."""
    signer_backends: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Username -> signer backend configuration (``pipeline.sign.signer_config``; no official's secret)."""
    archive_store: ObjectStore | None = None
    """Where archived originals go, each version locked (S3 object lock COMPLIANCE / local read-only)."""
    archive_retention_days: int = 10957
    """How long an archived version is locked against deletion (default 30 years)."""
    token_lifetime_days: int = 90
    """How long a new API token stays valid (``NASKAH_TOKEN_LIFETIME_DAYS``; a shorter life may be asked)."""
    public_url: str = ""
    """Where people open the web pages (``NASKAH_PUBLIC_URL``, no trailing slash): the QR code in every
    signature block links to ``{public_url}/v/<token>`` (``pipeline.sign.publiklink``); empty: ``naskah:v:<token>``."""
    page_renderer: PageRenderer = field(default_factory=PageRenderer)
    """Renders page previews with poppler, bounded in time, pages and concurrency (``NASKAH_PREVIEW_*``);
    ``pipeline.workspace.preview`` caches what it renders, once per PDF sha256."""
    report_cache: ReportCache = field(default_factory=ReportCache)
    """Verification reports of stored files shown on pages (the signing page, desk-to-desk proofs), per
    sha256, trust configuration, expected officials and time bucket (``pipeline.sign.reportcache``)."""

    def __post_init__(self) -> None:
        # parsed once here, before request threads share them (``pipeline.sign.verify.parsed``)
        self.trust_roots = as_certificates(self.trust_roots)

    def after_step(self, session: Session, naskah: Naskah, actor: User | None) -> None:
        """In the step's transaction, after it: tell whoever's turn it now is (``pipeline.inbox``).
        Never raises; see :func:`pipeline.inbox.notifications.after_step`."""
        from pipeline.inbox import notifications

        notifications.after_step(session, self, naskah, actor)

    def after_step_now(self, naskah_id: int, actor: User | None) -> None:
        """:meth:`after_step` in a transaction of its own (a step recorded outside one)."""
        from pipeline.inbox import notifications

        notifications.after_step_now(self, naskah_id, actor)

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
