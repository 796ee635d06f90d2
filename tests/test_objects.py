"""The versioned object store: append-only versions, verified reads, clear failures.

Backend-agnostic rules run on both the local store and S3 (moto over HTTP, minio SDK);
the rest are specific to one backend (disk corruption and crash leftovers locally,
outages and bucket versioning on S3).
"""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest

from storage.objects import (
    ChecksumMismatch,
    LocalObjectStore,
    ObjectMissing,
    S3ObjectStore,
    StoreError,
    StoreMissing,
    StoreUnavailable,
    open_store,
    parse_store_url,
)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
OUTAGE_LIMIT_S = 10.0  # generous: a refused connection should fail in well under a second


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------- both backends


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04" + bytes(range(256)) * 64, os.urandom(6 * 1024 * 1024 + 3)])
def test_get_returns_exactly_the_bytes_that_were_put(store, data):
    obj = store.put("naskah/1/r001.docx", data, content_type=DOCX)
    assert (obj.key, obj.size, obj.sha256) == ("naskah/1/r001.docx", len(data), sha(data))
    assert store.get("naskah/1/r001.docx", obj.version_id) == data
    assert store.get("naskah/1/r001.docx", obj.version_id, sha256=sha(data)) == data


def test_every_put_makes_a_new_version_and_old_versions_stay_readable(store):
    puts = [store.put("naskah/1/r001.pdf", f"versi {i}".encode()) for i in range(3)]
    assert len({p.version_id for p in puts}) == 3
    for i, p in enumerate(puts):
        assert store.get("naskah/1/r001.pdf", p.version_id) == f"versi {i}".encode()


def test_versions_lists_every_version_oldest_first(store):
    puts = [store.put("k/a.docx", bytes([i]) * (i + 1)) for i in range(4)]
    store.put("k/a.docx.bak", b"a different key with the same prefix")
    store.put("k/a.docx/child", b"a key below it")
    assert store.versions("k/a.docx") == puts
    assert store.versions("k/unknown") == []


def test_head_returns_what_was_recorded_or_none(store):
    obj = store.put("k/h", b"isi")
    assert store.head("k/h", obj.version_id) == obj
    assert store.head("k/other", obj.version_id) is None


def test_get_with_a_sha256_other_than_the_stored_bytes_raises_checksum_mismatch(store):
    obj = store.put("k/x", b"asli")
    with pytest.raises(ChecksumMismatch) as info:
        store.get("k/x", obj.version_id, sha256=sha(b"palsu"))
    assert (info.value.key, info.value.version_id) == ("k/x", obj.version_id)
    assert info.value.expected == sha(b"palsu") and info.value.actual == sha(b"asli")


def test_missing_key_or_version_raises_object_missing(store):
    obj = store.put("k/ada", b"1")
    with pytest.raises(ObjectMissing) as info:
        store.get("k/tidak-ada", obj.version_id)
    assert info.value.key == "k/tidak-ada"
    with pytest.raises(ObjectMissing):
        store.get("k/ada", "00000000000000000000-00000000")
    with pytest.raises(ObjectMissing):
        store.get("k/ada", "no-such-version")


@pytest.mark.parametrize(
    "key",
    ["", "/abs/key", "a/../b", "..", "a//b", "a/./b", "a/", "a\\b", "a\nb", "a\x00b", "x" * 600, "a/" + "y" * 300],
)
def test_invalid_keys_are_rejected_with_value_error(store, key):
    with pytest.raises(ValueError):
        store.put(key, b"x")
    with pytest.raises(ValueError):
        store.versions(key)


def test_concurrent_puts_to_one_key_all_get_distinct_versions(store):
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(12)

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results.append(store.put("k/ramai", f"penulis {i}".encode()).version_id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(results)) == 12
    assert sorted(v.version_id for v in store.versions("k/ramai")) == sorted(results)
    assert {store.get("k/ramai", v) for v in results} == {f"penulis {i}".encode() for i in range(12)}


def test_check_passes_on_a_reachable_store_and_description_has_no_secret(store, s3_server):
    store.check()
    assert s3_server.secret_key not in store.description
    assert store.description.startswith(("local:/", "s3+http://127.0.0.1:"))


# ---------------------------------------------------------------------------- local


