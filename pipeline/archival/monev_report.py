"""The evaluation report of running agreements for a period (a date range): XLSX and PDF.

What a Kepala Bagian sends up after a monev period (seed 001, step 9 "dokumen evaluasi kerjasama"):
every monev round active in the period (assigned on or before its last day, not closed before its
first day) on the agreements the reader may see — the OPD's report (realisasi, kendala, manfaat,
rekomendasi), the temuan, penilaian and evaluasi, the arahan, the tindak lanjut with their state, the
kesimpulan a closed round ends with, the decision to extend — then every tindak lanjut item, then the
alerts on the period's last day (or today, if that is earlier).

The XLSX is built with openpyxl as the archive's recap is (``pipeline.archival.recap``): title, frozen bold
header, wrapped cells, landscape A4 fitted to the width, formulas neutralised.  The PDF is a DOCX
built with python-docx and turned into PDF/A-2b by the project's LibreOffice converter
(``Services.converter``), like every naskah.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from sqlmodel import Session, col, select

from pipeline import access
from pipeline.archival.monev import KEPUTUSAN, PENILAIAN, Alert, alerts, perpanjangan_of, require_pemda
from pipeline.errors import InvalidInput
from pipeline.models import Arsip, MonevRound, MonevTindakLanjut, User
from pipeline.monev_lifecycle import STATUS_LABELS, MonevStatus
from pipeline.sop import Profile
from pipeline.terbilang import tanggal

if TYPE_CHECKING:
    from pipeline.services import Services

__all__ = ["MAX_DAYS", "EvaluationReport", "ReportRow", "build", "check_period", "to_docx", "to_pdf", "to_xlsx"]

MAX_DAYS = 366 * 5
"""The longest period one report covers (a jangka waktu of five years)."""
TITLE = "Laporan Evaluasi Kerja Sama Daerah"
_FORMULA_START = ("=", "+", "-", "@")


EARLIEST, LATEST = dt.date(1950, 1, 1), dt.date(2999, 12, 31)
"""Dates a report may name (a year like 0001 is a typing slip, and overflows a time zone's arithmetic)."""


def check_period(dari: dt.date, sampai: dt.date) -> None:
    for name, day in (("dari", dari), ("sampai", sampai)):
        if not EARLIEST <= day <= LATEST:
            raise InvalidInput(
                f"Tanggal {day:%d-%m-%Y} di luar rentang yang dapat dilaporkan "
                f"({EARLIEST:%d-%m-%Y} s.d. {LATEST:%d-%m-%Y}); periksa tahunnya.",
                reason="bad_period",
                field=name,
            )
    if sampai < dari:
        raise InvalidInput(
            f"Periode tidak valid: tanggal akhir {sampai:%d-%m-%Y} sebelum tanggal awal {dari:%d-%m-%Y}.",
            reason="bad_period",
            field="sampai",
        )
    if (sampai - dari).days > MAX_DAYS:
        raise InvalidInput(
            f"Periode laporan paling panjang lima tahun ({MAX_DAYS} hari).", reason="period_too_long", field="sampai"
        )


@dataclass
class ReportRow:
    round: MonevRound
    arsip: Arsip
    items: list[MonevTindakLanjut]
    perpanjangan: str


@dataclass
class EvaluationReport:
    daerah: str
    dari: dt.date
    sampai: dt.date
    dibuat: dt.date
    per_tanggal: dt.date
    rows: list[ReportRow]
    alerts: list[Alert]
    agreements: int
    """Agreements in force at some day of the period that the reader may see."""
    tz: dt.tzinfo = field(default=dt.UTC)

    def day(self, at: dt.datetime | None) -> str:
        return at.astimezone(self.tz).strftime("%d-%m-%Y") if at else "-"

    @property
    def items(self) -> list[tuple[ReportRow, MonevTindakLanjut]]:
        return [(row, item) for row in self.rows for item in row.items]

    def item_state(self, item: MonevTindakLanjut) -> str:
        if item.selesai_at is not None:
            return f"Selesai {self.day(item.selesai_at)}"
        if item.tenggat < self.per_tanggal:
            return f"Terlambat {(self.per_tanggal - item.tenggat).days} hari"
        return "Berjalan"

    def summary(self) -> list[tuple[str, int]]:
        done = sum(1 for r in self.rows if r.round.status == MonevStatus.SELESAI.value)
        items = self.items
        late = sum(1 for _, i in items if i.selesai_at is None and i.tenggat < self.per_tanggal)
        return [
            ("Kerja sama berlaku dalam periode", self.agreements),
            ("Monitoring dan evaluasi dalam periode", len(self.rows)),
            ("Monitoring dan evaluasi selesai", done),
            ("Tindak lanjut", len(items)),
            ("Tindak lanjut selesai", sum(1 for _, i in items if i.selesai_at is not None)),
            ("Tindak lanjut terlambat", late),
            ("Peringatan", len(self.alerts)),
        ]


def build(
    session: Session, user: User, profile: Profile, dari: dt.date, sampai: dt.date, today: dt.date
) -> EvaluationReport:
    """The report's content for ``user`` (only the agreements they may see)."""
    require_pemda(user)
    check_period(dari, sampai)
    tz = profile.tz
    start = dt.datetime.combine(dari, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(sampai + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    visible = select(Arsip.id).where(access.arsip_clause(session, user, profile))
    rounds = session.exec(
        select(MonevRound)
        .where(
            col(MonevRound.arsip_id).in_(visible),
            col(MonevRound.assigned_at) < end,
            (col(MonevRound.closed_at).is_(None)) | (col(MonevRound.closed_at) >= start),
        )
        .order_by(col(MonevRound.assigned_at), col(MonevRound.id))
    ).all()
    arsip = {a.id: a for a in session.exec(select(Arsip).where(col(Arsip.id).in_([r.arsip_id for r in rounds]))).all()}
    items: dict[int, list[MonevTindakLanjut]] = {}
    if rounds:
        for item in session.exec(
            select(MonevTindakLanjut)
            .where(col(MonevTindakLanjut.round_id).in_([r.id for r in rounds]))
            .order_by(col(MonevTindakLanjut.round_id), col(MonevTindakLanjut.urutan))
        ).all():
            items.setdefault(item.round_id, []).append(item)
    decided = perpanjangan_of(session, arsip)
    rows = [
        ReportRow(
            round=r,
            arsip=arsip[r.arsip_id],
            items=items.get(r.id or 0, []),
            perpanjangan=KEPUTUSAN[decided[r.arsip_id].keputusan] if r.arsip_id in decided else "Belum diputuskan",
        )
        for r in rounds
    ]
    agreements = session.exec(
        select(Arsip.id).where(
            Arsip.jenis != "SK", col(Arsip.mulai) <= sampai, col(Arsip.selesai) >= dari, col(Arsip.id).in_(visible)
        )
    ).all()
    per = min(sampai, today)
    return EvaluationReport(
        daerah=profile.daerah,
        dari=dari,
        sampai=sampai,
        dibuat=today,
        per_tanggal=per,
        rows=rows,
        alerts=alerts(session, user, profile, per) if profile.monev is not None else [],
        agreements=len(agreements),
        tz=tz,
    )


def _lines(values: Sequence[str]) -> str:
    return "\n".join(f"{n}. {v}" for n, v in enumerate(values, start=1)) if values else "-"


def _columns(report: EvaluationReport, row: ReportRow, n: int) -> list[str | int]:
    r, a = row.round, row.arsip
    done = sum(1 for i in row.items if i.selesai_at is not None)
    return [
        n,
        f"{a.judul} ({a.jenis})",
        a.opd_teknis,
        f"{a.mulai:%d-%m-%Y} s.d. {a.selesai:%d-%m-%Y}",
        f"{r.id}: {STATUS_LABELS[MonevStatus(r.status)]}",
        report.day(r.reported_at),
        r.realisasi or "-",
        r.kendala or "-",
        r.manfaat or "-",
        r.rekomendasi or "-",
        _lines(r.temuan),
        PENILAIAN.get(r.penilaian or "", "-"),
        r.evaluasi or "-",
        r.arahan or "-",
        f"{done} dari {len(row.items)} selesai" if row.items else "-",
        r.kesimpulan or "-",
        row.perpanjangan,
    ]


HEADERS = [
    ("No", 5),
    ("Kerja sama", 30),
    ("OPD teknis", 20),
    ("Jangka waktu", 16),
    ("Monev", 18),
    ("Tanggal laporan", 12),
    ("Realisasi", 30),
    ("Kendala", 26),
    ("Manfaat", 26),
    ("Rekomendasi OPD", 26),
    ("Temuan", 30),
    ("Penilaian", 14),
    ("Evaluasi", 30),
    ("Arahan", 30),
    ("Tindak lanjut", 14),
    ("Kesimpulan", 30),
    ("Perpanjangan", 14),
]
_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
_WRAP_TOP = Alignment(wrap_text=True, vertical="top")


def _safe(value: str | int) -> str | int:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _sheet(
    wb: Workbook,
    title: str,
    heading: str,
    subtitle: str,
    headers: list[tuple[str, int]],
    rows: list[list[str | int]],
    first: bool = False,
) -> None:
    ws = wb.active if first else wb.create_sheet()
    assert ws is not None
    ws.title = title
    last = get_column_letter(len(headers))
    ws["A1"] = heading
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells(f"A1:{last}1")
    ws["A2"] = subtitle
    ws["A2"].font = Font(italic=True)
    ws.merge_cells(f"A2:{last}2")
    for i, (header, width) in enumerate(headers, start=1):
        cell = ws.cell(row=4, column=i, value=header)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A5"
    for r, values in enumerate(rows, start=5):
        for c, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c, value=_safe(value))
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
            cell.alignment = _WRAP_TOP
            cell.border = _BORDER
    ws.print_title_rows = "4:4"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[union-attr]


def _subtitle(report: EvaluationReport) -> str:
    period = f"periode {tanggal(report.dari)} s.d. {tanggal(report.sampai)}"
    return f"{report.daerah}; {period}; dibuat {tanggal(report.dibuat)}"


def to_xlsx(report: EvaluationReport) -> bytes:
    """Four sheets: Evaluasi (one row per round), Tindak lanjut, Peringatan, Ringkasan."""
    wb = Workbook()
    _sheet(
        wb,
        "Evaluasi",
        TITLE,
        _subtitle(report) + f"; {len(report.rows)} monitoring dan evaluasi",
        HEADERS,
        [_columns(report, row, n) for n, row in enumerate(report.rows, start=1)],
        first=True,
    )
    _sheet(
        wb,
        "Tindak lanjut",
        "Tindak Lanjut Hasil Monitoring dan Evaluasi",
        _subtitle(report) + f"; keadaan per {tanggal(report.per_tanggal)}",
        [
            ("No", 5),
            ("Kerja sama", 30),
            ("Monev", 8),
            ("Uraian", 40),
            ("Penanggung jawab", 28),
            ("Tenggat", 12),
            ("Keadaan", 18),
            ("Catatan", 30),
        ],
        [
            [
                n,
                row.arsip.judul,
                row.round.id or 0,
                item.uraian,
                item.penanggung_jawab,
                f"{item.tenggat:%d-%m-%Y}",
                report.item_state(item),
                item.catatan_selesai or "-",
            ]
            for n, (row, item) in enumerate(report.items, start=1)
        ],
    )
    _sheet(
        wb,
        "Peringatan",
        "Peringatan Monitoring dan Evaluasi",
        _subtitle(report) + f"; keadaan per {tanggal(report.per_tanggal)}",
        [
            ("No", 5),
            ("Peringatan", 30),
            ("Kerja sama", 30),
            ("OPD teknis", 22),
            ("Keterangan", 50),
            ("Harus bertindak", 28),
        ],
        [[n, a.label, a.judul, a.opd_teknis, a.pesan, a.pelaku] for n, a in enumerate(report.alerts, start=1)],
    )
    _sheet(
        wb,
        "Ringkasan",
        "Ringkasan",
        _subtitle(report),
        [("Uraian", 40), ("Jumlah", 10)],
        [[label, value] for label, value in report.summary()],
    )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _cell(cell: object, text: str, *, bold: bool = False, size: float = 8) -> None:
    paragraph = cell.paragraphs[0]  # type: ignore[attr-defined]
    for n, line in enumerate(str(text).split("\n")):
        run = paragraph.add_run(("\n" if n else "") + line)
        run.bold = bold
        run.font.size = Pt(size)


def _widths(table: object, widths: Sequence[Cm]) -> None:
    """Fixed column widths (LibreOffice reads the grid's, Word the cells')."""
    table.autofit = False  # type: ignore[attr-defined]
    for column, width in zip(table.columns, widths, strict=True):  # type: ignore[attr-defined]
        column.width = width
    for row in table.rows:  # type: ignore[attr-defined]
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width


def _heading(doc: object, text: str) -> None:
    paragraph = doc.add_paragraph()  # type: ignore[attr-defined]
    paragraph.paragraph_format.space_before = Pt(10)
    paragraph.paragraph_format.space_after = Pt(4)
    run = paragraph.add_run(text)
    run.bold = True
    run.font.size = Pt(10)


def to_docx(report: EvaluationReport) -> bytes:
    """The report as a landscape A4 Word document (what :func:`to_pdf` converts)."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    style = doc.styles["Normal"]
    style.font.name = "Liberation Sans"  # type: ignore[attr-defined]
    style.font.size = Pt(9)  # type: ignore[attr-defined]
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(TITLE.upper())
    run.bold = True
    run.font.size = Pt(13)
    sub = doc.add_paragraph(_subtitle(report))
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER

    _heading(doc, "Ringkasan")
    summary = doc.add_table(rows=0, cols=2)
    summary.style = "Table Grid"
    for label, value in report.summary():
        cells = summary.add_row().cells
        _cell(cells[0], label, size=9)
        _cell(cells[1], str(value), size=9)
    _widths(summary, [Cm(8), Cm(2)])

    _heading(doc, "Hasil monitoring dan evaluasi")
    headers = ["No", "Kerja sama", "Laporan OPD", "Temuan dan evaluasi", "Arahan dan tindak lanjut", "Perpanjangan"]
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        _cell(cell, header, bold=True)
    if not report.rows:
        cells = table.add_row().cells
        _cell(cells[1], "Tidak ada monitoring dan evaluasi dalam periode ini.")
    for n, row in enumerate(report.rows, start=1):
        r, a = row.round, row.arsip
        cells = table.add_row().cells
        _cell(cells[0], str(n))
        _cell(
            cells[1],
            f"{a.judul} ({a.jenis})\nOPD: {a.opd_teknis}\nBerlaku {a.mulai:%d-%m-%Y} s.d. {a.selesai:%d-%m-%Y}\n"
            f"Monev {r.id}: {STATUS_LABELS[MonevStatus(r.status)]}",
        )
        _cell(
            cells[2],
            f"Tanggal: {report.day(r.reported_at)}\nRealisasi: {r.realisasi or '-'}\nKendala: {r.kendala or '-'}\n"
            f"Manfaat: {r.manfaat or '-'}\nRekomendasi: {r.rekomendasi or '-'}",
        )
        _cell(
            cells[3],
            f"Temuan:\n{_lines(r.temuan)}\nPenilaian: {PENILAIAN.get(r.penilaian or '', '-')}\n"
            f"Evaluasi: {r.evaluasi or '-'}",
        )
        follow = "\n".join(
            f"{i.urutan}. {i.uraian} — {i.penanggung_jawab}, tenggat {i.tenggat:%d-%m-%Y}: {report.item_state(i)}"
            for i in row.items
        )
        closing = f"\nKesimpulan: {r.kesimpulan}" if r.kesimpulan else ""
        _cell(cells[4], f"Arahan: {r.arahan or '-'}\n{follow or 'Tindak lanjut: -'}{closing}")
        _cell(cells[5], row.perpanjangan)
    _widths(table, [Cm(0.8), Cm(5.0), Cm(6.4), Cm(5.6), Cm(6.4), Cm(2.4)])

    _heading(doc, f"Peringatan per {tanggal(report.per_tanggal)}")
    if not report.alerts:
        doc.add_paragraph("Tidak ada peringatan.")
    else:
        warn = doc.add_table(rows=1, cols=4)
        warn.style = "Table Grid"
        for cell, header in zip(
            warn.rows[0].cells, ["Peringatan", "Kerja sama", "Keterangan", "Harus bertindak"], strict=True
        ):
            _cell(cell, header, bold=True)
        for a in report.alerts:
            cells = warn.add_row().cells
            for cell, text in zip(cells, [a.label, f"{a.judul} ({a.opd_teknis})", a.pesan, a.pelaku], strict=True):
                _cell(cell, text)
        _widths(warn, [Cm(5.0), Cm(6.6), Cm(9.0), Cm(6.0)])
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def to_pdf(svc: Services, report: EvaluationReport) -> bytes:
    """The report as PDF/A-2b: its DOCX through the LibreOffice converter every naskah goes through."""
    return svc.converter.to_pdf(to_docx(report))
