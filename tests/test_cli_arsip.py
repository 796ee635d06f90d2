"""``naskah arsip …`` and ``naskah monitoring``: real database and stores, clear exits."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os

import pytest
import typer
from openpyxl import load_workbook
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from api.cli_arsip import arsip_app, monitoring_command, tasks_command
from pipeline.auth import create_user
from pipeline.models import AuditEntry
from pipeline.sop import load_profile
from storage.db import make_engine, session_scope, upgrade
from tests.test_archive import signed_kb
from tests.test_recap import add_case, add_naskah, seed_register

runner = CliRunner()

# Mounted as api/cli.py mounts them.
cli = typer.Typer()
cli.add_typer(arsip_app, name="arsip")
cli.command("monitoring")(monitoring_command)
cli.command("tasks")(tasks_command)


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A CLI environment on its own SQLite database, seeded with a small register."""
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("NASKAH_DATABASE_URL", url)
    monkeypatch.setenv("NASKAH_STORAGE_URL", f"file:{tmp_path}/objects")
    monkeypatch.setenv("NASKAH_CONVERTER", "cold")
    engine = make_engine(url)
    upgrade(engine)
    today = dt.datetime.now(load_profile("paser").tz).date()
    ids = seed_register(engine, today)
    add_naskah(engine, add_case(engine), status="legal_review")
    with session_scope(engine) as session:
        create_user(session, username="admin.saja", nama="Admin", jabatan="Admin", roles=["admin"])
    engine.dispose()
    return ids


def invoke(*args: str):
    return runner.invoke(cli, list(args))


def test_cari_prints_a_table_or_json_with_the_search_filters(env):
    r = invoke("arsip", "cari", "--q", "balikpapan sampah", "--sort", "tanggal")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].split()[:4] == ["ID", "Jenis", "Kerja", "sama"]
    assert "Pengelolaan Sampah Regional" in lines[2] and "Pengangkutan Sampah" in lines[3]
    assert lines[-1] == "1-2 dari 2 arsip"

    r = invoke("arsip", "cari", "--jenis-kerja-sama", "KSIV", "--json")
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert body["count"] == 1 and body["data"][0]["id"] == env["ksiv"]
    assert body["data"][0]["status_masa"] == "kedaluwarsa" and "search_text" not in body["data"][0]

    r = invoke("arsip", "cari", "--masa", "segera_berakhir", "--json")
    assert [a["id"] for a in json.loads(r.output)["data"]] == [env["ksdpk"]]


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (["arsip", "cari", "--jenis", "XX"], 2, "jenis"),
        (["arsip", "cari", "--limit", "500"], 2, "limit"),
        (["arsip", "cari", "--sebagai", "tidak.ada"], 3, "tidak ditemukan"),
        (["arsip", "cari", "--sebagai", "admin.saja"], 4, "peran"),
        (["arsip", "unduh", "9999", "--out", "{tmp}/x.pdf"], 3, "tidak ditemukan"),
        (["arsip", "verifikasi", "9999"], 3, "tidak ditemukan"),
        (["arsip", "rekap", "--out", "{tmp}/rekap.txt"], 2, "--format"),
        (["arsip", "rekap", "--out", "{tmp}/r.csv", "--tanggal", "kemarin"], 2, "YYYY-MM-DD"),
    ],
)
def test_bad_arguments_get_a_message_and_the_exit_code_of_the_error_table(env, tmp_path, args, code, text):
    r = invoke(*[a.format(tmp=tmp_path) for a in args])
    assert r.exit_code == code, r.output
    assert "Galat" in r.output and text in r.output


def test_rekap_writes_csv_and_xlsx(env, tmp_path):
    r = invoke("arsip", "rekap", "--format", "csv", "--out", str(tmp_path / "rekap.csv"), "--tanggal", "2030-01-01")
    assert r.exit_code == 0, r.output
    assert "Rekap 5 naskah per 2030-01-01" in r.output
    data = (tmp_path / "rekap.csv").read_bytes()
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert table[0][:3] == ["No", "Jenis kerja sama", "Jenis naskah"] and len(table) == 6
    assert [row[1] for row in table[1:]] == ["KSDD", "KSDD", "KSDD", "KSDPK", "KSIV"]

    out = tmp_path / "sub" / "rekap.xlsx"
    r = invoke("arsip", "rekap", "--out", str(out), "--jenis-kerja-sama", "KSDD")  # format from the suffix
    assert r.exit_code == 0, r.output
    ws = load_workbook(out).active
    assert ws["A1"].value == "Rekapitulasi Kerja Sama Daerah"
    assert len([row for row in ws.iter_rows(min_row=5, values_only=True) if isinstance(row[0], int)]) == 3


def test_monitoring_prints_both_lists(env):
    r = invoke("monitoring", "--dalam-hari", "60")
    assert r.exit_code == 0, r.output
    assert "Kerja sama yang berakhir dalam 60 hari" in r.output and "KEDALUWARSA" in r.output
    assert "Naskah dalam proses: 1 (0 melewati mutu baku waktu)" in r.output and "Kepala Bagian Hukum" in r.output

    r = invoke("monitoring", "--json", "--lewat-hari", "0")
    body = json.loads(r.output)
    assert [e["arsip_id"] for e in body["kedaluwarsa"]] == [env["ksdpk"]]
    assert [(w["langkah"], w["standar"]) for w in body["proses"]] == [("legal_review", "30 menit")]
    assert body["cap_waktu"] == []  # the register's timestamps are good until 2040
    r = invoke("monitoring", "--cap-waktu-hari", "36500")
    assert f"Cap waktu arsip yang perlu diperbarui dalam 36500 hari: {len(env)}" in r.output, r.output
    assert "perbarui-cap-waktu --margin-hari 36500" in r.output


