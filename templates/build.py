"""Generate the standard naskah templates: ``templates/naskah/<jenis>/standar.docx`` + ``.toml``.

Run ``.venv/bin/python templates/build.py`` after changing this file; the output is committed
so that every template is reproducible and its sha256 stable (zip timestamps and document
dates are fixed).  After writing, the script loads the directory with
``pipeline.drafting.templates.TemplateRegistry`` so a template that its own loader would refuse is
never committed.

Layout conventions (Tata Naskah Dinas / DOMAIN.md): A4, Times New Roman 12 pt, justified
body, bold centred headings; the parties' lambang side by side above the title block (both
parties, then each party's nomor labelled with the party's name); the opening sentence with
the day and date in words, numbered PIHAK definitions; Pasal -> ayat (1), (2) -> huruf a., b.
(a drafter's list of one item becomes a sentence, a pasal of one paragraph has no ayat
number); PARA PIHAK / PIHAK KESATU / PIHAK KEDUA bold everywhere (``pihak_tebal`` for drafter
text); a PENUTUP that states what is done (one electronic original, signed electronically)
and keeps with the signature blocks, so no signature page is without text; signatures side by
side (PIHAK KEDUA left, PIHAK KESATU right; "a.n. <pemberi kuasa>" above the jabatan of a
signer under a kuasa; the meterai's own box, when ``bermeterai``, between the jabatan and the
signing space, never where a signature goes) and a bordered "Paraf" box.  The Nota
Kesepakatan prints its blocks once (its Rencana Kerja is part of the same signed file); the
Surat Kuasa is compact (one page for the usual text) under the Kepala Daerah's own kop.  The
bottom margin leaves room for the per-page paraf marks stamped later into the box the
manifest's ``[paraf]`` section describes.

Every Jinja tag is written inside one run (one ``add_run`` call): docxtpl can only see a
tag that Word has not split across runs.  Paragraph-level tags (``{%p ... %}``) and row
tags (``{%tr ... %}``) sit alone in their paragraph / first cell.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

HERE = Path(__file__).resolve().parent
OUT = HERE / "naskah"
FONT = "Times New Roman"
FIXED_TIME = datetime(2026, 1, 1, 0, 0, 0)
JUSTIFY = WD_ALIGN_PARAGRAPH.JUSTIFY
CENTER = WD_ALIGN_PARAGRAPH.CENTER
LEFT = WD_ALIGN_PARAGRAPH.LEFT

# Paraf marks: bottom-right corner, inside the bottom margin (3 cm = 85 pt) of every page.
PARAF = {"corner": "bottom-right", "x": 36, "y": 24, "width": 160, "height": 46}


# --- text segments ------------------------------------------------------------------


@dataclass(frozen=True)
class Seg:
    """One run: text (possibly with Jinja tags, never split) and its formatting."""

    text: str
    bold: bool = False
    underline: bool = False
    size: float | None = None
    grey: bool = False


def B(text: str) -> Seg:
    return Seg(text, bold=True)


@dataclass(frozen=True)
class Tag:
    """A paragraph-level tag (``{%p ... %}``) inside a signature block."""

    text: str


@dataclass(frozen=True)
class MeteraiBox:
    """The (e-)meterai's own bordered box in a signature block, printed only when ``bermeterai``.

    It stands between the jabatan and the signing space, so neither the printed text nor the
    signature field (placed above the name, below anything printed) overlaps it.
    """

    label: str = "Meterai elektronik"


@dataclass(frozen=True)
class Space:
    """An empty paragraph of exactly ``points`` height: the signing space above the name."""

    points: float


Text = str | Seg
Line = Text | Sequence[Text] | Tag | MeteraiBox | Space
Lines = Sequence[Line]
SignBlock = tuple[Lines, Lines]  # (heading lines + signing space, name lines)
# Above the name: the signature field (60 pt, see pipeline.approval.stamp) fits below anything printed.
SIGNING_SPACE = Space(64)


def _check_tags(text: str) -> None:
    """A tag split over two runs would silently stay in the document as literal text."""
    for open_, close in (("{{", "}}"), ("{%", "%}"), ("{#", "#}")):
        if text.count(open_) != text.count(close):
            raise ValueError(f"unbalanced Jinja tag in one run: {text!r}")


# --- the document builder -----------------------------------------------------------


class Naskah:
    """A python-docx document with the house style and helpers for naskah structure."""

    def __init__(self, title: str) -> None:
        self.doc = Document()
        self.pasal_count = 0
        self.pasal_numbers: dict[str, int] = {}
        self._style()
        self._page(self.doc.sections[0], landscape=False)
        self._footer()
        props = self.doc.core_properties
        props.title = title
        props.author = "templates/build.py"
        props.subject = "Templat naskah kerja sama daerah"
        props.comments = "Dibuat oleh templates/build.py; ubah di sana, bukan di Word."
        props.language = "id-ID"
        props.last_modified_by = "templates/build.py"
        props.created = FIXED_TIME
        props.modified = FIXED_TIME
        props.revision = 1

    # style and page ---------------------------------------------------------------

    def _style(self) -> None:
        style = self.doc.styles["Normal"]
        style.font.name = FONT
        style.font.size = Pt(12)
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.get_or_add_rFonts()
        for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
            fonts.set(qn(attr), FONT)
        lang = OxmlElement("w:lang")
        lang.set(qn("w:val"), "id-ID")
        rpr.append(lang)
        # The document's default language (LibreOffice writes it as the PDF's /Lang).
        defaults = self.doc.styles.element.find(qn("w:docDefaults"))
        default_lang = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}")
        if default_lang is None:
            default_lang = OxmlElement("w:lang")
            defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}").append(default_lang)
        default_lang.set(qn("w:val"), "id-ID")
        fmt = style.paragraph_format
        fmt.alignment = JUSTIFY
        fmt.space_before = Pt(0)
        fmt.space_after = Pt(6)
        fmt.line_spacing = 1.15
        fmt.widow_control = True

    @staticmethod
    def _page(section: Any, *, landscape: bool) -> None:
        long_side, short_side = Cm(29.7), Cm(21.0)
        section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = (long_side, short_side) if landscape else (short_side, long_side)
        section.top_margin = Cm(2.5)
        section.bottom_margin = Cm(3.0)  # the paraf marks go into this margin
        section.left_margin = Cm(2.5)
        section.right_margin = Cm(2.5)
        section.header_distance = Cm(1.25)
        section.footer_distance = Cm(1.0)

    def _footer(self) -> None:
        """A centred page number: per-page paraf needs pages people can name."""
        p = self.doc.sections[0].footer.paragraphs[0]
        p.alignment = CENTER
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), "PAGE")
        run = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.text = "1"
        run.append(text)
        field.append(run)
        p._p.append(field)

    def landscape_section(self) -> None:
        self._page(self.doc.add_section(WD_SECTION.NEW_PAGE), landscape=True)

    # paragraphs -------------------------------------------------------------------

    @staticmethod
    def _runs(p: Paragraph, segments: Sequence[Text], size: float | None = None) -> Paragraph:
        for seg in segments:
            seg = Seg(seg) if isinstance(seg, str) else seg
            _check_tags(seg.text)
            run = p.add_run(seg.text)
            run.bold = seg.bold or None
            run.underline = seg.underline or None
            if seg.size or size:
                run.font.size = Pt(seg.size or size or 12)
            if seg.grey:
                run.font.color.rgb = RGBColor(0x80, 0x80, 0x80)
        return p

    def para(
        self,
        *segments: Text,
        align: WD_ALIGN_PARAGRAPH = JUSTIFY,
        left: float = 0.0,
        hanging: float = 0.0,
        after: float = 6,
        before: float = 0,
        keep: bool = False,
        tabs: Sequence[float] = (),
        container: Any = None,
        size: float | None = None,
    ) -> Paragraph:
        p = (container or self.doc).add_paragraph()
        fmt = p.paragraph_format
        fmt.alignment = align
        fmt.space_after = Pt(after)
        if before:
            fmt.space_before = Pt(before)
        if left or hanging:
            fmt.left_indent = Cm(left + hanging)
            fmt.first_line_indent = Cm(-hanging) if hanging else None
        if hanging:
            fmt.tab_stops.add_tab_stop(Cm(left + hanging))
        for tab in tabs:
            fmt.tab_stops.add_tab_stop(Cm(tab))
        fmt.keep_with_next = keep or None
        return self._runs(p, segments, size)

    def heading(self, *segments: Text, after: float = 0, keep: bool = True) -> Paragraph:
        return self.para(*[B(s) if isinstance(s, str) else s for s in segments], align=CENTER, after=after, keep=keep)

    def tag(self, tag: str, container: Any = None) -> Paragraph:
        """A paragraph holding only a ``{%p ... %}`` tag; docxtpl removes the whole paragraph."""
        assert tag.startswith("{%p ") and tag.endswith("%}"), tag
        return self.para(tag, after=0, container=container)

    def blank(self, after: float = 0) -> Paragraph:
        return self.para("", after=after)

    def item(self, label: str, *segments: Text, left: float = 0.0, hanging: float = 0.8, after: float = 6) -> Paragraph:
        """A numbered item with a hanging indent: ``label<TAB>text``."""
        return self.para(label + "\t", *segments, left=left, hanging=hanging, after=after)

    def loop(
        self,
        list_name: str,
        var: str,
        body: str,
        *,
        left: float = 0.0,
        hanging: float = 0.8,
        label: str = "huruf",
        ending: str = "{% if loop.revindex == 2 %}; dan{% elif not loop.last %};{% else %}.{% endif %}",
    ) -> None:
        """One paragraph per list element, lettered (a., b., c.: under an ayat) or numbered
        (``label="angka"``: a top-level list); by default the last ends with "." and the one before with "; dan"."""
        number = "{{ loop.index|huruf }}." if label == "huruf" else "{{ loop.index }}."
        self.tag(f"{{%p for {var} in {list_name} %}}")
        self.item(number, body + ending, left=left, hanging=hanging)
        self.tag("{%p endfor %}")

    def ayat_list(self, n: int, intro: Sequence[Text], list_name: str) -> None:
        """Ayat ``n`` introducing a drafter's list: items lettered a., b., c.; one item is a sentence.

        Tata Naskah Dinas writes no list of a single item: "(2) Ruang lingkup ... meliputi X."
        """
        self.tag(f"{{%p if {list_name}|length == 1 %}}")
        self.ayat(n, *intro, " ", f"{{{{ {list_name}|first|pihak_tebal }}}}", ".")
        self.tag("{%p else %}")
        self.ayat(n, *intro, ":")
        self.loop(list_name, "x", "{{ x|pihak_tebal }}", left=1.0)
        self.tag("{%p endif %}")

    def pasal(self, title: str) -> None:
        self.pasal_count += 1
        self.pasal_numbers[title] = self.pasal_count
        self.para("", after=0)
        self.heading(f"Pasal {self.pasal_count}")
        self.heading(title.upper(), after=6)

    def ayat(self, n: int | None, *segments: Text) -> Paragraph:
        if n is None:
            return self.para(*segments)
        return self.item(f"({n})", *segments, hanging=1.0)

    def page_break(self) -> None:
        self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    # tables -----------------------------------------------------------------------

    @staticmethod
    def _borders(table: Table, value: str) -> None:
        tbl_pr = table._tbl.tblPr
        borders = OxmlElement("w:tblBorders")
        for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
            el = OxmlElement(f"w:{edge}")
            el.set(qn("w:val"), value)
            if value != "nil":
                el.set(qn("w:sz"), "4")
                el.set(qn("w:space"), "0")
                el.set(qn("w:color"), "000000")
            borders.append(el)
        tbl_pr.append(borders)

    @staticmethod
    def _fixed(table: Table, widths: Sequence[float]) -> None:
        table.autofit = False
        layout = OxmlElement("w:tblLayout")
        layout.set(qn("w:type"), "fixed")
        table._tbl.tblPr.append(layout)
        for row in table.rows:
            for cell, width in zip(row.cells, widths, strict=True):
                cell.width = Cm(width)
        for col, width in zip(table.columns, widths, strict=True):
            col.width = Cm(width)

    @staticmethod
    def _cell(cell: _Cell, *segments: Text, align: WD_ALIGN_PARAGRAPH = CENTER, size: float | None = None) -> None:
        p = cell.paragraphs[0]
        p.paragraph_format.alignment = align
        p.paragraph_format.space_after = Pt(0)
        Naskah._runs(p, segments, size)

    def spacer(self, points: float) -> None:
        """An empty paragraph exactly ``points`` high that keeps with what follows."""
        p = self.para("", after=0, keep=True)
        p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        p.paragraph_format.line_spacing = Pt(points)

    def signatures(self, left: SignBlock, right: SignBlock, *, gap: float = 14) -> None:
        """Two signature blocks side by side in a borderless table, one paragraph per line.

        Row 1 holds the heading lines and the signing space, row 2 the name and NIP, so the
        names line up even when one jabatan wraps onto more lines than the other.
        """
        self.spacer(gap)
        table = self.doc.add_table(rows=2, cols=2)
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        self._borders(table, "nil")
        self._fixed(table, (8.0, 8.0))
        for col, block in enumerate((left, right)):
            for row, lines in enumerate(block):
                cell = table.cell(row, col)
                for i, line in enumerate(lines):
                    if isinstance(line, MeteraiBox):
                        self._meterai_box(cell, line)
                        continue
                    if isinstance(line, Space):
                        p = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
                        p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
                        p.paragraph_format.line_spacing = Pt(line.points)
                        p.paragraph_format.space_after = Pt(0)
                        p.paragraph_format.keep_with_next = True
                        # Not empty: LibreOffice drops an empty last paragraph after a nested table.
                        p.add_run(" ")
                        continue
                    segments = (
                        [line.text] if isinstance(line, Tag) else [line] if isinstance(line, str | Seg) else list(line)
                    )
                    p = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
                    p.paragraph_format.alignment = CENTER
                    p.paragraph_format.space_after = Pt(0)
                    p.paragraph_format.keep_with_next = True
                    self._runs(p, segments)
        for row in table.rows:  # never split a signature block over two pages
            row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))

    def _meterai_box(self, cell: _Cell, box: MeteraiBox) -> None:
        """A bordered 2.4 x 1.8 cm box, centred in the block, for the (e-)meterai stamped before signing."""
        inner = cell.add_table(rows=1, cols=1)
        inner.alignment = WD_TABLE_ALIGNMENT.CENTER
        self._borders(inner, "single")
        self._fixed(inner, (2.4,))
        tr_pr = inner.rows[0]._tr.get_or_add_trPr()
        height = OxmlElement("w:trHeight")
        height.set(qn("w:val"), str(int(Cm(1.8).twips)))
        height.set(qn("w:hRule"), "exact")
        tr_pr.append(height)
        tr_pr.append(OxmlElement("w:cantSplit"))
        box_cell = inner.cell(0, 0)
        v_align = OxmlElement("w:vAlign")
        v_align.set(qn("w:val"), "center")
        box_cell._tc.get_or_add_tcPr().append(v_align)
        self._cell(box_cell, box.label, size=7)
        # python-docx adds an empty paragraph after a nested table (Word wants one); keep it tiny.
        trailing = cell.paragraphs[-1].paragraph_format
        trailing.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        trailing.line_spacing = Pt(1)
        trailing.space_after = Pt(0)
        trailing.keep_with_next = True

    def paraf_box(self, gap: float = 14) -> None:
        """A small bordered box for the hierarchical paraf (at most three officials), kept on one page."""
        self.spacer(gap)
        table = self.doc.add_table(rows=2, cols=3)
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        self._borders(table, "single")
        self._fixed(table, (1.6, 1.6, 1.6))
        head = table.cell(0, 0).merge(table.cell(0, 2))
        self._cell(head, B("Paraf"), size=10)
        head.paragraphs[0].paragraph_format.keep_with_next = True
        for tr in table.rows:
            tr._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        row = table.rows[1]
        tr_pr = row._tr.get_or_add_trPr()
        height = OxmlElement("w:trHeight")
        height.set(qn("w:val"), str(int(Cm(1.2).twips)))
        height.set(qn("w:hRule"), "exact")
        tr_pr.append(height)
        for cell in row.cells:
            self._cell(cell, "")

    def grid(self, header: Sequence[str], row: Sequence[str], widths: Sequence[float], loop: str) -> None:
        """A bordered table: header row, then one row per element of ``loop`` (``{%tr for ... %}``)."""
        table = self.doc.add_table(rows=4, cols=len(header))
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        self._borders(table, "single")
        self._fixed(table, widths)
        for cell, text in zip(table.rows[0].cells, header, strict=True):
            self._cell(cell, B(text), size=10)
        self._cell(table.rows[1].cells[0], f"{{%tr for {loop} %}}", size=10)
        for i, (cell, text) in enumerate(zip(table.rows[2].cells, row, strict=True)):
            self._cell(cell, text, align=CENTER if i == 0 else LEFT, size=10)
        self._cell(table.rows[3].cells[0], "{%tr endfor %}", size=10)
        head_pr = table.rows[0]._tr.get_or_add_trPr()
        head_pr.append(OxmlElement("w:tblHeader"))  # repeat the header on every page

    def rule(self, after: float = 12) -> None:
        """The double line under a kop surat."""
        p = self.para("", after=after)
        borders = OxmlElement("w:pBdr")
        bottom = OxmlElement("w:bottom")
        bottom.set(qn("w:val"), "thinThickSmallGap")
        bottom.set(qn("w:sz"), "18")
        bottom.set(qn("w:space"), "1")
        bottom.set(qn("w:color"), "000000")
        borders.append(bottom)
        p._p.get_or_add_pPr().append(borders)

    def save(self) -> bytes:
        out = io.BytesIO()
        self.doc.save(out)
        return _normalise_zip(out.getvalue())


def _normalise_zip(data: bytes) -> bytes:
    """Same input, same bytes: fixed timestamps so the committed sha256 only changes with content."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


