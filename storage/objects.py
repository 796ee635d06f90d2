"""The versioned object store: every revision's DOCX and PDF, kept byte for byte, forever.

Two backends behind one small protocol:

* ``LocalObjectStore`` (the embedded default, ``file:./var/objects``): one directory per
  key, one ``<version_id>.blob`` plus ``<version_id>.json`` per version, written
  atomically so that a crash never leaves a half-written version visible.  The folder is
  made once, by set-up (``LocalObjectStore.create``), with a marker file naming the store's
  random id; afterwards it is only opened, never recreated: a folder that has gone (an
  unmounted volume, a moved folder) or that is another store is ``StoreMissing``, at open
  and on every operation, instead of an empty new folder that new versions would go into;
* ``S3ObjectStore`` (MinIO or S3, through the ``minio`` SDK) on a bucket with versioning
  enabled, so a put never replaces what an earlier revision points at.

Both record the sha256 of every object at put time and verify it on *every* read: the
stored bytes are the legal record, so a silent change must raise, never be served.

Archived originals are also *immutable*: ``put(..., retain_until=...)`` locks the new
version until that date.  On S3 that is object lock in COMPLIANCE mode (the server
refuses to delete the version, not even the root account can shorten it; the bucket
must have been created with object lock, ``object_lock=True``); locally the date is
recorded in the version's metadata, both files are made read-only, ``delete`` refuses
and ``cleanup`` leaves the version alone.  Overwriting is impossible on both by
construction: every put makes a new version.

This module must not import ``pipeline`` (layering: api -> pipeline -> storage), so it
has its own exception tree; ``pipeline/services.py`` translates it:

    StoreError              anything else that went wrong (configuration, protocol)
    ├── ObjectMissing       no such key or version
    ├── ObjectLocked        that version is under retention and cannot be deleted yet
    ├── StoreUnavailable    the store cannot be reached or used right now; retry later
    │   └── StoreMissing    a local store's folder is gone, unmarked, or another store's
    └── ChecksumMismatch    the bytes read are not the bytes recorded at put time
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qs, unquote, urlsplit

import certifi
import minio
import urllib3
from minio.commonconfig import COMPLIANCE
from minio.error import InvalidResponseError, S3Error, ServerError
from minio.helpers import MAX_PART_SIZE, MIN_PART_SIZE
from minio.retention import Retention
from minio.versioningconfig import ENABLED, VersioningConfig

__all__ = [
    "STORE_MARKER",
    "ChecksumMismatch",
    "ListedVersion",
    "LocalObjectStore",
    "ObjectLocked",
    "ObjectMissing",
    "ObjectStore",
    "S3ObjectStore",
    "StoreError",
    "StoreLocation",
    "StoreMissing",
    "StoreUnavailable",
    "StoredObject",
    "make_client",
    "open_store",
    "parse_store_url",
    "validate_key",
]

log = logging.getLogger(__name__)

MAX_KEY_LENGTH = 512
MAX_SEGMENT_BYTES = 255  # NAME_MAX of common filesystems: each key segment is a directory locally
LEFTOVER_AGE_S = 3600.0
CLOCK_SKEW = timedelta(minutes=5)  # between us and an S3 server, when judging whether a lock has expired

# ---------------------------------------------------------------------------- errors


class StoreError(Exception):
    """Base of every object-store failure; ``key``/``version_id`` say which object, when known."""

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        version_id: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        self.message = message
        self.key = key
        self.version_id = version_id
        self.endpoint = endpoint
        super().__init__(message)


class ObjectMissing(StoreError):
    """The key, or that version of it, is not in the store."""


class ObjectLocked(StoreError):
    """That version is under retention (object lock) until ``retain_until``: it cannot be deleted before.

    ``retain_until`` is None only for an S3 legal hold, which has no date.
    """

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        version_id: str | None = None,
        endpoint: str | None = None,
        retain_until: datetime | None = None,
    ) -> None:
        super().__init__(message, key=key, version_id=version_id, endpoint=endpoint)
        self.retain_until = retain_until


class StoreUnavailable(StoreError):
    """The store cannot be reached (network, server down, disk) or used (bucket gone, access denied)."""


class StoreMissing(StoreUnavailable):
    """A local store's folder is not there (``reason`` "missing"), has no marker ("unmarked": an empty
    mount point, a folder set up by hand) or another store's marker ("foreign"); ``path`` is the folder.

    The folder is never created again in its place: objects written there would be lost from view
    once the real store came back."""

    def __init__(self, message: str, *, path: Path, reason: str, endpoint: str | None = None) -> None:
        super().__init__(message, endpoint=endpoint)
        self.path = path
        self.reason = reason


class ChecksumMismatch(StoreError):
    """The bytes read do not hash to the recorded (or requested) sha256: an integrity alarm."""

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        version_id: str | None = None,
        endpoint: str | None = None,
        expected: str | None = None,
        actual: str | None = None,
    ) -> None:
        super().__init__(message, key=key, version_id=version_id, endpoint=endpoint)
        self.expected = expected
        self.actual = actual


# ---------------------------------------------------------------------------- protocol


@dataclass(frozen=True)
class StoredObject:
    """One version of one key, as recorded at put time."""

    key: str
    version_id: str
    sha256: str
    size: int


@dataclass(frozen=True)
class ListedVersion:
    """One version as a listing shows it, without reading it: for audits and housekeeping."""

    key: str
    version_id: str
    size: int
    created: datetime
    """When the version was written (aware UTC; on S3 the server's clock, to the second or millisecond)."""


@runtime_checkable
class ObjectStore(Protocol):
    """What the pipeline needs from a store: append-only versions, verified reads."""

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        retain_until: datetime | None = None,
    ) -> StoredObject:
        """Store ``data`` as a NEW version of ``key``; earlier versions are never touched.

        With ``retain_until`` (an aware datetime in the future) the new version is locked
        until then: ``delete`` raises ObjectLocked.  A store that cannot lock raises
        StoreError; a naive or past date raises ValueError.
        """
        ...

    def retention(self, key: str, version_id: str) -> datetime | None:
        """The retain-until date of one version (UTC), None when it was never locked.

        The date recorded is returned even once it has passed; ObjectMissing when there is
        no such version.
        """
        ...

    def delete(self, key: str, version_id: str) -> None:
        """Remove one version; ObjectLocked while it is retained, ObjectMissing when there is none."""
        ...

    def get(self, key: str, version_id: str, *, sha256: str | None = None) -> bytes:
        """The bytes of one version, verified against ``sha256`` (else the one recorded at put)."""
        ...

    def head(self, key: str, version_id: str) -> StoredObject | None:
        """What was recorded for one version, or None when there is no such version."""
        ...

    def versions(self, key: str) -> list[StoredObject]:
        """Every version of ``key``, oldest first; empty for an unknown key."""
        ...

    def listing(self, prefix: str) -> list[tuple[str, str]]:
        """``(key, version_id)`` of every version of every key under ``prefix`` (an audit of what
        the store holds, e.g. versions no record points at); no content is read."""
        ...

    def inventory(self, prefix: str = "") -> list[ListedVersion]:
        """Every version of every key under ``prefix`` with its size and time of writing, sorted by
        key then version; no content is read.  What housekeeping compares with the records."""
        ...

    def sweep_leftovers(self, older_than: float, *, dry_run: bool = False) -> list[str]:
        """Remove what interrupted puts left that no version owns (and is older than ``older_than``
        seconds, so a put in progress is never touched); returns what was (or would be) removed."""
        ...

    def check(self) -> None:
        """Cheap reachability check; raises StoreUnavailable."""
        ...

    @property
    def description(self) -> str:
        """Where the objects live, for logs (never contains secrets)."""
        ...


