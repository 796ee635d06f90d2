"""Upload safety: only a plain, intact, macro-free DOCX gets past ``check_docx``.

Every bad file is built here from a real python-docx document, so each test shows
exactly what makes it bad.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable

import docx
import pytest

from pipeline.drafting.docxcheck import DocxLimits, check_docx
from pipeline.errors import DocumentRejected, DocumentTooLarge

MB = 1024 * 1024
WML_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabledMain+xml"

Entries = list[tuple[str, bytes]]


@pytest.fixture(scope="module")
def good() -> bytes:
    document = docx.Document()
    document.add_heading("PERJANJIAN KERJA SAMA", level=1)
    document.add_paragraph("antara Pemerintah Kabupaten Kutai Kartanegara dan Pemerintah Kota Balikpapan")
    document.add_paragraph("tentang Pengelolaan Sampah Regional")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def entries_of(data: bytes) -> Entries:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def build(entries: Entries, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, content in entries:
            z.writestr(zipfile.ZipInfo(name), content, compress_type=compression)
    return buf.getvalue()


def edit(data: bytes, change: Callable[[Entries], Entries]) -> bytes:
    return build(change(entries_of(data)))


def replace(entries: Entries, name: str, fn: Callable[[bytes], bytes]) -> Entries:
    return [(n, fn(c) if n == name else c) for n, c in entries]


def set_main_type(entries: Entries, content_type: str) -> Entries:
    """Declare word/document.xml as another kind of main part in [Content_Types].xml."""
    return replace(entries, "[Content_Types].xml", lambda c: c.replace(WML_MAIN.encode(), content_type.encode()))


def patch_headers(data: bytes, name: str, **fields: int) -> bytes:
    """Overwrite fields of ``name``'s local header and central-directory entry (what a forger does)."""
    out = bytearray(data)
    local = {"flags": (6, "<H"), "crc": (14, "<I"), "csize": (18, "<I"), "usize": (22, "<I")}
    central = {"flags": (8, "<H"), "crc": (16, "<I"), "csize": (20, "<I"), "usize": (24, "<I")}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(name)
    for field, value in fields.items():
        off, fmt = local[field]
        struct.pack_into(fmt, out, info.header_offset + off, value)
    pos = out.find(b"PK\x01\x02")
    while pos != -1:
        nlen = struct.unpack_from("<H", out, pos + 28)[0]
        if bytes(out[pos + 46 : pos + 46 + nlen]).decode() == name:
            for field, value in fields.items():
                off, fmt = central[field]
                struct.pack_into(fmt, out, pos + off, value)
        pos = out.find(b"PK\x01\x02", pos + 4)
    return bytes(out)


def rejected(data: bytes, limits: DocxLimits = DocxLimits()) -> DocumentRejected:
    with pytest.raises(DocumentRejected) as info:
        check_docx(data, limits, filename="naskah.docx")
    assert info.value.detail["filename"] == "naskah.docx"
    assert info.value.message and info.value.message != DocumentRejected.default_message
    return info.value