# --- fields (written to the manifests) ------------------------------------------------


@dataclass(frozen=True)
class F:
    name: str
    type: str
    required: bool
    description: str
    items: tuple[F, ...] = ()
    choices: tuple[str, ...] = ()


PIHAK_KESATU = F("pihak_kesatu", "pihak", True, "PIHAK KESATU: Pemerintah Daerah sendiri dan penandatangannya")
PIHAK_KEDUA = F("pihak_kedua", "pihak", True, "PIHAK KEDUA: mitra kerja sama dan penandatangannya")
JUDUL = F("judul", "text", True, "Tentang apa kerja sama ini (judul naskah)")
TANGGAL = F(
    "tanggal",
    "date",
    True,
    "Tanggal naskah (TTTT-BB-HH), ditulis dengan huruf pada kalimat pembuka: tatap muka ditandatangani pada "
    "tanggal ini; desk to desk tanggal lain perlu konfirmasi dengan catatan",
)
TEMPAT = F(
    "tempat",
    "text",
    False,
    "Tempat penandatanganan tatap muka, mis. Tanah Grogot (wajib untuk tatap muka; naskah desk to desk tidak "
    "menyebut satu tempat)",
)
CARA = F(
    "cara_penandatanganan",
    "choice",
    False,
    "tatap_muka (bawaan: PARA PIHAK menandatangani bersama di satu tempat) atau desk (desk to desk: setiap pihak "
    "menandatangani secara elektronik di tempatnya sendiri); harus sama dengan mode rencana tanda tangan",
    choices=("tatap_muka", "desk"),
)
DASAR_HUKUM = F(
    "dasar_hukum",
    "text_list",
    True,
    "Peraturan yang diperhatikan, satu per butir (paling sedikit satu; kosong = dasar hukum baku jenis kerja sama, "
    "lihat dasar_hukum_baku)",
)
MAKSUD = F(
    "maksud", "text", True, "Maksud kerja sama, tanpa titik di akhir (mis. 'sebagai pedoman bagi PARA PIHAK ...')"
)
TUJUAN = F("tujuan", "text", True, "Tujuan kerja sama, tanpa titik di akhir")
OBJEK = F("objek", "text", True, "Objek kerja sama, tanpa titik di akhir")
RUANG_LINGKUP = F(
    "ruang_lingkup", "text_list", True, "Ruang lingkup, satu kegiatan per butir, tanpa tanda baca di akhir"
)
MULAI = F("mulai", "date", True, "Awal jangka waktu (TTTT-BB-HH); lamanya dihitung dari mulai dan selesai")
SELESAI = F("selesai", "date", True, "Akhir jangka waktu (TTTT-BB-HH)")
METERAI = F(
    "bermeterai",
    "boolean",
    False,
    "true bila naskah asli elektronik dibubuhi meterai elektronik (kotak meterai di blok tanda tangan PIHAK KEDUA)",
)
LAMBANG = [
    F(f"lambang_{key}", "image", False, f"Lambang {label} (diisi sistem dari lambang yang diunggah untuk pihak ini)")
    for key, label in (("pihak_kesatu", "PIHAK KESATU"), ("pihak_kedua", "PIHAK KEDUA"))
]

