"""The ``naskah`` command line: real files out, clear messages and non-zero exits on bad input."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from api.cli import app
from pipeline.drafting.diff import docx_paragraphs
from pipeline.drafting.templates import sample_data
from pipeline.sop import load_profile
from pipeline.terbilang import tanggal_terbilang

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("NASKAH_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("NASKAH_STORAGE_URL", f"file:{tmp_path}/objects")
    monkeypatch.setenv("NASKAH_CONVERTER", "cold")
    return tmp_path


def write_json(path: Path, data) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
    return path


def test_render_writes_docx_and_pdfa(env):
    data = write_json(env / "kb.json", sample_data("KB"))
    result = runner.invoke(
        app, ["render", "kb/standar", "--data", str(data), "--out", str(env / "out"), "--converter", "cold"]
    )
    assert result.exit_code == 0, result.output
    assert (env / "out" / "kb-standar.docx").read_bytes().startswith(b"PK")
    assert (env / "out" / "kb-standar.pdf").read_bytes().startswith(b"%PDF-")
    assert "PDF/A-2b" in result.output


def test_render_reports_missing_fields_and_exits_non_zero(env):
    data = write_json(env / "kb.json", {"judul": "Sesuatu"})
    result = runner.invoke(app, ["render", "kb/standar", "--data", str(data), "--out", str(env / "out")])
    assert result.exit_code == 2
    assert "Galat" in result.output and "tanggal" in result.output
    assert not (env / "out").exists()


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (["render", "kb/tidakada", "--data", "{data}", "--out", "{out}"], 3, "tidak ditemukan"),
        (["render", "{tmp}/tidakada.docx", "--data", "{data}", "--out", "{out}"], 2, "tidak ditemukan"),
        (["render", "kb/standar", "--data", "{tmp}/nope.json", "--out", "{out}"], 2, "tidak ditemukan"),
        (["render", "kb/standar", "--data", "{bad}", "--out", "{out}"], 2, "bukan JSON"),
    ],
)
def test_render_bad_arguments_get_a_clear_message(env, args, code, text):
    (env / "bad.json").write_text("{tidak json", encoding="utf-8")
    write_json(env / "ok.json", sample_data("KB"))
    fill = {"data": str(env / "ok.json"), "out": str(env / "out"), "tmp": str(env), "bad": str(env / "bad.json")}
    result = runner.invoke(app, [a.format(**fill) for a in args])
    assert result.exit_code == code, result.output
    assert text in result.output


def test_user_add_prints_a_token_once_and_refuses_duplicates(env):
    args = ["user", "add", "analis.tapem", "--nama", "Rina", "--jabatan", "Analis", "--role", "drafter"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "nsk_" in result.output
    again = runner.invoke(app, args)
    assert again.exit_code != 0 and "sudah ada" in again.output
    bad = runner.invoke(app, ["user", "add", "x.y", "--nama", "A", "--jabatan", "B", "--role", "raja"])
    assert bad.exit_code == 2 and "tidak dikenal" in bad.output


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "naskah"
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "render" in out.stdout and "demo" in out.stdout


def report_shape(report: dict) -> dict:
    """What must be the same on every run of the demo (not hashes or times)."""
    return {
        "naskah": [
            {
                "id": n["id"],
                "jenis": n["jenis"],
                "status": n["status"],
                "verification": n["verification"],
                "nomor": n["nomor"],
                "counts": [len(n["revisions"]), len(n["paraf"]), len(n["signatures"])],
                "arsip": [n["arsip"]["id"], n["arsip"]["verification"]],
            }
            for n in report["naskah"]
        ],
        "arsip_search": (report["arsip_search"]["count"], [r["id"] for r in report["arsip_search"]["data"]]),
        "recap": [(r["no"], r["jenis"], r["nomor"]) for r in report["recap"]],
        "audit": (report["audit"]["ok"], report["audit"]["count"]),
        "steps": [s["step"] for s in report["steps"]],
        "usulan": (
            report["usulan"]["id"],
            report["usulan"]["kerja_sama_id"],
            [b["kind"] for b in report["usulan"]["berkas"]],
        ),
        "mail": [m["file"] for m in report["mail"]["data"]],
    }


def pdftotext(path: Path) -> str:
    """The text of a PDF as poppler reads it (a tool the project did not write), whitespace folded."""
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return " ".join(text.split())


def check_intake(out: Path, report: dict, result_output: str) -> None:
    """The demo starts from Kota Balikpapan's penawaran: recorded with a real letter and KAK, disposed down
    the profile's chain with notes, studied, discussed in a TKKSD rapat, approved by the Bupati; the case
    that approval opened is the one the KB, SK and PKS are drafted in; the letters are in usulan/."""
    from sqlmodel import col, select

    from pipeline.models import KerjaSama, Naskah, User, Usulan
    from storage.db import make_engine, session_scope

    usulan = report["usulan"]
    assert usulan["jenis"] == "penawaran" and usulan["status"] == "disetujui" and usulan["jenis_kerja_sama"] == "KSDD"
    assert usulan["pengirim"] == "Pemerintah Kota Balikpapan" and usulan["kelengkapan"]["lengkap"] is True
    riwayat = usulan["riwayat"]
    assert [e["action"] for e in riwayat] == [
        "catat",
        "disposisi",
        "disposisi",
        "disposisi",
        "telaah",
        "jadwalkan_rapat",
        "catat_rapat",
        "rekomendasi",
        "setujui",
    ]
    disposisi = [e for e in riwayat if e["action"] == "disposisi"]
    assert [(e["oleh"], e["posisi"], e["kepada"]) for e in disposisi] == [
        ("bupati", "bupati", "sekda"),
        ("sekda", "sekda", "kabag_pemerintahan"),
        ("kabag.pemerintahan", "kabag_pemerintahan", "analis_ks"),
    ]
    assert all(e["note"] for e in disposisi) and riwayat[-1]["oleh"] == "bupati"
    assert usulan["rapat"]["rekomendasi"] == "setuju"
    assert usulan["rapat"]["peserta"][:2] == ["Dinas Lingkungan Hidup Kabupaten Paser", "Pemerintah Kota Balikpapan"]
    berkas = {b["kind"]: b for b in usulan["berkas"]}
    assert list(berkas) == ["surat", "kak", "undangan", "berita_acara", "balasan"]
    for b in berkas.values():
        data = (out / b["pdf"]).read_bytes()
        assert data.startswith(b"%PDF-") and hashlib.sha256(data).hexdigest() == b["sha256"]
        if b["kind"] not in ("surat", "kak"):
            assert (out / b["docx"]).read_bytes().startswith(b"PK") and b["nomor"]
    surat = pdftotext(out / berkas["surat"]["pdf"])
    assert "WALI KOTA BALIKPAPAN" in surat and usulan["surat_nomor"] in surat and "Penawaran Kerja Sama" in surat
    assert "KERANGKA ACUAN KERJA" in pdftotext(out / berkas["kak"]["pdf"])
    undangan = pdftotext(out / berkas["undangan"]["pdf"])
    assert "Undangan Rapat TKKSD" in undangan and "Badan Perencanaan Pembangunan Daerah" in undangan
    ba = pdftotext(out / berkas["berita_acara"]["pdf"])
    assert "BERITA ACARA" in ba and "TPA Sampah Regional Kuaro" in ba and usulan["surat_nomor"] in ba
    assert "bersedia bekerja sama" in pdftotext(out / berkas["balasan"]["pdf"])
    assert "disposisi Bupati Paser → Sekretaris Daerah" in result_output
    assert "berita acara rapat TKKSD" in result_output

    engine = make_engine(f"sqlite:///{out / 'naskah.db'}")
    try:
        with session_scope(engine) as session:
            row = session.exec(select(Usulan)).one()
            assert row.kerja_sama_id == usulan["kerja_sama_id"]
            ksdd = session.exec(select(KerjaSama).where(KerjaSama.jenis == "KSDD")).all()
            assert [c.id for c in ksdd] == [usulan["kerja_sama_id"]]  # no other case was created for the KB
            analis = session.exec(select(User).where(User.username == "analis.tapem")).one()
            assert ksdd[0].created_by == analis.id and ksdd[0].judul == usulan["perihal"]
            drafted = session.exec(select(Naskah).where(col(Naskah.jenis).in_(["KB", "SK", "PKS"]))).all()
            assert len(drafted) == 3 and {n.kerja_sama_id for n in drafted} == {usulan["kerja_sama_id"]}
    finally:
        engine.dispose()


def check_mail(out: Path, report: dict) -> None:
    """Every mail queued in the notifikasi table is a .eml file in mail/, as the SMTP sender would send it
    (From, To, Subject, a Date: when it was queued, text and HTML), listed in mail/index.md."""
    import email
    import email.policy
    import email.utils

    from sqlmodel import col, select

    from pipeline.models import Notifikasi, User, as_utc
    from storage.db import make_engine, session_scope

    mail = report["mail"]
    files = sorted((out / "mail").glob("*.eml"))
    assert mail["count"] == len(files) == len(mail["data"]) > 20
    index = (out / mail["index"]).read_text(encoding="utf-8")
    engine = make_engine(f"sqlite:///{out / 'naskah.db'}")
    try:
        with session_scope(engine) as session:
            users = {u.id: u for u in session.exec(select(User)).all()}
            queued = session.exec(
                select(Notifikasi).where(Notifikasi.mail_status == "antre").order_by(col(Notifikasi.id))
            ).all()
            assert len(queued) == len(files) and mail["hanya_kotak_masuk"] == 0
            kinds = {n.kind for n in queued}
            for row, path, entry in zip(queued, files, mail["data"], strict=True):
                raw = path.read_bytes()
                assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # RFC 5322 line ends
                msg = email.message_from_bytes(raw, policy=email.policy.default)
                assert msg["To"] == users[row.user_id].email == entry["kepada"]
                assert msg["To"].endswith(".example") and msg["Auto-Submitted"] == "auto-generated"
                assert msg["Subject"] == row.subject and msg["From"] and msg["Message-ID"]
                assert email.utils.parsedate_to_datetime(msg["Date"]) == as_utc(row.created_at).replace(microsecond=0)
                assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n").strip() == row.body_text.strip()
                assert msg.get_body(("html",)).get_content().replace("\r\n", "\n").strip() == row.body_html.strip()
                assert row.kind.replace("_", "-") in path.name and users[row.user_id].username in path.name
                assert path.name in index
    finally:
        engine.dispose()
    assert {"telaah", "paraf", "tanda_tangan", "arsip"} <= kinds


@pytest.mark.slow
def test_demo_runs_and_writes_report(env):
    out = env / "demo"
    today = dt.datetime.now(load_profile("paser").tz).date()
    # a kerja sama cannot start before the Bupati approves it (today): refused before anything is made
    past = runner.invoke(app, ["demo", "--out", str(out), "--tanggal", (today - dt.timedelta(days=1)).isoformat()])
    assert past.exit_code == 2 and "sebelum hari ini" in past.output, past.output
    assert not out.exists()
    result = runner.invoke(app, ["demo", "--out", str(out), "--tanggal", today.isoformat()])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    first_shape = report_shape(report)
    check_intake(out, report, result.output)
    check_mail(out, report)
    kb, sk, pks, nk = report["naskah"]
    assert [n["jenis"] for n in report["naskah"]] == ["KB", "SK", "PKS", "NK"]
    for entry in report["naskah"]:
        assert entry["status"] == "archived" and entry["verification"] == "ok", entry
        original = (out / entry["arsip"]["file"]).read_bytes()
        assert hashlib.sha256(original).hexdigest() == entry["arsip"]["sha256"]
        assert entry["arsip"]["verification"] == "ok" and entry["arsip"]["document_timestamps"] == 1
        assert entry["arsip"]["renew_before"] > dt.datetime.now(dt.UTC).isoformat()
        assert len(entry["paraf"]) == 3 and entry["revisions"] and entry["nomor"]["1"]
        assert hashlib.sha256((out / entry["final_pdf"]).read_bytes()).hexdigest() == entry["sha256"]
    # the PKS is signed tatap muka, PIHAK KESATU by the Kepala Dinas under the signed Surat Kuasa
    assert [(s["plan"], s["mode"]) for s in pks["signatures"]] == [("tatap_muka", "server"), ("tatap_muka", "kuasa")]
    assert "Budi Santoso" in pks["signatures"][1]["signer"]
    attached = PdfReader(out / pks["final_pdf"]).attachments
    assert [data for data in attached.values()] == [[(out / sk["final_pdf"]).read_bytes()]]
    assert nk["nomor"]["2"].startswith("MOU/")
    assert report["audit"]["ok"] and report["audit"]["count"] > 50
    assert report["arsip_search"]["count"] == 3  # KB, SK and PKS of the waste cooperation; not the NK
    recap = [(r["jenis_kerja_sama"], r["jenis"]) for r in report["recap"]]
    assert recap == [("KSDD", "KB"), ("KSDD", "PKS"), ("KSIV", "NK")]  # a Surat Kuasa is not an agreement
    assert (out / "rekap.xlsx").read_bytes().startswith(b"PK") and (out / "rekap.csv").stat().st_size > 0
    # the demo ends with one monev round on the archived KB, closed, and its evaluation report
    assert report["monev"]["status"] == "selesai"
    assert (out / report["monev"]["xlsx"]).read_bytes().startswith(b"PK")
    assert (out / report["monev"]["pdf"]).read_bytes().startswith(b"%PDF")
    assert kb["jenis"] == "KB" and [r["n"] for r in kb["revisions"]] == [1, 2, 3, 4]
    assert [r["source"] for r in kb["revisions"]] == ["rendered", "rendered", "uploaded", "rendered"]
    assert [p["jabatan"] for p in kb["paraf"]] == ["Kepala Bagian Pemerintahan", "Asisten Umum", "Sekretaris Daerah"]
    assert [s["mode"] for s in kb["signatures"]] == ["desk", "server"] and all(s["waktu"] for s in kb["signatures"])
    assert kb["verification"] == "ok"
    signed = (out / kb["final_pdf"]).read_bytes()
    assert hashlib.sha256(signed).hexdigest() == kb["sha256"]
    verified = runner.invoke(app, ["verify", str(out / kb["final_pdf"]), "--trust", str(out / "pki" / "roots.pem")])
    assert verified.exit_code == 0 and "2 tanda tangan" in verified.output
    untrusted = runner.invoke(
        app, ["verify", str(out / kb["final_pdf"]), "--trust", str(out / "pki" / "mitra" / "roots.pem")]
    )
    assert untrusted.exit_code != 0
    text = " ".join(docx_paragraphs((out / kb["revisions"][0]["docx"]).read_bytes()))
    # signed today, so every naskah states today (WITA) as its date; the KB, desk to desk, claims no one place
    assert report["tanggal"] == today.isoformat() and report["mulai"] == today.isoformat()
    assert f"Pada hari ini {tanggal_terbilang(today)}, yang bertanda tangan di bawah ini:" in text
    assert "bertempat di" not in text
    # the case the intake opened carries our office address from the profile: both parties "berkedudukan di"
    assert "berkedudukan di Jalan Jenderal Sudirman Nomor 27, Tanah Grogot" in text
    assert "berkedudukan di Jalan Jenderal Sudirman Nomor 1, Balikpapan" in text
    assert all(s["tanggal_ttd"] == today.isoformat() and not s["catatan_tanggal"] for s in kb["signatures"])
    assert (out / "naskah.db").exists() and (out / "objects").is_dir()
    # revision 4 is rendered from data only after the drafter confirmed dropping revision 3's Word edits
    refused = kb["word_edits_refused"]
    assert refused["reason"] == "word_edits_would_be_lost" and refused["uploaded_revisions"] == [3]
    assert any(p.startswith("Catatan koreksi") for p in refused["lost_paragraphs"]), refused
    assert kb["diffs"]["2..4"]["insert"] + kb["diffs"]["2..4"]["replace"] > 0  # not a copy of revision 2
    assert "revisi 4 dari data ditolak" in result.output and "akan hilang: Catatan koreksi" in result.output
    # every demo account has a random web password, printed once and in report.json, that signs in
    accounts = {a["username"]: a for a in report["accounts"]}
    assert {"analis.tapem", "kabag.hukum", "sekda", "bupati", "sekretariat.tkksd"} <= set(accounts)
    assert accounts["kabag.hukum"]["roles"] == ["legal"] and accounts["kabag.hukum"]["jabatan"]
    assert len({a["password"] for a in accounts.values()}) == len(accounts)
    assert all(len(a["password"]) >= 12 and a["password"] in result.output for a in accounts.values())
    from pipeline.signin import SessionPolicy, sign_in
    from storage.db import make_engine, session_scope

    engine = make_engine(f"sqlite:///{out / 'naskah.db'}")
    with session_scope(engine) as session:
        user = sign_in(
            session,
            "analis.tapem",
            accounts["analis.tapem"]["password"],
            "127.0.0.1",
            policy=SessionPolicy(),
            tz=dt.UTC,
        )
        assert user.password_hash.startswith("$argon2id$")
    engine.dispose()
    bad = runner.invoke(app, ["demo", "--out", str(out), "--tanggal", "23-11-2026"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output

    # a second run into the same folder starts clean: the same records, not twice as many
    again = runner.invoke(app, ["demo", "--out", str(out), "--tanggal", today.isoformat()])
    assert again.exit_code == 0, again.output
    second = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report_shape(second) == first_shape
    assert {a["password"] for a in second["accounts"]}.isdisjoint(a["password"] for a in accounts.values())
    # a file the demo did not make is never deleted: the run is refused instead
    (out / "catatan-saya.txt").write_text("jangan dihapus", encoding="utf-8")
    refused_run = runner.invoke(app, ["demo", "--out", str(out)])
    assert refused_run.exit_code == 2 and "catatan-saya.txt" in refused_run.output, refused_run.output
    assert (out / "catatan-saya.txt").read_text(encoding="utf-8") == "jangan dihapus"
    assert (out / "report.json").exists()  # nothing of the earlier run was removed either


def test_demo_refuses_a_folder_it_did_not_make(env):
    from api.demo import prepare_out

    mine = env / "dokumen"
    (mine / "naskah").mkdir(parents=True)  # a name the demo also uses, but not made by the demo
    (mine / "naskah" / "surat.docx").write_bytes(b"punya saya")
    result = runner.invoke(app, ["demo", "--out", str(mine)])
    assert result.exit_code == 2 and "tidak dibuat demo" in result.output, result.output
    assert (mine / "naskah" / "surat.docx").read_bytes() == b"punya saya"
    # a folder an interrupted demo left (marker still "running") is the demo's own: cleaned
    interrupted = env / "terputus"
    prepare_out(interrupted)
    (interrupted / "naskah.db").write_bytes(b"setengah")
    (interrupted / "objects").mkdir()
    prepare_out(interrupted)
    assert sorted(p.name for p in interrupted.iterdir()) == [".naskah-demo.json"]


def test_render_refuses_a_template_that_reaches_python_internals(env):
    from docx import Document

    doc = Document()
    doc.add_paragraph("{{ judul.__class__.__mro__ }}")
    path = env / "jahat.docx"
    doc.save(path)
    data = write_json(env / "d.json", {"judul": "x"})
    result = runner.invoke(app, ["render", str(path), "--data", str(data), "--out", str(env / "out")])
    assert result.exit_code == 2, result.output
    assert "Galat" in result.output and not (env / "out").exists()


def test_render_refuses_a_template_with_a_syntax_error(env):
    from docx import Document

    doc = Document()
    doc.add_paragraph("{% if judul %}tanpa penutup")
    path = env / "rusak.docx"
    doc.save(path)
    data = write_json(env / "d.json", {"judul": "x"})
    result = runner.invoke(app, ["render", str(path), "--data", str(data), "--out", str(env / "out")])
    assert result.exit_code == 2 and "Galat" in result.output


def test_naskah_commands_print_no_warning():
    """cryptography 51 deprecates DSA and pyHanko imports its key class: no command may print that warning."""
    exe = Path(sys.executable).parent / "naskah"
    for args in (["--help"], ["user", "--help"], ["verify", "--help"]):
        out = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert "Warning" not in out.stderr and "deprecated" not in out.stderr, out.stderr


def test_user_list_token_and_revoke(env):
    from sqlmodel import Session

    from pipeline.auth import authenticate
    from pipeline.errors import Unauthenticated
    from storage.db import make_engine

    def token_of(output: str) -> str:
        return next(line for line in output.splitlines() if line.startswith("nsk_"))

    add = ["user", "add", "analis.tapem", "--nama", "Rina Wulandari, S.H.", "--jabatan", "Analis", "--role", "drafter"]
    first = runner.invoke(app, add)
    assert first.exit_code == 0, first.output
    add = ["user", "add", "sekda", "--nama", "Dr. Katsul", "--jabatan", "Sekretaris Daerah", "--role", "paraf"]
    runner.invoke(app, [*add, "--posisi", "sekda"])
    listing = runner.invoke(app, ["user", "list"])
    assert listing.exit_code == 0, listing.output
    rows = {line.split()[0]: line for line in listing.output.splitlines()[2:] if line.strip()}
    assert set(rows) == {"analis.tapem", "sekda"}
    assert "Rina Wulandari, S.H." in rows["analis.tapem"] and "drafter" in rows["analis.tapem"]
    assert "sekda" in rows["sekda"].split("Sekretaris Daerah")[1] and rows["sekda"].rstrip().endswith("1")

    second = runner.invoke(app, ["user", "token", "analis.tapem", "--label", "laptop"])
    assert second.exit_code == 0 and "sekali" in second.output, second.output
    old, new = token_of(first.output), token_of(second.output)
    engine = make_engine(f"sqlite:///{env}/cli.db")

    def works(token: str) -> bool:
        with Session(engine) as session:
            try:
                return authenticate(session, token).username == "analis.tapem"
            except Unauthenticated:
                return False

    assert works(old) and works(new) and old != new
    assert runner.invoke(app, ["user", "list"]).output.count("analis.tapem") == 1
    # which token to revoke: without --token-id or --all, the active tokens are listed
    ask = runner.invoke(app, ["user", "revoke", "analis.tapem"])
    assert ask.exit_code == 2 and "--token-id" in ask.output and "laptop" in ask.output, ask.output
    token_id = next(line.split()[0].lstrip("#") for line in ask.output.splitlines() if "cli" in line)
    revoked = runner.invoke(app, ["user", "revoke", "analis.tapem", "--token-id", token_id])
    assert revoked.exit_code == 0 and "dicabut" in revoked.output, revoked.output
    assert not works(old) and works(new)
    assert runner.invoke(app, ["user", "revoke", "sekda", "--token-id", token_id]).exit_code == 3  # not sekda's
    assert runner.invoke(app, ["user", "revoke", "analis.tapem", "--all"]).exit_code == 0
    assert not works(new)
    unknown = runner.invoke(app, ["user", "token", "tidak.ada"])
    assert unknown.exit_code == 3 and "tidak ditemukan" in unknown.output
    engine.dispose()


def test_dev_pki_issues_a_test_pkcs12_for_trying_signing(env):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509 import ocsp
    from cryptography.x509.oid import NameOID

    from pipeline.sign.devpki import DevPki

    pki_dir = env / "pki"
    init = runner.invoke(app, ["dev-pki", "init", str(pki_dir), "--nama", "PSrE Uji"])
    assert init.exit_code == 0, init.output
    assert (
        f"NASKAH_TRUST_ROOTS={pki_dir / 'roots.pem'}" in init.output
        and "NASKAH_TSA_URL=http://127.0.0.1:" in init.output
    )
    port = json.loads((pki_dir / "pki.json").read_text())["port"]
    env_lines = runner.invoke(app, ["dev-pki", "env", str(pki_dir)]).output.splitlines()
    assert env_lines == [
        f"export NASKAH_TRUST_ROOTS={pki_dir / 'roots.pem'}",
        f"export NASKAH_TSA_URL=http://127.0.0.1:{port}/tsa",
        f"export NASKAH_FETCH_ALLOW=127.0.0.1:{port}",  # the server may fetch its OCSP/CRL on loopback
    ]
    again = runner.invoke(app, ["dev-pki", "init", str(pki_dir)])
    assert again.exit_code == 2 and "sudah berisi PKI" in again.output
    served = DevPki.load(pki_dir)  # what `naskah dev-pki serve` holds, loaded before the p12 is issued

    out = env / "bupati.p12"
    args = ["dev-pki", "p12", str(pki_dir), "--nama", "dr. Fahmi Fadli", "--nip", "19750101 200001 1 001"]
    issued = runner.invoke(app, [*args, "--out", str(out), "--passphrase", "rahasia-uji"])
    assert issued.exit_code == 0, issued.output
    key, cert, chain = pkcs12.load_key_and_certificates(out.read_bytes(), b"rahasia-uji")
    assert key is not None and cert is not None
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "dr. Fahmi Fadli"
    assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "19750101 200001 1 001"
    roots = x509.load_pem_x509_certificates((pki_dir / "roots.pem").read_bytes())
    assert chain[-1] == roots[0]  # the chain ends at the root the server is told to trust
    # the running OCSP responder knows a certificate issued after it started
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, chain[0], hashes.SHA256()).build()
    answer = ocsp.load_der_ocsp_response(served.ocsp_response(request.public_bytes(serialization.Encoding.DER)))
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    empty = runner.invoke(app, [*args, "--out", str(env / "x.p12"), "--passphrase", ""])
    assert empty.exit_code == 2 and "Passphrase" in empty.output