# ---------------------------------------------------------------------------- keys


def validate_key(key: str) -> str:
    """Reject keys that could escape the store root locally or mean different things on S3.

    The same key must name the same object on both backends, so the rules are the
    intersection: relative, ``/``-separated, no empty/``.``/``..`` segments, printable.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("object key must be a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"object key is longer than {MAX_KEY_LENGTH} characters")
    if not key.isprintable():
        raise ValueError(f"object key contains non-printable characters: {key!r}")
    if "\\" in key:
        raise ValueError(f"object key must not contain backslashes: {key!r}")
    if key.startswith("/"):
        raise ValueError(f"object key must be relative (no leading '/'): {key!r}")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise ValueError(f"object key has an empty, '.' or '..' segment: {key!r}")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise ValueError(f"object key segment is longer than {MAX_SEGMENT_BYTES} bytes: {segment[:40]!r}...")
    return key


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _verify(data: bytes, key: str, version_id: str, where: str, *, wanted: str | None, recorded: str | None) -> None:
    """Raise ChecksumMismatch unless ``data`` matches both the wanted and the recorded sha256.

    With neither known the bytes cannot be vouched for, which is treated as a mismatch
    too: this store never hands out unverified bytes.
    """
    actual = _sha256(data)
    for label, expected in (("requested", wanted), ("recorded", recorded)):
        if expected is not None and expected.lower() != actual:
            raise ChecksumMismatch(
                f"sha256 mismatch for {key} version {version_id} in {where}: "
                f"{label} {expected}, read {actual} ({len(data)} bytes)",
                key=key,
                version_id=version_id,
                endpoint=where,
                expected=expected,
                actual=actual,
            )
    if wanted is None and recorded is None:
        raise ChecksumMismatch(
            f"no sha256 recorded for {key} version {version_id} in {where}; refusing unverified bytes",
            key=key,
            version_id=version_id,
            endpoint=where,
            actual=actual,
        )


def _check_retain_until(retain_until: datetime) -> datetime:
    """The retain-until date in UTC; ValueError unless it is an aware datetime in the future.

    A naive datetime would be read in whatever zone the server runs in, and a date in
    the past would lock nothing (S3 refuses it too), so both are caller bugs.
    """
    if not isinstance(retain_until, datetime):
        raise ValueError(f"retain_until must be a datetime, not {type(retain_until).__name__}")
    if retain_until.tzinfo is None or retain_until.utcoffset() is None:
        raise ValueError(f"retain_until must be timezone-aware: {retain_until.isoformat()}")
    now = datetime.now(UTC)
    if retain_until <= now:
        raise ValueError(
            f"retain_until {retain_until.isoformat()} is not in the future (now {now.isoformat(timespec='seconds')})"
        )
    return retain_until.astimezone(UTC)


def _parse_utc(text: str) -> datetime:
    """An ISO-8601 date from a header or metadata file, as an aware UTC datetime."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _locked(key: str, version_id: str, where: str, retain_until: datetime | None) -> ObjectLocked:
    until = "under a legal hold" if retain_until is None else f"locked until {retain_until.isoformat()}"
    return ObjectLocked(
        f"{key} version {version_id} in {where} is {until}; it cannot be deleted before then",
        key=key,
        version_id=version_id,
        endpoint=where,
        retain_until=retain_until,
    )