def test_local_blob_corrupted_on_disk_raises_checksum_mismatch(local_store):
    obj = local_store.put("k/rusak", b"isi yang benar")
    blob = local_store.root / "k" / "rusak" / f"{obj.version_id}.blob"
    blob.write_bytes(b"isi yang salah")
    with pytest.raises(ChecksumMismatch):
        local_store.get("k/rusak", obj.version_id)
    with pytest.raises(ChecksumMismatch):
        local_store.get("k/rusak", obj.version_id, sha256=obj.sha256)


def test_local_crash_leftovers_are_invisible_and_cleaned_after_an_hour(local_store):
    good = local_store.put("k/crash", b"utuh")
    directory = local_store.root / "k" / "crash"
    # a put killed while writing the blob, and one killed before its metadata was written
    partial = directory / ".99999999999999999999-deadbeef.blob.tmp-0123456789ab"
    partial.write_bytes(b"setengah")
    orphan_id = "99999999999999999998-cafebabe"
    orphan = directory / f"{orphan_id}.blob"
    orphan.write_bytes(b"tanpa metadata")
    assert local_store.versions("k/crash") == [good]
    assert local_store.head("k/crash", orphan_id) is None
    with pytest.raises(ObjectMissing):
        local_store.get("k/crash", orphan_id)

    assert local_store.cleanup() == 0  # too young: might be a put still in progress
    old = time.time() - 2 * 3600
    for p in (partial, orphan):
        os.utime(p, (old, old))
    assert local_store.cleanup() == 2
    assert not partial.exists() and not orphan.exists()
    assert local_store.get("k/crash", good.version_id) == b"utuh"


def test_local_version_id_cannot_name_another_path(local_store, tmp_path):
    (tmp_path / "rahasia.json").write_text('{"sha256": "x", "size": 1}')
    local_store.put("k/v", b"1")
    for bad in ["../../../rahasia", "../v", "", "x" * 29]:
        with pytest.raises(ObjectMissing):
            local_store.get("k/v", bad)


def test_local_version_ids_sort_by_time(local_store):
    ids = [local_store.put("k/urut", b"x").version_id for _ in range(5)]
    assert ids == sorted(ids)


def _put_from_process(root: str, n: int) -> list[str]:
    store = LocalObjectStore(Path(root))
    return [store.put("k/proses", f"{os.getpid()}-{i}".encode()).version_id for i in range(n)]


def test_local_concurrent_puts_from_processes_all_get_distinct_versions(local_store):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        batches = pool.starmap(_put_from_process, [(str(local_store.root), 10)] * 4)
    ids = [v for batch in batches for v in batch]
    assert len(set(ids)) == 40
    assert sorted(ids) == [v.version_id for v in local_store.versions("k/proses")]


# ---------------------------------------------------------------------------- S3


def test_s3_object_whose_bytes_do_not_match_recorded_sha256_raises_checksum_mismatch(s3_store, s3_server):
    """Bytes changed behind the store's back (here: written directly with a wrong recorded hash)."""
    client = s3_server.client()
    data = b"diubah di luar aplikasi"
    result = client.put_object(
        s3_store.bucket, "k/luar", io.BytesIO(data), len(data), metadata={"x-amz-meta-sha256": sha(b"asli")}
    )
    with pytest.raises(ChecksumMismatch):
        s3_store.get("k/luar", result.version_id)


def test_s3_object_without_recorded_sha256_is_served_only_against_a_given_one(s3_store, s3_server):
    client = s3_server.client()
    data = b"tanpa sidik"
    result = client.put_object(s3_store.bucket, "k/polos", io.BytesIO(data), len(data))
    with pytest.raises(ChecksumMismatch):
        s3_store.get("k/polos", result.version_id)
    assert s3_store.get("k/polos", result.version_id, sha256=sha(data)) == data


def test_s3_put_records_sha256_as_user_metadata(s3_store, s3_server):
    obj = s3_store.put("k/meta", b"isi", content_type=DOCX)
    stat = s3_server.client().stat_object(s3_store.bucket, "k/meta", version_id=obj.version_id)
    assert stat.metadata["x-amz-meta-sha256"] == sha(b"isi")
    assert stat.content_type == DOCX


def test_s3_store_turns_versioning_on_for_a_new_bucket(s3_server):
    store = S3ObjectStore(s3_server.client(), s3_server.new_bucket_name())
    assert s3_server.client().get_bucket_versioning(store.bucket).status == "Enabled"


def test_s3_store_without_create_refuses_an_unversioned_or_missing_bucket(s3_server):
    client = s3_server.client()
    bucket = s3_server.new_bucket_name()
    with pytest.raises(StoreUnavailable, match="bucket missing"):
        S3ObjectStore(client, bucket, create=False)
    client.make_bucket(bucket)
    with pytest.raises(StoreError, match="versioning is not enabled"):
        S3ObjectStore(client, bucket, create=False)
    S3ObjectStore(client, bucket)  # create=True enables it
    S3ObjectStore(client, bucket, create=False)


