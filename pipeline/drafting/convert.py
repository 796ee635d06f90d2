"""DOCX -> PDF/A-2b with LibreOffice, warm (unoserver) or cold (one ``soffice`` per document).

Why two ways: a warm LibreOffice converts a 3-page naskah in about 0.1 s, a cold
``soffice --convert-to`` pays the whole start-up (1-3 s) for every document.  The warm
server is a long-lived process that can die or hang, so :class:`WarmConverter` owns it
completely (own profile, own ports, own process group), restarts it once when it has died
and kills it when a conversion overruns.  :class:`FallbackConverter` keeps the service
working on machines where the warm server cannot run at all.

Several at once: one LibreOffice converts one document at a time, so the server runs a
:class:`ConverterPool` of N converters (``NASKAH_CONVERTERS``, default one per core), each its
own LibreOffice with its own profile and ports, behind a bounded first-come-first-served queue:
one slow document no longer makes every other upload wait, a full queue is refused with 503
"coba lagi", the time each conversion waited is logged and reported (``Server-Timing``,
``/healthz``), and a stuck conversion is killed at the timeout while the others go on.

Every result is checked with :func:`check_pdf` before it is returned: a PDF that is not
PDF/A-2 must never reach the archive.

Safety: the DOCX bytes come from users.  They are written into a private temporary
directory under a fixed file name and LibreOffice is started with argument lists (never a
shell); the import filter is forced to Word 2007+ so that arbitrary bytes are not quietly
imported as plain text and "converted".

unoserver's *server* needs LibreOffice's ``uno`` module, which Debian ships only for its
own ``/usr/bin/python3`` (python3-uno); the unoserver package itself lives in our
virtualenv.  So the server is run as ``/usr/bin/python3`` with the virtualenv's
site-packages appended to ``sys.path`` (Debian's dist-packages stay first), and the client
side talks XML-RPC to it from any interpreter.
"""

from __future__ import annotations

import atexit
import collections
import concurrent.futures
import contextlib
import contextvars
import dataclasses
import http.client
import importlib.util
import io
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
import xmlrpc.client
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from glob import glob
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol, Self, runtime_checkable

from pypdf import PdfReader
from unoserver.client import UnoClient

from pipeline.errors import ConversionFailed, ConverterUnavailable
from pipeline.workdirs import claim

__all__ = [
    "ColdConverter",
    "ConversionTiming",
    "Converter",
    "ConverterPool",
    "FallbackConverter",
    "PdfInfo",
    "PoolStats",
    "RemoteConverter",
    "WarmConverter",
    "check_pdf",
    "collect_timings",
    "find_soffice",
    "missing_system_packages",
    "open_converter",
    "open_converter_pool",
]

log = logging.getLogger(__name__)
# UnoClient logs three INFO lines per conversion; keep them out of the application log
# unless someone configured the "unoserver" logger on purpose.
if logging.getLogger("unoserver").level == logging.NOTSET:
    logging.getLogger("unoserver").setLevel(logging.WARNING)

#: LibreOffice's internal name of the DOCX import filter; forcing it makes non-DOCX input fail.
DOCX_IMPORT_FILTER = "MS Word 2007 XML"
#: unoserver filter option: PDF/A-2b (1 = PDF/A-1b, 2 = PDF/A-2b, 3 = PDF/A-3b).
WARM_FILTER_OPTIONS = ["SelectPdfVersion=2"]
#: The same for ``soffice --convert-to`` (JSON filter options, LibreOffice >= 7.4).
COLD_CONVERT_TO = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'
#: Fixed names inside the private directory: user input never chooses a path.
INPUT_NAME = "naskah.docx"
OUTPUT_NAME = "naskah.pdf"

_PDFAID_NS = "http://www.aiim.org/pdfa/ns/id/"
_RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

#: Debian packages the converter needs, each with a file whose presence also counts as
#: installed (for machines without dpkg, e.g. a LibreOffice from the vendor tarball).
_REQUIRED_PACKAGES: dict[str, tuple[str, ...]] = {
    "libreoffice-writer-nogui": (),  # any soffice binary counts, see missing_system_packages
    "python3-uno": ("/usr/lib/python3/dist-packages/uno.py",),
    "poppler-utils": ("/usr/bin/pdfinfo",),
    "fonts-liberation": ("/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",),
    "fonts-crosextra-carlito": ("/usr/share/fonts/truetype/crosextra/Carlito-Regular.ttf",),
    "fonts-crosextra-caladea": ("/usr/share/fonts/truetype/crosextra/Caladea-Regular.ttf",),
}


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PdfInfo:
    """What :func:`check_pdf` learned: page count and the PDF/A id (e.g. ``"2B"``)."""

    pages: int
    pdfa: str | None


@runtime_checkable
class Converter(Protocol):
    """Anything that turns DOCX bytes into checked PDF/A-2b bytes; the rest of the pipeline
    depends only on this, so tests and tools can pick warm, cold or fallback freely."""

    def to_pdf(self, docx: bytes) -> bytes: ...

    def close(self) -> None: ...


