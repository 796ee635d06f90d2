"""Housekeeping: remove what no record points at, after ``reconcile`` has repaired what it can.

What is left behind, and why it is safe to remove:

* **object versions no row points at** in the working store: a losing paraf racer's stamped PDF, a
  signing or archiving request that lost the race or was killed before its commit, the objects of a
  revision that ``reconcile`` discarded.  Every object the system keeps is named by a row (a
  revision's DOCX and PDF, a ``naskah_file`` row: paraf, final and signed PDFs, a party's
  lambang, a cached preview page image: ``preview_page``) by key AND version id, so in a versioned
  store a key that is referenced can still have unreferenced versions: those are orphans too.
* **crash leftovers** of the local store (``.<id>.blob.tmp-*`` of a put that was killed, blobs
  without metadata, empty key directories): ``ObjectStore.sweep_leftovers``.
* **LibreOffice working directories** of converters whose process is gone
  (``pipeline.workdirs.sweep``), with the LibreOffice processes still running in them.

The archive store is never touched: its versions are locked; ``naskah arsip yatim`` lists the ones
no record names, and this report counts them.

Race safety.  A request stores its object *before* the transaction that records it commits, so an
object without a row may be one whose row is about to be committed.  Nothing younger than
``min_age`` (one hour by default, ``NASKAH_CLEANUP_MIN_AGE_MINUTES``) is removed, and the store is
listed *before* the records are read: a version is removed only when it was written more than
``min_age`` before the listing and still no row named it after the listing, i.e. its writer took
more than ``min_age`` between storing it and committing, far beyond any request's time limits
(conversion, signing and a database transaction each time out in minutes).  Versions of a key that a
pending revision row names are left to ``reconcile``.

Guards against a wrong configuration (a database that is not this store's, an empty new one): a
version is removed only when its key's owner (the naskah of ``naskah/<id>/…``, the kerja sama of
``kerja_sama/<id>/…``) exists and is older than the version; anything else (another prefix, an
unknown owner, a version older than its owner) is kept and reported as ``foreign``.  A superseded
lambang that the audit trail recorded as uploaded is history, not an orphan, and is kept.  The preview
cache (``preview/<sha256>/…``, ``pipeline.workspace.preview``) has no owner row: its referenced images are kept,
and an unreferenced one (a render whose lease was taken over, a cache dropped because one of its images
was damaged) is removed once older than ``min_age``; it is a cache, rendered again when needed.  A monev
round's attachments (``monev/<round>/…``, ``monev_lampiran`` rows) are referenced; one no row names (its
step's transaction failed) has no owner this cleanup judges and is kept as ``foreign``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from pipeline.drafting.revisions import ReconcileResult, reconcile
from pipeline.errors import store_errors
from pipeline.models import (
    Arsip,
    ArsipVersion,
    AuditEntry,
    KerjaSama,
    MonevLampiran,
    Naskah,
    NaskahFile,
    Pihak,
    PreviewPage,
    Revision,
    RevisionState,
    utcnow,
)
from pipeline.workdirs import SweptDir, sweep
from storage.db import session_scope
from storage.objects import ListedVersion, ObjectLocked, ObjectMissing

if TYPE_CHECKING:
    from pipeline.services import Services

__all__ = ["DEFAULT_MIN_AGE", "CleanupReport", "Housekeeping", "cleanup", "housekeeping", "referenced_versions"]

log = logging.getLogger(__name__)

DEFAULT_MIN_AGE = timedelta(hours=1)
CLOCK_SKEW = timedelta(minutes=5)  # between our clock, the database's rows and an S3 server's dates

PREVIEW_PREFIX = "preview/"  # pipeline.workspace.preview's cached page images
_OWNER = re.compile(r"^(naskah|kerja_sama)/([0-9]+)/")


@dataclass
class CleanupReport:
    """What one cleanup found and did (or, in a dry run, would do)."""

    dry_run: bool
    min_age: timedelta
    listed: int = 0
    """Versions in the working store."""
    referenced: int = 0
    """Of those, versions a row points at."""
    removed: list[ListedVersion] = field(default_factory=list)
    """Orphans removed (in a dry run: that would be removed)."""
    young: int = 0
    """Unreferenced versions younger than ``min_age``: maybe a request still on its way to its commit."""
    pending: int = 0
    """Unreferenced versions of keys a pending revision names: ``reconcile``'s to judge."""
    foreign: list[ListedVersion] = field(default_factory=list)
    """Unreferenced versions this cleanup will not judge (unknown prefix or owner, older than the owner)."""
    history: int = 0
    """Superseded lambang versions the audit trail recorded: kept."""
    locked: list[ListedVersion] = field(default_factory=list)
    """Unreferenced versions under retention: cannot be removed."""
    leftovers: list[str] = field(default_factory=list)
    """Crash leftovers of the local store (temp files, blobs without metadata, empty directories)."""
    workdirs: list[SweptDir] = field(default_factory=list)
    """LibreOffice working directories of processes that are gone."""
    archive_orphans: int | None = None
    """Locked archive versions no record names (``naskah arsip yatim``); None: no archive store."""

    @property
    def bytes_freed(self) -> int:
        return sum(max(v.size, 0) for v in self.removed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "min_age_minutes": self.min_age.total_seconds() / 60,
            "listed": self.listed,
            "referenced": self.referenced,
            "removed": [{"key": v.key, "version_id": v.version_id, "size": v.size} for v in self.removed],
            "bytes_freed": self.bytes_freed,
            "young": self.young,
            "pending": self.pending,
            "foreign": [{"key": v.key, "version_id": v.version_id} for v in self.foreign],
            "history": self.history,
            "locked": [{"key": v.key, "version_id": v.version_id} for v in self.locked],
            "leftovers": self.leftovers,
            "workdirs": [{"path": d.path, "reason": d.reason, "killed": list(d.killed)} for d in self.workdirs],
            "archive_orphans": self.archive_orphans,
        }

    def summary(self) -> str:
        """One line for logs (English)."""
        verb = "would remove" if self.dry_run else "removed"
        return (
            f"cleanup: {self.listed} versions listed, {self.referenced} referenced; {verb} {len(self.removed)} "
            f"orphans ({self.bytes_freed} bytes), {len(self.leftovers)} store leftovers, {len(self.workdirs)} "
            f"LibreOffice directories; kept {self.young} young, {self.pending} pending, {self.history} lambang "
            f"history, {len(self.foreign)} foreign, {len(self.locked)} locked; archive orphans (locked): "
            f"{self.archive_orphans if self.archive_orphans is not None else '-'}"
        )


