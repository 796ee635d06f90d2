"""Monitoring dan evaluasi over HTTP (``/api/v1/monev``, ``pipeline.archival.monev``): a whole round as Kota
Tangerang's monev SOP runs it (here with the Paser profile's officials), who may take which step and
why others are refused, attachments checked and stored with their sha256, the audit chain, what each
reader sees, the alerts on known dates with who must act, the decision to extend, and the evaluation
report per period as XLSX and PDF."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlmodel import col, select

from pipeline import audit
from pipeline.archival.cleanup import cleanup
from pipeline.auth import create_user, issue_token
from pipeline.models import AuditEntry, MonevLampiran
from storage.db import session_scope
from tests.test_recap import add_arsip

DBS = pytest.mark.parametrize("services", ["sqlite-local", "postgres-local"], indirect=True)
SQLITE = pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
OPD = "Dinas Lingkungan Hidup"
M = "/api/v1/monev"


def _today(api) -> dt.date:
    return dt.datetime.now(api.services.profile.tz).date()


def _people(api) -> None:
    """The monev team, two OPD officials and a counterparty's official, with tokens in ``api.tokens``."""
    with session_scope(api.services.engine) as session:
        for username, roles, posisi, opd, luar in [
            ("katim", ["drafter"], ["kasubbag_humas_ks"], None, False),
            ("analis", ["drafter"], ["analis_ks"], None, False),
            ("opd-dlh", ["signer"], [], OPD, False),
            ("opd-lain", ["signer"], [], "Dinas Pendidikan", False),
            ("mitra", ["signer"], [], None, True),
        ]:
            user = create_user(
                session,
                username=username,
                nama=f"Pejabat {username}",
                jabatan="Pejabat",
                roles=roles,
                posisi=posisi,
                opd=opd,
                pihak_luar=luar,
                instansi="Pemerintah Kota Balikpapan" if luar else None,
            )
            api.tokens[username] = issue_token(session, user)


def _agreement(api, *, mulai_ago: int = 400, ends_in: int = 1000, judul: str = "Pengelolaan Sampah Regional") -> int:
    today = _today(api)
    mulai = today - dt.timedelta(days=mulai_ago)
    arsip_id, _ = add_arsip(
        api.services.engine,
        judul=judul,
        mulai=mulai,
        tanggal_ttd=mulai,
        selesai=today + dt.timedelta(days=ends_in),
        opd=OPD,
    )
    return arsip_id


def _post(api, who: str, path: str, json: dict | None = None, **kw):
    return api.client.post(f"{M}{path}", json=json, headers=api.auth(who), **kw)


def _get(api, who: str, path: str, **params):
    return api.client.get(f"{M}{path}", params=params, headers=api.auth(who))


def _refused(response, status: int, reason: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["detail"]["reason"] == reason, body
    assert body["message"] and not body["message"].startswith("Traceback")
    return body


def _penugasan(api, **over) -> dict:
    today = _today(api)
    return {
        "surat_perintah": "800.1.11.1/123/Pem",
        "ketua_tim": "katim",
        "analis": "analis",
        "periode_mulai": (today - dt.timedelta(days=180)).isoformat(),
        "periode_selesai": today.isoformat(),
        **over,
    }


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (120, 80), (30, 120, 60)).save(buf, "PNG")
    return buf.getvalue()


def _pdf() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(buf, "PDF")
    return buf.getvalue()


LAPORAN = {
    "realisasi": "Pengangkutan sampah 12 rit per minggu ke TPA regional sudah berjalan.",
    "kendala": "Satu truk rusak selama dua minggu.",
    "manfaat": "Volume sampah di TPS berkurang 30 persen.",
    "rekomendasi": "Pengadaan satu truk cadangan.",
}


def _to_monitoring(api, arsip_id: int) -> int:
    created = _post(api, "kabag_pemerintahan", f"/kerja-sama/{arsip_id}/tugaskan", _penugasan(api))
    assert created.status_code == 201, created.text
    round_id = created.json()["id"]
    today = _today(api)
    scheduled = _post(
        api, "katim", f"/{round_id}/jadwal", {"bahan": "Data penyelenggaraan", "jadwal": today.isoformat()}
    )
    assert scheduled.status_code == 200, scheduled.text
    return round_id