def check_pdf(data: bytes) -> PdfInfo:
    """Refuse anything that is not a readable, non-empty PDF/A-2 file.

    LibreOffice silently writes a plain PDF when the PDF/A option is lost on the way (a
    typo in the filter options, an old version), so the marker in the XMP metadata is
    checked on every result rather than trusted.
    """
    if not data:
        raise ConversionFailed("Hasil konversi kosong: tidak ada berkas PDF.", reason="empty")
    if not data.startswith(b"%PDF-"):
        raise ConversionFailed("Hasil konversi bukan berkas PDF.", reason="not_pdf")
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = len(reader.pages)
    except Exception as exc:  # pypdf raises many unrelated types on damaged files
        raise ConversionFailed("Berkas PDF rusak dan tidak dapat dibaca.", reason="unreadable_pdf") from exc
    if pages < 1:
        raise ConversionFailed("Berkas PDF tidak memiliki halaman.", reason="no_pages")
    pdfa = _pdfa_id(reader)
    if pdfa is None or not pdfa.startswith("2"):
        raise ConversionFailed(
            "Berkas PDF bukan PDF/A-2b (penanda PDF/A tidak ditemukan).", reason="not_pdfa", pdfa=pdfa
        )
    return PdfInfo(pages=pages, pdfa=pdfa)


def _pdfa_id(reader: PdfReader) -> str | None:
    """``part`` + ``conformance`` from the XMP ``pdfaid`` schema, as elements or attributes."""
    try:
        metadata = reader.trailer["/Root"].get_object().get("/Metadata")
        if metadata is None:
            return None
        root = ET.fromstring(metadata.get_object().get_data())
    except Exception:  # no or damaged metadata simply means "not PDF/A"
        return None
    part = conformance = None
    for element in root.iter():
        if element.tag == f"{{{_PDFAID_NS}}}part":
            part = (element.text or "").strip()
        elif element.tag == f"{{{_PDFAID_NS}}}conformance":
            conformance = (element.text or "").strip()
        elif element.tag == f"{{{_RDF_NS}}}Description":
            part = element.get(f"{{{_PDFAID_NS}}}part", part)
            conformance = element.get(f"{{{_PDFAID_NS}}}conformance", conformance)
    if not part:
        return None
    return f"{part}{(conformance or '').upper()}"


