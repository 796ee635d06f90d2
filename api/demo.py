"""``naskah demo``: the whole lifecycle on a sample KSDD case, timed step by step.

It starts from an incoming penawaran of Kota Balikpapan (its letter and KAK made here, DOCX rendered
and converted like every document), walks the intake (disposisi down the profile's chain, telaah,
the TKKSD rapat with its undangan and berita acara, the Bupati's approval, which opens the kerja sama
case), drafts, reviews, initials and signs the naskah of THAT case, archives them and ends with one
monev round on the archived KB.

Everything it makes stays inside ``--out``: the SQLite database, the local object store, the
intake's letters (``usulan/``), the DOCX/PDF of every revision, every notification mail it queued
as an ``.eml`` file (``mail/``, built by the SMTP sender's own function) and ``report.json``.  It
talks to the pipeline exactly as the API does (same functions, same checks), so a green demo means
the real path works.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import io
import itertools
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import typer
from docx import Document
from sqlmodel import col, select

from api.config import Settings, build_services
from pipeline import audit
from pipeline.auth import create_user
from pipeline.drafting import cases, revisions
from pipeline.drafting.templates import DocProperties, render_docx, sample_data
from pipeline.errors import Conflict, InvalidInput
from pipeline.inbox.notifications import MailStatus
from pipeline.intake import workflow as intake
from pipeline.intake.letters import intake_templates
from pipeline.models import Arsip, Notifikasi, User, as_utc
from pipeline.sign import fetch
from pipeline.sop import load_profile
from pipeline.terbilang import akhir_jangka_waktu, tanggal
from pipeline.usulan_lifecycle import Letter
from storage.db import session_scope, upgrade
from storage.mail import Mailer

T = TypeVar("T")

# Fields the case itself provides (pipeline.drafting.revisions.build_context, parties included); the rest of a
# template's sample data becomes the naskah's own fields.
CASE_FIELDS = set(revisions.CASE_KEYS) | {"pihak_kesatu", "pihak_kedua"}


def demo_case(day: date) -> cases.CaseInput:
    return cases.CaseInput(
        jenis="KSDD",
        judul="Pengelolaan Sampah Regional dan Pengembangan Ekonomi Sirkular",
        # printed mid-sentence ("Objek ... ini adalah ..."): lower case, the abbreviation defined at first use
        objek="pengelolaan sampah regional di Tempat Pemrosesan Akhir (TPA) Sampah Regional Kuaro",
        manfaat="Berkurangnya timbulan sampah yang tidak terkelola dan tumbuhnya usaha daur ulang di kedua daerah",
        bentuk="Kesepakatan Bersama dilanjutkan Perjanjian Kerja Sama",
        tahun_anggaran_mulai=day.year + 1,
        mulai=day,
        selesai=akhir_jangka_waktu(day, 12 * 5),  # five years end the day before the same date
        opd_teknis="Dinas Lingkungan Hidup Kabupaten Paser",
        pihak=[
            cases.PihakInput(
                instansi="Pemerintah Kabupaten Paser",
                kind="pemda",
                alamat="Jalan Jenderal Sudirman Nomor 27, Tanah Grogot",
                penandatangan_nama="dr. Fahmi Fadli",
                penandatangan_jabatan="Bupati Paser",
            ),
            cases.PihakInput(
                instansi="Pemerintah Kota Balikpapan",
                kind="pemda",
                alamat="Jalan Jenderal Sudirman Nomor 1, Balikpapan",
                penandatangan_nama="H. Rahmad Mas'ud, S.E., M.E.",
                penandatangan_jabatan="Wali Kota Balikpapan",
            ),
        ],
    )


def demo_kb(day: date, today: date) -> cases.NaskahInput:
    """The demo's Kesepakatan Bersama of :func:`demo_case`: the template's sample fields, stating ``today``
    as its date (a naskah is signed on the date its text states), to be signed desk to desk."""
    kb_fields = {k: v for k, v in sample_data("KB").items() if k not in CASE_FIELDS}
    kb_fields["tanggal"] = today.isoformat()  # signed today: the text states today
    kb_fields["cara_penandatanganan"] = "desk"  # Balikpapan signs in its own office: no one place claimed
    kb_fields.pop("tempat", None)
    return cases.NaskahInput(
        jenis="KB",
        nomor={1: f"100.3.7.1/{day.month:02d}1/Tapem/{day.year}", 2: f"100.3.7.1/{day.month:02d}7/Pem/{day.year}"},
        data=kb_fields,
        note="Rancangan awal hasil rapat TKKSD",
    )


class Steps:
    """Times each step and prints it as a row; the rows go into report.json."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        ms = (time.perf_counter() - start) * 1000
        self.rows.append({"step": name, "ms": round(ms, 1)})
        typer.echo(f"  {len(self.rows):>2}. {name:<78} {ms:9.1f} ms")

    def run(self, name: str, func: Callable[[], T]) -> T:
        with self.step(name):
            return func()


def edit_in_word(docx: bytes) -> bytes:
    """What a drafter does in Word: correct a sentence of the Penutup and add one more."""
    doc = Document(io.BytesIO(docx))
    paragraphs = [p for p in doc.paragraphs if p.text.strip()]
    target = next((p for p in paragraphs if "naskah asli" in p.text), paragraphs[-1])
    target.add_run(" Salinan naskah ini disampaikan kepada Perangkat Daerah terkait.")
    doc.add_paragraph("Catatan koreksi: penulisan nama jabatan telah disesuaikan dengan Tata Naskah Dinas.")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


#: Marks a folder as the demo's own: {"status": "running"} while it runs, then the entries it made.
DEMO_MARKER = ".naskah-demo.json"
#: What a demo made before the marker existed, so an old ``out/demo`` is still cleaned.
LEGACY_ARTEFACTS = frozenset(
    {"naskah.db", "naskah.db-journal", "objects", "arsip", "pki", "naskah", "report.json", "rekap.csv", "rekap.xlsx"}
)


def prepare_out(out: Path) -> None:
    """A clean ``out`` for the demo, so a second run gives the same result, not duplicated records.

    Only what an earlier demo made is removed: the entries its marker lists (or, for a folder an
    interrupted run left, everything, since that run started in an empty folder; or, for a demo
    folder from before the marker, the files demos always make).  Anything else in the folder is
    refused, not deleted: it may be the user's.
    """
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"'{out}' bukan folder; pilih folder hasil demo dengan --out.", path=str(out))
    out.mkdir(parents=True, exist_ok=True)
    entries = {p.name: p for p in out.iterdir()}
    marker = out / DEMO_MARKER
    if marker.exists():
        try:
            state = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            state = {"entries": []}
        ours = set(entries) if state.get("status") == "running" else {*state.get("entries", []), DEMO_MARKER}
    elif "report.json" in entries and "naskah.db" in entries:
        ours = set(LEGACY_ARTEFACTS)
    else:
        ours = set()
    foreign = sorted(set(entries) - ours)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" dan {len(foreign) - 5} lainnya" if len(foreign) > 5 else "")
        raise InvalidInput(
            f"Folder '{out}' berisi berkas yang tidak dibuat demo ({shown}); demo tidak menghapusnya. "
            "Pilih folder lain dengan --out, atau kosongkan folder itu.",
            reason="demo_out_not_empty",
            path=str(out),
            foreign=foreign,
        )
    for path in entries.values():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, onerror=_make_writable_and_retry)  # archived versions are read-only (0444)
        else:
            path.unlink()
    marker.write_text(json.dumps({"status": "running"}), encoding="utf-8")


def _make_writable_and_retry(func: Callable[..., Any], path: str, _exc: Any) -> None:
    os.chmod(os.path.dirname(path), 0o755)
    func(path)


def _seal_out(out: Path) -> None:
    """Record what this run made, so the next run removes exactly that."""
    entries = sorted(p.name for p in out.iterdir() if p.name != DEMO_MARKER)
    (out / DEMO_MARKER).write_text(json.dumps({"status": "done", "entries": entries}, indent=1), encoding="utf-8")


def run_demo(out: Path, day: date | None = None) -> int:
    """The whole lifecycle on sample cases whose kerja sama starts on ``day`` (default: today).

    Every naskah states today (in the SOP profile's zone) as its signing date and is signed
    today: a naskah is signed on the date its text states."""
    out = out.resolve()
    settings = Settings(
        database_url=f"sqlite:///{out / 'naskah.db'}",
        storage_url=f"file:{out / 'objects'}",
    )
    if day is not None:  # refused before the folder is touched
        check_mulai(day, dt.datetime.now(load_profile(settings.sop_profile).tz).date())
    prepare_out(out)
    steps = Steps()
    svc = steps.run("siapkan basis data, penyimpanan, templat, LibreOffice", lambda: build_services(settings))
    today = dt.datetime.now(svc.profile.tz).date()  # the signing day, on the region's clock
    day = day or today
    typer.echo(f"Demo naskah kerja sama — ditandatangani {today.isoformat()}, mulai {day.isoformat()} — hasil di {out}")
    try:
        code = _run(svc, out, day, settings, steps)
    finally:
        svc.close()
    _seal_out(out)
    return code


