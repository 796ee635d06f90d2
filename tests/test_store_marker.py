"""A local store's folder is made once, by set-up, and never again: gone or foreign is 503, not an empty new folder.

Before, a store whose folder disappeared (an unmounted volume, a moved folder) was silently made
again: reads said "tidak ditemukan" and new revisions went into the empty new folder, lost from
view once the real one came back.  Now set-up writes a marker with a random store id, the database
records it, and a folder that is missing, unmarked (an empty mount point) or another store's is
``storage_unavailable`` (503) at start-up and on every request that needs it, while the folder is
left alone; put back, everything works again.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from api.config import Settings
from api.main import create_app
from pipeline.errors import StorageUnavailable
from pipeline.models import ObjectStoreRecord
from storage.db import make_engine, session_scope
from storage.objects import STORE_MARKER, LocalObjectStore, StoreMissing
from tests.fixtures.app import Api
from tests.test_api import _png, create_case, create_naskah
from tests.test_error_envelope import assert_envelope

BOTH_DATABASES = pytest.mark.parametrize("services", ["sqlite-local", "postgres-local"], indirect=True)


def assert_store_unavailable(response, folder: Path, reason: str, call: str = "") -> dict:
    body = assert_envelope(response, call)
    assert response.status_code == 503, (call, response.status_code, body)
    assert body["code"] == "storage_unavailable" and body["detail"]["reason"] == f"store_{reason}", (call, body)
    assert str(folder) in body["message"] and "tidak dibuat ulang" in body["message"], (call, body)
    return body


def requests_needing_the_store(api: Api, case_id: int, naskah_id: int) -> dict[str, object]:
    """A read and two writes that go to the store: a revision's PDF, a lambang, a new revision."""
    drafter = api.auth("drafter")
    return {
        "read": lambda: api.client.get(f"/api/v1/naskah/{naskah_id}/revisions/1/pdf", headers=drafter),
        "lambang": lambda: api.client.put(
            f"/api/v1/cases/{case_id}/pihak/1/lambang",
            files={"file": ("l.png", _png(120, 140), "image/png")},
            headers=drafter,
        ),
        "render": lambda: api.client.post(
            f"/api/v1/naskah/{naskah_id}/revisions/render", json={"note": "revisi"}, headers=drafter
        ),
    }


