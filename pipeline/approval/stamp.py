"""Paraf marks on every page, the "Paraf" table of the signature page, and the empty signature fields.

Paraf come before signatures (SIGNING_NOTES "Two ways to carry paraf", way 1): each paraf
produces a NEW PDF from the clean revision PDF with all marks given so far, so the file
after the n-th paraf can always be derived again and compared byte for byte
(deterministic output: no clock, no random ids).  Because nothing is signed yet, the file
is rewritten whole with pypdf rather than appended to; the catalog, the XMP metadata (with
its PDF/A marker), the document info and the first file id are kept as LibreOffice wrote
them, the second file id is derived from the input so a stamped file is recognisably a
different version of the same document.

How a mark is drawn: three short lines (inisial, singkatan jabatan, date dd/mm/yyyy) in a
thin frame, real text in Liberation Sans embedded as a subset TrueType font with
WinAnsiEncoding (PDF/A needs embedded fonts; WinAnsi keeps the text searchable by
pdftotext without a ToUnicode map).  Widths come straight from the font, scaled from its
2048 units per em to the PDF's 1000 (the letter-spacing trap of SIGNING_NOTES does not
apply: no pyHanko stamp is used).  Slot ``urutan`` of the margin box holds the mark of
that place in the chain, so a mark never moves when later paraf are added.  Text outside
WinAnsi is transliterated (accents dropped) or becomes "?".

The signature page's own "Paraf" table (a bordered table under the signature block in every
standard template) is found by text extraction with positions (pdfplumber): the last cell
labelled "Paraf" that belongs to a ruled table; the cells below the label get one official
each, in chain order (urutan + singkatan, inisial, date).  A PDF without such a table gets
a small one drawn near the bottom of its last page, on the side away from the margin box.

Signature fields: every visible field must exist before the first signature (new visible
fields after a signature invalidate it), so :func:`prepare_signature_fields` creates them
all at once on the final, fully initialled PDF, each just above the signer's printed name.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import pdfplumber
from fontTools import subset
from fontTools.ttLib import TTFont
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    TextStringObject,
)

from pipeline.errors import InvalidInput, RuleViolation
from pipeline.sop import ParafBox

__all__ = [
    "FONT_PATH",
    "ParafMark",
    "SignatureSlot",
    "find_signature_boxes",
    "inisial_dari",
    "lock_signature_field",
    "prepare_signature_fields",
    "stamp_paraf",
]

FONT_PATH = Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")
FONT_RESOURCE = "/FParaf"  # the resource name marks a PDF as already stamped
INK = (0.05, 0.15, 0.55)  # dark blue, like a pen: the marks stand apart from the printed text
SLOTS = 3  # Tata Naskah Dinas: at most three officials give paraf, so the margin box has three places
FIELD_WIDTH, FIELD_HEIGHT, FIELD_MIN_HEIGHT = 170.0, 60.0, 24.0
_FIELD_NAME = re.compile(r"[A-Za-z0-9_-]+")  # pyHanko addresses fields by name; "." would mean a child field
_PIHAK = {1: "PIHAK KESATU", 2: "PIHAK KEDUA", 3: "PIHAK KETIGA"}


# --- inputs -------------------------------------------------------------------------


@dataclass(frozen=True)
class ParafMark:
    """One paraf as it is printed: who, in which place of the chain, when."""

    urutan: int
    """1-based place in the chain; decides the slot in the margin box and the cell in the Paraf table."""
    nama: str
    """Full name with titles (kept for the record; the mark prints the inisial)."""
    jabatan: str
    singkatan: str
    """Short jabatan printed under the inisial, e.g. ``Kabag Pem``."""
    inisial: str
    """E.g. ``AS``; empty means "derive it from ``nama``" (:func:`inisial_dari`)."""
    waktu: datetime
    """When the paraf was given, timezone-aware; printed as dd/mm/yyyy in ``tz`` when stamp_paraf gets
    one (the region's clock), else in the zone it carries.  A naive datetime is refused."""


@dataclass(frozen=True)
class SignatureSlot:
    """A party's signature field and the printed name that shows where its block is."""

    field_name: str
    """E.g. ``ttd_pihak_1``: letters, digits, ``_`` and ``-`` only."""
    pihak_urutan: int
    """1 = PIHAK KESATU, 2 = PIHAK KEDUA (for messages)."""
    nama: str
    """The signer's name exactly as printed under the signature space."""


# --- inisial ------------------------------------------------------------------------

# Titles written before the name (academic, professional, religious); compared without dots, lower case.
_PREFIX_TITLES = frozenset(
    {"prof", "dr", "drs", "dra", "drg", "drh", "ir", "h", "hj", "kh", "ns", "apt", "hc", "ust", "ustadz", "tgh"}
)
# Degrees sometimes written without dots or without the comma that normally separates them.
_UNDOTTED_DEGREES = frozenset(
    {"sh", "se", "st", "mm", "mt", "mh", "msi", "map", "mba", "phd", "sstp", "ssos", "sip", "spd", "mpd", "skom"}
    | {"mkes", "mkn", "lc", "msc", "bsc", "ma", "me", "ak", "cpa"}
)
_DOTTED_DEGREE = re.compile(r"[A-Za-z]{1,5}\.(?:[A-Za-z]{1,5}\.?)+")  # S.H., M.Si., S.STP., Ph.D


def inisial_dari(nama: str) -> str:
    """The initials of a person's name without titles: "Drs. Andi Saputra, M.Si." -> "AS".

    Everything after the first comma is postnominal degrees; titles before the name (Dr.,
    Drs., H., Hj., dr., Ir., Prof., ...) are dropped, and so are degrees written without a
    comma ("Andi Saputra S.H.").  A single letter with a dot inside the name ("Muhammad R.
    Saputra") is an abbreviated name and counts.  Each remaining word gives its first letter.
    """
    words = nama.split(",", 1)[0].split()
    while words and words[0].replace(".", "").strip("()").lower() in _PREFIX_TITLES:
        words.pop(0)
    kept: list[str] = []
    for word in words:
        bare = word.replace(".", "").lower()
        if kept and (_DOTTED_DEGREE.fullmatch(word) or bare in _UNDOTTED_DEGREES):
            break  # degrees follow the name; nothing after them is a name
        kept.append(word)
    letters = [next((c for c in w if c.isalpha()), "") for w in kept]
    inisial = "".join(letters).upper()
    if not inisial:
        raise InvalidInput(f"Nama '{nama}' tidak memuat huruf untuk inisial paraf.", nama=nama)
    return inisial


# --- font ---------------------------------------------------------------------------


def _encode(text: str) -> bytes:
    """WinAnsi bytes for ``text``: accents dropped where needed, anything else outside WinAnsi as "?"."""
    out = bytearray()
    for char in text:
        if char in "\r\n\t":
            char = " "
        try:
            out += char.encode("cp1252")
            continue
        except UnicodeEncodeError:
            pass
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        try:
            out += base.encode("cp1252") if base else b"?"
        except UnicodeEncodeError:
            out += b"?"
    return bytes(b if b >= 0x20 else 0x20 for b in out)


@dataclass(frozen=True)
class _Metrics:
    upem: int
    ascent: float  # per 1 pt of font size
    descent: float
    cap_height: float
    bbox: tuple[int, int, int, int]  # in 1000 units
    widths: dict[int, float]  # WinAnsi code -> advance width in 1000 units
    ps_name: str


@functools.cache
def _metrics() -> _Metrics:
    font = TTFont(FONT_PATH, recalcTimestamp=False, lazy=True)
    upem = font["head"].unitsPerEm
    cmap = font.getBestCmap()
    hmtx = font["hmtx"]
    scale = 1000 / upem
    widths: dict[int, float] = {}
    for code in range(0x20, 0x100):
        try:
            char = bytes([code]).decode("cp1252")
        except UnicodeDecodeError:
            continue
        glyph = cmap.get(ord(char))
        if glyph is not None:
            widths[code] = round(hmtx[glyph][0] * scale)
    head = font["head"]
    return _Metrics(
        upem=upem,
        ascent=font["hhea"].ascent / upem,
        descent=font["hhea"].descent / upem,
        cap_height=font["OS/2"].sCapHeight / upem,
        bbox=tuple(round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)),  # type: ignore[arg-type]
        widths=widths,
        ps_name=str(font["name"].getDebugName(6) or "LiberationSans"),
    )