def check_mulai(day: date, today: date) -> None:
    """The kerja sama starts on ``day``, decided by the Bupati today: not before today (as
    ``pipeline.intake.workflow.decide`` holds it)."""
    if day < today:
        raise InvalidInput(
            f"Tanggal mulai kerja sama ({tanggal(day)}) sebelum hari ini ({tanggal(today)}): dalam demo, Bupati "
            "menyetujui penawaran hari ini, dan kerja sama tidak dimulai sebelum diputuskan. "
            "Pilih --tanggal hari ini atau sesudahnya.",
            field="tanggal",
            reason="mulai_in_past",
        )


def _run(svc: Any, out: Path, day: date, settings: Settings, steps: Steps) -> int:
    today = _today(svc)
    steps.run("migrasi basis data", lambda: upgrade(svc.engine))
    with steps.step("pengguna: analis kerja sama, pejabat disposisi, paraf dan penanda tangan"):
        with session_scope(svc.engine) as session:
            drafter = _user(
                session,
                "analis.tapem",
                "Rina Wulandari, S.H.",
                "Analis Kerja Sama",
                ["drafter"],
                posisi=["analis_ks"],  # the last of the intake's disposisi chain: she writes the telaah
            )
        people = _officials(svc)

    case_id, usulan = _penawaran(svc, out, steps, day, today, drafter, people)
    steps.run("lambang kedua pihak diunggah (PNG)", lambda: _upload_lambang(svc, drafter, case_id, "BPP"))

    naskah_in = demo_kb(day, today)
    kb_fields = naskah_in.data
    naskah, _rev1 = steps.run(
        "revisi 1: KB dirender dari templat (DOCX + PDF/A)",
        lambda: revisions.create_naskah(svc, drafter, case_id, naskah_in),
    )
    naskah_id = naskah.id
    assert naskah_id is not None

    ruang = list(kb_fields.get("ruang_lingkup") or [])
    changed = {"ruang_lingkup": [*ruang, "pertukaran data dan informasi pengelolaan sampah"]} if ruang else {}
    steps.run(
        "revisi 2: dirender ulang dengan ruang lingkup tambahan",
        lambda: revisions.render_revision(svc, drafter, naskah_id, changed, "Tambahan ruang lingkup dari rapat kedua"),
    )
    with session_scope(svc.engine) as session:
        rev2 = revisions.get_revision(session, drafter, naskah_id, 2, profile=svc.profile)
    edited = edit_in_word(revisions.read_revision_file(svc, rev2, "docx"))
    steps.run(
        "revisi 3: DOCX disunting di Word lalu diunggah",
        lambda: revisions.upload_revision(svc, drafter, naskah_id, edited, "Koreksi Bagian Hukum (disunting di Word)"),
    )
    diff12 = steps.run("bandingkan revisi 1 dan 2", lambda: revisions.diff_revisions(svc, drafter, naskah_id, 1, 2))
    diff23 = steps.run("bandingkan revisi 2 dan 3", lambda: revisions.diff_revisions(svc, drafter, naskah_id, 2, 3))

    files_dir = out / "naskah"
    files_dir.mkdir(exist_ok=True)
    word_edits = _review(svc, steps, naskah_id, drafter, people, return_once=True)
    diff24 = steps.run("bandingkan revisi 2 dan 4", lambda: revisions.diff_revisions(svc, drafter, naskah_id, 2, 4))
    _paraf(svc, steps, naskah_id, people, "KB")
    pki = _demo_pki(out / "pki", steps)
    svc.trust_roots, svc.tsa_url = pki.roots, pki.ours.tsa_url
    # both PKIs answer OCSP/CRL on 127.0.0.1, fetched only when allowlisted (NASKAH_FETCH_ALLOW, pipeline.sign.fetch)
    fetch.configure(fetch.current_policy().allowing(pki.ours.fetch_allow, pki.mitra.fetch_allow))
    with pki.ours.serve(), pki.mitra.serve():
        _sign_kb_desk_to_desk(svc, steps, naskah_id, drafter, people, pki)
        with steps.step("KB: unduh semua revisi dan periksa sha256 (byte demi byte)"):
            report_revs = _write_revisions(svc, drafter, naskah_id, files_dir, out)
        kb = _entry(svc, out, drafter, naskah_id, "kb", pki.roots, steps)
        kb.update(
            revisions=report_revs,
            diffs={"1..2": diff12["counts"], "2..3": diff23["counts"], "2..4": diff24["counts"]},
            word_edits_refused=word_edits,
        )
        pks_id, sk_id = _pks_under_kuasa(svc, steps, case_id, naskah_id, today, drafter, people, pki)
        pks = _entry(svc, out, drafter, pks_id, "pks", pki.roots, steps)
        sk = _entry(svc, out, drafter, sk_id, "sk", pki.roots, steps)
        nk_id = _nota_kesepakatan(svc, steps, day, today, drafter, people, pki)
        nk = _entry(svc, out, drafter, nk_id, "nk", pki.roots, steps)
        found = _archive_all(svc, out, steps, [kb, sk, pks, nk], people["sekretariat.tkksd"])
        monev_round = _monev(svc, out, steps, kb["arsip"]["id"], drafter, people)
    akses = steps.run("hak akses: apa yang dilihat setiap pengguna", lambda: _visibility(svc, drafter, people))
    with session_scope(svc.engine) as session:
        chain = steps.run("jejak audit: rantai hash diperiksa", lambda: audit.verify_chain(session))
    accounts = steps.run("kata sandi web untuk setiap akun demo", lambda: _web_accounts(svc))
    mail = steps.run(
        "surel pemberitahuan yang diantrekan ditulis ke mail/ (.eml)", lambda: _write_mail(svc, settings, out)
    )
    report = {
        "tanggal": today.isoformat(),
        "mulai": day.isoformat(),
        "settings": {"NASKAH_DATABASE_URL": settings.database_url, "NASKAH_STORAGE_URL": settings.storage_url},
        "trust_roots": "pki/roots.pem",
        "usulan": usulan,
        "naskah": [kb, sk, pks, nk],
        "arsip_search": {"q": "sampah", "count": found["count"], "data": found["data"]},
        "recap": found["recap"],
        "monev": monev_round,
        "akses": akses,
        "audit": chain.to_dict(),
        "accounts": accounts,
        "mail": mail,
        "steps": steps.rows,
    }
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    typer.echo("")
    typer.echo(
        f"Usulan {usulan['id']}: penawaran {usulan['pengirim']} Nomor {usulan['surat_nomor']} — {usulan['status']}, "
        f"kerja sama {usulan['kerja_sama_id']} dibuka"
    )
    for berkas in usulan["berkas"]:
        typer.echo(f"  {berkas['keterangan']:<36} {out / berkas['pdf']}")
    typer.echo(f"Revisi 1→2: {_summary(diff12)}")
    typer.echo(f"Revisi 2→3: {_summary(diff23)}")
    typer.echo(f"Revisi 2→4: {_summary(diff24)} (suntingan Word revisi 3 dibuang dengan konfirmasi)")
    for entry in report["naskah"]:
        typer.echo(f"{entry['jenis']:<3} {out / entry['final_pdf']}  ({entry['verification']})")
    typer.echo(f"Periksa sendiri: naskah verify {out / kb['final_pdf']} --trust {out / 'pki' / 'roots.pem'}")
    typer.echo(f"Berkas: {files_dir}  Laporan: {out / 'report.json'}")
    typer.echo("")
    typer.echo(f"Cari arsip 'sampah' ({found['count']} ditemukan):")
    for row in found["data"]:
        typer.echo(f"  #{row['id']:<3} {row['jenis']:<3} {row['tanggal_ttd']}  {row['judul'][:70]}")
    typer.echo(f"Rekapitulasi kerja sama ({out / 'rekap.xlsx'}, {out / 'rekap.csv'}):")
    for r in found["recap"]:
        typer.echo(f"  {r['no']:>2}. {r['jenis_kerja_sama']:<5} {r['jenis']:<3} {r['judul'][:52]:<52} {r['status']}")
    if monev_round:
        typer.echo(
            f"Monev {monev_round['id']} atas KB ({monev_round['status']}): laporan {out / monev_round['xlsx']} "
            f"dan {out / monev_round['pdf']}"
        )
    typer.echo(
        f"Surel pemberitahuan: {mail['count']} berkas .eml di {out / 'mail'} (daftar: {out / mail['index']}; "
        f"{mail['hanya_kotak_masuk']} hanya di kotak masuk); tidak ada yang dikirim"
    )
    typer.echo(f"Jejak audit: {chain.count} entri, rantai hash {chain.bottom_line} (naskah audit verify)")
    typer.echo("Hak akses (pipeline/access.py): kerja sama / naskah / arsip yang dilihat")
    for username, seen in akses.items():
        naskah = ", ".join(seen["naskah"]) or "-"
        typer.echo(f"  {username:<18} {seen['kerja_sama']} / {naskah} / {seen['arsip']}")
    typer.echo("Akun demo untuk halaman web (kata sandi acak, dibuat untuk demo ini saja; juga di report.json):")
    width = max(len(a["username"]) for a in accounts)
    for account in accounts:
        typer.echo(f"  {account['username']:<{width}}  {account['password']}  {account['jabatan']}")
    typer.echo("Halaman web atas data demo ini: make serve, lalu buka http://127.0.0.1:8000/")
    typer.echo("Pengaturan untuk memakai data demo ini:")
    typer.echo(f"  export NASKAH_DATABASE_URL='{settings.database_url}'")
    typer.echo(f"  export NASKAH_STORAGE_URL='{settings.storage_url}'")
    typer.echo(f"  export NASKAH_ARCHIVE_STORAGE_URL='{settings.archive_url}'")
    typer.echo(f"  export NASKAH_TRUST_ROOTS='{out / 'pki' / 'roots.pem'}'")
    typer.echo(f"  export NASKAH_FETCH_ALLOW='{pki.ours.fetch_allow},{pki.mitra.fetch_allow}'")
    return 0