RENCANA_ITEMS = (
    F("program", "text", True, "Program/kegiatan"),
    F("output", "text", True, "Output/target"),
    F("lokasi", "text", True, "Lokasi"),
    F("jadwal", "text", True, "Jadwal pelaksanaan"),
    F("pj_pihak_kesatu", "text", True, "Penanggung jawab dari PIHAK KESATU"),
    F("pj_pihak_kedua", "text", True, "Penanggung jawab dari PIHAK KEDUA"),
    F("sumber_dana", "text", True, "Sumber dana"),
    F("keterangan", "text", False, "Keterangan"),
)
KUASA_ITEMS = (
    F("nomor", "text", True, "Nomor Surat Kuasa"),
    F("tanggal", "date", True, "Tanggal Surat Kuasa (TTTT-BB-HH)"),
    F("pemberi_jabatan", "text", True, "Jabatan pemberi kuasa, mis. Bupati Paser"),
)
PENERIMA_ITEMS = (
    F("nama", "text", True, "Nama penerima kuasa dengan gelar"),
    F("jabatan", "text", True, "Jabatan penerima kuasa (Kepala Perangkat Daerah teknis)"),
    F("nip", "text", True, "NIP penerima kuasa, mis. 19661211 198609 1 002"),
    F("pangkat", "text", False, "Pangkat/golongan, mis. Pembina Utama Muda (IV/c)"),
)


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML basic strings


def _toml_field(f: F, table: str) -> list[str]:
    lines = [
        f"[[{table}]]",
        f"name = {_toml_str(f.name)}",
        f"type = {_toml_str(f.type)}",
        f"required = {'true' if f.required else 'false'}",
        f"description = {_toml_str(f.description)}",
    ]
    if f.choices:
        lines.append(f"choices = [{', '.join(_toml_str(c) for c in f.choices)}]")
    for sub in f.items:
        lines += ["", *_toml_field(sub, f"{table}.items")]
    return lines


def manifest(jenis: str, title: str, description: str, serves: Sequence[str], fields: Sequence[F]) -> str:
    lines = [
        "# Generated by templates/build.py — edit there, then run: .venv/bin/python templates/build.py",
        "# Field types: text | integer | rupiah | date | boolean | text_list | pihak | table | object | image.",
        "# 'pihak' = {instansi, nama, jabatan, nomor (wajib); nip, alamat (opsional)}:",
        "# see pipeline/drafting/templates.py.",
        "",
        "[template]",
        f"jenis = {_toml_str(jenis)}",
        f"title = {_toml_str(title)}",
        f"description = {_toml_str(description)}",
        f"serves = [{', '.join(_toml_str(s) for s in serves)}]",
        "",
        "# Per-page paraf marks (PDF points): distances from the page corner's edges to the box.",
        "[paraf]",
        f"corner = {_toml_str(PARAF['corner'])}",
        *(f"{k} = {PARAF[k]}" for k in ("x", "y", "width", "height")),
    ]
    for f in fields:
        lines += ["", *_toml_field(f, "fields")]
    return "\n".join(lines) + "\n"


# --- shared parts of KB, NK and PKS ---------------------------------------------------


def lambang_row(n: Naskah, keys: Sequence[str]) -> None:
    """The parties' lambang side by side (PIHAK KESATU first), each only when the case gives one.

    The images come from the pipeline (``lambang_pihak_*`` "image" fields, docxtpl
    InlineImage); without any lambang the row is left out altogether.
    """
    n.tag("{%p if " + " or ".join(f"lambang_{k}" for k in keys) + " %}")
    table = n.doc.add_table(rows=1, cols=len(keys))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    n._borders(table, "nil")
    n._fixed(table, [16.0 / len(keys)] * len(keys))
    for cell, key in zip(table.rows[0].cells, keys, strict=True):
        n._cell(cell, f"{{% if lambang_{key} %}}{{{{ lambang_{key} }}}}{{% endif %}}")
    n.tag("{%p endif %}")
    n.para("", after=6)


def nomor_block(
    n: Naskah,
    *,
    align: WD_TABLE_ALIGNMENT = WD_TABLE_ALIGNMENT.CENTER,
    after: float = 18,
    widths: tuple[float, float] = (8.0, 8.0),
) -> None:
    """Each party's own nomor, labelled with the party: "PEMERINTAH KABUPATEN PASER   NOMOR : ..."."""
    table = n.doc.add_table(rows=2, cols=2)
    table.alignment = align
    n._borders(table, "nil")
    n._fixed(table, widths)
    for row, key in zip(table.rows, ("pihak_kesatu", "pihak_kedua"), strict=True):
        n._cell(row.cells[0], f"{{{{ {key}.instansi|upper }}}}", align=LEFT)
        n._cell(row.cells[1], f"NOMOR : {{{{ {key}.nomor }}}}", align=LEFT)
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    n.spacer(after)


def title_block(n: Naskah, kind: str) -> None:
    lambang_row(n, ("pihak_kesatu", "pihak_kedua"))
    n.heading(kind)
    n.heading("ANTARA")
    n.heading("{{ pihak_kesatu.instansi|upper }}")
    n.heading("DENGAN")
    n.heading("{{ pihak_kedua.instansi|upper }}")
    n.heading("TENTANG")
    n.heading("{{ judul|upper }}", after=12)
    nomor_block(n)


def opening(n: Naskah) -> None:
    # Desk to desk: each party signs in its own office, so the text claims no one place.
    n.para(
        "Pada hari ini {{ tanggal|tanggal_terbilang }}"
        "{% if cara_penandatanganan == 'tatap_muka' %}, bertempat di {{ tempat }}{% endif %}"
        ", yang bertanda tangan di bawah ini:"
    )


def penutup_tanggal(name: str) -> str:
    """The PENUTUP's date/place phrase: tatap muka signs together on the stated day; desk to desk
    signs electronically in each party's own place, the stated date being the naskah's date."""
    return (
        "{% if cara_penandatanganan == 'desk' %} di tempat kedudukan masing-masing, dengan hari "
        f"dan tanggal sebagaimana tersebut di atas sebagai tanggal {name} ini"
        "{% else %} pada hari dan tanggal sebagaimana tersebut di atas{% endif %}"
    )