def test_s3_outage_raises_store_unavailable_quickly_and_recovers(s3_store, s3_server):
    obj = s3_store.put("k/padam", b"sebelum")
    operations = {
        "put": lambda: s3_store.put("k/padam", b"selama"),
        "get": lambda: s3_store.get("k/padam", obj.version_id),
        "head": lambda: s3_store.head("k/padam", obj.version_id),
        "versions": lambda: s3_store.versions("k/padam"),
        "check": s3_store.check,
        "open_store": lambda: open_store(s3_server.url(s3_store.bucket)),
    }
    with s3_server.outage():
        for name, op in operations.items():
            started = time.monotonic()
            with pytest.raises(StoreUnavailable) as info:
                op()
            elapsed = time.monotonic() - started
            assert elapsed < OUTAGE_LIMIT_S, f"{name} took {elapsed:.1f} s"
            assert s3_server.endpoint in str(info.value)
    s3_store.check()
    after = s3_store.put("k/padam", b"sesudah")
    assert s3_store.get("k/padam", after.version_id) == b"sesudah"


# ---------------------------------------------------------------------------- URLs


def test_open_store_file_urls_and_plain_paths_give_a_local_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for url, expected in [
        ("file:./var/objects", tmp_path / "var" / "objects"),
        (f"file://{tmp_path}/abs", tmp_path / "abs"),
        (f"file://localhost{tmp_path}/host", tmp_path / "host"),
        (str(tmp_path / "plain"), tmp_path / "plain"),
        ("relatif/objects", tmp_path / "relatif" / "objects"),
    ]:
        with pytest.raises(StoreMissing):  # a local store is only opened once set up
            open_store(url)
        store = open_store(url, create=True)
        assert isinstance(store, LocalObjectStore)
        assert store.description == f"local:{expected}"
        assert expected.is_dir()
        assert open_store(url).store_id == store.store_id  # type: ignore[attr-defined]


def test_open_store_s3_http_url_gives_a_working_s3_store(s3_server):
    bucket = s3_server.new_bucket_name()
    store = open_store(s3_server.url(bucket))
    assert isinstance(store, S3ObjectStore)
    assert store.description == f"s3+http://{s3_server.endpoint}/{bucket}"
    obj = store.put("k/url", b"lewat url")
    assert store.get("k/url", obj.version_id) == b"lewat url"


def test_parse_store_url_reads_s3_forms_and_percent_decodes_credentials():
    loc = parse_store_url("s3://AK%40x:s%2Fk%3A%2B@minio.example.go.id:9000/naskah?region=ap-southeast-3")
    assert (loc.kind, loc.endpoint, loc.bucket, loc.secure, loc.region) == (
        "s3",
        "minio.example.go.id:9000",
        "naskah",
        True,
        "ap-southeast-3",
    )
    assert (loc.access_key, loc.secret_key) == ("AK@x", "s/k:+")
    assert "s/k" not in repr(loc)
    plain = parse_store_url("s3+http://a:b@127.0.0.1:9000/naskah/")
    assert (plain.secure, plain.endpoint, plain.region) == (False, "127.0.0.1:9000", None)
    assert parse_store_url("s3://a:b@[::1]:9000/naskah").endpoint == "[::1]:9000"
    assert parse_store_url("s3://a:b@s3.amazonaws.com/naskah").endpoint == "s3.amazonaws.com"


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "ftp://a:b@host/bucket",
        "s3:naskah",
        "s3://host:9000/naskah",
        "s3://a:RAHASIA@host:9000/",
        "s3://a:RAHASIA@host:9000/naskah/extra",
        "s3://a:RAHASIA@host:porta/naskah",
        "s3://a:RAHASIA@:9000/naskah",
        "s3://a:RAHASIA@host:9000/Naskah_Besar",
        "s3://a:RAHASIA@host:9000/naskah?foo=bar",
        "s3://a:RAHASIA@host:9000/naskah#frag",
        "file://otherhost/var/objects",
        "file:",
    ],
)
def test_malformed_storage_urls_raise_value_error_without_leaking_the_secret(url):
    with pytest.raises(ValueError) as info:
        parse_store_url(url)
    assert "RAHASIA" not in str(info.value)
    assert str(info.value)