def _report(api, round_id: int, who: str = "opd-dlh", files: list | None = None):
    return api.client.post(f"{M}/{round_id}/laporan", data=LAPORAN, files=files or [], headers=api.auth(who))


@DBS
def test_a_whole_round_follows_the_sop_with_each_step_by_its_official_and_in_the_audit_chain(api):
    _people(api)
    arsip_id = _agreement(api)
    today = _today(api)

    # No report since the agreement began 400 days ago (limit 180 hari): the Kabag must assign a team.
    alerts = _get(api, "kabag_pemerintahan", "/peringatan").json()
    [alert] = [a for a in alerts if a["kind"] == "tanpa_laporan"]
    assert alert["arsip_id"] == arsip_id and alert["hari"] == 400
    assert alert["pelaku"] == "Kepala Bagian Pemerintahan" and alert["giliran_saya"] is True
    assert [a["kind"] for a in _get(api, "opd-dlh", "/peringatan", saya="true").json()] == []

    # Step 1: only the Kabag assigns; the team must be ketua tim / analis of our Pemda.
    _refused(_post(api, "drafter", f"/kerja-sama/{arsip_id}/tugaskan", _penugasan(api)), 403, "not_your_step")
    _refused(
        _post(api, "kabag_pemerintahan", f"/kerja-sama/{arsip_id}/tugaskan", _penugasan(api, ketua_tim="opd-dlh")),
        422,
        "not_a_team_member",
    )
    created = _post(api, "kabag_pemerintahan", f"/kerja-sama/{arsip_id}/tugaskan", _penugasan(api))
    assert created.status_code == 201, created.text
    round_ = created.json()
    round_id = round_["id"]
    assert round_["status"] == "persiapan" and round_["ketua_tim"] == "Pejabat katim"
    assert round_["boleh"] == ["monev_batalkan"]  # the Kabag may only cancel now: the team prepares
    _refused(_post(api, "kabag_pemerintahan", f"/kerja-sama/{arsip_id}/tugaskan", _penugasan(api)), 409, "round_open")

    # Steps 2-3: the team's bahan and jadwal; the OPD's report is due 6 hari kerja after the jadwal.
    jadwal = {"bahan": "Data penyelenggaraan kerja sama", "jadwal": today.isoformat()}
    _refused(_post(api, "opd-dlh", f"/{round_id}/jadwal", jadwal), 403, "not_your_step")
    scheduled = _post(api, "katim", f"/{round_id}/jadwal", jadwal).json()
    assert scheduled["status"] == "monitoring"
    batas = dt.date.fromisoformat(scheduled["batas_laporan"])
    assert batas.weekday() < 5 and 8 <= (batas - today).days <= 10  # six working days: a weekend or two between

    # While the OPD has not reported, the alert names the OPD teknis, whose turn it is.
    [alert] = [a for a in _get(api, "opd-dlh", "/peringatan").json() if a["kind"] == "tanpa_laporan"]
    assert alert["pelaku"] == OPD and alert["giliran_saya"] is True and alert["round_id"] == round_id

    # Step 4: the OPD's report; another OPD does not even see the round; a refused file stores nothing.
    assert _report(api, round_id, "opd-lain").status_code == 404
    _refused(_report(api, round_id, "katim"), 403, "not_your_step")
    exe = [("files", ("laporan.pdf", b"MZ\x90\x00\x03" + b"\x00" * 200, "application/pdf"))]
    _refused(_report(api, round_id, files=exe), 422, "unsupported_type")
    assert _get(api, "opd-dlh", f"/{round_id}").json()["status"] == "monitoring"
    png, pdf = _png(), _pdf()
    files = [("files", ("foto.png", png, "image/png")), ("files", ("berita-acara.pdf", pdf, "application/pdf"))]
    reported = _report(api, round_id, files=files)
    assert reported.status_code == 200, reported.text
    body = reported.json()
    assert body["status"] == "pengolahan" and body["laporan"]["realisasi"] == LAPORAN["realisasi"]
    assert [(f["filename"], f["sha256"]) for f in body["lampiran"]] == [
        ("foto.png", hashlib.sha256(png).hexdigest()),
        ("berita-acara.pdf", hashlib.sha256(pdf).hexdigest()),
    ]
    with session_scope(api.services.engine) as session:
        assert len(session.exec(select(MonevLampiran)).all()) == 2  # the refused upload left no row
    download = api.client.get(f"{M}/lampiran/{body['lampiran'][0]['id']}", headers=api.auth("opd-dlh"))
    assert download.status_code == 200 and download.content == png
    assert api.client.get(f"{M}/lampiran/{body['lampiran'][0]['id']}", headers=api.auth("opd-lain")).status_code == 404

    # An incomplete report goes back with a note; the OPD reports again.
    _refused(_post(api, "katim", f"/{round_id}/kembalikan", {"catatan": ""}), 422, "note_required")
    back = _post(api, "analis", f"/{round_id}/kembalikan", {"catatan": "Lampirkan foto armada."}).json()
    assert back["status"] == "monitoring" and back["riwayat"][-1]["note"] == "Lampirkan foto armada."
    assert _report(api, round_id, files=[("files", ("armada.png", png, "image/png"))]).json()["status"] == "pengolahan"

    # Steps 5-8.
    assert _post(api, "katim", f"/{round_id}/olah", {"hasil_olah": "Rekap capaian dan kendala"}).json()["status"] == (
        "pembahasan"
    )
    evaluation = {"temuan": ["Armada kurang satu truk"], "penilaian": "cukup", "evaluasi": "Berjalan, armada kurang."}
    _refused(_post(api, "katim", f"/{round_id}/evaluasi", evaluation), 403, "not_your_step")
    assert _post(api, "kabag_pemerintahan", f"/{round_id}/evaluasi", evaluation).json()["status"] == "arahan"
    past = {
        "arahan": "Tambah armada",
        "tindak_lanjut": [{"uraian": "x", "penanggung_jawab": "analis", "tenggat": "2020-01-01"}],
    }
    _refused(_post(api, "kabag_pemerintahan", f"/{round_id}/arahan", past), 422, "due_in_past")
    arahan = {
        "arahan": "Usulkan pengadaan truk cadangan pada APBD Perubahan.",
        "tindak_lanjut": [
            {
                "uraian": "Usulan pengadaan truk",
                "penanggung_jawab": "opd_teknis",
                "tenggat": (today + dt.timedelta(days=1)).isoformat(),
            },
            {
                "uraian": "Surat kepada mitra",
                "penanggung_jawab": "analis",
                "tenggat": (today + dt.timedelta(days=2)).isoformat(),
            },
        ],
    }
    directed = _post(api, "kabag_pemerintahan", f"/{round_id}/arahan", arahan).json()
    assert directed["status"] == "tindak_lanjut"
    items = directed["tindak_lanjut"]
    assert [i["penanggung_jawab"] for i in items] == [OPD, "Pejabat analis (Pejabat)"]
    _refused(_post(api, "katim", f"/{round_id}/tutup", {"kesimpulan": "Selesai"}), 409, "tindak_lanjut_open")

    # Five days on, both items are late: each alert names whoever answers for it.
    later = (today + dt.timedelta(days=5)).isoformat()
    late = [
        a
        for a in _get(api, "kabag_pemerintahan", "/peringatan", tanggal=later).json()
        if a["kind"] == "tindak_lanjut_terlambat"
    ]
    assert [(a["pelaku"], a["hari"], a["giliran_saya"]) for a in late] == [
        (OPD, 4, False),
        ("Pejabat analis (Pejabat)", 3, False),
    ]
    mine = _get(api, "analis", "/peringatan", tanggal=later, saya="true").json()
    assert [(a["kind"], a["tindak_lanjut_id"]) for a in mine] == [("tindak_lanjut_terlambat", items[1]["id"])]

    # Step 9: each item by whoever answers for it (or the team), then the round closes.
    done = api.client.post(
        f"{M}/tindak-lanjut/{items[0]['id']}/selesai",
        data={"catatan": "Usulan dikirim ke TAPD."},
        files=[("files", ("usulan.pdf", pdf, "application/pdf"))],
        headers=api.auth("opd-dlh"),
    )
    assert done.status_code == 200, done.text
    _refused(
        api.client.post(
            f"{M}/tindak-lanjut/{items[1]['id']}/selesai", data={"catatan": "x"}, headers=api.auth("opd-dlh")
        ),
        403,
        "not_your_step",
    )
    assert (
        api.client.post(
            f"{M}/tindak-lanjut/{items[1]['id']}/selesai",
            data={"catatan": "Surat dikirim."},
            headers=api.auth("analis"),
        ).status_code
        == 200
    )
    closed = _post(api, "katim", f"/{round_id}/tutup", {"kesimpulan": "Kerja sama berjalan; armada ditambah."}).json()
    assert closed["status"] == "selesai" and closed["boleh"] == [] and closed["giliran"] == ""
    assert [e["action"] for e in closed["riwayat"]] == [
        "monev_tugaskan", "monev_jadwalkan", "monev_lapor", "monev_kembalikan", "monev_lapor",
        "monev_olah", "monev_evaluasi", "monev_arahkan", "monev_tutup",
    ]  # fmt: skip

    # Every step is in the audit chain, which still verifies; the report today clears the alert.
    with session_scope(api.services.engine) as session:
        actions = [e.action for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all()]
        assert audit.verify_chain(session).ok
    assert [a for a in actions if a.startswith("monev_")] == [
        "monev_tugaskan", "monev_jadwalkan", "monev_lapor", "monev_kembalikan", "monev_lapor", "monev_olah",
        "monev_evaluasi", "monev_arahkan", "monev_tindak_lanjut", "monev_tindak_lanjut", "monev_tutup",
    ]  # fmt: skip
    assert actions.count("download") == 1  # the attachment read by the OPD (the refused read is not one)
    assert not [a for a in _get(api, "kabag_pemerintahan", "/peringatan").json() if a["arsip_id"] == arsip_id]