def acting_under(key: str, kuasa: str) -> str:
    """How a party's signer acts: in his jabatan, or under a Surat Kuasa cited by nomor and date."""
    return (
        f"{{% if {kuasa} %}}dalam hal ini bertindak dalam jabatannya berdasarkan Surat Kuasa "
        f"{{{{ {kuasa}.pemberi_jabatan }}}} Nomor {{{{ {kuasa}.nomor }}}} tanggal {{{{ {kuasa}.tanggal|tanggal }}}}, "
        f"untuk dan atas nama {{{{ {key}.instansi }}}}{{% else %}}dalam hal ini bertindak dalam jabatannya "
        f"untuk dan atas nama {{{{ {key}.instansi }}}}{{% endif %}}"
    )


def party(n: Naskah, number: int, key: str, label: str, acting: str | None = None) -> None:
    acting = acting or f"dalam hal ini bertindak dalam jabatannya untuk dan atas nama {{{{ {key}.instansi }}}}"
    n.item(
        f"{number}.",
        B(f"{{{{ {key}.nama }}}}"),
        f" : {{{{ {key}.jabatan }}}}, {acting}"
        f"{{% if {key}.alamat %}}, berkedudukan di {{{{ {key}.alamat }}}}{{% endif %}}, selanjutnya disebut ",
        B(label),
        ";" if number == 1 else ".",
    )


def para_pihak(n: Naskah, naskah_name: str, about: str) -> None:
    """PARA PIHAK agree ... with regard to the dasar hukum (required: one is a sentence, more a list)."""
    agree: list[Text] = [
        B("PIHAK KESATU"),
        " dan ",
        B("PIHAK KEDUA"),
        " yang selanjutnya secara bersama-sama disebut ",
        B("PARA PIHAK"),
        f", sepakat untuk mengadakan {naskah_name} {about}",
    ]
    n.tag("{%p if dasar_hukum|length == 1 %}")
    n.para(*agree, " dengan memperhatikan {{ dasar_hukum|first }}, dengan ketentuan sebagai berikut:")
    n.tag("{%p else %}")
    n.para(*agree, " dengan memperhatikan ketentuan:")
    n.loop("dasar_hukum", "d", "{{ d }}", label="angka", ending="{% if not loop.last %};{% else %},{% endif %}")
    n.para("dengan ketentuan sebagai berikut:")
    n.tag("{%p endif %}")


def maksud_tujuan(n: Naskah, name: str) -> None:
    n.pasal("Maksud dan Tujuan")
    n.ayat(1, f"Maksud {name} ini adalah ", "{{ maksud|pihak_tebal }}", ".")
    n.ayat(2, f"Tujuan {name} ini adalah ", "{{ tujuan|pihak_tebal }}", ".")


def objek_ruang_lingkup(n: Naskah, name: str) -> None:
    n.pasal("Objek dan Ruang Lingkup")
    n.ayat(1, f"Objek {name} ini adalah ", "{{ objek|pihak_tebal }}", ".")
    n.ayat_list(2, [f"Ruang lingkup {name} ini meliputi"], "ruang_lingkup")


def jangka_waktu(n: Naskah, name: str) -> None:
    n.pasal("Jangka Waktu")
    n.ayat(
        1,
        f"{name} ini berlaku untuk jangka waktu {{{{ mulai|jangka_waktu(selesai) }}}} terhitung sejak tanggal "
        "{{ mulai|tanggal }} sampai dengan tanggal {{ selesai|tanggal }}.",
    )
    n.ayat(
        2,
        f"{name} ini dapat diperpanjang atas kesepakatan ",
        B("PARA PIHAK"),
        " melalui proses kerja sama sesuai dengan ketentuan peraturan perundang-undangan.",
    )


def keadaan_kahar(n: Naskah, name: str) -> None:
    n.pasal("Keadaan Kahar")
    n.ayat(
        1,
        "Keadaan kahar adalah keadaan di luar kemampuan ",
        B("PARA PIHAK"),
        " yang tidak dapat diperkirakan sebelumnya, antara lain bencana alam, wabah penyakit, kebakaran, huru-hara, "
        f"perang, serta kebijakan Pemerintah yang berakibat langsung terhadap pelaksanaan {name} ini.",
    )
    n.ayat(
        2,
        "Pihak yang mengalami keadaan kahar memberitahukan secara tertulis kepada pihak lainnya paling lambat "
        "14 (empat belas) hari sejak terjadinya keadaan kahar.",
    )
    n.ayat(
        3,
        "Keterlambatan atau tidak terlaksananya kewajiban karena keadaan kahar tidak dianggap sebagai kelalaian, dan ",
        B("PARA PIHAK"),
        " bermusyawarah untuk menentukan langkah selanjutnya.",
    )


def perselisihan(n: Naskah, name: str) -> None:
    n.pasal("Penyelesaian Perselisihan")
    n.ayat(
        1,
        f"Apabila terjadi perselisihan dalam penafsiran dan pelaksanaan {name} ini, ",
        B("PARA PIHAK"),
        " sepakat menyelesaikannya secara musyawarah untuk mufakat.",
    )
    n.ayat(
        2,
        "Apabila musyawarah sebagaimana dimaksud pada ayat (1) tidak mencapai mufakat, perselisihan diselesaikan "
        "sesuai dengan ketentuan peraturan perundang-undangan.",
    )


def perubahan(n: Naskah, name: str) -> None:
    n.pasal("Perubahan")
    n.ayat(
        1,
        f"Hal-hal yang belum diatur atau perubahan atas {name} ini diatur lebih lanjut oleh ",
        B("PARA PIHAK"),
        " dalam bentuk addendum atas kesepakatan ",
        B("PARA PIHAK"),
        ".",
    )
    n.ayat(2, f"Addendum sebagaimana dimaksud pada ayat (1) merupakan bagian yang tidak terpisahkan dari {name} ini.")


def pengakhiran(n: Naskah, name: str) -> None:
    n.pasal("Pengakhiran")
    n.ayat(1, f"{name} ini berakhir apabila:")
    items: Sequence[Sequence[Text]] = (
        [f"jangka waktu sebagaimana dimaksud dalam Pasal {n.pasal_numbers['Jangka Waktu']} berakhir;"],
        ["disepakati oleh ", B("PARA PIHAK"), " untuk diakhiri; atau"],
        ["terdapat ketentuan peraturan perundang-undangan yang mengakibatkannya tidak dapat dilaksanakan."],
    )
    for letter, text in zip("abc", items, strict=True):
        n.item(f"{letter}.", *text, left=1.0)
    n.ayat(
        2,
        f"Pihak yang bermaksud mengakhiri {name} ini sebelum jangka waktunya berakhir memberitahukan secara tertulis "
        "kepada pihak lainnya paling lambat 3 (tiga) bulan sebelumnya.",
    )
    n.ayat(
        3,
        f"Berakhirnya {name} ini tidak mempengaruhi kegiatan yang sedang berjalan sampai dengan selesainya "
        "kegiatan tersebut, kecuali disepakati lain oleh ",
        B("PARA PIHAK"),
        ".",
    )


def penutup(n: Naskah, name: str) -> None:
    """What is really done: ONE electronic original, signed electronically, the same file kept by each party.

    The paragraph keeps with the signature blocks (keep-with-next), so the blocks never stand on
    a page without the agreement's text.
    """
    n.pasal("Penutup")
    n.para(
        f"{name} ini dibuat dalam 1 (satu) naskah asli berupa dokumen elektronik yang ditandatangani secara "
        "elektronik oleh ",
        B("PARA PIHAK"),
        penutup_tanggal(name),
        "{% if bermeterai %} dan dibubuhi meterai elektronik{% endif %}. Masing-masing pihak menyimpan dokumen "
        "elektronik yang sama, yang berlaku sebagai naskah asli dan mempunyai kekuatan hukum yang sama.",
        keep=True,
    )


def sign_party(key: str, label: str, *, kuasa: str | None = None, meterai: bool = False) -> SignBlock:
    """A party's block: PIHAK …, (a.n. the pemberi kuasa,) the jabatan, the meterai box, the signing space, the name.

    ``kuasa`` names the object field of the Surat Kuasa the signer may act under: its
    pemberi kuasa then heads the jabatan as "a.n. BUPATI PASER" (Tata Naskah Dinas).
    """
    heading: list[Line] = [B(f"{label},")]
    if kuasa:
        heading += [
            Tag(f"{{%p if {kuasa} %}}"),
            B(f"a.n. {{{{ {kuasa}.pemberi_jabatan|upper }}}}"),
            Tag("{%p endif %}"),
        ]
    heading.append(B(f"{{{{ {key}.jabatan|upper }}}},"))
    if meterai:
        heading += [Tag("{%p if bermeterai %}"), MeteraiBox(), Tag("{%p endif %}")]
    heading.append(SIGNING_SPACE)
    return (
        heading,
        [
            Seg(f"{{{{ {key}.nama }}}}", bold=True, underline=True),
            f"{{% if {key}.nip %}}NIP. {{{{ {key}.nip }}}}{{% endif %}}",
        ],
    )


def signature_block(n: Naskah, *, kuasa: bool = False) -> None:
    """PIHAK KEDUA left, PIHAK KESATU right, then the Paraf box; the one meterai box (when
    ``bermeterai``: one electronic original bears one meterai) in PIHAK KEDUA's block."""
    n.signatures(
        sign_party("pihak_kedua", "PIHAK KEDUA", kuasa="kuasa_pihak_kedua" if kuasa else None, meterai=True),
        sign_party("pihak_kesatu", "PIHAK KESATU", kuasa="kuasa" if kuasa else None),
    )
    n.paraf_box()


