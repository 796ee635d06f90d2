"""A process killed in the middle of signing, archiving or storing a revision leaves the previous state.

The step runs for real in a child process (``tests/crash_child.py``: the services built from
settings as ``naskah serve`` builds them) against the test's PostgreSQL database and object
stores, and is SIGKILLed at a moment the test controls, without any mock:

* ``while_timestamping``: the test's gate in front of the TSA holds the timestamp request, so the
  child is in the middle of making the signature (or the archive's document timestamp);
* ``after_storing``: the test holds the row lock of the audit chain's head (as a long transaction of
  another request would), so the child stores its object, opens its final transaction (inserts,
  lifecycle step) and waits there, before its commit; the test sees it waiting in
  ``pg_stat_activity`` and sees the object in the store, then kills it.

Afterwards the naskah is as it was (status, lock_version, no signed step, no Arsip row, no event, the
audit chain verifies), what the child stored is an unreferenced object version, ``reconcile`` leaves
everything consistent (and completes a revision whose objects were stored), and the same action,
done again, succeeds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlmodel import select

from pipeline.drafting.revisions import reconcile
from pipeline.models import Arsip, NaskahFile
from pipeline.sign.verify import verify_pdf
from storage.db import session_scope
from storage.objects import LocalObjectStore, S3ObjectStore
from tests.crash_child import APPLICATION_NAME
from tests.fixtures.app import Api
from tests.fixtures.pki import WALIKOTA
from tests.test_api import create_case, create_naskah
from tests.test_archive import signed_kb
from tests.test_signing_flow import fully_initialled
from tests.test_store_outage import sign, state_of

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ["postgres-local", "postgres-s3"]


class Child:
    """``python -m tests.crash_child`` on one workflow step; its output goes to ``<action>.log``."""

    def __init__(self, tmp_path: Path, crash: Crash, action: str, **spec: object) -> None:
        full = {
            "action": action,
            "database_url": crash.database_url,
            "storage_url": crash.storage_url,
            "trust_roots": crash.trust_roots,
            "tsa_url": crash.api.services.tsa_url or "",
            **spec,
        }
        spec_path = tmp_path / f"{action}.json"
        spec_path.write_text(json.dumps(full))
        self.log = tmp_path / f"{action}.log"
        env = {
            k: v for k, v in os.environ.items() if not k.startswith("NASKAH_") or k == "NASKAH_FETCH_ALLOW"
        }  # the dev PKI
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.crash_child", str(spec_path)],
                cwd=ROOT,
                env={**env, "PYTHONPATH": str(ROOT)},
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            pytest.fail(f"the child ended ({self.proc.returncode}) before it could be killed:\n{self.output()}")

    def kill(self) -> None:
        self.check_alive()
        self.proc.send_signal(signal.SIGKILL)
        assert self.proc.wait(30) == -signal.SIGKILL


class Db:
    """Plain psycopg connections to the test's database, beside the application's."""

    def __init__(self, pg_server, api: Api) -> None:
        self.dsn = pg_server.dsn(api.services.engine.url.database)

    def child_backends(self, waiting_for_lock: bool = False) -> int:
        sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s"
        if waiting_for_lock:
            sql += " AND wait_event_type = 'Lock'"
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            return conn.execute(sql, (APPLICATION_NAME,)).fetchone()[0]

    @contextmanager
    def audit_head_locked(self) -> Iterator[None]:
        """Hold the audit head's row lock (every action's final transaction needs it) until the block ends."""
        conn = psycopg.connect(self.dsn)
        try:
            conn.execute("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE")
            yield
        finally:
            conn.rollback()
            conn.close()

    def wait_child_blocked(self, child: Child, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while self.child_backends(waiting_for_lock=True) == 0:
            child.check_alive()
            if time.monotonic() > deadline:
                pytest.fail(f"the child never reached its final transaction:\n{child.output()}")
            time.sleep(0.05)

    def wait_child_gone(self, timeout: float = 60.0) -> None:
        """PostgreSQL ends a dead client's backends (rolling back its open transaction) when it notices."""
        deadline = time.monotonic() + timeout
        while self.child_backends():
            if time.monotonic() > deadline:
                pytest.fail("the killed child's database sessions are still there")
            time.sleep(0.05)


@dataclass
class Crash:
    """The API under test and what a child process needs to work on the same database and stores."""

    api: Api
    db: Db
    database_url: str
    storage_url: str
    trust_roots: str