def referenced_versions(session: Session) -> tuple[set[tuple[str, str]], set[str]]:
    """``(key, version_id)`` of every object a row points at, and the keys of pending revisions."""
    refs: set[tuple[str, str]] = set()
    pending: set[str] = set()
    for rev in session.exec(select(Revision)).all():
        if rev.docx_version_id:
            refs.add((rev.docx_key, rev.docx_version_id))
        if rev.pdf_version_id:
            refs.add((rev.pdf_key, rev.pdf_version_id))
        if rev.state != RevisionState.COMPLETE.value:
            pending.update((rev.docx_key, rev.pdf_key))
    refs.update(session.exec(select(NaskahFile.key, NaskahFile.version_id)).all())  # type: ignore[arg-type]
    refs.update(
        (key, version)
        for key, version in session.exec(
            select(Pihak.lambang_key, Pihak.lambang_version_id).where(col(Pihak.lambang_key).is_not(None))  # type: ignore[arg-type]
        ).all()
        if key and version
    )
    refs.update(session.exec(select(PreviewPage.image_key, PreviewPage.image_version_id)).all())  # type: ignore[arg-type]
    refs.update(session.exec(select(MonevLampiran.key, MonevLampiran.version_id)).all())  # type: ignore[arg-type]
    refs.update(session.exec(select(PreviewPage.thumb_key, PreviewPage.thumb_version_id)).all())  # type: ignore[arg-type]
    # the archive store is another store by default; should it be this one, its records count too
    refs.update(
        session.exec(
            select(Arsip.key, ArsipVersion.version_id).join(ArsipVersion, ArsipVersion.arsip_id == Arsip.id)  # type: ignore[arg-type]
        ).all()
    )
    return refs, pending