# --- the four templates ---------------------------------------------------------------

Builder = Callable[[], tuple[Naskah, str]]


def build_kb() -> tuple[Naskah, str]:
    name = "Kesepakatan Bersama"
    n = Naskah("Templat Kesepakatan Bersama (standar)")
    title_block(n, "KESEPAKATAN BERSAMA")
    opening(n)
    party(n, 1, "pihak_kesatu", "PIHAK KESATU")
    party(n, 2, "pihak_kedua", "PIHAK KEDUA")
    para_pihak(n, name, "tentang {{ judul }}")
    maksud_tujuan(n, name)
    objek_ruang_lingkup(n, name)
    n.pasal("Pelaksanaan")
    n.ayat(
        1,
        f"Pelaksanaan {name} ini dijabarkan lebih lanjut dalam Perjanjian Kerja Sama yang disusun oleh Perangkat "
        "Daerah/unit kerja teknis ",
        B("PARA PIHAK"),
        " sesuai dengan tugas dan fungsinya.",
    )
    n.ayat(
        2,
        f"Perjanjian Kerja Sama sebagaimana dimaksud pada ayat (1) mengacu pada {name} ini dan jangka waktunya "
        f"tidak melebihi jangka waktu {name} ini.",
    )
    n.pasal("Pembiayaan")
    n.para(
        f"Biaya yang timbul dalam pelaksanaan {name} ini dibebankan pada anggaran masing-masing ",
        B("PARA PIHAK"),
        " dan/atau sumber lain yang sah dan tidak mengikat sesuai dengan ketentuan peraturan perundang-undangan.",
    )
    jangka_waktu(n, name)
    keadaan_kahar(n, name)
    perselisihan(n, name)
    perubahan(n, name)
    pengakhiran(n, name)
    penutup(n, name)
    signature_block(n)
    fields = [JUDUL, PIHAK_KESATU, PIHAK_KEDUA, *LAMBANG, TANGGAL, TEMPAT, CARA, DASAR_HUKUM, MAKSUD, TUJUAN]
    fields += [OBJEK, RUANG_LINGKUP, MULAI, SELESAI, METERAI]
    return n, manifest(
        "KB",
        "Kesepakatan Bersama (standar)",
        "Kesepakatan Bersama antara Pemerintah Daerah dan daerah lain atau pihak ketiga: kerangka kerja sama "
        "yang ditindaklanjuti dengan Perjanjian Kerja Sama. Ditandatangani Kepala Daerah.",
        ["KSDD", "KSDPK"],
        fields,
    )


def build_nk() -> tuple[Naskah, str]:
    name = "Nota Kesepakatan"
    n = Naskah("Templat Nota Kesepakatan dengan Rencana Kerja (standar)")
    title_block(n, "NOTA KESEPAKATAN")
    opening(n)
    party(n, 1, "pihak_kesatu", "PIHAK KESATU")
    party(n, 2, "pihak_kedua", "PIHAK KEDUA")
    para_pihak(n, name, "tentang {{ judul }}")
    maksud_tujuan(n, name)
    objek_ruang_lingkup(n, name)
    n.pasal("Pelaksanaan")
    n.ayat(
        1,
        f"Pelaksanaan {name} ini dituangkan dalam Rencana Kerja sebagaimana tercantum dalam Lampiran yang "
        f"merupakan bagian tidak terpisahkan dari {name} ini.",
    )
    n.ayat(
        2,
        "Rencana Kerja sebagaimana dimaksud pada ayat (1) dapat ditinjau setiap tahun atas kesepakatan ",
        B("PARA PIHAK"),
        ".",
    )
    n.pasal("Pembiayaan")
    n.para(
        f"Biaya yang timbul dalam pelaksanaan {name} ini dibebankan pada Anggaran Pendapatan dan Belanja Daerah "
        "(APBD), Anggaran Pendapatan dan Belanja Negara (APBN) sesuai dengan kewenangan masing-masing ",
        B("PARA PIHAK"),
        ", dan/atau sumber lain yang sah dan tidak mengikat sesuai dengan ketentuan peraturan perundang-undangan.",
    )
    jangka_waktu(n, name)
    keadaan_kahar(n, name)
    perselisihan(n, name)
    perubahan(n, name)
    pengakhiran(n, name)
    penutup(n, name)
    signature_block(n)

    # The Rencana Kerja is part of the one signed file: it carries no signature blocks of its own,
    # so each party signs once, where the PENUTUP prints the blocks (every printed block is signed).
    n.landscape_section()
    n.para(B("LAMPIRAN"), align=LEFT, after=0)
    n.para(
        B("NOTA KESEPAKATAN ANTARA {{ pihak_kesatu.instansi|upper }} DENGAN {{ pihak_kedua.instansi|upper }}"),
        align=LEFT,
        after=0,
    )
    nomor_block(n, align=WD_TABLE_ALIGNMENT.LEFT, after=1, widths=(12.0, 12.0))
    n.para("TANGGAL : {{ tanggal|tanggal }}", align=LEFT, after=0)
    n.para("TENTANG : {{ judul|upper }}", align=LEFT, after=12)
    n.heading("RENCANA KERJA", after=6)
    n.grid(
        [
            "No",
            "Program/Kegiatan",
            "Output/Target",
            "Lokasi",
            "Jadwal",
            "Penanggung Jawab PIHAK KESATU",
            "Penanggung Jawab PIHAK KEDUA",
            "Sumber Dana",
            "Keterangan",
        ],
        [
            "{{ loop.index }}",
            "{{ r.program }}",
            "{{ r.output }}",
            "{{ r.lokasi }}",
            "{{ r.jadwal }}",
            "{{ r.pj_pihak_kesatu }}",
            "{{ r.pj_pihak_kedua }}",
            "{{ r.sumber_dana }}",
            "{{ r.keterangan }}",
        ],
        (1.0, 4.2, 3.0, 2.8, 2.6, 3.2, 3.2, 2.4, 2.3),
        "r in rencana_kerja",
    )
    fields = [JUDUL, PIHAK_KESATU, PIHAK_KEDUA, *LAMBANG, TANGGAL, TEMPAT, CARA, DASAR_HUKUM, MAKSUD, TUJUAN]
    fields += [OBJEK]
    fields += [
        RUANG_LINGKUP,
        F("rencana_kerja", "table", True, "Rencana Kerja (lampiran): satu baris per kegiatan", RENCANA_ITEMS),
        MULAI,
        SELESAI,
        METERAI,
    ]
    return n, manifest(
        "NK",
        "Nota Kesepakatan dengan Rencana Kerja (standar)",
        "Nota Kesepakatan antara Pemerintah Daerah dan instansi vertikal, dengan Rencana Kerja sebagai lampiran. "
        "Proses kerja sama selesai ketika Nota Kesepakatan ditandatangani (tanpa PKS).",
        ["KSIV"],
        fields,
    )


