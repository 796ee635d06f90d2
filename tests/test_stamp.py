"""Paraf stamps, the Paraf table and the empty signature fields, on the real templates (real LibreOffice).

Signatures are judged by pyHanko's own validator with a throwaway self-signed certificate
made at test time.
"""

from __future__ import annotations

import io
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pdfplumber
import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from pipeline.approval.stamp import (
    ParafMark,
    SignatureSlot,
    find_signature_boxes,
    inisial_dari,
    prepare_signature_fields,
    stamp_paraf,
)
from pipeline.drafting.convert import WarmConverter, check_pdf
from pipeline.drafting.templates import TemplateRegistry, render_docx, sample_data
from pipeline.errors import InvalidInput, RuleViolation
from pipeline.sop import ZONA_WAKTU
from tests.fixtures.converter import sample_docx

MARKS = (
    ParafMark(
        1,
        "Andi Saputra, S.STP., M.Si.",
        "Kepala Bagian Pemerintahan",
        "Kabag Pem",
        "AS",
        datetime(2027, 2, 1, 9, tzinfo=UTC),
    ),
    ParafMark(
        2, "Drs. H. Muhammad Rizal, M.AP.", "Asisten Umum", "As. Umum", "MR", datetime(2027, 2, 2, 10, tzinfo=UTC)
    ),
    ParafMark(3, "Dr. Katsul Wijaya, M.Si.", "Sekretaris Daerah", "Sekda", "KW", datetime(2027, 2, 3, 14, tzinfo=UTC)),
)
KB_SLOTS = (
    SignatureSlot("ttd_pihak_1", 1, "dr. Fahmi Fadli"),
    SignatureSlot("ttd_pihak_2", 2, "H. Rahmad Mas'ud, S.E., M.E."),
)


@pytest.fixture(scope="module")
def kb_pdf(converter: WarmConverter) -> bytes:
    """The standard Kesepakatan Bersama with its sample data, as LibreOffice's PDF/A-2b."""
    info = TemplateRegistry.load().get("kb/standar")
    return converter.to_pdf(render_docx(info, sample_data("KB")))


@pytest.fixture(scope="module")
def box():  # the template's own per-page paraf box
    return TemplateRegistry.load().get("kb/standar").paraf


@pytest.fixture(scope="module")
def final_pdf(kb_pdf: bytes, box) -> bytes:
    """Fully initialled and prepared for signing, as the last paraf leaves it."""
    return prepare_signature_fields(stamp_paraf(kb_pdf, MARKS, box), KB_SLOTS)


def pdftotext(pdf: bytes, page: int, tmp_path: Path) -> str:
    """Text of one page (1-based) as poppler, an independent reader, extracts it."""
    path = tmp_path / "in.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def words_in(pdf: bytes, page: int, rect: tuple[float, float, float, float]) -> list[dict]:
    """Words (pdfplumber) whose centre lies in ``rect`` (PDF coordinates, origin bottom-left)."""
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        p = doc.pages[page]
        height = float(p.height)
        out = []
        for w in p.extract_words():
            cx, cy = (w["x0"] + w["x1"]) / 2, height - (w["top"] + w["bottom"]) / 2
            if rect[0] <= cx <= rect[2] and rect[1] <= cy <= rect[3]:
                out.append(w)
        return out


def xmp(pdf: bytes) -> bytes:
    return PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/Metadata"].get_object().get_data()


# --- inisial ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nama", "inisial"),
    [
        ("Drs. Andi Saputra, M.Si.", "AS"),
        ("Andi Saputra, S.STP., M.Si.", "AS"),
        ("Drs. H. Muhammad Rizal, M.AP.", "MR"),
        ("Dr. Katsul Wijaya, M.Si.", "KW"),
        ("Hj. Nurul Hidayah, S.H., M.H.", "NH"),
        ("H. Rahmad Mas'ud, S.E., M.E.", "RM"),
        ("dr. Fahmi Fadli", "FF"),
        ("Prof. Dr. Ir. H. Budi Santoso, M.Sc.", "BS"),
        ("Ir. Budi Santoso M.T.", "BS"),
        ("Andi Saputra SH MM", "AS"),
        ("Muhammad R. Saputra, S.Sos.", "MRS"),
        ("Hj. Siti 'Aisyah", "SA"),
        ("SUDIRMAN DJAYALEKSANA, S.T., M.T.", "SD"),
        ("Abdul-Rahman Wahid", "AW"),
    ],
)
def test_inisial_drops_academic_and_religious_titles(nama: str, inisial: str):
    assert inisial_dari(nama) == inisial


def test_a_name_of_titles_only_has_no_inisial():
    with pytest.raises(InvalidInput, match="tidak memuat huruf"):
        inisial_dari("Dr. H., S.H.")


