"""``naskah demo``: the drafting part of the lifecycle on a sample KSDD case, timed step by step.

Everything it makes stays inside ``--out``: the SQLite database, the local object store,
the DOCX/PDF of every revision, and ``report.json``.  It talks to the pipeline exactly as
the API does (same functions, same checks), so a green demo means the real path works.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import typer
from docx import Document

from api.config import Settings, build_services
from pipeline import cases, revisions
from pipeline.auth import create_user
from pipeline.models import User
from pipeline.templates import sample_data
from storage.db import session_scope, upgrade

T = TypeVar("T")

# Fields the case itself provides (pipeline.revisions.build_context); the rest of a
# template's sample data becomes the naskah's own fields.
CASE_FIELDS = {
    "jenis_kerja_sama",
    "judul",
    "objek",
    "manfaat",
    "bentuk",
    "tahun_anggaran_mulai",
    "mulai",
    "selesai",
    "opd_teknis",
    "nomor",
    "pihak_kesatu",
    "pihak_kedua",
}


def demo_case(day: date) -> cases.CaseInput:
    return cases.CaseInput(
        jenis="KSDD",
        judul="Pengelolaan Sampah Regional dan Pengembangan Ekonomi Sirkular",
        objek="Pengelolaan sampah regional di Tempat Pemrosesan Akhir Sampah Regional Kuaro",
        manfaat="Berkurangnya timbulan sampah yang tidak terkelola dan tumbuhnya usaha daur ulang di kedua daerah",
        bentuk="Kesepakatan Bersama dilanjutkan Perjanjian Kerja Sama",
        tahun_anggaran_mulai=day.year + 1,
        mulai=day,
        selesai=day.replace(year=day.year + 5) if not (day.month == 2 and day.day == 29) else date(day.year + 5, 2, 28),
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
        typer.echo(f"  {len(self.rows):>2}. {name:<62} {ms:9.1f} ms")

    def run(self, name: str, func: Callable[[], T]) -> T:
        with self.step(name):
            return func()


def edit_in_word(docx: bytes) -> bytes:
    """What a drafter does in Word: correct a sentence of the Penutup and add one more."""
    doc = Document(io.BytesIO(docx))
    paragraphs = [p for p in doc.paragraphs if p.text.strip()]
    target = next((p for p in paragraphs if "rangkap" in p.text), paragraphs[-1])
    target.add_run(" Salinan naskah ini disampaikan kepada Perangkat Daerah terkait.")
    doc.add_paragraph("Catatan koreksi: penulisan nama jabatan telah disesuaikan dengan Tata Naskah Dinas.")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def run_demo(out: Path, day: date) -> int:
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        database_url=f"sqlite:///{out / 'naskah.db'}",
        storage_url=f"file:{out / 'objects'}",
    )
    steps = Steps()
    typer.echo(f"Demo naskah kerja sama — tanggal {day.isoformat()} — hasil di {out}")
    svc = steps.run("siapkan basis data, penyimpanan, templat, LibreOffice", lambda: build_services(settings))
    try:
        return _run(svc, out, day, settings, steps)
    finally:
        svc.close()


def _run(svc: Any, out: Path, day: date, settings: Settings, steps: Steps) -> int:
    steps.run("migrasi basis data", lambda: upgrade(svc.engine))
    with steps.step("pengguna: analis kerja sama (drafter)"), session_scope(svc.engine) as session:
        drafter = _user(session, "analis.tapem", "Rina Wulandari, S.H.", "Analis Kerja Sama", ["drafter"])

    with steps.step("kerja sama KSDD Paser – Balikpapan"), session_scope(svc.engine) as session:
        case = cases.create_case(session, drafter, demo_case(day))
        case_id = case.id
    assert case_id is not None

    kb_fields = {k: v for k, v in sample_data("KB").items() if k not in CASE_FIELDS}
    kb_fields["tanggal"] = day.isoformat()
    naskah_in = cases.NaskahInput(
        jenis="KB",
        nomor={1: f"100.3.7.1/{day.month:02d}1/Tapem/{day.year}", 2: f"100.3.7.1/{day.month:02d}7/Pem/{day.year}"},
        data=kb_fields,
        note="Rancangan awal hasil rapat TKKSD",
    )
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
        rev2 = revisions.get_revision(session, drafter, naskah_id, 2)
    edited = edit_in_word(revisions.read_revision_file(svc, rev2, "docx"))
    steps.run(
        "revisi 3: DOCX disunting di Word lalu diunggah",
        lambda: revisions.upload_revision(svc, drafter, naskah_id, edited, "Koreksi Bagian Hukum (disunting di Word)"),
    )
    diff12 = steps.run("bandingkan revisi 1 dan 2", lambda: revisions.diff_revisions(svc, drafter, naskah_id, 1, 2))
    diff23 = steps.run("bandingkan revisi 2 dan 3", lambda: revisions.diff_revisions(svc, drafter, naskah_id, 2, 3))

    files_dir = out / "naskah"
    files_dir.mkdir(exist_ok=True)
    with session_scope(svc.engine) as session:
        nomor = cases.nomor_of(session, naskah_id)

    signed = _review_paraf_sign(svc, out, steps, naskah_id, drafter)
    with steps.step("unduh semua revisi dan periksa sha256 (byte demi byte)"):
        report_revs = _write_revisions(svc, drafter, naskah_id, files_dir, out)
    report = {
        "tanggal": day.isoformat(),
        "settings": {"NASKAH_DATABASE_URL": settings.database_url, "NASKAH_STORAGE_URL": settings.storage_url},
        "trust_roots": "pki/roots.pem",
        "naskah": [
            {
                "id": naskah_id,
                "jenis": "KB",
                "status": signed["status"],
                "nomor": {str(k): v for k, v in nomor.items()},
                "revisions": report_revs,
                "paraf": signed["paraf"],
                "signatures": signed["signatures"],
                "final_pdf": signed["final_pdf"],
                "sha256": signed["sha256"],
                "verification": signed["verification"],
                "diffs": {"1..2": diff12["counts"], "2..3": diff23["counts"]},
            }
        ],
        "steps": steps.rows,
    }
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    typer.echo("")
    typer.echo(f"Revisi 1→2: {_summary(diff12)}")
    typer.echo(f"Revisi 2→3: {_summary(diff23)}")
    typer.echo(f"Naskah bertanda tangan: {out / signed['final_pdf']}  ({signed['verification']})")
    typer.echo(f"Periksa sendiri: naskah verify {out / signed['final_pdf']} --trust {out / 'pki' / 'roots.pem'}")
    typer.echo(f"Berkas: {files_dir}  Laporan: {out / 'report.json'}")
    typer.echo("Pengaturan untuk memakai data demo ini:")
    typer.echo(f"  export NASKAH_DATABASE_URL='{settings.database_url}'")
    typer.echo(f"  export NASKAH_STORAGE_URL='{settings.storage_url}'")
    return 0


def _write_revisions(svc: Any, user: User, naskah_id: int, files_dir: Path, out: Path) -> list[dict[str, Any]]:
    """Fetch every revision (sha256 checked on read) into ``files_dir``; the report's entries."""
    entries: list[dict[str, Any]] = []
    with session_scope(svc.engine) as session:
        for rev in revisions.list_revisions(session, user, naskah_id):
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