def cleanup(
    svc: Services,
    *,
    min_age: timedelta = DEFAULT_MIN_AGE,
    dry_run: bool = False,
    temp_root: Path | None = None,
) -> CleanupReport:
    """Remove the working store's orphans, its crash leftovers and dead converters' directories.

    Run after ``reconcile`` (``housekeeping`` does both): a pending revision is repaired or
    discarded first, and only then are its objects judged.  See the module docstring for what is
    removed and why it is safe.
    """
    report = CleanupReport(dry_run=dry_run, min_age=min_age)
    listed_at = utcnow()
    with store_errors():
        inventory = svc.store.inventory("")  # first the store, then the records (see "Race safety")
    report.listed = len(inventory)
    with session_scope(svc.engine) as session:
        refs, pending = referenced_versions(session)
        owners = {
            "naskah": dict(session.exec(select(Naskah.id, Naskah.created_at)).all()),  # type: ignore[arg-type]
            "kerja_sama": dict(session.exec(select(KerjaSama.id, KerjaSama.created_at)).all()),  # type: ignore[arg-type]
        }
        lambang_history = {
            (case_id, sha)
            for case_id, sha in session.exec(
                select(AuditEntry.kerja_sama_id, AuditEntry.object_sha256).where(
                    col(AuditEntry.kerja_sama_id).is_not(None), col(AuditEntry.object_sha256).is_not(None)
                )
            ).all()
        }
    for version in inventory:
        if (version.key, version.version_id) in refs:
            report.referenced += 1
        elif version.key in pending:
            report.pending += 1
        elif version.created > listed_at - min_age:
            report.young += 1
        elif version.key.startswith(PREVIEW_PREFIX):  # a cache: no owner row to judge it by
            _remove(svc, version, report)
        elif not _owner_older(version, owners):
            report.foreign.append(version)
        elif _recorded_lambang(svc, version, lambang_history):
            report.history += 1
        else:
            _remove(svc, version, report)
    if report.foreign:
        log.warning(
            "cleanup: %d unreferenced versions kept as foreign (unknown prefix or owner, or older than their "
            "owner: is this the store of this database?), e.g. %s",
            len(report.foreign),
            ", ".join(f"{v.key}@{v.version_id}" for v in report.foreign[:5]),
        )
    with store_errors():
        report.leftovers = svc.store.sweep_leftovers(min_age.total_seconds(), dry_run=dry_run)
    report.workdirs = sweep(temp_root, older_than=min_age.total_seconds(), dry_run=dry_run)
    if svc.archive_store is not None:
        from pipeline.archival.archive import orphans

        report.archive_orphans = len(orphans(svc))
    log.info("%s", report.summary())
    return report


def _owner_older(version: ListedVersion, owners: dict[str, dict[int, datetime]]) -> bool:
    """The key's owner row exists and was made before the version (allowing for clock skew)."""
    match = _OWNER.match(version.key)
    if match is None:
        return False
    created = owners[match.group(1)].get(int(match.group(2)))
    return created is not None and created <= version.created + CLOCK_SKEW


def _recorded_lambang(svc: Services, version: ListedVersion, history: set[tuple[int | None, str | None]]) -> bool:
    """A party's earlier lambang, replaced by a newer upload: the audit trail names its sha256."""
    match = _OWNER.match(version.key)
    if match is None or match.group(1) != "kerja_sama":
        return False
    with store_errors():
        head = svc.store.head(version.key, version.version_id)
    return head is not None and (int(match.group(2)), head.sha256) in history


def _remove(svc: Services, version: ListedVersion, report: CleanupReport) -> None:
    if report.dry_run:
        report.removed.append(version)
        return
    with store_errors():
        try:
            svc.store.delete(version.key, version.version_id)
        except ObjectLocked:
            report.locked.append(version)
            return
        except ObjectMissing:  # another cleanup (a second API process) was first
            return
    report.removed.append(version)
    log.info("removed orphan %s version %s (%d bytes)", version.key, version.version_id, version.size)


@dataclass
class Housekeeping:
    """``reconcile`` then ``cleanup``: what ``naskah reconcile`` and the API's start-up run."""

    reconciled: list[ReconcileResult]
    cleanup: CleanupReport


def housekeeping(
    svc: Services,
    *,
    pending_older_than: timedelta = timedelta(minutes=10),
    min_age: timedelta = DEFAULT_MIN_AGE,
    dry_run: bool = False,
    temp_root: Path | None = None,
) -> Housekeeping:
    """Repair pending revisions, then remove what no row points at (in that order: a revision
    ``reconcile`` completes is referenced, one it discards leaves orphans for the cleanup)."""
    reconciled = reconcile(svc, older_than=pending_older_than, dry_run=dry_run)
    return Housekeeping(reconciled, cleanup(svc, min_age=min_age, dry_run=dry_run, temp_root=temp_root))