@SQLITE
def test_who_sees_monev_follows_who_sees_the_agreement(api):
    _people(api)
    arsip_id = _agreement(api)
    other = _agreement(api, judul="Pendidikan Vokasi")  # the same OPD: seen by opd-dlh too
    round_id = _to_monitoring(api, arsip_id)
    for who in ("kabag_pemerintahan", "katim", "legal", "secretariat", "opd-dlh"):
        assert _get(api, who, f"/{round_id}").status_code == 200, who
        assert _get(api, who, "").json()["count"] == 1, who
    for who in ("opd-lain", "paraf"):
        assert _get(api, who, f"/{round_id}").status_code == 404, who
        assert _get(api, who, "").json() == {"data": [], "count": 0}, who
        assert _get(api, who, "/peringatan").json() == [], who
        assert _get(api, who, "/kerja-sama").json() == [], who
    for path in (f"/{round_id}", "", "/peringatan", "/kerja-sama"):  # internal: never for a counterparty
        _refused(_get(api, "mitra", path), 403, "internal_only")
    assert _get(api, "admin", "").status_code == 403  # no read role
    assert {a["arsip_id"] for a in _get(api, "opd-dlh", "/kerja-sama").json()} == {arsip_id, other}
    assert _get(api, "kabag_pemerintahan", "/999999").status_code == 404