# ---------------------------------------------------------------------------- local

_VERSION_RE = re.compile(r"^[0-9]{20}-[0-9a-f]{8}$")
_last_ns_lock = threading.Lock()
_last_ns = 0


def _new_version_id() -> str:
    """Time-sortable and unique: nanoseconds (monotonic within this process) plus 32 random bits."""
    global _last_ns
    with _last_ns_lock:
        ns = max(time.time_ns(), _last_ns + 1)
        _last_ns = ns
    return f"{ns:020d}-{secrets.token_hex(4)}"


def _fsync_dir(path: Path) -> None:
    """Make a rename/link in ``path`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_new(final: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``final`` atomically and only if it does not exist yet.

    Temp file in the same directory (O_EXCL), fsync, then hard-link it into place, which
    fails instead of replacing an existing file; where hard links are unsupported fall
    back to check-then-``os.replace`` (version ids are unique, so that is still safe).
    ``mode`` is set before the file appears under its final name (0o444 for locked
    versions, so they are never writable, not even for a moment).
    """
    tmp = final.with_name(f".{final.name}.tmp-{secrets.token_hex(6)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if mode != 0o644:
                os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, final)
        except FileExistsError:
            raise
        except OSError:
            if final.exists():
                raise FileExistsError(final) from None
            os.replace(tmp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _fsync_dir(final.parent)


STORE_MARKER = ".naskah-store"
"""The marker file at a local store's root: JSON with the store's random ``store_id``."""


def _read_marker(root: Path, where: str) -> str:
    """The store id in ``root``'s marker; StoreMissing when the folder or its marker is not there."""
    try:
        raw = (root / STORE_MARKER).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        reason = "unmarked" if root.is_dir() else "missing"
        raise StoreMissing(
            f"object store folder {root} is {'not marked as a store' if reason == 'unmarked' else 'missing'}",
            path=root,
            reason=reason,
            endpoint=where,
        ) from None
    except OSError as exc:
        raise StoreUnavailable(f"cannot read the marker of object store {root}: {exc}", endpoint=where) from exc
    try:
        store_id = str(json.loads(raw)["store_id"])
    except (ValueError, KeyError, TypeError):
        raise StoreMissing(
            f"object store marker {root / STORE_MARKER} is unreadable", path=root, reason="foreign", endpoint=where
        ) from None
    return store_id


class LocalObjectStore:
    """Versions as files under ``root``: ``<root>/<key>/<version_id>.blob`` and ``.json``.

    ``root`` must have been set up with ``create`` (the folder and its marker): opening checks
    the marker (and ``store_id`` when the caller knows which store it expects), and so does every
    operation, with one ``stat`` of the marker file (its inode: a folder put in the store's place
    has another one, and its id is read again).  Nothing is ever written to a folder that is not
    this store, and the root folder is never created outside ``create``.

    The metadata file is written after the blob and is what makes a version exist, so a
    crash at any point leaves either a complete version or an invisible leftover
    (cleaned by ``cleanup``).  Safe for concurrent puts from threads and processes.

    A locked version (``retain_until``) records the date in its metadata and both files
    are created read-only (0444).  That stops accidental writes by any process not
    running as root; it is not a defence against root or against someone who removes
    files by hand (the directory stays writable so that new versions can be added).
    Every access through this class honours the lock: ``delete`` refuses and
    ``cleanup`` never removes a read-only file.  Use S3 object lock where the archive
    must resist an administrator.
    """

    def __init__(self, root: Path, *, store_id: str | None = None) -> None:
        self.root = Path(root).expanduser().absolute()
        self.store_id = _read_marker(self.root, self.description)
        if store_id is not None and self.store_id != store_id:
            raise self._foreign(store_id)
        self._marker_inode = self._marker_stat()

    @classmethod
    def create(cls, root: Path) -> LocalObjectStore:
        """Set-up: the folder (with its parents) and its marker with a new random store id.

        A folder that is already a store is opened as it is (its id kept); a folder without a
        marker (a store from before markers) is adopted.  Two processes setting up at once end
        with one marker: it is written atomically and never replaced.
        """
        root = Path(root).expanduser().absolute()
        marker = root / STORE_MARKER
        try:
            root.mkdir(parents=True, exist_ok=True)
            if not marker.exists():
                content = {
                    "store_id": secrets.token_hex(16),
                    "created": datetime.now(UTC).isoformat(),
                    "about": "naskah object store: this file marks the folder as the store; do not remove it",
                }
                with contextlib.suppress(FileExistsError):  # another process set it up first: keep theirs
                    _write_new(marker, json.dumps(content, indent=1).encode(), mode=0o444)
                    log.info("set up object store %s (id %s)", root, content["store_id"])
        except OSError as exc:
            raise StoreUnavailable(f"cannot set up object store {root}: {exc}", endpoint=f"local:{root}") from exc
        return cls(root)

    def _marker_stat(self) -> tuple[int, int]:
        try:
            st = os.stat(self.root / STORE_MARKER)
        except OSError as exc:
            _read_marker(self.root, self.description)  # raises with the reason (missing / unmarked)
            raise StoreUnavailable(f"cannot stat the marker of {self.root}: {exc}", endpoint=self.description) from exc
        return st.st_dev, st.st_ino

    def _foreign(self, expected: str) -> StoreMissing:
        return StoreMissing(
            f"object store folder {self.root} is another store (id {self.store_id}, expected {expected})",
            path=self.root,
            reason="foreign",
            endpoint=self.description,
        )

    def _present(self) -> None:
        """This store is (still) at ``root``: one stat of the marker; StoreMissing otherwise."""
        inode = self._marker_stat()
        if inode != self._marker_inode:  # another marker file: the folder was replaced (or put back)
            found = _read_marker(self.root, self.description)
            if found != self.store_id:
                raise StoreMissing(
                    f"object store folder {self.root} is now another store (id {found}, expected {self.store_id})",
                    path=self.root,
                    reason="foreign",
                    endpoint=self.description,
                )
            self._marker_inode = inode

    def _make_dirs(self, directory: Path) -> None:
        """Create ``directory`` below the root, never the root itself (gone: FileNotFoundError)."""
        current = self.root
        for part in directory.relative_to(self.root).parts:
            current = current / part
            with contextlib.suppress(FileExistsError):
                current.mkdir()

    @property
    def description(self) -> str:
        return f"local:{self.root}"

    def __repr__(self) -> str:
        return f"LocalObjectStore({str(self.root)!r})"

    def _dir(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    @contextlib.contextmanager
    def _os_errors(self, key: str, version_id: str | None = None) -> Iterator[None]:
        """Disk full, permissions, I/O errors: the store is unusable right now."""
        try:
            yield
        except OSError as exc:
            raise StoreUnavailable(
                f"object store {self.description} failed for {key}: {exc}",
                key=key,
                version_id=version_id,
                endpoint=self.description,
            ) from exc

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        retain_until: datetime | None = None,
    ) -> StoredObject:
        directory = self._dir(key)
        until = None if retain_until is None else _check_retain_until(retain_until)
        mode = 0o644 if until is None else 0o444
        digest = _sha256(data)
        self._present()
        with self._os_errors(key):
            self._make_dirs(directory)
            attempts = 0
            while True:
                version_id = _new_version_id()
                try:
                    _write_new(directory / f"{version_id}.blob", data, mode=mode)
                    break
                except FileExistsError:  # practically impossible; never overwrite, pick another id
                    log.warning("version id collision for %s (%s); retrying", key, version_id)
                except FileNotFoundError:
                    # the key's directory was empty and sweep_leftovers removed it between our mkdir and
                    # the write: make it again (a few times; a directory that keeps vanishing is an error)
                    attempts += 1
                    if attempts > 3:
                        raise
                    self._make_dirs(directory)  # below the root only: a root that has gone stays gone
            meta = {
                "key": key,
                "version_id": version_id,
                "sha256": digest,
                "size": len(data),
                "content_type": content_type,
                "created": datetime.now(UTC).isoformat(),
            }
            if until is not None:
                meta["retain_until"] = until.isoformat()
            _write_new(directory / f"{version_id}.json", json.dumps(meta, indent=1).encode(), mode=mode)
        return StoredObject(key=key, version_id=version_id, sha256=digest, size=len(data))

    def _meta(self, key: str, version_id: str) -> dict[str, Any] | None:
        self._present()
        if not _VERSION_RE.fullmatch(version_id):  # also keeps version_id from naming another path
            return None
        path = self._dir(key) / f"{version_id}.json"
        with self._os_errors(key, version_id):
            try:
                raw = path.read_bytes()
            except (FileNotFoundError, NotADirectoryError):
                return None
        try:
            meta = json.loads(raw)
            until = meta.get("retain_until")
            return {
                **meta,
                "sha256": str(meta["sha256"]),
                "size": int(meta["size"]),
                "retain_until": None if until is None else _parse_utc(str(until)),
            }
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(
                f"unreadable metadata {path}: {exc}", key=key, version_id=version_id, endpoint=self.description
            ) from exc

    def head(self, key: str, version_id: str) -> StoredObject | None:
        meta = self._meta(key, version_id)
        if meta is None:
            return None
        return StoredObject(key=key, version_id=version_id, sha256=meta["sha256"], size=meta["size"])

    def _existing_meta(self, key: str, version_id: str) -> dict[str, Any]:
        meta = self._meta(key, version_id)
        if meta is None:
            raise ObjectMissing(
                f"{key} version {version_id} not found in {self.description}",
                key=key,
                version_id=version_id,
                endpoint=self.description,
            )
        return meta

    def retention(self, key: str, version_id: str) -> datetime | None:
        return self._existing_meta(key, version_id)["retain_until"]

    def delete(self, key: str, version_id: str) -> None:
        """Remove an unlocked (or expired) version: metadata first, so a crash leaves only a leftover blob."""
        until = self._existing_meta(key, version_id)["retain_until"]
        if until is not None and until > datetime.now(UTC):
            raise _locked(key, version_id, self.description, until)
        directory = self._dir(key)
        with self._os_errors(key, version_id):
            for suffix in (".json", ".blob"):
                with contextlib.suppress(FileNotFoundError):
                    (directory / f"{version_id}{suffix}").unlink()
            _fsync_dir(directory)
        log.info("deleted %s version %s from %s", key, version_id, self.description)

    def get(self, key: str, version_id: str, *, sha256: str | None = None) -> bytes:
        meta = self._existing_meta(key, version_id)
        blob = self._dir(key) / f"{version_id}.blob"
        with self._os_errors(key, version_id):
            try:
                data = blob.read_bytes()
            except FileNotFoundError:
                raise ObjectMissing(
                    f"{key} version {version_id}: metadata present but blob missing in {self.description}",
                    key=key,
                    version_id=version_id,
                    endpoint=self.description,
                ) from None
        _verify(data, key, version_id, self.description, wanted=sha256, recorded=meta["sha256"])
        return data

    def listing(self, prefix: str) -> list[tuple[str, str]]:
        self._present()
        found: list[tuple[str, str]] = []
        with self._os_errors(prefix):
            for dirpath, _dirs, files in os.walk(self.root):
                key = Path(dirpath).relative_to(self.root).as_posix()
                if not key.startswith(prefix):
                    continue
                found.extend(
                    (key, name.removesuffix(".json"))
                    for name in files
                    if name.endswith(".json") and _VERSION_RE.fullmatch(name.removesuffix(".json"))
                )
        return sorted(found)

    def inventory(self, prefix: str = "") -> list[ListedVersion]:
        found: list[ListedVersion] = []
        for key, version_id in self.listing(prefix):
            path = self._dir(key) / f"{version_id}.json"
            try:
                with self._os_errors(key, version_id):
                    stat = path.stat()
                    meta = json.loads(path.read_bytes())
            except (FileNotFoundError, StoreUnavailable):  # deleted meanwhile
                continue
            except ValueError:
                meta = {}
            try:
                created = _parse_utc(str(meta["created"]))
            except (KeyError, ValueError):
                created = datetime.fromtimestamp(stat.st_mtime, UTC)
            size = meta.get("size")
            found.append(ListedVersion(key, version_id, int(size) if isinstance(size, int) else -1, created))
        return found

    def versions(self, key: str) -> list[StoredObject]:
        directory = self._dir(key)
        self._present()
        found: list[StoredObject] = []
        with self._os_errors(key):
            try:
                names = sorted(p.name for p in directory.iterdir() if p.name.endswith(".json"))
            except (FileNotFoundError, NotADirectoryError):
                return []
        for name in names:
            obj = self.head(key, name.removesuffix(".json"))
            if obj is not None:
                found.append(obj)
        return found

    def check(self) -> None:
        self._present()
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StoreUnavailable(
                f"object store directory {self.root} is missing or not writable", endpoint=self.description
            )

    def cleanup(self, older_than: float = LEFTOVER_AGE_S) -> int:
        """Remove crash leftovers older than ``older_than`` seconds; returns how many files."""
        return sum(1 for path in self.sweep_leftovers(older_than) if not path.endswith("/"))

    def sweep_leftovers(self, older_than: float = LEFTOVER_AGE_S, *, dry_run: bool = False) -> list[str]:
        """Remove crash leftovers older than ``older_than`` seconds; returns their paths (directories end in /).

        Leftovers are temp files (``.<id>.blob.tmp-*``, which a process killed in the middle of a
        put leaves, as large as the object), blobs whose metadata never got written, and key
        directories left empty (by ``delete``).  All are invisible already, so this only
        reclaims space.  The age limit keeps it from racing a put that is still in progress
        (a put whose directory is removed under it makes the directory again).  Metadata files
        are never removed, and neither is a read-only blob: that is a locked version's (whose
        metadata may have been lost, which is for a person to look into, not for a sweep to
        finish off).  Files that are not the store's (a marker file) are left alone.
        """
        self._present()
        cutoff = time.time() - older_than
        removed: list[str] = []
        for dirpath, _dirs, files in os.walk(self.root, topdown=False):
            names = set(files)
            for name in files:
                path = Path(dirpath, name)
                is_tmp = name.startswith(".") and ".tmp-" in name
                is_orphan = (
                    name.endswith(".blob")
                    and _VERSION_RE.fullmatch(name.removesuffix(".blob")) is not None
                    and f"{name.removesuffix('.blob')}.json" not in names
                )
                if not (is_tmp or is_orphan):
                    continue
                with contextlib.suppress(FileNotFoundError):
                    st = path.stat()
                    if is_orphan and not st.st_mode & 0o222:
                        log.warning("leaving read-only blob %s alone: it belongs to a locked version", path)
                        continue
                    if st.st_mtime < cutoff:
                        if not dry_run:
                            path.unlink()
                            log.info("removed object store leftover %s (%d bytes)", path, st.st_size)
                        removed.append(str(path))
            directory = Path(dirpath)
            if directory == self.root or dry_run:
                continue
            with contextlib.suppress(OSError):  # not empty (anything at all in it), or gone: keep going
                if directory.stat().st_mtime < cutoff and not any(directory.iterdir()):
                    directory.rmdir()
                    removed.append(f"{directory}/")
        return removed


# ---------------------------------------------------------------------------- S3


def make_client(
    endpoint: str,
    access_key: str,
    secret_key: str,
    *,
    secure: bool = True,
    region: str | None = None,
) -> minio.Minio:
    """A MinIO client that fails fast when the server is down.

    The SDK default (5-minute timeouts, 5 retries) turns an outage into a hung request;
    here a refused connection fails within a second or two and is reported at once.
    """
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=2.0, read=30.0),
        maxsize=16,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(
            total=1,
            backoff_factor=0.2,
            status_forcelist=(500, 502, 503, 504),
            respect_retry_after_header=False,
        ),
    )
    return minio.Minio(
        endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region, http_client=http
    )