def _width(data: bytes, size: float) -> float:
    widths = _metrics().widths
    return sum(widths.get(b, 500) for b in data) * size / 1000


@functools.lru_cache(maxsize=64)
def _subset(codes: frozenset[int]) -> bytes:
    """Liberation Sans reduced to the glyphs of ``codes`` (WinAnsi); deterministic for equal input."""
    font = TTFont(FONT_PATH, recalcTimestamp=False)
    options = subset.Options()
    options.hinting = False  # hints matter on screens at small sizes only; they triple the size
    options.notdef_outline = True
    options.recalc_timestamp = False
    # FontForge's timestamp table (noisy to subset) and the layout tables: a simple font uses none of them.
    options.drop_tables = [*options.drop_tables, "FFTM", "GDEF", "GPOS", "GSUB"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes={ord(bytes([c]).decode("cp1252")) for c in codes} | {0x20})
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer, reorderTables=True)
    return buffer.getvalue()


def _stream(writer: PdfWriter, data: bytes, extra: dict[str, PdfObject] | None = None) -> IndirectObject:
    raw = DecodedStreamObject()
    raw.set_data(data)
    stream = raw.flate_encode(level=9)
    for key, value in (extra or {}).items():
        stream[NameObject(key)] = value
    return writer._add_object(stream)


