"""Intake: an incoming penawaran from its letter to a kerja sama case (or a surat jawaban), over the API.

Real PostgreSQL/SQLite, local store and S3 (moto over HTTP), real LibreOffice for the letters, and the
letters' PDFs read back with poppler's ``pdftotext`` (a tool the project did not write).
"""

from __future__ import annotations

import io
import subprocess
import threading
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import docx
import pytest
from PIL import Image
from sqlmodel import col, select

from api.config import Settings
from pipeline import audit
from pipeline.auth import create_user, issue_token
from pipeline.drafting.attachments import check_attachment
from pipeline.drafting.docxcheck import DocxLimits
from pipeline.drafting.templates import render_docx
from pipeline.intake import workflow as wf
from pipeline.intake.letters import intake_templates
from pipeline.models import AuditEntry, KerjaSama, Pihak, User
from pipeline.pdf.pdflimits import PdfLimits
from pipeline.services import Services
from pipeline.sop import load_profile
from storage.db import session_scope
from tests.fixtures.app import Api, ApiApps, make_archive_store, make_db, make_store

#: Who acts in the Paser profile's intake: the chain bupati -> sekda -> kabag_pemerintahan -> analis_ks.
PEOPLE = {
    "tu": ("Rina Marlina", "Tata Usaha Bagian Pemerintahan", ["secretariat"], ["tata_usaha"]),
    "bupati": ("dr. Fahmi Fadli", "Bupati Paser", ["signer"], ["bupati"]),
    "sekda": ("Dr. Katsul Wijaya, M.Si.", "Sekretaris Daerah", ["paraf"], ["sekda"]),
    "kabag": ("Andi Saputra, S.STP., M.Si.", "Kepala Bagian Pemerintahan", ["paraf"], ["kabag_pemerintahan"]),
    "analis": ("Siti Rahmah, S.IP.", "Analis Kerja Sama", ["drafter"], ["analis_ks"]),
    "drafter": ("Budi Santoso", "Pengelola Kerja Sama", ["drafter"], []),
    "legal": ("Hj. Nurul Hidayah, S.H., M.H.", "Kepala Bagian Hukum", ["legal"], ["kabag_hukum"]),
    "paraf": ("Drs. H. Muhammad Rizal, M.AP.", "Asisten Umum", ["paraf"], ["asisten_umum"]),
    "admin": ("Admin", "Admin", ["admin"], []),
    "dlh": ("Ir. Yusuf", "Kepala Dinas Lingkungan Hidup", ["paraf"], []),
}


@pytest.fixture(params=["sqlite-local", "postgres-s3"])
def intake(request: pytest.FixtureRequest, tmp_path: Path, converter, registry, api_apps: ApiApps) -> Iterator[Api]:
    db_kind, store_kind = request.param.split("-")
    svc = Services(
        engine=make_db(db_kind, tmp_path, request),
        store=make_store(store_kind, tmp_path, request),
        archive_store=make_archive_store(store_kind, tmp_path, request),
        converter=converter,
        templates=registry,
        docx_limits=DocxLimits(max_bytes=2 * 1024 * 1024),
        profile=load_profile("paser"),
    )
    tokens: dict[str, str] = {}
    with session_scope(svc.engine) as session:
        for key, (nama, jabatan, roles, posisi) in PEOPLE.items():
            user = create_user(
                session,
                username=key,
                nama=nama,
                jabatan=jabatan,
                roles=roles,
                posisi=posisi,
                opd="Dinas Lingkungan Hidup Kabupaten Paser" if key == "dlh" else None,
            )
            tokens[key] = issue_token(session, user)
    settings = Settings(
        database_url="sqlite://", storage_url="file:/nonexistent", migrate_on_start=False, cleanup_on_start=False
    )
    with api_apps.client(settings, svc) as client:
        yield Api(client=client, services=svc, tokens=tokens)
    svc.engine.dispose()