def tiny_png() -> bytes:
    """A valid 1x1 white PNG, built by hand so the test needs no image library."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff"))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------------------- accepted


def test_a_real_word_document_passes(good):
    check_docx(good)
    check_docx(good, DocxLimits(), filename="PKS Balikpapan.docx")


def test_a_document_with_an_embedded_image_and_table_passes():
    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Pihak Kesatu"
    document.add_picture(io.BytesIO(tiny_png()))
    buf = io.BytesIO()
    document.save(buf)
    check_docx(buf.getvalue())


# ---------------------------------------------------------------------------- size


def test_a_file_over_max_bytes_is_too_large_with_size_and_limit_in_mb(good):
    with pytest.raises(DocumentTooLarge) as info:
        check_docx(good, DocxLimits(max_bytes=1000))
    err = info.value
    assert err.code == "document_too_large"
    assert err.detail["size"] == len(good) and err.detail["limit"] == 1000
    assert "MB" in err.message and "batas" in err.message


# ---------------------------------------------------------------------------- not a docx


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
        b"PERJANJIAN KERJA SAMA\nteks biasa yang diberi nama .docx\n",
        b"",
    ],
    ids=["pdf", "text", "empty"],
)
def test_a_file_that_is_not_a_zip_is_rejected_as_not_zip(data):
    assert rejected(data).detail["reason"] == "not_zip"


def test_a_pdf_with_a_docx_appended_is_rejected_as_not_zip(good):
    assert rejected(b"%PDF-1.7\n%%EOF\n" + good).detail["reason"] == "not_zip"


def test_a_zip_without_content_types_is_not_docx(good):
    data = edit(good, lambda es: [(n, c) for n, c in es if n != "[Content_Types].xml"])
    assert rejected(data).detail["reason"] == "not_docx"


@pytest.mark.parametrize(
    "main",
    [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
    ],
    ids=["xlsx", "dotx"],
)
def test_an_office_zip_that_is_not_a_word_document_is_not_docx(good, main):
    data = edit(
        good, lambda es: replace(es, "[Content_Types].xml", lambda c: c.replace(WML_MAIN.encode(), main.encode()))
    )
    assert rejected(data).detail["reason"] == "not_docx"


def test_a_legacy_word_97_doc_is_not_docx():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "WordDocument".encode("utf-16-le") + bytes(1000)
    err = rejected(ole)
    assert err.detail["reason"] == "not_docx" and ".doc" in err.message


# ---------------------------------------------------------------------------- macros


def test_a_docm_with_a_vba_project_is_rejected_as_macro(good):
    def to_docm(es: Entries) -> Entries:
        return [*set_main_type(es, DOCM_MAIN), ("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 vba")]

    assert rejected(edit(good, to_docm)).detail["reason"] == "macro"


def test_a_macro_enabled_content_type_alone_is_rejected_as_macro(good):
    data = edit(
        good, lambda es: replace(es, "[Content_Types].xml", lambda c: c.replace(WML_MAIN.encode(), DOCM_MAIN.encode()))
    )
    assert rejected(data).detail["reason"] == "macro"


@pytest.mark.parametrize("part", ["word/vbaProject.bin", "word/vbaData.xml", "word/activeX/activeX1.xml"])
def test_a_macro_or_activex_part_in_a_plain_docx_is_rejected_as_macro(good, part):
    err = rejected(edit(good, lambda es: [*es, (part, b"<x/>")]))
    assert err.detail["reason"] == "macro" and err.detail["entry"] == part


# ---------------------------------------------------------------------------- zip bombs


def test_an_entry_of_300_mb_of_zeros_is_rejected_as_zip_bomb(good):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, content in entries_of(good):
            z.writestr(name, content)
        with z.open("word/media/bom.bin", "w", force_zip64=True) as f:
            chunk = bytes(MB)
            for _ in range(300):
                f.write(chunk)
    data = buf.getvalue()
    assert len(data) < 2 * MB  # small compressed, under the upload limit
    assert rejected(data).detail["reason"] == "zip_bomb"


def test_a_highly_compressed_large_entry_is_rejected_as_zip_bomb_by_ratio(good):
    data = edit(good, lambda es: [*es, ("word/media/nol.bin", bytes(5 * MB))])
    err = rejected(data, DocxLimits(max_uncompressed=500 * MB, max_ratio=100))
    assert err.detail["reason"] == "zip_bomb" and err.detail["ratio"] > 100


def test_declared_sizes_are_not_trusted_an_entry_claiming_to_be_small_is_rejected(good):
    data = edit(good, lambda es: [*es, ("word/media/kecil.bin", bytes(5 * MB))])
    forged = patch_headers(data, "word/media/kecil.bin", usize=1000)
    assert rejected(forged).detail["reason"] == "zip_bomb"


def test_the_real_uncompressed_total_counts_not_the_declared_one(good):
    """Declared sizes honest but the total over the limit: counted while streaming, too."""
    data = edit(good, lambda es: [*es, ("word/media/a.bin", bytes(600_000)), ("word/media/b.bin", bytes(600_000))])
    err = rejected(data, DocxLimits(max_uncompressed=1 * MB))
    assert err.detail["reason"] == "zip_bomb"


def test_more_entries_than_the_limit_is_rejected_as_too_many_entries(good):
    err = rejected(good, DocxLimits(max_entries=5))
    assert err.detail["reason"] == "too_many_entries" and err.detail["limit"] == 5


# ---------------------------------------------------------------------------- encryption


def test_a_password_protected_word_document_is_rejected_as_encrypted_and_says_remove_the_password():
    # A password-protected .docx is an OLE2 compound file holding EncryptionInfo + EncryptedPackage.
    ole = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + bytes(504)
        + "EncryptionInfo".encode("utf-16-le")
        + bytes(50)
        + "EncryptedPackage".encode("utf-16-le")
        + bytes(4000)
    )
    err = rejected(ole)
    assert err.detail["reason"] == "encrypted"
    assert "kata sandi" in err.message.lower() and "hapus" in err.message.lower()


def test_a_zip_entry_with_the_encryption_flag_is_rejected_as_encrypted(good):
    forged = patch_headers(good, "word/document.xml", flags=0x1)
    assert rejected(forged).detail["reason"] == "encrypted"


# ---------------------------------------------------------------------------- paths


@pytest.mark.parametrize("name", ["../evil", "word/../../evil.xml", "/etc/cron.d/x", "word\\..\\evil", "C:/evil"])
def test_an_entry_name_that_escapes_the_directory_is_rejected_as_unsafe_path(good, name):
    err = rejected(edit(good, lambda es: [*es, (name, b"x")]))
    assert err.detail["reason"] == "unsafe_path" and err.detail["entry"] == name


# ---------------------------------------------------------------------------- corrupt


def test_a_truncated_docx_is_rejected_as_corrupt(good):
    assert rejected(good[: len(good) // 2]).detail["reason"] == "corrupt"


def test_an_entry_with_a_bad_crc_is_rejected_as_corrupt(good):
    data = build(entries_of(good), compression=zipfile.ZIP_STORED)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo("word/document.xml")
    nlen, xlen = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + nlen + xlen
    damaged = bytearray(data)
    damaged[start + 100] ^= 0x20  # one flipped bit in the stored document body
    err = rejected(bytes(damaged))
    assert err.detail["reason"] == "corrupt" and err.detail["entry"] == "word/document.xml"


def test_duplicate_entries_are_rejected_as_corrupt(good):
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = edit(good, lambda es: [*es, ("word/document.xml", b"<w:document/>")])
    assert rejected(data).detail["reason"] == "corrupt"


def test_a_docx_python_docx_cannot_open_is_rejected_as_corrupt(good):
    missing = edit(good, lambda es: [(n, c) for n, c in es if n != "word/document.xml"])
    assert rejected(missing).detail["reason"] == "corrupt"
    broken = edit(good, lambda es: replace(es, "word/document.xml", lambda c: c[: len(c) // 2]))
    assert rejected(broken).detail["reason"] == "corrupt"


def test_an_xml_part_with_a_dtd_is_rejected_as_unsafe_xml(good):
    def add_dtd(c: bytes) -> bytes:
        decl, rest = c.split(b"?>", 1)
        return decl + b'?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>' + rest

    for part in ["word/document.xml", "[Content_Types].xml"]:
        data = edit(good, lambda es, part=part: replace(es, part, add_dtd))
        assert rejected(data).detail["reason"] == "unsafe_xml"


def test_rejections_use_the_document_rejected_code_for_the_api(good):
    err = rejected(b"bukan docx")
    assert err.code == "document_rejected"
    assert err.to_dict()["detail"]["reason"] == "not_zip"


# -- a DTD in an XML part that is not UTF-8 ---------------------------------------------------------

BOMB = '<!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'


def relabelled(declaration: str, encoding: str) -> str:
    """An XML declaration (python-docx writes ``encoding='UTF-8'``) naming ``encoding`` instead."""
    out = re.sub(r"""encoding=(["'])UTF-8\1""", f'encoding="{encoding}"', declaration)
    assert out != declaration
    return out


def reencoded(xml: bytes, codec: str, *, bom: bool, dtd: bool = True) -> bytes:
    """``xml`` (UTF-8) as ``codec``, its declaration saying so, optionally with a DTD after it."""
    decl, rest = xml.decode("utf-8").split("?>", 1)
    label = "UTF-32" if "32" in codec else "UTF-16"
    text = relabelled(decl, label) + "?>" + (BOMB if dtd else "") + rest
    marks = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff", "utf-32-le": b"\xff\xfe\x00\x00"}
    return (marks[codec] if bom else b"") + text.encode(codec)


@pytest.mark.parametrize("part", ["word/document.xml", "[Content_Types].xml"])
@pytest.mark.parametrize(
    ("codec", "bom"),
    [("utf-16-le", True), ("utf-16-le", False), ("utf-16-be", True), ("utf-16-be", False), ("utf-32-le", True)],
)
def test_a_dtd_in_a_utf16_or_utf32_xml_part_is_rejected_as_unsafe_xml(good, part, codec, bom):
    data = edit(good, lambda es: replace(es, part, lambda c: reencoded(c, codec, bom=bom)))
    err = rejected(data)
    assert err.detail["reason"] == "unsafe_xml" and err.detail["entry"] == part


def test_a_dtd_split_across_chunks_of_a_utf16_part_is_found(good):
    def padded(c: bytes) -> bytes:
        decl, rest = c.decode("utf-8").split("?>", 1)
        # a comment puts the DTD across the 64 KiB read boundary
        text = relabelled(decl, "UTF-16") + "?>" + "<!--" + "x" * 32761 + "-->" + BOMB
        return b"\xff\xfe" + (text + rest).encode("utf-16-le")

    assert rejected(edit(good, lambda es: replace(es, "word/document.xml", padded))).detail["reason"] == "unsafe_xml"


@pytest.mark.parametrize(("codec", "bom"), [("utf-16-le", True), ("utf-16-be", True), ("utf-16-le", False)])
def test_a_plain_utf16_document_part_is_still_accepted(good, codec, bom):
    data = edit(good, lambda es: replace(es, "word/document.xml", lambda c: reencoded(c, codec, bom=bom, dtd=False)))
    check_docx(data)
    assert "PERJANJIAN KERJA SAMA" in docx.Document(io.BytesIO(data)).paragraphs[0].text


@pytest.mark.parametrize("encoding", ["UTF-7", "EBCDIC-US", "x-mac-roman"])
def test_an_xml_part_in_an_encoding_the_check_does_not_read_is_rejected(good, encoding):
    def relabel(c: bytes) -> bytes:
        decl, rest = c.decode("utf-8").split("?>", 1)
        return (relabelled(decl, encoding) + "?>" + rest).encode("utf-8")

    err = rejected(edit(good, lambda es: replace(es, "word/document.xml", relabel)))
    assert err.detail["reason"] == "unsafe_xml" and encoding in err.message
