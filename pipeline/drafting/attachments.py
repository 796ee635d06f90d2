"""Attachments (an usulan's letter scan, a KAK, a feasibility study, the telaah's files; a monev report's files):
checked like every upload before anything is stored.

The type is decided by the bytes (magic number), never by the file name: PDF, DOCX, PNG or JPEG.

* DOCX: ``pipeline.drafting.docxcheck.check_docx`` (size, macros and ActiveX, encryption, zip bombs, DTDs);
* PDF: ``pipeline.pdf.pdflimits`` (size, revisions, objects, pages, fields) and then refused when it
  carries active content a reader would run or open: JavaScript, launch actions, embedded files,
  XFA forms, RichMedia.  A KAK is read, never run;
* PNG/JPEG: decoded completely by Pillow (a decompression bomb, a truncated or fake image is refused).

Every refusal is a ``DocumentRejected`` / ``DocumentTooLarge`` with an Indonesian message naming the
file and a stable ``detail.reason``.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError
from pyhanko.pdf_utils import generic

from pipeline.drafting.docxcheck import DocxLimits, check_docx
from pipeline.drafting.templates import image_type
from pipeline.errors import DocumentRejected, DocumentTooLarge, InvalidInput
from pipeline.pdf.pdflimits import PdfLimits, check_pdf, check_structure
from pipeline.pdf.pdfread import READ_ERRORS, open_reader
from pipeline.textcheck import text_problem

__all__ = ["MAX_IMAGE_BYTES", "Checked", "check_attachment", "safe_filename", "shown_name"]

MB = 1024 * 1024
MAX_IMAGE_BYTES = 10 * MB
"""A scanned page as PNG/JPEG; a KAK of many pages comes as PDF."""
MAX_IMAGE_SIDE = 12_000
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXTENSIONS = {"application/pdf": "pdf", DOCX_TYPE: "docx", "image/png": "png", "image/jpeg": "jpg"}

#: PDF names of content that runs or opens something (ISO 32000-2 12.6 actions, 7.11 embedded files).
_ACTIVE = {
    b"/JavaScript": "javascript",
    b"/JS": "javascript",
    b"/Launch": "launch",
    b"/EmbeddedFile": "embedded_file",
    b"/EmbeddedFiles": "embedded_file",
    b"/RichMedia": "richmedia",
    b"/XFA": "xfa",
    b"/ImportData": "import_data",
    b"/SubmitForm": "submit_form",
}
_NAME = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA|ImportData|SubmitForm)(?![A-Za-z0-9])")
_ACTIVE_LABEL = {
    "javascript": "JavaScript",
    "launch": "perintah menjalankan program (Launch)",
    "embedded_file": "berkas tersisip (embedded file)",
    "richmedia": "media aktif (RichMedia)",
    "xfa": "formulir XFA",
    "import_data": "perintah impor data",
    "submit_form": "perintah kirim formulir",
}


@dataclass(frozen=True)
class Checked:
    """An accepted attachment: its type, the extension it is stored with, and a safe name."""

    content_type: str
    extension: str
    filename: str


def safe_filename(name: str | None, extension: str) -> str:
    """The name a person gave, without folders or control characters, ending in the real extension."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    base = "".join(ch for ch in base if ch.isprintable())[:200] or "lampiran"
    if text_problem(base) is not None:
        base = "lampiran"
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem or 'lampiran'}.{extension}"


