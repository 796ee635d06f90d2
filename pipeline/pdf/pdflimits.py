"""Limits on a PDF someone else wrote, checked before any pyHanko/pypdf analysis of it.

Why: the analysis of a signed PDF (pyHanko's validation and difference analysis, our own walks
in ``pdfread``) grows with what the file holds.  A 28 MB PDF with 400,000 form fields took 57 s
on ``/verify`` and left the server at 1.36 GB; a page tree whose 100,000 leaves are one page
object is a few KB.  A real naskah has tens of pages, a handful of signature fields, a few
thousand objects and a few dozen incremental updates (each signature, its validation data, each
document timestamp), so the defaults below refuse nothing real.

Two steps, both cheap and both bounded whatever the file says:

* :func:`check_pdf` reads only bytes (no parser): the size (413), the number of incremental
  updates (``%%EOF`` markers) and of objects (``N G obj`` headers, the objects packed in object
  streams, the largest ``/Size`` a cross-reference section claims), and the pages a page tree
  declares (its ``/Count``).  It runs in the server's
  process, before the database is asked anything about the file (``pipeline.sign.verification``
  hashes the bytes up to each ``%%EOF``).
* :func:`check_structure` opens the file with the reader the analysis uses and counts pages and
  form fields, each walk stopped as soon as the count passes its limit (a page tree that loops,
  or nests deeper than :data:`MAX_TREE_DEPTH`, is refused too).  It runs first thing in the
  bounded worker (``pipeline.sign.pdfworker``), where memory and time are limited.

Refusals are ``DocumentTooLarge`` (413, the size) or ``DocumentRejected`` (422, the structure) with
an Indonesian message naming the count and the limit, ``detail.reason`` ``pdf_too_large``,
``pdf_too_many_revisions``, ``pdf_too_many_objects``, ``pdf_too_many_pages``,
``pdf_too_many_fields`` or ``pdf_too_deep``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pyhanko.pdf_utils import generic

from pipeline.errors import DocumentRejected, DocumentTooLarge
from pipeline.pdf.pdfread import READ_ERRORS, open_reader

__all__ = ["MAX_TREE_DEPTH", "PdfCounts", "PdfLimits", "check_pdf", "check_structure"]

MB = 1024 * 1024
#: Page and field trees of real files are 1-4 levels deep; anything near this is built to hurt.
MAX_TREE_DEPTH = 64

_SIZE = re.compile(rb"/Size[ \t\r\n\f\x00]*(\d{1,12})")
_OBJSTM = re.compile(rb"/ObjStm\b")
_N = re.compile(rb"/N[ \t\r\n\f\x00]+(\d{1,12})")
_COUNT = re.compile(rb"/Count[ \t\r\n\f\x00]+(\d{1,12})")
_PAGES = re.compile(rb"/Type[ \t\r\n\f\x00]*/Pages\b")


@dataclass(frozen=True)
class PdfLimits:
    """What a PDF sent to us (a counterparty's signed return, a file to verify) may hold."""

    max_bytes: int = 50 * MB
    """Size of the file (``NASKAH_PDF_MAX_MB``): a signed naskah with its validation data is 1-5 MB."""
    max_pages: int = 500
    """Pages (``NASKAH_PDF_MAX_PAGES``), counted as a viewer shows them (a page object listed twice counts twice)."""
    max_objects: int = 200_000
    """Objects (``NASKAH_PDF_MAX_OBJECTS``): a 40-page signed naskah has a few thousand."""
    max_fields: int = 500
    """Form fields and their widgets (``NASKAH_PDF_MAX_FIELDS``): a naskah has a few signature fields."""
    max_revisions: int = 100
    """Incremental updates (``%%EOF`` markers): each signature adds 1-3, each archive timestamp one."""


@dataclass(frozen=True)
class PdfCounts:
    """What :func:`check_pdf` counted, for logs and reports."""

    size: int
    revisions: int
    objects: int


def _ribuan(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _mb(n: int) -> str:
    return f"{n / MB:.1f}".removesuffix(".0").replace(".", ",") + " MB"


def _too_much(what: str, shown: str, limit: int, reason: str, **detail: object) -> DocumentRejected:
    return DocumentRejected(
        f"Berkas PDF berisi {shown} {what}, melebihi batas {_ribuan(limit)} {what}; berkas seperti ini tidak "
        "diperiksa. Minta pengirim mengirim PDF naskah yang biasa (hasil tanda tangan elektronik, bukan pindaian "
        "atau formulir besar).",
        reason=reason,
        limit=limit,
        **detail,
    )


def _objects(data: bytes) -> int:
    """An upper bound of the objects in ``data``, from bytes alone (no parsing).

    ``N G obj`` headers are counted as occurrences of ``obj`` that are not the end of an ``endobj``
    (a stray ``obj`` inside a stream only over-counts); objects packed into object streams are the
    ``/N`` of each ``/ObjStm`` dictionary; a cross-reference section that claims a larger ``/Size``
    is taken at its word (a writer that numbers objects that high has that many or is lying).
    """
    headers = data.count(b"obj") - data.count(b"endobj")
    packed = 0
    for found in _OBJSTM.finditer(data):
        window = data[max(0, found.start() - 200) : found.end() + 200]
        n = _N.search(window)
        if n is not None:
            packed += int(n.group(1))
    claimed = max((int(m.group(1)) for m in _SIZE.finditer(data)), default=0)
    return max(headers + packed, claimed - 1)


def _declared_pages(data: bytes, limit: int) -> int:
    """The largest ``/Count`` over ``limit`` that a page tree node (an object with ``/Type /Pages``)
    declares, from bytes alone; 0 when none does.  Outlines have a ``/Count`` too: only a count in
    the same object as ``/Type /Pages`` is taken.  At most 1,000 such counts are looked at."""
    found = 0
    for seen, match in enumerate(_COUNT.finditer(data)):
        if seen >= 1_000:
            break
        count = int(match.group(1))
        if count <= max(found, limit):
            continue
        start = data.rfind(b"obj", 0, match.start())
        end = data.find(b"endobj", match.end())
        if _PAGES.search(data, max(start, 0), end if end >= 0 else len(data)):
            found = count
    return found


def check_pdf(data: bytes, limits: PdfLimits) -> PdfCounts:
    """Refuse a PDF over the size, revision or object limit, from its bytes alone (milliseconds)."""
    if len(data) > limits.max_bytes:
        raise DocumentTooLarge(
            f"Berkas PDF berukuran {_mb(len(data))}, melebihi batas {_mb(limits.max_bytes)}.",
            reason="pdf_too_large",
            size=len(data),
            limit=limits.max_bytes,
        )
    revisions = data.count(b"%%EOF")
    if revisions > limits.max_revisions:
        raise _too_much(
            "pembaruan (revisi)", _ribuan(revisions), limits.max_revisions, "pdf_too_many_revisions", count=revisions
        )
    objects = _objects(data)
    if objects > limits.max_objects:
        raise _too_much("objek", _ribuan(objects), limits.max_objects, "pdf_too_many_objects", count=objects)
    declared = _declared_pages(data, limits.max_pages)
    if declared > limits.max_pages:  # an honest page tree says so at its root; a lying one is walked later
        raise _too_much("halaman", _ribuan(declared), limits.max_pages, "pdf_too_many_pages", count=declared)
    return PdfCounts(size=len(data), revisions=revisions, objects=objects)


def _too_deep(where: str) -> DocumentRejected:
    return DocumentRejected(
        f"Struktur {where} berkas PDF bertingkat terlalu dalam atau berulang; berkas seperti ini tidak diperiksa. "
        "Minta pengirim mengirim PDF naskah yang biasa.",
        reason="pdf_too_deep",
        where=where,
        limit=MAX_TREE_DEPTH,
    )


def _resolve(value: generic.PdfObject) -> generic.PdfObject:
    return value.get_object() if isinstance(value, generic.IndirectObject) else value


def _raw_items(array: generic.ArrayObject) -> Iterator[generic.PdfObject]:
    """The items of ``array`` last to first, *not* resolved (pyHanko's own iteration resolves every
    reference: 100,000 kids that are one page cost seconds that way, milliseconds this way)."""
    return reversed(list(list.__iter__(array)))  # list's own iterator: the stored items as they are


def _count_pages(root: generic.DictionaryObject, limit: int) -> int:
    """Leaves of the page tree as a viewer walks it, stopped at ``limit + 1``."""
    pages = 0
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[generic.PdfObject, int]] = [(root.raw_get("/Pages"), 0)] if "/Pages" in root else []
    while stack:
        raw, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            raise _too_deep("halaman")
        node = _resolve(raw)
        if not isinstance(node, generic.DictionaryObject):
            continue
        kids = node.get("/Kids") if "/Kids" in node else None
        if kids is None:  # a leaf: a page
            pages += 1
            if pages > limit:
                break
            continue
        if isinstance(raw, generic.IndirectObject):  # an inner node seen twice: the tree loops
            key = (raw.idnum, raw.generation)
            if key in seen:
                raise _too_deep("halaman")
            seen.add(key)
        if isinstance(kids, generic.ArrayObject):
            stack.extend((kid, depth + 1) for kid in _raw_items(kids))
    return pages


def _count_fields(root: generic.DictionaryObject, limit: int) -> int:
    """Nodes of the AcroForm field tree (fields and their widgets), stopped at ``limit + 1``."""
    form = _resolve(root.raw_get("/AcroForm")) if "/AcroForm" in root else None
    if not isinstance(form, generic.DictionaryObject) or "/Fields" not in form:
        return 0
    fields = _resolve(form.raw_get("/Fields"))
    if not isinstance(fields, generic.ArrayObject):
        return 0
    count = 0
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[generic.PdfObject, int]] = [(f, 0) for f in _raw_items(fields)]
    while stack:
        raw, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            raise _too_deep("formulir")
        if isinstance(raw, generic.IndirectObject):
            key = (raw.idnum, raw.generation)
            if key in seen:
                raise _too_deep("formulir")
            seen.add(key)
        count += 1
        if count > limit:
            break
        node = _resolve(raw)
        if isinstance(node, generic.DictionaryObject) and "/Kids" in node:
            kids = node.get("/Kids")
            if isinstance(kids, generic.ArrayObject):
                stack.extend((kid, depth + 1) for kid in _raw_items(kids))
    return count


def check_structure(data: bytes, limits: PdfLimits) -> tuple[int, int]:
    """(pages, form fields) of ``data``, read as the analysis reads it; refused over the limits.

    Unreadable or encrypted bytes raise what the analysis would (``pdfread.refuse_unreadable``).
    """
    reader = open_reader(data)
    try:
        root = reader.root
        pages = _count_pages(root, limits.max_pages)
        fields = _count_fields(root, limits.max_fields)
    except RecursionError:  # an object nested thousands deep, met while resolving
        raise _too_deep("objek") from None
    except READ_ERRORS:  # damaged here: the analysis says how, in its own words
        return 0, 0
    if pages > limits.max_pages:
        raise _too_much("halaman", f"lebih dari {_ribuan(limits.max_pages)}", limits.max_pages, "pdf_too_many_pages")
    if fields > limits.max_fields:
        raise _too_much(
            "isian formulir", f"lebih dari {_ribuan(limits.max_fields)}", limits.max_fields, "pdf_too_many_fields"
        )
    return pages, fields