# --- paraf stamps -------------------------------------------------------------------


def test_every_page_carries_all_marks_as_searchable_text(kb_pdf: bytes, box, tmp_path: Path):
    stamped = stamp_paraf(kb_pdf, MARKS, box)
    pages = len(PdfReader(io.BytesIO(stamped)).pages)
    assert pages == len(PdfReader(io.BytesIO(kb_pdf)).pages) > 1
    for page in range(1, pages + 1):
        text = pdftotext(stamped, page, tmp_path)
        for mark in MARKS:
            assert mark.inisial in text and mark.singkatan in text
            assert mark.waktu.strftime("%d/%m/%Y") in text


def test_marks_sit_side_by_side_in_the_margin_box_in_chain_order(kb_pdf: bytes, box):
    stamped = stamp_paraf(kb_pdf, MARKS, box)
    reader = PdfReader(io.BytesIO(stamped))
    for index, page in enumerate(reader.pages):
        rect = box.rect(float(page.mediabox.width), float(page.mediabox.height))
        inside = words_in(stamped, index, rect)
        initials = [w["text"] for w in sorted(inside, key=lambda w: w["x0"]) if w["text"] in ("AS", "MR", "KW")]
        assert initials == ["AS", "MR", "KW"], (index, inside)


def test_a_mark_keeps_its_place_when_later_paraf_are_added(kb_pdf: bytes, box):
    first = stamp_paraf(kb_pdf, MARKS[:1], box)
    all_three = stamp_paraf(kb_pdf, MARKS, box)
    page = PdfReader(io.BytesIO(first)).pages[0]
    rect = box.rect(float(page.mediabox.width), float(page.mediabox.height))

    def where(pdf: bytes) -> tuple[float, float]:
        word = next(w for w in words_in(pdf, 0, rect) if w["text"] == "AS")
        return round(word["x0"], 2), round(word["top"], 2)

    assert where(first) == where(all_three)


def test_the_paraf_table_of_the_signature_page_gets_one_official_per_cell(kb_pdf: bytes, box):
    stamped = stamp_paraf(kb_pdf, MARKS, box)
    with pdfplumber.open(io.BytesIO(stamped)) as doc:
        page = doc.pages[-1]
        (table,) = [t for t in page.find_tables() if (t.extract()[0][0] or "").strip() == "Paraf"]
        _header, cells = table.extract()
    assert cells == [
        "1. Kabag Pem\nAS\n01/02/2027",
        "2. As. Umum\nMR\n02/02/2027",
        "3. Sekda\nKW\n03/02/2027",
    ]


def test_a_pdf_without_a_paraf_table_gets_a_small_one_on_its_last_page(converter: WarmConverter, box):
    plain = converter.to_pdf(sample_docx(2))
    stamped = stamp_paraf(plain, MARKS[:2], box)
    check_pdf(stamped)
    with pdfplumber.open(io.BytesIO(stamped)) as doc:
        first = [t.extract() for t in doc.pages[0].find_tables()]
        last = [t.extract() for t in doc.pages[-1].find_tables()]
    assert not any(rows[0][0] == "Paraf" for rows in first)
    assert [["Paraf", None], ["1. Kabag Pem\nAS\n01/02/2027", "2. As. Umum\nMR\n02/02/2027"]] in last


def test_stamping_is_deterministic(kb_pdf: bytes, box):
    assert stamp_paraf(kb_pdf, MARKS, box) == stamp_paraf(kb_pdf, list(reversed(MARKS)), box)
    assert stamp_paraf(kb_pdf, MARKS[:2], box) != stamp_paraf(kb_pdf, MARKS, box)


def test_stamped_pdf_stays_pdfa_with_its_metadata_and_an_embedded_font(kb_pdf: bytes, box, tmp_path: Path):
    stamped = stamp_paraf(kb_pdf, MARKS, box)
    assert check_pdf(stamped).pdfa == "2B"
    assert xmp(stamped) == xmp(kb_pdf)
    assert stamped[:8] == kb_pdf[:8]  # same PDF version header
    reader, original = PdfReader(io.BytesIO(stamped)), PdfReader(io.BytesIO(kb_pdf))
    assert reader.metadata == original.metadata
    assert reader.trailer["/ID"][0] == original.trailer["/ID"][0] != reader.trailer["/ID"][1]
    path = tmp_path / "stamped.pdf"
    path.write_bytes(stamped)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    sans = [line for line in fonts.splitlines() if "LiberationSans" in line]
    assert sans and all(line.split()[-5] == "yes" for line in sans)  # "emb" column


