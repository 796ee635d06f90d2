"""Housekeeping (``naskah reconcile``, and the API at start-up) leaves the store holding exactly what the
records point at.

The orphans are made the real way: paraf raced by several requests at once (each loser stores its
stamped PDF before its commit fails), a signing process SIGKILLed after storing its signed PDF, a
revision process SIGKILLed before its commit whose row ``reconcile`` then discards (the naskah moved on),
and a put into the local store killed in the middle of writing (its ``.blob.tmp-*`` stays).  The
cleanup runs with the age threshold lowered; then every version in the store (listed with the store's
own listing, local and S3) is one a row names, and every row's object reads back byte-identical.  With
the threshold as it is by default nothing young is touched, and ``--dry-run`` changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from pipeline.archival.cleanup import cleanup, housekeeping
from pipeline.models import NaskahFile, Pihak, Revision
from pipeline.workdirs import OWNER_FILE, sweep
from storage.db import session_scope
from storage.objects import LocalObjectStore
from tests.fixtures.app import OFFICIALS
from tests.fixtures.pki import WALIKOTA
from tests.test_api import _png, create_case, create_naskah
from tests.test_crash_recovery import Child, crash, kill_in_the_middle  # noqa: F401 - crash: a fixture
from tests.test_store_outage import sign
from tests.test_workflow import approved_kb, post

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ["postgres-local", "postgres-s3"]


def rows_point_at(svc) -> dict[tuple[str, str], str]:
    """(key, version id) -> sha256 of every object a row names, read from the tables here (not through
    the cleanup's own query): revisions' DOCX and PDF, naskah files, parties' lambang."""
    found: dict[tuple[str, str], str] = {}
    with session_scope(svc.engine) as session:
        for rev in session.exec(select(Revision)).all():
            if rev.docx_version_id:
                found[(rev.docx_key, rev.docx_version_id)] = rev.docx_sha256
            if rev.pdf_version_id:
                found[(rev.pdf_key, rev.pdf_version_id)] = rev.pdf_sha256
        for f in session.exec(select(NaskahFile)).all():
            found[(f.key, f.version_id)] = f.sha256
        for p in session.exec(select(Pihak).where(col(Pihak.lambang_key).is_not(None))).all():
            found[(p.lambang_key, p.lambang_version_id)] = p.lambang_sha256
    return found


def stored(store) -> set[tuple[str, str]]:
    """Every version the store holds, by its own listing."""
    return set(store.listing(""))


def race_paraf(api, nid: int, who: str, racers: int = 3) -> list[int]:
    """``racers`` requests for the same paraf at once; their status codes."""
    codes: list[int] = []
    barrier = threading.Barrier(racers)

    def go() -> None:
        barrier.wait()
        codes.append(post(api, f"{nid}/paraf", who).status_code)

    threads = [threading.Thread(target=go) for _ in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return codes


KILLED_PUT = """
import os, sys, time
from storage.objects import LocalObjectStore

def hold(fd):  # the blob's bytes are written; the put waits here for its fsync, and is killed
    print("writing", flush=True)
    time.sleep(600)

os.fsync = hold
LocalObjectStore(sys.argv[1]).put("naskah/%s/r009.pdf" % sys.argv[2], os.urandom(20 * 1024 * 1024))
"""


def kill_a_put_mid_write(store: LocalObjectStore, nid: int) -> Path:
    """A process storing a 20 MB object, SIGKILLed while writing it: its temp file stays."""
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_PUT, str(store.root), str(nid)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdout.readline() == b"writing\n"
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    leftovers = list(store.root.rglob(".*.blob.tmp-*"))
    assert len(leftovers) == 1 and leftovers[0].stat().st_size == 20 * 1024 * 1024
    return leftovers[0]


@pytest.mark.parametrize("services", BACKENDS, indirect=True)
def test_after_races_and_killed_processes_the_store_holds_exactly_what_the_rows_point_at(
    crash,  # noqa: F811
    dev_pki,
    counterparty_pki,
    tsa_gate,
    tmp_path,
):
    api = crash.api
    svc = api.services
    # paraf, each step raced by three requests: one wins, the losers' stamped PDFs stay behind
    nid = approved_kb(api)
    for who in ("kabag_pemerintahan", "asisten_umum", "sekda"):
        codes = race_paraf(api, nid, who)
        assert sorted(codes)[0] == 200 and codes.count(200) == 1, codes
    steps = [{"pihak_urutan": 2, "username": "walikota"}, {"pihak_urutan": 1, "username": "bupati"}]
    r = api.client.post(
        f"/api/v1/naskah/{nid}/signature-plan", json={"mode": "tatap_muka", "steps": steps}, headers=api.auth("drafter")
    )
    assert r.status_code == 201, r.text
    # a signer's process killed after storing its signed PDF, before its commit; then the signature again
    p12 = tmp_path / "walikota.p12"
    p12.write_bytes(counterparty_pki.issue_person(WALIKOTA).to_pkcs12("k"))
    child = Child(tmp_path, crash, "sign", naskah_id=nid, username="walikota", p12=str(p12), passphrase="k")
    kill_in_the_middle(crash, child, "after_storing", tsa_gate, svc.store, f"naskah/{nid}/ttd-1-signed.pdf")
    assert sign(api, nid, "walikota", p12.read_bytes()).status_code == 200

    # a revision process killed before its commit; the naskah then moves on, so reconcile discards it
    other = create_naskah(api, create_case(api))["id"]
    render = Child(
        tmp_path,
        crash,
        "render",
        naskah_id=other,
        username="u-drafter",
        converter_url=f"127.0.0.1:{svc.converter._server.port}",
        data={"tempat": "Paser"},
    )
    kill_in_the_middle(crash, render, "after_storing", None, svc.store, f"naskah/{other}/r002.pdf")
    r = api.client.post(f"/api/v1/naskah/{other}/revisions/render", json={}, headers=api.auth("drafter"))
    # numbers have no gaps (issue 12): the killed render's pending row was only a candidate for 2
    assert r.status_code == 201 and r.json()["number"] == 2, r.text
    leftover = kill_a_put_mid_write(svc.store, nid) if isinstance(svc.store, LocalObjectStore) else None

    before = stored(svc.store)
    referenced = rows_point_at(svc)
    orphans = before - set(referenced)
    assert len(orphans) >= 3, orphans  # the killed signer's PDF, the discarded revision's DOCX and PDF
    assert set(referenced) <= before
    contents = {ref: svc.get(*ref, sha) for ref, sha in referenced.items()}

    # with the threshold as it is (one hour) nothing is touched: all of it is younger
    young = cleanup(svc)
    assert young.removed == [] and young.young + young.pending == len(orphans) and stored(svc.store) == before
    # a dry run says what would go, and changes nothing
    dry = housekeeping(svc, pending_older_than=timedelta(0), min_age=timedelta(0), dry_run=True, temp_root=tmp_path)
    assert [r.outcome for r in dry.reconciled] == ["would discard"]
    assert stored(svc.store) == before and (leftover is None or leftover.exists())

    done = housekeeping(svc, pending_older_than=timedelta(0), min_age=timedelta(0), temp_root=tmp_path)
    assert [(r.naskah_id, r.number, r.outcome) for r in done.reconciled] == [(other, 2, "discarded")]
    after = stored(svc.store)
    assert after == set(rows_point_at(svc)) == set(referenced), after ^ set(referenced)
    removed = {(v.key, v.version_id) for v in done.cleanup.removed}
    assert removed == orphans and done.cleanup.foreign == [] and done.cleanup.locked == []
    for ref, sha in referenced.items():  # every referenced object reads back byte-identical
        data = svc.get(*ref, sha)
        assert data == contents[ref] and hashlib.sha256(data).hexdigest() == sha
    if leftover is not None:
        assert str(leftover) in done.cleanup.leftovers and not leftover.exists()
        assert not list(svc.store.root.rglob("*.tmp-*"))
        assert all(p.with_suffix(".json").exists() for p in svc.store.root.rglob("*.blob"))

    # and the naskah goes on: the Bupati signs, the signed PDF verifies and downloads byte for byte
    bupati = api.client.post(
        f"/api/v1/naskah/{nid}/sign",
        files={"p12": ("k.p12", dev_pki.issue_person(OFFICIALS["bupati"]).to_pkcs12("k"), "application/x-pkcs12")},
        data={"passphrase": "k"},
        headers=api.auth("bupati"),
    )
    assert bupati.status_code == 200, bupati.text
    assert api.client.get(f"/api/v1/naskah/{nid}/signed.pdf", headers=api.auth("drafter")).status_code == 200
    again = cleanup(svc, min_age=timedelta(0), temp_root=tmp_path)
    assert again.removed == [] and stored(svc.store) == set(rows_point_at(svc))


# --- LibreOffice working directories -------------------------------------------------------------

WARM_CHILD = """
import time
from pipeline.drafting.convert import WarmConverter

converter = WarmConverter()
print(converter.server_pid, flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_a_killed_converters_libreoffice_directory_and_processes_are_swept_and_live_ones_kept(tmp_path):
    """A process with a warm converter is SIGKILLed: its unoserver and soffice.bin run on (their own process
    group) in its profile directory.  The sweep kills them and removes the directory; a live converter's
    directory, a fresh directory without an owner and anything else in the temp directory stay."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-c", WARM_CHILD],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(temp)},
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        server = int(proc.stdout.readline())
        (dead,) = temp.glob("naskah-warm-*")
        assert json.loads((dead / OWNER_FILE).read_text())["pid"] == proc.pid
    finally:
        proc.kill()
        proc.wait(30)
    assert alive(server)  # the owner is gone, its LibreOffice is not

    live = temp / "naskah-warm-live"  # this process's own converter directory: its owner runs
    live.mkdir()
    (live / OWNER_FILE).write_text(json.dumps({"pid": os.getpid()}))
    fresh = temp / "naskah-cold-fresh"  # no owner file yet (being set up), but young
    fresh.mkdir()
    abandoned = temp / "naskah-cold-old"  # no owner file, nobody working in it, hours old
    abandoned.mkdir()
    (abandoned / "input.docx").write_bytes(b"x")
    old = time.time() - 3 * 3600
    for p in (abandoned / "input.docx", abandoned):
        os.utime(p, (old, old))
    fonts = temp / "fontconfig"  # not ours
    fonts.mkdir()

    assert {Path(d.path).name for d in sweep(temp, dry_run=True)} == {dead.name, abandoned.name}
    assert dead.exists() and alive(server)
    swept = sweep(temp)
    assert {(Path(d.path).name, d.reason) for d in swept} == {(dead.name, "owner_gone"), (abandoned.name, "abandoned")}
    assert server in next(d for d in swept if d.reason == "owner_gone").killed
    deadline = time.monotonic() + 10
    while alive(server) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(server)
    assert sorted(p.name for p in temp.iterdir()) == ["fontconfig", "naskah-cold-fresh", "naskah-warm-live"]


