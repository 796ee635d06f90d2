"""Warm (unoserver) versus cold (one soffice per document) DOCX -> PDF/A-2b, same run, same document.

The warm path exists only because it is much faster; this benchmark keeps that claim
honest: it fails (exit 1) when warm is less than 5x faster than cold.

    .venv/bin/python bench/convert.py [--n 10]

The document is the real KB template rendered with its sample data.

Last line: ``convert: warm_ms=<median> cold_ms=<median> ratio=<cold/warm>x``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.drafting.convert import ColdConverter, WarmConverter, check_pdf
from pipeline.drafting.templates import TemplateRegistry, default_template_root, render_docx, sample_data

MIN_RATIO = 5.0


def naskah_docx() -> tuple[bytes, str]:
    """The real KB template with its sample data, and a word saying so."""
    registry = TemplateRegistry.load(default_template_root())
    return render_docx(registry.get("kb/standar"), sample_data("KB")), "template kb/standar"


def timed(convert: Callable[[bytes], bytes], docx: bytes, n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        pdf = convert(docx)
        times.append((time.perf_counter() - started) * 1000)
        check_pdf(pdf)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10, help="conversions per path (default 10)")
    args = parser.parse_args()
    if args.n < 1:
        parser.error("--n must be >= 1")

    docx, source = naskah_docx()
    print(f"document: {source}, {len(docx)} bytes")

    started = time.perf_counter()
    with WarmConverter() as warm:
        print(f"warm server start: {(time.perf_counter() - started):.1f} s")
        info = check_pdf(warm.to_pdf(docx))  # warm-up: first conversion loads the Writer filters
        print(f"pdf: {info.pages} pages, PDF/A-{info.pdfa}")
        warm_ms = timed(warm.to_pdf, docx, args.n)
    cold_ms = timed(ColdConverter().to_pdf, docx, args.n)

    warm_median = statistics.median(warm_ms)
    cold_median = statistics.median(cold_ms)
    ratio = cold_median / warm_median
    print(f"warm: n={args.n} median={warm_median:.0f} ms min={min(warm_ms):.0f} max={max(warm_ms):.0f}")
    print(f"cold: n={args.n} median={cold_median:.0f} ms min={min(cold_ms):.0f} max={max(cold_ms):.0f}")
    failed = ratio < MIN_RATIO
    if failed:
        print(f"FAIL: warm is only {ratio:.1f}x faster than cold; the warm path must be at least {MIN_RATIO:.0f}x")
    print(f"convert: warm_ms={warm_median:.1f} cold_ms={cold_median:.1f} ratio={ratio:.1f}x")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
