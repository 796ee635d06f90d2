"""Two API processes behind one load balancer, on one PostgreSQL and one S3 bucket: the database decides.

Production runs several ``naskah serve`` processes; nothing may depend on a lock or cache inside
one of them.  Here two real ``naskah serve`` processes (the same settings, each its own
``application_name``) share the test's PostgreSQL database, moto S3 bucket (and archive bucket),
the dev PKI's TSA, and the session's warm unoserver as a remote converter (as docker-compose's
``converter`` service).  The same request goes to both at once, and so that the race is real,
not two requests that happen to run one after the other, the test holds the audit chain's head
row (every action's final transaction takes it, as a long transaction of another request would)
until every request is waiting in its final transaction, as ``pg_stat_activity`` shows; then it
lets go.  Each time exactly one wins and the other gets a 409 envelope: a paraf, each signature,
the archiving, and a round of revisions rendered at once (each number given once, no gaps, also
when the first of two renders loses its database connection at the last moment).  Afterwards
``naskah audit verify`` finds the chain intact and the signed PDF verifies.  Two ``naskah db
upgrade`` started at once on an empty database (PostgreSQL, and a SQLite file) both succeed, and
``naskah serve --workers 2`` starts two processes on one port.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlmodel import col, select

from pipeline.models import Arsip, AuditEntry, NaskahEvent, Paraf, Revision, SignatureStep
from pipeline.sign.verify import verify_pdf
from storage.db import alembic_config, make_engine, session_scope
from tests.fixtures.app import Api
from tests.fixtures.pki import WALIKOTA
from tests.fixtures.postgres import free_port
from tests.test_api import create_case, create_naskah
from tests.test_error_envelope import assert_envelope
from tests.test_readme import stop_group
from tests.test_workflow import post

ROOT = Path(__file__).resolve().parent.parent
NASKAH = Path(sys.executable).with_name("naskah")
APP = "naskah-mp"


class ApiProcess:
    """``naskah serve`` in a process (group) of its own; its output goes to ``<name>.log``."""

    def __init__(self, name: str, env: dict[str, str], tmp_path: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        self.log = tmp_path / f"{name}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [str(NASKAH), "serve", "--port", str(self.port)],
                cwd=tmp_path,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"{self.name} ended ({self.proc.returncode}) at start:\n{self.output()}")
            try:
                if httpx.get(self.url.removesuffix("/api/v1") + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        pytest.fail(f"{self.name} did not answer within {timeout:.0f} s:\n{self.output()}")

    def stop(self) -> None:
        stop_group(self.proc.pid, self.proc)


class Database:
    """The test's own connections to the shared database, beside the servers'."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def waiting(self) -> list[tuple[int, str]]:
        """(pid, application_name) of the servers' sessions waiting for a lock."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            return conn.execute(
                "SELECT pid, application_name FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name LIKE %s AND wait_event_type = 'Lock' ORDER BY pid",
                (f"{APP}-%",),
            ).fetchall()

    def wait_waiting(self, count: int, pending: list[threading.Thread], timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.waiting()) < count:
            done = [t.name for t in pending if not t.is_alive()]
            if done:
                pytest.fail(f"{done} answered before reaching the final transaction")
            if time.monotonic() > deadline:
                pytest.fail(f"only {len(self.waiting())} of {count} requests reached their final transaction")
            time.sleep(0.05)

    @contextmanager
    def audit_head_held(self) -> Iterator[None]:
        """Hold the audit head's row lock until the block ends: every action's last step waits for it."""
        conn = psycopg.connect(self.dsn)
        try:
            conn.execute("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE")
            yield
        finally:
            conn.rollback()
            conn.close()

    def terminate(self, pid: int) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


@dataclass
class Cluster:
    api: Api  # in-process, on the same database and buckets: set-up and the checks afterwards
    servers: tuple[ApiProcess, ApiProcess]
    db: Database
    env: dict[str, str]

    def call(self, server: ApiProcess, who: str, method: str, path: str, **kwargs) -> httpx.Response:
        return httpx.request(method, server.url + path, headers=self.api.auth(who), timeout=180, **kwargs)

    def race(self, *calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
        """Run ``calls`` at once, held in their final transaction until all are there; their answers."""
        results: list[httpx.Response | BaseException | None] = [None] * len(calls)

        def run(i: int, call: Callable[[], httpx.Response]) -> None:
            try:
                results[i] = call()
            except BaseException as exc:
                results[i] = exc

        with self.db.audit_head_held():
            threads = [threading.Thread(target=run, args=(i, c), name=f"call-{i}") for i, c in enumerate(calls)]
            for t in threads:
                t.start()
            self.db.wait_waiting(len(calls), threads)
        for t in threads:
            t.join(180)
        for r in results:
            if not isinstance(r, httpx.Response):
                raise AssertionError(f"a call failed: {r!r}")
        return results  # type: ignore[return-value]


def one_winner(responses: list[httpx.Response], ok: int) -> httpx.Response:
    """Exactly one ``ok``; every other a 409 envelope saying someone else was first.  The winner."""
    codes = sorted(r.status_code for r in responses)
    assert codes == sorted([ok] + [409] * (len(responses) - 1)), [(r.status_code, r.text[:300]) for r in responses]
    for r in responses:
        if r.status_code == 409:
            assert_envelope(r)
    return next(r for r in responses if r.status_code == ok)


@pytest.fixture
def cluster(signers_api, dev_pki, counterparty_pki, converter, s3_server, pg_server, tmp_path) -> Iterator[Cluster]:
    svc = signers_api.services
    database_url = svc.engine.url.render_as_string(hide_password=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NASKAH_")}
    env.update(
        NASKAH_STORAGE_URL=s3_server.url(svc.store.bucket),  # the archive: the bucket '<bucket>-arsip'
        NASKAH_CONVERTER="remote",
        NASKAH_CONVERTER_URL=f"127.0.0.1:{converter._server.port}",  # the session's warm unoserver, shared
        NASKAH_TRUST_ROOTS=f"{dev_pki.roots_pem}:{counterparty_pki.roots_pem}",
        NASKAH_TSA_URL=dev_pki.tsa_url,
        NASKAH_TSA_TIMEOUT=os.environ["NASKAH_TSA_TIMEOUT"],
        NASKAH_FETCH_ALLOW=f"{dev_pki.fetch_allow},{counterparty_pki.fetch_allow}",  # the dev PKIs on loopback
        NASKAH_LOG_LEVEL="WARNING",
        HOME=str(tmp_path),
    )
    servers = tuple(
        ApiProcess(name, {**env, "NASKAH_DATABASE_URL": f"{database_url}?application_name={APP}-{name}"}, tmp_path)
        for name in ("a", "b")
    )
    try:
        for server in servers:
            server.wait_ready()
        yield Cluster(
            api=signers_api,
            servers=servers,  # type: ignore[arg-type]
            db=Database(pg_server.dsn(svc.engine.url.database)),
            env={**env, "NASKAH_DATABASE_URL": database_url},
        )
    finally:  # both at once: a server still finishing a raced request may take its whole grace to stop
        stopping = [threading.Thread(target=server.stop) for server in servers]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()


def completed_numbers(api: Api, nid: int) -> list[int]:
    with session_scope(api.services.engine) as session:
        return list(
            session.exec(
                select(Revision.number)
                .where(Revision.naskah_id == nid, Revision.state == "complete")
                .order_by(col(Revision.number))
            ).all()
        )


def render(c: Cluster, server: ApiProcess, nid: int, note: str) -> Callable[[], httpx.Response]:
    return lambda: c.call(server, "drafter", "POST", f"/naskah/{nid}/revisions/render", json={"note": note})


@pytest.mark.slow
@pytest.mark.parametrize("services", ["postgres-s3"], indirect=True)
def test_two_api_processes_race_and_the_database_lets_exactly_one_win(cluster: Cluster, dev_pki, counterparty_pki):
    c, api = cluster, cluster.api
    a, b = c.servers
    nid = create_naskah(api, create_case(api))["id"]

    # revisions rendered at once on both processes: one is recorded per round, numbered next
    for round_ in range(2):
        calls = [render(c, server, nid, f"putaran {round_} ({i})") for i, server in enumerate((a, b, a, b))]
        winner = one_winner(c.race(*calls), 201)
        assert winner.json()["number"] == round_ + 2
        assert completed_numbers(api, nid) == list(range(1, round_ + 3))

    # the first of two renders loses its database connection while the second waits behind it
    with c.db.audit_head_held():
        first: list[httpx.Response] = []
        t1 = threading.Thread(target=lambda: first.append(render(c, a, nid, "koneksi putus")()), name="render-a")
        t1.start()
        c.db.wait_waiting(1, [t1])
        (victim,) = c.db.waiting()
        second: list[httpx.Response] = []
        t2 = threading.Thread(target=lambda: second.append(render(c, b, nid, "menunggu")()), name="render-b")
        t2.start()
        c.db.wait_waiting(2, [t2])
        c.db.terminate(victim[0])
        t1.join(180)
    t2.join(180)
    assert first[0].status_code == 503 and assert_envelope(first[0])["code"] == "storage_unavailable", first[0].text
    assert second[0].status_code == 201, second[0].text
    assert second[0].json()["number"] == 4  # the number the lost render had is not left as a gap
    assert completed_numbers(api, nid) == [1, 2, 3, 4]

    # to paraf; each official's paraf sent to both processes at once
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    assert post(api, f"{nid}/approve", "legal").status_code == 200
    for who in ("kabag_pemerintahan", "asisten_umum", "sekda"):
        one_winner(c.race(*[lambda s=s, w=who: c.call(s, w, "POST", f"/naskah/{nid}/paraf") for s in (a, b)]), 200)
    steps = [{"pihak_urutan": 2, "username": "walikota"}, {"pihak_urutan": 1, "username": "bupati"}]
    r = api.client.post(
        f"/api/v1/naskah/{nid}/signature-plan", json={"mode": "tatap_muka", "steps": steps}, headers=api.auth("drafter")
    )
    assert r.status_code == 201, r.text

    # each signature sent to both processes at once
    for who, pki, nama in (("walikota", counterparty_pki, WALIKOTA), ("bupati", dev_pki, "dr. Fahmi Fadli")):
        p12 = pki.issue_person(nama).to_pkcs12("k")

        def signs(server: ApiProcess, who: str = who, p12: bytes = p12) -> httpx.Response:
            files = {"p12": ("k.p12", p12, "application/x-pkcs12")}
            return c.call(server, who, "POST", f"/naskah/{nid}/sign", files=files, data={"passphrase": "k"})

        one_winner(c.race(lambda: signs(a), lambda: signs(b)), 200)

    # archived by both processes at once
    winner = one_winner(
        c.race(*[lambda s=s: c.call(s, "secretariat", "POST", f"/naskah/{nid}/archive") for s in (a, b)]), 201
    )
    assert winner.json()["naskah_id"] == nid

    with session_scope(api.services.engine) as session:
        events = session.exec(select(NaskahEvent.action).where(NaskahEvent.naskah_id == nid)).all()
        audit = session.exec(select(AuditEntry.action).where(AuditEntry.naskah_id == nid)).all()
        paraf = session.exec(select(Paraf).where(Paraf.naskah_id == nid, col(Paraf.voided_at).is_(None))).all()
        signed = session.exec(select(SignatureStep).where(col(SignatureStep.signed_at).is_not(None))).all()
        arsip = session.exec(select(Arsip).where(Arsip.naskah_id == nid)).all()
    assert events.count("revise") == 4 and events.count("paraf") == 3 and events.count("sign") == 2
    assert events.count("archive") == 1 and audit.count("archive") == 1 and audit.count("sign") == 2
    assert sorted(p.urutan for p in paraf) == [1, 2, 3] and len(signed) == 2 and len(arsip) == 1
    original = api.client.get(f"/api/v1/arsip/{arsip[0].id}/original.pdf", headers=api.auth("secretariat"))
    report = verify_pdf(original.content, api.services.trust_roots)
    assert report.ok and [s.field for s in report.signatures] == ["ttd_pihak_2", "ttd_pihak_1"], report.to_dict()

    check = subprocess.run(
        [str(NASKAH), "audit", "verify"], env=c.env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_two_migrations_started_at_once_on_an_empty_database_both_succeed(pg_server, tmp_path):
    """Every process migrates at start (``NASKAH_MIGRATE_ON_START``): two starting together must not
    trip over each other's DDL."""
    _two_upgrades_at_once(pg_server.url(pg_server.new_database()), tmp_path)


