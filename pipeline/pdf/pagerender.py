"""A PDF's pages as PNG images and text, by poppler, bounded in time, pages and concurrency.

Why poppler's command-line tools (``pdfinfo``, ``pdftoppm``, ``pdftotext``): they are already a
system dependency (``pdfsig`` checks signatures with the same library), they render what
LibreOffice, pyHanko and a counterparty's software write (signature appearances, paraf stamps,
embedded fonts) and they run as separate processes, so a PDF that makes the renderer slow or
crash costs that process, not the server.  ``pdftoppm`` writes raw rasters, which Pillow encodes
as PNG and scales down to the thumbnail: poppler's own PNG writer took three quarters of the time
(10 pages at 120 dpi: 3.7 s of CPU against 0.9 s for the rasters alone), and a second poppler run
for thumbnails another second.

Bounds, so that previews cannot starve the API:

* each tool runs as a subprocess with an argument list (never a shell), under ``nice`` (the
  server's own requests come first on a busy machine), with a timeout after which it is killed
  (``PreviewLimits.timeout_s``): a timeout is ``DocumentRejected`` ``preview_timeout`` (422);
* at most ``max_pages`` pages are rendered (the first ones); the page count is reported in full;
* at most ``workers`` renders run at once in this process (a slot, like the converter pool's);
  ``queue`` more may wait for a slot up to the timeout; one more is refused at once
  (``ServiceUnavailable`` ``preview_busy``, 503, "coba lagi").

Nothing here knows about naskah, users or storage: :mod:`pipeline.workspace.preview` caches what this
renders, once per PDF sha256, and decides who may see it.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import struct
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from pipeline.errors import DocumentRejected, ServiceUnavailable

__all__ = [
    "PageRenderer",
    "PreviewLimits",
    "RenderedDocument",
    "RenderedPage",
    "png_size",
]

log = logging.getLogger(__name__)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BATCH = 8
"""Pages rasterised per poppler run: the rasters of one batch at most are on disk at once."""
PNG_LEVEL = 3
"""zlib level of the page PNGs: as small as level 6 for these pages (text on white) at 2/3 of the time."""


@dataclass(frozen=True)
class PreviewLimits:
    """How pages are rendered and how much of the machine that may take."""

    dpi: int = 120
    """Resolution of a page image (``NASKAH_PREVIEW_DPI``): 120 dpi makes an A4 page 992 x 1403 px,
    readable on a laptop screen at its natural size and still sharp when zoomed to 125 %."""
    thumb_width: int = 200
    """Width in pixels of a page's thumbnail (``NASKAH_PREVIEW_THUMB_PX``); the height follows the page."""
    max_pages: int = 100
    """Pages rendered at most (the first ones; ``NASKAH_PREVIEW_MAX_PAGES``); a longer PDF is opened as a file."""
    timeout_s: float = 60.0
    """Seconds one poppler run may take before it is killed; also the longest wait for a free slot
    (``NASKAH_PREVIEW_TIMEOUT``)."""
    workers: int = field(default_factory=lambda: max(1, (os.cpu_count() or 1) // 2))
    """Renders at once in one API process (``NASKAH_PREVIEW_WORKERS``; default half the cores)."""
    queue: int = 16
    """Renders that may wait for a busy slot; one more is refused at once (503 ``preview_busy``)."""

    @property
    def variant(self) -> str:
        """What the cached images depend on besides the PDF: a cache made with other settings is another."""
        return f"r{self.dpi}-t{self.thumb_width}"


@dataclass(frozen=True)
class RenderedPage:
    """One page: its image, its thumbnail and its text (for screen readers and search)."""

    number: int
    png: bytes
    width: int
    height: int
    thumb_png: bytes
    thumb_width: int
    thumb_height: int
    text: str


@dataclass(frozen=True)
class RenderedDocument:
    page_count: int
    """Pages in the PDF, all of them (``pages`` holds at most ``PreviewLimits.max_pages``)."""
    pages: list[RenderedPage]
    elapsed_ms: int


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; ValueError for anything that is not a PNG."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


class PageRenderer:
    """Renders PDFs with poppler under :class:`PreviewLimits`; counts what it rendered (``renders``)."""

    def __init__(self, limits: PreviewLimits | None = None) -> None:
        self.limits = limits or PreviewLimits()
        self._slots = threading.BoundedSemaphore(max(1, self.limits.workers))
        self._lock = threading.Lock()
        self._waiting = 0
        self.renders = 0
        """Documents rendered by this renderer (each ``render`` that ran poppler): what tests count."""
        self.tools = {name: shutil.which(name) for name in ("pdfinfo", "pdftoppm", "pdftotext", "nice")}

    # -- the bounded entry point ---------------------------------------------------------------

    def render(self, pdf: bytes) -> RenderedDocument:
        """Every page (up to ``max_pages``) of ``pdf`` as PNG + thumbnail + text, in a free slot."""
        limits = self.limits
        with self._lock:
            if self._waiting >= limits.queue + limits.workers:
                raise ServiceUnavailable(
                    "Terlalu banyak pratinjau sedang dibuat. Coba lagi beberapa saat lagi.",
                    reason="preview_busy",
                    workers=limits.workers,
                    queue=limits.queue,
                )
            self._waiting += 1
        try:
            if not self._slots.acquire(timeout=limits.timeout_s):
                raise ServiceUnavailable(
                    "Semua pembuat pratinjau sedang sibuk. Coba lagi beberapa saat lagi.",
                    reason="preview_busy",
                    workers=limits.workers,
                )
            try:
                return self._render(pdf)
            finally:
                self._slots.release()
        finally:
            with self._lock:
                self._waiting -= 1

    # -- poppler ---------------------------------------------------------------------------------

    def _tool(self, name: str) -> str:
        path = self.tools.get(name)
        if not path:
            raise ServiceUnavailable(
                f"Pratinjau tidak dapat dibuat: program {name} (poppler-utils) tidak terpasang di server.",
                reason="preview_tool_missing",
                tool=name,
            )
        return path

    def _run(self, name: str, args: list[str], cwd: Path) -> bytes:
        """One poppler tool, niced, with the timeout; its stdout.  A failure is the file's (422)."""
        command = [self._tool(name), *args]
        if self.tools.get("nice"):
            command = [self.tools["nice"] or "nice", "-n", "10", *command]
        try:
            done = subprocess.run(
                command,
                cwd=cwd,
                capture_output=True,
                timeout=self.limits.timeout_s,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            log.warning("%s killed after %.0f s", name, self.limits.timeout_s)
            raise DocumentRejected(
                f"Pratinjau dihentikan setelah {self.limits.timeout_s:.0f} detik: halaman PDF ini terlalu rumit "
                "untuk digambar. Buka berkas PDF-nya secara langsung.",
                reason="preview_timeout",
                limit_s=self.limits.timeout_s,
            ) from exc
        if done.returncode != 0:
            err = done.stderr.decode("utf-8", "replace").strip()[-500:]
            log.warning("%s failed (exit %s): %s", name, done.returncode, err)
            raise DocumentRejected(
                "Pratinjau tidak dapat dibuat: berkas PDF ini tidak dapat dibaca oleh penggambar halaman. "
                "Buka berkas PDF-nya secara langsung.",
                reason="preview_failed",
                tool=name,
                exit_code=done.returncode,
            )
        return done.stdout

    def page_count(self, pdf_path: Path, cwd: Path) -> int:
        out = self._run("pdfinfo", [str(pdf_path)], cwd).decode("utf-8", "replace")
        for line in out.splitlines():
            if line.startswith("Pages:"):
                return int(line.split(":", 1)[1].strip() or 0)
        raise DocumentRejected(
            "Pratinjau tidak dapat dibuat: jumlah halaman PDF tidak terbaca.", reason="preview_failed", tool="pdfinfo"
        )

    def _render(self, pdf: bytes) -> RenderedDocument:
        limits = self.limits
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="naskah-preview-") as tmp:
            work = Path(tmp)
            source = work / "in.pdf"
            source.write_bytes(pdf)
            count = self.page_count(source, work)
            last = min(count, limits.max_pages)
            pages: list[RenderedPage] = []
            if last >= 1:
                self._run(
                    "pdftotext", ["-layout", "-enc", "UTF-8", "-f", "1", "-l", str(last), str(source), "t.txt"], work
                )
                texts = (work / "t.txt").read_text("utf-8", "replace").split("\f")
                for first in range(1, last + 1, BATCH):
                    end = min(last, first + BATCH - 1)
                    # raw PPM, encoded to PNG below: poppler's own PNG writer took 3/4 of the time (measured)
                    self._run(
                        "pdftoppm", ["-r", str(limits.dpi), "-f", str(first), "-l", str(end), str(source), "p"], work
                    )
                    for n, path in sorted(_numbered(work, "p", first, end).items()):
                        png, size, thumb, thumb_size = _encode(path, limits.thumb_width)
                        path.unlink()  # a batch's rasters at most on disk (4 MB a page at 120 dpi)
                        text = texts[n - 1] if n - 1 < len(texts) else ""
                        pages.append(RenderedPage(n, png, *size, thumb, *thumb_size, _clean(text)))
        elapsed = int((time.monotonic() - started) * 1000)
        with self._lock:
            self.renders += 1
        log.info("rendered %d of %d pages at %d dpi in %d ms", len(pages), count, limits.dpi, elapsed)
        return RenderedDocument(page_count=count, pages=pages, elapsed_ms=elapsed)


def _encode(path: Path, thumb_width: int) -> tuple[bytes, tuple[int, int], bytes, tuple[int, int]]:
    """A page's raster as PNG, and its thumbnail (``thumb_width`` wide) as PNG."""
    with Image.open(path) as raster:
        raster.load()
        image = io.BytesIO()
        raster.save(image, "PNG", compress_level=PNG_LEVEL)
        height = max(1, round(raster.height * thumb_width / raster.width))
        small = raster.resize((thumb_width, height), Image.Resampling.LANCZOS, reducing_gap=2.0)
        thumb = io.BytesIO()
        small.save(thumb, "PNG", compress_level=PNG_LEVEL)
        return image.getvalue(), raster.size, thumb.getvalue(), small.size


def _numbered(work: Path, prefix: str, first: int, last: int) -> dict[int, Path]:
    """pdftoppm's files ``<prefix>-1.ppm`` … (zero-padded to the width of the PDF's last page number)."""
    found: dict[int, Path] = {}
    for path in work.glob(f"{prefix}-*.ppm"):
        number = path.stem.rsplit("-", 1)[1]
        if number.isdigit() and first <= int(number) <= last:
            found[int(number)] = path
    missing = [n for n in range(first, last + 1) if n not in found]
    if missing:
        raise DocumentRejected(
            "Pratinjau tidak dapat dibuat: sebagian halaman PDF tidak tergambar.",
            reason="preview_failed",
            missing_pages=missing[:10],
        )
    return found


def _clean(text: str) -> str:
    """A page's text as pdftotext laid it out, without trailing blanks and the control characters
    some PDFs carry (a screen reader reads what is left)."""
    lines = ["".join(ch for ch in line if ch == "\t" or ch >= " ").rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)
