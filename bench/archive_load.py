"""Archive search and download under load: 10,000 archived records in PostgreSQL, 32 clients on loopback.

The secretariat's daily work is finding an agreement in the archive and downloading its
original; this benchmark keeps that fast with a realistic archive behind the real API:

* a throw-away PostgreSQL (``initdb`` + ``pg_ctl``, as the tests start it), migrated;
* ``--records`` archive rows (default 10,000) of Kabupaten Paser's agreements, with the
  kerja sama, pihak, naskah and nomor rows behind them: KB and PKS with other regions (KSDD)
  and third parties (KSDPK), NK with vertical agencies (KSIV), Surat Kuasa for PKS signed by
  a Kepala OPD; ``search_text`` built by ``pipeline.archival.archive.search_text`` as archiving does;
  all bulk-loaded with COPY;
* 300 of them with a real PDF (100-300 KB, generated here, not signed) in a local archive
  store, locked with ``retain_until`` like every archived original;
* the API as production runs it (``naskah serve --workers``, settings from
  ``NASKAH_*``), ``--workers`` processes on 127.0.0.1, converter ``cold`` (search and
  download never convert; ``cold`` only looks up soffice, it starts nothing).

``--clients`` concurrent clients (default 32, one aiohttp connection each) then run three
phases of ``--seconds`` each (default 15) after a 2 s warm-up.  Each client is a person at the
secretariat working without pause: it sends its next request ``--think-ms`` (default 1000 ms,
uniformly 0.5x-1.5x) after the last answer, so 32 clients offer about 30 requests/s.  A fourth
phase repeats the search with no think time at all (closed loops back to back): that is the
capacity of these cores, where latency is queueing (about clients / throughput), printed for
context, not judged:

* baseline: ``GET /api/v1/me`` (token check plus the framework: the floor of any call);
* search: ``GET /api/v1/arsip`` with a mix of free text (1-2 words, a nomor), filters (jenis,
  jenis kerja sama, tahun, OPD, masa incl. ``segera_berakhir``), sorts and pages;
* download: ``GET /api/v1/arsip/{id}/original.pdf`` of the 300; the ``X-Content-SHA256``
  header must equal the body's hash and the seeded one.

The same search mix is also run in process, one query at a time (``pipeline.archival.archive.search``,
no HTTP), so the database's share of a search is seen next to the HTTP numbers.  With no think
time, latency is mostly queueing (about clients / throughput), so each phase also reports its CPU
per request, split into API (uvicorn and its workers), PostgreSQL and this client, read from
/proc: unlike the times, other load on the machine hardly changes it, and it bounds the
throughput these cores can give.

Goal: search p95 under 100 ms (exit 1 when missed, or on any failed request or hash mismatch).

    .venv/bin/python bench/archive_load.py [--records 10000] [--clients 32] [--seconds 15] [--workers 2]

Lines: ``search: p50=… p95=… p99=… ms, … req/s`` and ``download: …`` likewise; last, the goal.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import hashlib
import io
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
import psycopg
import sqlalchemy as sa
from pypdf import PdfReader
from sqlmodel import SQLModel, select

from pipeline.access import opd_key
from pipeline.archival import archive
from pipeline.auth import create_user, issue_token
from pipeline.lifecycle import Status
from pipeline.models import Arsip, ArsipVersion, KerjaSama, Naskah, NaskahNomor, Pihak, User
from pipeline.sop import load_profile
from storage.db import make_engine, session_scope, upgrade
from storage.objects import LocalObjectStore
from tests.fixtures.postgres import PgServer, free_port, start_postgres

PROFILE = load_profile("paser")  # what the API under test runs with (NASKAH_SOP_PROFILE's default)

SEARCH_P95_BUDGET_MS = 100.0
DOWNLOADABLE = 300
WARMUP_S = 2.0
RETENTION_DAYS = 10957
TODAY = dt.date(2026, 11, 20)  # fixed, so every run archives the same agreements; the server uses its own today

# -- who and what: Kabupaten Paser and the parties it makes agreements with ---------------------

OURS = "Pemerintah Kabupaten Paser"
BUPATI = [  # (from, name): the Bupati in office on a date signs PIHAK KESATU
    (dt.date(2016, 2, 17), "dr. H. Yusriansyah Syarkawi, M.Kes."),
    (dt.date(2021, 2, 26), "dr. Fahmi Fadli"),
]
OPD = [  # (name, abbreviation in our nomor)
    ("Dinas Lingkungan Hidup", "DLH"),
    ("Dinas Pekerjaan Umum dan Penataan Ruang", "DPUPR"),
    ("Dinas Kesehatan", "Dinkes"),
    ("Dinas Pendidikan dan Kebudayaan", "Disdikbud"),
    ("Dinas Kependudukan dan Pencatatan Sipil", "Disdukcapil"),
    ("Dinas Komunikasi, Informatika, Statistik dan Persandian", "Diskominfo"),
    ("Dinas Pariwisata", "Dispar"),
    ("Badan Kepegawaian dan Pengembangan Sumber Daya Manusia", "BKPSDM"),
    ("Badan Pendapatan Daerah", "Bapenda"),
    ("Badan Pengelolaan Keuangan dan Aset Daerah", "BPKAD"),
    ("Dinas Perhubungan", "Dishub"),
    ("Badan Penanggulangan Bencana Daerah", "BPBD"),
    ("Dinas Ketahanan Pangan", "DKP"),
    ("Dinas Koperasi, Usaha Kecil dan Menengah", "Diskop"),
    ("Dinas Pertanian", "Distan"),
    ("Dinas Perkebunan", "Disbun"),
    ("Dinas Sosial", "Dinsos"),
    ("Dinas Pemberdayaan Masyarakat dan Desa", "DPMD"),
    ("Bagian Hukum Sekretariat Daerah", "Hukum"),
    ("Bagian Pemerintahan Sekretariat Daerah", "Tapem"),
    ("Satuan Polisi Pamong Praja", "Satpol PP"),
    ("Badan Perencanaan Pembangunan Daerah", "Bappeda"),
    ("Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu", "DPMPTSP"),
    ("Rumah Sakit Umum Daerah Panglima Sebaya", "RSUD"),
]
OPD_INDEX = {abbr: i for i, (_, abbr) in enumerate(OPD)}
# Topics of agreements between regions (KSDD), with the OPD teknis that runs each.
KSDD_TOPICS = [
    ("Pengelolaan Sampah Regional dan Pengembangan Ekonomi Sirkular", "DLH"),
    ("Pembangunan dan Pemeliharaan Jalan Penghubung Antarwilayah", "DPUPR"),
    ("Penyediaan Air Minum Lintas Daerah", "DPUPR"),
    ("Pelayanan Kesehatan Rujukan", "Dinkes"),
    ("Percepatan Penurunan Stunting", "Dinkes"),
    ("Pengembangan Pariwisata Terpadu", "Dispar"),
    ("Penanganan Banjir Daerah Aliran Sungai Kandilo", "BPBD"),
    ("Peningkatan Kapasitas Aparatur Sipil Negara", "BKPSDM"),
    ("Pemanfaatan Data Kependudukan", "Disdukcapil"),
    ("Ketahanan Pangan dan Pengendalian Inflasi Daerah", "DKP"),
    ("Pemasaran Produk Usaha Mikro, Kecil, dan Menengah", "Diskop"),
    ("Angkutan Umum Antarwilayah", "Dishub"),
    ("Penanggulangan Bencana dan Kebakaran Hutan dan Lahan", "BPBD"),
    ("Pengembangan Sistem Pemerintahan Berbasis Elektronik", "Diskominfo"),
    ("Pengembangan Kawasan Perbatasan Antardaerah", "Tapem"),
    ("Pertukaran Pelajar dan Pengembangan Seni Budaya", "Disdikbud"),
]


@dataclass(frozen=True)
class Party:
    """A counterparty: who signs for it, how it numbers its naskah, what it agrees on with us."""

    instansi: str
    jabatan: str
    kind: str  # pipeline.models.PihakKind
    nomor: str  # {c} classification code (changed in 2023), {n} number, {y} year, {m} month, {r} month in Roman
    topics: list[tuple[str, str]]  # (judul, OPD teknis abbreviation)


_PEMDA = [  # (instansi, jabatan of its head, unit in its nomor)
    ("Pemerintah Kota Balikpapan", "Wali Kota Balikpapan", "Pem"),
    ("Pemerintah Kabupaten Penajam Paser Utara", "Bupati Penajam Paser Utara", "Pem-KS"),
    ("Pemerintah Kabupaten Kutai Kartanegara", "Bupati Kutai Kartanegara", "Pem"),
    ("Pemerintah Kota Samarinda", "Wali Kota Samarinda", "HK"),
    ("Pemerintah Kabupaten Berau", "Bupati Berau", "Tapem"),
    ("Pemerintah Kota Bontang", "Wali Kota Bontang", "Pem"),
    ("Pemerintah Kabupaten Kutai Timur", "Bupati Kutai Timur", "KS"),
    ("Pemerintah Kabupaten Kutai Barat", "Bupati Kutai Barat", "Pem"),
    ("Pemerintah Kabupaten Mahakam Ulu", "Bupati Mahakam Ulu", "Pem"),
    ("Pemerintah Kabupaten Tabalong", "Bupati Tabalong", "Pem"),
    ("Pemerintah Kabupaten Kotabaru", "Bupati Kotabaru", "Tapem"),
    ("Pemerintah Kabupaten Tanah Bumbu", "Bupati Tanah Bumbu", "Pem"),
    ("Pemerintah Kota Banjarmasin", "Wali Kota Banjarmasin", "HK"),
    ("Pemerintah Kabupaten Barito Timur", "Bupati Barito Timur", "Pem"),
    ("Pemerintah Kota Tarakan", "Wali Kota Tarakan", "Pem"),
    ("Pemerintah Kabupaten Magetan", "Bupati Magetan", "Pem"),
    ("Pemerintah Kabupaten Tangerang", "Bupati Tangerang", "KS"),
    ("Pemerintah Provinsi Kalimantan Timur", "Gubernur Kalimantan Timur", "Pem-Otda"),
]
_PIHAK_KETIGA = [  # third parties (KSDPK): (instansi, jabatan, nomor pattern, topics)
    (
        "PT Bank Pembangunan Daerah Kalimantan Timur dan Kalimantan Utara",
        "Direktur Utama",
        "{n}/PKS/DIR/{r}/{y}",
        [("Penyaluran Gaji dan Layanan Perbankan Aparatur", "BPKAD"), ("Layanan Pembayaran Pajak Daerah", "Bapenda")],
    ),
    (
        "PT Bank Rakyat Indonesia (Persero) Tbk",
        "Pemimpin Cabang Tanah Grogot",
        "B.{n}-KC-XIV/OPS/{m:02d}/{y}",
        [("Layanan Transaksi Nontunai Pemerintah Daerah", "BPKAD"), ("Kredit Usaha Rakyat bagi Petani", "Distan")],
    ),
    (
        "PT Kideco Jaya Agung",
        "Presiden Direktur",
        "{n:03d}/KJA-LGL/{r}/{y}",
        [
            ("Program Tanggung Jawab Sosial dan Lingkungan Perusahaan", "Bappeda"),
            ("Reklamasi Lahan Pascatambang", "DLH"),
        ],
    ),
    (
        "Universitas Mulawarman",
        "Rektor",
        "{n}/UN17/KS.00.01/{y}",
        [("Penelitian dan Pengabdian kepada Masyarakat", "Bappeda"), ("Beasiswa Putra Putri Daerah", "Disdikbud")],
    ),
    (
        "Politeknik Negeri Samarinda",
        "Direktur",
        "{n}/PL7/KS/{y}",
        [("Penyelenggaraan Pendidikan Vokasi dan Magang", "Disdikbud")],
    ),
    (
        "Institut Teknologi Kalimantan",
        "Rektor",
        "{n}/IT10/KS.01/{y}",
        [("Kajian Akademik Rancangan Peraturan Daerah", "Hukum"), ("Perencanaan Tata Ruang Wilayah", "DPUPR")],
    ),
    (
        "Universitas Gadjah Mada",
        "Rektor",
        "{n}/UN1.P/KSA/{y}",
        [("Pengembangan Sumber Daya Manusia Aparatur", "BKPSDM"), ("Pelayanan Kesehatan Spesialistik", "RSUD")],
    ),
    (
        "PT Telkom Indonesia (Persero) Tbk",
        "General Manager Witel Balikpapan",
        "K.TEL.{n}/HK.810/WTL-BPP/{y}",
        [("Penyediaan Jaringan Internet Desa", "Diskominfo"), ("Pusat Data dan Layanan Awan Daerah", "Diskominfo")],
    ),
    (
        "PT Pos Indonesia (Persero)",
        "Kepala Kantor Cabang Tanah Grogot",
        "{n}/KCU-TGR/{r}/{y}",
        [("Penyaluran Bantuan Sosial", "Dinsos")],
    ),
    (
        "PT PLN (Persero) Unit Induk Distribusi Kalimantan Timur dan Kalimantan Utara",
        "General Manager",
        "{n}.PJ/HKM.02.01/UID-KTT/{y}",
        [("Penyambungan Listrik Desa", "DPMD"), ("Penerangan Jalan Umum", "Dishub")],
    ),
    (
        "Perumda Air Minum Tirta Kandilo",
        "Direktur",
        "{n}/PDAM-TK/{r}/{y}",
        [("Penyediaan Air Bersih Kawasan Perdesaan", "DPUPR")],
    ),
    (
        "PT Pertamina Patra Niaga",
        "Sales Area Manager Kalimantan Timur",
        "{n}/PND430000/{y}-S3",
        [("Penyediaan Bahan Bakar Minyak Satu Harga", "Tapem")],
    ),
]
_INSTANSI_VERTIKAL = [  # vertical agencies (KSIV), likewise
    (
        "Kejaksaan Negeri Paser",
        "Kepala Kejaksaan Negeri Paser",
        "B-{n}/O.4.21/Gp.1/{m:02d}/{y}",
        [("Penanganan Masalah Hukum di Bidang Perdata dan Tata Usaha Negara", "Hukum")],
    ),
    (
        "Kepolisian Resor Paser",
        "Kepala Kepolisian Resor Paser",
        "NK/{n}/{r}/{y}/Res Paser",
        [("Pengamanan Objek Vital dan Kegiatan Pemerintah Daerah", "Satpol PP")],
    ),
    (
        "Kantor Pertanahan Kabupaten Paser",
        "Kepala Kantor Pertanahan Kabupaten Paser",
        "{n}/SKB-64.01.MP.01.02/{r}/{y}",
        [("Percepatan Pendaftaran Tanah dan Sertifikasi Barang Milik Daerah", "BPKAD")],
    ),
    (
        "Badan Pusat Statistik Kabupaten Paser",
        "Kepala Badan Pusat Statistik Kabupaten Paser",
        "B-{n}/64010/HM.300/{y}",
        [("Penyelenggaraan Statistik Sektoral", "Diskominfo")],
    ),
    (
        "Komando Distrik Militer 0904/Paser",
        "Komandan Kodim 0904/Paser",
        "NK/{n}/{r}/{y}",
        [("Program Tentara Manunggal Membangun Desa", "DPMD"), ("Pembinaan Teritorial dan Karya Bakti", "Tapem")],
    ),
    (
        "Kantor Pelayanan Pajak Pratama Tanah Grogot",
        "Kepala Kantor Pelayanan Pajak Pratama Tanah Grogot",
        "PRJ-{n}/WPJ.14/KP.08/{y}",
        [("Optimalisasi Pemungutan Pajak Pusat dan Pajak Daerah", "Bapenda")],
    ),
    (
        "Kantor Kementerian Agama Kabupaten Paser",
        "Kepala Kantor Kementerian Agama Kabupaten Paser",
        "B-{n}/Kk.16.02/1/HM.01/{m:02d}/{y}",
        [("Bimbingan Perkawinan dan Pencatatan Nikah", "Disdukcapil")],
    ),
    (
        "Badan Narkotika Nasional Kabupaten Paser",
        "Kepala Badan Narkotika Nasional Kabupaten Paser",
        "NK/{n}/{r}/{y}/BNNK-PSR",
        [("Pencegahan dan Pemberantasan Penyalahgunaan dan Peredaran Gelap Narkotika", "Satpol PP")],
    ),
    (
        "Pengadilan Agama Tanah Grogot",
        "Ketua Pengadilan Agama Tanah Grogot",
        "W17-A9/{n}/HM.01/{r}/{y}",
        [("Pelayanan Isbat Nikah Terpadu", "Disdukcapil")],
    ),
    (
        "Badan Pengawasan Keuangan dan Pembangunan Perwakilan Provinsi Kalimantan Timur",
        "Kepala Perwakilan BPKP Provinsi Kalimantan Timur",
        "NK-{n}/PW17/{y}",
        [("Pengawasan Keuangan dan Pembangunan Daerah", "BPKAD")],
    ),
]
PARTIES = {
    "KSDD": [Party(i, j, "pemda", "{c}/{n}/" + u + "/{y}", KSDD_TOPICS) for i, j, u in _PEMDA],
    "KSDPK": [Party(i, f"{j} {i}", "pihak_ketiga", n, t) for i, j, n, t in _PIHAK_KETIGA],
    "KSIV": [Party(i, j, "instansi_vertikal", n, t) for i, j, n, t in _INSTANSI_VERTIKAL],
}
GELAR_DEPAN = ["", "", "", "H. ", "Drs. ", "Ir. ", "dr. ", "Dr. ", "Drs. H. ", "Ir. H. "]
NAMA_DEPAN = [
    "Ahmad", "Andi", "Budi", "Dewi", "Eko", "Fajar", "Hendra", "Indah", "Joko", "Kartika", "Lestari", "Muhammad",
    "Nurul", "Rahmat", "Rina", "Siti", "Sri", "Taufik", "Wahyu", "Yusuf", "Agus", "Bambang", "Suryadi", "Syahrani",
    "Abdul", "Fitri", "Irwan", "Maulana", "Ratna", "Zainal",
]  # fmt: skip
NAMA_BELAKANG = [
    "Saputra", "Wijaya", "Hidayat", "Rahman", "Setiawan", "Kurniawan", "Lubis", "Nasution", "Pratama", "Siregar",
    "Wulandari", "Hasibuan", "Syamsuddin", "Fadillah", "Ramadhan", "Santoso", "Gunawan", "Hakim", "Anwar", "Mahmud",
]  # fmt: skip
GELAR_BELAKANG = ["", ", S.H.", ", S.E.", ", S.STP., M.Si.", ", M.Si.", ", S.T., M.T.", ", M.AP.", ", S.Sos., M.M."]
ROMAWI = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]


def nama(rng: random.Random) -> str:
    first, last = rng.choice(NAMA_DEPAN), rng.choice(NAMA_BELAKANG)
    return f"{rng.choice(GELAR_DEPAN)}{first} {last}{rng.choice(GELAR_BELAKANG)}"


def bupati_on(day: dt.date) -> str:
    return [name for start, name in BUPATI if start <= day][-1]


def opd_name(abbr: str) -> str:
    return f"{OPD[OPD_INDEX[abbr]][0]} Kabupaten Paser"


def our_nomor(jenis: str, n: int, day: dt.date, opd_abbr: str) -> str:
    """Our register: the classification code changed with Permendagri 83/2022 (from 2023)."""
    unit = "Tapem" if jenis in ("KB", "NK") else opd_abbr
    if day.year >= 2023:
        code = {"KB": "100.3.7.1", "NK": "100.3.7.1", "PKS": "100.3.7.2", "SK": "100.3.7.3"}[jenis]
        return f"{code}/{n}/{unit}/{day.year}"
    return f"{'119' if jenis != 'SK' else '800'}/{n}/{unit}/{ROMAWI[day.month - 1]}/{day.year}"


def their_nomor(pattern: str, n: int, day: dt.date) -> str:
    code = "100.3.7" if day.year >= 2023 else "119"
    return pattern.format(c=code, n=n, y=day.year, m=day.month, r=ROMAWI[day.month - 1])


def plus_years(day: dt.date, years: int) -> dt.date:
    return day.replace(year=day.year + years) if (day.month, day.day) != (2, 29) else dt.date(day.year + years, 2, 28)


# -- generating the archive --------------------------------------------------------------------


Row = dict[str, Any]


@dataclass
class Rows:
    """Rows per table, as column -> value with explicit ids, ready for COPY (plain dicts: building
    70,000 SQLModel objects would take longer than loading them)."""

    kerja_sama: list[Row] = field(default_factory=list)
    pihak: list[Row] = field(default_factory=list)
    naskah: list[Row] = field(default_factory=list)
    nomor: list[Row] = field(default_factory=list)
    arsip: list[Row] = field(default_factory=list)


@dataclass
class Doc:
    """One archived naskah before it becomes rows."""

    jenis: str
    judul: str
    tanggal_ttd: dt.date
    signers: list[tuple[str, str]]  # (penandatangan, jabatan) per pihak urutan
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    kerja_sama: Row
    mitra: Party
    opd: str  # abbreviation
    pihak_ids: list[int]
    naskah_ids: list[int]  # KB/NK <- PKS <- SK: each naskah's parent is the one before it


def generate(n_records: int, user_id: int, archived_by: int, rng: random.Random) -> Rows:
    """``n_records`` archived naskah of Kabupaten Paser signed from 2019 to ``TODAY``, with their cases."""
    rows = Rows()
    first_day = dt.date(2019, 1, 2)
    while len(rows.arsip) < n_records:
        jenis_ks = rng.choices(["KSDD", "KSDPK", "KSIV"], weights=[35, 40, 25])[0]
        mitra = rng.choice(PARTIES[jenis_ks])
        topic, opd = rng.choice(mitra.topics)
        signed = first_day + dt.timedelta(days=rng.randrange((TODAY - first_day).days))
        mulai = signed + dt.timedelta(days=rng.randrange(0, 15))
        selesai = plus_years(mulai, rng.choices([1, 2, 3, 5], weights=[15, 25, 25, 35])[0]) - dt.timedelta(days=1)
        created = dt.datetime.combine(signed, dt.time(9), dt.UTC) - dt.timedelta(days=rng.randrange(30, 120))
        ours, theirs = (bupati_on(signed), "Bupati Paser"), (nama(rng), mitra.jabatan)
        docs = [Doc("NK" if jenis_ks == "KSIV" else "KB", topic, signed, [ours, theirs])]
        pks_day = signed + dt.timedelta(days=rng.randrange(7, 200))
        if jenis_ks != "KSIV" and rng.random() < 0.6 and pks_day <= TODAY:
            pks_judul = f"Pelaksanaan {topic} Tahun {pks_day.year}"
            kepala_opd = (nama(rng), f"Kepala {opd_name(opd)}")
            delegated = rng.random() < 0.35  # signed by the Kepala OPD under a Surat Kuasa
            pks_signers = [kepala_opd if delegated else ours, (nama(rng), mitra.jabatan)]
            docs.append(Doc("PKS", pks_judul, pks_day, pks_signers, {"judul": pks_judul}))
            if delegated:
                kuasa = f"Surat Kuasa penandatanganan Perjanjian Kerja Sama {pks_judul}"
                kuasa_day = pks_day - dt.timedelta(days=rng.randrange(1, 7))
                docs.append(Doc("SK", kuasa, kuasa_day, [ours, kepala_opd], {"pks_judul": pks_judul}))
        kerja_sama = dict(
            id=len(rows.kerja_sama) + 1,
            jenis=jenis_ks,
            judul=topic,
            objek=f"{topic} di wilayah Kabupaten Paser",
            manfaat=f"Meningkatnya kualitas {topic.lower()} bagi masyarakat",
            bentuk="Kesepakatan Bersama" if jenis_ks != "KSIV" else "Nota Kesepakatan",
            tahun_anggaran_mulai=mulai.year,
            mulai=mulai,
            selesai=selesai,
            opd_teknis=opd_name(opd),
            opd_key=opd_key(opd_name(opd)),
            created_by=user_id,
            created_at=created,
            updated_at=created,
        )
        rows.kerja_sama.append(kerja_sama)
        pihak_ids = []
        for urutan, (instansi, kind, (penandatangan, jabatan)) in enumerate(
            [(OURS, "pemda", ours), (mitra.instansi, mitra.kind, theirs)], start=1
        ):
            pihak_ids.append(len(rows.pihak) + 1)
            rows.pihak.append(
                dict(
                    id=pihak_ids[-1],
                    kerja_sama_id=kerja_sama["id"],
                    urutan=urutan,
                    instansi=instansi,
                    kind=kind,
                    penandatangan_nama=penandatangan,
                    penandatangan_jabatan=jabatan,
                )
            )
        naskah_ids = [len(rows.naskah) + 1 + i for i in range(len(docs))]
        case = Case(kerja_sama, mitra, opd, pihak_ids, naskah_ids)
        for i in range(min(len(docs), n_records - len(rows.arsip))):
            add_naskah(rows, case, docs, i, user_id, archived_by)
    return rows


def add_naskah(rows: Rows, case: Case, docs: list[Doc], i: int, user_id: int, archived_by: int) -> None:
    """Naskah ``i`` of ``case``: its naskah, nomor, arsip and arsip_version rows."""
    doc, ks, naskah_id = docs[i], case.kerja_sama, case.naskah_ids[i]
    nomor = {  # numbers in each register: a running number per year would be nicer, this is varied enough
        "1": our_nomor(doc.jenis, naskah_id % 397 + 1, doc.tanggal_ttd, case.opd),
        "2": their_nomor(case.mitra.nomor, (naskah_id * 7) % 911 + 1, doc.tanggal_ttd),
    }
    second = OURS if doc.jenis == "SK" else case.mitra.instansi  # a Surat Kuasa: two officials of ours
    pihak = [
        {"urutan": u, "instansi": inst, "penandatangan": who, "jabatan": jab}
        for u, inst, (who, jab) in ((1, OURS, doc.signers[0]), (2, second, doc.signers[1]))
    ]
    # The case's naskah form one chain KB <- PKS <- SK, so each is related to all the others;
    # the earlier ones are its ancestors (induk), as pipeline.archival.archive._related reports them.
    related = [
        {
            "naskah_id": case.naskah_ids[j],
            "jenis": other.jenis,
            "hubungan": "induk" if j < i else "turunan",
            "status": "archived",
        }
        for j, other in enumerate(docs)
        if j != i
    ]
    archived_at = dt.datetime.combine(doc.tanggal_ttd, dt.time(10), dt.UTC) + dt.timedelta(days=1)
    rows.naskah.append(
        dict(
            id=naskah_id,
            kerja_sama_id=ks["id"],
            jenis=doc.jenis,
            template={"KB": "kb/standar", "NK": "nk/standar", "PKS": "pks/standar", "SK": "sk/standar"}[doc.jenis],
            status=Status.ARCHIVED.value,
            lock_version=12,
            parent_id=case.naskah_ids[i - 1] if i else None,
            data=doc.data,
            created_by=user_id,
            created_at=ks["created_at"],
            updated_at=archived_at,
        )
    )
    for urutan, value in nomor.items():
        rows.nomor.append(
            dict(id=len(rows.nomor) + 1, naskah_id=naskah_id, pihak_id=case.pihak_ids[int(urutan) - 1], nomor=value)
        )
    arsip_id = len(rows.arsip) + 1
    rows.arsip.append(
        dict(
            id=arsip_id,
            naskah_id=naskah_id,
            kerja_sama_id=ks["id"],
            jenis=doc.jenis,
            jenis_kerja_sama=ks["jenis"],
            judul=doc.judul,
            pihak=pihak,
            nomor=nomor,
            opd_teknis=ks["opd_teknis"],
            opd_key=ks["opd_key"],
            tanggal_ttd=doc.tanggal_ttd,
            mulai=ks["mulai"],
            selesai=ks["selesai"],
            related=related,
            search_text=archive.search_text(  # the same parts, in the same order, as archive_naskah
                doc.judul,
                [p["instansi"] for p in pihak],
                [p["penandatangan"] for p in pihak],
                nomor,
                ks["opd_teknis"],
                doc.jenis,
                ks["jenis"],
            ),
            key=f"arsip/{doc.tanggal_ttd.year}/{doc.jenis.lower()}-{naskah_id}.pdf",
            version_id=f"{int(archived_at.timestamp() * 1e9):020d}-{naskah_id:08x}",  # replaced where stored
            sha256=hashlib.sha256(f"unstored {naskah_id}".encode()).hexdigest(),
            size=150_000,
            retain_until=archived_at + dt.timedelta(days=RETENTION_DAYS),
            timestamp_expiry=archived_at + dt.timedelta(days=3 * 365),
            archived_by=archived_by,
            archived_at=archived_at,
        )
    )


# -- PDFs for the downloadable records ---------------------------------------------------------

PASAL = [
    "Para Pihak sepakat untuk saling bekerja sama dalam rangka {topic} sesuai dengan kewenangan masing-masing.",
    "Ruang lingkup Kesepakatan Bersama ini meliputi perencanaan, pelaksanaan, pemantauan, dan evaluasi kegiatan.",
    "Pelaksanaan kerja sama dituangkan lebih lanjut dalam Perjanjian Kerja Sama yang disusun oleh perangkat daerah.",
    "Segala biaya yang timbul dibebankan pada Anggaran Pendapatan dan Belanja Daerah masing-masing Para Pihak.",
    "Para Pihak wajib menjaga kerahasiaan data dan informasi yang diperoleh dalam pelaksanaan kerja sama ini.",
    "Perselisihan diselesaikan secara musyawarah untuk mufakat dan apabila tidak tercapai melalui Gubernur.",
    "Kesepakatan ini berlaku sejak tanggal ditandatangani dan dapat diperpanjang atas persetujuan Para Pihak.",
    "Hal-hal yang belum diatur akan diatur kemudian dalam adendum yang merupakan bagian tidak terpisahkan.",
]


def pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def naskah_pdf(arsip: Row, target_bytes: int) -> bytes:
    """A plain-text A4 PDF (Helvetica, uncompressed) of about ``target_bytes``: the naskah's head
    (jenis, para pihak, judul, nomor) and numbered pasal, enough pages to reach the size."""
    head = [
        {"KB": "KESEPAKATAN BERSAMA", "NK": "NOTA KESEPAKATAN", "PKS": "PERJANJIAN KERJA SAMA", "SK": "SURAT KUASA"}[
            arsip["jenis"]
        ],
        "ANTARA",
        *[p["instansi"].upper() for p in arsip["pihak"]],
        "TENTANG",
        arsip["judul"].upper(),
        *[f"NOMOR: {v}" for v in arsip["nomor"].values()],
        "",
    ]
    lines, pasal, size = list(head), 1, 0
    while size < target_bytes:
        block = [
            f"Pasal {pasal}",
            *(PASAL[(pasal + k) % len(PASAL)].format(topic=arsip["judul"].lower()) for k in range(3)),
            "",
            f"Ditandatangani secara elektronik pada {arsip['tanggal_ttd']:%d-%m-%Y}; arsip nomor {arsip['id']}",
            "",
        ]
        lines.extend(block)
        size += sum(len(line) + 6 for line in block)
        pasal += 1
    pages = [lines[i : i + 58] for i in range(0, len(lines), 58)]
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for page in pages:
        text = "".join(f"({pdf_escape(line)}) '\n" for line in page)
        stream = f"BT\n/F1 8 Tf\n12 TL\n40 814 Td\n{text}ET\n".encode("latin-1", "replace")
        objects.append(b"<< /Length %d >>\nstream\n%b\nendstream" % (len(stream), stream))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >>"
            b" /Contents %d 0 R >>" % len(objects)
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%b] /Count %d >>" % (b" ".join(kids), len(kids))
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%b\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# -- seeding -----------------------------------------------------------------------------------


def copy_rows(conn: psycopg.Connection, model: type[SQLModel], rows: list[Row]) -> None:
    """COPY ``rows`` into ``model``'s table: every column, JSON serialised, a missing nullable one NULL."""
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    columns = list(table.columns)
    unknown = set(rows[0]) - {c.name for c in columns}
    missing = [c.name for c in columns if not c.nullable and c.name not in rows[0]]
    if unknown or missing:
        raise ValueError(f"{table.name}: unknown columns {sorted(unknown)}, missing {missing}")
    names = ", ".join(f'"{c.name}"' for c in columns)
    is_json = [isinstance(c.type, sa.JSON) for c in columns]
    with conn.cursor() as cur, cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            values = (row.get(c.name) for c in columns)
            copy.write_row(
                [json.dumps(v, ensure_ascii=False) if j else v for v, j in zip(values, is_json, strict=True)]
            )
    conn.execute(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), {len(rows)})")