TELAAH = (
    "Objek penawaran (pengelolaan sampah regional di TPA Sampah Regional Kuaro) sejalan dengan RPJMD "
    "Kabupaten Paser dan Kebijakan dan Strategi Daerah pengelolaan sampah.\n"
    "Kota Balikpapan adalah daerah lain: kerja sama antardaerah (KSDD), dituangkan dalam Kesepakatan Bersama "
    "lalu Perjanjian Kerja Sama oleh Dinas Lingkungan Hidup kedua daerah.\n"
    "KAK memuat maksud, tujuan, ruang lingkup, jangka waktu lima tahun dan pembagian pembiayaan menurut volume "
    "sampah; kelengkapan sesuai SOP.\n"
    "Usul: dibahas dalam rapat TKKSD bersama Dinas Lingkungan Hidup dan Bagian Hukum."
)
NOTULEN = (
    "Dinas Lingkungan Hidup menyampaikan kapasitas TPA Sampah Regional Kuaro cukup untuk sampah kedua daerah.\n"
    "Pembiayaan operasional dibagi menurut volume sampah yang diterima dari setiap daerah.\n"
    "Bagian Hukum: bentuk Kesepakatan Bersama dilanjutkan Perjanjian Kerja Sama sesuai ketentuan.\n"
    "Kota Balikpapan bersedia menyiapkan armada pengangkut dari tempat penampungan sementaranya."
)
#: The disposisi's instruction of each holder of the profile's chain (seed 000 steps 1-3).
DISPOSISI_NOTES = {
    "bupati": "Sekda: kaji bersama TKKSD; pengelolaan sampah regional prioritas RPJMD.",
    "sekda": "Kabag Pemerintahan: tindak lanjuti, siapkan rapat TKKSD bersama DLH.",
    "kabag_pemerintahan": "Analis: telaah penawaran dan KAK-nya, siapkan rapat TKKSD.",
}
#: The files of the intake written to ``usulan/``, in the order they are made.
USULAN_FILES = {
    "surat": ("01-surat-penawaran-balikpapan", "surat penawaran (masuk)"),
    "kak": ("02-kak-pengelolaan-sampah", "KAK (masuk)"),
    Letter.UNDANGAN.value: ("03-undangan-rapat-tkksd", "undangan rapat TKKSD"),
    Letter.BERITA_ACARA.value: ("04-berita-acara-rapat-tkksd", "berita acara rapat TKKSD"),
    Letter.BALASAN.value: ("05-surat-balasan-kesediaan", "surat balasan kesediaan kerja sama"),
}


def demo_penawaran(day: date, today: date) -> intake.UsulanInput:
    """The penawaran of Kota Balikpapan as the Tata Usaha records it: the letter of three days ago,
    carrying everything :func:`demo_case` holds (the case the Bupati's approval opens)."""
    case = demo_case(day)
    mitra = case.pihak[1]
    sent = today - timedelta(days=3)
    return intake.UsulanInput(
        jenis="penawaran",
        perihal=case.judul,  # the judul of the kerja sama, and of its naskah
        surat_nomor=f"100.3.7.1/{sent.month:02d}2/Pem/{sent.year}",
        surat_tanggal=sent,
        pengirim_instansi=mitra.instansi,
        pengirim_kind="pemda",
        pengirim_nama=mitra.penandatangan_nama,
        pengirim_jabatan=mitra.penandatangan_jabatan,
        pengirim_alamat=mitra.alamat,
        objek=case.objek,
        manfaat=case.manfaat,
        bentuk=case.bentuk,
        tahun_anggaran_mulai=case.tahun_anggaran_mulai,
        jangka_waktu_bulan=12 * 5,
        opd_teknis=case.opd_teknis,
    )


def surat_penawaran(svc: Any, data: intake.UsulanInput) -> tuple[bytes, bytes]:
    """The counterparty's letter, DOCX and PDF/A: the project's surat dinas template under the kop of the
    Wali Kota (a letter the Kepala Daerah signs carries the office's kop), with Balikpapan's lambang."""
    info = intake_templates().get("surat/dinas")
    values = {
        "kop": {"pemda": data.pengirim_jabatan or data.pengirim_instansi, "unit": None, "alamat": data.pengirim_alamat},
        "tempat": "Balikpapan",
        "tanggal": data.surat_tanggal,
        "nomor": data.surat_nomor,
        "sifat": "Biasa",
        "lampiran": "1 (satu) berkas",
        "hal": "Penawaran Kerja Sama",
        "kepada": "Bupati Paser",
        "kepada_di": "Tanah Grogot",
        "isi": [
            f"Dalam rangka {(data.manfaat or '')[0].lower()}{(data.manfaat or '')[1:]}, {data.pengirim_instansi} "
            f"bermaksud menawarkan kerja sama kepada Pemerintah Kabupaten Paser dalam {data.objek}.",
            f"Kerja sama kami usulkan berbentuk {(data.bentuk or '').lower()} untuk jangka waktu 5 (lima) tahun, "
            f"mulai Tahun Anggaran {data.tahun_anggaran_mulai}. Kerangka Acuan Kerja (KAK) kami lampirkan.",
            "Demikian kami sampaikan. Atas perhatian dan kerja samanya diucapkan terima kasih.",
        ],
        "penandatangan": {"jabatan": data.pengirim_jabatan, "nama": data.pengirim_nama},
        "tembusan": ["Gubernur Kalimantan Timur", "Sekretaris Daerah Kota Balikpapan"],
    }
    docx = render_docx(
        info,
        values,
        images={"lambang": lambang_png("BPP", (28, 64, 150))},
        properties=DocProperties(
            title=f"Penawaran Kerja Sama: {data.perihal}", author=data.pengirim_instansi, subject=info.title
        ),
    )
    return docx, svc.converter.to_pdf(docx)


def kak_docx(data: intake.UsulanInput) -> bytes:
    """The penawaran's Kerangka Acuan Kerja, as the counterparty writes it in Word."""
    doc = Document()
    doc.add_heading("KERANGKA ACUAN KERJA", level=0)
    doc.add_paragraph(f"Kerja Sama {data.perihal} antara {data.pengirim_instansi} dan Pemerintah Kabupaten Paser")
    sections = [
        (
            "A. Latar Belakang",
            "Timbulan sampah kedua daerah terus bertambah, sedangkan TPA Sampah Regional Kuaro telah dibangun untuk "
            "melayani lebih dari satu daerah.",
        ),
        ("B. Maksud dan Tujuan", f"Menjalin kerja sama {data.objek}."),
        ("C. Manfaat", f"{data.manfaat}."),
        (
            "D. Ruang Lingkup",
            "Pengangkutan sampah dari tempat penampungan sementara, pengolahan dan pemrosesan akhir di TPA, "
            "pertukaran data, serta pengembangan usaha daur ulang.",
        ),
        (
            "E. Bentuk dan Jangka Waktu",
            f"{data.bentuk}; 5 (lima) tahun mulai Tahun Anggaran {data.tahun_anggaran_mulai}.",
        ),
        ("F. Pembiayaan", "Dibebankan pada APBD masing-masing daerah, dibagi menurut volume sampah yang diterima."),
        ("G. Pelaksana", f"{data.opd_teknis} dan Dinas Lingkungan Hidup Kota Balikpapan."),
    ]
    for heading, text in sections:
        doc.add_heading(heading, level=2)
        doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _holder(posisi: str, users: list[User]) -> User:
    return next(u for u in users if posisi in u.posisi_set)