def _precheck_docx(docx: bytes) -> None:
    """Reject what cannot be a DOCX before spending a LibreOffice round trip on it."""
    if not docx:
        raise ConversionFailed("Dokumen kosong: tidak ada yang dapat dikonversi.", reason="empty_docx")
    if not docx.startswith(b"PK\x03\x04"):
        raise ConversionFailed("Berkas bukan dokumen Word (.docx) yang sah.", reason="not_docx")
    try:
        with zipfile.ZipFile(io.BytesIO(docx)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ConversionFailed("Berkas .docx rusak (arsip ZIP tidak dapat dibaca).", reason="bad_zip") from exc
    if "word/document.xml" not in names:
        raise ConversionFailed("Berkas bukan dokumen Word (.docx) yang sah.", reason="not_docx")


# --------------------------------------------------------------------------- environment


def find_soffice() -> str | None:
    """The LibreOffice binary: PATH first, then the usual install locations."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    candidates = [
        "/usr/lib/libreoffice/program/soffice",
        *sorted(glob("/opt/libreoffice*/program/soffice"), reverse=True),
        "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    ]
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _dpkg_installed(packages: list[str]) -> set[str]:
    """Which of ``packages`` dpkg reports as installed (empty when there is no dpkg)."""
    dpkg_query = shutil.which("dpkg-query")
    if dpkg_query is None:
        return set()
    try:
        result = subprocess.run(
            [dpkg_query, "-W", "-f=${Package}\t${db:Status-Abbrev}\n", *packages],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,  # non-zero when some package is unknown; the output still lists the rest
        )
    except (OSError, subprocess.SubprocessError):
        return set()
    installed = set()
    for line in result.stdout.splitlines():
        name, _, status = line.partition("\t")
        if status.startswith("ii"):
            installed.add(name.split(":", 1)[0])
    return installed


def missing_system_packages() -> list[str]:
    """Debian packages the conversion needs that are not installed, for set-up scripts and
    for error messages that tell an administrator exactly what to ``apt-get install``."""
    installed = _dpkg_installed(list(_REQUIRED_PACKAGES))
    missing = []
    for package, markers in _REQUIRED_PACKAGES.items():
        if package == "libreoffice-writer-nogui":
            present = find_soffice() is not None
        else:
            present = package in installed or any(os.path.exists(m) for m in markers)
        if not present:
            missing.append(package)
    return missing


def _unavailable(message: str, **detail: Any) -> ConverterUnavailable:
    """ConverterUnavailable that also names the Debian packages still missing."""
    missing = missing_system_packages()
    if missing:
        message = f"{message} Pasang paket Debian: {' '.join(missing)}."
    return ConverterUnavailable(message, missing_packages=missing, **detail)


# --------------------------------------------------------------------------- process groups

# Every LibreOffice we start runs in its own process group (start_new_session=True): soffice
# is a shell script -> oosplash -> soffice.bin, so killing only the direct child would leave
# soffice.bin running.  Groups still alive at interpreter exit are killed by atexit.
_live_groups: set[int] = set()
_live_groups_lock = threading.Lock()


def _register_group(pgid: int) -> None:
    with _live_groups_lock:
        _live_groups.add(pgid)


def _spawn_group(cmd: list[str], *, cwd: Path, tmpdir: Path, message: str, reason: str) -> subprocess.Popen[bytes]:
    """Start a LibreOffice-side process in its own process group (so the whole group can be
    killed), output merged into one pipe, registered for cleanup at exit."""
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env={**os.environ, "TMPDIR": str(tmpdir)},
            start_new_session=True,
        )
    except OSError as exc:
        raise _unavailable(message, reason=reason) from exc
    _register_group(proc.pid)
    return proc


def _kill_group(pgid: int) -> None:
    """SIGKILL a whole process group.

    Not SIGTERM first: unoserver 3.7 forwards SIGTERM to oosplash, which was seen to hang
    with a zombie soffice.bin; the profile is throw-away, so nothing is lost by SIGKILL.
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    with _live_groups_lock:
        _live_groups.discard(pgid)


@atexit.register
def _kill_all_groups() -> None:
    """No orphan soffice.bin may outlive the Python process that started it."""
    with _live_groups_lock:
        groups = list(_live_groups)
    for pgid in groups:
        _kill_group(pgid)


def _group_processes(pgid: int) -> dict[int, str]:
    """Live (non-zombie) processes of a group, pid -> command name, read from /proc."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ..."; comm may contain spaces, so split after ')'.
        comm = stat[stat.find("(") + 1 : stat.rfind(")")]
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            found[int(entry.name)] = comm
    return found


def _free_ports(count: int) -> list[int]:
    """Distinct free loopback ports (all bound at once, so they cannot repeat)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


# --------------------------------------------------------------------------- cold


class ColdConverter:
    """One ``soffice --headless --convert-to`` per document.

    Slow (LibreOffice starts every time) but has no state to go bad, so it is the fallback
    and the reference the benchmark compares against.  Each call gets a fresh profile
    directory: two soffice processes sharing a profile would hand the work to each other.
    """

    def __init__(self, soffice: str | None = None, timeout: float = 120.0) -> None:
        found = soffice or find_soffice()
        if found is None:
            raise _unavailable("LibreOffice (soffice) tidak ditemukan di server.", reason="no_soffice")
        self.soffice = found
        self.timeout = timeout

    def to_pdf(self, docx: bytes) -> bytes:
        """Convert in a private temp dir; timeout, non-zero exit or no output -> ConversionFailed."""
        _precheck_docx(docx)
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="naskah-cold-") as tmp:
            workdir = Path(tmp)
            claim(workdir)  # a process killed mid-conversion leaves it: the housekeeping sweep removes it
            source = workdir / INPUT_NAME
            source.write_bytes(docx)
            outdir = workdir / "out"
            profile = workdir / "profile"
            cmd = [
                self.soffice,
                "--headless",
                "--invisible",
                "--norestore",
                "--nologo",
                "--nodefault",
                "--nolockcheck",
                "--nofirststartwizard",
                f"-env:UserInstallation={profile.as_uri()}",
                f"--infilter={DOCX_IMPORT_FILTER}",
                "--convert-to",
                COLD_CONVERT_TO,
                "--outdir",
                str(outdir),
                str(source),
            ]
            proc = _spawn_group(
                cmd,
                cwd=workdir,
                tmpdir=workdir,
                message="LibreOffice (soffice) tidak dapat dijalankan.",
                reason="soffice_not_startable",
            )
            try:
                output, _ = proc.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid)
                proc.communicate()
                log.warning("cold soffice timed out after %.0f s; process group %d killed", self.timeout, proc.pid)
                raise ConversionFailed(
                    f"Konversi dokumen melebihi batas waktu {self.timeout:.0f} detik.",
                    reason="timeout",
                    timeout_s=self.timeout,
                ) from None
            finally:
                _kill_group(proc.pid)  # leftovers (e.g. a soffice.bin whose parent died) go too
            text = output.decode("utf-8", "replace").strip()
            result = outdir / OUTPUT_NAME
            if proc.returncode != 0 or not result.is_file():
                log.warning("cold soffice failed: exit=%s output=%r", proc.returncode, text[-2000:])
                if "could not be loaded" in text:
                    raise ConversionFailed(
                        "Dokumen Word tidak dapat dibuka oleh LibreOffice (rusak atau bukan .docx).",
                        reason="load_failed",
                    )
                raise ConversionFailed(
                    "LibreOffice gagal mengonversi dokumen.", reason="soffice_failed", returncode=proc.returncode
                )
            pdf = result.read_bytes()
        check_pdf(pdf)
        log.debug("cold conversion took %.0f ms", (time.perf_counter() - started) * 1000)
        return pdf

    def close(self) -> None:
        """Nothing outlives a call; present for the Converter protocol."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# --------------------------------------------------------------------------- warm


class _ServerGone(Exception):
    """Internal: the warm server died or stopped answering during a call."""


class _TimeoutTransport(xmlrpc.client.Transport):
    """xmlrpc Transport with a socket timeout, so a health probe can never hang."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        conn = super().make_connection(host)
        conn.timeout = self._timeout
        return conn