@dataclass(frozen=True)
class Seeded:
    token: str
    downloads: dict[int, str]  # arsip id -> sha256 of the stored original
    queries: list[dict[str, Any]]  # search parameters drawn from the data
    counts: dict[str, int]  # rows per table
    pdf_bytes: int


def seed(server: PgServer, dbname: str, engine: sa.Engine, store: LocalObjectStore, n: int) -> Seeded:
    """The users (through ``pipeline.auth``), the generated rows, the PDFs of ``DOWNLOADABLE`` of them
    into the locked store (their rows then name the stored version), and every row by COPY."""
    rng = random.Random(20261122)
    with session_scope(engine) as session:
        sekretariat = create_user(
            session,
            username="sekretariat.tkksd",
            nama="Siti Rahmawati, S.Sos.",
            jabatan="Pengelola Arsip Kerja Sama",
            roles=["secretariat"],
        )
        analis = create_user(
            session, username="analis.tapem", nama="Rina Wulandari, S.H.", jabatan="Analis", roles=["drafter"]
        )
        token = issue_token(session, sekretariat, label="bench")
        archived_by, drafter = sekretariat.id or 0, analis.id or 0
    rows = generate(n, drafter, archived_by, rng)

    downloads: dict[int, str] = {}
    pdf_total = 0
    for arsip in rng.sample(rows.arsip, min(DOWNLOADABLE, len(rows.arsip))):
        pdf = naskah_pdf(arsip, rng.randrange(100_000, 300_000))
        stored = store.put(arsip["key"], pdf, content_type="application/pdf", retain_until=arsip["retain_until"])
        arsip.update(version_id=stored.version_id, sha256=stored.sha256, size=stored.size)
        downloads[arsip["id"]] = stored.sha256
        pdf_total += stored.size
    versions = [
        {
            "id": arsip["id"],
            "arsip_id": arsip["id"],
            "version_id": arsip["version_id"],
            "sha256": arsip["sha256"],
            "size": arsip["size"],
            "reason": "archive",
            "timestamp_expiry": arsip["timestamp_expiry"],
            "created_by": archived_by,
            "created_at": arsip["archived_at"],
        }
        for arsip in rows.arsip
    ]
    tables: list[tuple[type[SQLModel], list[Row]]] = [
        (KerjaSama, rows.kerja_sama),
        (Pihak, rows.pihak),
        (Naskah, rows.naskah),
        (NaskahNomor, rows.nomor),
        (Arsip, rows.arsip),
        (ArsipVersion, versions),
    ]
    with psycopg.connect(server.dsn(dbname)) as conn:
        for model, table_rows in tables:
            copy_rows(conn, model, table_rows)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    counts = {model.__tablename__: len(table_rows) for model, table_rows in tables}  # type: ignore[attr-defined]
    return Seeded(token, downloads, query_pool(rows.arsip, rng), counts, pdf_total)