_MISSING_CODES = {"NoSuchKey", "NoSuchVersion"}
_UNUSABLE_CODES = {
    "NoSuchBucket",
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "SlowDown",
    "ServiceUnavailable",
    "InternalError",
}
# What S3 (AccessDenied), MinIO (AccessDenied or InvalidRequest "Object is WORM protected")
# and moto (AccessDenied) answer when asked to delete a version under retention.
_LOCK_REFUSAL_CODES = {"AccessDenied", "InvalidRequest", "ObjectLocked"}
_NO_LOCK_CONFIG_CODES = {"ObjectLockConfigurationNotFoundError", "NoSuchObjectLockConfiguration"}


class S3ObjectStore:
    """Versions on an S3/MinIO bucket with versioning ENABLED (checked at start).

    Every put sends the sha256 as ``x-amz-checksum-sha256`` (the server rejects a body
    that does not match it) and as user metadata ``x-amz-meta-sha256`` (hex), which every
    get verifies.  Build the client with ``make_client`` for short timeouts.

    With ``object_lock=True`` (the archive) the bucket must have object lock enabled,
    which S3 and MinIO allow only when the bucket is created: a new bucket is made so,
    an existing one without it is refused at start.  Only such a store accepts
    ``put(..., retain_until=...)``, which locks the version in COMPLIANCE mode; the
    server itself then refuses ``delete`` until that date.
    """

    def __init__(self, client: minio.Minio, bucket: str, *, create: bool = True, object_lock: bool = False) -> None:
        self.client = client
        self.bucket = bucket
        self.object_lock = object_lock
        base = getattr(client, "_base_url", None)  # the SDK has no public accessor for the endpoint
        self.endpoint: str = getattr(base, "host", "?")
        self._secure: bool = bool(getattr(base, "is_https", True))
        self._ensure_bucket(create)
        if object_lock:
            self._ensure_object_lock()

    @property
    def description(self) -> str:
        return f"{'s3' if self._secure else 's3+http'}://{self.endpoint}/{self.bucket}"

    def __repr__(self) -> str:
        return f"S3ObjectStore({self.description!r})"

    @contextlib.contextmanager
    def _errors(self, key: str | None = None, version_id: str | None = None) -> Iterator[None]:
        """Map SDK and network failures onto this module's exceptions, naming the endpoint."""
        where = self.description
        try:
            yield
        except S3Error as exc:
            status = getattr(exc.response, "status", 0) or 0
            if exc.code in _MISSING_CODES or (version_id and exc.code in {"InvalidArgument", "BadRequest"}):
                raise ObjectMissing(
                    f"{key} version {version_id} not found in {where} ({exc.code})",
                    key=key,
                    version_id=version_id,
                    endpoint=where,
                ) from exc
            if exc.code in _UNUSABLE_CODES or status >= 500:
                raise StoreUnavailable(
                    f"object store {where} refused the request: {exc.code}: {exc.message}",
                    key=key,
                    version_id=version_id,
                    endpoint=where,
                ) from exc
            raise StoreError(
                f"object store {where} error: {exc.code}: {exc.message}", key=key, version_id=version_id, endpoint=where
            ) from exc
        except (ServerError, InvalidResponseError, urllib3.exceptions.HTTPError, OSError) as exc:
            raise StoreUnavailable(
                f"object store {where} unreachable: {type(exc).__name__}: {exc}",
                key=key,
                version_id=version_id,
                endpoint=where,
            ) from exc

    def _ensure_bucket(self, create: bool) -> None:
        """Create the bucket (if allowed) and make sure versioning is on: without it a put would overwrite."""
        with self._errors():
            if not self.client.bucket_exists(self.bucket):
                if not create:
                    raise StoreUnavailable(f"bucket missing: {self.description}", endpoint=self.description)
                try:
                    self.client.make_bucket(self.bucket, object_lock=self.object_lock)
                    log.info("created bucket %s%s", self.description, " with object lock" if self.object_lock else "")
                except S3Error as exc:
                    if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                        raise
            status = self.client.get_bucket_versioning(self.bucket).status
            if status != ENABLED and create:
                self.client.set_bucket_versioning(self.bucket, VersioningConfig(ENABLED))
                log.info("enabled versioning on %s", self.description)
                status = self.client.get_bucket_versioning(self.bucket).status
        if status != ENABLED:
            raise StoreError(
                f"versioning is not enabled on {self.description} (status {status!r}); "
                "enable it (mc version enable ...) so that puts never overwrite",
                endpoint=self.description,
            )

    def _ensure_object_lock(self) -> None:
        """Refuse a bucket without object lock: retention could not be set, deletes would succeed."""
        with self._errors():
            try:
                self.client.get_object_lock_config(self.bucket)  # raises unless the bucket has it
                enabled = True
            except S3Error as exc:
                if exc.code not in _NO_LOCK_CONFIG_CODES:
                    raise
                enabled = False
        if not enabled:
            raise StoreError(
                f"object lock is not enabled on {self.description}, which this archive store needs: "
                "the bucket must be created with object lock (mc mb --with-lock ALIAS/BUCKET, or let this "
                "store create it); MinIO cannot turn it on for an existing bucket, so use a new bucket",
                endpoint=self.description,
            )

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        retain_until: datetime | None = None,
    ) -> StoredObject:
        validate_key(key)
        if len(data) > MAX_PART_SIZE:
            raise ValueError(f"object too large for a single PUT: {len(data)} bytes")
        retention = None
        if retain_until is not None:
            retention = Retention(COMPLIANCE, _check_retain_until(retain_until))
            if not self.object_lock:
                raise StoreError(
                    f"cannot lock {key}: {self.description} was opened without object lock "
                    "(open it with object_lock=True, on a bucket created with object lock)",
                    key=key,
                    endpoint=self.description,
                )
        digest = hashlib.sha256(data).digest()
        headers = {
            # the algorithm header is what S3 (and moto) look for on puts to lock buckets
            "x-amz-sdk-checksum-algorithm": "SHA256",
            "x-amz-checksum-sha256": base64.b64encode(digest).decode("ascii"),
            "x-amz-meta-sha256": digest.hex(),
        }
        with self._errors(key):
            result = self.client.put_object(
                self.bucket,
                key,
                io.BytesIO(data),
                len(data),
                content_type=content_type,
                metadata=headers,  # the SDK passes x-amz-* names through as headers
                part_size=max(len(data), MIN_PART_SIZE),  # one PUT: the checksum header covers the whole body
                retention=retention,
            )
        if not result.version_id or result.version_id == "null":
            raise StoreError(
                f"{self.description} returned no version id for {key}: versioning is not on",
                key=key,
                endpoint=self.description,
            )
        return StoredObject(key=key, version_id=result.version_id, sha256=digest.hex(), size=len(data))

    def get(self, key: str, version_id: str, *, sha256: str | None = None) -> bytes:
        validate_key(key)
        if not version_id:
            raise ObjectMissing(f"{key}: empty version id", key=key, endpoint=self.description)
        with self._errors(key, version_id):
            response = self.client.get_object(self.bucket, key, version_id=version_id)
            try:
                data = response.read()
                recorded = response.headers.get("x-amz-meta-sha256")
            finally:
                response.close()
                response.release_conn()
        _verify(data, key, version_id, self.description, wanted=sha256, recorded=recorded)
        return data

    def head(self, key: str, version_id: str) -> StoredObject | None:
        validate_key(key)
        if not version_id:
            return None
        try:
            with self._errors(key, version_id):
                stat = self.client.stat_object(self.bucket, key, version_id=version_id)
        except ObjectMissing:
            return None
        return self._stored(key, stat)

    def _stat(self, key: str, version_id: str) -> Any:
        """HEAD one version; ObjectMissing when there is none."""
        validate_key(key)
        if not version_id:
            raise ObjectMissing(f"{key}: empty version id", key=key, endpoint=self.description)
        with self._errors(key, version_id):
            return self.client.stat_object(self.bucket, key, version_id=version_id)

    @staticmethod
    def _lock_of(stat: Any) -> tuple[datetime | None, bool]:
        """(retain-until date, legal hold) from a HEAD response.

        HEAD is used rather than GetObjectRetention: S3 and MinIO both return the lock
        headers on HEAD, while moto does not implement GET ?retention at all.
        """
        meta = stat.metadata or {}
        until = meta.get("x-amz-object-lock-retain-until-date")
        hold = str(meta.get("x-amz-object-lock-legal-hold") or "").upper() == "ON"
        return (_parse_utc(until) if until else None), hold

    def retention(self, key: str, version_id: str) -> datetime | None:
        return self._lock_of(self._stat(key, version_id))[0]

    def delete(self, key: str, version_id: str) -> None:
        """Ask the server to remove one version; its refusal of a retained version becomes ObjectLocked.

        The version is HEADed first, for ObjectMissing (S3 answers 204 to deleting a
        version that does not exist) and for the date to name in the error.
        """
        until, hold = self._lock_of(self._stat(key, version_id))
        with self._errors(key, version_id):
            try:
                self.client.remove_object(self.bucket, key, version_id=version_id)
            except S3Error as exc:
                # the server's clock decides; allow for some skew before calling a refusal "access denied"
                retained = hold or (until is not None and until > datetime.now(UTC) - CLOCK_SKEW)
                if exc.code in _LOCK_REFUSAL_CODES and retained:
                    raise _locked(key, version_id, self.description, None if hold else until) from exc
                raise
        log.info("deleted %s version %s from %s", key, version_id, self.description)

    def _stored(self, key: str, stat: Any) -> StoredObject:
        meta = stat.metadata or {}
        return StoredObject(
            key=key,
            version_id=str(stat.version_id),
            sha256=str(meta.get("x-amz-meta-sha256") or ""),  # "" for objects not written by this store
            size=int(stat.size or 0),
        )

    def listing(self, prefix: str) -> list[tuple[str, str]]:
        with self._errors(prefix):
            return sorted(
                (obj.object_name, str(obj.version_id))
                for obj in self.client.list_objects(self.bucket, prefix=prefix, recursive=True, include_version=True)
                if not obj.is_delete_marker and obj.version_id and obj.object_name
            )

    def inventory(self, prefix: str = "") -> list[ListedVersion]:
        with self._errors(prefix or None):
            found = [
                ListedVersion(
                    obj.object_name,
                    str(obj.version_id),
                    int(obj.size or 0),
                    (obj.last_modified or datetime.now(UTC)).astimezone(UTC),
                )
                for obj in self.client.list_objects(self.bucket, prefix=prefix, recursive=True, include_version=True)
                if not obj.is_delete_marker and obj.version_id and obj.object_name
            ]
        return sorted(found, key=lambda v: (v.key, v.version_id))

    def sweep_leftovers(self, older_than: float = LEFTOVER_AGE_S, *, dry_run: bool = False) -> list[str]:
        """Nothing to sweep: every put is one PUT request (no multipart upload left half done), and
        the server never shows an object whose upload did not complete."""
        return []

    def versions(self, key: str) -> list[StoredObject]:
        """All versions, oldest first: the listing is newest first, with second-resolution dates only.

        The listing carries no user metadata, so each version is HEADed for its sha256
        (revisions per key are few).
        """
        validate_key(key)
        found: list[StoredObject] = []
        with self._errors(key):
            listed = [
                obj
                for obj in self.client.list_objects(self.bucket, prefix=key, recursive=True, include_version=True)
                if obj.object_name == key and not obj.is_delete_marker and obj.version_id
            ]
            for obj in reversed(listed):
                stat = self.client.stat_object(self.bucket, key, version_id=obj.version_id)
                found.append(self._stored(key, stat))
        return found

    def check(self) -> None:
        with self._errors():
            exists = self.client.bucket_exists(self.bucket)
        if not exists:
            raise StoreUnavailable(f"bucket missing: {self.description}", endpoint=self.description)