class _FailFastUnoClient(UnoClient):
    """UnoClient retries a refused connection 5 x 10 s; a dead server must be noticed at
    once so that it can be restarted, not after 40 s."""

    def _connect(self, proxy: xmlrpc.client.ServerProxy, retries: int = 5, sleep: float = 10) -> dict[str, Any]:
        return super()._connect(proxy, retries=1, sleep=0)


def _unoserver_site_dir() -> str | None:
    """The site-packages directory that holds the unoserver package (our virtualenv)."""
    spec = importlib.util.find_spec("unoserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(Path(next(iter(spec.submodule_search_locations))).parent)


# Runs under Debian's python3: its dist-packages (uno) stay first, the venv is appended.
_SERVER_BOOTSTRAP = "import sys; sys.path.append(sys.argv.pop(1)); from unoserver.server import main; sys.exit(main())"


class _ServerProcess:
    """One unoserver + LibreOffice, in its own process group, profile and ports."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, directory: Path) -> None:
        self.proc = proc
        self.port = port
        self.directory = directory
        self.output: collections.deque[str] = collections.deque(maxlen=40)
        self._reader = threading.Thread(target=self._pump, name=f"unoserver-log-{proc.pid}", daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        """Forward the server's output to logging (one access line per request would
        otherwise fill a log file forever) and keep the tail for error reports."""
        stream: IO[bytes] | None = self.proc.stdout
        if stream is None:
            return
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip()
            self.output.append(line)
            if "ERROR" in line or "CRITICAL" in line or "Traceback" in line:
                log.warning("unoserver[%d]: %s", self.proc.pid, line)
            else:
                log.debug("unoserver[%d]: %s", self.proc.pid, line)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def proxy(self, timeout: float) -> xmlrpc.client.ServerProxy:
        return xmlrpc.client.ServerProxy(
            f"http://127.0.0.1:{self.port}", transport=_TimeoutTransport(timeout), allow_none=True
        )

    def answers(self, timeout: float = 5.0) -> bool:
        """True when the server process lives and LibreOffice answers through it."""
        if not self.alive():
            return False
        try:
            self.proxy(timeout).info()
        except (OSError, http.client.HTTPException, xmlrpc.client.Error):
            return False
        return True

    def kill(self) -> None:
        _kill_group(self.proc.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def tail(self) -> str:
        return "\n".join(self.output)


class WarmConverter:
    """A private unoserver (LibreOffice kept running) that converts in ~0.1 s.

    Started in the constructor so that a broken installation shows up at start-up, not at
    the first user request.  Calls are serialised with a lock: one LibreOffice converts
    one document at a time anyway.  A server found dead is restarted once (and the call
    retried once); a call that overruns ``timeout`` kills the server, which is restarted
    at the next call.
    """

    def __init__(
        self,
        *,
        timeout: float = 60.0,
        startup_timeout: float = 60.0,
        python: str = "/usr/bin/python3",
        soffice: str | None = None,
    ) -> None:
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self.python = python
        self.soffice = soffice or find_soffice()
        self.restarts = 0
        self._lock = threading.RLock()
        self._closed = False
        self._server: _ServerProcess | None = None
        self._generation = 0
        self._workdir = tempfile.TemporaryDirectory(prefix="naskah-warm-")
        claim(Path(self._workdir.name))  # a process killed without close() leaves it: the housekeeping sweep
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    # -- lifecycle

    def _start(self) -> None:
        """Start unoserver and wait (bounded) until it answers an XML-RPC ``info`` call."""
        if self.soffice is None:
            raise _unavailable("LibreOffice (soffice) tidak ditemukan di server.", reason="no_soffice")
        if not (os.path.isfile(self.python) and os.access(self.python, os.X_OK)):
            raise _unavailable(
                f"Interpreter Python untuk unoserver ({self.python}) tidak ditemukan.", reason="no_python"
            )
        site = _unoserver_site_dir()
        if site is None:
            raise ConverterUnavailable("Paket Python unoserver belum terpasang.", reason="no_unoserver")
        self._generation += 1
        directory = Path(self._workdir.name) / f"server-{self._generation}"
        (directory / "tmp").mkdir(parents=True)
        port, uno_port = _free_ports(2)
        cmd = [
            self.python,
            "-I",  # ignore PYTHONPATH/PYTHONHOME of the caller's virtualenv
            "-c",
            _SERVER_BOOTSTRAP,
            site,
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
            "--uno-interface",
            "127.0.0.1",
            "--uno-port",
            str(uno_port),
            "--user-installation",
            str(directory / "profile"),  # a path: unoserver turns it into a file:// URL itself
            "--temp-dir",
            str(directory / "tmp"),
            "--executable",
            self.soffice,
        ]
        started = time.monotonic()
        proc = _spawn_group(
            cmd,
            cwd=directory,
            tmpdir=directory / "tmp",
            message="unoserver tidak dapat dijalankan.",
            reason="not_startable",
        )
        server = _ServerProcess(proc, port, directory)
        deadline = started + self.startup_timeout
        while time.monotonic() < deadline:
            if not server.alive():
                break
            # unoserver 3.7 sleeps ~5 s before it even binds the XML-RPC port.
            if server.answers(timeout=max(0.5, min(10.0, deadline - time.monotonic()))):
                self._server = server
                log.info(
                    "warm LibreOffice ready: unoserver pid %d, port %d, started in %.1f s",
                    proc.pid,
                    port,
                    time.monotonic() - started,
                )
                return
            time.sleep(0.2)
        exited = not server.alive()
        server.kill()
        log.error(
            "unoserver did not become ready (%s); output:\n%s",
            f"exited with {proc.returncode}" if exited else f"no answer within {self.startup_timeout:.0f} s",
            server.tail(),
        )
        raise _unavailable(
            "Konverter LibreOffice (unoserver) gagal dijalankan.",
            reason="exited" if exited else "startup_timeout",
        )

    def _restart(self, why: str) -> None:
        log.warning("restarting warm LibreOffice: %s", why)
        if self._server is not None:
            self._server.kill()
            self._server = None
        self.restarts += 1
        self._start()

    def close(self) -> None:
        """Kill the server's whole process group and remove its profile; idempotent."""
        with self._lock:
            self._closed = True
            if self._server is not None:
                self._server.kill()
                self._server = None
            self._workdir.cleanup()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- introspection (operations and tests)

    @property
    def server_pid(self) -> int | None:
        """pid of the unoserver process (also its process-group id), None when not running."""
        server = self._server
        return server.proc.pid if server is not None and server.alive() else None

    def live_pids(self) -> dict[int, str]:
        """Live processes of the current server's group (pid -> name, e.g. soffice.bin)."""
        server = self._server
        return _group_processes(server.proc.pid) if server is not None else {}

    @property
    def running(self) -> bool:
        """False after a conversion killed the server (timeout) or it died: :meth:`ensure_running` next."""
        server = self._server
        return self._closed or (server is not None and server.alive())

    def ensure_running(self) -> None:
        """Start the server again if it is not running (a pool does this in the background after a
        timeout, so that the next document does not pay the 5-7 s start-up)."""
        with self._lock:
            if not self._closed and (self._server is None or not self._server.alive()):
                self._restart("server process is not running")

    # -- conversion

    def to_pdf(self, docx: bytes) -> bytes:
        """Convert one DOCX; restarts a dead server once and retries the call once."""
        _precheck_docx(docx)
        with self._lock:
            if self._closed:
                raise ConverterUnavailable("Konverter LibreOffice sudah ditutup.", reason="closed")
            if self._server is None or not self._server.alive():
                self._restart("server process is not running")
            try:
                return self._convert_once(docx)
            except _ServerGone as gone:
                self._restart(str(gone))
            try:
                return self._convert_once(docx)
            except _ServerGone as gone:
                # A fresh server died on this very document twice: the document is the cause.
                log.error("warm LibreOffice died again on the retried document: %s", gone)
                if self._server is not None:
                    self._server.kill()
                    self._server = None  # restarted at the next call
                raise ConversionFailed(
                    "Dokumen ini membuat LibreOffice berhenti; periksa isi dokumen.", reason="converter_crashed"
                ) from None

    def _convert_once(self, docx: bytes) -> bytes:
        server = self._server
        assert server is not None  # guaranteed by to_pdf
        started = time.perf_counter()
        calldir = Path(tempfile.mkdtemp(prefix="call-", dir=self._workdir.name))
        try:
            source = calldir / INPUT_NAME
            target = calldir / OUTPUT_NAME
            source.write_bytes(docx)
            client = _FailFastUnoClient(server="127.0.0.1", port=str(server.port))
            outcome: dict[str, BaseException] = {}

            def call() -> None:
                try:
                    client.convert(
                        inpath=str(source),
                        outpath=str(target),
                        convert_to="pdf",
                        filter_options=WARM_FILTER_OPTIONS,
                        infiltername=DOCX_IMPORT_FILTER,
                    )
                except BaseException as exc:  # handed to the waiting thread
                    outcome["error"] = exc

            # UnoClient has no timeout of its own: run it in a thread and kill the server
            # when the deadline passes (that also unblocks the thread's socket).
            worker = threading.Thread(target=call, name="warm-convert", daemon=True)
            worker.start()
            worker.join(self.timeout)
            if worker.is_alive():
                log.error(
                    "warm conversion exceeded %.0f s; killing unoserver pid %d (restarted at next call)",
                    self.timeout,
                    server.proc.pid,
                )
                server.kill()
                self._server = None
                worker.join(5)
                raise ConversionFailed(
                    f"Konversi dokumen melebihi batas waktu {self.timeout:.0f} detik.",
                    reason="timeout",
                    timeout_s=self.timeout,
                )
            error = outcome.get("error")
            if error is not None:
                self._classify(server, error)
            if not target.is_file():
                raise ConversionFailed("LibreOffice tidak menghasilkan berkas PDF.", reason="no_output")
            pdf = target.read_bytes()
        finally:
            shutil.rmtree(calldir, ignore_errors=True)
        check_pdf(pdf)
        log.debug("warm conversion took %.0f ms", (time.perf_counter() - started) * 1000)
        return pdf

    def _classify(self, server: _ServerProcess, error: BaseException) -> None:
        """A failed call is the document's fault only if the server is still healthy."""
        if isinstance(error, OSError | http.client.HTTPException | xmlrpc.client.ProtocolError):
            raise _ServerGone(f"connection to unoserver failed: {error!r}") from error
        if not server.answers():
            raise _ServerGone(f"unoserver stopped answering after: {error!r}") from error
        log.warning("warm conversion rejected the document: %s", error)
        message = str(error)
        if "Could not load document" in message:
            raise ConversionFailed(
                "Dokumen Word tidak dapat dibuka oleh LibreOffice (rusak atau bukan .docx).", reason="load_failed"
            ) from error
        raise ConversionFailed("LibreOffice gagal mengonversi dokumen.", reason="convert_failed") from error