def query_pool(records: list[Row], rng: random.Random, size: int = 5000) -> list[dict[str, Any]]:
    """Search parameters as the secretariat would send them: words taken from real records (1-2
    of them, sometimes with a filter), a whole nomor, filters alone, expiring soon, deep pages."""
    pool: list[dict[str, Any]] = []
    for _ in range(size):
        record = rng.choice(records)
        words = [w for w in record["search_text"].split() if len(w) >= 4 and w.isalpha()]
        kind = rng.choices(
            ["word", "two_words", "word_jenis", "nomor", "year_jenis_ks", "expiring", "masa_opd", "browse"],
            weights=[30, 20, 10, 8, 10, 10, 7, 5],
        )[0]
        params: dict[str, Any] = {}
        if kind == "word":
            params["q"] = rng.choice(words)
        elif kind == "two_words":
            params["q"] = " ".join(rng.sample(words, 2))
        elif kind == "word_jenis":
            params.update(q=rng.choice(words), jenis=record["jenis"])
        elif kind == "nomor":
            params["q"] = rng.choice(list(record["nomor"].values()))
        elif kind == "year_jenis_ks":
            params.update(tahun=record["tanggal_ttd"].year, jenis_kerja_sama=record["jenis_kerja_sama"])
        elif kind == "expiring":
            params.update(masa="segera_berakhir", dalam_hari=rng.choice([30, 90, 180]), sort="selesai")
        elif kind == "masa_opd":
            params.update(masa=rng.choice(["berlaku", "kedaluwarsa"]), opd=record["opd_teknis"].split()[1])
        if kind in ("browse", "year_jenis_ks") or rng.random() < 0.3:
            params["sort"] = rng.choice(list(archive.SORTS))
        params["offset"] = rng.choice([0, 0, 0, 20, 40]) if kind != "browse" else rng.randrange(0, 100) * 20
        params["limit"] = rng.choice([20, 20, 20, 50])
        pool.append(params)
    return pool