@SQLITE
def test_refusals_give_a_reason_and_never_a_5xx(api):
    _people(api)
    today = _today(api)
    ended = _agreement(api, mulai_ago=800, ends_in=-3)
    _refused(
        _post(api, "kabag_pemerintahan", f"/kerja-sama/{ended}/tugaskan", _penugasan(api)),
        422,
        "agreement_not_in_force",
    )
    arsip_id = _agreement(api)
    bad = _post(
        api, "kabag_pemerintahan", f"/kerja-sama/{arsip_id}/tugaskan", _penugasan(api, periode_selesai="2000-01-01")
    )
    assert bad.status_code == 422 and "periode_selesai" in bad.text
    _refused(
        _post(api, "kabag_pemerintahan", f"/kerja-sama/{arsip_id}/tugaskan", _penugasan(api, ketua_tim="tidak-ada")),
        422,
        "unknown_user",
    )
    round_id = _to_monitoring(api, arsip_id)
    _refused(_post(api, "katim", f"/{round_id}/olah", {"hasil_olah": "x"}), 409, "not_available_in_state")
    _refused(_post(api, "kabag_pemerintahan", f"/{round_id}/batalkan", {"catatan": " "}), 422, "note_required")
    _refused(_post(api, "katim", f"/{round_id}/batalkan", {"catatan": "x"}), 403, "not_your_step")
    cancelled = _post(api, "kabag_pemerintahan", f"/{round_id}/batalkan", {"catatan": "Diganti jadwal baru."}).json()
    assert cancelled["status"] == "dibatalkan"
    _refused(_report(api, round_id), 409, "not_available_in_state")
    for path, params in [
        ("/laporan.xlsx", {"dari": today.isoformat(), "sampai": "2000-01-01"}),
        ("/peringatan", {"tanggal": "x"}),
    ]:
        response = _get(api, "kabag_pemerintahan", path, **params)
        assert response.status_code == 422, response.text
    too_many = [("files", (f"f{n}.png", _png(), "image/png")) for n in range(11)]
    again = _to_monitoring(api, arsip_id)  # a new round once the first is cancelled
    _refused(_report(api, again, files=too_many), 422, "too_many_files")