def penawaran(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "jenis": "penawaran",
        "perihal": "Penawaran Kerja Sama Pengelolaan Sampah Regional",
        "surat_nomor": "415.4/123/Pem",
        "surat_tanggal": (date.today() - timedelta(days=5)).isoformat(),
        "pengirim_instansi": "Pemerintah Kota Balikpapan",
        "pengirim_kind": "pemda",
        "pengirim_nama": "H. Rahmad Mas'ud, S.E., M.E.",
        "pengirim_jabatan": "Wali Kota Balikpapan",
        "pengirim_alamat": "Balikpapan",
        "objek": "pengelolaan sampah regional di TPA Kuaro",
        "manfaat": "pengurangan timbulan sampah kedua daerah",
        "bentuk": "Kesepakatan Bersama",
        "tahun_anggaran_mulai": date.today().year + 1,
        "jangka_waktu_bulan": 60,
        "opd_teknis": "Dinas Lingkungan Hidup Kabupaten Paser",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def a_docx(text: str = "KERANGKA ACUAN KERJA pengelolaan sampah regional") -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def a_pdf(api: Api) -> bytes:
    return api.services.converter.to_pdf(a_docx("Surat penawaran kerja sama dari Pemerintah Kota Balikpapan"))


def upload(api: Api, who: str, usulan_id: int, kind: str, name: str, data: bytes):
    return api.client.post(
        f"/api/v1/usulan/{usulan_id}/berkas",
        headers=api.auth(who),
        data={"kind": kind},
        files={"file": (name, data, "application/octet-stream")},
    )


def post(api: Api, who: str, path: str, body: dict[str, Any] | None = None, method: str = "POST"):
    return api.client.request(method, f"/api/v1/usulan{path}", headers=api.auth(who), json=body or {})


def pdftotext(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "surat.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return " ".join(text.split())


def first_line_offset(data: bytes, tmp_path: Path) -> tuple[str, float]:
    """The first line of page 1 (the kop) and how far its centre is from the page's, in cm, as
    poppler's ``pdftotext -bbox`` places the words."""
    path = tmp_path / "kop.pdf"
    path.write_bytes(data)
    xml = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(path), "-"], check=True, capture_output=True)
    root = ET.fromstring(xml.stdout)
    page = next(e for e in root.iter() if e.tag.endswith("page"))
    words = [w for w in page.iter() if w.tag.endswith("word")]
    top = min(float(w.get("yMin", 0)) for w in words)
    line = [w for w in words if abs(float(w.get("yMin", 0)) - top) < 2]
    left, right = min(float(w.get("xMin", 0)) for w in line), max(float(w.get("xMax", 0)) for w in line)
    offset_pt = (left + right) / 2 - float(page.get("width", 0)) / 2
    return " ".join(w.text or "" for w in line), abs(offset_pt) / 72 * 2.54


def to_rapat(api: Api, pdf: bytes) -> int:
    """A complete penawaran recorded, disposed down the chain, studied and scheduled (a meeting held an hour ago)."""
    created = post(api, "tu", "", penawaran())
    assert created.status_code == 201, created.text
    uid = created.json()["id"]
    assert upload(api, "tu", uid, "surat", "surat.pdf", pdf).status_code == 201
    assert upload(api, "tu", uid, "kak", "kak.docx", a_docx()).status_code == 201
    for who in ("bupati", "sekda", "kabag"):
        r = post(api, who, f"/{uid}/disposisi", {"note": f"disposisi {who}: kaji dan tindak lanjuti"})
        assert r.status_code == 200, r.text
    assert post(api, "analis", f"/{uid}/telaah", {"telaah": "Layak dibahas."}, "PUT").status_code == 200
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    r = post(api, "analis", f"/{uid}/rapat", {"waktu": when, "tempat": "Ruang Rapat Setda"}, "PUT")
    assert r.status_code == 200, r.text
    return uid


def hasil(api: Api, uid: int, rekomendasi: str) -> None:
    body = {
        "notulen": "Objek sesuai RPJMD.\nPembiayaan dibagi menurut volume sampah.",
        "kesimpulan": "Usulan dibahas lengkap.",
        "rekomendasi": rekomendasi,
    }
    r = post(api, "analis", f"/{uid}/rapat/hasil", body, "PUT")
    assert r.status_code == 200, r.text


# --- the whole way ---------------------------------------------------------------------------------


