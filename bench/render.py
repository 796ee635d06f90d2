"""Throughput of the drafting path with 1 and with N warm converters, measured in the same run.

Each naskah is a real KB created through ``pipeline.drafting.revisions.create_naskah`` (docxtpl render in
the sandbox, LibreOffice to PDF/A-2b through a ``ConverterPool``, both files into the local
versioned store, rows in PostgreSQL as in production).  The same load runs twice, the same number
of clients (default 2 x N) creating naskah at once: first against a pool of 1 converter (how the
server ran before the pool: one conversion at a time), then against a pool of N (default: one per
core, ``NASKAH_CONVERTERS``'s default).  Conversion alone is measured the same way.  What the
ratio can reach depends on the cores: rendering is Python (one core), each LibreOffice is its own
process.

``--db sqlite`` runs on SQLite instead: there ``create_naskah`` holds SQLite's single write lock
while it converts, so naskah are created one at a time whatever the pool (conversion alone still
scales).

    .venv/bin/python bench/render.py [--n 40] [--converters N] [--clients C] [--db postgres|sqlite]

Last line: ``render: n=… converters=N naskah_per_s_1=… naskah_per_s_N=… speedup=…x convert_per_s_1=… …``
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.demo import CASE_FIELDS, demo_case
from pipeline.auth import create_user
from pipeline.drafting import cases, revisions
from pipeline.drafting.convert import ConverterPool, WarmConverter
from pipeline.drafting.templates import TemplateRegistry, default_template_root, render_docx, sample_data
from pipeline.services import Services
from storage.db import make_engine, session_scope, upgrade
from storage.objects import LocalObjectStore

_NOMOR = itertools.count(1)


def concurrently(n: int, clients: int, job: Callable[[], object]) -> tuple[float, list[float]]:
    """Run ``job`` ``n`` times from ``clients`` threads; (per second, each job's ms)."""
    times: list[float] = []
    lock = threading.Lock()

    def one(_i: int) -> None:
        t = time.perf_counter()
        job()
        with lock:
            times.append((time.perf_counter() - t) * 1000)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as ex:
        list(ex.map(one, range(n)))
    return n / (time.perf_counter() - start), times


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=40, help="naskah per run")
    parser.add_argument("--converters", type=int, default=os.cpu_count() or 1, help="N (default: cores)")
    parser.add_argument("--clients", type=int, default=0, help="concurrent clients (default: 2 x N)")
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    args = parser.parse_args()
    logging.getLogger("pipeline.drafting.convert").setLevel(logging.ERROR)  # waits are summed below, not logged each
    n_conv = max(1, args.converters)
    clients = args.clients or 2 * n_conv
    registry = TemplateRegistry.load(default_template_root())
    kb = registry.get("kb/standar")
    docx = render_docx(kb, sample_data("KB"))
    data = {k: v for k, v in sample_data("KB").items() if k not in CASE_FIELDS}

    server = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.db == "postgres":
            from tests.fixtures.postgres import start_postgres

            server = start_postgres()
            engine = make_engine(server.url(server.new_database()))
        else:
            engine = make_engine(f"sqlite:///{tmp}/bench.db")
        try:
            upgrade(engine)
            with session_scope(engine) as session:
                user = create_user(session, username="bench", nama="Bench", jabatan="Analis", roles=["drafter"])
                case_id = cases.create_case(session, user, demo_case(date(2026, 11, 23))).id
            store = LocalObjectStore.create(Path(tmp) / "objects")

            def create(svc: Services) -> None:
                i = next(_NOMOR)
                body = cases.NaskahInput(
                    jenis="KB", nomor={1: f"100.3.7.1/{i}/Tapem/2026", 2: f"100.3.7.1/{i}/Pem/2026"}, data=data
                )
                revisions.create_naskah(svc, user, case_id, body)

            results: dict[int, dict[str, float]] = {}
            for size in sorted({1, n_conv}):
                with ConverterPool.start(size, WarmConverter, max_waiting=10 * clients) as pool:
                    svc = Services(engine=engine, store=store, converter=pool, templates=registry)
                    concurrently(2 * size, size, lambda: pool.to_pdf(docx))  # warm-up: every converter once
                    conv_rate, conv_ms = concurrently(max(10, args.n // 2), clients, lambda: pool.to_pdf(docx))
                    rate, per = concurrently(args.n, clients, lambda: create(svc))  # noqa: B023
                    stats = pool.stats()
                results[size] = {
                    "rate": rate,
                    "median": statistics.median(per),
                    "p95": p95(per),
                    "conv_rate": conv_rate,
                    "conv_median": statistics.median(conv_ms),
                    "wait_ms_mean": stats.wait_ms_total / max(1, stats.conversions),
                }
                print(
                    f"{size} converter(s), {clients} clients, {args.db}: {rate:.2f} naskah/s "
                    f"(each {statistics.median(per):.0f} ms median, p95 {p95(per):.0f} ms; "
                    f"waited for a converter {results[size]['wait_ms_mean']:.0f} ms on average); "
                    f"conversion alone {conv_rate:.2f} docs/s",
                    flush=True,
                )
        finally:
            engine.dispose()
            if server is not None:
                server.stop()

    one, many = results[1], results[n_conv]
    print(
        f"render: n={args.n} converters={n_conv} clients={clients} db={args.db} "
        f"naskah_per_s_1={one['rate']:.2f} naskah_per_s_{n_conv}={many['rate']:.2f} "
        f"speedup={many['rate'] / one['rate']:.2f}x convert_per_s_1={one['conv_rate']:.2f} "
        f"convert_per_s_{n_conv}={many['conv_rate']:.2f} convert_speedup={many['conv_rate'] / one['conv_rate']:.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
