"""The rekapitulasi of archived agreements: rows, statuses by date, CSV and XLSX, and over the API."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import select

from api.routes import monitoring as monitoring_routes
from pipeline.access import opd_key
from pipeline.archival.archive import ArsipQuery, search_text
from pipeline.archival.recap import COLUMNS, masa, recap_rows, to_csv, to_xlsx
from pipeline.auth import create_user
from pipeline.models import Arsip, KerjaSama, Naskah, NaskahNomor, Pihak, User
from pipeline.sop import load_profile
from storage.db import session_scope
from tests.fixtures.app import make_db

TODAY = dt.date(2026, 6, 1)
PARTNERS = {
    "KSDD": ("Pemerintah Kota Balikpapan", "pemda", "H. Rahmad Mas'ud, S.E., M.E.", "Wali Kota Balikpapan"),
    "KSDPK": ("PT Energi Hijau Nusantara", "pihak_ketiga", "Ir. Budi Santoso", "Direktur Utama"),
    "KSIV": ("Kantor Pertanahan Kabupaten Paser", "instansi_vertikal", "Andi Pratama, S.H.", "Kepala Kantor"),
}


# -- factories: archive rows straight into the database ---------------------------------------


def seeder(session) -> User:
    """A secretariat user for the rows' created_by / archived_by."""
    user = session.exec(select(User).where(User.username == "seed.arsip")).first()
    return user or create_user(session, username="seed.arsip", nama="Seeder", jabatan="TU", roles=["secretariat"])


def add_case(
    engine: Engine,
    *,
    jenis_kerja_sama: str = "KSDD",
    judul: str = "Pengelolaan Sampah Regional",
    mulai: dt.date = dt.date(2026, 1, 1),
    selesai: dt.date = dt.date(2030, 12, 31),
    opd: str = "Dinas Lingkungan Hidup",
) -> int:
    partner = PARTNERS[jenis_kerja_sama]
    with session_scope(engine) as session:
        user = seeder(session)
        case = KerjaSama(
            jenis=jenis_kerja_sama,
            judul=judul,
            objek="objek",
            manfaat="manfaat",
            bentuk="bentuk",
            tahun_anggaran_mulai=mulai.year,
            mulai=mulai,
            selesai=selesai,
            opd_teknis=opd,
            opd_key=opd_key(opd),  # as pipeline.drafting.cases stores it: a Kepala OPD's view matches on it
            created_by=user.id or 0,
        )
        session.add(case)
        session.flush()
        session.add(
            Pihak(
                kerja_sama_id=case.id or 0,
                urutan=1,
                instansi="Pemerintah Kabupaten Paser",
                kind="pemda",
                penandatangan_nama="dr. Fahmi Fadli",
                penandatangan_jabatan="Bupati Paser",
            )
        )
        session.add(
            Pihak(
                kerja_sama_id=case.id or 0,
                urutan=2,
                instansi=partner[0],
                kind=partner[1],
                penandatangan_nama=partner[2],
                penandatangan_jabatan=partner[3],
            )
        )
        return case.id or 0