def _penawaran(
    svc: Any, out: Path, steps: Steps, day: date, today: date, drafter: User, people: dict[str, User]
) -> tuple[int, dict[str, Any]]:
    """The incoming penawaran through the intake, as the people of the profile's chain do it: recorded by
    the Tata Usaha with its letter and KAK, disposed down the chain with notes, studied by the analis,
    discussed in a TKKSD rapat (undangan, notulen, berita acara), recommended, approved by the Bupati,
    which opens the kerja sama case; then the surat balasan.  The case's id and the report's entry."""
    profile = svc.profile
    chain = profile.intake.disposisi
    everyone = [drafter, *people.values()]
    tu, bupati = people["sekretariat.tkksd"], _holder(profile.intake.pemutus, everyone)
    data = demo_penawaran(day, today)
    folder = out / "usulan"
    folder.mkdir(exist_ok=True)

    def incoming() -> tuple[bytes, bytes]:
        letter = surat_penawaran(svc, data)[1]
        return letter, svc.converter.to_pdf(kak_docx(data))

    surat_pdf, kak_pdf = steps.run("usulan: surat penawaran Kota Balikpapan dan KAK-nya (DOCX → PDF/A)", incoming)

    def record() -> int:
        with session_scope(svc.engine) as session:
            return intake.create_usulan(session, tu, data, profile=profile).id or 0

    uid = steps.run(f"usulan: Tata Usaha mencatat penawaran Nomor {data.surat_nomor}", record)

    def attach() -> intake.Kelengkapan:
        intake.add_file(svc, tu, uid, "surat", surat_pdf, "surat-penawaran-balikpapan.pdf")
        intake.add_file(svc, tu, uid, "kak", kak_pdf, "kak-pengelolaan-sampah-regional.pdf")
        with session_scope(svc.engine) as session:
            return intake.kelengkapan(session, intake.get_usulan(session, tu, uid, profile=profile))

    check = steps.run("usulan: pindaian surat dan KAK diunggah (diperiksa), kelengkapan", attach)
    if not check.lengkap:
        raise AssertionError(f"kelengkapan usulan demo tidak lengkap: {check.kurang}")
    typer.echo(f"        kelengkapan lengkap: {len(check.items)} butir SOP")

    for here, there in itertools.pairwise(chain):
        holder = _holder(here, everyone)
        note = DISPOSISI_NOTES.get(here, "Tindak lanjuti.")

        def dispose(user: User = holder, note: str = note) -> None:
            with session_scope(svc.engine) as session:
                intake.disposisi(session, user, uid, note, profile=profile)

        label = f"usulan: disposisi {profile.positions[here].jabatan} → {profile.positions[there].jabatan}"
        steps.run(label, dispose)

    def study_and_schedule() -> None:
        with session_scope(svc.engine) as session:
            intake.telaah(session, drafter, uid, TELAAH, profile=profile)
        waktu = dt.datetime.now(profile.tz).replace(minute=0, second=0, microsecond=0)  # this hour: held today
        rapat = intake.RapatInput(
            waktu=waktu,
            tempat="Ruang Rapat Sekretariat Daerah Kabupaten Paser, Tanah Grogot",
            acara="Pembahasan penawaran kerja sama pengelolaan sampah regional dari Pemerintah Kota Balikpapan",
            peserta=[
                "Bagian Hukum Sekretariat Daerah Kabupaten Paser",
                "Badan Perencanaan Pembangunan Daerah Kabupaten Paser",
                "Badan Pengelolaan Keuangan dan Aset Daerah Kabupaten Paser",
            ],
        )
        with session_scope(svc.engine) as session:
            intake.jadwalkan_rapat(session, drafter, uid, rapat, profile=profile)

    steps.run("usulan: telaah analis, rapat TKKSD dijadwalkan dengan undangan", study_and_schedule)
    nomor = f"{today.month:02d}/Tapem/{today.year}"
    steps.run(
        "usulan: surat undangan rapat TKKSD disusun (DOCX + PDF/A)",
        lambda: intake.draft_letter(
            svc,
            drafter,
            uid,
            Letter.UNDANGAN,
            intake.SuratInput(nomor=f"005/{nomor}", tempat="Tanah Grogot", sifat="Penting"),
        ),
    )

    def held() -> None:
        result = intake.RapatHasil(
            notulen=NOTULEN,
            kesimpulan="Penawaran layak ditindaklanjuti dengan Kesepakatan Bersama, dilanjutkan Perjanjian Kerja Sama.",
            rekomendasi="setuju",
            rekomendasi_catatan="Perjanjian Kerja Sama ditandatangani Kepala Dinas Lingkungan Hidup atas kuasa Bupati",
        )
        with session_scope(svc.engine) as session:
            intake.catat_rapat(session, drafter, uid, result, profile=profile)

    steps.run("usulan: notulen, kesimpulan dan rekomendasi rapat TKKSD dicatat", held)
    steps.run(
        "usulan: berita acara rapat TKKSD disusun (DOCX + PDF/A)",
        lambda: intake.draft_letter(
            svc, drafter, uid, Letter.BERITA_ACARA, intake.SuratInput(nomor=f"000.3/{nomor}", tempat="Tanah Grogot")
        ),
    )

    def recommend() -> None:
        with session_scope(svc.engine) as session:
            intake.rekomendasi(session, drafter, uid, "TKKSD merekomendasikan penawaran disetujui.", profile=profile)

    steps.run("usulan: rekomendasi TKKSD disampaikan kepada Bupati", recommend)
    decision = intake.KeputusanInput(
        setuju=True, note="Setuju. Susun Kesepakatan Bersama dengan Kota Balikpapan.", mulai=day
    )
    decided = steps.run(
        "usulan: Bupati menyetujui, kerja sama KSDD Paser – Balikpapan dibuka",
        lambda: intake.decide(svc, bupati, uid, decision),
    )
    case_id = decided.kerja_sama_id
    assert case_id is not None
    steps.run(
        "usulan: surat balasan kesediaan kerja sama disusun (DOCX + PDF/A)",
        lambda: intake.draft_letter(
            svc,
            drafter,
            uid,
            Letter.BALASAN,
            intake.SuratInput(
                nomor=f"100.3.7.1/{nomor}",
                tempat="Tanah Grogot",
                tembusan=["Sekretaris Daerah Kabupaten Paser", "Kepala Dinas Lingkungan Hidup Kabupaten Paser"],
            ),
        ),
    )
    return case_id, _usulan_entry(svc, out, folder, drafter, uid)


def _usulan_entry(svc: Any, out: Path, folder: Path, user: User, uid: int) -> dict[str, Any]:
    """The report's entry of the usulan; writes its files (incoming and drafted) into ``folder``."""
    profile = svc.profile
    with session_scope(svc.engine) as session:
        usulan = intake.get_usulan(session, user, uid, profile=profile)
        files = intake.files_of(session, uid)
        events = intake.events_of(session, uid)
        lengkap = intake.kelengkapan(session, usulan).public()
        names = {u.id: u.username for u in session.exec(select(User)).all()}
        for row in (usulan, *files, *events):
            session.expunge(row)
    berkas = []
    for row in files:
        name, keterangan = USULAN_FILES[row.kind]
        entry: dict[str, Any] = {"kind": row.kind, "keterangan": keterangan, "nomor": row.nomor}
        for pdf in (False, True) if row.generated else (False,):
            data = intake.read_file(svc, user, uid, row.id or 0, pdf=pdf)[1]
            extension = "pdf" if pdf or row.content_type == "application/pdf" else "docx"
            path = folder / f"{name}.{extension}"
            path.write_bytes(data)
            entry[extension] = str(path.relative_to(out))
        entry["sha256"] = row.pdf_sha256 if row.generated else row.sha256
        berkas.append(entry)
    waktu = usulan.rapat_waktu
    return {
        "id": uid,
        "jenis": usulan.jenis,
        "status": usulan.status,
        "perihal": usulan.perihal,
        "pengirim": usulan.pengirim_instansi,
        "surat_nomor": usulan.surat_nomor,
        "surat_tanggal": usulan.surat_tanggal.isoformat(),
        "jenis_kerja_sama": usulan.jenis_kerja_sama,
        "kerja_sama_id": usulan.kerja_sama_id,
        "kelengkapan": lengkap,
        "rapat": {
            "waktu": waktu.astimezone(profile.tz).isoformat() if waktu else None,
            "tempat": usulan.rapat_tempat,
            "peserta": [p["nama"] for p in usulan.rapat_peserta],
            "rekomendasi": usulan.rekomendasi,
        },
        "riwayat": [
            {
                "action": e.action,
                "oleh": names.get(e.actor_id),
                "posisi": e.posisi,
                "kepada": e.to_posisi,
                "status": e.to_status,
                "note": e.note,
                "mutu_baku": e.mutu_baku,
                "terlambat": e.terlambat,
            }
            for e in events
        ],
        "berkas": berkas,
    }