# --- naskah reconcile and the API's start-up -----------------------------------------------------


def orphan_of(api) -> tuple[int, tuple[str, str]]:
    """A naskah and an unreferenced version under its key (a stamped PDF whose paraf lost its race)."""
    nid = create_naskah(api, create_case(api))["id"]
    extra = api.services.store.put(f"naskah/{nid}/r001-paraf1.pdf", b"%PDF-1.7 kalah balapan")
    return nid, (extra.key, extra.version_id)


@pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
def test_naskah_reconcile_lists_with_dry_run_then_removes_orphans(api, tmp_path):
    nid, orphan = orphan_of(api)
    store = api.services.store
    env = {k: v for k, v in os.environ.items() if not k.startswith("NASKAH_")}
    env |= {
        "NASKAH_DATABASE_URL": str(api.services.engine.url),
        "NASKAH_STORAGE_URL": f"file:{store.root}",
        "TMPDIR": str(tmp_path),
    }
    naskah = str(Path(sys.executable).with_name("naskah"))

    def run(*args: str) -> str:
        done = subprocess.run([naskah, "reconcile", *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    out = run("--dry-run")  # the default threshold: an hour; the orphan is seconds old
    assert "0 yatim akan dihapus" in out and "1 lebih muda dari 60 menit" in out, out
    out = run("--dry-run", "--min-age-minutes", "0")
    assert f"akan dihapus: {orphan[0]} versi {orphan[1]}" in out and "1 yatim akan dihapus" in out, out
    assert orphan in store.listing("")
    report = json.loads(run("--min-age-minutes", "0", "--json"))
    assert [(o["key"], o["version_id"]) for o in report["cleanup"]["removed"]] == [orphan]
    assert orphan not in store.listing("") and len(store.listing("")) == 2  # r001's DOCX and PDF
    r = api.client.get(f"/api/v1/naskah/{nid}/revisions/1/pdf", headers=api.auth("drafter"))
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


@pytest.mark.parametrize("services", ["sqlite-s3"], indirect=True)
def test_the_api_cleans_up_at_start_in_the_background(api, monkeypatch, tmp_path):
    from fastapi.testclient import TestClient

    from api.config import Settings
    from api.main import create_app

    _nid, orphan = orphan_of(api)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))  # the sweep looks in the temp directory
    settings = Settings(database_url="sqlite://", storage_url="file:/nonexistent", migrate_on_start=False)
    assert settings.cleanup_on_start and settings.cleanup_min_age_minutes == 60
    app = create_app(settings.model_copy(update={"cleanup_min_age_minutes": 0}), api.services)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        app.state.housekeeping.join(60)
        assert not app.state.housekeeping.is_alive()
    assert orphan not in api.services.store.listing("")
    assert len(api.services.store.listing("")) == 2


@pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
def test_versions_the_records_cannot_vouch_for_are_kept(api):
    """A store that is not this database's (an unknown prefix, a naskah id the database does not have, a
    version older than its naskah) is not this cleanup's to judge; a party's earlier lambang, replaced by
    a new upload and recorded in the audit trail, is history."""
    store = api.services.store
    case_id = create_case(api)
    nid = create_naskah(api, case_id)["id"]
    for size in (40, 60):  # the second upload replaces the first
        r = api.client.put(
            f"/api/v1/cases/{case_id}/pihak/1/lambang",
            files={"file": ("l.png", _png(size, size), "image/png")},
            headers=api.auth("drafter"),
        )
        assert r.status_code == 200, r.text
    keep = [store.put("lain/berkas.pdf", b"x"), store.put(f"naskah/{nid + 100}/r001.pdf", b"x")]
    older = store.put(f"naskah/{nid}/r001.pdf", b"lebih tua dari naskahnya")
    meta = store.root / "naskah" / str(nid) / "r001.pdf" / f"{older.version_id}.json"
    data = json.loads(meta.read_text())
    data["created"] = "2020-01-01T00:00:00+00:00"
    meta.write_text(json.dumps(data))
    before = set(store.listing(""))

    report = cleanup(api.services, min_age=timedelta(0))
    assert report.removed == [] and report.history == 1
    assert {(v.key, v.version_id) for v in report.foreign} == {(o.key, o.version_id) for o in [*keep, older]}
    assert set(store.listing("")) == before