def _font_object(writer: PdfWriter, codes: frozenset[int]) -> IndirectObject:
    """A simple TrueType font dictionary with the embedded subset (PDF/A: embedded, widths consistent)."""
    metrics = _metrics()
    program = _subset(codes)
    tag = "".join(chr(ord("A") + b % 26) for b in hashlib.sha256(program).digest()[:6])
    file_ref = _stream(writer, program, {"/Length1": NumberObject(len(program))})
    first, last = min(codes), max(codes)
    descriptor = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/FontDescriptor"),
            NameObject("/FontName"): NameObject(f"/{tag}+{metrics.ps_name}"),
            NameObject("/Flags"): NumberObject(32),  # nonsymbolic: codes map through WinAnsi to Unicode
            NameObject("/FontBBox"): ArrayObject(NumberObject(v) for v in metrics.bbox),
            NameObject("/ItalicAngle"): NumberObject(0),
            NameObject("/Ascent"): NumberObject(round(metrics.ascent * 1000)),
            NameObject("/Descent"): NumberObject(round(metrics.descent * 1000)),
            NameObject("/CapHeight"): NumberObject(round(metrics.cap_height * 1000)),
            NameObject("/StemV"): NumberObject(80),
            NameObject("/FontFile2"): file_ref,
        }
    )
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/TrueType"),
            NameObject("/BaseFont"): NameObject(f"/{tag}+{metrics.ps_name}"),
            NameObject("/FirstChar"): NumberObject(first),
            NameObject("/LastChar"): NumberObject(last),
            NameObject("/Widths"): ArrayObject(NumberObject(metrics.widths.get(c, 0)) for c in range(first, last + 1)),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            NameObject("/FontDescriptor"): writer._add_object(descriptor),
        }
    )
    return writer._add_object(font)


# --- drawing ------------------------------------------------------------------------

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1 in PDF user space


def _num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _pdf_string(data: bytes) -> str:
    out = []
    for b in data:
        if b in (0x28, 0x29, 0x5C):  # ( ) \
            out.append("\\" + chr(b))
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append(f"\\{b:03o}")
    return "(" + "".join(out) + ")"


@dataclass(frozen=True)
class _Line:
    text: bytes
    size: float  # the largest size wanted; shrunk to fit


def _fit(line: _Line, width: float) -> _Line:
    """Shrink to ``width``; below 3 pt cut the text and end it with an ellipsis instead."""
    natural = _width(line.text, 1.0)
    if natural == 0:
        return line
    size = min(line.size, width / natural)
    if size >= 3:
        return _Line(line.text, size)
    text = line.text
    while len(text) > 1 and _width(text + b"\x85", 3) > width:
        text = text[:-1]
    return _Line(text + b"\x85", 3)


def _text_block(lines: Sequence[_Line], rect: Rect, pad: float = 1.5) -> list[str]:
    """Operators for ``lines`` centred in ``rect``, each shrunk to its width, the block to its height."""
    x0, y0, x1, y1 = rect
    width, height = x1 - x0 - 2 * pad, y1 - y0 - 2 * pad
    if width <= 0 or height <= 0:
        return []
    fitted = [_fit(line, width) for line in lines]
    leading = 1.12
    total = sum(line.size * leading for line in fitted)
    scale = min(1.0, height / total) if total else 1.0
    ascent = _metrics().ascent
    top = y1 - pad - (height - total * scale) / 2
    ops: list[str] = []
    for line in fitted:
        size = line.size * scale
        baseline = top - size * ascent
        x = (x0 + x1) / 2 - _width(line.text, size) / 2
        ops.append(f"BT {FONT_RESOURCE} {_num(size)} Tf {_num(x)} {_num(baseline)} Td {_pdf_string(line.text)} Tj ET")
        top -= size * leading
    return ops


