"""Signing speed, same run, same 10-page naskah PDF, RSA-2048: in process vs the pyHanko CLI vs the floor.

Why: signing sits in an interactive step (an official presses "Tanda tangani"), and a naive
``sign_pdf`` around pyHanko spends most of its time re-parsing the private key and making
a dummy signature to size the signature container (SIGNING_NOTES).  This benchmark keeps
``pipeline.sign.signing`` honest against two references:

* the ``pyhanko`` command-line signer, once per document (what a script around the CLI
  would cost: interpreter start-up, imports, PKCS#12 decryption, signing);
* the floor: one SHA-256 over the file plus one RSA-2048 PKCS#1 v1.5 signature.

Goals (exit 1 and say why when missed): in process at least 40x faster than the CLI and
within 50x of the floor.  In process = ``sign_pdf`` at PAdES B-B with the visible QR
appearance and embedded font; B-T (local TSA from the dev PKI) and B-LT are reported too.

Then, so that signing is seen in proportion, the whole demo lifecycle (``naskah demo`` once,
into a temporary folder, as its own process) split by step from its ``report.json``: ms and
share of the steps' total.  A failing demo fails the benchmark; ``--no-demo`` skips it.

    .venv/bin/python bench/sign.py [--n 30] [--cli-n 5] [--no-demo]

Last line: ``sign: in_process_ms=… cli_ms=… floor_ms=… vs_cli=…x over_floor=…x``
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from pipeline.drafting.convert import WarmConverter, check_pdf
from pipeline.sign import fetch
from pipeline.sign.devpki import DevPki
from pipeline.sign.signing import (
    ParsedKeySigner,
    SignatureAppearance,
    SignOptions,
    http_timestamper,
    sign_pdf,
    validation_context,
)
from pipeline.sign.verify import verify_pdf
from tests.fixtures.converter import sample_docx

MIN_VS_CLI = 40.0
MAX_OVER_FLOOR = 50.0
PAGES = 10
BOX = (PAGES, 305.0, 60.0, 545.0, 140.0)
CLI_FIELD = f"{PAGES}/305,60,545,140/ttd_pihak_kesatu"


def timed(action: Callable[[], object], n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def venv_command(name: str) -> str | None:
    """The console script ``name`` of this virtualenv, else the one on ``PATH``."""
    local = Path(sys.executable).with_name(name)
    return str(local) if local.exists() else shutil.which(name)


def describe(name: str, times: list[float]) -> float:
    median = statistics.median(times)
    print(f"{name}: n={len(times)} median={median:.2f} ms min={min(times):.2f} max={max(times):.2f}")
    return median


class DemoFailed(Exception):
    """``naskah demo`` did not run to the end or left no usable ``report.json``."""


def demo_lifecycle() -> tuple[list[tuple[str, float]], float]:
    """Run ``naskah demo`` once into a temporary folder: its steps ``(step, ms)`` and the wall ms.

    A separate process, so that the demo's LibreOffice, database and caches neither profit
    from nor disturb the measurements above; the wall time adds start-up and imports.
    """
    naskah = venv_command("naskah")
    if naskah is None:
        raise DemoFailed("the naskah command is missing; install the project into the virtualenv")
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        out = Path(tmp) / "demo"
        started = time.perf_counter()
        try:
            done = subprocess.run([naskah, "demo", "--out", str(out)], capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            raise DemoFailed("no end after 900 s") from None
        wall_ms = (time.perf_counter() - started) * 1000
        if done.returncode != 0:
            tail = (done.stderr.strip() or done.stdout.strip())[-500:]
            raise DemoFailed(f"exit {done.returncode}: {tail}")
        try:
            report = json.loads((out / "report.json").read_text(encoding="utf-8"))
            steps = [(str(row["step"]), float(row["ms"])) for row in report["steps"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DemoFailed(f"report.json has no usable steps ({type(exc).__name__}: {exc})") from None
    if not steps:
        raise DemoFailed("report.json lists no steps")
    return steps, wall_ms


def print_demo_steps(steps: list[tuple[str, float]], wall_ms: float) -> None:
    """The demo's steps as a table (step, ms, share of the steps' total) and a total line."""
    total = sum(ms for _, ms in steps)
    width = max(len("total"), *(len(name) for name, _ in steps))
    print(f"demo lifecycle (naskah demo, one run), {len(steps)} steps:")
    print(f"  {'step':<{width}} {'ms':>10} {'share':>7}")
    for name, ms in steps:
        share = ms / total * 100 if total else 0.0
        print(f"  {name:<{width}} {ms:10.1f} {share:6.1f}%")
    print(f"  {'total':<{width}} {total:10.1f} {100.0 if total else 0.0:6.1f}%")
    print(f"demo: steps_ms={total:.1f} process_wall_ms={wall_ms:.1f} (wall adds start-up and imports)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30, help="in-process signatures per level (default 30)")
    parser.add_argument("--cli-n", type=int, default=5, help="pyhanko CLI runs (default 5)")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo lifecycle split by step")
    args = parser.parse_args()
    cli = venv_command("pyhanko")
    if cli is None:
        print("FAIL: the pyhanko command is missing; install pyhanko-cli into the virtualenv")
        print("sign: in_process_ms=nan cli_ms=nan floor_ms=nan vs_cli=nanx over_floor=nanx")
        return 1

    with WarmConverter() as converter:
        pdf = converter.to_pdf(sample_docx(pages=PAGES))
    info = check_pdf(pdf)
    print(f"document: {info.pages} pages, PDF/A-{info.pdfa}, {len(pdf)} bytes")

    with tempfile.TemporaryDirectory(prefix="bench-sign-") as tmp:
        work = Path(tmp)
        pki = DevPki.generate(work / "pki", name="Bench", rsa_bits=2048)
        person = pki.issue_person("Dr. H. Fahmi Fadli, M.Si.")
        signer = ParsedKeySigner(person.certificate, person.key, person.chain)
        appearance = SignatureAppearance(
            nama="Dr. H. Fahmi Fadli, M.Si.",
            jabatan="BUPATI PASER",
            tanggal=dt.date(2025, 3, 12),
            reference="https://naskah.paserkab.go.id/verifikasi/KB-2025-0007",
        )
        plain = SignOptions(field_name="ttd_pihak_kesatu", box=BOX, embed_validation_info=False)
        with_lt = SignOptions(field_name="ttd_pihak_kesatu", box=BOX)

        fetch.configure(fetch.current_policy().allowing(pki.fetch_allow))  # its OCSP/CRL are on 127.0.0.1
        with pki.serve() as server:
            tsa = http_timestamper(server.tsa_url)

            def sign_bb() -> bytes:
                return sign_pdf(pdf, signer, appearance, plain, timestamper=None, validation_context=None)

            def sign_bt() -> bytes:
                return sign_pdf(pdf, signer, appearance, plain, timestamper=tsa, validation_context=None)

            def sign_blt() -> bytes:
                vc = validation_context(pki.roots)
                return sign_pdf(pdf, signer, appearance, with_lt, timestamper=tsa, validation_context=vc)

            for warm_up in (sign_bb, sign_bt, sign_blt):  # font cache, imports, TSA path
                warm_up()
            bb = describe("in process B-B", timed(sign_bb, args.n))
            describe("in process B-T (local TSA over HTTP)", timed(sign_bt, args.n))
            describe("in process B-LT (TSA + OCSP/CRL)", timed(sign_blt, max(5, args.n // 3)))

            signed_lt = sign_blt()
            report = verify_pdf(signed_lt, pki.roots)
            if not report.ok:
                print(f"FAIL: the B-LT file does not verify: {report.to_dict()}")
                return 1
            describe("verify one B-LT file (offline)", timed(lambda: verify_pdf(signed_lt, pki.roots), args.n))

        p12 = work / "signer.p12"
        p12.write_bytes(person.to_pkcs12("bench-passphrase"))
        passfile = work / "pass.txt"
        passfile.write_text("bench-passphrase")
        passfile.chmod(0o600)
        src = work / "in.pdf"
        src.write_bytes(pdf)
        command = [cli, "sign", "addsig", "--field", CLI_FIELD, "--use-pades", "pkcs12", "--passfile", str(passfile)]

        def run_cli() -> None:
            out = work / "cli-out.pdf"
            done = subprocess.run([*command, str(src), str(out), str(p12)], capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"pyhanko CLI failed ({done.returncode}): {done.stderr.strip()[-500:]}")

        cli_ms = describe("pyhanko CLI (one process per document)", timed(run_cli, args.cli_n))

    key = person.key
    prehashed = Prehashed(hashes.SHA256())

    def floor() -> None:
        key.sign(hashlib.sha256(pdf).digest(), PKCS1v15(), prehashed)

    floor_ms = describe("floor (sha256 of the file + RSA-2048 PKCS#1 v1.5)", timed(floor, max(200, args.n)))

    failures: list[str] = []
    if not args.no_demo:
        try:
            print_demo_steps(*demo_lifecycle())
        except DemoFailed as exc:
            failures.append(f"the demo lifecycle failed: {exc}")

    vs_cli = cli_ms / bb
    over_floor = bb / floor_ms
    if vs_cli < MIN_VS_CLI:
        failures.append(f"in process is only {vs_cli:.1f}x faster than the CLI (goal >= {MIN_VS_CLI:.0f}x)")
    if over_floor > MAX_OVER_FLOOR:
        failures.append(f"in process is {over_floor:.1f}x the floor (goal <= {MAX_OVER_FLOOR:.0f}x)")
    for failure in failures:
        print(f"FAIL: {failure}")
    print(
        f"sign: in_process_ms={bb:.2f} cli_ms={cli_ms:.1f} floor_ms={floor_ms:.3f} "
        f"vs_cli={vs_cli:.1f}x over_floor={over_floor:.1f}x"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