def _pki(directory: Path, name: str) -> Any:
    from pipeline.devpki import DevPki

    return DevPki.load(directory) if (directory / "pki.json").exists() else DevPki.generate(directory, name=name)


def _review_paraf_sign(svc: Any, out: Path, steps: Steps, naskah_id: int, drafter: User) -> dict[str, Any]:
    """Legal review (returned once), the profile's paraf chain, then desk to desk signing."""
    from pipeline import paraf, review, signature_plan
    from pipeline.signers import Pkcs12Backend
    from pipeline.signing import SignatureAppearance, SignOptions, http_timestamper, sign_pdf, validation_context
    from pipeline.verify import verify_pdf

    with session_scope(svc.engine) as session:
        people = {
            key: _user(session, key.replace("_", "."), nama, jabatan, [role], posisi=[key])
            for key, (nama, jabatan, role) in OFFICIALS.items()
        }
    legal = people["kabag_hukum"]
    steps.run("ajukan ke Bagian Hukum", lambda: review.submit(svc, drafter, naskah_id))
    steps.run(
        "Bagian Hukum mengembalikan dengan catatan",
        lambda: review.return_for_revision(svc, legal, naskah_id, "Pasal Penutup: sebutkan jumlah rangkap."),
    )
    steps.run(
        "revisi 4: perbaikan sesuai catatan Bagian Hukum",
        lambda: revisions.render_revision(svc, drafter, naskah_id, {"jumlah_rangkap": 2}, "Perbaikan catatan Hukum"),
    )
    steps.run("ajukan ulang", lambda: review.submit(svc, drafter, naskah_id))
    steps.run("Bagian Hukum menyetujui rancangan final", lambda: review.approve(svc, legal, naskah_id))
    for key in [p.key for p in svc.profile.paraf_chain("KB")]:
        steps.run(
            f"paraf {OFFICIALS[key][1]} (setiap halaman)", lambda k=key: paraf.give_paraf(svc, people[k], naskah_id)
        )

    pki_dir = out / "pki"
    ours = steps.run("PKI pemda (CA, TSA, OCSP) dibuat", lambda: _pki(pki_dir / "pemda", "PSrE Pemda Demo"))
    mitra = steps.run("PKI mitra (CA lain) dibuat", lambda: _pki(pki_dir / "mitra", "PSrE Mitra Demo"))
    roots = [*ours.roots, *mitra.roots]
    (pki_dir / "roots.pem").write_bytes(ours.roots_pem.read_bytes() + mitra.roots_pem.read_bytes())
    svc.trust_roots, svc.tsa_url = roots, ours.tsa_url
    with ours.serve(), mitra.serve():
        steps.run(
            "rencana tanda tangan: desk to desk",
            lambda: signature_plan.create_plan(svc, drafter, naskah_id, signature_plan.PlanInput(mode="desk")),
        )
        exported = steps.run(
            "ekspor PDF final untuk mitra", lambda: signature_plan.export_current(svc, drafter, naskah_id)
        )
        walikota = mitra.issue_person("H. Rahmad Mas'ud, S.E., M.E.")

        def partner_signs() -> bytes:  # in the partner's own system: their CA, their TSA, plain pyHanko
            with Pkcs12Backend(data=walikota.to_pkcs12("mitra")).open("mitra") as session:
                return sign_pdf(
                    exported,
                    session.signer,
                    SignatureAppearance(
                        nama="H. Rahmad Mas'ud, S.E., M.E.",
                        jabatan="Wali Kota Balikpapan",
                        tanggal=date.today(),
                        reference="naskah-mitra",
                    ),
                    SignOptions(field_name="ttd_pihak_2", location="Balikpapan"),
                    timestamper=http_timestamper(mitra.tsa_url),
                    validation_context=validation_context(mitra.roots),
                )

        returned = steps.run("mitra menandatangani di sistemnya (CA lain)", partner_signs)
        steps.run(
            "impor berkas mitra: hanya tanda tangan mitra yang ditambahkan",
            lambda: signature_plan.import_signed(svc, drafter, naskah_id, returned),
        )
        bupati_cert = ours.issue_person(OFFICIALS["bupati"][0])
        p12 = bupati_cert.to_pkcs12("demo-bupati")
        steps.run(
            "Bupati menandatangani (PKCS#12, B-LT, mengunci naskah)",
            lambda: signature_plan.sign_step(
                svc, people["bupati"], naskah_id, Pkcs12Backend(data=p12), "demo-bupati", location="Tanah Grogot"
            ),
        )
        with session_scope(svc.engine) as session:
            plan = signature_plan.get_plan(session, naskah_id)
            assert plan is not None
            current = signature_plan.current_file(session, plan)
            plan_steps = signature_plan.steps_of(session, plan)
            chain = paraf.active_paraf(session, naskah_id)
            status = cases.get_naskah(session, drafter, naskah_id).status
        signed_pdf = svc.get(current.key, current.version_id, current.sha256)
        report = steps.run("verifikasi semua tanda tangan", lambda: verify_pdf(signed_pdf, roots))
    final_path = out / "naskah" / "kb-ditandatangani.pdf"
    final_path.write_bytes(signed_pdf)
    return {
        "status": status,
        "paraf": [
            {"nama": p.nama, "jabatan": p.jabatan, "inisial": p.inisial, "waktu": p.waktu.isoformat()} for p in chain
        ],
        "signatures": [
            {
                "signer": s.signer_subject or s.nama,
                "waktu": s.signed_at.isoformat() if s.signed_at else None,
                "mode": "desk" if s.external else "server",
            }
            for s in plan_steps
        ],
        "final_pdf": str(final_path.relative_to(out)),
        "sha256": current.sha256,
        "verification": report.bottom_line,
    }


def _summary(diff: dict[str, Any]) -> str:
    c = diff["counts"]
    return f"{c['insert']} paragraf ditambah, {c['delete']} dihapus, {c['replace']} diubah"


def _user(
    session: Any, username: str, nama: str, jabatan: str, roles: list[str], posisi: list[str] | None = None
) -> User:
    from sqlmodel import select

    existing = session.exec(select(User).where(User.username == username)).first()
    return existing or create_user(
        session, username=username, nama=nama, jabatan=jabatan, roles=roles, posisi=posisi or []
    )
