"""Page previews: the first view of a 10-page naskah against the cached view, measured in the same run.

A real KB long enough for 10 pages is created through ``pipeline.drafting.revisions.create_naskah`` (docxtpl,
LibreOffice to PDF/A-2b, local versioned store, SQLite).  A *view* is what a preview page asks the API
for: ``GET …/revisions/1/pages`` (page sizes and texts) and every page's PNG, through the real app
(``TestClient``: routing, token, access checks, audit entry).  A *first view* finds no cache (its rows
are deleted before each round, so poppler renders again: ``pdfinfo``, ``pdftoppm`` twice, ``pdftotext``,
then every image is put in the store); a *cached view* finds it.  Each is run several times; the
percentiles of each and the ratio of the medians are printed.

    .venv/bin/python bench/preview.py [--rounds 5] [--warm 20] [--pages 10]

Wall times depend on what else the machine runs; the CPU time each view took (this process's threads
and the poppler processes it waited for) is printed too, as a figure that does not.

Last line: ``preview: pages=… dpi=… first p50=… ms p95=… ms cached p50=… ms p95=… ms ratio=…x``
"""

from __future__ import annotations

import argparse
import logging
import resource
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlmodel import select

from api.config import Settings
from api.demo import CASE_FIELDS, demo_case
from api.main import create_app
from pipeline.auth import create_user, issue_token
from pipeline.drafting import cases, revisions
from pipeline.drafting.convert import WarmConverter
from pipeline.drafting.templates import TemplateRegistry, default_template_root, sample_data
from pipeline.models import Preview, PreviewPage
from pipeline.services import Services
from storage.db import make_engine, session_scope, upgrade
from storage.objects import LocalObjectStore


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def long_data(items: int) -> dict:
    """KB fields with ``items`` ruang lingkup entries of a few lines each: about 5 entries a page."""
    data = {k: v for k, v in sample_data("KB").items() if k not in CASE_FIELDS}
    data["ruang_lingkup"] = [
        f"kegiatan ke-{i} pengelolaan sampah regional, meliputi pemilahan di sumbernya, pengangkutan terjadwal ke "
        f"TPA Regional Kuaro, pencatatan tonase harian, pelaporan bulanan kepada PARA PIHAK, serta evaluasi "
        f"bersama atas capaian kegiatan ke-{i} pada akhir setiap tahun anggaran"
        for i in range(1, items + 1)
    ]
    return data


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5, help="first views (each renders again)")
    parser.add_argument("--warm", type=int, default=20, help="cached views")
    parser.add_argument("--pages", type=int, default=10, help="pages the naskah should have (at least)")
    parser.add_argument("--keep-pdf", default="", help="write the naskah's PDF here (to try poppler on it)")
    args = parser.parse_args()
    logging.getLogger("pipeline").setLevel(logging.WARNING)

    registry = TemplateRegistry.load(default_template_root())
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        with session_scope(engine) as session:
            user = create_user(session, username="bench", nama="Bench", jabatan="Analis", roles=["drafter"])
            token = issue_token(session, user)
            case_id = cases.create_case(session, user, demo_case(date(2026, 11, 23))).id
        store = LocalObjectStore.create(Path(tmp) / "objects")
        converter = WarmConverter()
        try:
            svc = Services(engine=engine, store=store, converter=converter, templates=registry)
            items, naskah_id, pages = 3 * args.pages, 0, 0
            for attempt in range(1, 5):  # find how many entries make the pages asked for
                body = cases.NaskahInput(
                    jenis="KB",
                    nomor={1: f"100.3.7.1/{attempt}/Tapem/2026", 2: f"100.3.7.1/{attempt}/Pem/2026"},
                    data=long_data(items),
                )
                naskah, rev = revisions.create_naskah(svc, user, case_id, body)
                naskah_id, pages = naskah.id or 0, rev.pdf_pages
                if pages >= args.pages:
                    break
                items = int(items * args.pages / max(1, pages)) + 2
        finally:
            converter.close()
        settings = Settings(
            database_url="sqlite://", storage_url="file:/x", migrate_on_start=False, cleanup_on_start=False
        )
        headers = {"Authorization": f"Bearer {token}"}
        url = f"/api/v1/naskah/{naskah_id}/revisions/1/pages"
        with TestClient(create_app(settings, svc)) as client:
            cpu: dict[str, list[float]] = {"first": [], "cached": []}

            def cpu_now() -> float:
                """CPU seconds of this process (every thread) and of the poppler children it waited for."""
                children = resource.getrusage(resource.RUSAGE_CHILDREN)
                return time.process_time() + children.ru_utime + children.ru_stime

            def view(kind: str) -> float:
                started, cpu_started = time.perf_counter(), cpu_now()
                listing = client.get(url, headers=headers)
                assert listing.status_code == 200, listing.text
                for page in listing.json()["pages"]:
                    image = client.get(page["image_url"], headers=headers)
                    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
                cpu[kind].append((cpu_now() - cpu_started) * 1000)
                return (time.perf_counter() - started) * 1000

            first: list[float] = []
            cached: list[float] = []
            for _ in range(args.rounds):
                with session_scope(engine) as session:  # forget the cache: the next view renders again
                    session.execute(delete(PreviewPage))
                    session.execute(delete(Preview))
                first.append(view("first"))
                cached.extend(view("cached") for _ in range(max(1, args.warm // args.rounds)))
            client_pdf = client.get(f"/api/v1/naskah/{naskah_id}/revisions/1/pdf", headers=headers).content
        renders = svc.page_renderer.renders
        with session_scope(engine) as session:
            render_ms = [p.render_ms for p in session.exec(select(Preview)).all()]
        if args.keep_pdf:
            rev_pdf = client_pdf
            Path(args.keep_pdf).write_bytes(rev_pdf)
        engine.dispose()

    limits = svc.page_renderer.limits
    f50, f95, c50, c95 = (
        statistics.median(first),
        percentile(first, 0.95),
        statistics.median(cached),
        percentile(cached, 0.95),
    )
    print(
        f"{pages}-page KB at {limits.dpi} dpi: {len(first)} first views (rendered {renders} times), "
        f"{len(cached)} cached views; rendering's part of the last first view {render_ms[-1] if render_ms else 0} ms; "
        f"first min/p50/p95 {min(first):.0f}/{f50:.0f}/{f95:.0f} ms, "
        f"cached min/p50/p95 {min(cached):.0f}/{c50:.0f}/{c95:.0f} ms",
        flush=True,
    )
    cf, cc = statistics.median(cpu["first"]), statistics.median(cpu["cached"])
    print(
        f"CPU time (this process + poppler) per view, median: first {cf:.0f} ms, cached {cc:.1f} ms, "
        f"ratio {cf / cc:.1f}x"
    )
    print(
        f"preview: pages={pages} dpi={limits.dpi} first p50={f50:.0f} ms p95={f95:.0f} ms "
        f"cached p50={c50:.1f} ms p95={c95:.1f} ms ratio={f50 / c50:.1f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