def _frame(rect: Rect, width: float = 0.5) -> str:
    x0, y0, x1, y1 = rect
    return f"{_num(width)} w {_num(x0)} {_num(y0)} {_num(x1 - x0)} {_num(y1 - y0)} re S"


def _tanggal(waktu: datetime, tz: tzinfo | None) -> str:
    """dd/mm/yyyy of ``waktu`` on the region's clock: the same instant gives the same day on every page."""
    if waktu.tzinfo is None or waktu.utcoffset() is None:
        # A naive time does not say which day it was in the region; printing it as-is is how
        # paraf given in the same second once carried different dates.
        raise ValueError(f"paraf time {waktu.isoformat()} has no time zone")
    return (waktu.astimezone(tz) if tz is not None else waktu).strftime("%d/%m/%Y")


def _margin_mark(mark: ParafMark, rect: Rect, tz: tzinfo | None) -> list[str]:
    inset = (rect[0] + 1, rect[1] + 1, rect[2] - 1, rect[3] - 1)
    lines = [
        _Line(_encode(mark.inisial), 11),
        _Line(_encode(mark.singkatan), 6),
        _Line(_encode(_tanggal(mark.waktu, tz)), 6),
    ]
    return [_frame(inset), *_text_block(lines, inset)]


def _table_mark(mark: ParafMark, rect: Rect, tz: tzinfo | None) -> list[str]:
    lines = [
        _Line(_encode(f"{mark.urutan}. {mark.singkatan}"), 6),
        _Line(_encode(mark.inisial), 9),
        _Line(_encode(_tanggal(mark.waktu, tz)), 6),
    ]
    return _text_block(lines, rect)


# --- reading positions --------------------------------------------------------------


@dataclass(frozen=True)
class _ParafTable:
    page: int
    cells: tuple[Rect, ...]  # PDF user space, in reading order (row by row, left to right)


def _to_pdf(box: Sequence[float], page_height: float) -> Rect:
    """pdfplumber's (x0, top, x1, bottom) measured from the top -> PDF (x0, y0, x1, y1)."""
    x0, top, x1, bottom = box
    return (x0, page_height - bottom, x1, page_height - top)


def _find_paraf_table(plumber: Any) -> _ParafTable | None:
    """The last ruled table whose cell reads "Paraf", and its cells below that label."""
    for index in range(len(plumber.pages) - 1, -1, -1):
        page = plumber.pages[index]
        labels = [w for w in page.extract_words() if w["text"].strip(":").lower() == "paraf"]
        if not labels:
            continue
        tables = page.find_tables()
        for label in sorted(labels, key=lambda w: (w["top"], w["x0"]), reverse=True):
            for table in tables:
                tx0, ttop, tx1, tbottom = table.bbox
                cx, cy = (label["x0"] + label["x1"]) / 2, (label["top"] + label["bottom"]) / 2
                if not (tx0 <= cx <= tx1 and ttop <= cy <= tbottom):  # glyph boxes may poke out of the cell
                    continue
                cells = [c for c in table.cells if c[1] >= label["bottom"] - 1]
                if cells:
                    cells.sort(key=lambda c: (round(c[1]), c[0]))
                    return _ParafTable(index, tuple(_to_pdf(c, float(page.height)) for c in cells))
    return None


# --- shared PDF plumbing ------------------------------------------------------------


def _open(pdf: bytes) -> PdfReader:
    try:
        return PdfReader(io.BytesIO(pdf))
    except Exception as exc:  # pypdf raises many unrelated types on damaged files
        raise InvalidInput("Berkas PDF rusak dan tidak dapat dibaca.", reason="unreadable_pdf") from exc


def _fields(reader: PdfReader) -> list[DictionaryObject]:
    """Every terminal form field (children of /Kids included)."""
    form = reader.trailer["/Root"].get("/AcroForm")
    if form is None:
        return []
    out: list[DictionaryObject] = []
    stack = list(form.get_object().get("/Fields", []))
    while stack:
        field = stack.pop().get_object()
        kids = field.get("/Kids")
        if kids and any("/T" in k.get_object() for k in kids):
            stack.extend(kids)
        else:
            out.append(field)
    return out


