"""The rekapitulasi of KSDD, KSDPK and KSIV agreements, as the TKKSD secretariat keeps it (CSV, XLSX).

Seed 002 ("Pencatatan dan Pendataan") asks for a recap of every kerja sama; the columns are the
ones a secretariat's register has (DOMAIN.md): no, jenis kerja sama, jenis naskah, judul, para
pihak, their signers, each party's nomor, the signing date, the jangka waktu (dates and length in
words), the status on a given day, the OPD teknis, and related naskah (the KB a PKS follows, the
Surat Kuasa it was signed under).

Rows come from the archive with the same filters as the archive search (``ArsipQuery``), every
matching row (``offset``/``limit`` do not apply), ordered by jenis kerja sama (KSDD, KSDPK, KSIV)
and, within each, by the query's ``sort``.  The recap lists agreements (KB, NK, PKS): a Surat Kuasa
is shown only when asked for with ``jenis=SK``; otherwise it appears in its PKS's Keterangan.

The status of a row on ``today``: ``kedaluwarsa`` after ``selesai``, ``segera_berakhir`` when
``selesai`` is at most ``query.dalam_hari`` days away, else ``berlaku`` (the same rule as the
search filter ``masa``).

CSV: UTF-8 with a byte-order mark and ``;`` between fields.  Excel in an Indonesian locale uses
``;`` as its list separator (the comma is the decimal separator there), so a double click opens
the file in columns, and the BOM makes it read UTF-8.  Multi-line cells (one line per party) are
quoted, as RFC 4180 allows.  Cells that a spreadsheet would run as a formula (``=``, ``+``,
``-``, ``@`` first) are prefixed with ``'``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from sqlmodel import Session, col, select

from pipeline import access
from pipeline.archival.archive import ArsipQuery, masa_of, search
from pipeline.drafting.cases import NASKAH_NAMES
from pipeline.models import Arsip, NaskahNomor, Pihak, User
from pipeline.sop import Profile
from pipeline.terbilang import jangka_waktu, tanggal

__all__ = [
    "COLUMNS",
    "KERJA_SAMA_NAMES",
    "Column",
    "RecapRow",
    "masa",
    "recap_rows",
    "to_csv",
    "to_xlsx",
]

KERJA_SAMA_NAMES = {
    "KSDD": "Kerja Sama Daerah dengan Daerah Lain",
    "KSDPK": "Kerja Sama Daerah dengan Pihak Ketiga",
    "KSIV": "Kerja Sama Daerah dengan Instansi Vertikal",
}
_GROUP_ORDER = {code: i for i, code in enumerate(KERJA_SAMA_NAMES)}
_PAGE = 200  # the largest page archive.search serves
TITLE = "Rekapitulasi Kerja Sama Daerah"


def masa(selesai: dt.date, today: dt.date, dalam_hari: int) -> str:
    """``berlaku``, ``segera_berakhir`` (ends within ``dalam_hari`` days) or ``kedaluwarsa`` on ``today``
    (``archive.masa_of``: the search filter's rule)."""
    return masa_of(selesai, today, dalam_hari)


@dataclass(frozen=True)
class RecapRow:
    """One agreement of the recap; the parties' lists are in PIHAK order (KESATU, KEDUA, ...)."""

    no: int
    arsip_id: int
    naskah_id: int
    jenis_kerja_sama: str
    """KSDD, KSDPK or KSIV."""
    jenis: str
    """KB, NK, PKS (SK only when asked for)."""
    judul: str
    pihak: tuple[str, ...]
    """Each party's instansi."""
    penandatangan: tuple[str, ...]
    """Each party's signer: ``nama (jabatan)``."""
    nomor: tuple[str, ...]
    """Each party's own number of the naskah ("-" where a party gave none)."""
    tanggal_ttd: dt.date
    mulai: dt.date
    selesai: dt.date
    status: str
    """``berlaku``, ``segera_berakhir`` or ``kedaluwarsa`` on ``per_tanggal``."""
    sisa_hari: int
    """Days from ``per_tanggal`` to ``selesai`` (negative once expired)."""
    opd_teknis: str
    keterangan: str
    """Related naskah: the KB a PKS follows, the PKS of a KB, the Surat Kuasa a PKS was signed under."""
    per_tanggal: dt.date
    """The day the status was judged on."""
    dalam_hari: int
    """``segera_berakhir`` means ending within this many days."""

    @property
    def jangka_waktu(self) -> str:
        """``1 Januari 2026 s.d. 31 Desember 2030 (5 (lima) tahun)``."""
        text = f"{tanggal(self.mulai)} s.d. {tanggal(self.selesai)}"
        try:
            return f"{text} ({jangka_waktu(self.mulai, self.selesai)})"
        except ValueError:  # selesai before mulai: show the dates as recorded
            return text

    @property
    def status_label(self) -> str:
        if self.status == "kedaluwarsa":
            return f"Kedaluwarsa (berakhir {tanggal(self.selesai)})"
        if self.status == "segera_berakhir":
            return (
                "Segera berakhir (hari terakhir)"
                if self.sisa_hari == 0
                else f"Segera berakhir ({self.sisa_hari} hari lagi)"
            )
        return "Berlaku"


def _numbered(items: Sequence[str]) -> str:
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, start=1))