def test_two_migrations_started_at_once_on_an_empty_sqlite_file_both_succeed(tmp_path):
    """The default database too (``naskah serve --workers`` starts its workers together): the second
    waits on the file lock beside the database and finds the schema current."""
    _two_upgrades_at_once(f"sqlite:///{tmp_path / 'naskah.db'}", tmp_path)


def _two_upgrades_at_once(url: str, tmp_path: Path) -> None:
    """``naskah db upgrade`` twice at once on the empty database ``url``: both succeed, and it is at the head."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NASKAH_")}
    env.update(NASKAH_DATABASE_URL=url, HOME=str(tmp_path))
    procs = [
        subprocess.Popen(
            [str(NASKAH), "db", "upgrade"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=180)[0].decode(errors="replace") for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    engine = make_engine(url)
    try:
        head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
    finally:
        engine.dispose()


def test_serve_with_two_workers_starts_both_and_stops_on_sigterm(tmp_path):
    """``naskah serve --workers 2`` (``NASKAH_WORKERS``): two processes on one port, each built from the
    same settings and logging as one process does; none killed while it starts (uvicorn's health check
    waits for the import of the app); SIGTERM stops them all."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NASKAH_")}
    env.update(NASKAH_CONVERTER="cold", NASKAH_WORKERS="2", NASKAH_LOG_LEVEL="INFO", HOME=str(tmp_path))
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(NASKAH), "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        while log.read_text(errors="replace").count("Application startup complete") < 2:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")[-4000:]
            time.sleep(0.2)
        for _ in range(10):
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        r = httpx.get(f"http://127.0.0.1:{port}/masuk", timeout=10)
        assert r.status_code == 200 and "Masuk" in r.text
        output = log.read_text(errors="replace")
        assert output.count("INFO api.main: naskah API ready") == 2, output[-4000:]  # our format, in each worker
        assert "died" not in output and "Traceback" not in output, output[-4000:]
    finally:
        stop_group(proc.pid, proc)
    assert proc.wait(timeout=10) is not None
    assert "Stopping parent process" in log.read_text(errors="replace")
