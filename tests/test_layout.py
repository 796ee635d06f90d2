"""The layout of the rendered and prepared PDF, read back with tools we did not write (issue 11 §4).

Real LibreOffice renders the standard templates; pdfplumber and poppler (``pdfinfo``) read the
result; the final PDF is prepared exactly as the last paraf prepares it (paraf marks, then the
empty signature fields).  Rules: every printed block gets one signature field, the page of the
signature names also carries the agreement's text, the Surat Kuasa fits one page, nothing is
printed where a signature goes (the meterai has a box of its own), and the PDF's properties say
what the naskah is, the same in the Info dictionary and the XMP, also after signing.
"""

from __future__ import annotations

import io
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from PIL import Image
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pypdf import PdfReader

from pipeline.approval.stamp import ParafMark, SignatureSlot, prepare_signature_fields, stamp_paraf
from pipeline.drafting.convert import WarmConverter, check_pdf
from pipeline.drafting.templates import TemplateRegistry, render_docx, sample_data

MARKS = (
    ParafMark(
        1,
        "Andi Saputra, S.STP., M.Si.",
        "Kepala Bagian Pemerintahan",
        "Kabag Pem",
        "AS",
        datetime(2027, 2, 1, tzinfo=UTC),
    ),
    ParafMark(2, "Drs. H. Muhammad Rizal, M.AP.", "Asisten Umum", "As. Umum", "MR", datetime(2027, 2, 2, tzinfo=UTC)),
    ParafMark(3, "Dr. Katsul Wijaya, M.Si.", "Sekretaris Daerah", "Sekda", "KW", datetime(2027, 2, 3, tzinfo=UTC)),
)
SIGNERS = {"SK": ("pihak_kesatu", "penerima_kuasa")}
Rect = tuple[float, float, float, float]


def lambang(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 140), color).save(out, "PNG")
    return out.getvalue()


LAMBANG = {"lambang_pihak_kesatu": lambang((20, 110, 50)), "lambang_pihak_kedua": lambang((30, 60, 160))}


@pytest.fixture(scope="module")
def registry() -> TemplateRegistry:
    return TemplateRegistry.load()


def render(converter: WarmConverter, registry: TemplateRegistry, jenis: str, data: dict[str, Any]) -> bytes:
    info = registry.get(f"{jenis.lower()}/standar")
    images = {k: v for k, v in LAMBANG.items() if any(f.name == k for f in info.fields)}
    return converter.to_pdf(render_docx(info, data, images=images))


def final(converter: WarmConverter, registry: TemplateRegistry, jenis: str, data: dict[str, Any]) -> bytes:
    """As the last paraf leaves it: marks on every page, one empty signature field per signer."""
    pdf = render(converter, registry, jenis, data)
    box = registry.get(f"{jenis.lower()}/standar").paraf
    keys = SIGNERS.get(jenis, ("pihak_kesatu", "pihak_kedua"))
    slots = [SignatureSlot(f"ttd_pihak_{i}", i, data[key]["nama"]) for i, key in enumerate(keys, start=1)]
    return prepare_signature_fields(stamp_paraf(pdf, MARKS, box), slots)


def fields(pdf: bytes) -> dict[str, tuple[int, Rect]]:
    """Signature field name -> (page index, rectangle in PDF points)."""
    out: dict[str, tuple[int, Rect]] = {}
    for index, page in enumerate(PdfReader(io.BytesIO(pdf)).pages):
        for annot in page.get("/Annots", []) or []:
            widget = annot.get_object()
            if widget.get("/FT") == "/Sig":
                out[str(widget["/T"])] = (index, tuple(float(v) for v in widget["/Rect"]))  # type: ignore[assignment]
    return out


def to_pdf_rect(obj: dict[str, Any], height: float) -> Rect:
    return (float(obj["x0"]), height - float(obj["bottom"]), float(obj["x1"]), height - float(obj["top"]))