def _write_mail(svc: Any, settings: Settings, out: Path) -> dict[str, Any]:
    """Every notification mail the demo queued (the ``notifikasi`` outbox: what ``naskah notifikasi kirim``
    would send) as one RFC 5322 ``.eml`` file each in ``mail/``, built by the SMTP sender's own
    :meth:`storage.mail.Mailer.message` and dated when it was queued, plus ``mail/index.md``.  Nothing
    is sent.  Entries only for the inbox (no address, mail turned off) are counted, not written."""
    mailer = Mailer(settings.smtp)  # the configured sender (NASKAH_MAIL_FROM), as ``send_due`` writes it
    folder = out / "mail"
    folder.mkdir(exist_ok=True)
    entries: list[dict[str, Any]] = []
    inbox_only = 0
    with session_scope(svc.engine) as session:
        users = {u.id: u for u in session.exec(select(User)).all()}
        for row in session.exec(select(Notifikasi).order_by(col(Notifikasi.id))).all():
            user = users[row.user_id]
            if row.mail_status == MailStatus.TIDAK_DIKIRIM.value or not user.email:
                inbox_only += 1
                continue
            at = as_utc(row.created_at)
            msg = mailer.message(user.email, row.subject, row.body_text, row.body_html, date=at)
            name = f"{len(entries) + 1:03d}-{row.kind.replace('_', '-')}-{user.username}.eml"
            (folder / name).write_bytes(msg.as_bytes(policy=email.policy.SMTP))
            entries.append(
                {
                    "file": f"mail/{name}",
                    "kepada": user.email,
                    "kind": row.kind,
                    "subject": row.subject,
                    "waktu": at.isoformat(),
                    "naskah_id": row.naskah_id,
                    "link": row.link,
                }
            )
    tz = svc.profile.tz
    lines = [
        "# Surel pemberitahuan yang diantrekan demo",
        "",
        f"{len(entries)} surel, satu berkas `.eml` (RFC 5322) per surel, disusun dengan fungsi yang sama dengan "
        "pengirim SMTP (`storage/mail.py`). Tidak ada yang dikirim: dalam basis data demo semuanya masih antre "
        f"(`naskah notifikasi kirim` mengirimnya bila SMTP diatur). {inbox_only} pemberitahuan lain hanya masuk "
        "kotak masuk aplikasi.",
        "",
        f"| No | Waktu ({svc.profile.zona_waktu}) | Kepada | Jenis | Perihal | Berkas |",
        "|---:|---|---|---|---|---|",
    ]
    for i, e in enumerate(entries, start=1):
        waktu = dt.datetime.fromisoformat(e["waktu"]).astimezone(tz).strftime("%d-%m-%Y %H.%M.%S")
        subject = e["subject"].replace("|", "\\|")
        file = e["file"].removeprefix("mail/")
        lines.append(f"| {i} | {waktu} | {e['kepada']} | {e['kind']} | {subject} | [{file}]({file}) |")
    (folder / "index.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {
        "folder": "mail",
        "index": "mail/index.md",
        "count": len(entries),
        "hanya_kotak_masuk": inbox_only,
        "data": entries,
    }


def _web_accounts(svc: Any) -> list[dict[str, Any]]:
    """A random password for every account of the demo (this database holds only demo accounts), so
    the pages can be tried at once; stored as argon2id hashes, said once (the summary, report.json)."""
    from sqlmodel import col, select

    from pipeline.signin import set_password

    out: list[dict[str, Any]] = []
    with session_scope(svc.engine) as session:
        for user in session.exec(select(User).order_by(col(User.id))).all():
            password = secrets.token_urlsafe(12)
            set_password(session, None, user.username, password)
            out.append(
                {
                    "username": user.username,
                    "password": password,
                    "roles": sorted(user.role_set),
                    "jabatan": user.jabatan,
                }
            )
    return out


def _visibility(svc: Any, drafter: User, people: dict[str, User]) -> dict[str, dict[str, Any]]:
    """What each kind of user sees (``pipeline.access``): the secretariat everything, the Bupati what he
    signs (all), our Kepala Dinas his OPD's kerja sama, the counterparty's officials only what they sign."""
    from sqlmodel import col, select

    from pipeline import access
    from pipeline.archival import archive
    from pipeline.models import Naskah

    out: dict[str, dict[str, Any]] = {}
    who = [drafter, *(people[k] for k in ("sekretariat.tkksd", "bupati", "kadis.dlh", "kadis.dlh.bpp", "kakantah"))]
    with session_scope(svc.engine) as session:
        for user in who:
            _cases, count = cases.list_cases(session, user, profile=svc.profile, limit=200)
            naskah = session.exec(
                select(Naskah).where(access.naskah_clause(session, user, svc.profile)).order_by(col(Naskah.id))
            ).all()
            _arsip, arsip = archive.search(session, user, archive.ArsipQuery(), _today(svc), profile=svc.profile)
            out[user.username] = {"kerja_sama": count, "naskah": [f"{n.jenis} {n.id}" for n in naskah], "arsip": arsip}
    return out


def _write_revisions(svc: Any, user: User, naskah_id: int, files_dir: Path, out: Path) -> list[dict[str, Any]]:
    """Fetch every revision (sha256 checked on read) into ``files_dir``; the report's entries."""
    entries: list[dict[str, Any]] = []
    with session_scope(svc.engine) as session:
        for rev in revisions.list_revisions(session, user, naskah_id, profile=svc.profile):
            entry: dict[str, Any] = {
                "n": rev.number,
                "source": rev.source,
                "note": rev.note,
                "sha256": rev.pdf_sha256,
                "docx_sha256": rev.docx_sha256,
                "pdf_pages": rev.pdf_pages,
            }
            for kind in ("docx", "pdf"):
                path = files_dir / f"kb-r{rev.number:03d}.{kind}"
                path.write_bytes(revisions.read_revision_file(svc, rev, kind))
                entry[kind] = str(path.relative_to(out))
            entries.append(entry)
    return entries


OFFICIALS = {  # SOP profile position -> (nama, jabatan, role)
    "kabag_hukum": ("Hj. Nurul Hidayah, S.H., M.H.", "Kepala Bagian Hukum", "legal"),
    "kabag_pemerintahan": ("Andi Saputra, S.STP., M.Si.", "Kepala Bagian Pemerintahan", "paraf"),
    "asisten_umum": ("Drs. H. Muhammad Rizal, M.AP.", "Asisten Umum", "paraf"),
    "sekda": ("Dr. Katsul Wijaya, M.Si.", "Sekretaris Daerah", "paraf"),
    "bupati": ("dr. Fahmi Fadli", "Bupati Paser", "signer"),
}


KEPALA_OPD = {  # signers outside the SOP profile's positions: username -> (nama, jabatan, nip)
    "kadis.dlh": ("Ir. Budi Santoso, M.Si.", "Kepala Dinas Lingkungan Hidup Kabupaten Paser", "19661211 198609 1 002"),
    "kadis.dlh.bpp": ("Sudirman Djayaleksana, S.T., M.T.", "Kepala Dinas Lingkungan Hidup Kota Balikpapan", None),
    "kakantah": ("Andi Pratama, S.H.", "Kepala Kantor Pertanahan Kabupaten Paser", "19780512 200312 1 004"),
}
# What each of them sees (pipeline.access): our Kepala Dinas the kerja sama of his OPD; the counterparty's
# officials (pihak luar) only the naskah they sign.
VISIBILITY: dict[str, dict[str, Any]] = {
    "kadis.dlh": {"opd": "Dinas Lingkungan Hidup Kabupaten Paser"},
    "kadis.dlh.bpp": {"pihak_luar": True, "instansi": "Pemerintah Kota Balikpapan"},
    "kakantah": {"pihak_luar": True, "instansi": "Kantor Pertanahan Kabupaten Paser"},
}


def demo_case_ksiv(day: date) -> cases.CaseInput:
    """A KSIV case: the Pemkab with the Kantor Pertanahan (a vertical agency), by Nota Kesepakatan."""
    base = demo_case(day).model_dump()
    nama, jabatan, nip = KEPALA_OPD["kakantah"]
    kantah = {
        "instansi": "Kantor Pertanahan Kabupaten Paser",
        "kind": "instansi_vertikal",
        "alamat": "Jalan Kusuma Bangsa Nomor 8, Tanah Grogot",
        "penandatangan_nama": nama,
        "penandatangan_jabatan": jabatan,
        "penandatangan_nip": nip,
    }
    return cases.CaseInput.model_validate(
        {
            **base,
            "jenis": "KSIV",
            "judul": "Percepatan Pendaftaran Tanah dan Sertifikasi Barang Milik Daerah",
            "objek": "pendaftaran tanah sistematis lengkap dan sertifikasi tanah barang milik daerah",
            "manfaat": "Kepastian hukum atas bidang tanah masyarakat dan barang milik daerah",
            "bentuk": "Nota Kesepakatan dengan Rencana Kerja",
            "opd_teknis": "Badan Pengelolaan Keuangan dan Aset Daerah Kabupaten Paser",
            "selesai": akhir_jangka_waktu(day, 12 * 2),
            "pihak": [base["pihak"][0], kantah],
        }
    )