def test_the_date_is_printed_on_the_regions_clock(kb_pdf: bytes, box, tmp_path: Path):
    late = ParafMark(1, "Andi Saputra", "Kabag", "Kabag Pem", "AS", datetime(2027, 2, 1, 17, 30, tzinfo=UTC))
    stamped = stamp_paraf(kb_pdf, [late], box, tz=ZONA_WAKTU["WITA"])  # 01:30 WITA the next day
    assert "02/02/2027" in pdftotext(stamped, 1, tmp_path)
    assert "01/02/2027" in pdftotext(stamp_paraf(kb_pdf, [late], box), 1, tmp_path)


def test_a_paraf_time_without_a_time_zone_is_refused(kb_pdf: bytes, box):
    naive = ParafMark(1, "Andi Saputra", "Kabag", "Kabag Pem", "AS", datetime(2027, 2, 1, 23, 59))
    with pytest.raises(ValueError, match="time zone"):
        stamp_paraf(kb_pdf, [naive], box, tz=ZONA_WAKTU["WITA"])


def test_special_characters_in_a_mark_are_printed_literally(kb_pdf: bytes, box, tmp_path: Path):
    odd = ParafMark(
        1, "Hj. Siti 'Aisyah & Co <x>", "Kabag (Hukum) \\ <&>", "Kab(ag) \\ <&> é", "", datetime(2027, 2, 1, tzinfo=UTC)
    )
    stamped = stamp_paraf(kb_pdf, [odd], box)
    check_pdf(stamped)
    text = pdftotext(stamped, 1, tmp_path)
    assert "SACX" in text  # inisial derived from the name when none is given
    assert "Kab(ag) \\ <&> é" in text
    assert len(PdfReader(io.BytesIO(stamped)).pages) == len(PdfReader(io.BytesIO(kb_pdf)).pages)


def test_paraf_are_stamped_on_the_clean_pdf_only(kb_pdf: bytes, box):
    once = stamp_paraf(kb_pdf, MARKS[:1], box)
    with pytest.raises(RuleViolation, match="sudah berisi paraf"):
        stamp_paraf(once, MARKS, box)
    with pytest.raises(InvalidInput, match="unik"):
        stamp_paraf(kb_pdf, [MARKS[0], MARKS[0]], box)
    with pytest.raises(InvalidInput, match="Tidak ada paraf"):
        stamp_paraf(kb_pdf, [], box)


# --- signature fields ---------------------------------------------------------------


def test_signature_fields_exist_on_the_last_page_just_above_the_signers_names(final_pdf: bytes):
    reader = PdfReader(io.BytesIO(final_pdf))
    last = len(reader.pages) - 1
    widgets = {a.get_object()["/T"]: a.get_object() for a in reader.pages[last].get("/Annots", [])}
    assert set(widgets) == {"ttd_pihak_1", "ttd_pihak_2"}
    assert set(reader.get_fields() or {}) == {"ttd_pihak_1", "ttd_pihak_2"}
    with pdfplumber.open(io.BytesIO(final_pdf)) as doc:
        page = doc.pages[last]
        height, width = float(page.height), float(page.width)
        for slot in KB_SLOTS:
            (name,) = page.search(slot.nama.replace(".", r"\."), regex=True)
            x1, y1, x2, y2 = (float(v) for v in widgets[slot.field_name]["/Rect"])
            assert widgets[slot.field_name]["/FT"] == "/Sig" and "/V" not in widgets[slot.field_name]
            assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
            assert 165 <= x2 - x1 <= 175 and 40 <= y2 - y1 <= 60.01
            name_top = height - name["top"]
            assert name_top <= y1 <= name_top + 5  # just above the name, not over it
            assert abs((x1 + x2) / 2 - (name["x0"] + name["x1"]) / 2) < 1  # centred on it