def add_naskah(
    engine: Engine,
    case_id: int,
    *,
    jenis: str = "KB",
    status: str = "archived",
    parent_id: int | None = None,
    nomor: dict[int, str] | None = None,
    created_at: dt.datetime | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    with session_scope(engine) as session:
        user = seeder(session)
        naskah = Naskah(
            kerja_sama_id=case_id,
            jenis=jenis,
            template=f"{jenis.lower()}/standar",
            status=status,
            parent_id=parent_id,
            data=data or {},
            created_by=user.id or 0,
        )
        if created_at is not None:
            naskah.created_at = created_at
        session.add(naskah)
        session.flush()
        pihak = {p.urutan: p.id for p in session.exec(select(Pihak).where(Pihak.kerja_sama_id == case_id))}
        for urutan, text in (nomor or {}).items():
            session.add(NaskahNomor(naskah_id=naskah.id or 0, pihak_id=pihak[urutan] or 0, nomor=text))
        return naskah.id or 0


def add_arsip(
    engine: Engine,
    *,
    jenis_kerja_sama: str = "KSDD",
    jenis: str = "KB",
    judul: str = "Pengelolaan Sampah Regional",
    tanggal_ttd: dt.date = dt.date(2026, 1, 5),
    mulai: dt.date = dt.date(2026, 1, 1),
    selesai: dt.date = dt.date(2030, 12, 31),
    opd: str = "Dinas Lingkungan Hidup",
    case_id: int | None = None,
    parent_id: int | None = None,
    related: list[dict[str, Any]] | None = None,
    serial: int = 1,
) -> tuple[int, int]:
    """An archived naskah (and its case and naskah rows); returns (arsip id, naskah id)."""
    case_id = case_id or add_case(
        engine, jenis_kerja_sama=jenis_kerja_sama, judul=judul, mulai=mulai, selesai=selesai, opd=opd
    )
    partner = PARTNERS[jenis_kerja_sama]
    nomor = {1: f"100.3.7.1/{serial}/Tapem/{tanggal_ttd.year}", 2: f"000.1/{serial}/MITRA/{tanggal_ttd.year}"}
    naskah_id = add_naskah(engine, case_id, jenis=jenis, parent_id=parent_id, nomor=nomor)
    pihak = [
        {
            "urutan": 1,
            "instansi": "Pemerintah Kabupaten Paser",
            "penandatangan": "dr. Fahmi Fadli",
            "jabatan": "Bupati",
        },
        {"urutan": 2, "instansi": partner[0], "penandatangan": partner[2], "jabatan": partner[3]},
    ]
    with session_scope(engine) as session:
        user = seeder(session)
        arsip = Arsip(
            naskah_id=naskah_id,
            kerja_sama_id=case_id,
            jenis=jenis,
            jenis_kerja_sama=jenis_kerja_sama,
            judul=judul,
            pihak=pihak,
            nomor={str(k): v for k, v in nomor.items()},
            opd_teknis=opd,
            opd_key=opd_key(opd),
            tanggal_ttd=tanggal_ttd,
            mulai=mulai,
            selesai=selesai,
            related=related or [],
            search_text=search_text(judul, [p["instansi"] for p in pihak], nomor, opd, jenis, jenis_kerja_sama),
            key=f"arsip/{tanggal_ttd.year}/{jenis.lower()}-{naskah_id}.pdf",
            version_id="v1",
            sha256="0" * 64,
            size=1,
            retain_until=dt.datetime(2056, 1, 1, tzinfo=dt.UTC),
            timestamp_expiry=dt.datetime(2040, 1, 1, tzinfo=dt.UTC),
            archived_by=user.id or 0,
        )
        session.add(arsip)
        session.flush()
        return arsip.id or 0, naskah_id


def seed_register(engine: Engine, today: dt.date = TODAY) -> dict[str, int]:
    """A small register: a KSDD KB and its PKS (signed under a Surat Kuasa), a KSDPK KB ending soon,
    a KSIV NK that has ended, and a second KSDD KB.  Returns arsip ids by name."""
    ids: dict[str, int] = {}
    kb, kb_naskah = add_arsip(engine, judul="Pengelolaan Sampah Regional", tanggal_ttd=dt.date(2026, 1, 5), serial=11)
    ids["kb"] = kb
    case_id = seeder_case(engine, kb)
    ids["pks"], pks_naskah_id = add_arsip(
        engine,
        jenis="PKS",
        judul="Pengangkutan Sampah ke TPA Regional",
        tanggal_ttd=dt.date(2026, 3, 2),
        case_id=case_id,
        parent_id=kb_naskah,
        related=[
            {"naskah_id": kb_naskah, "jenis": "KB", "hubungan": "induk", "status": "archived"},
            {"naskah_id": kb_naskah + 1000, "jenis": "SK", "hubungan": "turunan", "status": "signed"},
        ],
        serial=12,
    )
    ids["sk"], _ = add_arsip(
        engine,
        jenis="SK",
        judul="Surat Kuasa penandatanganan Perjanjian Kerja Sama",
        tanggal_ttd=dt.date(2026, 2, 20),
        case_id=case_id,
        parent_id=pks_naskah_id,
        serial=13,
    )
    ids["ksdpk"], _ = add_arsip(
        engine,
        jenis_kerja_sama="KSDPK",
        judul='=HYPERLINK("http://contoh") Energi Surya Atap',  # a formula must stay text
        tanggal_ttd=dt.date(2025, 7, 1),
        mulai=dt.date(2025, 7, 1),
        selesai=today + dt.timedelta(days=30),
        opd="Dinas Perhubungan",
        serial=14,
    )
    ids["ksiv"], _ = add_arsip(
        engine,
        jenis_kerja_sama="KSIV",
        jenis="NK",
        judul="Sertipikasi Tanah Aset Daerah",
        tanggal_ttd=dt.date(2024, 1, 10),
        mulai=dt.date(2024, 1, 10),
        selesai=today - dt.timedelta(days=1),
        opd="Badan Pengelolaan Keuangan dan Aset Daerah",
        serial=15,
    )
    ids["kb2"], _ = add_arsip(engine, judul="Pariwisata Bersama", tanggal_ttd=dt.date(2025, 11, 1), serial=16)
    return ids


def seeder_case(engine: Engine, arsip_id: int) -> int:
    with session_scope(engine) as session:
        arsip = session.get(Arsip, arsip_id)
        assert arsip is not None
        return arsip.kerja_sama_id


@pytest.fixture
def db(tmp_path: Path, request: pytest.FixtureRequest) -> Engine:
    engine = make_db("sqlite", tmp_path, request)  # a copy of the migrated template
    yield engine
    engine.dispose()


def reader(engine: Engine) -> User:
    with session_scope(engine) as session:
        return seeder(session)


def rows_for(engine: Engine, today: dt.date = TODAY, **query: Any):
    with session_scope(engine) as session:
        return recap_rows(session, reader(engine), ArsipQuery(**query), today, profile=load_profile("paser"))


# -- rows and statuses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selesai", "expected"),
    [
        (TODAY - dt.timedelta(days=1), "kedaluwarsa"),
        (TODAY, "segera_berakhir"),  # the last day still counts as running
        (TODAY + dt.timedelta(days=90), "segera_berakhir"),
        (TODAY + dt.timedelta(days=91), "berlaku"),
    ],
)
def test_status_on_a_date_follows_selesai_and_the_window(selesai, expected):
    assert masa(selesai, TODAY, 90) == expected


