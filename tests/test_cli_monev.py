"""``naskah monev …``: the same rules as the API from the command line, refusals with the exit code of
the error table, the evaluation report written as XLSX."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import typer
from openpyxl import load_workbook
from PIL import Image
from typer.testing import CliRunner

from api.cli_monev import monev_app
from pipeline.auth import create_user
from pipeline.sop import load_profile
from storage.db import make_engine, session_scope, upgrade
from tests.test_recap import add_arsip

runner = CliRunner()
cli = typer.Typer()
cli.add_typer(monev_app, name="monev")


def invoke(*args: str):
    return runner.invoke(cli, ["monev", *args])


@pytest.fixture
def env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("NASKAH_DATABASE_URL", url)
    monkeypatch.setenv("NASKAH_STORAGE_URL", f"file:{tmp_path}/objects")
    monkeypatch.setenv("NASKAH_SOP_PROFILE", "paser")
    engine = make_engine(url)
    upgrade(engine)
    today = dt.datetime.now(load_profile("paser").tz).date()
    arsip_id, _ = add_arsip(
        engine, mulai=today - dt.timedelta(days=300), tanggal_ttd=today - dt.timedelta(days=300),
        selesai=today + dt.timedelta(days=900), opd="Dinas Lingkungan Hidup",
    )  # fmt: skip
    with session_scope(engine) as session:
        create_user(
            session, username="kabag", nama="Kabag", jabatan="Kabag", roles=["paraf"], posisi=["kabag_pemerintahan"]
        )
        create_user(
            session, username="katim", nama="Katim", jabatan="Kasubbag", roles=["drafter"], posisi=["kasubbag_humas_ks"]
        )
        create_user(
            session,
            username="dlh",
            nama="Kadis DLH",
            jabatan="Kepala Dinas",
            roles=["signer"],
            opd="Dinas Lingkungan Hidup",
        )
    engine.dispose()
    return {"arsip_id": arsip_id, "today": today}


def test_a_round_from_the_command_line_with_refusals_alerts_and_the_report(env, tmp_path):
    today = env["today"]
    r = invoke("peringatan", "--json")
    assert r.exit_code == 0, r.output
    assert [a["kind"] for a in json.loads(r.output)] == ["tanpa_laporan"]

    start = (today - dt.timedelta(days=90)).isoformat()
    args = ["tugaskan", str(env["arsip_id"]), "--surat-perintah", "SP/1", "--ketua-tim", "katim",
            "--periode-mulai", start, "--periode-selesai", today.isoformat()]  # fmt: skip
    refused = invoke(*args, "--sebagai", "katim")
    assert refused.exit_code == 4 and "Kepala Bagian Pemerintahan" in refused.output
    r = invoke(*args, "--sebagai", "kabag")
    assert r.exit_code == 0, r.output
    assert "Monev 1:" in r.output and "Persiapan" in r.output
    r = invoke("jadwal", "1", "--bahan", "Data", "--jadwal", today.isoformat(), "--sebagai", "katim")
    assert r.exit_code == 0 and "Menunggu laporan monitoring OPD" in r.output
    photo = tmp_path / "foto.png"
    Image.new("RGB", (64, 64), "green").save(photo)
    r = invoke("lapor", "1", "--realisasi", "Berjalan", "--kendala", "Tidak ada", "--manfaat", "Bersih",
               "--rekomendasi", "Lanjutkan", "--lampiran", str(photo), "--sebagai", "dlh")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "lampiran [1]: foto.png sha256" in r.output
    assert json.loads(invoke("peringatan", "--json").output) == []
    bad = invoke("olah", "1", "--hasil-olah", "x", "--sebagai", "dlh")
    assert bad.exit_code == 4

    out = tmp_path / "evaluasi.xlsx"
    r = invoke(
        "laporan",
        "--dari",
        (today - dt.timedelta(days=7)).isoformat(),
        "--sampai",
        today.isoformat(),
        "--keluar",
        str(out),
    )
    assert r.exit_code == 0, r.output
    assert load_workbook(out)["Evaluasi"]["G5"].value == "Berjalan"
    assert invoke("laporan", "--dari", "2026-02-01", "--sampai", "2026-01-01", "--keluar", str(out)).exit_code == 2