def _refuse_signed(reader: PdfReader, what: str) -> None:
    for field in _fields(reader):
        if field.get("/FT") == "/Sig" and field.get("/V") is not None:
            raise RuleViolation(
                f"PDF ini sudah ditandatangani; {what} hanya dapat dilakukan sebelum tanda tangan pertama.",
                reason="already_signed",
            )


def _writer(reader: PdfReader, salt: bytes) -> PdfWriter:
    """A full copy of ``reader``; keeps the first file id, derives the second from the input."""
    writer = PdfWriter(clone_from=reader)
    writer.pdf_header = reader.pdf_header  # pypdf would write %PDF-1.3
    original = reader.trailer.get("/ID")
    first = bytes(original[0].original_bytes) if original else hashlib.md5(salt, usedforsecurity=False).digest()
    second = hashlib.sha256(b"naskah:" + salt).digest()[:16]
    writer._ID = ArrayObject([ByteStringObject(first), ByteStringObject(second)])
    return writer


def _finish(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _page_box(page: Any) -> Rect:
    box = page.cropbox
    return (float(box.left), float(box.bottom), float(box.right), float(box.top))


def _resources(page: Any) -> DictionaryObject:
    """The page's own /Resources (copied down from /Pages when inherited)."""
    if "/Resources" not in page:
        node = page.get("/Parent")
        inherited: Any = None
        while node is not None and inherited is None:
            node = node.get_object()
            inherited = node.get("/Resources")
            node = node.get("/Parent")
        page[NameObject("/Resources")] = (
            DictionaryObject(inherited.get_object()) if inherited is not None else DictionaryObject()
        )
    return page["/Resources"].get_object()


def _append_content(writer: PdfWriter, page: Any, ops: Iterable[str]) -> None:
    """Draw ``ops`` over the page: the original streams stay byte-identical, wrapped in q/Q."""
    body = "\n".join(ops)
    if not body:
        return
    r, g, b = INK
    ours = f"q {_num(r)} {_num(g)} {_num(b)} rg {_num(r)} {_num(g)} {_num(b)} RG\n{body}\nQ\n"
    contents = page.get("/Contents")
    original: list[PdfObject] = []
    if contents is not None:
        resolved = contents.get_object()
        if isinstance(resolved, ArrayObject):
            original = list(resolved)
        else:
            original = [contents if isinstance(contents, IndirectObject) else writer._add_object(resolved)]
    page[NameObject("/Contents")] = ArrayObject(
        [_stream(writer, b"q\n"), *original, _stream(writer, b"\nQ\n" + ours.encode("ascii"))]
    )


# --- paraf --------------------------------------------------------------------------


def stamp_paraf(pdf: bytes, marks: Sequence[ParafMark], box: ParafBox, *, tz: tzinfo | None = None) -> bytes:
    """The clean revision ``pdf`` with ``marks`` on every page and in the signature page's Paraf table.

    Always start from the clean revision PDF and pass ALL marks so far: a PDF that already
    carries paraf marks, or any signature, is refused (RuleViolation).  ``tz`` converts each
    mark's (timezone-aware) ``waktu`` to the region's clock before its date is printed (see
    ``Profile.tz``); without it the zone ``waktu`` carries is used.  Same input, same bytes.
    """
    ordered = sorted(marks, key=lambda m: m.urutan)
    if not ordered:
        raise InvalidInput("Tidak ada paraf untuk dibubuhkan.", reason="no_marks")
    if len({m.urutan for m in ordered}) != len(ordered) or ordered[0].urutan < 1:
        raise InvalidInput(
            "Urutan paraf harus unik dan dimulai dari 1.", reason="bad_order", urutan=[m.urutan for m in marks]
        )
    ordered = [m if m.inisial.strip() else _with_inisial(m) for m in ordered]
    reader = _open(pdf)
    _refuse_signed(reader, "paraf")
    for page in reader.pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        if FONT_RESOURCE in fonts.get_object():
            raise RuleViolation(
                "PDF ini sudah berisi paraf; paraf dibubuhkan pada PDF revisi yang bersih.", reason="already_stamped"
            )
    with pdfplumber.open(io.BytesIO(pdf)) as plumber:
        table = _find_paraf_table(plumber)
    slots = max(SLOTS, ordered[-1].urutan)
    texts: list[str] = []
    per_page: dict[int, list[str]] = {}
    for index, page in enumerate(reader.pages):
        left, bottom, right, top = _page_box(page)
        x0, y0, x1, y1 = box.rect(right - left, top - bottom)
        x0, y0, x1, y1 = x0 + left, y0 + bottom, x1 + left, y1 + bottom
        step = (x1 - x0) / slots
        ops: list[str] = []
        for mark in ordered:
            sx = x0 + (mark.urutan - 1) * step
            ops += _margin_mark(mark, (sx, y0, sx + step, y1), tz)
        per_page[index] = ops
    if table is not None and len(table.cells) >= ordered[-1].urutan:
        for mark in ordered:
            per_page[table.page] += _table_mark(mark, table.cells[mark.urutan - 1], tz)
    else:
        last = len(reader.pages) - 1
        per_page[last] += _fallback_table(ordered, _page_box(reader.pages[last]), box, tz)
    for mark in ordered:
        texts += [mark.inisial, mark.singkatan, f"{mark.urutan}. ", _tanggal(mark.waktu, tz)]
    codes = frozenset(b for t in [*texts, "Paraf", "\u2026"] for b in _encode(t))
    salt = pdf + repr([(m.urutan, m.nama, m.singkatan, m.inisial, m.waktu.isoformat()) for m in ordered]).encode()
    writer = _writer(reader, salt + repr(box).encode())
    font = _font_object(writer, codes)
    for index, page in enumerate(writer.pages):
        resources = _resources(page)
        if "/Font" not in resources:
            resources[NameObject("/Font")] = DictionaryObject()
        resources["/Font"].get_object()[NameObject(FONT_RESOURCE)] = font
        _append_content(writer, page, per_page[index])
    return _finish(writer)


def _with_inisial(mark: ParafMark) -> ParafMark:
    return ParafMark(mark.urutan, mark.nama, mark.jabatan, mark.singkatan, inisial_dari(mark.nama), mark.waktu)


def _fallback_table(marks: Sequence[ParafMark], page: Rect, box: ParafBox, tz: tzinfo | None) -> list[str]:
    """A small ruled "Paraf" table near the bottom of the page, on the side away from the margin box."""
    columns = marks[-1].urutan
    cell_w, cell_h, head_h = 46.0, 36.0, 12.0
    width = columns * cell_w
    margin = 56.7  # 2 cm
    left, bottom, right, _top = page
    x0 = right - margin - width if box.corner.endswith("left") else left + margin
    y0 = bottom + (box.y if box.corner.startswith("bottom") else 24.0)
    ops = [_frame((x0, y0, x0 + width, y0 + cell_h + head_h))]
    ops.append(f"0.5 w {_num(x0)} {_num(y0 + cell_h)} m {_num(x0 + width)} {_num(y0 + cell_h)} l S")
    for i in range(1, columns):
        x = x0 + i * cell_w
        ops.append(f"0.5 w {_num(x)} {_num(y0)} m {_num(x)} {_num(y0 + cell_h)} l S")
    ops += _text_block([_Line(b"Paraf", 7)], (x0, y0 + cell_h, x0 + width, y0 + cell_h + head_h))
    for mark in marks:
        cx = x0 + (mark.urutan - 1) * cell_w
        ops += _table_mark(mark, (cx, y0, cx + cell_w, y0 + cell_h), tz)
    return ops


# --- signature fields ---------------------------------------------------------------


def _pihak(urutan: int) -> str:
    return _PIHAK.get(urutan, f"pihak ke-{urutan}")


def _name_pattern(nama: str) -> str:
    """Regex for a printed name: any run of spaces between words, straight or curly apostrophes."""
    words = []
    for word in nama.split():
        words.append("".join("['\u2019\u2018\u02bc`]" if c in "'\u2019\u2018\u02bc`" else re.escape(c) for c in word))
    return r"\s+".join(words)


def _check_slots(slots: Sequence[SignatureSlot]) -> None:
    names = [s.field_name for s in slots]
    if not slots:
        raise InvalidInput("Tidak ada penanda tangan untuk disiapkan kolom tanda tangannya.", reason="no_slots")
    for slot in slots:
        if not _FIELD_NAME.fullmatch(slot.field_name):
            raise InvalidInput(
                f"Nama kolom tanda tangan '{slot.field_name}' hanya boleh huruf, angka, '_' dan '-'.",
                field=slot.field_name,
            )
        if not slot.nama.strip():
            raise InvalidInput(f"Nama penanda tangan {_pihak(slot.pihak_urutan)} kosong.", field=slot.field_name)
    if len(set(names)) != len(names):
        raise InvalidInput("Nama kolom tanda tangan harus unik.", fields=names)


def find_signature_boxes(
    pdf: bytes, slots: Sequence[SignatureSlot]
) -> dict[str, tuple[int, float, float, float, float]]:
    """Where each slot's field goes: (page index, x1, y1, x2, y2) in PDF points.

    The signer's name is searched on the pages from the last one backwards (the signature
    block closes the naskah; the opening paragraph may repeat the names) and, on that page,
    its lowest occurrence is taken.  The field (about 170 x 60 pt) is centred over the name
    and sits just above it, below anything printed above the name within its width: text
    (the jabatan) and ruled graphics alike (the meterai box), so a signature never covers
    either; it is lowered (down to 24 pt high) when the space is short, and kept inside the page.
    """
    _check_slots(slots)
    found: dict[str, tuple[int, float, float, float, float]] = {}
    with pdfplumber.open(io.BytesIO(pdf)) as plumber:
        printed_cache: dict[int, list[dict[str, Any]]] = {}
        for slot in slots:
            pattern = _name_pattern(slot.nama)
            for index in range(len(plumber.pages) - 1, -1, -1):
                page = plumber.pages[index]
                matches = page.search(pattern, regex=True, case=False, return_chars=False)
                if not matches:
                    continue
                name = max(matches, key=lambda m: (m["top"], m["x0"]))
                if index not in printed_cache:
                    printed_cache[index] = _printed(page)
                found[slot.field_name] = (index, *_field_rect(name, printed_cache[index], page))
                break
            else:
                raise InvalidInput(
                    f"Nama penanda tangan {_pihak(slot.pihak_urutan)} '{slot.nama}' tidak ditemukan pada "
                    "halaman tanda tangan. Periksa bahwa nama tercetak sama persis di blok tanda tangan.",
                    field=slot.field_name,
                    nama=slot.nama,
                    reason="name_not_found",
                )
    return found


def _printed(page: Any) -> list[dict[str, Any]]:
    """Everything printed on a page that a signature must not cover: words and ruled lines/boxes."""
    words = [{k: w[k] for k in ("x0", "x1", "top", "bottom")} for w in page.extract_words()]
    edges = [{k: float(e[k]) for k in ("x0", "x1", "top", "bottom")} for e in page.edges]
    return words + edges


def _field_rect(name: dict[str, Any], printed: list[dict[str, Any]], page: Any) -> Rect:
    page_w, page_h = float(page.width), float(page.height)
    width = min(FIELD_WIDTH, page_w)
    cx = (name["x0"] + name["x1"]) / 2
    fx0 = min(max(cx - width / 2, 0.0), page_w - width)
    fx1 = fx0 + width
    gap_bottom = name["top"] - 2  # just above the name (top-down coordinates)
    above = [w["bottom"] for w in printed if w["bottom"] <= name["top"] - 1 and w["x1"] > fx0 and w["x0"] < fx1]
    ceiling = max(above, default=0.0) + 2
    height = min(FIELD_HEIGHT, max(FIELD_MIN_HEIGHT, gap_bottom - ceiling))
    top = max(gap_bottom - height, 0.0)
    bottom = min(top + height, page_h)
    return _to_pdf((fx0, top, fx1, bottom), page_h)


def prepare_signature_fields(pdf: bytes, slots: Sequence[SignatureSlot]) -> bytes:
    """``pdf`` with one empty visible signature field per slot, above each signer's printed name.

    Done once, on the fully initialled PDF, before anyone signs.  Refuses a PDF that is
    already signed (the rewrite would break the signature) or that has a field of the same
    name.  Same input, same bytes.

    The document info loses its ``/Producer`` here (the XMP keeps LibreOffice's): every
    pyHanko update sets the XMP producer to "pyHanko x.y" but APPENDS "; pyHanko x.y" to an
    info producer it finds, which would leave the signed original's Info and XMP disagreeing
    (PDF/A-2b requires them equal); with none to append to, both say the same.
    """
    _check_slots(slots)
    reader = _open(pdf)
    _refuse_signed(reader, "menyiapkan kolom tanda tangan")
    existing = {str(f.get("/T")) for f in _fields(reader)}
    clash = [s.field_name for s in slots if s.field_name in existing]
    if clash:
        raise RuleViolation(
            f"Kolom tanda tangan {', '.join(clash)} sudah ada pada PDF ini.", fields=clash, reason="field_exists"
        )
    boxes = find_signature_boxes(pdf, slots)
    writer = _writer(reader, pdf + repr([(s.field_name, s.pihak_urutan, s.nama) for s in slots]).encode())
    if writer._info is not None:
        writer._info.get_object().pop(NameObject("/Producer"), None)
    root = writer.root_object
    if "/AcroForm" not in root:
        root[NameObject("/AcroForm")] = writer._add_object(DictionaryObject({NameObject("/Fields"): ArrayObject()}))
    form = root["/AcroForm"].get_object()
    if "/Fields" not in form:
        form[NameObject("/Fields")] = ArrayObject()
    # As pyHanko's append_signature_field does: without /SigFlags here, the first signature
    # adds the key and pyHanko's difference analysis reports the AcroForm as modified.
    form.setdefault(NameObject("/SigFlags"), NumberObject(1))
    fields = form["/Fields"].get_object()
    for slot in slots:
        index, x1, y1, x2, y2 = boxes[slot.field_name]
        page = writer.pages[index]
        w, h = x2 - x1, y2 - y1
        appearance = DecodedStreamObject()
        appearance.set_data(b"")
        appearance.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): ArrayObject([FloatObject(0), FloatObject(0), FloatObject(w), FloatObject(h)]),
                NameObject("/Resources"): DictionaryObject(),
            }
        )
        widget = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Widget"),
                NameObject("/FT"): NameObject("/Sig"),
                NameObject("/T"): TextStringObject(slot.field_name),
                NameObject("/TU"): TextStringObject(f"Tanda tangan {_pihak(slot.pihak_urutan)}: {slot.nama}"),
                NameObject("/F"): NumberObject(4),  # Print: PDF/A requires printable annotations
                NameObject("/Rect"): ArrayObject(FloatObject(round(v, 2)) for v in (x1, y1, x2, y2)),
                NameObject("/P"): page.indirect_reference,
                NameObject("/AP"): DictionaryObject({NameObject("/N"): writer._add_object(appearance)}),
            }
        )
        ref = writer._add_object(widget)
        if "/Annots" not in page:
            page[NameObject("/Annots")] = ArrayObject()
        page["/Annots"].get_object().append(ref)
        fields.append(ref)
    return _finish(writer)