def test_a_penawaran_goes_from_its_letter_to_an_approved_case_ready_for_drafting(intake: Api, tmp_path: Path):
    api = intake
    created = post(api, "tu", "", penawaran(manfaat=None))
    assert created.status_code == 201, created.text
    body = created.json()
    uid = body["id"]
    assert body["status"] == "diterima" and body["posisi"] == "bupati" and body["giliran"] == ["bupati"]
    assert body["jenis_kerja_sama"] == "KSDD"  # from another daerah
    assert body["mitra"]["penandatangan_jabatan"] == "Wali Kota Balikpapan"  # its sender signs for it
    assert body["kelengkapan"]["lengkap"] is False
    assert upload(api, "tu", uid, "surat", "Surat Penawaran.pdf", a_pdf(api)).status_code == 201
    assert upload(api, "tu", uid, "kak", "KAK.docx", a_docx()).status_code == 201

    # the chain, in its order: the Sekda cannot take the Bupati's turn
    refused = post(api, "sekda", f"/{uid}/disposisi", {"note": "lanjut"})
    assert refused.status_code == 403 and refused.json()["detail"]["reason"] == "not_your_turn"
    assert "Bupati Paser" in refused.json()["message"]
    r = post(api, "bupati", f"/{uid}/disposisi", {"note": "Sekda: kaji bersama TKKSD"})
    assert r.status_code == 200 and r.json()["status"] == "disposisi" and r.json()["giliran"] == ["sekda"]
    assert post(api, "sekda", f"/{uid}/disposisi", {"note": "Kabag Pem: tindak lanjuti"}).status_code == 200
    r = post(api, "kabag", f"/{uid}/disposisi", {"note": "Analis: telaah dan siapkan rapat"})
    assert r.json()["status"] == "telaah" and r.json()["giliran"] == ["analis"]

    # telaah, then the meeting: refused while kelengkapan is missing, naming what
    assert (
        post(api, "analis", f"/{uid}/telaah", {"telaah": "Objek sesuai RPJMD; layak dibahas."}, "PUT").status_code
        == 200
    )
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    rapat = {"waktu": when, "tempat": "Ruang Rapat Sekretariat Daerah", "peserta": ["Bagian Hukum Setda"]}
    incomplete = post(api, "analis", f"/{uid}/rapat", rapat, "PUT")
    assert incomplete.status_code == 422
    assert incomplete.json()["detail"]["kurang"] == ["manfaat kerja sama"]
    assert "manfaat kerja sama" in incomplete.json()["message"]
    assert post(api, "analis", f"/{uid}", {"manfaat": "pengurangan timbulan sampah"}, "PATCH").status_code == 200
    scheduled = post(api, "analis", f"/{uid}/rapat", rapat, "PUT")
    assert scheduled.status_code == 200, scheduled.text
    invited = [p["nama"] for p in scheduled.json()["rapat_peserta"]]
    assert invited == ["Dinas Lingkungan Hidup Kabupaten Paser", "Pemerintah Kota Balikpapan", "Bagian Hukum Setda"]

    bad_nip = {
        "nomor": "005/77/Pem",
        "tempat": "Tanah Grogot",
        "penandatangan": {"nama": "A", "jabatan": "B", "nip": "12"},
    }
    refused_nip = post(api, "analis", f"/{uid}/surat/undangan", bad_nip)
    assert refused_nip.status_code == 422 and "NIP terdiri dari 18 angka" in refused_nip.json()["message"]
    undangan = post(api, "analis", f"/{uid}/surat/undangan", {"nomor": "005/77/Pem", "tempat": "Tanah Grogot"})
    assert undangan.status_code == 201, undangan.text
    pdf = api.client.get(f"/api/v1/usulan/{uid}/berkas/{undangan.json()['id']}?pdf=true", headers=api.auth("analis"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    text = pdftotext(pdf.content, tmp_path)
    assert "Undangan Rapat TKKSD" in text and "Ruang Rapat Sekretariat Daerah" in text
    assert "Pemerintah Kota Balikpapan" in text and "Andi Saputra" in text  # invited; signed by the Kabag
    assert "SEKRETARIAT DAERAH" in text and "Yth. Para undangan (daftar di bawah)" in text
    assert first_line_offset(pdf.content, tmp_path)[1] < 0.3  # the kop is centred without a lambang

    hasil(api, uid, "setuju")
    ba = post(api, "analis", f"/{uid}/surat/berita_acara", {"nomor": "005/78/Pem", "tempat": "Tanah Grogot"})
    assert ba.status_code == 201, ba.text
    ba_pdf = api.client.get(f"/api/v1/usulan/{uid}/berkas/{ba.json()['id']}?pdf=true", headers=api.auth("analis"))
    ba_text = pdftotext(ba_pdf.content, tmp_path)
    assert "BERITA ACARA" in ba_text and "agar usulan kerja sama ini disetujui" in ba_text

    r = post(api, "analis", f"/{uid}/rekomendasi", {"note": "TKKSD merekomendasikan disetujui"})
    assert r.json()["status"] == "keputusan" and r.json()["giliran"] == ["bupati"]

    # only the Kepala Daerah decides
    assert post(api, "drafter", f"/{uid}/keputusan", {"setuju": True}).status_code == 403
    assert post(api, "sekda", f"/{uid}/keputusan", {"setuju": True}).status_code == 403
    past = post(api, "bupati", f"/{uid}/keputusan", {"setuju": True, "mulai": "2020-01-01"})
    assert past.status_code == 422 and past.json()["detail"]["field"] == "mulai"
    assert "tidak boleh sebelum hari keputusan" in past.json()["message"]
    decided = post(api, "bupati", f"/{uid}/keputusan", {"setuju": True, "note": "Setuju, lanjutkan"})
    assert decided.status_code == 200, decided.text
    final = decided.json()
    assert final["status"] == "disetujui" and final["giliran"] == [] and final["kerja_sama_id"]

    # the case opened for drafting carries the usulan's data; its creator is the analis who studied it
    case = api.client.get(f"/api/v1/cases/{final['kerja_sama_id']}", headers=api.auth("analis")).json()
    assert case["judul"] == "Penawaran Kerja Sama Pengelolaan Sampah Regional"
    assert case["jenis"] == "KSDD" and case["objek"] == "pengelolaan sampah regional di TPA Kuaro"
    with session_scope(api.services.engine) as session:
        ks = session.get(KerjaSama, final["kerja_sama_id"])
        assert ks is not None and ks.mulai == date(date.today().year + 1, 1, 1)
        assert ks.selesai == date(date.today().year + 5, 12, 31)
        analis = session.exec(select(User).where(User.username == "analis")).one()
        assert ks.created_by == analis.id
        pihak = session.exec(select(Pihak).where(Pihak.kerja_sama_id == ks.id).order_by(col(Pihak.urutan))).all()
        assert [p.instansi for p in pihak] == ["Pemerintah Kabupaten Paser", "Pemerintah Kota Balikpapan"]
        assert pihak[0].penandatangan_nama == "dr. Fahmi Fadli" and pihak[0].penandatangan_jabatan == "Bupati Paser"
        # our party "berkedudukan di" the profile's office address (the KB says so), the partner at its letter's
        assert pihak[0].alamat == "Jalan Jenderal Sudirman Nomor 27, Tanah Grogot"

        # every step is in the one audit chain, and the chain holds
        actions = [
            e.action
            for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all()
            if e.action.startswith("usulan_") and e.detail.get("usulan_id") == uid
        ]
        assert audit.verify_chain(session).ok
    assert actions[0] == "usulan_catat" and actions.count("usulan_disposisi") == 3
    for step in ("usulan_lampiran", "usulan_telaah", "usulan_jadwalkan_rapat", "usulan_catat_rapat"):
        assert step in actions
    assert actions[-1] == "usulan_setujui" and "usulan_surat" in actions and "usulan_unduh" in actions

    # each disposisi: its note, who, the time it took, against the profile's mutu baku
    disposisi = [e for e in final["riwayat"] if e["action"] == "disposisi"]
    assert [(e["posisi"], e["to_posisi"]) for e in disposisi] == [
        ("bupati", "sekda"),
        ("sekda", "kabag_pemerintahan"),
        ("kabag_pemerintahan", "analis_ks"),
    ]
    assert [e["mutu_baku"] for e in disposisi] == ["60 menit"] * 3
    assert all(e["terlambat"] is False and e["lama_detik"] >= 0 for e in disposisi)
    assert disposisi[0]["note"] == "Sekda: kaji bersama TKKSD"
    # and the decided usulan takes no further step
    again = post(api, "bupati", f"/{uid}/keputusan", {"setuju": False, "note": "x"})
    assert again.status_code == 409


def test_a_refused_penawaran_gets_its_surat_jawaban_drafted_from_the_template(intake: Api, tmp_path: Path):
    api = intake
    uid = to_rapat(api, a_pdf(api))
    hasil(api, uid, "tolak")
    assert post(api, "analis", f"/{uid}/rekomendasi").status_code == 200
    no_letter = post(api, "bupati", f"/{uid}/keputusan", {"setuju": False, "note": "Anggaran 2027 sudah ditetapkan"})
    assert no_letter.status_code == 422 and "Surat jawaban" in no_letter.json()["message"]
    no_reason = post(
        api,
        "bupati",
        f"/{uid}/keputusan",
        {"setuju": False, "surat": {"nomor": "100.3.7.1/9/Pem", "tempat": "Tanah Grogot"}},
    )
    assert no_reason.status_code == 422 and no_reason.json()["detail"]["field"] == "note"
    refused = post(
        api,
        "bupati",
        f"/{uid}/keputusan",
        {
            "setuju": False,
            "note": "Anggaran tahun 2027 sudah ditetapkan",
            "surat": {"nomor": "100.3.7.1/245/Pem", "tempat": "Tanah Grogot", "tembusan": ["Sekretaris Daerah"]},
        },
    )
    assert refused.status_code == 200, refused.text
    body = refused.json()
    assert body["status"] == "ditolak" and body["kerja_sama_id"] is None
    jawaban = [f for f in body["berkas"] if f["kind"] == "jawaban"]
    assert len(jawaban) == 1 and jawaban[0]["nomor"] == "100.3.7.1/245/Pem" and jawaban[0]["generated"]
    pdf = api.client.get(f"/api/v1/usulan/{uid}/berkas/{jawaban[0]['id']}?pdf=true", headers=api.auth("tu"))
    text = pdftotext(pdf.content, tmp_path)
    assert "100.3.7.1/245/Pem" in text and "Yth. Wali Kota Balikpapan" in text
    assert "belum dapat kami setujui" in text and "Anggaran tahun 2027 sudah ditetapkan" in text
    assert "BUPATI PASER" in text and "dr. Fahmi Fadli" in text
    # the Bupati's own letter: under the kop of the office (Tata Naskah Dinas), centred on the page
    kop, off_centre = first_line_offset(pdf.content, tmp_path)
    assert kop == "BUPATI PASER" and off_centre < 0.3, (kop, off_centre)
    assert "SEKRETARIAT DAERAH" not in text
    docx_file = api.client.get(f"/api/v1/usulan/{uid}/berkas/{jawaban[0]['id']}", headers=api.auth("tu"))
    assert docx_file.content.startswith(b"PK") and docx_file.headers["X-Content-SHA256"] == jawaban[0]["sha256"]
    with session_scope(api.services.engine) as session:
        assert session.exec(select(KerjaSama)).first() is None  # nothing opened
    # a balasan (for an accepted offer) is not a refused usulan's letter
    balasan = post(api, "analis", f"/{uid}/surat/balasan", {"nomor": "1/2/3", "tempat": "Tanah Grogot"})
    assert balasan.status_code == 409 and balasan.json()["detail"]["reason"] == "not_in_this_status"


def test_missing_kelengkapan_is_listed_on_recording_and_holds_the_meeting(intake: Api):
    api = intake
    body = penawaran(objek=None, manfaat=None, bentuk=None, tahun_anggaran_mulai=None, jangka_waktu_bulan=None)
    created = post(api, "tu", "", body)
    assert created.status_code == 201
    check = created.json()["kelengkapan"]
    assert check["lengkap"] is False
    assert check["kurang"] == [
        "surat penawaran/permohonan (pindaian)",
        "kerangka acuan kerja (KAK) atau studi kelayakan (FS)",
        "objek yang akan dikerjasamakan",
        "manfaat kerja sama",
        "bentuk kerja sama",
        "tahun anggaran mulai kerja sama",
        "jangka waktu kerja sama",
    ]
    uid = created.json()["id"]
    assert upload(api, "tu", uid, "fs", "fs.pdf", a_pdf(api)).status_code == 201  # a feasibility study counts
    again = api.client.get(f"/api/v1/usulan/{uid}", headers=api.auth("tu")).json()["kelengkapan"]["kurang"]
    assert "kerangka acuan kerja (KAK) atau studi kelayakan (FS)" not in again
    # a jangka waktu over five years is not accepted either
    too_long = post(api, "tu", f"/{uid}", {"jangka_waktu_bulan": 61}, "PATCH")
    assert too_long.status_code == 422
    # a permohonan comes from an OPD, a penawaran from outside
    wrong = post(api, "tu", "", penawaran(jenis="permohonan"))
    assert wrong.status_code == 422 and wrong.json()["detail"]["field"] == "pengirim_kind"


def test_wrong_roles_and_people_are_refused_and_others_do_not_see_the_usulan(intake: Api):
    api = intake
    assert post(api, "legal", "", penawaran()).status_code == 403  # Bagian Hukum does not record letters
    uid = post(api, "tu", "", penawaran()).json()["id"]
    assert post(api, "legal", f"/{uid}/disposisi", {"note": "x"}).status_code == 403
    assert post(api, "analis", f"/{uid}/telaah", {"telaah": "terlalu dini"}, "PUT").status_code == 409
    assert post(api, "tu", f"/{uid}/batal").status_code == 422  # a withdrawal needs its reason
    # an official off the chain (the Asisten Umum) sees nothing; the OPD teknis sees its own usulan
    hidden = api.client.get(f"/api/v1/usulan/{uid}", headers=api.auth("paraf"))
    assert hidden.status_code == 404
    assert api.client.get("/api/v1/usulan", headers=api.auth("paraf")).json()["count"] == 0
    assert api.client.get(f"/api/v1/usulan/{uid}", headers=api.auth("dlh")).status_code == 200
    assert api.client.get("/api/v1/usulan", headers=api.auth("admin")).status_code == 403
    assert api.client.get("/api/v1/usulan", headers=api.auth("bupati")).json()["count"] == 1
    r = post(api, "tu", f"/{uid}/batal", {"note": "surat tercatat dua kali"})
    assert r.status_code == 200 and r.json()["status"] == "dibatalkan"


# --- races ----------------------------------------------------------------------------------------


class GatedConverter:
    """The real converter, each conversion held until ``parties`` of them are waiting: two refusals
    racing have both passed every check and rendered their surat jawaban when they are let go."""

    def __init__(self, inner: Any, parties: int) -> None:
        self.inner = inner
        self.barrier = threading.Barrier(parties, timeout=120)

    def to_pdf(self, docx_bytes: bytes) -> bytes:
        pdf = self.inner.to_pdf(docx_bytes)
        self.barrier.wait()
        return pdf

    def close(self) -> None:
        """The session's converter is closed by its fixture."""


@pytest.mark.parametrize("intake", ["postgres-s3"], indirect=True)
def test_two_decisions_racing_on_one_usulan_exactly_one_is_taken(intake: Api):
    """The Bupati's decision sent twice at once (a double click, two tabs: one approving, one refusing)
    on PostgreSQL: exactly one wins, the other gets a 409 in Indonesian; one event, one letter, no
    second kerja sama."""
    api = intake
    uid = to_rapat(api, a_pdf(api))
    hasil(api, uid, "tolak")
    assert post(api, "analis", f"/{uid}/rekomendasi").status_code == 200
    surat = {"nomor": "100.3.7.1/245/Pem", "tempat": "Tanah Grogot"}
    refuse = {"setuju": False, "note": "Anggaran sudah ditetapkan", "surat": surat}
    original = api.services.converter
    api.services.converter = GatedConverter(original, 2)
    results: list[Any] = [None, None]
    errors: list[BaseException] = []

    def decide(i: int) -> None:
        try:
            results[i] = post(api, "bupati", f"/{uid}/keputusan", refuse)
        except BaseException as exc:  # a server error surfaces here (the test client re-raises it)
            errors.append(exc)

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(180)
    finally:
        api.services.converter = original
    assert not errors, errors
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409], [r.text for r in results]
    loser = next(r for r in results if r.status_code == 409).json()
    assert "Muat ulang" in loser["message"] and loser["detail"]["reason"] in ("stale", "not_in_this_status")
    body = api.client.get(f"/api/v1/usulan/{uid}", headers=api.auth("bupati")).json()
    assert body["status"] == "ditolak"
    assert [e["action"] for e in body["riwayat"]].count("tolak") == 1
    assert [f["kind"] for f in body["berkas"]].count("jawaban") == 1
    with session_scope(api.services.engine) as session:
        assert session.exec(select(KerjaSama)).first() is None
        assert audit.verify_chain(session).ok


# --- every refusal is a 4xx in Indonesian ------------------------------------------------------------

#: Words of the framework's or the validator's own English, which a refusal must never show.
ENGLISH = (
    "Value error",
    "Input should",
    "Field required",
    "Internal Server",
    "Not Found",
    "Method Not Allowed",
    "Traceback",
    "Exception",
    "object has no",
)


def reach(api: Api, status: str, pdf: bytes) -> int:
    """A fresh usulan in ``status`` (through the API, as its people would)."""
    uid = post(api, "tu", "", penawaran()).json()["id"]
    if status == "diterima":
        return uid
    steps = {"disposisi": ("bupati",), "telaah": ("bupati", "sekda", "kabag")}
    if status in steps:
        for who in steps[status]:
            assert post(api, who, f"/{uid}/disposisi", {"note": "tindak lanjuti"}).status_code == 200
        return uid
    assert post(api, "tu", f"/{uid}/batal", {"note": "salah catat"}).status_code == 200
    uid = to_rapat(api, pdf)
    if status == "rapat":
        return uid
    hasil(api, uid, "tolak" if status == "ditolak" else "setuju")
    assert post(api, "analis", f"/{uid}/rekomendasi").status_code == 200
    if status == "disetujui":
        assert post(api, "bupati", f"/{uid}/keputusan", {"setuju": True}).status_code == 200
    elif status == "ditolak":
        surat = {"nomor": "100.3.7.1/9/Pem", "tempat": "Tanah Grogot"}
        assert (
            post(api, "bupati", f"/{uid}/keputusan", {"setuju": False, "note": "x", "surat": surat}).status_code == 200
        )
    return uid


def wrong_requests(uid: int, file_id: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Requests that are refused somewhere (wrong person, wrong status, wrong body), and a few that pass."""
    now = datetime.now(UTC)
    mitra = {"instansi": "PT Air", "kind": "pihak_ketiga", "penandatangan_nama": "A", "penandatangan_jabatan": "Dirut"}
    surat = {"nomor": "1/Pem", "tempat": "Tanah Grogot"}
    return [
        ("POST", "", {}),
        ("POST", "", penawaran(surat_tanggal=(date.today() + timedelta(days=3)).isoformat())),
        ("POST", "", penawaran(diterima_at=(now + timedelta(days=1)).isoformat())),
        ("POST", "", penawaran(jenis_kerja_sama="KSDPK")),
        ("POST", "", penawaran(perihal="a\x00b", mitra={**mitra, "kind": "raja"})),
        ("POST", "", penawaran(tahun_anggaran_mulai=1500, surat_tanggal="2026-02-30")),
        (
            "POST",
            "",
            penawaran(jenis="permohonan", pengirim_kind="opd", pengirim_instansi="Dinas Perhubungan", mitra=mitra),
        ),
        ("PATCH", f"/{uid}", {}),
        ("PATCH", f"/{uid}", {"jenis_kerja_sama": "KSIV"}),
        ("PATCH", f"/{uid}", {"jangka_waktu_bulan": 0, "perihal": ""}),
        ("PATCH", f"/{uid}", {"bentuk": "Perjanjian", "tidak_dikenal": 1}),
        ("POST", f"/{uid}/disposisi", {"note": "x", "expected_version": 999}),
        ("POST", f"/{uid}/disposisi", {"note": "lanjut"}),
        ("PUT", f"/{uid}/telaah", {"telaah": "   "}),
        ("PUT", f"/{uid}/telaah", {"telaah": "Layak."}),
        ("PUT", f"/{uid}/rapat", {"waktu": "2000-01-01T10:00", "tempat": "Setda"}),
        ("PUT", f"/{uid}/rapat", {"waktu": "besok", "tempat": "Setda"}),
        ("PUT", f"/{uid}/rapat", {"waktu": (now + timedelta(days=2)).isoformat(), "tempat": "Setda"}),
        ("PUT", f"/{uid}/rapat/hasil", {"notulen": "a", "kesimpulan": "b", "rekomendasi": "mungkin"}),
        ("PUT", f"/{uid}/rapat/hasil", {"notulen": "a", "kesimpulan": "b", "rekomendasi": "setuju", "hadir": ["X"]}),
        ("POST", f"/{uid}/rekomendasi", {}),
        ("POST", f"/{uid}/keputusan", {"setuju": True, "mulai": "1990-01-01"}),
        ("POST", f"/{uid}/keputusan", {"setuju": False, "note": "x"}),
        ("POST", f"/{uid}/keputusan", {"setuju": False, "note": "x", "surat": {"nomor": "", "tempat": "X"}}),
        ("POST", f"/{uid}/surat/jawaban", surat),
        ("POST", f"/{uid}/surat/undangan", {**surat, "penandatangan": {"nama": "A", "jabatan": "B", "nip": "12"}}),
        ("POST", f"/{uid}/surat/berita_acara", surat),
        ("POST", f"/{uid}/surat/balasan", {**surat, "tanggal": "1800-13-01"}),
        ("POST", f"/{uid}/surat/tidakada", surat),
        ("GET", f"/{uid}/berkas/999999", None),
        ("GET", f"/{uid}/berkas/{file_id}?pdf=true", None),
        ("GET", f"/{uid}/berkas/{file_id}?pdf=mungkin", None),
        ("GET", f"/{uid}", None),
        ("GET", "/0", None),
        ("GET", "/abc", None),
        ("GET", "/99999999999999999999999", None),
        ("GET", "?status=entah&limit=0", None),
        ("DELETE", f"/{uid}", None),
        ("POST", f"/{uid}/batal", {"note": ""}),
    ]


@pytest.mark.parametrize("intake", ["sqlite-local"], indirect=True)
def test_no_request_in_any_status_by_anyone_gives_a_5xx_and_every_refusal_is_indonesian(intake: Api):
    """Each status, each person (those whose turn it is last), wrong bodies, wrong ids, wrong methods:
    never a 5xx (the test client re-raises one), every refusal the error envelope with an Indonesian
    message and a detail saying why."""
    api = intake
    pdf = a_pdf(api)
    order = ["admin", "paraf", "dlh", "tu", "kabag", "bupati", "analis"]
    counts: dict[int, int] = {}
    for status in ("diterima", "disposisi", "telaah", "rapat", "keputusan", "disetujui", "ditolak"):
        uid = reach(api, status, pdf)
        file_id = api.client.get(f"/api/v1/usulan/{uid}", headers=api.auth("tu")).json()["berkas"]
        for who in order:
            for method, path, body in wrong_requests(uid, file_id[0]["id"] if file_id else 1):
                url = f"/api/v1/usulan{path}"
                if body is None:
                    r = api.client.request(method, url, headers=api.auth(who))
                else:
                    r = api.client.request(method, url, headers=api.auth(who), json=body)
                counts[r.status_code] = counts.get(r.status_code, 0) + 1
                where = (status, who, method, path)
                assert r.status_code < 500, (where, r.text)
                if r.status_code >= 400:
                    envelope = r.json()
                    assert set(envelope) == {"code", "message", "detail"}, (where, envelope)
                    message = envelope["message"]
                    assert message and not any(word in message for word in ENGLISH), (where, message)
                    assert message.rstrip(")").endswith("."), (where, message)
    assert all(code in counts for code in (200, 201, 403, 404, 405, 409, 422)), counts


# --- hostile attachments --------------------------------------------------------------------------


def tiny_pdf(*objects: bytes) -> bytes:
    """A well-formed one-page PDF (a correct cross-reference table) whose catalog is object 1."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Root 1 0 R /Size %d >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pdf_with_action(action: bytes) -> bytes:
    return tiny_pdf(
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        action,
    )


JS_PDF = pdf_with_action(b"<< /S /JavaScript /JS (app.alert\\('x'\\);) >>")


def test_hostile_attachments_are_refused_with_a_reason_and_nothing_is_stored(intake: Api):
    api = intake
    uid = post(api, "tu", "", penawaran()).json()["id"]
    cases = {
        "javascript.pdf": (JS_PDF, "pdf_active_content"),
        "launch.pdf": (pdf_with_action(b"<< /S /Launch /F (cmd.exe) >>"), "pdf_active_content"),
        "program.exe": (b"MZ\x90\x00" + b"\x00" * 200, "unsupported_type"),
        "halaman.html": (b"<html><script>alert(1)</script></html>", "unsupported_type"),
        "pindaian.png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "unreadable"),
        "kosong.pdf": (b"", "empty"),
    }
    macro = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(a_docx())) as src, zipfile.ZipFile(macro, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 vba")
    cases["makro.docx"] = (macro.getvalue(), None)
    for name, (data, reason) in cases.items():
        r = upload(api, "tu", uid, "kak", name, data)
        assert r.status_code == 422, (name, r.text)
        assert r.json()["message"], name
        if reason:
            assert r.json()["detail"]["reason"] == reason, (name, r.json())
    refused = upload(api, "tu", uid, "kak", "KAK Sampah.pdf", JS_PDF).json()["message"]
    assert "JavaScript" in refused and "'KAK Sampah.pdf'" in refused  # names the file as the sender named it
    body = api.client.get(f"/api/v1/usulan/{uid}", headers=api.auth("tu")).json()
    assert body["berkas"] == []
    # a real scan as PNG is accepted, named safely, typed by its bytes
    png = io.BytesIO()
    Image.new("RGB", (200, 280), "white").save(png, "PNG")
    ok = upload(api, "tu", uid, "surat", "../../etc/pindaian surat.jpg", png.getvalue())
    assert ok.status_code == 201 and ok.json()["content_type"] == "image/png"
    assert ok.json()["filename"] == "pindaian surat.png"


def test_the_letter_templates_render_in_the_sandbox_with_every_field_checked():
    registry = intake_templates()
    assert sorted(t.name for t in registry.all()) == ["ba/rapat_tkksd", "surat/dinas", "surat/undangan"]
    info = registry.get("surat/dinas")
    from pipeline.errors import TemplateDataError

    with pytest.raises(TemplateDataError) as exc:
        render_docx(info, {"nomor": "1"})
    assert "hal" in exc.value.detail["missing"] and "penandatangan" in exc.value.detail["missing"]
    data = {
        "kop": {"pemda": "Pemerintah Kabupaten Paser"},
        "tempat": "Tanah Grogot",
        "tanggal": "2026-12-14",
        "nomor": "100.3.7.1/1/Pem",
        "hal": "Jawaban <&> atas Penawaran",
        "kepada": "Wali Kota Balikpapan",
        "isi": ["{{ 7*7 }} tidak dijalankan"],
        "penandatangan": {"nama": "dr. Fahmi Fadli", "jabatan": "Bupati Paser"},
    }
    document = docx.Document(io.BytesIO(render_docx(info, data)))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "{{ 7*7 }} tidak dijalankan" in text and "49" not in text
    cells = "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    assert "Jawaban <&> atas Penawaran" in cells and "14 Desember 2026" in cells


def test_attachment_check_types_by_bytes_not_by_name():
    limits = {"docx_limits": DocxLimits(), "pdf_limits": PdfLimits()}
    checked = check_attachment(a_docx(), "KAK.pdf", **limits)
    assert checked.content_type.endswith("wordprocessingml.document") and checked.filename == "KAK.docx"
    assert wf.KELENGKAPAN[0][0] == "surat"


# --- the CLI ---------------------------------------------------------------------------------------


def test_the_cli_walks_an_usulan_from_its_letter_to_the_bupatis_approval(tmp_path: Path, monkeypatch):
    """``naskah usulan``: the same steps as the API, each as the person it belongs to, refusals as an
    Indonesian message and a non-zero exit code (no traceback)."""
    import json

    from typer.testing import CliRunner

    from api.cli import app

    monkeypatch.setenv("NASKAH_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("NASKAH_STORAGE_URL", f"file:{tmp_path}/objects")
    monkeypatch.setenv("NASKAH_CONVERTER", "cold")
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args))

    for key in ("tu", "bupati", "sekda", "kabag", "analis"):
        nama, jabatan, roles, posisi = PEOPLE[key]
        args = ["user", "add", key, "--nama", nama, "--jabatan", jabatan]
        args += [x for r in roles for x in ("--role", r)] + [x for p in posisi for x in ("--posisi", p)]
        assert run(*args).exit_code == 0
    data = tmp_path / "usulan.json"
    data.write_text(json.dumps(penawaran()), encoding="utf-8")
    created = run("usulan", "catat", "--data", str(data), "--sebagai", "tu")
    assert created.exit_code == 0, created.output
    assert "Usulan 1: Penawaran Kerja Sama" in created.output and "kurang surat penawaran" in created.output
    scan = io.BytesIO()
    Image.new("RGB", (200, 280), "white").save(scan, "PNG")
    (tmp_path / "surat.png").write_bytes(scan.getvalue())
    (tmp_path / "KAK.docx").write_bytes(a_docx())
    assert (
        run("usulan", "lampiran", "1", str(tmp_path / "surat.png"), "--jenis", "surat", "--sebagai", "tu").exit_code
        == 0
    )
    kak = run("usulan", "lampiran", "1", str(tmp_path / "KAK.docx"), "--jenis", "kak", "--sebagai", "tu")
    assert kak.exit_code == 0 and "kelengkapan: lengkap" in run("usulan", "lihat", "1").output

    wrong = run("usulan", "disposisi", "1", "--sebagai", "sekda", "--catatan", "lanjut")
    assert wrong.exit_code != 0 and "Giliran Bupati Paser" in wrong.output and "Traceback" not in wrong.output
    for who in ("bupati", "sekda", "kabag"):
        step = run("usulan", "disposisi", "1", "--sebagai", who, "--catatan", "tindak lanjuti")
        assert step.exit_code == 0, step.output
    (tmp_path / "telaah.txt").write_text("Objek sesuai RPJMD; layak dibahas.", encoding="utf-8")
    assert run("usulan", "telaah", "1", "--sebagai", "analis", "--teks", str(tmp_path / "telaah.txt")).exit_code == 0
    rapat = tmp_path / "rapat.json"
    rapat.write_text(json.dumps({"waktu": (datetime.now(UTC) - timedelta(hours=1)).isoformat(), "tempat": "Setda"}))
    assert run("usulan", "rapat", "1", "--sebagai", "analis", "--data", str(rapat)).exit_code == 0
    hasil_json = tmp_path / "hasil.json"
    hasil_json.write_text(json.dumps({"notulen": "Sesuai RPJMD.", "kesimpulan": "Layak.", "rekomendasi": "setuju"}))
    assert run("usulan", "hasil-rapat", "1", "--sebagai", "analis", "--data", str(hasil_json)).exit_code == 0
    assert run("usulan", "rekomendasi", "1", "--sebagai", "analis").exit_code == 0
    bad_json = tmp_path / "rusak.json"
    bad_json.write_text("{nomor:")
    broken = run("usulan", "putus", "1", "--sebagai", "bupati", "--tolak", "--catatan", "x", "--surat", str(bad_json))
    assert broken.exit_code != 0 and "bukan JSON yang sah" in broken.output and "Traceback" not in broken.output
    approved = run("usulan", "putus", "1", "--sebagai", "bupati", "--setuju", "--catatan", "Setuju")
    assert approved.exit_code == 0, approved.output
    assert "Disetujui" in approved.output and "kerja sama : 1 (dibuka untuk penyusunan naskah)" in approved.output
    listed = run("usulan", "daftar", "--status", "disetujui")
    assert listed.exit_code == 0 and "1 usulan" in listed.output