def build_pks() -> tuple[Naskah, str]:
    name = "Perjanjian Kerja Sama"
    n = Naskah("Templat Perjanjian Kerja Sama (standar)")
    title_block(n, "PERJANJIAN KERJA SAMA")
    opening(n)
    party(n, 1, "pihak_kesatu", "PIHAK KESATU", acting=acting_under("pihak_kesatu", "kuasa"))
    party(n, 2, "pihak_kedua", "PIHAK KEDUA", acting=acting_under("pihak_kedua", "kuasa_pihak_kedua"))
    para_pihak(
        n,
        name,
        "tentang {{ judul }} sebagai tindak lanjut Kesepakatan Bersama antara {{ pihak_kesatu.instansi }} dengan "
        "{{ pihak_kedua.instansi }} Nomor {{ kb_nomor_pihak_kesatu }} dan Nomor {{ kb_nomor_pihak_kedua }}"
        "{% if kb_tanggal %} tanggal {{ kb_tanggal|tanggal }}{% endif %} tentang {{ kb_judul }},",
    )
    maksud_tujuan(n, name)
    objek_ruang_lingkup(n, name)
    n.pasal("Pelaksanaan")
    n.ayat(
        1,
        f"Pelaksanaan {name} ini dilakukan oleh {{{{ opd_teknis }}}} untuk ",
        B("PIHAK KESATU"),
        "{% if opd_teknis_pihak_kedua %} dan {{ opd_teknis_pihak_kedua }} untuk {% endif %}",
        B("{% if opd_teknis_pihak_kedua %}PIHAK KEDUA{% endif %}"),
        ".",
    )
    n.ayat(
        2,
        B("PARA PIHAK"),
        f" melakukan pemantauan dan evaluasi atas pelaksanaan {name} ini paling sedikit 1 (satu) kali dalam "
        "1 (satu) tahun.",
    )
    n.pasal("Hak dan Kewajiban")
    for i, (what, key, label) in enumerate(
        (
            ("berhak", "hak_pihak_kesatu", "PIHAK KESATU"),
            ("berkewajiban", "kewajiban_pihak_kesatu", "PIHAK KESATU"),
            ("berhak", "hak_pihak_kedua", "PIHAK KEDUA"),
            ("berkewajiban", "kewajiban_pihak_kedua", "PIHAK KEDUA"),
        ),
        start=1,
    ):
        n.ayat_list(i, [B(label), f" {what}"], key)
    n.pasal("Pembiayaan")
    biaya: list[Text] = [
        f"Biaya yang timbul dalam pelaksanaan {name} ini dibebankan pada "
        "{% if sumber_dana %}{{ sumber_dana }}{% else %}anggaran masing-masing {% endif %}",
        B("{% if not sumber_dana %}PARA PIHAK{% endif %}"),
        " dan/atau sumber lain yang sah dan tidak mengikat sesuai dengan ketentuan peraturan perundang-undangan.",
    ]
    n.tag("{%p if nilai is not none %}")  # a pasal of one paragraph has no ayat (1)
    n.ayat(1, *biaya)
    n.ayat(2, f"Nilai {name} ini sebesar {{{{ nilai|rupiah }}}} ({{{{ nilai|rupiah_terbilang }}}}).")
    n.tag("{%p else %}")
    n.para(*biaya)
    n.tag("{%p endif %}")
    jangka_waktu(n, name)
    keadaan_kahar(n, name)
    perselisihan(n, name)
    perubahan(n, name)
    pengakhiran(n, name)
    penutup(n, name)
    signature_block(n, kuasa=True)
    fields = [
        JUDUL,
        PIHAK_KESATU,
        PIHAK_KEDUA,
        *LAMBANG,
        TANGGAL,
        TEMPAT,
        CARA,
        F("kb_judul", "text", True, "Judul Kesepakatan Bersama yang ditindaklanjuti"),
        F("kb_nomor_pihak_kesatu", "text", True, "Nomor Kesepakatan Bersama dalam register PIHAK KESATU"),
        F("kb_nomor_pihak_kedua", "text", True, "Nomor Kesepakatan Bersama dalam register PIHAK KEDUA"),
        F("kb_tanggal", "date", False, "Tanggal Kesepakatan Bersama (TTTT-BB-HH)"),
        F(
            "kuasa",
            "object",
            False,
            "Isi bila penandatangan PIHAK KESATU bertindak berdasarkan Surat Kuasa Kepala Daerah",
            KUASA_ITEMS,
        ),
        F(
            "kuasa_pihak_kedua",
            "object",
            False,
            "Isi bila penandatangan PIHAK KEDUA bertindak berdasarkan surat kuasa pimpinannya (dikutip dari "
            "surat kuasa mitra; tidak diverifikasi sistem)",
            KUASA_ITEMS,
        ),
        DASAR_HUKUM,
        MAKSUD,
        TUJUAN,
        OBJEK,
        RUANG_LINGKUP,
        F("opd_teknis", "text", True, "Perangkat Daerah teknis pelaksana dari PIHAK KESATU"),
        F("opd_teknis_pihak_kedua", "text", False, "Unit kerja pelaksana dari PIHAK KEDUA"),
        F("hak_pihak_kesatu", "text_list", True, "Hak PIHAK KESATU, satu per butir"),
        F("kewajiban_pihak_kesatu", "text_list", True, "Kewajiban PIHAK KESATU, satu per butir"),
        F("hak_pihak_kedua", "text_list", True, "Hak PIHAK KEDUA, satu per butir"),
        F("kewajiban_pihak_kedua", "text_list", True, "Kewajiban PIHAK KEDUA, satu per butir"),
        F("nilai", "rupiah", False, "Nilai perjanjian dalam rupiah, bila ada (mis. 1250000000)"),
        F("sumber_dana", "text", False, "Sumber dana, mis. Anggaran Pendapatan dan Belanja Daerah Kota Balikpapan"),
        MULAI,
        SELESAI,
        METERAI,
    ]
    return n, manifest(
        "PKS",
        "Perjanjian Kerja Sama (standar)",
        "Perjanjian Kerja Sama sebagai tindak lanjut Kesepakatan Bersama, disusun bersama Perangkat Daerah teknis; "
        "dapat ditandatangani Kepala Perangkat Daerah berdasarkan Surat Kuasa.",
        ["KSDD", "KSDPK"],
        fields,
    )


def build_sk() -> tuple[Naskah, str]:
    """The Surat Kuasa: the Kepala Daerah's own kop (his lambang, "BUPATI PASER"), compact so
    that the usual text fits one page with both blocks side by side."""
    n = Naskah("Templat Surat Kuasa penandatanganan PKS (standar)")
    n.doc.styles["Normal"].paragraph_format.line_spacing = 1.0  # compact: the usual Surat Kuasa is one page
    n.doc.sections[0].top_margin = Cm(2.0)  # the kop stands at the top of the sheet
    n.tag("{%p if lambang_pihak_kesatu %}")
    n.para("{{ lambang_pihak_kesatu }}", align=CENTER, after=2)
    n.tag("{%p endif %}")
    # Kop naskah dinas of the Kepala Daerah: the jabatan, not the Pemerintah Daerah with its address.
    n.heading(Seg("{{ pihak_kesatu.jabatan|upper }}", bold=True, size=14), keep=False)
    n.rule(after=4)
    n.heading(Seg("SURAT KUASA", bold=True, underline=True))
    n.para("NOMOR : {{ nomor }}", align=CENTER, after=8)
    n.para("Yang bertanda tangan di bawah ini:", after=2)
    tabs = (1.0, 5.0, 5.5)

    def line(label: str, value: str) -> None:
        n.para(f"\t{label}\t:\t{value}", tabs=tabs, left=0, hanging=0, after=0, align=LEFT)

    line("Nama", "{{ pihak_kesatu.nama }}")
    line("Jabatan", "{{ pihak_kesatu.jabatan }}")
    n.tag("{%p if pihak_kesatu.nip %}")
    line("NIP", "{{ pihak_kesatu.nip }}")
    n.tag("{%p endif %}")
    n.para("selanjutnya disebut ", B("Pemberi Kuasa"), ", dengan ini memberi kuasa kepada:", after=2, before=4)
    line("Nama", "{{ penerima_kuasa.nama }}")
    n.tag("{%p if penerima_kuasa.pangkat %}")
    line("Pangkat/Golongan", "{{ penerima_kuasa.pangkat }}")
    n.tag("{%p endif %}")
    line("NIP", "{{ penerima_kuasa.nip }}")
    line("Jabatan", "{{ penerima_kuasa.jabatan }}")
    n.para("selanjutnya disebut ", B("Penerima Kuasa"), ",", after=2, before=4)
    n.para(B("untuk:"), after=2)
    n.item(
        "1.",
        "menandatangani Perjanjian Kerja Sama antara {{ pihak_kesatu.instansi }} dengan {{ pihak_kedua.instansi }} "
        "tentang {{ pks_judul }}, untuk dan atas nama {{ pihak_kesatu.instansi }}, sebagai tindak lanjut Kesepakatan "
        "Bersama Nomor {{ kb_nomor_pihak_kesatu }}{% if kb_nomor_pihak_kedua %} dan Nomor {{ kb_nomor_pihak_kedua }}"
        "{% endif %}; dan",
        after=2,
    )
    n.item("2.", "melaporkan pelaksanaan kuasa ini kepada Pemberi Kuasa.", after=4)
    n.para(
        "Penerima Kuasa tidak dapat melimpahkan kuasa ini kepada pihak lain. Surat Kuasa ini berlaku sejak tanggal "
        "ditetapkan sampai dengan {% if berlaku_sampai %}tanggal {{ berlaku_sampai|tanggal }}"
        "{% else %}ditandatanganinya Perjanjian Kerja Sama dimaksud{% endif %}.",
        after=4,
    )
    n.para("Demikian Surat Kuasa ini dibuat untuk dipergunakan sebagaimana mestinya.", after=6, keep=True)
    # Place and date above both blocks, on the side of the pemberi kuasa.
    n.para("Ditetapkan di {{ tempat }}", align=LEFT, left=9.0, after=0, keep=True)
    n.para("pada tanggal {{ tanggal|tanggal }}", align=LEFT, left=9.0, after=0, keep=True)
    n.signatures(
        (
            [B("Yang diberi kuasa,"), B("{{ penerima_kuasa.jabatan|upper }},"), SIGNING_SPACE],
            [
                Seg("{{ penerima_kuasa.nama }}", bold=True, underline=True),
                "{{ penerima_kuasa.pangkat }}",
                "NIP. {{ penerima_kuasa.nip }}",
            ],
        ),
        (
            [
                B("Yang memberi kuasa,"),
                B("{{ pihak_kesatu.jabatan|upper }},"),
                Tag("{%p if bermeterai %}"),
                MeteraiBox(),
                Tag("{%p endif %}"),
                SIGNING_SPACE,
            ],
            [
                Seg("{{ pihak_kesatu.nama }}", bold=True, underline=True),
                "{% if pihak_kesatu.nip %}NIP. {{ pihak_kesatu.nip }}{% endif %}",
            ],
        ),
        gap=6,
    )
    n.paraf_box(gap=6)
    fields = [
        F("nomor", "text", True, "Nomor Surat Kuasa dalam register Pemerintah Daerah"),
        F(
            "pihak_kesatu",
            "pihak",
            True,
            "Pemerintah Daerah pemberi kuasa; nama/jabatan = Kepala Daerah (pemberi kuasa)",
        ),
        F(
            "pihak_kedua",
            "pihak",
            True,
            "Mitra dalam Perjanjian Kerja Sama yang dikuasakan (hanya instansi yang dipakai)",
        ),
        LAMBANG[0],
        F("penerima_kuasa", "object", True, "Kepala Perangkat Daerah teknis yang diberi kuasa", PENERIMA_ITEMS),
        F("pks_judul", "text", True, "Judul Perjanjian Kerja Sama yang dikuasakan penandatanganannya"),
        F("kb_nomor_pihak_kesatu", "text", True, "Nomor Kesepakatan Bersama (register PIHAK KESATU)"),
        F("kb_nomor_pihak_kedua", "text", False, "Nomor Kesepakatan Bersama (register PIHAK KEDUA)"),
        F("tempat", "text", True, "Tempat Surat Kuasa ditetapkan, mis. Tanah Grogot"),
        F("tanggal", "date", True, "Tanggal Surat Kuasa ditetapkan (TTTT-BB-HH); ditandatangani pada tanggal ini"),
        F("berlaku_sampai", "date", False, "Akhir masa berlaku; kosong = sampai PKS ditandatangani"),
        F(
            "bermeterai",
            "boolean",
            False,
            "true bila Surat Kuasa dibubuhi meterai elektronik (kotak meterai di blok pemberi kuasa)",
        ),
    ]
    return n, manifest(
        "SK",
        "Surat Kuasa penandatanganan PKS (standar)",
        "Surat Kuasa Kepala Daerah kepada Kepala Perangkat Daerah teknis untuk menandatangani Perjanjian Kerja Sama "
        "(hanya PKS, tidak untuk Kesepakatan Bersama atau Nota Kesepakatan).",
        ["KSDD", "KSDPK"],
        fields,
    )