# --------------------------------------------------------------------------- remote


class RemoteConverter:
    """A unoserver that runs elsewhere (the ``converter`` service of docker-compose).

    The DOCX travels to it and the PDF back over XML-RPC, so no file system is shared.
    The server is not ours to restart: when it does not answer the call fails with
    ConverterUnavailable (503, try again), and a document it refuses is ConversionFailed.
    """

    def __init__(self, address: str, *, timeout: float = 60.0) -> None:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"converter address must be host:port, got {address!r}")
        self.host, self.port, self.timeout = host, int(port), timeout

    def to_pdf(self, docx: bytes) -> bytes:
        _precheck_docx(docx)
        client = _FailFastUnoClient(server=self.host, port=str(self.port))
        outcome: dict[str, Any] = {}

        def call() -> None:
            try:
                outcome["pdf"] = client.convert(
                    indata=docx, convert_to="pdf", filter_options=WARM_FILTER_OPTIONS, infiltername=DOCX_IMPORT_FILTER
                )
            except BaseException as exc:  # handed to the waiting thread
                outcome["error"] = exc

        worker = threading.Thread(target=call, name="remote-convert", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            raise ConverterUnavailable(
                f"Konverter tidak menjawab dalam {self.timeout:.0f} detik.", reason="timeout", address=self.address
            )
        error = outcome.get("error")
        if isinstance(error, OSError | http.client.HTTPException | xmlrpc.client.ProtocolError):
            log.warning("remote unoserver %s unreachable: %r", self.address, error)
            raise ConverterUnavailable(reason="unreachable", address=self.address) from error
        if error is not None:
            log.warning("remote conversion rejected the document: %s", error)
            raise ConversionFailed(
                "Dokumen Word tidak dapat dibuka oleh LibreOffice (rusak atau bukan .docx).", reason="load_failed"
            ) from error
        pdf = outcome.get("pdf")
        if not isinstance(pdf, bytes | bytearray):
            raise ConversionFailed("LibreOffice tidak menghasilkan berkas PDF.", reason="no_output")
        check_pdf(bytes(pdf))
        return bytes(pdf)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def close(self) -> None:
        return None


# --------------------------------------------------------------------------- fallback


class FallbackConverter:
    """Warm when possible, cold when the warm server cannot start or keeps dying.

    A slow conversion is better than none: machines without a working python3-uno, or a
    LibreOffice that crashes under unoserver, still produce PDF/A, and the log says why.
    """

    def __init__(
        self,
        *,
        timeout: float = 60.0,
        startup_timeout: float = 60.0,
        python: str = "/usr/bin/python3",
        soffice: str | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._cold = ColdConverter(soffice, timeout=timeout)
        self._warm: WarmConverter | None
        try:
            self._warm = WarmConverter(
                timeout=timeout, startup_timeout=startup_timeout, python=python, soffice=self._cold.soffice
            )
        except ConverterUnavailable as exc:
            log.warning("warm LibreOffice unavailable (%s: %s); using one cold soffice per document", exc.code, exc)
            self._warm = None

    @property
    def mode(self) -> str:
        """``"warm"`` or ``"cold"``: which path the next conversion takes."""
        return "warm" if self._warm is not None else "cold"

    @property
    def running(self) -> bool:
        warm = self._warm
        return warm is None or warm.running

    def ensure_running(self) -> None:
        """Restart the warm server; when that fails, go on cold (as :meth:`to_pdf` does)."""
        warm = self._warm
        if warm is None:
            return
        try:
            warm.ensure_running()
        except ConverterUnavailable as exc:
            log.error("warm LibreOffice could not be restarted (%s); switching to cold soffice", exc)
            with self._lock:
                if self._warm is warm:
                    self._warm = None
            warm.close()

    def to_pdf(self, docx: bytes) -> bytes:
        warm = self._warm
        if warm is not None:
            try:
                return warm.to_pdf(docx)
            except ConverterUnavailable as exc:
                log.error("warm LibreOffice failed and could not be restarted (%s); switching to cold soffice", exc)
                with self._lock:
                    if self._warm is warm:
                        self._warm = None
                warm.close()
        return self._cold.to_pdf(docx)

    def close(self) -> None:
        with self._lock:
            warm, self._warm = self._warm, None
        if warm is not None:
            warm.close()
        self._cold.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# --------------------------------------------------------------------------- pool


@dataclass(frozen=True)
class ConversionTiming:
    """One conversion as a pool saw it: how long it waited for a converter, how long it took."""

    converter: int
    """Index of the pool's converter that did it."""
    waited_ms: float
    converted_ms: float
    ok: bool


_timings: contextvars.ContextVar[list[ConversionTiming] | None] = contextvars.ContextVar(
    "naskah_conversion_timings", default=None
)


@contextlib.contextmanager
def collect_timings() -> Iterator[list[ConversionTiming]]:
    """The conversions done inside the block (in this context, and in worker threads started from it
    with a copy of it, as Starlette runs sync endpoints), for a response header or a report."""
    found: list[ConversionTiming] = []
    token = _timings.set(found)
    try:
        yield found
    finally:
        _timings.reset(token)


@dataclass(frozen=True)
class PoolStats:
    """A pool at one moment, for the health check and monitoring."""

    size: int
    busy: int
    waiting: int
    restarting: int
    max_waiting: int
    conversions: int
    refused: int
    """Conversions refused because the queue was full or the wait too long (503)."""
    wait_ms_total: float
    wait_ms_max: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class _Waiter:
    """A caller waiting for a converter; :meth:`ConverterPool._hand_over` fills ``index`` and wakes it."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.index: int | None = None


class ConverterPool:
    """Several converters (each its own LibreOffice, profile and ports) behind one bounded queue.

    Why: one LibreOffice converts one document at a time, so with a single converter one slow
    render (the issue: a 5.5 MB field, 60 s) made every other upload wait.  Here a conversion takes
    the first idle converter; when all are busy it waits, first come first served, in a queue of at
    most ``max_waiting`` requests for at most ``wait_timeout`` seconds, else it is refused with 503 "coba lagi"
    (``ConverterUnavailable``, ``reason: busy``), never queued without bound.  The time each
    conversion waited and took is logged and collected (:func:`collect_timings`; the API puts it in
    a ``Server-Timing`` header), and :meth:`stats` says how loaded the pool is.  A conversion that
    overruns its converter's timeout kills that converter's server (:class:`WarmConverter`); the pool
    restarts it in the background before handing it out again, so the others go on converting and
    the next document does not wait for a LibreOffice to start.
    """

    def __init__(self, converters: Sequence[Converter], *, max_waiting: int = 16, wait_timeout: float = 60.0) -> None:
        if not converters:
            raise ValueError("a converter pool needs at least one converter")
        self._converters = list(converters)
        self.max_waiting = max_waiting
        self.wait_timeout = wait_timeout
        self._idle: collections.deque[int] = collections.deque(range(len(self._converters)))
        self._waiters: collections.deque[_Waiter] = collections.deque()
        self._lock = threading.Lock()
        self._closed = False
        self._busy = self._restarting = 0
        self._conversions = self._refused = 0
        self._wait_total = self._wait_max = 0.0

    @classmethod
    def start(cls, size: int, factory: Callable[[], Converter], **options: Any) -> ConverterPool:
        """``size`` converters made by ``factory`` side by side (each LibreOffice takes seconds to start);
        if one cannot be started, those already started are closed and the error is raised."""
        if size < 1:
            raise ValueError("a converter pool needs at least one converter")
        with concurrent.futures.ThreadPoolExecutor(max_workers=size, thread_name_prefix="converter-start") as ex:
            futures = [ex.submit(factory) for _ in range(size)]
            concurrent.futures.wait(futures)
        started = [f.result() for f in futures if f.exception() is None]
        failed = [f.exception() for f in futures if f.exception() is not None]
        if failed:
            for conv in started:
                conv.close()
            raise failed[0]  # type: ignore[misc]
        log.info("converter pool ready: %d converter(s)", size)
        return cls(started, **options)

    @property
    def size(self) -> int:
        return len(self._converters)

    @property
    def converters(self) -> list[Converter]:
        return list(self._converters)

    def stats(self) -> PoolStats:
        with self._lock:
            return PoolStats(
                size=len(self._converters),
                busy=self._busy,
                waiting=len(self._waiters),
                restarting=self._restarting,
                max_waiting=self.max_waiting,
                conversions=self._conversions,
                refused=self._refused,
                wait_ms_total=round(self._wait_total * 1000, 1),
                wait_ms_max=round(self._wait_max * 1000, 1),
            )

    def _busy_error(self, why: str, **detail: Any) -> ConverterUnavailable:
        self._refused += 1
        return ConverterUnavailable(
            f"Semua konverter dokumen sedang sibuk ({why}). Coba lagi beberapa saat lagi.",
            reason="busy",
            converters=len(self._converters),
            **detail,
        )

    def _acquire(self) -> tuple[int, float]:
        """An idle converter's index, first come first served, and how long the caller waited for it."""
        started = time.monotonic()
        with self._lock:
            if self._closed:
                raise ConverterUnavailable("Konverter LibreOffice sudah ditutup.", reason="closed")
            if self._idle and not self._waiters:
                self._busy += 1
                return self._idle.popleft(), 0.0
            if len(self._waiters) >= self.max_waiting:
                log.warning("conversion refused: %d converter(s) busy, %d waiting", self._busy, len(self._waiters))
                raise self._busy_error(f"{len(self._waiters)} dokumen sudah mengantre", waiting=len(self._waiters))
            waiter = _Waiter()
            self._waiters.append(waiter)
        handed = waiter.event.wait(self.wait_timeout)
        with self._lock:
            if not handed and waiter.index is None:  # (handed over at the last moment: take it)
                self._waiters.remove(waiter)
                log.warning("conversion refused after waiting %.0f s for a converter", self.wait_timeout)
                raise self._busy_error(
                    f"tidak ada yang luang dalam {self.wait_timeout:.0f} detik", waited_s=self.wait_timeout
                )
            waited = time.monotonic() - started
            self._wait_total += waited
            self._wait_max = max(self._wait_max, waited)
        assert waiter.index is not None
        return waiter.index, waited

    def _hand_over(self, index: int) -> None:
        """Give a free converter to the longest waiting caller, else make it idle (under the lock)."""
        if self._closed:
            return
        if self._waiters:
            waiter = self._waiters.popleft()
            waiter.index = index
            waiter.event.set()  # stays busy: the waiter has it now
        else:
            self._busy -= 1
            self._idle.append(index)

    def _release(self, index: int) -> None:
        converter = self._converters[index]
        restart = not getattr(converter, "running", True)
        with self._lock:
            if not restart:
                self._hand_over(index)
                return
            self._busy -= 1
            self._restarting += 1

        def restart_then_release() -> None:
            try:
                converter.ensure_running()  # type: ignore[attr-defined]
            except Exception as exc:  # the next call tries again and answers 503 itself
                log.error("converter %d could not be restarted: %s", index, exc)
            finally:
                with self._lock:
                    self._restarting -= 1
                    self._busy += 1  # _hand_over counts it back as it leaves
                    self._hand_over(index)

        threading.Thread(target=restart_then_release, name=f"converter-restart-{index}", daemon=True).start()

    def to_pdf(self, docx: bytes) -> bytes:
        """Convert on the first idle converter (see the class docstring); ``ConverterUnavailable``
        (503, ``reason: busy``) when the queue is full or nothing frees up in ``wait_timeout``."""
        _precheck_docx(docx)  # garbage never takes a place in the queue
        index, waited = self._acquire()
        started = time.monotonic()
        ok = False
        try:
            pdf = self._converters[index].to_pdf(docx)
            ok = True
            return pdf
        finally:
            took = time.monotonic() - started
            with self._lock:
                self._conversions += 1
            self._release(index)
            timing = ConversionTiming(converter=index, waited_ms=waited * 1000, converted_ms=took * 1000, ok=ok)
            found = _timings.get()
            if found is not None:
                found.append(timing)
            log.log(
                logging.WARNING if waited > 1.0 else logging.INFO,
                "conversion on converter %d/%d: waited %.0f ms for it, converted in %.0f ms%s",
                index + 1,
                len(self._converters),
                timing.waited_ms,
                timing.converted_ms,
                "" if ok else " (failed)",
            )

    def close(self) -> None:
        """Close every converter (their LibreOffice processes go); idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        for converter in self._converters:
            converter.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_converter_pool(
    mode: str = "auto",
    *,
    size: int | None = None,
    timeout: float = 60.0,
    address: str | None = None,
    max_waiting: int = 16,
) -> ConverterPool:
    """``size`` converters of ``mode`` (default: one per CPU core) behind one bounded queue; a request
    waits at most ``timeout`` for a converter (one stuck conversion is killed by then)."""
    size = size or os.cpu_count() or 1
    options: dict[str, Any] = {"max_waiting": max_waiting, "wait_timeout": timeout}
    if mode in ("remote", "cold"):  # no state per converter: the slots only bound the concurrency
        one = open_converter(mode, timeout=timeout, address=address)
        return ConverterPool([one] * size, **options)
    return ConverterPool.start(size, lambda: open_converter(mode, timeout=timeout, address=address), **options)


def open_converter(mode: str = "auto", *, timeout: float = 60.0, address: str | None = None) -> Converter:
    """The converter for ``mode``: ``"warm"``, ``"cold"``, ``"auto"`` (warm, cold fallback), or
    ``"remote"`` (a unoserver at ``address``, host:port)."""
    if mode == "remote":
        if not address:
            raise ValueError("converter mode 'remote' needs an address (NASKAH_CONVERTER_URL=host:port)")
        return RemoteConverter(address, timeout=timeout)
    soffice = find_soffice()
    if soffice is None:
        raise _unavailable("LibreOffice (soffice) tidak ditemukan di server.", reason="no_soffice")
    if mode == "warm":
        return WarmConverter(timeout=timeout, soffice=soffice)
    if mode == "cold":
        return ColdConverter(soffice, timeout=timeout)
    if mode == "auto":
        return FallbackConverter(timeout=timeout, soffice=soffice)
    raise ValueError(f"unknown converter mode {mode!r}; expected 'auto', 'warm', 'cold' or 'remote'")