@dataclass
class DemoPki:
    """Our PSrE (CA, TSA, OCSP/CRL) and the partner's, an independent CA."""

    ours: Any
    mitra: Any

    @property
    def roots(self) -> list[Any]:
        return [*self.ours.roots, *self.mitra.roots]


def _demo_pki(directory: Path, steps: Steps) -> DemoPki:
    from pipeline.sign.devpki import DevPki

    def load(sub: str, name: str) -> DevPki:
        path = directory / sub
        return DevPki.load(path) if (path / "pki.json").exists() else DevPki.generate(path, name=name)

    pki = DemoPki(
        ours=steps.run("PKI pemda (CA, TSA, OCSP) dibuat", lambda: load("pemda", "PSrE Pemda Demo")),
        mitra=steps.run("PKI mitra (CA lain) dibuat", lambda: load("mitra", "PSrE Mitra Demo")),
    )
    (directory / "roots.pem").write_bytes(pki.ours.roots_pem.read_bytes() + pki.mitra.roots_pem.read_bytes())
    return pki


def _officials(svc: Any) -> dict[str, User]:
    """The SOP profile's officials (by position) and the Kepala OPD / partner signers (by username)."""
    with session_scope(svc.engine) as session:
        people = {
            key: _user(session, key.replace("_", "."), nama, jabatan, [role], posisi=[key])
            for key, (nama, jabatan, role) in OFFICIALS.items()
        }
        people["sekretariat.tkksd"] = _user(
            session, "sekretariat.tkksd", "Dewi Lestari, S.Sos.", "Sekretariat TKKSD", ["secretariat"]
        )
        for username, (nama, jabatan, nip) in KEPALA_OPD.items():
            people[username] = _user(session, username, nama, jabatan, ["signer"], nip=nip, **VISIBILITY[username])
    return people


def _review(
    svc: Any, steps: Steps, naskah_id: int, drafter: User, people: dict[str, User], *, return_once: bool = False
) -> dict[str, Any] | None:
    """Submit, (once returned and revised from data: the Word-edits refusal met, returned), approve."""
    from pipeline.approval import review

    legal = people["kabag_hukum"]
    label = _label(svc, naskah_id)
    refusal = None
    steps.run(f"{label}: ajukan ke Bagian Hukum", lambda: review.submit(svc, drafter, naskah_id))
    if return_once:
        steps.run(
            f"{label}: Bagian Hukum mengembalikan dengan catatan",
            lambda: review.return_for_revision(svc, legal, naskah_id, RETURN_NOTE),
        )
        refusal = _revise_from_data_after_word(svc, steps, naskah_id, drafter)
        steps.run(f"{label}: ajukan ulang", lambda: review.submit(svc, drafter, naskah_id))
    steps.run(f"{label}: Bagian Hukum menyetujui rancangan final", lambda: review.approve(svc, legal, naskah_id))
    return refusal


RETURN_NOTE = (
    "Ruang lingkup: tambahkan pendampingan teknis pengelolaan TPA Sampah Regional Kuaro. Pasal Penutup: naskah asli "
    "elektronik dibubuhi meterai elektronik. Catatan koreksi di akhir naskah bukan bagian naskah: susun ulang "
    "dari data."
)
RUANG_LINGKUP_R4 = "pendampingan teknis pengelolaan TPA Sampah Regional Kuaro"


def _revise_from_data_after_word(svc: Any, steps: Steps, naskah_id: int, drafter: User) -> dict[str, Any]:
    """Revision 4 as Bagian Hukum asked: rendered from data, which would drop revision 3's Word edits.

    First without confirmation (refused, listing the paragraphs that would be lost), then with the
    drafter's deliberate confirmation naming revision 3, and with the correction in the data, so
    revision 4 is a real change and not a copy of revision 2.
    """
    from pipeline.models import Naskah

    with session_scope(svc.engine) as session:
        naskah = session.get(Naskah, naskah_id)
        assert naskah is not None
        ruang = [*naskah.data.get("ruang_lingkup", []), RUANG_LINGKUP_R4]
    changed = {"ruang_lingkup": ruang, "bermeterai": True}
    note = "Perbaikan catatan Bagian Hukum; suntingan Word revisi 3 dibuang dengan sengaja"

    def refused() -> dict[str, Any]:
        try:
            revisions.render_revision(svc, drafter, naskah_id, changed, note)
        except Conflict as exc:
            return exc.detail
        raise AssertionError("rendering over Word edits was not refused")

    detail = steps.run("KB: revisi 4 dari data ditolak: suntingan Word revisi 3 akan hilang", refused)
    for paragraph in detail["lost_paragraphs"]:
        typer.echo(f"        akan hilang: {paragraph[:100]}")
    confirm = detail["confirm_with"]["buang_suntingan_word"]
    steps.run(
        f"KB: revisi 4 dirender dari data, penyusun setuju membuang suntingan Word revisi {confirm}",
        lambda: revisions.render_revision(svc, drafter, naskah_id, changed, note, discard_word_edits_through=confirm),
    )
    return {k: detail[k] for k in ("reason", "uploaded_revisions", "lost_paragraphs", "restored_paragraphs")}


def _paraf(svc: Any, steps: Steps, naskah_id: int, people: dict[str, User], jenis: str) -> None:
    from pipeline.approval import paraf

    label = _label(svc, naskah_id)
    for key in [p.key for p in svc.profile.paraf_chain(jenis)]:
        steps.run(
            f"{label}: paraf {OFFICIALS[key][1]} (setiap halaman)",
            lambda k=key: paraf.give_paraf(svc, people[k], naskah_id),
        )


def _label(svc: Any, naskah_id: int) -> str:
    from pipeline.models import Naskah

    with session_scope(svc.engine) as session:
        naskah = session.get(Naskah, naskah_id)
        return naskah.jenis if naskah else "?"


def _p12(pki: Any, user: User, passphrase: str) -> bytes:
    nip = "".join(ch for ch in user.nip or "" if ch.isdigit()) or None
    return pki.issue_person(user.nama, nip=nip).to_pkcs12(passphrase)


def _tatap_muka(
    svc: Any, steps: Steps, naskah_id: int, drafter: User, signers: list[tuple[int, User, Any]], where: str
) -> None:
    """Everyone signs on the server, in one sitting, in the listed order (pihak, user, PKI)."""
    from pipeline.sign import signature_plan
    from pipeline.sign.signers import Pkcs12Backend

    label = _label(svc, naskah_id)
    plan = signature_plan.PlanInput(
        mode="tatap_muka",
        steps=[signature_plan.PlanStepInput(pihak_urutan=urutan, username=u.username) for urutan, u, _ in signers],
    )
    steps.run(
        f"{label}: rencana tanda tangan tatap muka", lambda: signature_plan.create_plan(svc, drafter, naskah_id, plan)
    )
    for _urutan, user, pki in signers:
        p12 = _p12(pki, user, "demo-rahasia")
        steps.run(
            f"{label}: {user.jabatan} menandatangani (PKCS#12, B-LT)",
            lambda u=user, key=p12: signature_plan.sign_step(
                svc, u, naskah_id, Pkcs12Backend(data=key), "demo-rahasia", location=where
            ),
        )


def _sign_kb_desk_to_desk(
    svc: Any, steps: Steps, naskah_id: int, drafter: User, people: dict[str, User], pki: DemoPki
) -> None:
    """The partner signs in its own system with its own CA; we import, then the Bupati locks it."""
    from pipeline.sign import signature_plan
    from pipeline.sign.signers import Pkcs12Backend
    from pipeline.sign.signing import SignatureAppearance, SignOptions, http_timestamper, sign_pdf, validation_context

    steps.run(
        "KB: rencana tanda tangan desk to desk",
        lambda: signature_plan.create_plan(svc, drafter, naskah_id, signature_plan.PlanInput(mode="desk")),
    )
    exported = steps.run(
        "KB: ekspor PDF final untuk mitra", lambda: signature_plan.export_current(svc, drafter, naskah_id)
    )
    walikota = pki.mitra.issue_person("H. Rahmad Mas'ud, S.E., M.E.")

    def partner_signs() -> bytes:  # in the partner's own system: their CA, their TSA, plain pyHanko
        with Pkcs12Backend(data=walikota.to_pkcs12("mitra")).open("mitra") as session:
            return sign_pdf(
                exported,
                session.signer,
                SignatureAppearance(
                    nama="H. Rahmad Mas'ud, S.E., M.E.",
                    jabatan="Wali Kota Balikpapan",
                    tanggal=_today(svc),
                    reference="naskah-mitra",
                ),
                SignOptions(field_name="ttd_pihak_2", location="Balikpapan"),
                timestamper=http_timestamper(pki.mitra.tsa_url),
                validation_context=validation_context(pki.mitra.roots),
            )

    returned = steps.run("KB: mitra menandatangani di sistemnya (CA lain)", partner_signs)
    steps.run(
        "KB: impor berkas mitra, hanya tanda tangan mitra yang ditambahkan",
        lambda: signature_plan.import_signed(svc, drafter, naskah_id, returned),
    )
    p12 = _p12(pki.ours, people["bupati"], "demo-bupati")
    steps.run(
        "KB: Bupati menandatangani (PKCS#12, B-LT, mengunci naskah)",
        lambda: signature_plan.sign_step(
            svc, people["bupati"], naskah_id, Pkcs12Backend(data=p12), "demo-bupati", location="Tanah Grogot"
        ),
    )