# -- the server --------------------------------------------------------------------------------


@contextmanager
def serve(env: dict[str, str], workers: int, log: Path) -> Iterator[tuple[str, int]]:
    """``naskah serve --workers`` (as production runs it: uvicorn's workers, its access log) on a free
    loopback port, until every worker is up: its base URL and the pid of its main process."""
    port = free_port()
    naskah = Path(sys.executable).with_name("naskah")
    cmd = [str(naskah), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    env = {"NASKAH_LOG_LEVEL": "INFO", **env}
    root = Path(__file__).resolve().parents[1]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=root, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while log.read_text().count("Application startup complete") < workers:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start (exit {proc.poll()}):\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def tree_cpu_s(root: int) -> float:
    """CPU seconds used so far by process ``root`` and its descendants, reaped ones included (Linux
    /proc): the server's cost per request, which other load on the machine does not inflate."""
    parent, ticks = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, ...
        except (OSError, IndexError):
            continue  # exited meanwhile
        pid = int(stat.parent.name)
        parent[pid], ticks[pid] = int(fields[1]), sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += ticks.get(pid, 0)
        todo.extend(child for child, ppid in parent.items() if ppid == pid)
    return total / os.sysconf("SC_CLK_TCK")


def machine_cpu_s() -> float:
    """CPU seconds all cores have been busy so far (Linux /proc/stat: everything but idle and iowait)."""
    ticks = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


# -- load --------------------------------------------------------------------------------------


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@dataclass(frozen=True)
class Reply:
    status: int
    sha256_header: str | None
    body: bytes


Request = Callable[[random.Random], str]  # a path with its query string
Check = Callable[[str, Reply], str | None]  # a problem, or None


@dataclass
class Phase:
    name: str
    latencies_ms: list[float]
    seconds: float
    errors: list[str]
    body_bytes: int
    client_cpu_s: float
    api_cpu_s: float = float("nan")
    db_cpu_s: float = float("nan")
    machine_cpu_s: float = float("nan")

    def pct(self, q: int) -> float:
        return percentile(self.latencies_ms, q)

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def line(self) -> str:
        p50, p95, p99 = (self.pct(q) for q in (50, 95, 99))
        return f"{self.name}: p50={p50:.1f} p95={p95:.1f} p99={p99:.1f} ms, {self.rate:.1f} req/s"


async def drive(
    base_url: str,
    token: str,
    clients: int,
    seconds: float,
    name: str,
    request: Request,
    check: Check,
    think_ms: float = 0.0,
) -> Phase:
    """``clients`` closed loops for ``seconds``, one keep-alive connection each: each client sends
    its next request ``think_ms`` (uniformly 0.5x-1.5x) after the last answer (0: at once).
    aiohttp rather than httpx: the load generator shares the cores
    with the server, and httpx spent 4-8x more CPU per request here (2-4 ms against 0.3-0.6 ms)."""
    latencies: list[float] = []
    errors: list[str] = []
    received = 0
    connector = aiohttp.TCPConnector(limit=clients)
    headers = {"Authorization": f"Bearer {token}"}
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(base_url, connector=connector, headers=headers, timeout=timeout) as client:

        async def one_client(index: int) -> None:
            nonlocal received
            rng = random.Random(index)
            if think_ms:  # arrive spread over one think time, not as one burst of every client at once
                await asyncio.sleep(rng.uniform(0, 1.5) * think_ms / 1000)
            while time.perf_counter() < deadline:
                path = request(rng)
                t0 = time.perf_counter()
                try:
                    async with client.get(path) as response:
                        reply = Reply(response.status, response.headers.get("X-Content-SHA256"), await response.read())
                except (aiohttp.ClientError, TimeoutError) as exc:
                    errors.append(f"{path}: {type(exc).__name__} {exc}")
                    continue
                latencies.append((time.perf_counter() - t0) * 1000)
                received += len(reply.body)
                problem = check(path, reply)
                if problem:
                    errors.append(f"{path}: {problem}")
                if think_ms:
                    await asyncio.sleep(rng.uniform(0.5, 1.5) * think_ms / 1000)

        cpu0, started = time.process_time(), time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(one_client(i) for i in range(clients)))
        elapsed = time.perf_counter() - started
    return Phase(name, latencies, elapsed, errors, received, time.process_time() - cpu0)