def overlap(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def name_page(pdf: bytes, nama: str) -> tuple[int, float]:
    """The page (index) and top of the lowest printed occurrence of a signer's name, last page first."""
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for index in range(len(doc.pages) - 1, -1, -1):
            found = doc.pages[index].search(re.escape(nama), regex=True)
            if found:
                return index, max(m["top"] for m in found)
    raise AssertionError(f"{nama} not printed")


# --- the signature page carries text ------------------------------------------------------


def _variants() -> list[tuple[str, int]]:
    return [("KB", n) for n in range(1, 15, 1)] + [("PKS", n) for n in range(1, 31, 3)]


def test_the_page_of_the_signature_names_also_carries_the_agreements_text(
    converter: WarmConverter, registry: TemplateRegistry
):
    """Lengthen the naskah item by item so that its blocks fall at every place of a page; the
    page with the names always shows the PENUTUP's text above them (keep-with-next)."""
    pages_seen: set[tuple[str, int]] = set()
    for jenis, items in _variants():
        data = sample_data(jenis)
        data["ruang_lingkup"] = [f"kegiatan bersama nomor {i} di bidang pengelolaan sampah" for i in range(items)]
        if jenis == "PKS":
            data["kewajiban_pihak_kedua"] = [f"kewajiban teknis nomor {i} sesuai standar" for i in range(items)]
        pdf = render(converter, registry, jenis, data)
        index, top = name_page(pdf, data["pihak_kesatu"]["nama"])
        pages_seen.add((jenis, index))
        with pdfplumber.open(io.BytesIO(pdf)) as doc:
            page = doc.pages[index]
            above = " ".join(page.crop((0, 0, page.width, top)).extract_text().split())
        assert "PENUTUP" in above and "naskah asli berupa dokumen elektronik" in above, (jenis, items)
        assert "Masing-masing pihak menyimpan dokumen elektronik yang sama" in above, (jenis, items)
    # the lengths really moved the blocks across pages
    assert len({p for j, p in pages_seen if j == "KB"}) >= 2 and len({p for j, p in pages_seen if j == "PKS"}) >= 2


def test_surat_kuasa_with_the_usual_text_is_one_page(converter: WarmConverter, registry: TemplateRegistry):
    data = sample_data("SK")
    assert data["bermeterai"] is True
    pdf = final(converter, registry, "SK", data)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    placed = fields(pdf)
    assert {k: v[0] for k, v in placed.items()} == {"ttd_pihak_1": 0, "ttd_pihak_2": 0}
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = doc.pages[0].extract_text()
    # the Kepala Daerah's kop, both blocks under "Ditetapkan di ... pada tanggal ..."
    assert text.splitlines()[0] == "BUPATI PASER" and "Jalan Jenderal Sudirman" not in text
    assert text.index("pada tanggal 8 Februari 2027") < text.index("Yang diberi kuasa,")


# --- every block is signed, once ------------------------------------------------------------


def test_nota_kesepakatan_has_one_field_per_party_on_its_penutup_page(
    converter: WarmConverter, registry: TemplateRegistry
):
    data = sample_data("NK")
    pdf = final(converter, registry, "NK", data)
    placed = fields(pdf)
    assert sorted(placed) == ["ttd_pihak_1", "ttd_pihak_2"]
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        texts = [p.extract_text() for p in doc.pages]
        penutup = next(i for i, t in enumerate(texts) if "PENUTUP" in t)
        lampiran = next(i for i, t in enumerate(texts) if "RENCANA KERJA" in t)
        assert {v[0] for v in placed.values()} == {penutup} and penutup < lampiran
        # every printed block has its field: the names are printed once, on that page, under the fields
        for key, field in (("pihak_kesatu", "ttd_pihak_1"), ("pihak_kedua", "ttd_pihak_2")):
            nama = data[key]["nama"]
            assert sum(t.count(nama) for t in texts[penutup + 1 :]) == 0
            page = doc.pages[penutup]
            (name,) = [m for m in page.search(re.escape(nama), regex=True) if m["top"] > page.height / 3]
            x0, y0, x1, _y1 = placed[field][1]
            assert x0 <= name["x0"] and name["x1"] <= x1 and page.height - name["top"] <= y0 + 3


# --- nothing printed over a signature --------------------------------------------------------


def ruled_box_around(page: Any, word: dict[str, Any]) -> dict[str, float]:
    """The nearest ruled lines left, right, above and below a word: the box it is printed in."""
    cx, cy = (word["x0"] + word["x1"]) / 2, (word["top"] + word["bottom"]) / 2
    vertical = [e for e in page.edges if e["orientation"] == "v" and e["top"] <= cy <= e["bottom"]]
    horizontal = [e for e in page.edges if e["orientation"] == "h" and e["x0"] <= cx <= e["x1"]]
    return {
        "x0": max(e["x0"] for e in vertical if e["x0"] <= word["x0"]),
        "x1": min(e["x0"] for e in vertical if e["x0"] >= word["x1"]),
        "top": max(e["top"] for e in horizontal if e["top"] <= word["top"]),
        "bottom": min(e["top"] for e in horizontal if e["top"] >= word["bottom"]),
    }


@pytest.mark.parametrize("jenis", ["PKS", "SK"])
def test_meterai_box_overlaps_neither_the_printed_text_nor_a_signature_field(
    converter: WarmConverter, registry: TemplateRegistry, jenis: str
):
    data = sample_data(jenis)
    assert data["bermeterai"] is True
    pdf = final(converter, registry, jenis, data)
    placed = fields(pdf)
    (index,) = {v[0] for v in placed.values()}
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        page = doc.pages[index]
        height = float(page.height)
        words = page.extract_words()
        label = [w for w in words if w["text"] == "Meterai" and words[words.index(w) + 1]["text"] == "elektronik"]
        assert len(label) == 1, "one meterai box"
        box = to_pdf_rect(ruled_box_around(page, label[0]), height)
        assert 60 <= box[2] - box[0] <= 75 and 45 <= box[3] - box[1] <= 55  # about 2.4 x 1.8 cm
        inside = [w["text"] for w in words if overlap(to_pdf_rect(w, height), box)]
        assert inside == ["Meterai", "elektronik"]  # nothing else printed in it
        for name, (_page, rect) in placed.items():
            assert not overlap(rect, box), f"{name} covers the meterai box"
            covered = [w["text"] for w in words if overlap(to_pdf_rect(w, height), rect)]
            assert covered == [], f"{name} covers {covered}"
        assert "Rp10.000" not in page.extract_text()


def test_signature_fields_cover_no_printed_text_in_any_standard_naskah(
    converter: WarmConverter, registry: TemplateRegistry
):
    for jenis in ("KB", "NK"):
        data = sample_data(jenis)
        data["bermeterai"] = True
        pdf = final(converter, registry, jenis, data)
        with pdfplumber.open(io.BytesIO(pdf)) as doc:
            for name, (index, rect) in fields(pdf).items():
                page = doc.pages[index]
                printed = [*page.extract_words(), *page.edges]
                hit = [p for p in printed if overlap(to_pdf_rect(p, float(page.height)), rect)]
                assert hit == [], (jenis, name, hit)


# --- the PDF's properties --------------------------------------------------------------------


def pdfinfo(pdf: bytes, tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "naskah.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


def xmp_fields(pdf: bytes) -> dict[str, str]:
    """dc:title, dc:creator, dc:description, pdf:Producer, xmp:CreatorTool of the XMP packet."""
    xmp = PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    found: dict[str, str] = {}
    for key in ("dc:title", "dc:creator", "dc:description"):
        match = re.search(rf"<{key}[^>]*>.*?<rdf:li[^>]*>(.*?)</rdf:li>", xmp, re.DOTALL)
        if match:
            found[key] = match.group(1)
    for key in ("pdf:Producer", "xmp:CreatorTool", "pdf:Keywords"):
        match = re.search(rf'{key}="([^"]*)"', xmp) or re.search(rf"<{key}>(.*?)</{key}>", xmp, re.DOTALL)
        if match:
            found[key] = match.group(1)
    return found


def info_agrees_with_xmp(pdf: bytes) -> None:
    """PDF/A-2b: each Info entry has the same value in the XMP."""
    info = PdfReader(io.BytesIO(pdf)).trailer["/Info"].get_object()
    xmp = xmp_fields(pdf)
    pairs = {
        "/Title": "dc:title",
        "/Author": "dc:creator",
        "/Subject": "dc:description",
        "/Producer": "pdf:Producer",
        "/Creator": "xmp:CreatorTool",
        "/Keywords": "pdf:Keywords",
    }
    for entry, key in pairs.items():
        if entry in info:
            assert str(info[entry]) == xmp.get(key), (entry, str(info[entry]), xmp.get(key))


@pytest.fixture(scope="module")
def signer() -> signers.SimpleSigner:
    """A throwaway self-signed certificate, made now; nothing is committed."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Uji Properti Naskah")])
    now = datetime.now(UTC)
    builder = x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
    cert = (
        builder.serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    der_key = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
        cert_registry=None,
    )


@pytest.mark.parametrize(
    ("jenis", "subject"),
    [
        ("KB", "Kesepakatan Bersama Nomor 100.3.7.1/123/Tapem/2026 dan 100.3.7.1/456/Pem/2026"),
        ("NK", "Nota Kesepakatan Nomor 100.3.7.1/123/Tapem/2026 dan MOU/12-64.01/XI/2026"),
        ("PKS", "Perjanjian Kerja Sama Nomor 100.3.7.1/27/DLH/2027 dan 100.3.7.1/88/DLH/2027"),
        ("SK", "Surat Kuasa Nomor 100.3.7.1/31/Tapem/2027"),
    ],
)
def test_pdf_properties_name_the_naskah_in_info_and_xmp_alike_also_once_signed(
    converter: WarmConverter,
    registry: TemplateRegistry,
    signer: signers.SimpleSigner,
    tmp_path: Path,
    jenis: str,
    subject: str,
):
    data = sample_data(jenis)
    pdf = render(converter, registry, jenis, data)
    info = pdfinfo(pdf, tmp_path)
    title = data.get("judul") or f"Surat Kuasa penandatanganan Perjanjian Kerja Sama {data['pks_judul']}"
    assert info["Title"] == title and info["Author"] == "Pemerintah Kabupaten Paser" and info["Subject"] == subject
    assert "Templat" not in pdf.decode("latin-1") and "templates/build.py" not in pdf.decode("latin-1")
    assert str(PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/Lang"]) == "id-ID"
    assert check_pdf(pdf).pdfa == "2B"
    info_agrees_with_xmp(pdf)
    prepared = final(converter, registry, jenis, data)
    info_agrees_with_xmp(prepared)
    # the signed original too: pyHanko's update leaves Info and XMP agreeing, the properties unchanged
    writer = IncrementalPdfFileWriter(io.BytesIO(prepared))
    signed = signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name="ttd_pihak_2"), signer=signer).getvalue()
    info_agrees_with_xmp(signed)
    again = pdfinfo(signed, tmp_path)
    assert (again["Title"], again["Author"], again["Subject"]) == (title, "Pemerintah Kabupaten Paser", subject)
    assert str(PdfReader(io.BytesIO(signed)).trailer["/Root"]["/Lang"]) == "id-ID"