@pytest.mark.parametrize(
    ("jenis", "parties"),
    [
        ("NK", ("pihak_kesatu", "pihak_kedua")),
        ("PKS", ("pihak_kesatu", "pihak_kedua")),
        ("SK", ("pihak_kesatu", "penerima_kuasa")),
    ],
)
def test_every_standard_template_gets_its_paraf_table_filled_and_fields_above_both_names(
    converter: WarmConverter, box, jenis: str, parties: tuple[str, str]
):
    data = sample_data(jenis)
    pdf = converter.to_pdf(render_docx(TemplateRegistry.load().get(f"{jenis.lower()}/standar"), data))
    slots = [SignatureSlot(f"ttd_{i}", i, data[key]["nama"]) for i, key in enumerate(parties, start=1)]
    final = prepare_signature_fields(stamp_paraf(pdf, MARKS, box), slots)
    check_pdf(final)
    reader = PdfReader(io.BytesIO(final))
    # the page of the blocks: the last one, except the NK's, whose Rencana Kerja (lampiran) follows
    index = len(reader.pages) - (2 if jenis == "NK" else 1)
    page = reader.pages[index]
    widgets = [a.get_object() for a in page.get("/Annots", [])]
    assert sorted(w["/T"] for w in widgets) == ["ttd_1", "ttd_2"]
    for widget in widgets:  # inside the page
        x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
        assert 0 <= x1 < x2 <= float(page.mediabox.width) and 0 <= y1 < y2 <= float(page.mediabox.height)
        assert y2 - y1 >= 40
    with pdfplumber.open(io.BytesIO(final)) as doc:
        tables = [t.extract() for t in doc.pages[index].find_tables()]
    assert [
        ["Paraf", None, None],
        ["1. Kabag Pem\nAS\n01/02/2027", "2. As. Umum\nMR\n02/02/2027", "3. Sekda\nKW\n03/02/2027"],
    ] in tables


def test_find_signature_boxes_reports_page_and_rectangle(final_pdf: bytes, kb_pdf: bytes):
    boxes = find_signature_boxes(kb_pdf, KB_SLOTS)
    pages = len(PdfReader(io.BytesIO(kb_pdf)).pages)
    assert {k: v[0] for k, v in boxes.items()} == {"ttd_pihak_1": pages - 1, "ttd_pihak_2": pages - 1}
    left, right = boxes["ttd_pihak_2"], boxes["ttd_pihak_1"]  # PIHAK KEDUA signs on the left
    assert left[3] < right[1]


def test_a_signer_whose_name_is_not_printed_is_refused_by_name(kb_pdf: bytes):
    slots = [KB_SLOTS[0], SignatureSlot("ttd_pihak_2", 2, "Ir. Nama Tidak Ada")]
    with pytest.raises(InvalidInput) as caught:
        prepare_signature_fields(kb_pdf, slots)
    message = caught.value.message
    assert "Nama penanda tangan" in message and "Ir. Nama Tidak Ada" in message
    assert "tidak ditemukan pada halaman tanda tangan" in message
    assert caught.value.detail["field"] == "ttd_pihak_2"


def test_bad_slots_are_refused(kb_pdf: bytes):
    with pytest.raises(InvalidInput, match="unik"):
        prepare_signature_fields(kb_pdf, [KB_SLOTS[0], KB_SLOTS[0]])
    with pytest.raises(InvalidInput, match="hanya boleh"):
        prepare_signature_fields(kb_pdf, [SignatureSlot("ttd.pihak", 1, "dr. Fahmi Fadli")])


def test_preparing_fields_is_deterministic_and_keeps_pdfa(final_pdf: bytes, kb_pdf: bytes, box):
    again = prepare_signature_fields(stamp_paraf(kb_pdf, MARKS, box), KB_SLOTS)
    assert again == final_pdf
    assert check_pdf(final_pdf).pdfa == "2B"
    assert xmp(final_pdf) == xmp(kb_pdf)
    with pytest.raises(RuleViolation, match="sudah ada"):
        prepare_signature_fields(final_pdf, KB_SLOTS)


# --- signing afterwards -------------------------------------------------------------


@pytest.fixture(scope="module")
def signer() -> signers.SimpleSigner:
    """A throwaway self-signed certificate, made now; nothing is committed."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Uji Paraf Naskah")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
        cert_registry=None,
    )


def sign(pdf: bytes, field: str, signer: signers.SimpleSigner) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    return signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name=field), signer=signer).getvalue()


def test_both_parties_can_sign_the_stamped_pdf_and_every_signature_stays_valid(final_pdf: bytes, signer):
    signed = sign(sign(final_pdf, "ttd_pihak_1", signer), "ttd_pihak_2", signer)
    context = ValidationContext(trust_roots=[signer.signing_cert])
    embedded = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    assert [s.field_name for s in embedded] == ["ttd_pihak_1", "ttd_pihak_2"]
    for signature in embedded:
        status = validate_pdf_signature(signature, context)
        assert status.intact and status.valid and status.bottom_line, status.pretty_print_details()
        assert status.docmdp_ok


def test_a_signed_pdf_is_never_stamped_or_given_new_fields(final_pdf: bytes, box, signer):
    signed = sign(final_pdf, "ttd_pihak_1", signer)
    with pytest.raises(RuleViolation, match="sudah ditandatangani"):
        stamp_paraf(signed, MARKS, box)
    with pytest.raises(RuleViolation, match="sudah ditandatangani"):
        prepare_signature_fields(signed, [SignatureSlot("ttd_lain", 3, "dr. Fahmi Fadli")])