def test_perbarui_cap_waktu_with_nothing_due(env):
    r = invoke("arsip", "perbarui-cap-waktu", "--margin-hari", "30")
    assert r.exit_code == 0, r.output
    assert "Tidak ada arsip" in r.output


@pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
def test_unduh_verifikasi_and_renewal_on_a_real_archived_original(
    signers_api, dev_pki, counterparty_pki, tmp_path, monkeypatch
):
    """The CLI on the API's own database and stores: byte-identical download, verification, renewal."""
    api = signers_api
    nid = signed_kb(api, dev_pki, counterparty_pki)
    arsip = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat")).json()
    monkeypatch.setenv("NASKAH_DATABASE_URL", f"sqlite:///{tmp_path}/naskah.db")
    monkeypatch.setenv("NASKAH_STORAGE_URL", f"file:{tmp_path}/objects")  # the archive: file:{tmp_path}/arsip
    monkeypatch.setenv("NASKAH_TRUST_ROOTS", os.pathsep.join([str(dev_pki.roots_pem), str(counterparty_pki.roots_pem)]))
    monkeypatch.setenv("NASKAH_TSA_URL", dev_pki.tsa_url)
    monkeypatch.setenv("NASKAH_CONVERTER", "cold")

    out = tmp_path / "asli.pdf"
    r = invoke("arsip", "unduh", str(arsip["id"]), "--out", str(out), "--sebagai", "u-secretariat")
    assert r.exit_code == 0, r.output
    original = api.client.get(f"/api/v1/arsip/{arsip['id']}/original.pdf", headers=api.auth("secretariat")).content
    assert out.read_bytes() == original
    assert f"sha256: {arsip['sha256']}" in r.output and hashlib.sha256(original).hexdigest() == arsip["sha256"]

    r = invoke("arsip", "verifikasi", str(arsip["id"]))
    assert r.exit_code == 0, r.output
    assert "ok" in r.output.splitlines()[0] and "B-LTA" in r.output
    assert "[cap waktu " in r.output and "dinilai pada" in r.output, r.output
    # the date the naskah states and the day of each signature (tatap muka: that very day)
    today = dt.datetime.now(load_profile("paser").tz).date().isoformat()
    assert f"tanggal naskah {today} (tatap_muka)" in r.output
    assert f"ditandatangani {today} oleh dr. Fahmi Fadli" in r.output, r.output
    r = invoke("arsip", "verifikasi", str(arsip["id"]), "--json")
    assert r.exit_code == 0 and json.loads(r.output)["ok"] is True

    with Session(api.services.engine) as session:
        entries = session.exec(
            select(AuditEntry).where(col(AuditEntry.naskah_id) == nid).order_by(col(AuditEntry.seq))
        ).all()
    actions = [(e.action, e.actor) for e in entries]
    assert ("download", "u-secretariat") in actions and ("verify", "system") in actions

    r = invoke("arsip", "perbarui-cap-waktu", "--margin-hari", "36500")
    assert r.exit_code == 0, r.output
    assert f"arsip {arsip['id']} (naskah {nid})" in r.output and "1 arsip diperbarui." in r.output
    renewed = tmp_path / "baru.pdf"
    assert invoke("arsip", "unduh", str(arsip["id"]), "--out", str(renewed)).exit_code == 0
    assert renewed.read_bytes().startswith(original) and len(renewed.read_bytes()) > len(original)
    r = invoke("arsip", "yatim")  # every stored version is recorded: the original and its renewal
    assert r.exit_code == 0 and "Tidak ada versi tanpa catatan arsip." in r.output, r.output


def test_tasks_prints_the_counters_and_what_waits_on_the_user(env):
    """``naskah tasks USER``: the counters of every kind and the naskah waiting on that user (a reviewer:
    the naskah in legal review); an unknown user or one without the read role exits as the error table says."""
    engine = make_engine(os.environ["NASKAH_DATABASE_URL"])
    with session_scope(engine) as session:
        create_user(session, username="hukum", nama="Kabag Hukum", jabatan="Kepala Bagian Hukum", roles=["legal"])
        create_user(session, username="ttd", nama="Penanda Tangan", jabatan="Bupati", roles=["signer"])
    engine.dispose()
    r = invoke("tasks", "hukum")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[0].startswith("Telaah Bagian Hukum: 1") and "Beri paraf: 0" in r.output
    assert "Telaah Bagian Hukum" in r.output.splitlines()[4]
    body = json.loads(invoke("tasks", "hukum", "--json").output)
    assert body["count"] == 1 and body["data"][0]["tugas"] == "telaah" and len(body["ringkasan"]) == 8
    r = invoke("tasks", "ttd")
    assert r.exit_code == 0 and "Tidak ada naskah yang menunggu tindakan ttd." in r.output
    assert invoke("tasks", "tidak.ada").exit_code == 3
    assert invoke("tasks", "admin.saja").exit_code == 4