def test_recap_groups_by_jenis_kerja_sama_and_judges_status_on_the_given_day(db):
    ids = seed_register(db)
    rows = rows_for(db, sort="tanggal")
    assert [r.arsip_id for r in rows] == [ids["kb2"], ids["kb"], ids["pks"], ids["ksdpk"], ids["ksiv"]]
    assert [r.no for r in rows] == [1, 2, 3, 4, 5]
    assert [r.jenis_kerja_sama for r in rows] == ["KSDD", "KSDD", "KSDD", "KSDPK", "KSIV"]
    by_id = {r.arsip_id: r for r in rows}
    assert by_id[ids["kb"]].status == "berlaku" and by_id[ids["kb"]].status_label == "Berlaku"
    assert by_id[ids["ksdpk"]].status == "segera_berakhir" and by_id[ids["ksdpk"]].sisa_hari == 30
    assert by_id[ids["ksdpk"]].status_label == "Segera berakhir (30 hari lagi)"
    assert by_id[ids["ksiv"]].status == "kedaluwarsa" and by_id[ids["ksiv"]].status_label.startswith("Kedaluwarsa")
    kb = by_id[ids["kb"]]
    assert kb.jangka_waktu == "1 Januari 2026 s.d. 31 Desember 2030 (5 (lima) tahun)"
    assert kb.pihak == ("Pemerintah Kabupaten Paser", "Pemerintah Kota Balikpapan")
    assert kb.nomor == ("100.3.7.1/11/Tapem/2026", "000.1/11/MITRA/2026")
    assert kb.penandatangan[1] == "H. Rahmad Mas'ud, S.E., M.E. (Wali Kota Balikpapan)"
    # the PKS names the KB it follows (by our nomor) and the Surat Kuasa it was signed under
    assert (
        by_id[ids["pks"]].keterangan.splitlines()[0]
        == "Naskah induk: Kesepakatan Bersama Nomor 100.3.7.1/11/Tapem/2026"
    )
    assert "Surat Kuasa" in by_id[ids["pks"]].keterangan

    # the same day later: the KSDPK agreement has ended too; a narrower window says "berlaku"
    later = {r.arsip_id: r.status for r in rows_for(db, TODAY + dt.timedelta(days=31))}
    assert later[ids["ksdpk"]] == "kedaluwarsa"
    narrow = {r.arsip_id: r.status for r in rows_for(db, dalam_hari=10)}
    assert narrow[ids["ksdpk"]] == "berlaku"


