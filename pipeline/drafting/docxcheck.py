"""Is an uploaded file a safe, plain Word document?  Decided before anything is stored.

An upload comes from outside and is later opened by LibreOffice, python-docx and
people's Word, and kept forever as a legal record.  So it is refused, with a reason a
person can act on, when it is not a ZIP, not WordprocessingML, carries macros or ActiveX,
is encrypted, has entries that could escape a directory, is a zip bomb, is corrupt, or
python-docx cannot open it.

Declared sizes in a ZIP are not trusted: every entry is decompressed once, in chunks,
counting the bytes really produced against the limits (which also checks every CRC).
Each rejection carries a stable ``detail["reason"]`` for programs and tests.

A DTD (``<!DOCTYPE``, ``<!ENTITY``: entity bombs, external entities) is looked for in the text
an XML parser would read, not only in the bytes: an XML part may be UTF-16 or UTF-32 (a BOM,
or ``<?xml ... encoding="UTF-16"?>`` in UTF-16 itself), where ``<!DOCTYPE`` is no ASCII byte
string.  Each XML part is decoded as XML parsers detect it (XML 1.0 Appendix F: BOM, then the
first bytes, then the declaration) and checked as text, besides the bytes; a part in an
encoding we do not decode (UTF-7, EBCDIC, anything not UTF-8/16/32 or an ASCII-compatible
single-byte code page) is refused, since a DTD could hide in it.
"""

from __future__ import annotations

import codecs
import functools
import io
import logging
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import docx
from lxml import etree

from pipeline.errors import DocumentRejected, DocumentTooLarge

__all__ = ["DocxLimits", "check_docx"]

log = logging.getLogger(__name__)