@dataclass(frozen=True)
class Target:
    base_url: str
    token: str
    api_pid: int  # uvicorn's main process
    db_pid: int  # the postmaster


def run_phase(
    target: Target,
    clients: int,
    seconds: float,
    think_ms: float,
    name: str,
    request: Request,
    check: Check,
) -> Phase:
    """A warm-up, then the measured run, with the CPU the API and PostgreSQL spent on it."""
    asyncio.run(drive(target.base_url, target.token, clients, WARMUP_S, name, request, check, think_ms))
    api0, db0, all0 = tree_cpu_s(target.api_pid), tree_cpu_s(target.db_pid), machine_cpu_s()
    phase = asyncio.run(drive(target.base_url, target.token, clients, seconds, name, request, check, think_ms))
    phase.api_cpu_s, phase.db_cpu_s = tree_cpu_s(target.api_pid) - api0, tree_cpu_s(target.db_pid) - db0
    phase.machine_cpu_s = machine_cpu_s() - all0
    return phase


def check_ok(path: str, reply: Reply) -> str | None:
    return None if reply.status == 200 else f"HTTP {reply.status} {reply.body[:200]!r}"


def check_search(path: str, reply: Reply) -> str | None:
    if reply.status != 200:
        return f"HTTP {reply.status} {reply.body[:200]!r}"
    page = json.loads(reply.body)
    return None if isinstance(page.get("data"), list) and isinstance(page.get("count"), int) else "not a page"