def test_recap_takes_the_search_filters_and_shows_surat_kuasa_only_when_asked(db):
    ids = seed_register(db)
    assert ids["sk"] not in {r.arsip_id for r in rows_for(db)}
    assert [r.arsip_id for r in rows_for(db, jenis="SK")] == [ids["sk"]]
    assert [r.arsip_id for r in rows_for(db, jenis_kerja_sama="KSIV")] == [ids["ksiv"]]
    assert {r.arsip_id for r in rows_for(db, tahun=2025)} == {ids["ksdpk"], ids["kb2"]}
    assert [r.arsip_id for r in rows_for(db, masa="kedaluwarsa")] == [ids["ksiv"]]
    assert [r.arsip_id for r in rows_for(db, q="balikpapan sampah", sort="tanggal")] == [ids["kb"], ids["pks"]]
    assert len(rows_for(db, limit=1, offset=3)) == 5  # the recap has every matching row


def test_recap_pages_through_more_rows_than_one_search_page(db):
    case_id = add_case(db)
    for i in range(205):
        add_arsip(db, case_id=case_id, judul=f"Naskah {i}", serial=i + 1)
    rows = rows_for(db)
    assert len(rows) == 205 and len({r.arsip_id for r in rows}) == 205


# -- CSV and XLSX -----------------------------------------------------------------------------


def parse_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def test_csv_parses_back_with_the_columns_and_rows(db):
    seed_register(db)
    rows = rows_for(db, sort="tanggal")
    table = parse_csv(to_csv(rows))
    assert table[0] == [c.header for c in COLUMNS]
    assert table[0][:4] == ["No", "Jenis kerja sama", "Jenis naskah", "Judul"]
    assert len(table) == 1 + len(rows)
    record = dict(zip(table[0], table[2], strict=True))  # the KB of the first KSDD case
    assert record["No"] == "2" and record["Jenis naskah"] == "Kesepakatan Bersama"
    assert record["Para pihak"] == "1. Pemerintah Kabupaten Paser\n2. Pemerintah Kota Balikpapan"
    assert record["Nomor"] == "1. 100.3.7.1/11/Tapem/2026\n2. 000.1/11/MITRA/2026"
    assert record["Tanggal"] == "5 Januari 2026"
    assert record["Jangka waktu"] == "1 Januari 2026 s.d. 31 Desember 2030 (5 (lima) tahun)"
    assert record["Status"] == "Berlaku" and record["OPD teknis"] == "Dinas Lingkungan Hidup"
    ksdpk = next(dict(zip(table[0], r, strict=True)) for r in table[1:] if r[1] == "KSDPK")
    assert ksdpk["Judul"].startswith("'=HYPERLINK")  # never a formula in a spreadsheet
    assert parse_csv(to_csv([])) == [[c.header for c in COLUMNS]]