# ---------------------------------------------------------------------------- URLs

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class StoreLocation:
    """A parsed storage URL; ``secret_key`` is kept out of repr so it never reaches a log."""

    kind: str  # "local" or "s3"
    path: Path | None = None
    endpoint: str = ""
    bucket: str = ""
    secure: bool = True
    region: str | None = None
    access_key: str = ""
    secret_key: str = field(default="", repr=False)


def _redact(url: str) -> str:
    """The URL with the credentials replaced, for error messages."""
    return re.sub(r"(://)[^@/]*@", r"\1***@", url)


def parse_store_url(url: str) -> StoreLocation:
    """Parse ``file:PATH``, ``file:///abs``, a plain path, ``s3://`` or ``s3+http://`` URLs.

    Raises ValueError with the reason (and a redacted URL) for anything else.
    """
    text = url.strip()
    if not text:
        raise ValueError("storage URL is empty")
    if text.startswith("file:"):
        rest = text[len("file:") :]
        if rest.startswith("//"):
            parts = urlsplit(text)
            if parts.netloc not in ("", "localhost"):
                raise ValueError(f"file URL must not name a host: {text!r} (use file:///abs/path or file:rel/path)")
            rest = unquote(parts.path)
        if not rest:
            raise ValueError(f"file URL has no path: {text!r}")
        return StoreLocation(kind="local", path=Path(rest).expanduser())
    if "://" not in text:
        if _SCHEME_RE.match(text):
            raise ValueError(f"unsupported storage URL {_redact(text)!r}: use file:PATH, s3:// or s3+http://")
        return StoreLocation(kind="local", path=Path(text).expanduser())

    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("s3", "s3+http"):
        raise ValueError(
            f"unsupported storage URL scheme {scheme!r} in {_redact(text)!r}: use file:, s3:// or s3+http://"
        )
    shown = _redact(text)
    if parts.fragment:
        raise ValueError(f"storage URL must not have a fragment: {shown!r}")
    if not parts.username or parts.password is None:
        raise ValueError(
            f"storage URL needs credentials: {scheme}://ACCESS:SECRET@host:port/bucket "
            f"(percent-encode '/', '@', ':' in them): {shown!r}"
        )
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise ValueError(f"storage URL has an invalid port: {shown!r}") from exc
    if not host:
        raise ValueError(f"storage URL has no host: {shown!r}")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    endpoint = f"{host}:{port}" if port else host
    bucket = parts.path.strip("/")
    if not bucket or "/" in bucket:
        raise ValueError(f"storage URL must name exactly one bucket as its path: {shown!r}")
    if not _BUCKET_RE.match(bucket) or ".." in bucket:
        raise ValueError(f"invalid bucket name {bucket!r}: 3-63 lowercase letters, digits, '.' and '-' ({shown!r})")
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
    unknown = set(query) - {"region"}
    if unknown:
        raise ValueError(f"unknown storage URL parameter(s) {sorted(unknown)} in {shown!r}; only 'region'")
    region = query.get("region", [None])[-1] or None
    return StoreLocation(
        kind="s3",
        endpoint=endpoint,
        bucket=bucket,
        secure=scheme == "s3",
        region=region,
        access_key=unquote(parts.username),
        secret_key=unquote(parts.password),
    )


def open_store(url: str, *, object_lock: bool = False, create: bool = False) -> ObjectStore:
    """The store a ``NASKAH_STORAGE_URL`` names; S3 stores are checked (bucket, versioning) now.

    ``object_lock=True`` is for the archive: an S3 bucket must then have object lock
    (StoreError otherwise).  The local store ignores it: it locks per version anyway.
    A local store must have been set up (StoreMissing otherwise) unless ``create`` (set-up).
    """
    loc = parse_store_url(url)
    if loc.kind == "local":
        assert loc.path is not None
        return LocalObjectStore.create(loc.path) if create else LocalObjectStore(loc.path)
    client = make_client(loc.endpoint, loc.access_key, loc.secret_key, secure=loc.secure, region=loc.region)
    return S3ObjectStore(client, loc.bucket, object_lock=object_lock)