MB = 1024 * 1024
WML_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")  # stream name inside an encrypted OOXML file
RATIO_MIN_SIZE = 1 * MB  # small entries may compress extremely well (empty styles); only big ones count
CHUNK = 64 * 1024
CONTENT_TYPES_MAX = 1 * MB
MACRO_NAMES = {
    "vbaproject.bin",
    "vbadata.xml",
    "vbaprojectsignature.bin",
    "vbaprojectsignatureagile.bin",
    "vbaprojectsignaturev3.bin",
}
MACRO_CONTENT_MARKERS = ("macroenabled", "vbaproject", "activex", "vbadata")
XML_SUFFIXES = (".xml", ".rels", ".vml")
DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
TEXT_DTD_MARKERS = ("<!DOCTYPE", "<!ENTITY")
#: Byte order marks, longest first (UTF-32 LE starts like UTF-16 LE).
BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
#: Encodings recognised from the first bytes without a BOM (XML 1.0 Appendix F).
HEADS = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
#: First bytes of encodings we do not decode: EBCDIC "<?xm", UCS-4 in unusual byte orders.
FOREIGN_HEADS = (b"\x4c\x6f\xa7\x94", b"\x00\x00<\x00", b"\x00<\x00\x00")
#: Declared encodings of an ASCII-compatible part that are decoded (single-byte code pages, UTF-8; a
#: declared UTF-16/32 on 8-bit bytes is read as UTF-8, as parsers do when the bytes contradict it).
ASCII_COMPATIBLE = re.compile(
    r"(utf-?8|utf-?16(le|be)?|utf-?32(le|be)?|(us-)?ascii|iso[-_]?8859[-_]?\d{1,2}|latin-?1|(windows|cp)-?125\d)",
    re.IGNORECASE,
)
DECLARED_ENCODING = re.compile(rb"""^[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")

MESSAGES = {
    "not_zip": 'Berkas bukan dokumen Word (.docx). Simpan dokumen dari Word sebagai "Dokumen Word (.docx)".',
    "legacy_doc": 'Berkas berformat Word 97-2003 (.doc). Buka di Word lalu simpan sebagai "Dokumen Word (.docx)".',
    "not_docx": "Berkas ZIP ini bukan dokumen Word (.docx). Unggah dokumen Word (.docx), bukan Excel, PowerPoint "
    "atau arsip lain.",
    "macro": "Dokumen berisi makro atau kontrol ActiveX dan tidak diterima. Simpan ulang dari Word sebagai "
    '"Dokumen Word (.docx)" (bukan .docm) tanpa makro.',
    "encrypted": "Dokumen dilindungi kata sandi (terenkripsi). Hapus kata sandi di Word (File > Info > Protect "
    "Document > Encrypt with Password, kosongkan) lalu unggah ulang.",
    "zip_bomb": "Isi dokumen setelah diekstrak terlalu besar atau tidak wajar (dicurigai zip bomb).",
    "too_many_entries": "Dokumen berisi terlalu banyak bagian internal.",
    "unsafe_path": "Dokumen berisi nama bagian internal yang tidak aman.",
    "unsafe_xml": "Dokumen berisi deklarasi XML (DTD/ENTITY) yang tidak diizinkan.",
    "corrupt": "Dokumen rusak atau tidak lengkap dan tidak dapat dibuka. Simpan ulang dari Word lalu unggah lagi.",
}


@dataclass(frozen=True)
class DocxLimits:
    """Upload limits; the defaults fit any real agreement document with room to spare."""

    max_bytes: int = 20 * MB
    max_uncompressed: int = 200 * MB
    max_ratio: float = 100.0
    max_entries: int = 2000


def _reject(reason: str, filename: str | None, *, extra: str = "", **detail: Any) -> NoReturn:
    """Raise DocumentRejected; ``reason`` is the stable machine-readable part."""
    message = MESSAGES[reason] + (f" ({extra})" if extra else "")
    log.info("docx rejected: %s %s %s", reason, filename or "", detail)
    raise DocumentRejected(message, reason=reason, filename=filename, **detail)


def check_docx(data: bytes, limits: DocxLimits = DocxLimits(), *, filename: str | None = None) -> None:
    """Raise DocumentTooLarge or DocumentRejected unless ``data`` is a plain, safe DOCX."""
    size = len(data)
    if size > limits.max_bytes:
        raise DocumentTooLarge(
            f"Berkas berukuran {size / MB:.1f} MB, melebihi batas {limits.max_bytes / MB:.1f} MB.",
            reason="too_large",
            size=size,
            limit=limits.max_bytes,
            filename=filename,
        )
    if data.startswith(OLE_MAGIC):
        # An OLE2 compound file is either a password-protected OOXML document or a legacy .doc.
        if ENCRYPTED_PACKAGE in data:
            _reject("encrypted", filename)
        raise DocumentRejected(MESSAGES["legacy_doc"], reason="not_docx", filename=filename)
    if not data.startswith(b"PK\x03\x04"):
        # also refuses polyglots (a PDF or script with a ZIP appended), which zipfile would accept
        _reject("not_zip", filename)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        _reject("corrupt", filename, diagnostic=str(exc))
    with archive:
        infos = archive.infolist()
        _check_entries(infos, limits, filename)
        _check_content_types(archive, filename)
        _read_all(archive, infos, limits, filename)
    try:
        docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many types (KeyError, ValueError, lxml errors)
        _reject("corrupt", filename, diagnostic=f"{type(exc).__name__}: {exc}")


def _check_entries(infos: list[zipfile.ZipInfo], limits: DocxLimits, filename: str | None) -> None:
    """Everything the central directory alone can tell: count, names, flags, declared sizes."""
    if len(infos) > limits.max_entries:
        _reject("too_many_entries", filename, entries=len(infos), limit=limits.max_entries)
    seen: set[str] = set()
    declared_total = 0
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if (
            name.startswith(("/", "\\"))
            or "\\" in name
            or "\x00" in name
            or ".." in parts
            or (len(name) > 1 and name[1] == ":")
        ):
            _reject("unsafe_path", filename, entry=name)
        folded = name.lower()
        if folded in seen:  # OPC part names are case-insensitive; two readers could pick different ones
            _reject("corrupt", filename, extra="bagian ganda", entry=name)
        seen.add(folded)
        if info.flag_bits & 0x1:
            _reject("encrypted", filename, entry=name)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            _reject("corrupt", filename, extra="metode kompresi tidak didukung", entry=name)
        base = parts[-1].lower()
        if base in MACRO_NAMES or "activex" in folded:
            _reject("macro", filename, entry=name)
        declared_total += info.file_size
        if declared_total > limits.max_uncompressed:
            _reject("zip_bomb", filename, declared_total=declared_total, limit=limits.max_uncompressed)
        _check_ratio(name, info.file_size, info.compress_size, limits, filename)
        if info.compress_type == zipfile.ZIP_DEFLATED and info.compress_size > info.file_size * 1.01 + 64:
            # deflate never expands data by more than a few bytes per 64 KiB: the declared size is a lie,
            # the trick of bombs aimed at readers that trust it
            _reject("zip_bomb", filename, entry=name, declared_size=info.file_size, compressed_size=info.compress_size)


def _check_ratio(name: str, size: int, compressed: int, limits: DocxLimits, filename: str | None) -> None:
    if size > RATIO_MIN_SIZE and size / max(compressed, 1) > limits.max_ratio:
        _reject("zip_bomb", filename, entry=name, ratio=round(size / max(compressed, 1)), limit=limits.max_ratio)


def _check_content_types(archive: zipfile.ZipFile, filename: str | None) -> None:
    """The package must declare a WordprocessingML main document, and nothing macro-enabled."""
    try:
        info = archive.getinfo("[Content_Types].xml")
    except KeyError:
        _reject("not_docx", filename, extra="[Content_Types].xml tidak ada")
    raw = _read_entry(archive, info, CONTENT_TYPES_MAX, filename)
    _check_dtd(functools.partial(has_dtd, raw), info.filename, filename)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        _reject("corrupt", filename, entry=info.filename, diagnostic=str(exc))
    types = [
        (el.get("ContentType") or "").strip().lower() for el in root.iter(f"{{{CT_NS}}}Override", f"{{{CT_NS}}}Default")
    ]
    if any(marker in t for t in types for marker in MACRO_CONTENT_MARKERS):
        _reject("macro", filename)
    if WML_MAIN not in types:
        _reject("not_docx", filename)


class UnsupportedXmlEncoding(ValueError):
    """An XML part in an encoding the DTD check does not decode."""


def xml_encoding(head: bytes) -> tuple[str, int]:
    """(Python codec, length of the BOM) of an XML part from its first bytes (at least 4, ideally the
    whole declaration), as XML parsers detect it; :class:`UnsupportedXmlEncoding` for one we do not decode."""
    for bom, codec in BOMS:
        if head.startswith(bom):
            return codec, len(bom)
    for start, codec in HEADS:
        if head.startswith(start):
            return codec, 0
    if head.startswith(FOREIGN_HEADS):
        raise UnsupportedXmlEncoding("EBCDIC/UCS-4")
    declared = DECLARED_ENCODING.match(head) if head.startswith(b"<?xml") else None
    if declared is None:
        return "utf-8", 0
    name = declared.group(1).decode("ascii")
    if ASCII_COMPATIBLE.fullmatch(name) is None:
        raise UnsupportedXmlEncoding(name)
    if re.match(r"utf-?(16|32)", name, re.IGNORECASE):
        return "utf-8", 0  # 8-bit bytes labelled as UTF-16/32: read as UTF-8
    try:
        return codecs.lookup(name).name, 0
    except LookupError:
        raise UnsupportedXmlEncoding(name) from None


class DtdScanner:
    """Finds a DTD in an XML part fed in chunks: in its bytes (ASCII markers) and in its decoded text."""

    HEAD = 512  # bytes gathered before the encoding is decided: a BOM and a whole XML declaration

    def __init__(self) -> None:
        self._head = b""
        self._decoder: codecs.IncrementalDecoder | None = None
        self._bytes_tail = b""
        self._text_tail = ""

    def feed(self, chunk: bytes, *, final: bool = False) -> bool:
        """True when a DTD marker is found (so far); raises :class:`UnsupportedXmlEncoding`."""
        window = self._bytes_tail + chunk
        if any(marker in window for marker in DTD_MARKERS):
            return True
        self._bytes_tail = window[-16:]
        if self._decoder is None:
            self._head += chunk
            if len(self._head) < self.HEAD and not final:
                return False
            codec, bom = xml_encoding(self._head)
            self._decoder = codecs.getincrementaldecoder(codec)(errors="replace")
            chunk, self._head = self._head[bom:], b""
        text = self._text_tail + self._decoder.decode(chunk, final)
        if any(marker in text.upper() for marker in TEXT_DTD_MARKERS):
            return True
        self._text_tail = text[-16:]
        return False

    def close(self) -> bool:
        """The end of the part: decides on what is left."""
        return self.feed(b"", final=True)


def has_dtd(data: bytes) -> bool:
    """Does the whole XML part ``data`` carry a DTD, in its bytes or its decoded text?"""
    scanner = DtdScanner()
    return scanner.feed(data) or scanner.close()


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, filename: str | None) -> bytes:
    chunks: list[bytes] = []
    total = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(CHUNK):
                total += len(chunk)
                if total > cap:
                    _reject("zip_bomb", filename, entry=info.filename, limit=cap)
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
        _reject("corrupt", filename, entry=info.filename, diagnostic=str(exc))
    except RuntimeError as exc:  # zipfile: "File ... is encrypted, password required"
        _reject("encrypted", filename, entry=info.filename, diagnostic=str(exc))
    return b"".join(chunks)


def _check_dtd(found: Callable[[], bool], entry: str, filename: str | None) -> None:
    try:
        if found():
            _reject("unsafe_xml", filename, entry=entry)
    except UnsupportedXmlEncoding as exc:
        _reject("unsafe_xml", filename, extra=f"pengodean XML {exc} tidak didukung", entry=entry, encoding=str(exc))


def _read_all(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], limits: DocxLimits, filename: str | None) -> None:
    """Decompress every entry once, counting real output against the limits; checks every CRC.

    Nothing is kept: only a short tail per XML entry, to spot a DTD split across chunks (``DtdScanner``).
    """
    total = 0
    for info in infos:
        produced = 0
        scanner = DtdScanner() if info.filename.lower().endswith(XML_SUFFIXES) else None
        try:
            with archive.open(info) as stream:
                while chunk := stream.read(CHUNK):
                    produced += len(chunk)
                    total += len(chunk)
                    if total > limits.max_uncompressed:
                        _reject("zip_bomb", filename, entry=info.filename, limit=limits.max_uncompressed)
                    if scanner is not None:
                        _check_dtd(functools.partial(scanner.feed, chunk), info.filename, filename)
                if scanner is not None:
                    _check_dtd(scanner.close, info.filename, filename)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
            _reject("corrupt", filename, entry=info.filename, diagnostic=str(exc))
        except RuntimeError as exc:
            _reject("encrypted", filename, entry=info.filename, diagnostic=str(exc))
        _check_ratio(info.filename, produced, info.compress_size, limits, filename)