@dataclass(frozen=True)
class Column:
    """One column of the recap: its header, its width in the XLSX (characters), and its text."""

    header: str
    width: int
    value: Callable[[RecapRow], str | int]


COLUMNS: tuple[Column, ...] = (
    Column("No", 5, lambda r: r.no),
    Column("Jenis kerja sama", 11, lambda r: r.jenis_kerja_sama),
    Column("Jenis naskah", 16, lambda r: NASKAH_NAMES.get(r.jenis, r.jenis)),  # type: ignore[call-overload]
    Column("Judul", 45, lambda r: r.judul),
    Column("Para pihak", 38, lambda r: _numbered(r.pihak)),
    Column("Penandatangan", 38, lambda r: _numbered(r.penandatangan)),
    Column("Nomor", 30, lambda r: _numbered(r.nomor)),
    Column("Tanggal", 17, lambda r: tanggal(r.tanggal_ttd)),
    Column("Jangka waktu", 30, lambda r: r.jangka_waktu),
    Column("Status", 22, lambda r: r.status_label),
    Column("OPD teknis", 28, lambda r: r.opd_teknis),
    Column("Keterangan", 36, lambda r: r.keterangan),
)


# -- rows ------------------------------------------------------------------------------------


def _all_matching(session: Session, user: User, query: ArsipQuery, today: dt.date, profile: Profile) -> list[Arsip]:
    """Every archive row ``query`` matches among those ``user`` may see, page by page through
    ``archive.search`` (same filters, same visibility)."""
    rows: list[Arsip] = []
    while True:
        page, total = search(
            session, user, query.model_copy(update={"offset": len(rows), "limit": _PAGE}), today, profile=profile
        )
        rows.extend(page)
        if not page or len(rows) >= total:
            return rows


def _first_nomor(session: Session, naskah_ids: set[int]) -> dict[int, str]:
    """PIHAK KESATU's nomor of each of ``naskah_ids`` (our own register), for the Keterangan."""
    if not naskah_ids:
        return {}
    rows = session.exec(
        select(NaskahNomor.naskah_id, Pihak.urutan, NaskahNomor.nomor)
        .join(Pihak, col(Pihak.id) == col(NaskahNomor.pihak_id))
        .where(col(NaskahNomor.naskah_id).in_(sorted(naskah_ids)))
        .order_by(col(Pihak.urutan))
    ).all()
    out: dict[int, str] = {}
    for naskah_id, _urutan, nomor in rows:
        out.setdefault(naskah_id, nomor)
    return out


def _keterangan(related: list[dict[str, Any]], nomor: dict[int, str]) -> str:
    lines = []
    for item in related:
        naskah_id = int(item.get("naskah_id") or 0)
        jenis = str(item.get("jenis") or "")
        name = NASKAH_NAMES.get(jenis, jenis)  # type: ignore[call-overload]
        text = f"{name} Nomor {nomor[naskah_id]}" if naskah_id in nomor else f"{name} (naskah {naskah_id})"
        if item.get("hubungan") == "induk":
            lines.append(f"Naskah induk: {text}")
        elif jenis == "SK":
            lines.append(f"Ditandatangani dengan {text}")
        else:
            lines.append(f"Tindak lanjut: {text}")
    return "\n".join(lines)


def _parties(arsip: Arsip) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    pihak = sorted(arsip.pihak, key=lambda p: int(p.get("urutan", 0)))
    urutan = [int(p.get("urutan", 0)) for p in pihak]
    # A party listed in the nomor but absent from pihak (a Surat Kuasa's single nomor) still counts.
    urutan += sorted(int(k) for k in arsip.nomor if int(k) not in urutan)
    by_urutan = {int(p.get("urutan", 0)): p for p in pihak}
    instansi = tuple(str(by_urutan.get(u, {}).get("instansi") or "-") for u in urutan)
    signers = tuple(
        f"{p.get('penandatangan')} ({p.get('jabatan')})" if p.get("jabatan") else str(p.get("penandatangan") or "-")
        for p in (by_urutan.get(u, {}) for u in urutan)
    )
    nomor = tuple(arsip.nomor.get(str(u), "-") for u in urutan)
    return instansi, signers, nomor


