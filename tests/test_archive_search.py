"""The archive search finds the same records however it reads them, on SQLite and PostgreSQL.

``archive.search_page`` reads a page in up to four ways (its matches counted up to a limit; a broad
search's walk along the sort's index, at most ``WALK_LIMIT`` records; then every match, sorted, or on
PostgreSQL the walk to its end when most records match) and the API's ``archive.search`` counts a broad
search to its end.  Each way, forced here by the count limit, the walk limit and ``MOST``, must give the
records and counts that the rule gives: every word of ``q`` a part of the record's text (case aside;
``%``, ``_`` and ``\\`` are themselves, not wildcards), the filters, the sort (by the database's own order) and the
page; for staff, and for a Kepala OPD who sees their OPD's records only.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from pipeline.access import opd_key
from pipeline.archival import archive
from pipeline.auth import create_user
from pipeline.models import Arsip, User
from pipeline.sop import load_profile
from storage.db import session_scope
from tests.fixtures.app import make_db
from tests.test_recap import add_arsip, add_case, seeder

TODAY = dt.date(2026, 6, 1)
PROFILE = load_profile("paser")

#: what a Kepala OPD also asks (staff ask every query)
OPD_QUERIES = [
    {},
    {"q": "yusriansyah"},
    {"q": "ruas"},
    {"q": "jalan", "jenis": "PKS"},
    {"q": "sampah"},
    {"masa": "berlaku"},
]

#: (judul, opd): ten former-Bupati records first (the oldest), then the rest; words with % _ ' \ and dots
TITLES = [
    *((f"Irigasi Desa {n:02d} masa H. Yusriansyah Syarkawi", "Dinas Pekerjaan Umum") for n in range(10)),
    ("Bagi Hasil 50% Retribusi Pasar", "Badan Pendapatan Daerah"),
    ("Bagi Hasil 500 Juta Retribusi Parkir", "Badan Pendapatan Daerah"),
    ("Kode_Wilayah Data Kependudukan", "Dinas Kependudukan dan Pencatatan Sipil"),
    ("KodeXWilayah Peta Dasar", "Dinas Kependudukan dan Pencatatan Sipil"),
    ("Jalan Ma'ruf Amin Ruas Tanah Grogot", "Dinas Pekerjaan Umum"),
    ("Cadangan Data C:\\arsip Pusat", "Dinas Komunikasi dan Informatika"),
    *((f"Pengelolaan Sampah Regional Tahap {n:02d}", "Dinas Lingkungan Hidup") for n in range(14)),
    *((f"Ruas Jalan Kabupaten {n:02d}", "Dinas Pekerjaan Umum") for n in range(10)),
]

QUERIES: list[dict[str, Any]] = [
    {},
    {"q": "yusriansyah"},  # only the oldest: far along a newest-first sort
    {"q": "H. Yusriansyah"},
    {"q": "SAMPAH"},
    {"q": "samp"},  # part of a word
    {"q": "ampah regi"},
    {"q": "sampah tahap"},
    {"q": "50%"},  # not "500"
    {"q": "%"},
    {"q": "_"},
    {"q": "kode_wilayah"},  # not "kodexwilayah"
    {"q": "ma'ruf"},
    {"q": "c:\\arsip"},
    {"q": "\\"},
    {"q": "100.3.7.1/7/tapem"},
    {"q": "tidakada"},
    {"q": "sampah", "tahun": 2019},  # no such record
    {"q": "ruas", "jenis": "PKS"},
    {"jenis": "PKS"},
    {"tahun": 2021},
    {"tahun": 2024, "jenis_kerja_sama": "KSDPK"},
    {"opd": "lingkungan"},
    {"opd": "pekerjaan", "masa": "kedaluwarsa"},
    {"masa": "segera_berakhir", "dalam_hari": 200},
    {"q": "ruas", "masa": "berlaku", "jenis_kerja_sama": "KSDD"},
]


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    engine = make_db(request.param, tmp_path, request)
    yield engine
    engine.dispose()


def seed(engine: Engine) -> None:
    """The records of TITLES, signed a month apart from 2019 (the first the oldest), ending 2024-2029,
    over the four jenis and three jenis kerja sama; and a Kepala Dinas Pekerjaan Umum."""
    cases: dict[tuple[str, str], int] = {}
    for n, (judul, opd) in enumerate(TITLES):
        jenis_kerja_sama = ("KSDD", "KSDPK", "KSIV")[n % 3]
        key = (jenis_kerja_sama, opd)
        if key not in cases:
            cases[key] = add_case(engine, jenis_kerja_sama=jenis_kerja_sama, judul=judul, opd=opd)
        add_arsip(
            engine,
            case_id=cases[key],
            jenis_kerja_sama=jenis_kerja_sama,
            jenis=("KB", "PKS", "NK", "PKS", "SK")[n % 5],
            judul=judul,
            opd=opd,
            tanggal_ttd=dt.date(2019, 1, 15) + dt.timedelta(days=30 * n),
            selesai=dt.date(2024, 1, 1) + dt.timedelta(days=(37 * n) % 2000),
            serial=n,
        )
    with session_scope(engine) as session:
        create_user(
            session,
            username="kadis_pu",
            nama="Kadis PU",
            jabatan="Kepala Dinas Pekerjaan Umum",
            roles=["signer"],
            opd="Dinas Pekerjaan Umum",
        )


def matches(arsip: Arsip, query: archive.ArsipQuery, user: User) -> bool:
    """The search's rule, in Python: what the database must find."""
    if user.opd and arsip.opd_key != opd_key(user.opd):
        return False
    return (
        all(word.casefold() in arsip.search_text for word in query.q.split())
        and query.jenis in (None, arsip.jenis)
        and query.jenis_kerja_sama in (None, arsip.jenis_kerja_sama)
        and query.tahun in (None, arsip.tanggal_ttd.year)
        and (query.opd is None or query.opd.casefold() in arsip.opd_teknis.casefold())
        and query.masa in (None, archive.masa_of(arsip.selesai, TODAY, query.dalam_hari))
    )