def _pks_under_kuasa(
    svc: Any,
    steps: Steps,
    case_id: int,
    kb_id: int,
    day: date,
    drafter: User,
    people: dict[str, User],
    pki: DemoPki,
) -> tuple[int, int]:
    """The PKS, signed tatap muka by the Kepala Dinas under a Surat Kuasa of the Bupati, on ``day``
    (today: both state it as their date)."""
    with session_scope(svc.engine) as session:
        kb_nomor = cases.nomor_of(session, kb_id)
    sk_tanggal = day  # the Surat Kuasa is made and signed today too, before the PKS
    sk_nomor = f"100.3.7.1/{day.month:02d}3/Tapem/{day.year}"
    pks_nomor = {1: f"100.3.7.1/{day.month:02d}4/DLH/{day.year}", 2: f"100.3.7.1/{day.month:02d}8/DLH/{day.year}"}
    sample = sample_data("PKS")
    data = {k: v for k, v in sample.items() if k not in CASE_FIELDS and not k.startswith("kb_")}
    data.update(
        judul=sample["judul"],
        objek=sample["objek"],  # the PKS's own objek (TPA is defined in its maksud), not the case's
        tanggal=day.isoformat(),
        pihak_kesatu={**sample["pihak_kesatu"], "nomor": pks_nomor[1]},
        pihak_kedua={**sample["pihak_kedua"], "nomor": pks_nomor[2]},
        kuasa={"nomor": sk_nomor, "tanggal": sk_tanggal.isoformat(), "pemberi_jabatan": "Bupati Paser"},
        # The Kepala Dinas of Balikpapan signs under his Wali Kota's kuasa: cited, not verified by us.
        kuasa_pihak_kedua={
            "nomor": f"100.3.7.1/{day.month:02d}9/Pem/{day.year}",
            "tanggal": sk_tanggal.isoformat(),
            "pemberi_jabatan": "Wali Kota Balikpapan",
        },
    )
    pks, _ = steps.run(
        "PKS: dirender dari templat (penanda tangan PIHAK KESATU: Kepala Dinas atas kuasa)",
        lambda: revisions.create_naskah(
            svc,
            drafter,
            case_id,
            cases.NaskahInput(jenis="PKS", nomor=pks_nomor, parent_id=kb_id, data=data, note="Rancangan PKS"),
        ),
    )
    pks_id = pks.id
    assert pks_id is not None
    _review(svc, steps, pks_id, drafter, people)
    _paraf(svc, steps, pks_id, people, "PKS")

    sk_data = {k: v for k, v in sample_data("SK").items() if k not in CASE_FIELDS}
    sk_data.update(
        tanggal=sk_tanggal.isoformat(),
        berlaku_sampai=(day + timedelta(days=60)).isoformat(),
        kb_nomor_pihak_kesatu=kb_nomor.get(1, ""),
        kb_nomor_pihak_kedua=kb_nomor.get(2, ""),
    )
    sk_data.pop("pks_judul", None)  # from the PKS itself
    sk, _ = steps.run(
        "SK: Surat Kuasa Bupati kepada Kepala Dinas dirender",
        lambda: revisions.create_naskah(
            svc,
            drafter,
            case_id,
            cases.NaskahInput(jenis="SK", nomor={1: sk_nomor}, parent_id=pks_id, data=sk_data, note="Surat Kuasa"),
        ),
    )
    sk_id = sk.id
    assert sk_id is not None
    _review(svc, steps, sk_id, drafter, people)
    _paraf(svc, steps, sk_id, people, "SK")
    kadis = people["kadis.dlh"]
    _tatap_muka(svc, steps, sk_id, drafter, [(2, kadis, pki.ours), (1, people["bupati"], pki.ours)], "Tanah Grogot")
    _tatap_muka(
        svc, steps, pks_id, drafter, [(2, people["kadis.dlh.bpp"], pki.mitra), (1, kadis, pki.ours)], "Tanah Grogot"
    )
    return pks_id, sk_id


def _nota_kesepakatan(
    svc: Any, steps: Steps, day: date, today: date, drafter: User, people: dict[str, User], pki: DemoPki
) -> int:
    """A KSIV case with the Kantor Pertanahan: Nota Kesepakatan with its Rencana Kerja."""
    with steps.step("NK: kerja sama KSIV Paser – Kantor Pertanahan"), session_scope(svc.engine) as session:
        case = cases.create_case(session, drafter, demo_case_ksiv(day))
        case_id = case.id
    assert case_id is not None
    steps.run("NK: lambang kedua pihak diunggah (PNG)", lambda: _upload_lambang(svc, drafter, case_id, "ATR"))
    data = {k: v for k, v in sample_data("NK").items() if k not in CASE_FIELDS}
    data["tanggal"] = today.isoformat()
    nomor = {1: f"100.3.7.1/{today.month:02d}5/Tapem/{today.year}", 2: f"MOU/{today.month:02d}-64.01/{today.year}"}
    nk, _ = steps.run(
        "NK: Nota Kesepakatan dengan Rencana Kerja dirender",
        lambda: revisions.create_naskah(
            svc, drafter, case_id, cases.NaskahInput(jenis="NK", nomor=nomor, data=data, note="Rancangan NK")
        ),
    )
    nk_id = nk.id
    assert nk_id is not None
    _review(svc, steps, nk_id, drafter, people)
    _paraf(svc, steps, nk_id, people, "NK")
    _tatap_muka(
        svc,
        steps,
        nk_id,
        drafter,
        [(2, people["kakantah"], pki.mitra), (1, people["bupati"], pki.ours)],
        "Tanah Grogot",
    )
    return nk_id


def _archive_all(svc: Any, out: Path, steps: Steps, entries: list[dict[str, Any]], secretariat: User) -> dict[str, Any]:
    """The secretariat archives every signed naskah (B-LTA, locked), then searches the archive."""
    from pipeline.archival import archive

    for entry in entries:
        arsip = steps.run(
            f"{entry['jenis']}: diarsipkan (B-LTA, object lock)",
            lambda e=entry: archive.archive_naskah(svc, secretariat, e["id"]),
        )
        verified = steps.run(
            f"{entry['jenis']}: verifikasi naskah asli di arsip",
            lambda a=arsip: archive.verify_archived(svc, secretariat, a.id or 0),
        )
        path = out / "arsip" / f"{entry['jenis'].lower()}-asli.pdf"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(archive.read_original(svc, secretariat, arsip.id or 0)[1])
        entry["status"] = "archived"
        entry["arsip"] = {
            "id": arsip.id,
            "key": arsip.key,
            "version_id": arsip.version_id,
            "sha256": arsip.sha256,
            "file": str(path.relative_to(out)),
            "verification": verified.report.bottom_line,
            "document_timestamps": verified.report.document_timestamps,
            # the newest document timestamp carries the proof until its TSA certificate ends
            "renew_before": arsip.timestamp_expiry.isoformat() if arsip.timestamp_expiry else None,
        }
    from pipeline.archival import recap

    today = _today(svc)
    with session_scope(svc.engine) as session:
        query = archive.ArsipQuery(q="sampah", sort="tanggal")
        rows, count = steps.run(
            "cari arsip: 'sampah'", lambda: archive.search(session, secretariat, query, today, profile=svc.profile)
        )
        found = [
            {"id": a.id, "jenis": a.jenis, "tanggal_ttd": a.tanggal_ttd.isoformat(), "judul": a.judul} for a in rows
        ]
        recap_rows = steps.run(
            "rekapitulasi kerja sama (CSV dan XLSX)",
            lambda: recap.recap_rows(
                session, secretariat, archive.ArsipQuery(sort="tanggal"), today, profile=svc.profile
            ),
        )
    (out / "rekap.csv").write_bytes(recap.to_csv(recap_rows))
    (out / "rekap.xlsx").write_bytes(recap.to_xlsx(recap_rows, per_tanggal=today))
    return {
        "count": count,
        "data": found,
        "recap": [
            {
                "no": r.no,
                "jenis_kerja_sama": r.jenis_kerja_sama,
                "jenis": r.jenis,
                "judul": r.judul,
                "pihak": list(r.pihak),
                "nomor": list(r.nomor),
                "tanggal": r.tanggal_ttd.isoformat(),
                "jangka_waktu": r.jangka_waktu,
                "status": r.status_label,
                "opd_teknis": r.opd_teknis,
            }
            for r in recap_rows
        ],
    }