@SQLITE
def test_ending_agreements_need_the_kabags_decision_to_extend(api):
    _people(api)
    today = _today(api)
    soon = _agreement(api, mulai_ago=30, ends_in=60, judul="Air Minum Regional")
    later = _agreement(api, mulai_ago=30, ends_in=400, judul="Jalan Perbatasan")
    kinds = [(a["kind"], a["arsip_id"], a["hari"]) for a in _get(api, "kabag_pemerintahan", "/peringatan").json()]
    assert kinds == [("perpanjangan", soon, 60)]
    # 230 days before its end the later one enters the 180-day window on that day, not before.
    day = (today + dt.timedelta(days=400 - 180)).isoformat()
    before = (today + dt.timedelta(days=400 - 181)).isoformat()
    assert later in [
        a["arsip_id"]
        for a in _get(api, "kabag_pemerintahan", "/peringatan", tanggal=day).json()
        if a["kind"] == "perpanjangan"
    ]
    assert later not in [
        a["arsip_id"]
        for a in _get(api, "kabag_pemerintahan", "/peringatan", tanggal=before).json()
        if a["kind"] == "perpanjangan"
    ]
    decision = {"keputusan": "diperpanjang", "catatan": "Disusun addendum perpanjangan lima tahun."}
    _refused(_post(api, "drafter", f"/kerja-sama/{soon}/perpanjangan", decision), 403, "not_your_step")
    assert _post(api, "opd-lain", f"/kerja-sama/{soon}/perpanjangan", decision).status_code == 404
    done = _post(api, "kabag_pemerintahan", f"/kerja-sama/{soon}/perpanjangan", decision)
    assert done.status_code == 200 and done.json()["label"] == "Diperpanjang"
    assert [a for a in _get(api, "kabag_pemerintahan", "/peringatan").json() if a["kind"] == "perpanjangan"] == []
    listed = {a["arsip_id"]: a for a in _get(api, "opd-dlh", "/kerja-sama").json()}
    assert listed[soon]["perpanjangan"]["keputusan"] == "diperpanjang" and listed[later]["perpanjangan"] is None


