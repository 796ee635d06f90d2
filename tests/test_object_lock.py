"""Immutable versions for the archive: locked until a date, on both stores.

Backend-agnostic rules run on the local store and on S3 with object lock (moto over
HTTP, minio SDK, a bucket created with object lock); the rest are specific to one
backend (read-only files and cleanup locally; bucket configuration and the server's own
refusal on S3).
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from minio.error import S3Error

from storage.objects import (
    ChecksumMismatch,
    LocalObjectStore,
    ObjectLocked,
    ObjectMissing,
    S3ObjectStore,
    StoreError,
    open_store,
)

PDF = "application/pdf"
ORIGINAL = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def in_days(days: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def seconds(value: datetime | None) -> datetime | None:
    """S3 keeps retain-until dates to the millisecond at best: compare at second precision."""
    return None if value is None else value.astimezone(UTC).replace(microsecond=0)


# ---------------------------------------------------------------------------- both backends


def test_locked_version_cannot_be_deleted_and_still_reads_back_byte_identical(lock_store):
    until = in_days(3650)
    obj = lock_store.put("arsip/1/signed.pdf", ORIGINAL, content_type=PDF, retain_until=until)
    with pytest.raises(ObjectLocked) as info:
        lock_store.delete("arsip/1/signed.pdf", obj.version_id)
    err = info.value
    assert isinstance(err, StoreError)
    assert (err.key, err.version_id, seconds(err.retain_until)) == (
        "arsip/1/signed.pdf",
        obj.version_id,
        seconds(until),
    )
    assert "arsip/1/signed.pdf" in str(err) and obj.version_id in str(err) and str(until.year) in str(err)
    assert lock_store.get("arsip/1/signed.pdf", obj.version_id, sha256=sha(ORIGINAL)) == ORIGINAL
    assert lock_store.versions("arsip/1/signed.pdf") == [obj]


def test_unlocked_version_can_be_deleted_and_others_stay(lock_store):
    kept = lock_store.put("arsip/2/draft.pdf", b"versi 1")
    gone = lock_store.put("arsip/2/draft.pdf", b"versi 2")
    assert lock_store.retention("arsip/2/draft.pdf", gone.version_id) is None
    lock_store.delete("arsip/2/draft.pdf", gone.version_id)
    assert lock_store.head("arsip/2/draft.pdf", gone.version_id) is None
    with pytest.raises(ObjectMissing):
        lock_store.get("arsip/2/draft.pdf", gone.version_id)
    assert lock_store.versions("arsip/2/draft.pdf") == [kept]
    assert lock_store.get("arsip/2/draft.pdf", kept.version_id) == b"versi 1"


def test_deleting_or_asking_the_retention_of_a_missing_version_raises_object_missing(lock_store):
    obj = lock_store.put("arsip/3/a.pdf", b"1")
    lock_store.delete("arsip/3/a.pdf", obj.version_id)
    for key, version_id in [("arsip/3/a.pdf", obj.version_id), ("arsip/3/unknown.pdf", obj.version_id)]:
        with pytest.raises(ObjectMissing):
            lock_store.delete(key, version_id)
        with pytest.raises(ObjectMissing):
            lock_store.retention(key, version_id)


def test_retention_returns_the_retain_until_date_or_none(lock_store):
    until = datetime.now(timezone(timedelta(hours=8))) + timedelta(days=30, microseconds=123_456)  # WITA
    locked = lock_store.put("arsip/4/a.pdf", b"terkunci", retain_until=until)
    free = lock_store.put("arsip/4/a.pdf", b"bebas")
    got = lock_store.retention("arsip/4/a.pdf", locked.version_id)
    assert got is not None and got.utcoffset() == timedelta(0)
    assert seconds(got) == seconds(until)
    assert lock_store.retention("arsip/4/a.pdf", free.version_id) is None


def test_new_versions_of_a_locked_key_are_allowed_and_the_locked_bytes_never_change(lock_store):
    locked = lock_store.put("arsip/5/signed.pdf", ORIGINAL, content_type=PDF, retain_until=in_days(365))
    later = [
        lock_store.put("arsip/5/signed.pdf", ORIGINAL + b"% renewed timestamp\n", retain_until=in_days(730)),
        lock_store.put("arsip/5/signed.pdf", b"something else entirely"),
        lock_store.put("arsip/5/signed.pdf", b""),
    ]
    assert lock_store.versions("arsip/5/signed.pdf") == [locked, *later]
    assert len({o.version_id for o in [locked, *later]}) == 4
    lock_store.delete("arsip/5/signed.pdf", later[1].version_id)
    assert lock_store.get("arsip/5/signed.pdf", locked.version_id) == ORIGINAL
    assert lock_store.head("arsip/5/signed.pdf", locked.version_id) == locked
    assert locked.sha256 == sha(ORIGINAL)
    with pytest.raises(ChecksumMismatch):
        lock_store.get("arsip/5/signed.pdf", locked.version_id, sha256=sha(b"palsu"))
    with pytest.raises(ObjectLocked):
        lock_store.delete("arsip/5/signed.pdf", later[0].version_id)


@pytest.mark.parametrize(
    "retain_until",
    [datetime.now(UTC) - timedelta(days=1), datetime.now() + timedelta(days=1), "2099-01-01"],
    ids=["past", "naive", "not-a-datetime"],
)
def test_retain_until_in_the_past_or_without_timezone_is_refused_and_nothing_is_stored(lock_store, retain_until):
    with pytest.raises(ValueError, match="retain_until"):
        lock_store.put("arsip/6/a.pdf", b"x", retain_until=retain_until)
    assert lock_store.versions("arsip/6/a.pdf") == []


def test_a_version_can_be_deleted_once_its_retention_has_passed(lock_store):
    until = datetime.now(UTC) + timedelta(seconds=2)
    obj = lock_store.put("arsip/7/a.pdf", b"sebentar", retain_until=until)
    with pytest.raises(ObjectLocked):
        lock_store.delete("arsip/7/a.pdf", obj.version_id)
    time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 1.1)
    lock_store.delete("arsip/7/a.pdf", obj.version_id)
    assert lock_store.versions("arsip/7/a.pdf") == []


# ---------------------------------------------------------------------------- local only


def test_local_locked_version_files_are_read_only(local_store):
    locked = local_store.put("arsip/l/a.pdf", b"terkunci", retain_until=in_days(1))
    free = local_store.put("arsip/l/a.pdf", b"bebas")
    directory = local_store.root / "arsip" / "l" / "a.pdf"
    for suffix in (".blob", ".json"):
        assert stat.S_IMODE((directory / f"{locked.version_id}{suffix}").stat().st_mode) == 0o444
        assert (directory / f"{free.version_id}{suffix}").stat().st_mode & stat.S_IWUSR


def test_local_lock_survives_reopening_the_store(local_store):
    obj = local_store.put("arsip/l/b.pdf", b"terkunci", retain_until=in_days(1))
    reopened = LocalObjectStore(local_store.root)
    assert seconds(reopened.retention("arsip/l/b.pdf", obj.version_id)) == seconds(
        local_store.retention("arsip/l/b.pdf", obj.version_id)
    )
    with pytest.raises(ObjectLocked):
        reopened.delete("arsip/l/b.pdf", obj.version_id)


def test_local_cleanup_never_touches_locked_versions(local_store):
    locked = local_store.put("arsip/l/c.pdf", ORIGINAL, retain_until=in_days(1))
    lost = local_store.put("arsip/l/d.pdf", b"metadata lost", retain_until=in_days(1))
    directory = local_store.root / "arsip" / "l"
    (directory / "d.pdf" / f"{lost.version_id}.json").unlink()  # a locked blob without its metadata
    old = time.time() - 2 * 3600
    for path in directory.rglob("*"):
        os.utime(path, (old, old))
    assert local_store.cleanup() == 0
    assert local_store.get("arsip/l/c.pdf", locked.version_id) == ORIGINAL
    assert (directory / "d.pdf" / f"{lost.version_id}.blob").read_bytes() == b"metadata lost"


# ---------------------------------------------------------------------------- S3 only


def test_s3_server_itself_refuses_to_delete_a_locked_version(s3_lock_store, s3_server):
    until = in_days(1)
    obj = s3_lock_store.put("arsip/s/a.pdf", ORIGINAL, retain_until=until)
    client = s3_server.client()  # straight to the server, past the store's own code
    stat_ = client.stat_object(s3_lock_store.bucket, "arsip/s/a.pdf", version_id=obj.version_id)
    assert stat_.metadata["x-amz-object-lock-mode"] == "COMPLIANCE"
    with pytest.raises(S3Error) as info:
        client.remove_object(s3_lock_store.bucket, "arsip/s/a.pdf", version_id=obj.version_id)
    assert info.value.code == "AccessDenied"
    assert s3_lock_store.get("arsip/s/a.pdf", obj.version_id) == ORIGINAL


def test_s3_store_opened_without_object_lock_refuses_retain_until(s3_store, s3_lock_store, s3_server):
    with pytest.raises(StoreError, match="without object lock") as info:
        s3_store.put("arsip/s/b.pdf", b"x", retain_until=in_days(1))
    assert not isinstance(info.value, ObjectLocked)
    assert s3_store.versions("arsip/s/b.pdf") == []
    # even on a bucket that has object lock: the store must be opened for it
    unlocked_view = S3ObjectStore(s3_server.client(), s3_lock_store.bucket)
    with pytest.raises(StoreError, match="without object lock"):
        unlocked_view.put("arsip/s/b.pdf", b"x", retain_until=in_days(1))
    assert s3_lock_store.versions("arsip/s/b.pdf") == []


@pytest.mark.parametrize("create", [True, False])
def test_s3_bucket_without_object_lock_is_refused_for_an_archive_store(s3_store, s3_server, create):
    with pytest.raises(StoreError, match="created with object lock") as info:
        S3ObjectStore(s3_server.client(), s3_store.bucket, create=create, object_lock=True)
    assert s3_store.bucket in str(info.value) and "cannot turn it on" in str(info.value)


def test_s3_archive_store_creates_its_bucket_with_object_lock_and_versioning(s3_server):
    bucket = s3_server.new_bucket_name()
    S3ObjectStore(s3_server.client(), bucket, object_lock=True)
    client = s3_server.client()
    client.get_object_lock_config(bucket)  # raises ObjectLockConfigurationNotFoundError otherwise
    assert client.get_bucket_versioning(bucket).status == "Enabled"


def test_open_store_passes_object_lock_on_and_the_local_store_locks_anyway(s3_server, tmp_path):
    bucket = s3_server.new_bucket_name()
    archive = open_store(s3_server.url(bucket), object_lock=True)
    assert isinstance(archive, S3ObjectStore) and archive.object_lock
    obj = archive.put("arsip/o/a.pdf", b"x", retain_until=in_days(1))
    with pytest.raises(ObjectLocked):
        archive.delete("arsip/o/a.pdf", obj.version_id)
    assert not open_store(s3_server.url(bucket)).object_lock
    local = open_store(f"file:{tmp_path / 'objects'}", object_lock=True, create=True)
    obj = local.put("arsip/o/a.pdf", b"x", retain_until=in_days(1))
    with pytest.raises(ObjectLocked):
        local.delete("arsip/o/a.pdf", obj.version_id)