def lock_signature_field(pdf: bytes, field_name: str, attachments: Sequence[tuple[str, bytes]] = ()) -> bytes:
    """Give one empty signature field a ``/Lock`` (all fields, ``/P 1``) before any signature.

    The last signature of a plan must lock the document, and pyHanko only accepts a lock that
    came with the field: added later it makes the earlier signatures look modified. The plan
    decides who signs last, so it calls this while the document is still unsigned.

    ``attachments`` (file name, PDF bytes) are embedded in the same rewrite, e.g. the signed
    Surat Kuasa a delegate signs under: every signature then covers them.
    """
    reader = PdfReader(io.BytesIO(pdf))
    _refuse_signed(reader, "mengunci kolom tanda tangan")
    salt = pdf + b"lock:" + field_name.encode() + b"".join(hashlib.sha256(d).digest() for _, d in attachments)
    writer = _writer(reader, salt)
    found = False
    for annots in (page.get("/Annots") for page in writer.pages):
        for ref in annots or []:
            field = ref.get_object()
            if field.get("/FT") == "/Sig" and field.get("/T") == field_name:
                field[NameObject("/Lock")] = DictionaryObject(
                    {
                        NameObject("/Type"): NameObject("/SigFieldLock"),
                        NameObject("/Action"): NameObject("/All"),
                        NameObject("/P"): NumberObject(1),
                    }
                )
                found = True
    if not found:
        raise InvalidInput(f"Kolom tanda tangan '{field_name}' tidak ada pada PDF final.", field=field_name)
    for name, data in attachments:
        if not data.startswith(b"%PDF-"):
            raise InvalidInput(f"Lampiran '{name}' bukan PDF.", attachment=name)
        embedded = writer.add_attachment(name, data)
        embedded.subtype = NameObject("/application/pdf")  # written as /application#2Fpdf
        embedded.alternative_name = TextStringObject(name)
        embedded.description = TextStringObject(name.removesuffix(".pdf").replace("-", " ").capitalize())
    return _finish(writer)
