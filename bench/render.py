"""Throughput of the drafting path: render + convert + store of N naskah (default 50).

Each naskah is a real KB created through ``pipeline.revisions.create_naskah`` (docxtpl
render in the sandbox, warm LibreOffice to PDF/A-2b, both files into the local versioned
store, rows in SQLite).  The baseline, measured in the same run on the same document, is
the warm conversion alone; the ratio says how much the rest of the pipeline costs on top.

    .venv/bin/python bench/render.py [--n 50]

Last line: ``render: n=… naskah_per_s=… per_naskah_ms=… convert_only_ms=… overhead=…x``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.demo import CASE_FIELDS, demo_case
from pipeline import cases, revisions
from pipeline.auth import create_user
from pipeline.convert import WarmConverter
from pipeline.services import Services
from pipeline.templates import TemplateRegistry, default_template_root, render_docx, sample_data
from storage.db import make_engine, session_scope, upgrade
from storage.objects import LocalObjectStore


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50)
    args = parser.parse_args()
    registry = TemplateRegistry.load(default_template_root())
    kb = registry.get("kb/standar")
    with tempfile.TemporaryDirectory() as tmp, WarmConverter() as converter:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        svc = Services(
            engine=engine, store=LocalObjectStore.create(Path(tmp) / "objects"), converter=converter, templates=registry
        )
        with session_scope(engine) as session:
            user = create_user(session, username="bench", nama="Bench", jabatan="Analis", roles=["drafter"])
            case_id = cases.create_case(session, user, demo_case(date(2026, 11, 23))).id
        data = {k: v for k, v in sample_data("KB").items() if k not in CASE_FIELDS}

        docx = render_docx(kb, sample_data("KB"))
        converter.to_pdf(docx)  # warm-up
        convert_only = []
        for _ in range(max(5, args.n // 5)):
            t = time.perf_counter()
            converter.to_pdf(docx)
            convert_only.append((time.perf_counter() - t) * 1000)

        per = []
        start = time.perf_counter()
        for i in range(args.n):
            body = cases.NaskahInput(
                jenis="KB",
                nomor={1: f"100.3.7.1/{i + 1}/Tapem/2026", 2: f"100.3.7.1/{i + 1}/Pem/2026"},
                data=data,
            )
            t = time.perf_counter()
            revisions.create_naskah(svc, user, case_id, body)
            per.append((time.perf_counter() - t) * 1000)
        total = time.perf_counter() - start
        engine.dispose()

    med, conv = statistics.median(per), statistics.median(convert_only)
    print(f"per naskah: median {med:.1f} ms, p95 {sorted(per)[int(len(per) * 0.95) - 1]:.1f} ms")
    print(f"warm conversion alone (same document): median {conv:.1f} ms")
    print(
        f"render: n={args.n} naskah_per_s={args.n / total:.2f} per_naskah_ms={med:.1f} "
        f"convert_only_ms={conv:.1f} overhead={med / conv:.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