def _monev(
    svc: Any, out: Path, steps: Steps, arsip_id: int, drafter: User, people: dict[str, User]
) -> dict[str, Any] | None:
    """One monev round on the archived KB (Kota Tangerang's monev SOP with Paser's officials): the Kabag
    assigns the analis as ketua tim, the Kepala Dinas reports with a photo, the Kabag evaluates and
    directs one tindak lanjut, the Dinas carries it out, the round closes; then the evaluation report."""
    from pipeline.archival import monev, monev_report

    today = _today(svc)
    kabag, kadis = people["kabag_pemerintahan"], people["kadis.dlh"]
    with session_scope(svc.engine) as session:
        arsip = session.get(Arsip, arsip_id)
        if arsip is None or not monev.in_force(arsip, today) or svc.profile.monev is None:
            return None  # the agreement starts later than today (demo --tanggal in the future): nothing to monitor
        mulai = arsip.mulai
    photo = lambang_png("TPA", (40, 120, 70))

    def rounds() -> int:
        with session_scope(svc.engine) as session:
            data = monev.Penugasan(
                surat_perintah=f"800.1.11.1/{today.month:02d}3/Pem/{today.year}",
                ketua_tim=drafter.username,
                periode_mulai=mulai,
                periode_selesai=today,
            )
            round_ = monev.tugaskan(session, kabag, svc.profile, arsip_id, data)
            session.flush()
            monev.jadwalkan(
                session, drafter, svc.profile, round_.id or 0, monev.Jadwal(bahan="Data penyelenggaraan", jadwal=today)
            )
            return round_.id or 0

    round_id = steps.run("monev: Kabag menugaskan tim, tim menetapkan jadwal", rounds)
    laporan = monev.Laporan(
        realisasi="TPA Regional Kuaro menerima sampah kedua daerah sesuai jadwal.",
        kendala="Satu armada pengangkut rusak dua minggu.",
        manfaat="Timbulan sampah tidak terkelola berkurang.",
        rekomendasi="Pengadaan satu armada cadangan.",
    )

    def report_and_evaluate() -> None:
        with session_scope(svc.engine) as session:
            monev.lapor(session, svc, kadis, round_id, laporan, [("foto-tpa.png", photo)])
        with session_scope(svc.engine) as session:
            monev.olah(session, drafter, svc.profile, round_id, "Capaian sesuai rencana; armada kurang satu.")
            found = monev.Evaluasi(
                temuan=["Armada cadangan belum ada"], penilaian="cukup", evaluasi="Berjalan dengan kendala armada."
            )
            monev.evaluasi(session, kabag, svc.profile, round_id, found)
            item = monev.TindakLanjutItem(
                uraian="Usulan armada cadangan pada APBD Perubahan",
                penanggung_jawab="opd_teknis",
                tenggat=today + timedelta(days=30),
            )
            monev.arahkan(
                session,
                kabag,
                svc.profile,
                round_id,
                monev.Arahan(arahan="Usulkan armada cadangan.", tindak_lanjut=[item]),
            )

    steps.run("monev: laporan OPD (dengan lampiran), olah data, temuan, evaluasi dan arahan", report_and_evaluate)

    def follow_up() -> str:
        with session_scope(svc.engine) as session:
            view = monev.round_view(session, kabag, svc.profile, round_id)
            monev.selesaikan_tindak_lanjut(
                session, svc, kadis, view.tindak_lanjut[0].id or 0, "Usulan dikirim ke TAPD."
            )
        with session_scope(svc.engine) as session:
            return monev.tutup(session, drafter, svc.profile, round_id, "Kerja sama berjalan; armada diusulkan.").status

    status = steps.run("monev: tindak lanjut selesai, monev ditutup", follow_up)
    with session_scope(svc.engine) as session:
        built = monev_report.build(session, kabag, svc.profile, mulai, today, today)
    folder = out / "monev"
    folder.mkdir(exist_ok=True)
    (folder / "evaluasi.xlsx").write_bytes(monev_report.to_xlsx(built))
    steps.run(
        "monev: laporan evaluasi (XLSX, PDF)",
        lambda: (folder / "evaluasi.pdf").write_bytes(monev_report.to_pdf(svc, built)),
    )
    return {"id": round_id, "status": status, "xlsx": "monev/evaluasi.xlsx", "pdf": "monev/evaluasi.pdf"}


def _entry(
    svc: Any, out: Path, user: User, naskah_id: int, name: str, roots: list[Any], steps: Steps
) -> dict[str, Any]:
    """The report entry of a signed naskah; writes its signed PDF and verifies it."""
    from pipeline.approval import paraf
    from pipeline.sign import signature_plan
    from pipeline.sign.verify import verify_pdf

    with session_scope(svc.engine) as session:
        naskah = cases.get_naskah(session, user, naskah_id, profile=svc.profile)
        plan = signature_plan.get_plan(session, naskah_id)
        assert plan is not None
        current = signature_plan.current_file(session, plan)
        plan_steps = signature_plan.steps_of(session, plan)
        chain = paraf.active_paraf(session, naskah_id)
        revs = revisions.list_revisions(session, user, naskah_id, profile=svc.profile)
        nomor = cases.nomor_of(session, naskah_id)
        jenis, status = naskah.jenis, naskah.status
    signed_pdf = svc.get(current.key, current.version_id, current.sha256)
    report = steps.run(f"{jenis}: verifikasi semua tanda tangan", lambda: verify_pdf(signed_pdf, roots))
    path = out / "naskah" / f"{name}-ditandatangani.pdf"
    path.write_bytes(signed_pdf)
    return {
        "id": naskah_id,
        "jenis": jenis,
        "status": status,
        "nomor": {str(k): v for k, v in nomor.items()},
        "revisions": [{"n": r.number, "sha256": r.pdf_sha256} for r in revs],
        "paraf": [
            {"nama": p.nama, "jabatan": p.jabatan, "inisial": p.inisial, "waktu": p.waktu.isoformat()} for p in chain
        ],
        "signatures": [
            {
                "signer": s.signer_subject or s.nama,
                "waktu": s.signed_at.isoformat() if s.signed_at else None,
                "mode": "desk" if s.external else ("kuasa" if s.kuasa_naskah_id else "server"),
                "plan": plan.mode,
                "tanggal_ttd": s.tanggal_ttd.isoformat() if s.tanggal_ttd else None,
                "catatan_tanggal": s.catatan_tanggal,
            }
            for s in plan_steps
        ],
        "final_pdf": str(path.relative_to(out)),
        "sha256": current.sha256,
        "verification": report.bottom_line,
    }


def _today(svc: Any) -> date:
    """Today on the region's clock (the SOP profile's WIB/WITA/WIT), not the machine's."""
    return dt.datetime.now(svc.profile.tz).date()


def lambang_png(text: str, fill: tuple[int, int, int]) -> bytes:
    """A simple emblem drawn at run time (a shield with letters): the demo's stand-in for a real lambang."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (240, 280), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    shield = [(12, 12), (228, 12), (228, 168), (120, 268), (12, 168)]
    draw.polygon(shield, fill=fill, outline=(40, 40, 40), width=4)
    draw.polygon([(40, 40), (200, 40), (200, 156), (120, 232), (40, 156)], outline=(250, 210, 60), width=5)
    draw.text((120, 118), text, fill=(255, 255, 255), anchor="mm", font_size=58)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _upload_lambang(svc: Any, drafter: User, case_id: int, mitra: str) -> None:
    from pipeline.drafting import lambang

    lambang.upload_lambang(svc, drafter, case_id, 1, lambang_png("PSR", (24, 110, 56)))
    lambang.upload_lambang(svc, drafter, case_id, 2, lambang_png(mitra, (28, 64, 150)))


def _summary(diff: dict[str, Any]) -> str:
    c = diff["counts"]
    return f"{c['insert']} paragraf ditambah, {c['delete']} dihapus, {c['replace']} diubah"


def _user(
    session: Any,
    username: str,
    nama: str,
    jabatan: str,
    roles: list[str],
    posisi: list[str] | None = None,
    nip: str | None = None,
    **visibility: Any,
) -> User:
    from sqlmodel import select

    existing = session.exec(select(User).where(User.username == username)).first()
    domain = MAIL_DOMAINS.get(visibility.get("instansi") or "", MAIL_DOMAINS[""])
    return existing or create_user(
        session,
        username=username,
        nama=nama,
        jabatan=jabatan,
        roles=roles,
        posisi=posisi or [],
        nip=nip,
        email=f"{username}@{domain}",
        **visibility,
    )


#: Every demo account has an address, so its notifications are queued as mail (and written to mail/);
#: reserved ``.example`` domains (RFC 2606): nothing can reach a real mailbox.
MAIL_DOMAINS = {
    "": "paserkab.example",
    "Pemerintah Kota Balikpapan": "balikpapan.example",
    "Kantor Pertanahan Kabupaten Paser": "atrbpn.example",
}