def everything_in(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*")}


@BOTH_DATABASES
def test_a_store_folder_that_disappears_is_503_on_every_request_and_is_not_made_again(api: Api, tmp_path: Path):
    root = api.services.store.root  # type: ignore[attr-defined]
    case_id = create_case(api)
    naskah_id = create_naskah(api, case_id)["id"]
    calls = requests_needing_the_store(api, case_id, naskah_id)
    revisions_before = api.client.get(f"/api/v1/naskah/{naskah_id}/revisions", headers=api.auth("drafter")).json()

    moved = tmp_path / "dipindahkan"
    root.rename(moved)  # the volume is unmounted / the folder moved away while the API runs
    for name, call in calls.items():
        assert_store_unavailable(call(), root, "missing", name)
    assert not root.exists()  # nothing made it again
    same = api.client.get(f"/api/v1/naskah/{naskah_id}/revisions", headers=api.auth("drafter")).json()
    assert same == revisions_before  # no pending or new revision recorded

    root.mkdir()  # the empty mount point of a volume that is not mounted
    for name, call in calls.items():
        assert_store_unavailable(call(), root, "unmarked", name)
    assert list(root.iterdir()) == []  # nothing was written into it
    root.rmdir()

    moved.rename(root)  # back again: everything works, and nothing was lost
    for name, call in calls.items():
        r = call()
        assert r.status_code in (200, 201), (name, r.text)
    numbers = [
        x["number"]
        for x in api.client.get(f"/api/v1/naskah/{naskah_id}/revisions", headers=api.auth("drafter")).json()["data"]
    ]
    assert numbers == [1, 2]


@BOTH_DATABASES
def test_another_store_put_in_its_place_is_refused_until_the_right_one_is_back(api: Api, tmp_path: Path):
    root = api.services.store.root  # type: ignore[attr-defined]
    case_id = create_case(api)
    naskah_id = create_naskah(api, case_id)["id"]
    calls = requests_needing_the_store(api, case_id, naskah_id)
    other = LocalObjectStore.create(tmp_path / "toko-lain")
    other.put("naskah/x/r001.pdf", b"milik toko lain")
    before = everything_in(other.root)

    root.rename(tmp_path / "asli")
    other.root.rename(root)  # a folder of another store (another installation, a restored copy) mounted here
    for name, call in calls.items():
        assert_store_unavailable(call(), root, "foreign", name)
    assert everything_in(root) == before  # nothing written into the other store
    root.rename(other.root)
    (tmp_path / "asli").rename(root)
    assert calls["read"]().status_code == 200


def settings_for(folder: Path, database_url: str) -> Settings:
    return Settings(database_url=database_url, storage_url=f"file:{folder / 'objects'}", converter="cold")


def start(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200


def database_url(services) -> str:
    return services.engine.url.render_as_string(hide_password=False)


@BOTH_DATABASES
def test_the_first_start_sets_the_store_up_and_later_starts_refuse_a_missing_or_foreign_one(
    services, tmp_path: Path, pg_server
):
    if services.engine.url.get_backend_name() == "sqlite":
        url = f"sqlite:///{tmp_path / 'var' / 'naskah.db'}"
    else:
        url = pg_server.url(pg_server.new_database())  # an empty database: never migrated, no store recorded
    settings = settings_for(tmp_path / "var", url)
    objects, arsip = tmp_path / "var" / "objects", tmp_path / "var" / "arsip"
    start(settings)  # the very first start: both folders made, each with its marker, recorded
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            records = {r.role: r.store_id for r in session.exec(select(ObjectStoreRecord)).all()}
    finally:
        engine.dispose()
    for role, folder in (("objects", objects), ("arsip", arsip)):
        assert json.loads((folder / STORE_MARKER).read_text())["store_id"] == records[role]
    start(settings)  # and again: the same stores

    objects.rename(tmp_path / "objects-lama")
    with pytest.raises(StorageUnavailable) as refused:
        start(settings)
    assert refused.value.detail["reason"] == "store_missing" and str(objects) in refused.value.message
    assert not objects.exists()

    LocalObjectStore.create(objects)  # someone "fixes" it by setting up a new store in its place
    with pytest.raises(StorageUnavailable) as refused:
        start(settings)
    assert refused.value.detail["reason"] == "store_foreign"
    shutil.rmtree(objects)
    (tmp_path / "objects-lama").rename(objects)
    start(settings)


@BOTH_DATABASES
def test_a_store_from_before_markers_is_adopted_but_a_missing_one_is_not_made_for_a_database_with_objects(
    api: Api, tmp_path: Path
):
    """Upgrading an installation: its folder has no marker and the database recorded no store.  The
    folder is adopted (marked, recorded); had the volume not been mounted at that moment (folder
    missing or empty) while the database points at stored objects, the start is refused."""
    root = api.services.store.root  # type: ignore[attr-defined]
    naskah_id = create_naskah(api, create_case(api))["id"]
    (root / STORE_MARKER).unlink()  # as the store was before this change
    settings = Settings(
        database_url=database_url(api.services),
        storage_url=f"file:{root}",
        archive_storage_url=f"file:{tmp_path / 'arsip'}",
        converter="cold",
        migrate_on_start=False,
    )
    moved = tmp_path / "belum-terpasang"
    root.rename(moved)
    with pytest.raises(StorageUnavailable) as refused:
        start(settings)
    assert refused.value.detail["reason"] == "store_missing" and not root.exists()
    root.mkdir()  # an empty mount point
    with pytest.raises(StorageUnavailable):
        start(settings)
    root.rmdir()
    moved.rename(root)

    start(settings)  # adopted: marked and recorded
    store_id = json.loads((root / STORE_MARKER).read_text())["store_id"]
    with session_scope(api.services.engine) as session:
        assert session.get(ObjectStoreRecord, "objects").store_id == store_id  # type: ignore[union-attr]
    assert LocalObjectStore(root, store_id=store_id).versions(f"naskah/{naskah_id}/r001.pdf")


def test_opening_a_store_checks_its_marker_and_set_up_keeps_an_existing_one(tmp_path: Path):
    with pytest.raises(StoreMissing) as missing:
        LocalObjectStore(tmp_path / "tidak-ada")
    assert missing.value.reason == "missing" and not (tmp_path / "tidak-ada").exists()
    store = LocalObjectStore.create(tmp_path / "toko")
    assert LocalObjectStore.create(tmp_path / "toko").store_id == store.store_id
    with pytest.raises(StoreMissing) as foreign:
        LocalObjectStore(tmp_path / "toko", store_id="0" * 32)
    assert foreign.value.reason == "foreign"
