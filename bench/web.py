"""Web pages under load: the archive search page with 100,000 records and 32 signed-in sessions, and the
public verification page under 16 concurrent uploads of a 10-page signed naskah.

``bench/archive_load.py`` measures the API (``GET /api/v1/arsip``, a bearer token); people use the
pages.  This benchmark drives the HTML pages over real HTTP, each client a browser of its own:

* a throw-away PostgreSQL (``initdb`` + ``pg_ctl``, as the tests start it), migrated, with
  ``--records`` archived naskah (default 100,000) of Kabupaten Paser and the kerja sama, pihak, naskah
  and nomor rows behind them, generated and bulk-loaded with COPY by ``bench/archive_load.py``'s
  generator (the same data, the same ``search_text``);
* the app as production runs it (``naskah serve --workers``: uvicorn's worker processes on
  127.0.0.1, settings from ``NASKAH_*``);
* ``--sessions`` clients (default 32), each signed in through ``/masuk`` (its own session cookie) as
  one of ten people: secretariat, Bagian Pemerintahan and Bagian Hukum staff, who see every record, and
  four Kepala OPD, whom least privilege (``pipeline.access``) limits to their OPD's kerja sama: a
  quarter of the sessions.  Each asks ``/arsip`` with the secretariat's mix of free text (1-2 words, a
  nomor), filters (jenis, jenis kerja sama, tahun, OPD, masa), sorts and page numbers, ``--think-ms``
  (default 1000 ms, 0.5x-1.5x) after the last answer, like a person reading the results.  Every answer
  must be 200, show its count, and an OPD's session must see only its OPD's rows;
* the same pages from ONE session with no pause (the page's own latency on this machine, the ratio's
  denominator), and from all sessions with no pause (capacity; latency there is queueing, not judged);
* ``/verifikasi``: a 10-page naskah (LibreOffice from a DOCX, as the pipeline converts) signed by two
  parties with pyHanko (PAdES B-LT, timestamped) under a dev PKI the server trusts
  (``NASKAH_TRUST_ROOTS``); first one upload at a time, then ``--uploads`` clients (default 16) uploading
  it back to back, each with its own form cookie (``NASKAH_PUBLIC_VERIFY_PER_HOUR`` raised: every
  client is 127.0.0.1).  Every answer must say the signatures are valid.

The machine may be shared: every number is measured in this run, and each loaded phase is also given
as a ratio to its one-client phase, and with its CPU per request (API, PostgreSQL), read from /proc,
which other load hardly changes.

Goal: ``/arsip`` p95 under 150 ms with the sessions thinking (exit 1 when missed; exit 2 on any failed
request or check).  ``--keep [DIR]`` keeps the database, the PKI and the signed PDF in DIR (default
/tmp/naskah-bench-web) and reuses them on the next run with the same ``--records``.

    .venv/bin/python bench/web.py [--records 100000] [--sessions 32] [--uploads 16] [--seconds 15] [--keep]
        [--arsip-only]
    make bench-web BENCH_WEB_ARGS="--keep"

Lines: ``web: arsip p95=… ms p50=… ms p99=… ms requests=…`` and ``web: verifikasi p95=…`` likewise.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
import psycopg
from sqlmodel import SQLModel

from bench.archive_load import (
    OPD,
    RETENTION_DAYS,
    Row,
    copy_rows,
    generate,
    machine_cpu_s,
    percentile,
    query_pool,
    serve,
    server_version,
    tree_cpu_s,
)
from pipeline.auth import create_user
from pipeline.models import Arsip, ArsipVersion, KerjaSama, Naskah, NaskahNomor, Pihak
from pipeline.signin import hash_password
from storage.db import make_engine, session_scope, upgrade
from storage.objects import LocalObjectStore
from tests.fixtures.postgres import PgServer, free_port, pg_bin, start_postgres

ARSIP_P95_BUDGET_MS = 150.0
PAGE_SIZE = 20  # api.web.arsip.PAGE_SIZE
WARMUP_S = 2.0
PASSWORD = "bench-kata-sandi-panjang"
SEED_VERSION = 1  # bump when the seeded data changes, so a kept database is seeded again
PAGES = 10
DEFAULT_KEEP = Path(tempfile.gettempdir()) / "naskah-bench-web"

#: (username, nama, jabatan, roles, OPD abbreviation or None): staff see every record, a Kepala OPD
#: only their OPD's kerja sama (pipeline.access: no step, paraf or plan names them in this archive).
STAFF = [
    ("sekretariat.tkksd", "Siti Rahmawati, S.Sos.", "Pengelola Arsip Kerja Sama", ["secretariat"], None),
    ("arsiparis.tkksd", "Muhammad Fajar, A.Md.", "Arsiparis", ["secretariat"], None),
    ("sekretaris.tkksd", "Drs. Agus Santoso, M.Si.", "Sekretaris TKKSD", ["secretariat"], None),
    ("analis.tapem", "Rina Wulandari, S.H.", "Analis Kerja Sama", ["drafter"], None),
    ("kasubbag.ks", "Hendra Gunawan, S.STP.", "Kepala Subbagian Kerja Sama", ["drafter"], None),
    ("analis.hukum", "Nurul Hidayat, S.H., M.H.", "Analis Hukum", ["legal"], None),
]
OPD_USERS = [
    ("kadis.dlh", "Ir. Bambang Setiawan, M.T.", "Kepala Dinas Lingkungan Hidup", ["signer"], "DLH"),
    ("kadis.dpupr", "Ir. H. Zainal Anwar", "Kepala Dinas Pekerjaan Umum dan Penataan Ruang", ["signer"], "DPUPR"),
    ("kadis.dinkes", "dr. Indah Lestari, M.Kes.", "Kepala Dinas Kesehatan", ["signer"], "Dinkes"),
    (
        "kaban.bpkad",
        "Drs. Taufik Rahman, M.M.",
        "Kepala Badan Pengelolaan Keuangan dan Aset Daerah",
        ["signer"],
        "BPKAD",
    ),
]
PEOPLE = STAFF + OPD_USERS
OPD_NAMES = {abbr: name for name, abbr in OPD}


def person_of(session_no: int) -> tuple[str, str | None]:
    """Which person session ``session_no`` signs in as: every fourth an OPD's head, the rest staff."""
    if session_no % 4 == 3:
        username, *_, abbr = OPD_USERS[(session_no // 4) % len(OPD_USERS)]
        return username, abbr
    username = STAFF[(session_no - session_no // 4) % len(STAFF)][0]
    return username, None


# -- PostgreSQL, throw-away or kept ---------------------------------------------------------------


def start_kept_postgres(base: Path) -> PgServer:
    """PostgreSQL with its data directory in ``base/pg`` (made on first use), started on a free port;
    as ``tests.fixtures.postgres.start_postgres`` but kept for the next run."""
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    home = base / "pg"
    datadir = home / "data"
    home.mkdir(parents=True, exist_ok=True)
    if run_as:
        shutil.chown(base, "postgres", "postgres")
        shutil.chown(home, "postgres", "postgres")
    if not (datadir / "PG_VERSION").exists():
        init = [pg_bin("initdb"), "-D", str(datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]
        subprocess.run([*run_as, *init], capture_output=True, text=True, check=True)
    port = free_port()
    opts = (
        f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200"
    )
    start = subprocess.run(
        [*run_as, pg_bin("pg_ctl"), "-D", str(datadir), "-o", opts, "-l", str(home / "log"), "-w", "-t", "60", "start"],
        capture_output=True,
        text=True,
    )
    if start.returncode:
        raise RuntimeError(f"pg_ctl start failed: {start.stderr}\n{(home / 'log').read_text()[-2000:]}")
    return PgServer(port=port, datadir=datadir, run_as=run_as)


def database_exists(server: PgServer, name: str) -> bool:
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


# -- seeding ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    dbname: str
    queries: list[dict[str, Any]]  # /arsip query strings
    total: int  # archived records
    seconds: float  # 0 when reused


def page_queries(pool: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``archive_load.query_pool``'s API searches as the page's query strings: the same fields, the page
    number (``halaman``) instead of offset/limit, only on pages after the first (as the page links)."""
    fields = ("q", "jenis", "jenis_kerja_sama", "tahun", "opd", "masa", "sort")
    out = []
    for params in pool:
        query = {k: params[k] for k in fields if k in params}
        page_no = params.get("offset", 0) // PAGE_SIZE + 1
        if page_no > 1:
            query["halaman"] = page_no
        out.append(query)
    return out


def seed(server: PgServer, dbname: str, records: int) -> list[dict[str, Any]]:
    """The people (``pipeline.auth``, argon2 passwords), ``records`` archived naskah with their cases by
    COPY (``archive_load.generate``), VACUUM ANALYZE; the page queries drawn from the records."""
    engine = make_engine(server.url(dbname))
    upgrade(engine)
    with session_scope(engine) as session:
        ids = {}
        password_hash = hash_password(PASSWORD)  # one hash for all: argon2 is slow on purpose
        for username, nama, jabatan, roles, abbr in PEOPLE:
            user = create_user(
                session,
                username=username,
                nama=nama,
                jabatan=jabatan,
                roles=roles,
                opd=f"{OPD_NAMES[abbr]} Kabupaten Paser" if abbr else None,
            )
            user.password_hash = password_hash
            session.add(user)
            session.flush()
            ids[username] = user.id or 0
    engine.dispose()
    rng = random.Random(20261207)
    rows = generate(records, ids["analis.tapem"], ids["sekretariat.tkksd"], rng)
    versions: list[Row] = [
        {
            "id": a["id"],
            "arsip_id": a["id"],
            "version_id": a["version_id"],
            "sha256": a["sha256"],
            "size": a["size"],
            "reason": "archive",
            "timestamp_expiry": a["timestamp_expiry"],
            "created_by": a["archived_by"],
            "created_at": a["archived_at"],
        }
        for a in rows.arsip
    ]
    tables: list[tuple[type[SQLModel], list[Row]]] = [
        (KerjaSama, rows.kerja_sama),
        (Pihak, rows.pihak),
        (Naskah, rows.naskah),
        (NaskahNomor, rows.nomor),
        (Arsip, rows.arsip),
        (ArsipVersion, versions),
    ]
    with psycopg.connect(server.dsn(dbname)) as conn:
        for model, table_rows in tables:
            copy_rows(conn, model, table_rows)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    assert RETENTION_DAYS  # the rows carry archive_load's retention, as archiving sets it
    return page_queries(query_pool(rows.arsip, rng))


def prepare_database(server: PgServer, records: int, work: Path, keep: bool) -> Seeded:
    """A seeded database: the kept one for ``records`` when there is one (migrated to the head, in case
    a migration came since), else a new one, with its object stores in ``work``."""
    dbname = f"bench_web_{records}_v{SEED_VERSION}"
    marker = work / f"{dbname}.json" if keep else None
    if marker and marker.exists() and database_exists(server, dbname):
        engine = make_engine(server.url(dbname))
        upgrade(engine)
        engine.dispose()
        with psycopg.connect(server.dsn(dbname), autocommit=True) as conn:
            # VACUUM too: a migration that fills a new column (0021_arsip_fast: arsip.opd_key) leaves a dead
            # version of every row, which the first minutes' searches would read until autovacuum came
            conn.execute("VACUUM ANALYZE")
        return Seeded(dbname, json.loads(marker.read_text()), records, 0.0)
    if database_exists(server, dbname):
        server.execute(f'DROP DATABASE "{dbname}"')
    for store in (f"{dbname}-objects", f"{dbname}-arsip"):  # bound to the database at the API's first start
        shutil.rmtree(work / store, ignore_errors=True)
        LocalObjectStore.create(work / store)  # the archive's rows name stored versions: its folder must exist
    server.execute(f'CREATE DATABASE "{dbname}" TEMPLATE template0')
    started = time.perf_counter()
    queries = seed(server, dbname, records)
    seconds = time.perf_counter() - started
    if marker:
        marker.write_text(json.dumps(queries))
    return Seeded(dbname, queries, records, seconds)


# -- the signed 10-page naskah --------------------------------------------------------------------


@dataclass(frozen=True)
class SignedNaskah:
    pdf: bytes
    roots_pem: Path
    fetch_allow: str
    pki_dir: Path


def signed_naskah(work: Path) -> SignedNaskah:
    """A 10-page naskah converted by LibreOffice, signed by PIHAK KESATU and PIHAK KEDUA (PAdES B-LT,
    each timestamped by the dev PKI's TSA), kept in ``work`` for the next run."""
    from pipeline.drafting.convert import WarmConverter, check_pdf
    from pipeline.sign import fetch
    from pipeline.sign.devpki import DevPki
    from pipeline.sign.signing import ParsedKeySigner, SignatureAppearance, SignOptions, http_timestamper, sign_pdf
    from pipeline.sign.signing import validation_context as make_vc
    from tests.fixtures.converter import sample_docx

    pki_dir, out = work / "pki", work / f"naskah-{PAGES}-halaman-ditandatangani.pdf"
    if out.exists() and pki_dir.exists():
        pki = DevPki.load(pki_dir)
        return SignedNaskah(out.read_bytes(), pki.roots_pem, pki.fetch_allow, pki_dir)
    with WarmConverter() as converter:
        pdf = converter.to_pdf(sample_docx(pages=PAGES))
    assert check_pdf(pdf).pages == PAGES
    pki = DevPki.generate(pki_dir, name="Bench Web", rsa_bits=2048)
    fetch.configure(fetch.current_policy().allowing(pki.fetch_allow))
    signers = [
        ("dr. Fahmi Fadli", "BUPATI PASER", "ttd_pihak_kesatu", (PAGES, 60.0, 60.0, 290.0, 140.0)),
        ("H. Rahmad Mas'ud, S.E., M.E.", "WALI KOTA BALIKPAPAN", "ttd_pihak_kedua", (PAGES, 305.0, 60.0, 545.0, 140.0)),
    ]
    with pki.serve() as server:
        tsa, vc = http_timestamper(server.tsa_url), make_vc(pki.roots)
        for nama, jabatan, name, box in signers:
            person = pki.issue_person(nama)
            appearance = SignatureAppearance(
                nama=nama, jabatan=jabatan, tanggal=dt.date(2026, 3, 12), reference="naskah:v:bench"
            )
            pdf = sign_pdf(
                pdf,
                ParsedKeySigner(person.certificate, person.key, person.chain),
                appearance,
                SignOptions(field_name=name, box=box),
                timestamper=tsa,
                validation_context=vc,
            )
    out.write_bytes(pdf)
    return SignedNaskah(pdf, pki.roots_pem, pki.fetch_allow, pki_dir)


# -- clients --------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    clients: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    api_cpu_s: float = float("nan")
    db_cpu_s: float = float("nan")
    machine_cpu_s: float = float("nan")

    def pct(self, q: int) -> float:
        return percentile(self.latencies_ms, q)

    def line(self, label: str) -> str:
        p50, p95, p99 = (self.pct(q) for q in (50, 95, 99))
        rate = len(self.latencies_ms) / self.seconds if self.seconds else float("nan")
        return (
            f"web: {label} p95={p95:.1f} ms p50={p50:.1f} ms p99={p99:.1f} ms "
            f"requests={len(self.latencies_ms)} ({self.name}, {rate:.1f} req/s)"
        )

    def cpu_line(self) -> str:
        n = max(len(self.latencies_ms), 1)
        api, db = 1000 * self.api_cpu_s / n, 1000 * self.db_cpu_s / n
        others = max(self.machine_cpu_s - self.api_cpu_s - self.db_cpu_s, 0.0) / max(self.seconds, 1e-9)
        return (
            f"  cpu per request, {self.name}: api {api:.1f} + postgres {db:.1f} ms; "
            f"everything else on the machine used {others:.2f} cores meanwhile"
        )


@dataclass(frozen=True)
class Target:
    base_url: str
    api_pid: int
    db_pid: int


def new_client(base_url: str) -> aiohttp.ClientSession:
    """A browser of its own: one connection, its own cookies (``unsafe``: the host is an IP address)."""
    return aiohttp.ClientSession(
        base_url,
        connector=aiohttp.TCPConnector(limit=1),
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        timeout=aiohttp.ClientTimeout(total=300),
    )


TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


async def sign_in(client: aiohttp.ClientSession, base_url: str, username: str) -> None:
    """``/masuk`` as a browser: the form (its cookie and token), then the POST; the session cookie is kept."""
    async with client.get("/masuk") as r:
        token = TOKEN.search(await r.text())
    if token is None:
        raise RuntimeError("no CSRF token on /masuk")
    form = {"username": username, "password": PASSWORD, "csrf_token": unescape(token.group(1)), "next": "/"}
    async with client.post("/masuk", data=form, headers={"Origin": base_url}, allow_redirects=False) as r:
        if r.status != 303:
            raise RuntimeError(f"sign-in of {username}: HTTP {r.status} {(await r.text())[:300]}")


COUNT = re.compile(r'class="result-count"[^>]*>\s*(?:lebih dari )?[\d.]+ arsip')  # archive.search_page
ROW_OPD = re.compile(r"· (?:KSDD|KSDPK|KSIV) · ([^<]+)</span>")


def check_arsip(html: str, status: int, opd: str | None) -> str | None:
    """200, a count shown, and for an OPD's head only rows of their OPD (least privilege)."""
    if status != 200:
        return f"HTTP {status} {html[:200]!r}"
    if COUNT.search(html) is None:
        return "no result count on the page"
    if opd is not None:
        own = f"{OPD_NAMES[opd]} Kabupaten Paser"
        others = {unescape(m) for m in ROW_OPD.findall(html)} - {own}
        if others:
            return f"an OPD session ({opd}) sees rows of {sorted(others)[:2]}"
    return None


Step = Callable[[aiohttp.ClientSession, random.Random], Awaitable[tuple[float, str | None]]]


async def drive(
    target: Target,
    clients: int,
    seconds: float,
    think_ms: float,
    setup: Callable[[aiohttp.ClientSession, int], Awaitable[Step]],
    name: str,
) -> Phase:
    """``clients`` browsers, each set up (signed in, form cookie) before the clock starts, then each in
    a closed loop for ``seconds``: a step, then ``think_ms`` (0.5x-1.5x) before the next (0: at once)."""
    phase = Phase(name, clients)
    sessions = [new_client(target.base_url) for _ in range(clients)]
    try:
        steps = [await setup(client, i) for i, client in enumerate(sessions)]

        async def one(index: int) -> None:
            rng = random.Random(index * 7919 + int(think_ms))
            if think_ms:  # arrive spread over one think time, not as one burst
                await asyncio.sleep(rng.uniform(0, 1.5) * think_ms / 1000)
            while time.perf_counter() < deadline:
                try:
                    ms, problem = await steps[index](sessions[index], rng)
                except (aiohttp.ClientError, TimeoutError) as exc:
                    phase.errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                phase.latencies_ms.append(ms)
                if problem:
                    phase.errors.append(problem)
                if think_ms:
                    await asyncio.sleep(rng.uniform(0.5, 1.5) * think_ms / 1000)

        api0, db0, all0 = tree_cpu_s(target.api_pid), tree_cpu_s(target.db_pid), machine_cpu_s()
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(one(i) for i in range(clients)))
        phase.seconds = time.perf_counter() - started
        phase.api_cpu_s = tree_cpu_s(target.api_pid) - api0
        phase.db_cpu_s = tree_cpu_s(target.db_pid) - db0
        phase.machine_cpu_s = machine_cpu_s() - all0
    finally:
        for client in sessions:
            await client.close()
    return phase


def arsip_setup(target: Target, queries: list[dict[str, Any]], first: int = 0) -> Any:
    """Sign session ``first + i`` in; its step asks ``/arsip`` with the next query of the pool."""

    async def setup(client: aiohttp.ClientSession, i: int) -> Step:
        username, opd = person_of(first + i)
        await sign_in(client, target.base_url, username)
        cursor = iter(range((first + i) * 997, 10**9))

        async def step(client: aiohttp.ClientSession, rng: random.Random) -> tuple[float, str | None]:
            query = queries[next(cursor) % len(queries)]
            path = "/arsip" + ("?" + urlencode(query) if query else "")
            t0 = time.perf_counter()
            async with client.get(path, allow_redirects=False) as r:
                html = await r.text()
            ms = (time.perf_counter() - t0) * 1000
            problem = check_arsip(html, r.status, opd)
            return ms, f"{username} {path}: {problem}" if problem else None

        return step

    return setup


def verify_setup(target: Target, pdf: bytes) -> Any:
    """Each client opens ``/verifikasi`` once (its form cookie and token); its step uploads the PDF."""

    async def setup(client: aiohttp.ClientSession, i: int) -> Step:
        async with client.get("/verifikasi") as r:
            token = TOKEN.search(await r.text())
        if token is None:
            raise RuntimeError("no CSRF token on /verifikasi")
        csrf = unescape(token.group(1))

        async def step(client: aiohttp.ClientSession, rng: random.Random) -> tuple[float, str | None]:
            form = aiohttp.FormData()
            form.add_field("csrf_token", csrf)
            form.add_field("berkas", pdf, filename="naskah.pdf", content_type="application/pdf")
            t0 = time.perf_counter()
            async with client.post("/verifikasi", data=form, headers={"Origin": target.base_url}) as r:
                html = await r.text()
            ms = (time.perf_counter() - t0) * 1000
            if r.status != 200:
                return ms, f"/verifikasi: HTTP {r.status} {html[:300]!r}"
            if "Tanda tangan pada berkas ini sah dan isinya utuh" not in html:
                return ms, "/verifikasi: the genuine signed naskah was not reported valid"
            return ms, None

        return step

    return setup


# -- the run -------------------------------------------------------------------------------------


@dataclass
class Results:
    arsip_one: Phase
    arsip: Phase
    arsip_saturated: Phase | None
    verify_one: Phase | None  # None: --arsip-only
    verify: Phase | None


def measure(args: argparse.Namespace, target: Target, queries: list[dict[str, Any]], pdf: bytes) -> Results:
    def run(clients: int, seconds: float, think_ms: float, setup: Any, name: str) -> Phase:
        return asyncio.run(drive(target, clients, seconds, think_ms, setup, name))

    arsip = arsip_setup(target, queries)
    run(min(args.sessions, 4), WARMUP_S, 0.0, arsip, "warm-up")  # every worker's first pages, caches
    arsip_one = run(1, args.seconds, 0.0, arsip_setup(target, queries), "1 session, no pause")
    arsip_many = run(
        args.sessions, args.seconds, args.think_ms, arsip, f"{args.sessions} sessions, {args.think_ms:g} ms pauses"
    )
    saturated = None
    if not args.no_saturation:
        saturated = run(args.sessions, args.seconds, 0.0, arsip, f"{args.sessions} sessions, no pause")
    if args.arsip_only:
        return Results(arsip_one, arsip_many, saturated, None, None)
    verify = verify_setup(target, pdf)
    run(1, 0.1, 0.0, verify, "warm-up")
    verify_one = run(1, args.seconds, 0.0, verify, "1 upload at a time")
    verify_many = run(args.uploads, args.seconds, 0.0, verify, f"{args.uploads} concurrent uploads")
    return Results(arsip_one, arsip_many, saturated, verify_one, verify_many)


def report(r: Results, records: int, sessions: int) -> int:
    opd_sessions = sum(1 for i in range(sessions) if person_of(i)[1])
    print(r.arsip_one.line("arsip (1 session)"))
    print(r.arsip.line("arsip"))
    print(
        f"  {records} archived records; {sessions} sessions as {len({person_of(i)[0] for i in range(sessions)})} "
        f"people, {opd_sessions} of them Kepala OPD (least privilege: their OPD's records only)"
    )
    print(
        f"  ratio {sessions} sessions / 1 session: p50 {r.arsip.pct(50) / r.arsip_one.pct(50):.2f}x, "
        f"p95 {r.arsip.pct(95) / r.arsip_one.pct(95):.2f}x"
    )
    if r.arsip_saturated:
        print(r.arsip_saturated.line("arsip (saturated)") + "  (capacity: latency is queueing)")
    if r.verify_one and r.verify:
        print(r.verify_one.line("verifikasi (1 upload)"))
        print(r.verify.line("verifikasi"))
        print(
            f"  ratio {r.verify.clients} uploads / 1 upload: p50 {r.verify.pct(50) / r.verify_one.pct(50):.2f}x, "
            f"p95 {r.verify.pct(95) / r.verify_one.pct(95):.2f}x; {os.cpu_count()} cores"
        )
    phases = [r.arsip_one, r.arsip, r.arsip_saturated, r.verify_one, r.verify]
    for phase in phases:
        if phase is not None:
            print(phase.cpu_line())
    failed = False
    for phase in phases:
        if phase is not None and phase.errors:
            failed = True
            print(f"FAIL: {phase.name}: {len(phase.errors)} failed requests or checks, e.g. {phase.errors[0]}")
    p95 = r.arsip.pct(95)
    met = p95 < ARSIP_P95_BUDGET_MS
    print(f"goal: arsip p95 {p95:.1f} ms < {ARSIP_P95_BUDGET_MS:.0f} ms: {'met' if met else 'NOT met'}")
    return 2 if failed else 0 if met else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="archived records (default 100000)")
    parser.add_argument("--sessions", type=int, default=32, help="signed-in sessions on /arsip (default 32)")
    parser.add_argument("--uploads", type=int, default=16, help="concurrent uploads to /verifikasi (default 16)")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per phase (default 15)")
    parser.add_argument("--think-ms", type=float, default=1000.0, help="pause between a page and the next (1000)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2)")
    parser.add_argument("--no-saturation", action="store_true", help="skip the /arsip phase without pauses")
    parser.add_argument("--arsip-only", action="store_true", help="measure /arsip only (no /verifikasi phases)")
    parser.add_argument(
        "--keep",
        nargs="?",
        const=DEFAULT_KEEP,
        type=Path,
        help=f"keep the database, PKI and signed PDF in this directory (default {DEFAULT_KEEP}) and reuse them",
    )
    args = parser.parse_args()
    if min(args.records, args.sessions, args.uploads, args.workers) < 1 or args.seconds <= 0:
        parser.error("--records, --sessions, --uploads, --workers must be >= 1 and --seconds > 0")
    keep: Path | None = args.keep.resolve() if args.keep else None
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        work = keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        server = start_kept_postgres(work) if keep else start_postgres()
        try:
            return bench(args, server, work, Path(tmp))
        finally:
            server.stop()


def bench(args: argparse.Namespace, server: PgServer, work: Path, scratch: Path) -> int:
    from pipeline.sign.devpki import DevPki

    started = time.perf_counter()
    naskah = signed_naskah(work)
    print(
        f"naskah: {PAGES} pages, 2 signatures (PAdES B-LT), {len(naskah.pdf)} bytes "
        f"in {time.perf_counter() - started:.1f} s"
    )
    seeded = prepare_database(server, args.records, work, bool(args.keep))
    how = f"seeded in {seeded.seconds:.1f} s (COPY)" if seeded.seconds else "kept from an earlier run (--keep)"
    print(f"database: {seeded.total} archived records, {how}, PostgreSQL {server_version(server, seeded.dbname)}")
    env = {
        "NASKAH_DATABASE_URL": server.url(seeded.dbname),
        # bound to the database at its first start (a marker): kept with it
        "NASKAH_STORAGE_URL": f"file:{work / seeded.dbname}-objects",
        "NASKAH_ARCHIVE_STORAGE_URL": f"file:{work / seeded.dbname}-arsip",
        "NASKAH_CONVERTER": "cold",
        "NASKAH_MIGRATE_ON_START": "false",
        "NASKAH_CLEANUP_ON_START": "false",
        "NASKAH_TRUST_ROOTS": str(naskah.roots_pem),
        "NASKAH_FETCH_ALLOW": naskah.fetch_allow,
        "NASKAH_PUBLIC_VERIFY_PER_HOUR": "100000",  # every client is 127.0.0.1
    }
    postmaster = int((server.datadir / "postmaster.pid").read_text().split()[0])
    with DevPki.load(naskah.pki_dir).serve(), serve(env, args.workers, scratch / "uvicorn.log") as (base_url, pid):
        print(
            f"load: naskah serve --workers {args.workers} on loopback, {os.cpu_count()} cores (shared: other processes "
            f"run too), {args.seconds:g} s per phase after {WARMUP_S:g} s warm-up"
        )
        results = measure(args, Target(base_url, pid, postmaster), seeded.queries, naskah.pdf)
    return report(results, seeded.total, args.sessions)


if __name__ == "__main__":
    sys.exit(main())