def recap_rows(session: Session, user: User, query: ArsipQuery, today: dt.date, *, profile: Profile) -> list[RecapRow]:
    """The recap of the archived agreements ``query`` matches, with each one's status on ``today``.

    Every matching row (``query.offset``/``limit`` do not apply); grouped by jenis kerja sama in the
    order KSDD, KSDPK, KSIV, each group in the query's ``sort``; numbered 1..n.  Surat Kuasa rows
    only when ``query.jenis`` is ``SK``.  Needs the ``read`` permission and shows what the user may
    see (as the search); a related naskah they may not see is not named in the Keterangan.
    """
    arsip = [a for a in _all_matching(session, user, query, today, profile) if query.jenis == "SK" or a.jenis != "SK"]
    arsip.sort(key=lambda a: _GROUP_ORDER.get(a.jenis_kerja_sama, len(_GROUP_ORDER)))  # stable: keeps the sort
    related_ids = {int(r["naskah_id"]) for a in arsip for r in a.related if r.get("naskah_id")}
    shown = access.visible_naskah_ids(session, user, profile, related_ids)
    nomor = _first_nomor(session, shown)
    rows = []
    for no, a in enumerate(arsip, start=1):
        instansi, signers, nomor_pihak = _parties(a)
        rows.append(
            RecapRow(
                no=no,
                arsip_id=a.id or 0,
                naskah_id=a.naskah_id,
                jenis_kerja_sama=a.jenis_kerja_sama,
                jenis=a.jenis,
                judul=a.judul,
                pihak=instansi,
                penandatangan=signers,
                nomor=nomor_pihak,
                tanggal_ttd=a.tanggal_ttd,
                mulai=a.mulai,
                selesai=a.selesai,
                status=masa(a.selesai, today, query.dalam_hari),
                sisa_hari=(a.selesai - today).days,
                opd_teknis=a.opd_teknis,
                keterangan=_keterangan([r for r in a.related if int(r.get("naskah_id") or 0) in shown], nomor),
                per_tanggal=today,
                dalam_hari=query.dalam_hari,
            )
        )
    return rows


# -- CSV -------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: str | int) -> str | int:
    """A text a spreadsheet would run as a formula is made plain text with a leading ``'``."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: Sequence[RecapRow]) -> bytes:
    """The recap as CSV: UTF-8 with BOM, ``;`` separated, CRLF line ends, one header row."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([c.header for c in COLUMNS])
    for row in rows:
        writer.writerow([_safe(c.value(row)) for c in COLUMNS])
    return out.getvalue().encode("utf-8-sig")


# -- XLSX ------------------------------------------------------------------------------------

_HEADER_ROW = 4
_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
_GROUP_FILL = PatternFill("solid", fgColor="EDF2F9")
_WRAP_TOP = Alignment(wrap_text=True, vertical="top")


def to_xlsx(rows: Sequence[RecapRow], *, per_tanggal: dt.date | None = None) -> bytes:
    """The recap as one XLSX sheet: a title row with the date, the bold header row frozen below it,
    one section per jenis kerja sama, column widths set, landscape on A4 fitted to the page width.

    ``per_tanggal`` names the date in the title when ``rows`` is empty (else the rows' date).
    """
    day = rows[0].per_tanggal if rows else per_tanggal
    dalam_hari = rows[0].dalam_hari if rows else None
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Rekapitulasi"
    last = get_column_letter(len(COLUMNS))

    ws["A1"] = TITLE
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells(f"A1:{last}1")
    subtitle = f"Keadaan per {tanggal(day)}" if day else "Keadaan per -"
    subtitle += f"; {len(rows)} naskah"
    if dalam_hari is not None:
        subtitle += f"; 'segera berakhir' = berakhir dalam {dalam_hari} hari"
    ws["A2"] = subtitle
    ws["A2"].font = Font(italic=True)
    ws.merge_cells(f"A2:{last}2")

    for i, column in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=_HEADER_ROW, column=i, value=column.header)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        ws.column_dimensions[get_column_letter(i)].width = column.width
    ws.freeze_panes = f"A{_HEADER_ROW + 1}"

    line = _HEADER_ROW
    group: str | None = None
    for row in rows:
        if row.jenis_kerja_sama != group:
            group = row.jenis_kerja_sama
            count = sum(1 for r in rows if r.jenis_kerja_sama == group)
            line += 1
            name = KERJA_SAMA_NAMES.get(group, group)
            cell = ws.cell(row=line, column=1, value=f"{name} ({group}): {count} naskah")
            cell.font = Font(bold=True)
            for i in range(1, len(COLUMNS) + 1):
                ws.cell(row=line, column=i).fill = _GROUP_FILL
                ws.cell(row=line, column=i).border = _BORDER
            ws.merge_cells(start_row=line, start_column=1, end_row=line, end_column=len(COLUMNS))
        line += 1
        for i, column in enumerate(COLUMNS, start=1):
            cell = ws.cell(row=line, column=i, value=column.value(row))
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text, never a formula
            cell.alignment = _WRAP_TOP
            cell.border = _BORDER

    ws.print_title_rows = f"{_HEADER_ROW}:{_HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[union-attr]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