BUILDERS: dict[str, Builder] = {"kb": build_kb, "nk": build_nk, "pks": build_pks, "sk": build_sk}

# --- intake letters (pipeline.intake): templates/intake/<jenis>/<variant>.docx ---------------------

INTAKE_OUT = HERE / "intake"

KOP_ITEMS = (
    F("pemda", "text", True, "Nama Pemerintah Daerah, mis. Pemerintah Kabupaten Paser"),
    F("unit", "text", False, "Unit kerja, mis. Sekretariat Daerah"),
    F("alamat", "text", False, "Alamat kantor, telepon, laman"),
)
PENANDATANGAN_ITEMS = (
    F("jabatan", "text", True, "Jabatan penanda tangan, mis. Bupati Paser"),
    F("nama", "text", True, "Nama penanda tangan dengan gelar"),
    F("pangkat", "text", False, "Pangkat/golongan (pejabat di bawah Kepala Daerah)"),
    F("nip", "text", False, "NIP (pejabat di bawah Kepala Daerah)"),
)
LETTER_FIELDS_HEAD = [
    F("kop", "object", True, "Kop surat: Pemerintah Daerah, unit kerja, alamat", KOP_ITEMS),
    F("lambang", "image", False, "Lambang daerah di kop (diisi sistem dari lambang PIHAK KESATU bila ada)"),
    F("tempat", "text", True, "Tempat surat dibuat, mis. Tanah Grogot"),
    F("tanggal", "date", True, "Tanggal surat (TTTT-BB-HH)"),
    F("nomor", "text", True, "Nomor surat dalam register, mis. 100.3.7.1/45/Pem"),
    F("sifat", "text", False, "Sifat surat, mis. Biasa, Penting, Segera"),
    F("lampiran", "text", False, "Lampiran, mis. 1 (satu) berkas; kosong: -"),
    F("hal", "text", True, "Hal (perihal) surat"),
    F("kepada", "text", True, "Yth. penerima surat, mis. Wali Kota Balikpapan"),
    F("kepada_di", "text", False, "Tempat penerima (baris 'di ...'), mis. Balikpapan"),
]
LETTER_FIELDS_TAIL = [
    F("penandatangan", "object", True, "Pejabat yang menandatangani surat", PENANDATANGAN_ITEMS),
    F("tembusan", "text_list", False, "Tembusan (satu per baris)"),
]


def kop_surat(n: Naskah) -> None:
    """The kop: lambang on the left, the Pemda, unit and address centred ON THE PAGE (a third, empty
    column as wide as the lambang's balances it, so a kop without a lambang is not off-centre), a
    double rule below."""
    table = n.doc.add_table(rows=1, cols=3)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    n._borders(table, "nil")
    n._fixed(table, (2.6, 10.8, 2.6))
    n._cell(table.cell(0, 0), "{% if lambang %}{{ lambang }}{% endif %}")
    cell = table.cell(0, 1)
    n._cell(cell, Seg("{{ kop.pemda|upper }}", bold=True, size=14))
    n.tag("{%p if kop.unit %}", container=cell)
    n.para(Seg("{{ kop.unit|upper }}", bold=True, size=16), align=CENTER, after=0, container=cell)
    n.tag("{%p endif %}", container=cell)
    n.tag("{%p if kop.alamat %}", container=cell)
    n.para(Seg("{{ kop.alamat }}", size=10), align=CENTER, after=0, container=cell)
    n.tag("{%p endif %}", container=cell)
    n.rule(after=10)


def letter_head(n: Naskah) -> None:
    """Nomor, sifat, lampiran and hal on the left; place and date, and the addressee, on the right."""
    table = n.doc.add_table(rows=1, cols=2)
    n._borders(table, "nil")
    n._fixed(table, (9.0, 7.0))
    left, right = table.cell(0, 0), table.cell(0, 1)
    tabs = (2.3, 2.6)

    def line(label: str, value: str, first: bool = False) -> None:
        text = f"{label}\t:\t{value}"
        if first:
            n._cell(left, text, align=LEFT)
            fmt = left.paragraphs[0].paragraph_format
            for tab in tabs:
                fmt.tab_stops.add_tab_stop(Cm(tab))
            fmt.left_indent, fmt.first_line_indent = Cm(2.6), Cm(-2.6)
        else:
            n.para(text, align=LEFT, after=0, tabs=tabs, left=0, hanging=2.6, container=left)

    line("Nomor", "{{ nomor }}", first=True)
    line("Sifat", "{% if sifat %}{{ sifat }}{% else %}Biasa{% endif %}")
    line("Lampiran", "{% if lampiran %}{{ lampiran }}{% else %}-{% endif %}")
    line("Hal", "{{ hal }}")
    n._cell(right, "{{ tempat }}, {{ tanggal|tanggal }}", align=LEFT)
    n.para("", after=0, container=right)
    n.para("Yth. {{ kepada }}", align=LEFT, after=0, container=right)
    n.tag("{%p if kepada_di %}", container=right)
    n.para("di", align=LEFT, after=0, left=0, container=right)
    n.para("{{ kepada_di }}", align=LEFT, after=0, left=0.9, container=right)
    n.tag("{%p endif %}", container=right)
    n.spacer(14)


def letter_signature(n: Naskah, closing: str | None) -> None:
    if closing:
        n.para(closing, keep=True, left=2.6, after=14)
    for text in ("{{ penandatangan.jabatan|upper }},",):
        n.para(B(text), align=CENTER, left=8.0, after=0, keep=True)
    n.spacer(64)
    n.para(Seg("{{ penandatangan.nama }}", bold=True, underline=True), align=CENTER, left=8.0, after=0, keep=True)
    n.tag("{%p if penandatangan.pangkat %}")
    n.para("{{ penandatangan.pangkat }}", align=CENTER, left=8.0, after=0, keep=True)
    n.tag("{%p endif %}")
    n.tag("{%p if penandatangan.nip %}")
    n.para("NIP. {{ penandatangan.nip }}", align=CENTER, left=8.0, after=0)
    n.tag("{%p endif %}")


def tembusan(n: Naskah) -> None:
    n.tag("{%p if tembusan %}")
    n.para(Seg("Tembusan:", underline=True), align=LEFT, before=18, after=0, size=10)
    n.tag("{%p for t in tembusan %}")
    n.para("{{ loop.index }}. {{ t }}", align=LEFT, after=0, size=10)
    n.tag("{%p endfor %}")
    n.tag("{%p endif %}")


def _letter(title: str) -> Naskah:
    n = Naskah(title)
    section = n.doc.sections[0]
    section.top_margin = Cm(1.5)
    section.bottom_margin = Cm(2.0)
    n.doc.styles["Normal"].paragraph_format.line_spacing = 1.0
    return n


def build_surat_dinas() -> tuple[Naskah, str]:
    """A surat dinas (Tata Naskah Dinas): the intake's surat jawaban, balasan, penawaran and permohonan;
    the pipeline writes the paragraphs (``isi``) for each kind, the drafter may change them."""
    n = _letter("Templat surat dinas kerja sama (standar)")
    kop_surat(n)
    letter_head(n)
    n.tag("{%p for p in isi %}")
    n.para("{{ p }}", left=2.6, after=6)
    n.tag("{%p endfor %}")
    letter_signature(n, None)
    tembusan(n)
    fields = [
        *LETTER_FIELDS_HEAD,
        F("isi", "text_list", True, "Paragraf isi surat, satu per butir"),
        *LETTER_FIELDS_TAIL,
    ]
    return n, manifest(
        "SURAT",
        "Surat dinas kerja sama (standar)",
        "Surat jawaban, surat balasan, surat penawaran atau surat permohonan kerja sama (Tata Naskah Dinas).",
        [],
        fields,
    )