def check_download(expected: dict[int, str]) -> Check:
    def check(path: str, reply: Reply) -> str | None:
        if reply.status != 200:
            return f"HTTP {reply.status} {reply.body[:200]!r}"
        seeded, body = expected[int(path.split("/")[4])], hashlib.sha256(reply.body).hexdigest()
        if reply.sha256_header != body or body != seeded:
            return f"sha256 mismatch: header {reply.sha256_header}, body {body}, seeded {seeded}"
        return None

    return check


def in_process_search(engine: sa.Engine, queries: list[dict[str, Any]], n: int) -> list[float]:
    """The same queries through ``pipeline.archival.archive.search``, one at a time: the database's share."""
    times = []
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.username == "sekretariat.tkksd")).one()
        for params in queries[:n]:
            t0 = time.perf_counter()
            archive.search(session, user, archive.ArsipQuery(**params), dt.date.today(), profile=PROFILE)
            times.append((time.perf_counter() - t0) * 1000)
    return times


@dataclass(frozen=True)
class Results:
    baseline: Phase
    search: Phase
    download: Phase
    saturation: Phase
    in_process_ms: list[float]


def run(args: argparse.Namespace, server: PgServer) -> Results:
    """Seed, start the API, measure the three phases (prints the seeding as it goes)."""
    dbname = server.new_database()
    with tempfile.TemporaryDirectory(prefix="bench-arsip-") as tmp:
        work = Path(tmp)
        engine = make_engine(server.url(dbname))
        upgrade(engine)
        started = time.perf_counter()
        store = LocalObjectStore.create(work / "arsip")
        seeded = seed(server, dbname, engine, store, args.records)
        seed_s = time.perf_counter() - started
        with session_scope(engine) as session:
            sample = session.get(Arsip, next(iter(seeded.downloads)))
            assert sample is not None
            pages = len(PdfReader(io.BytesIO(store.get(sample.key, sample.version_id, sha256=sample.sha256))).pages)
        rows = ", ".join(f"{v} {k}" for k, v in seeded.counts.items())
        print(f"seed: {rows} in {seed_s:.1f} s (COPY, PostgreSQL {server_version(server, dbname)})")
        print(
            f"archive store: {len(seeded.downloads)} locked PDFs, {seeded.pdf_bytes / 1e6:.1f} MB "
            f"(e.g. {sample.key}: {pages} pages)"
        )
        in_process_ms = in_process_search(engine, seeded.queries, 500)
        engine.dispose()

        env = {
            "NASKAH_DATABASE_URL": server.url(dbname),
            "NASKAH_STORAGE_URL": f"file:{work / 'objects'}",
            "NASKAH_ARCHIVE_STORAGE_URL": f"file:{work / 'arsip'}",
            "NASKAH_CONVERTER": "cold",
            "NASKAH_MIGRATE_ON_START": "false",
        }
        ids = sorted(seeded.downloads)
        queries = itertools.cycle(seeded.queries)

        def me(rng: random.Random) -> str:
            return "/api/v1/me"

        def search(rng: random.Random) -> str:
            return "/api/v1/arsip?" + urlencode(next(queries))

        def download(rng: random.Random) -> str:
            return f"/api/v1/arsip/{rng.choice(ids)}/original.pdf"

        postmaster = int((server.datadir / "postmaster.pid").read_text().split()[0])
        with serve(env, args.workers, work / "uvicorn.log") as (base_url, api_pid):
            target = Target(base_url, seeded.token, api_pid, postmaster)
            print(
                f"load: {args.clients} clients on loopback, each {args.think_ms:g} ms (0.5x-1.5x) between an "
                f"answer and its next request; uvicorn {args.workers} workers, {args.seconds:g} s per phase "
                f"after {WARMUP_S:g} s warm-up, {os.cpu_count()} cores"
            )
            phase = functools.partial(run_phase, target, args.clients, args.seconds, args.think_ms)
            return Results(
                baseline=phase("baseline GET /me", me, check_ok),
                search=phase("search", search, check_search),
                download=phase("download", download, check_download(seeded.downloads)),
                saturation=run_phase(
                    target, args.clients, args.seconds, 0.0, "search saturated (no think time)", search, check_search
                ),
                in_process_ms=in_process_ms,
            )