def shown_name(name: str | None) -> str:
    """The name a person gave (without folders or control characters), as refusals quote it: the
    sender's own file name, extension included, so the person knows which file is meant."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    base = "".join(ch for ch in base if ch.isprintable())[:200]
    return base if base and text_problem(base) is None else "lampiran"


def _active_problem(data: bytes) -> str | None:
    """The first kind of active content in ``data``: in the bytes (plain objects), or in the catalog,
    pages and annotations as the reader resolves them (names packed in compressed object streams)."""
    found = _NAME.search(data)
    if found is not None:
        return _ACTIVE[b"/" + found.group(1)]
    try:
        reader = open_reader(data)
        root = reader.root
        names = root.get("/Names")
        if isinstance(names, generic.DictionaryObject):
            for key in ("/JavaScript", "/EmbeddedFiles"):
                if key in names:
                    return _ACTIVE[key.encode()]
        acroform = root.get("/AcroForm")
        if isinstance(acroform, generic.DictionaryObject) and "/XFA" in acroform:
            return "xfa"
        actions = [root.get("/OpenAction"), root.get("/AA")]
        for page in _pages(root):
            actions.append(page.get("/AA"))
            annots = page.get("/Annots")
            if isinstance(annots, generic.ArrayObject):
                for annot in list(annots)[:500]:
                    annot = annot.get_object() if hasattr(annot, "get_object") else annot
                    if isinstance(annot, generic.DictionaryObject):
                        if annot.get("/Subtype") in ("/FileAttachment", "/RichMedia"):
                            return "embedded_file" if annot.get("/Subtype") == "/FileAttachment" else "richmedia"
                        actions.append(annot.get("/A"))
        for action in actions:
            kind = _action_kind(action)
            if kind is not None:
                return kind
    except InvalidInput:
        raise
    except (*READ_ERRORS, RecursionError):
        return None  # unreadable parts: the structure check has refused what cannot be read at all
    return None


def _pages(root: generic.DictionaryObject, limit: int = 2_000) -> list[generic.DictionaryObject]:
    out: list[generic.DictionaryObject] = []
    todo = [root.get("/Pages")]
    while todo and len(out) < limit:
        node = todo.pop()
        node = node.get_object() if hasattr(node, "get_object") else node
        if not isinstance(node, generic.DictionaryObject):
            continue
        kids = node.get("/Kids")
        if isinstance(kids, generic.ArrayObject):
            todo.extend(list(kids)[:limit])
        else:
            out.append(node)
    return out


def _action_kind(action: object) -> str | None:
    action = action.get_object() if hasattr(action, "get_object") else action
    if not isinstance(action, generic.DictionaryObject):
        return None
    values = [action] if "/S" in action else [v.get_object() for v in action.values() if hasattr(v, "get_object")]
    for value in values:
        if isinstance(value, generic.DictionaryObject):
            kind = {"/JavaScript": "javascript", "/Launch": "launch", "/ImportData": "import_data"}.get(
                str(value.get("/S"))
            )
            if kind:
                return kind
    return None


def _check_pdf(data: bytes, limits: PdfLimits, filename: str) -> None:
    check_pdf(data, limits)
    try:
        check_structure(data, limits)
    except InvalidInput as exc:
        if exc.detail.get("reason") in ("pdf_unreadable", "pdf_encrypted"):
            raise DocumentRejected(
                f"Lampiran '{filename}': {exc.message}", reason=exc.detail["reason"], filename=filename
            ) from None
        raise
    problem = _active_problem(data)
    if problem is not None:
        raise DocumentRejected(
            f"Lampiran '{filename}' ditolak: PDF berisi {_ACTIVE_LABEL[problem]}. Lampiran hanya dibaca, tidak "
            "dijalankan; minta pengirim mengirim PDF biasa (cetak ulang ke PDF tanpa isi aktif).",
            reason="pdf_active_content",
            content=problem,
            filename=filename,
        )


def _check_image(data: bytes, filename: str) -> None:
    if len(data) > MAX_IMAGE_BYTES:
        raise DocumentTooLarge(
            f"Gambar '{filename}' berukuran {len(data) / MB:.1f} MB, melebihi batas {MAX_IMAGE_BYTES // MB} MB; "
            "kirim pindaian banyak halaman sebagai PDF.",
            reason="too_large",
            size=len(data),
            limit=MAX_IMAGE_BYTES,
            filename=filename,
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if max(width, height) > MAX_IMAGE_SIDE:
                    raise DocumentRejected(
                        f"Gambar '{filename}' berukuran {width} x {height} piksel, melebihi {MAX_IMAGE_SIDE} piksel "
                        "per sisi.",
                        reason="bad_size",
                        filename=filename,
                    )
                image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise DocumentRejected(
            f"Gambar '{filename}' rusak dan tidak dapat dibaca; simpan ulang sebagai PNG, JPEG atau PDF.",
            reason="unreadable",
            filename=filename,
            diagnostic=f"{type(exc).__name__}: {exc}",
        ) from None
    except Image.DecompressionBombWarning:
        raise DocumentRejected(
            f"Ukuran gambar '{filename}' tidak wajar.", reason="bad_size", filename=filename
        ) from None


def check_attachment(data: bytes, filename: str | None, *, docx_limits: DocxLimits, pdf_limits: PdfLimits) -> Checked:
    """The type of an acceptable attachment (by its bytes), or a refusal naming the file and why."""
    shown = shown_name(filename)
    if not data:
        raise DocumentRejected(f"Lampiran '{shown}' kosong.", reason="empty", filename=shown)
    if data[:1024].lstrip().startswith(b"%PDF-") or data.startswith(b"%PDF-"):
        _check_pdf(data, pdf_limits, shown)
        mime = "application/pdf"
    elif data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        check_docx(data, docx_limits, filename=shown)
        mime = DOCX_TYPE
    elif (image := image_type(data)) is not None:
        _check_image(data, shown)
        mime = image
    else:
        raise DocumentRejected(
            f"Lampiran '{shown}' bukan PDF, dokumen Word (.docx), PNG atau JPEG; jenis berkas lain tidak diterima.",
            reason="unsupported_type",
            filename=shown,
        )
    extension = EXTENSIONS[mime]
    return Checked(mime, extension, safe_filename(filename, extension))