def expected(session, query: archive.ArsipQuery, user: User) -> list[int]:
    """Every matching record's id in the sort's order (the database's collation for judul)."""
    ids = [a.id for a in session.exec(select(Arsip)).all() if matches(a, query, user)]
    statement = select(Arsip.id).where(col(Arsip.id).in_(ids)).order_by(*archive.SORTS[query.sort])
    return list(session.exec(statement).all())


def test_every_way_of_reading_a_page_gives_the_rules_records_and_counts(db, monkeypatch):
    seed(db)
    with session_scope(db) as session:
        staff = seeder(session)
        kadis = session.exec(select(User).where(User.username == "kadis_pu")).one()
        assert kadis.opd
        checked = 0
        for user, queries in ((staff, QUERIES), (kadis, OPD_QUERIES)):
            for params in queries:
                for sort in archive.SORT_KEYS:
                    whole = expected(session, archive.ArsipQuery(**params, sort=sort), user)
                    for offset in (0, 4, 60):
                        query = archive.ArsipQuery(**params, sort=sort, offset=offset, limit=4)
                        want = whole[offset : offset + 4]
                        # the walk gives up and every match is sorted (0), or it walks on (3; PostgreSQL
                        # when most records match), or it reads the whole archive (10**6)
                        for walk_limit, most in ((0, 2.0), (3, 0.0), (10**6, 2.0)):
                            monkeypatch.setattr(archive, "WALK_LIMIT", walk_limit)
                            monkeypatch.setattr(archive, "MOST", most)
                            rows, count = archive.search(session, user, query, TODAY, profile=PROFILE)
                            assert ([a.id for a in rows], count) == (want, len(whole)), (params, sort, offset)
                            for count_limit in (2, None):  # 2: a broad search; None: 1,000
                                page = archive.search_page(
                                    session, user, query, TODAY, profile=PROFILE, count_limit=count_limit
                                )
                                where = (user.username, params, sort, offset, walk_limit, most, count_limit)
                                assert [a.id for a in page.rows] == want, where
                                upto = max(count_limit or archive.PAGE_COUNT_LIMIT, offset + 4)
                                exact = len(whole) <= upto
                                assert (page.count, page.exact) == ((len(whole), True) if exact else (upto, False))
                                checked += 1
        assert checked == (len(QUERIES) + len(OPD_QUERIES)) * 6 * 3 * 3 * 2


def test_the_rule_in_python_is_not_empty_where_it_matters(db):
    """The cases above are not vacuous: the literal characters find exactly their record."""
    seed(db)
    with session_scope(db) as session:
        staff = seeder(session)

        def judul(**params: Any) -> list[str]:
            rows, _ = archive.search(
                session, staff, archive.ArsipQuery(**params, sort="judul", limit=200), TODAY, profile=PROFILE
            )
            return [a.judul for a in rows]

        assert judul(q="50%") == ["Bagi Hasil 50% Retribusi Pasar"]
        assert judul(q="%") == ["Bagi Hasil 50% Retribusi Pasar"]
        assert judul(q="kode_wilayah") == ["Kode_Wilayah Data Kependudukan"]
        assert judul(q="_") == ["Kode_Wilayah Data Kependudukan"]
        assert judul(q="ma'ruf") == ["Jalan Ma'ruf Amin Ruas Tanah Grogot"]
        assert judul(q="\\") == ["Cadangan Data C:\\arsip Pusat"]
        assert len(judul(q="h. yusriansyah")) == 10
        assert len(judul(q="samp")) == 14
        assert judul(q="sampah", tahun=2019) == [] and len(judul(q="sampah", tahun=2020)) > 0