def report(r: Results) -> int:
    """The lines, the context, the goal; 0 when the goal is met and nothing failed."""
    print(r.baseline.line())
    print(
        f"search in process (pipeline.archival.archive.search, one at a time, no HTTP): "
        f"p50={percentile(r.in_process_ms, 50):.1f} p95={percentile(r.in_process_ms, 95):.1f} ms"
    )
    print(r.search.line())
    print(r.download.line())
    print(f"{r.saturation.line()}  (capacity: latency here is queueing, about clients / throughput)")
    print(
        f"context: search p50 = {r.search.pct(50) / r.baseline.pct(50):.1f}x the /me p50; "
        f"download {r.download.body_bytes / r.download.seconds / 1e6:.0f} MB/s"
    )
    cores = os.cpu_count() or 1
    for phase in (r.baseline, r.search, r.download, r.saturation):
        n = max(len(phase.latencies_ms), 1)
        ours = phase.api_cpu_s + phase.db_cpu_s + phase.client_cpu_s
        api, db, client = (1000 * cpu / n for cpu in (phase.api_cpu_s, phase.db_cpu_s, phase.client_cpu_s))
        others = max(phase.machine_cpu_s - ours, 0.0) / phase.seconds
        print(
            f"cpu per request, {phase.name}: api {api:.1f} + postgres {db:.1f} + client {client:.1f} = "
            f"{api + db + client:.1f} ms, at most {cores * 1000 / (api + db + client):.0f} req/s on {cores} cores; "
            f"other processes used {others:.2f} cores meanwhile"
        )
    failed = False
    for phase in (r.baseline, r.search, r.download, r.saturation):
        if phase.errors:
            failed = True
            print(f"FAIL: {phase.name}: {len(phase.errors)} failed requests, e.g. {phase.errors[0]}")
    p95 = r.search.pct(95)
    met = p95 < SEARCH_P95_BUDGET_MS
    print(f"goal: search p95 {p95:.1f} ms < {SEARCH_P95_BUDGET_MS:.0f} ms: {'met' if met else 'NOT met'}")
    return 0 if met and not failed else 1


def server_version(server: PgServer, dbname: str) -> str:
    with psycopg.connect(server.dsn(dbname)) as conn:
        return str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]  # type: ignore[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000, help="archived records to seed (default 10000)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per phase (default 15)")
    parser.add_argument(
        "--think-ms",
        type=float,
        default=1000.0,
        help="each client's pause between an answer and its next request, 0.5x-1.5x (default 1000; 0 = none)",
    )
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2)")
    args = parser.parse_args()
    if args.records < 1 or args.clients < 1 or args.seconds <= 0 or args.workers < 1:
        parser.error("--records, --clients, --workers must be >= 1 and --seconds > 0")
    server = start_postgres()
    try:
        results = run(args, server)
    finally:
        server.stop()  # before the fixture's atexit hook removes its data directory
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