def test_xlsx_has_title_frozen_bold_header_groups_and_rows(db):
    seed_register(db)
    rows = rows_for(db, sort="tanggal")
    wb = load_workbook(io.BytesIO(to_xlsx(rows)))
    ws = wb.active
    assert ws["A1"].value == "Rekapitulasi Kerja Sama Daerah" and ws["A1"].font.bold
    assert "1 Juni 2026" in ws["A2"].value
    header = [c.value for c in ws[4]]
    assert header == [c.header for c in COLUMNS]
    assert all(c.font.bold for c in ws[4])
    assert ws.freeze_panes == "A5"
    assert ws.column_dimensions["D"].width == 45
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=5)]
    groups = [v[0] for v in values if isinstance(v[0], str)]
    assert [g.split(":")[0] for g in groups] == [
        "Kerja Sama Daerah dengan Daerah Lain (KSDD)",
        "Kerja Sama Daerah dengan Pihak Ketiga (KSDPK)",
        "Kerja Sama Daerah dengan Instansi Vertikal (KSIV)",
    ]
    data = [v for v in values if isinstance(v[0], int)]
    assert [v[0] for v in data] == [1, 2, 3, 4, 5]
    assert [v[1] for v in data] == ["KSDD", "KSDD", "KSDD", "KSDPK", "KSIV"]
    formula_cell = next(row[3] for row in ws.iter_rows(min_row=5) if row[1].value == "KSDPK")
    assert formula_cell.data_type == "s" and formula_cell.value.startswith("=HYPERLINK")
    empty = load_workbook(io.BytesIO(to_xlsx([], per_tanggal=TODAY))).active
    assert "1 Juni 2026" in empty["A2"].value and empty["A4"].value == "No"


# -- over the API -----------------------------------------------------------------------------


def with_monitoring_routes(api):
    """The monitoring router ahead of the archive's ``/arsip/{arsip_id}`` (until api/main.py includes it)."""
    app = api.client.app
    if "/api/v1/arsip/rekap.csv" not in {getattr(r, "path", None) for r in app.routes}:
        v1 = APIRouter(prefix="/api/v1")
        v1.include_router(monitoring_routes.router)
        app.router.routes[:0] = v1.routes
    return api


def test_rekap_csv_and_xlsx_over_the_api(api):
    api = with_monitoring_routes(api)
    today = dt.datetime.now(api.services.profile.tz).date()
    ids = seed_register(api.services.engine, today)

    r = api.client.get("/api/v1/arsip/rekap.csv", headers=api.auth("secretariat"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == f'attachment; filename="rekap-kerja-sama-{today.isoformat()}.csv"'
    table = parse_csv(r.content)
    assert table[0] == [c.header for c in COLUMNS] and len(table) == 6
    statuses = {row[3]: row[9] for row in table[1:]}
    assert statuses["Sertipikasi Tanah Aset Daerah"].startswith("Kedaluwarsa")
    assert statuses['\'=HYPERLINK("http://contoh") Energi Surya Atap'] == "Segera berakhir (30 hari lagi)"

    r = api.client.get("/api/v1/arsip/rekap.csv", params={"jenis_kerja_sama": "KSIV"}, headers=api.auth("secretariat"))
    assert [row[3] for row in parse_csv(r.content)[1:]] == ["Sertipikasi Tanah Aset Daerah"]

    r = api.client.get("/api/v1/arsip/rekap.xlsx", params={"tahun": 2026}, headers=api.auth("legal"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert r.headers["content-disposition"].endswith('.xlsx"')
    ws = load_workbook(io.BytesIO(r.content)).active
    data = [row for row in ws.iter_rows(min_row=5, values_only=True) if isinstance(row[0], int)]
    assert len(data) == 2  # the KB and its PKS of 2026 (the Surat Kuasa is not an agreement)

    assert api.client.get("/api/v1/arsip/rekap.csv").status_code == 401
    assert api.client.get("/api/v1/arsip/rekap.csv", headers=api.auth("admin")).status_code == 403
    r = api.client.get("/api/v1/arsip/rekap.xlsx", params={"masa": "selamanya"}, headers=api.auth("secretariat"))
    assert r.status_code == 422
    # the archive's own routes still answer
    r = api.client.get(f"/api/v1/arsip/{ids['kb']}", headers=api.auth("secretariat"))
    assert r.status_code == 200 and r.json()["id"] == ids["kb"]