@pytest.fixture
def crash(request, signers_api, dev_pki, counterparty_pki, pg_server) -> Crash:
    svc = signers_api.services
    if isinstance(svc.store, S3ObjectStore):
        storage_url = request.getfixturevalue("s3_server").url(svc.store.bucket)
    else:
        assert isinstance(svc.store, LocalObjectStore)
        storage_url = f"file:{svc.store.root}"
    # the child derives its archive store from the working store's URL, as the fixture names it
    return Crash(
        api=signers_api,
        db=Db(pg_server, signers_api),
        database_url=svc.engine.url.render_as_string(hide_password=False),
        storage_url=storage_url,
        trust_roots=f"{dev_pki.roots_pem}:{counterparty_pki.roots_pem}",
    )


def kill_in_the_middle(crash: Crash, child: Child, moment: str, tsa_gate, store, key: str) -> None:
    """Wait for ``moment`` in the child's step, check what is stored by then, and SIGKILL it."""
    if moment == "while_timestamping":
        assert tsa_gate.wait_held(timeout=120), f"the child never asked for a timestamp:\n{child.output()}"
        assert store.versions(key) == []  # nothing stored yet
        child.kill()
        tsa_gate.release()
    else:
        with crash.db.audit_head_locked():
            crash.db.wait_child_blocked(child)
            assert len(store.versions(key)) == 1  # the object is stored, the final commit has not happened
            child.kill()
    crash.db.wait_child_gone()


def planned_kb(api) -> int:
    """A fully initialled KB with a tatap muka plan: the Wali Kota signs first, then the Bupati."""
    nid = fully_initialled(api)
    steps = [{"pihak_urutan": 2, "username": "walikota"}, {"pihak_urutan": 1, "username": "bupati"}]
    r = api.client.post(
        f"/api/v1/naskah/{nid}/signature-plan", json={"mode": "tatap_muka", "steps": steps}, headers=api.auth("drafter")
    )
    assert r.status_code == 201, r.text
    return nid


@pytest.mark.parametrize("services", BACKENDS, indirect=True)
@pytest.mark.parametrize("moment", ["while_timestamping", "after_storing"])
def test_a_signer_process_killed_mid_signature_leaves_the_naskah_as_it_was(
    crash, counterparty_pki, tsa_gate, tmp_path, moment
):
    api = crash.api
    nid = planned_kb(api)
    p12 = tmp_path / "walikota.p12"
    p12.write_bytes(counterparty_pki.issue_person(WALIKOTA).to_pkcs12("k"))
    before = state_of(api.services, nid)
    key = f"naskah/{nid}/ttd-1-signed.pdf"

    if moment == "while_timestamping":
        tsa_gate.hold()
    tsa = tsa_gate.url if moment == "while_timestamping" else api.services.tsa_url
    child = Child(
        tmp_path, crash, "sign", naskah_id=nid, username="walikota", p12=str(p12), passphrase="k", tsa_url=tsa
    )
    kill_in_the_middle(crash, child, moment, tsa_gate, api.services.store, key)

    assert state_of(api.services, nid) == before  # status, lock_version, no signed step, no file, no event
    assert reconcile(api.services, older_than=timedelta(0)) == []  # signing leaves no pending row
    assert state_of(api.services, nid) == before
    plan = api.client.get(f"/api/v1/naskah/{nid}/signature-plan", headers=api.auth("drafter")).json()
    assert plan["next"] == 1 and [s["status"] for s in plan["steps"]] == ["menunggu", "menunggu"]

    # the same signature again, in this process: it succeeds, and the killed one's object is not used
    r = sign(api, nid, "walikota", p12.read_bytes())
    assert r.status_code == 200, r.text
    after = state_of(api.services, nid)
    assert after.signed_steps == 1 and after.lock_version == before.lock_version + 1
    versions = api.services.store.versions(key)
    assert len(versions) == (1 if moment == "while_timestamping" else 2)
    with session_scope(api.services.engine) as session:
        referenced = session.exec(select(NaskahFile.version_id).where(NaskahFile.key == key)).all()
    assert referenced == [versions[-1].version_id]