@SQLITE
def test_the_evaluation_report_per_period_as_xlsx_and_pdf(api, tmp_path: Path):
    _people(api)
    today = _today(api)
    arsip_id = _agreement(api)
    round_id = _to_monitoring(api, arsip_id)
    png = _png()
    reported = _report(api, round_id, files=[("files", ("foto.png", png, "image/png"))]).json()
    # housekeeping keeps the report's attachment: a row points at it
    report = cleanup(api.services, min_age=dt.timedelta(0))
    assert not [v for v in report.removed if v.key.startswith("monev/")]
    assert not [v for v in report.foreign if v.key.startswith("monev/")]
    lampiran = reported["lampiran"][0]["id"]
    assert api.client.get(f"{M}/lampiran/{lampiran}", headers=api.auth("katim")).content == png
    _agreement(api, mulai_ago=10, ends_in=30, judul="Air Minum Regional")  # an alert (perpanjangan) in the report
    period = {"dari": (today - dt.timedelta(days=30)).isoformat(), "sampai": today.isoformat()}

    xlsx = _get(api, "kabag_pemerintahan", "/laporan.xlsx", **period)
    assert xlsx.status_code == 200, xlsx.text
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames == ["Evaluasi", "Tindak lanjut", "Peringatan", "Ringkasan"]
    ws = wb["Evaluasi"]
    assert ws["A1"].value == "Laporan Evaluasi Kerja Sama Daerah" and ws.freeze_panes == "A5"
    row = [c.value for c in ws[5]]
    assert row[1] == "Pengelolaan Sampah Regional (KB)" and row[2] == OPD and row[6] == LAPORAN["realisasi"]
    assert ws.max_row == 5
    kinds = [c.value for c in wb["Peringatan"]["B"][4:]]
    assert "Segera berakhir, belum ada keputusan perpanjangan" in kinds
    assert (
        dict((r[0].value, r[1].value) for r in wb["Ringkasan"].iter_rows(min_row=5))[
            "Monitoring dan evaluasi dalam periode"
        ]
        == 1
    )

    # A period before the round: no row.  Another OPD's reader: nothing of this OPD.
    empty = load_workbook(
        io.BytesIO(_get(api, "kabag_pemerintahan", "/laporan.xlsx", dari="2020-01-01", sampai="2020-12-31").content)
    )
    assert empty["Evaluasi"].max_row == 4
    theirs = load_workbook(io.BytesIO(_get(api, "opd-lain", "/laporan.xlsx", **period).content))
    assert theirs["Evaluasi"].max_row == 4 and theirs["Peringatan"].max_row == 4

    pdf = _get(api, "kabag_pemerintahan", "/laporan.pdf", **period)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    path = tmp_path / "evaluasi.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True).stdout
    assert "LAPORAN EVALUASI KERJA SAMA DAERAH" in text
    assert "Pengelolaan Sampah Regional" in text and "Berakhir" in text
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(path), str(tmp_path / "page")], check=True)
    assert list(tmp_path.glob("page*.png"))


@SQLITE
def test_my_monev_lists_the_steps_and_alerts_that_wait_on_me(api):
    _people(api)
    today = _today(api)
    arsip_id = _agreement(api)
    mine = _get(api, "kabag_pemerintahan", "/saya").json()
    assert mine["langkah"] == [] and [a["kind"] for a in mine["peringatan"]] == ["tanpa_laporan"]
    round_id = _to_monitoring(api, arsip_id)
    [step] = _get(api, "opd-dlh", "/saya").json()["langkah"]
    assert step["round_id"] == round_id and step["langkah"] == ["monev_lapor"] and step["terlambat"] is False
    assert step["langkah_label"] == "menyampaikan laporan monitoring"
    for who in ("katim", "kabag_pemerintahan", "opd-lain"):
        assert _get(api, who, "/saya").json()["langkah"] == [], who
    _report(api, round_id)
    assert [s["langkah"] for s in _get(api, "katim", "/saya").json()["langkah"]] == [["monev_kembalikan", "monev_olah"]]
    _post(api, "katim", f"/{round_id}/olah", {"hasil_olah": "Rekap"})
    _post(api, "kabag_pemerintahan", f"/{round_id}/evaluasi", {"penilaian": "baik", "evaluasi": "Baik"})
    item = {"uraian": "Surat kepada mitra", "penanggung_jawab": "analis", "tenggat": today.isoformat()}
    _post(api, "kabag_pemerintahan", f"/{round_id}/arahan", {"arahan": "Lanjutkan", "tindak_lanjut": [item]})
    [step] = _get(api, "analis", "/saya").json()["langkah"]
    assert step["langkah"] == ["tindak_lanjut"] and step["langkah_label"] == "selesaikan tindak lanjut nomor 1"
    assert _get(api, "opd-dlh", "/saya").json()["langkah"] == []
    _refused(_get(api, "mitra", "/saya"), 403, "internal_only")


def test_dates_at_the_ends_of_the_calendar_are_refused_or_answered_never_a_5xx(api):
    """Schemathesis found ``laporan.xlsx?dari=0001-01-01&sampai=0001-01-01`` answering 500."""
    _people(api)
    _agreement(api)
    for day in ("0001-01-01", "9999-12-31"):
        for path, params in (
            ("/laporan.xlsx", {"dari": day, "sampai": day}),
            ("/laporan.pdf", {"dari": day, "sampai": day}),
            ("/peringatan", {"tanggal": day}),
            ("/kerja-sama", {"tanggal": day}),
        ):
            r = _get(api, "kabag_pemerintahan", path, **params)
            assert r.status_code < 500, (path, day, r.text[:300])
            if r.status_code >= 400:
                assert r.json()["detail"].get("reason"), r.text