def build_surat_undangan() -> tuple[Naskah, str]:
    """The invitation to a TKKSD meeting: when, where, what, and the invitees listed under it."""
    n = _letter("Templat undangan rapat TKKSD (standar)")
    kop_surat(n)
    letter_head(n)
    n.para(
        "Dalam rangka pembahasan {{ perihal }} dari {{ pengirim }}, bersama ini kami mengundang Bapak/Ibu untuk "
        "menghadiri rapat Tim Koordinasi Kerja Sama Daerah (TKKSD) yang akan dilaksanakan pada:",
        left=2.6,
    )
    tabs = (6.0, 6.4)

    def line(label: str, value: str) -> None:
        n.para(f"{label}\t:\t{value}", align=LEFT, left=3.2, hanging=0, tabs=tabs, after=0)

    line("hari, tanggal", "{{ rapat_hari }}, {{ rapat_tanggal|tanggal }}")
    line("pukul", "{{ rapat_pukul }}")
    line("tempat", "{{ rapat_tempat }}")
    line("acara", "{{ acara }}")
    n.spacer(8)
    n.para(
        "Mengingat pentingnya acara tersebut, kami harapkan kehadiran Bapak/Ibu tepat pada waktunya. Atas "
        "perhatian dan kehadirannya diucapkan terima kasih.",
        left=2.6,
        keep=True,
        after=14,
    )
    letter_signature(n, None)
    n.tag("{%p if peserta %}")
    n.para(B("Daftar undangan:"), align=LEFT, before=18, after=2, keep=True)
    n.tag("{%p for u in peserta %}")
    n.para("{{ loop.index }}.\t{{ u }}", align=LEFT, hanging=0.8, after=0)
    n.tag("{%p endfor %}")
    n.tag("{%p endif %}")
    tembusan(n)
    fields = [
        *LETTER_FIELDS_HEAD,
        F("perihal", "text", True, "Perihal usulan kerja sama yang dibahas"),
        F("pengirim", "text", True, "Pengirim usulan (instansi)"),
        F("rapat_hari", "text", True, "Nama hari rapat, mis. Senin (diisi sistem dari tanggal rapat)"),
        F("rapat_tanggal", "date", True, "Tanggal rapat (TTTT-BB-HH)"),
        F("rapat_pukul", "text", True, "Waktu rapat, mis. 09.00 WITA s.d. selesai"),
        F("rapat_tempat", "text", True, "Tempat rapat"),
        F("acara", "text", True, "Acara rapat"),
        F("peserta", "text_list", False, "Yang diundang (OPD teknis, mitra), satu per butir"),
        *LETTER_FIELDS_TAIL,
    ]
    return n, manifest(
        "SURAT",
        "Undangan rapat TKKSD (standar)",
        "Undangan rapat Tim Koordinasi Kerja Sama Daerah untuk membahas usulan kerja sama yang masuk.",
        [],
        fields,
    )


def build_berita_acara() -> tuple[Naskah, str]:
    """The berita acara (notulen) of a TKKSD meeting: who came, what was discussed, the recommendation."""
    n = _letter("Templat berita acara rapat TKKSD (standar)")
    kop_surat(n)
    n.heading(Seg("BERITA ACARA", bold=True, underline=True))
    n.heading("RAPAT TIM KOORDINASI KERJA SAMA DAERAH")
    n.para("NOMOR : {{ nomor }}", align=CENTER, after=12)
    n.para(
        "Pada hari ini {{ rapat_tanggal|tanggal_terbilang }}, bertempat di {{ rapat_tempat }}, telah "
        "dilaksanakan rapat Tim Koordinasi Kerja Sama Daerah (TKKSD) {{ kop.pemda }} untuk membahas "
        "{{ perihal }} dari {{ pengirim }} (surat nomor {{ surat_nomor }} tanggal {{ surat_tanggal|tanggal }}), "
        "yang dihadiri oleh:",
    )
    n.grid(
        ["No", "Nama / Instansi", "Keterangan"],
        ["{{ loop.index }}", "{{ p.nama }}", "{{ p.keterangan }}"],
        (1.2, 10.0, 4.8),
        "p in peserta",
    )
    n.spacer(10)
    n.para(B("Hasil pembahasan:"), after=2, keep=True)
    n.tag("{%p for h in hasil %}")
    n.item("{{ loop.index }}.", "{{ h }}", hanging=0.8, after=2)
    n.tag("{%p endfor %}")
    n.para(B("Kesimpulan dan rekomendasi:"), before=6, after=2, keep=True)
    n.para("{{ kesimpulan }}", after=2)
    n.para(
        "TKKSD merekomendasikan kepada {{ kepala_daerah }} agar usulan kerja sama ini "
        "{% if rekomendasi == 'setuju' %}disetujui{% else %}tidak disetujui{% endif %}"
        "{% if rekomendasi_catatan %}, dengan catatan: {{ rekomendasi_catatan }}{% endif %}.",
        after=6,
    )
    n.para("Demikian berita acara ini dibuat untuk dipergunakan sebagaimana mestinya.", keep=True, after=6)
    n.para("{{ tempat }}, {{ tanggal|tanggal }}", align=CENTER, left=8.0, after=0, keep=True)
    n.signatures(
        ([B("Notulis,"), SIGNING_SPACE], [Seg("{{ notulis }}", bold=True, underline=True)]),
        (
            [B("Pimpinan Rapat,"), B("{{ pimpinan.jabatan|upper }},"), SIGNING_SPACE],
            [
                Seg("{{ pimpinan.nama }}", bold=True, underline=True),
                "{% if pimpinan.nip %}NIP. {{ pimpinan.nip }}{% endif %}",
            ],
        ),
        gap=4,
    )
    fields = [
        F("kop", "object", True, "Kop: Pemerintah Daerah, unit kerja, alamat", KOP_ITEMS),
        F("lambang", "image", False, "Lambang daerah di kop (diisi sistem dari lambang PIHAK KESATU bila ada)"),
        F("nomor", "text", True, "Nomor berita acara"),
        F("rapat_tanggal", "date", True, "Tanggal rapat (TTTT-BB-HH)"),
        F("rapat_tempat", "text", True, "Tempat rapat"),
        F("perihal", "text", True, "Perihal usulan yang dibahas"),
        F("pengirim", "text", True, "Pengirim usulan (instansi)"),
        F("surat_nomor", "text", True, "Nomor surat usulan"),
        F("surat_tanggal", "date", True, "Tanggal surat usulan (TTTT-BB-HH)"),
        F(
            "peserta",
            "table",
            True,
            "Yang hadir",
            (F("nama", "text", True, "Nama dan instansi"), F("keterangan", "text", False, "Peran, mis. OPD teknis")),
        ),
        F("hasil", "text_list", True, "Hasil pembahasan, satu per butir"),
        F("kesimpulan", "text", True, "Kesimpulan rapat"),
        F("kepala_daerah", "text", True, "Jabatan Kepala Daerah yang memutuskan, mis. Bupati Paser"),
        F("rekomendasi", "choice", True, "setuju atau tolak", choices=("setuju", "tolak")),
        F("rekomendasi_catatan", "text", False, "Catatan pada rekomendasi"),
        F("tempat", "text", True, "Tempat berita acara dibuat"),
        F("tanggal", "date", True, "Tanggal berita acara (TTTT-BB-HH)"),
        F("notulis", "text", True, "Nama notulis"),
        F(
            "pimpinan",
            "object",
            True,
            "Pimpinan rapat",
            (
                F("nama", "text", True, "Nama pimpinan rapat"),
                F("jabatan", "text", True, "Jabatan pimpinan rapat"),
                F("nip", "text", False, "NIP pimpinan rapat"),
            ),
        ),
    ]
    return n, manifest(
        "BA",
        "Berita acara rapat TKKSD (standar)",
        "Berita acara / notulen rapat Tim Koordinasi Kerja Sama Daerah atas usulan kerja sama yang masuk.",
        [],
        fields,
    )


LETTER_BUILDERS: dict[tuple[str, str], Builder] = {
    ("surat", "dinas"): build_surat_dinas,
    ("surat", "undangan"): build_surat_undangan,
    ("ba", "rapat_tkksd"): build_berita_acara,
}


def main(out: Path = OUT) -> int:
    for jenis, build in BUILDERS.items():
        naskah, toml = build()
        folder = out / jenis
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "standar.docx").write_bytes(naskah.save())
        (folder / "standar.toml").write_text(toml, encoding="utf-8")
    intake_out = out.parent / "intake"
    for (jenis, variant), build in LETTER_BUILDERS.items():
        letter, toml = build()
        folder = intake_out / jenis
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{variant}.docx").write_bytes(letter.save())
        (folder / f"{variant}.toml").write_text(toml, encoding="utf-8")
    # Refuse to leave behind anything the loader would refuse.
    sys.path.insert(0, str(HERE.parent))
    from pipeline.drafting.templates import TemplateRegistry

    for root in (out, intake_out):
        registry = TemplateRegistry.load(root)
        for info in registry.all():
            print(f"{info.name:<18} {info.jenis:<5} {info.sha256[:16]}  {len(info.fields)} isian  {info.title}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