@pytest.mark.parametrize("services", BACKENDS, indirect=True)
@pytest.mark.parametrize("moment", ["while_timestamping", "after_storing"])
def test_an_archiving_process_killed_midway_leaves_no_partial_archive(
    crash, dev_pki, counterparty_pki, tsa_gate, tmp_path, moment
):
    api = crash.api
    nid = signed_kb(api, dev_pki, counterparty_pki)
    before = state_of(api.services, nid)
    assert before.status == "signed"
    archive_store = api.services.archive_store
    assert archive_store is not None
    key = f"arsip/{datetime.now(api.services.profile.tz).year}/kb-{nid}.pdf"  # signed today

    if moment == "while_timestamping":
        tsa_gate.hold()
    tsa = tsa_gate.url if moment == "while_timestamping" else api.services.tsa_url
    child = Child(tmp_path, crash, "archive", naskah_id=nid, username="u-secretariat", tsa_url=tsa)
    kill_in_the_middle(crash, child, moment, tsa_gate, archive_store, key)

    assert state_of(api.services, nid) == before  # still signed, no Arsip row, no ARCHIVE event
    assert api.client.get("/api/v1/arsip", headers=api.auth("secretariat")).json()["count"] == 0
    assert reconcile(api.services, older_than=timedelta(0)) == []
    assert state_of(api.services, nid) == before

    r = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat"))
    assert r.status_code == 201, r.text
    arsip = r.json()
    after = state_of(api.services, nid)
    assert after.status == "archived" and after.arsip == 1 and after.arsip_versions == 1
    versions = archive_store.versions(key)
    # a killed archiving leaves at most one unreferenced locked version; the record names the new one
    assert len(versions) == (1 if moment == "while_timestamping" else 2)
    assert arsip["version_id"] == versions[-1].version_id
    with session_scope(api.services.engine) as session:
        assert len(session.exec(select(Arsip)).all()) == 1
    original = api.client.get(f"/api/v1/arsip/{arsip['id']}/original.pdf", headers=api.auth("secretariat")).content
    assert verify_pdf(original, api.services.trust_roots).ok


@pytest.mark.parametrize("services", ["postgres-local"], indirect=True)
def test_a_revision_killed_before_its_commit_is_completed_by_naskah_reconcile(crash, converter, tmp_path):
    api = crash.api
    nid = create_naskah(api, create_case(api))["id"]
    before = state_of(api.services, nid)
    address = f"127.0.0.1:{converter._server.port}"  # the session's warm unoserver, shared
    child = Child(
        tmp_path, crash, "render", naskah_id=nid, username="u-drafter", converter_url=address, data={"tempat": "Paser"}
    )
    kill_in_the_middle(crash, child, "after_storing", None, api.services.store, f"naskah/{nid}/r002.pdf")

    # the pending row is there, invisible: the naskah is as it was
    killed = state_of(api.services, nid)
    assert killed.revisions == ((1, "complete"), (2, "pending"))
    assert (killed.status, killed.lock_version, killed.events, killed.audit_seq) == (
        before.status,
        before.lock_version,
        before.events,
        before.audit_seq,
    )
    listed = api.client.get(f"/api/v1/naskah/{nid}/revisions", headers=api.auth("drafter")).json()
    assert [r["number"] for r in listed["data"]] == [1]

    # `naskah reconcile`, the command line, on the same database and store: both objects are there
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("NASKAH_") or k == "NASKAH_FETCH_ALLOW"
    }  # the dev PKI
    env.update(
        NASKAH_DATABASE_URL=crash.database_url,
        NASKAH_STORAGE_URL=crash.storage_url,
    )
    done = subprocess.run(
        [str(Path(sys.executable).with_name("naskah")), "reconcile", "--older-than-minutes", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"naskah {nid} revisi 2: completed" in done.stdout, done.stdout
    after = state_of(api.services, nid)  # the audit chain verifies with the reconcile entry in it
    assert after.revisions == ((1, "complete"), (2, "complete"))
    assert after.lock_version == before.lock_version + 1 and after.audit_seq == before.audit_seq + 1
    rev2 = api.client.get(f"/api/v1/naskah/{nid}/revisions/2", headers=api.auth("drafter")).json()
    pdf = api.client.get(rev2["pdf_url"], headers=api.auth("drafter"))
    assert pdf.status_code == 200 and pdf.headers["X-Content-SHA256"] == rev2["pdf_sha256"]

    # and drafting goes on
    r = api.client.post(f"/api/v1/naskah/{nid}/revisions/render", json={}, headers=api.auth("drafter"))
    assert r.status_code == 201 and r.json()["number"] == 3, r.text
