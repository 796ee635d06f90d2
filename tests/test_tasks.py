"""Tugas saya (``GET /me/tasks``) and the naskah's path (``GET /naskah/{id}/progress``): who is offered
which step, exactly when the pipeline would accept it from them, and the stepper saying the same."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import col, select

from pipeline.auth import create_user, issue_token
from pipeline.inbox.tasks import Kind
from pipeline.models import NaskahEvent
from storage.db import session_scope
from tests.fixtures.pki import WALIKOTA
from tests.test_api import case_body, create_case, create_naskah, naskah_body
from tests.test_http_contract import RFC3339, time_like_strings
from tests.test_kuasa import (
    MITRA_DLH,
    kuasa_api,  # noqa: F401 - the fixture
    pks_under_kuasa,
    plan,
    sign,
    surat_kuasa,
    through_paraf,
)
from tests.test_signing_flow import counterparty_signs
from tests.test_workflow import approved_kb, post

DBS = pytest.mark.parametrize("services", ["sqlite-local", "postgres-local"], indirect=True)

#: Everyone of the ``api`` fixture who may hold a task, and the counterparty's official added below.
PEOPLE = [
    "drafter",
    "legal",
    "paraf",
    "signer",
    "secretariat",
    "kabag_pemerintahan",
    "asisten_umum",
    "sekda",
    "kabag_hukum",
    "bupati",
    "walikota_bpp",
]


def add_counterparty_official(api) -> None:
    """The Wali Kota of Balikpapan (PIHAK KEDUA of the sample case) as a counterparty's official."""
    with session_scope(api.services.engine) as session:
        user = create_user(
            session,
            username="walikota_bpp",
            nama=WALIKOTA,
            jabatan="Wali Kota Balikpapan",
            roles=["signer"],
            pihak_luar=True,
            instansi="Pemerintah Kota Balikpapan",
        )
        api.tokens["walikota_bpp"] = issue_token(session, user)


def inbox(api, who: str) -> dict:
    r = api.client.get("/api/v1/me/tasks", headers=api.auth(who))
    assert r.status_code == 200, r.text
    return r.json()


def matrix(api) -> dict[str, list[tuple[str, int]]]:
    """Who has which task now: every person, with the kind and naskah of each task."""
    return {who: [(t["tugas"], t["naskah_id"]) for t in inbox(api, who)["data"]] for who in PEOPLE}


def expect(api, nid: int, **holders: str) -> dict:
    """Exactly ``holders`` (person -> kind) have a task, one each on ``nid``; everyone else none; the
    counters name every kind, with 1 for the holder's kind and 0 elsewhere."""
    seen = matrix(api)
    assert seen == {who: [(holders[who], nid)] if who in holders else [] for who in PEOPLE}
    for who, kind in holders.items():
        body = inbox(api, who)
        assert body["count"] == 1
        assert [c["tugas"] for c in body["ringkasan"]] == [k.value for k in Kind]
        assert {c["tugas"]: c["jumlah"] for c in body["ringkasan"]} == {k.value: int(k == kind) for k in Kind}
    return seen


def progress(api, nid: int, who: str = "secretariat") -> dict:
    r = api.client.get(f"/api/v1/naskah/{nid}/progress", headers=api.auth(who))
    assert r.status_code == 200, r.text
    return r.json()


def states(api, nid: int) -> dict[str, str]:
    return {s["kunci"]: s["keadaan"] for s in progress(api, nid)["langkah"]}


def my_turn(api, nid: int, holders: dict[str, str]) -> None:
    """The stepper's ``giliran_saya`` is true exactly for those with a task on the naskah."""
    for who in PEOPLE:
        r = api.client.get(f"/api/v1/naskah/{nid}/progress", headers=api.auth(who))
        if r.status_code == 404:
            assert who not in holders, who
            continue
        assert r.json()["giliran_saya"] is (who in holders), who


def backdate(api, nid: int, action: str, by: dt.timedelta) -> None:
    """Move the naskah's newest ``action`` event back in time (what the clock would have done)."""
    with session_scope(api.services.engine) as session:
        row = session.exec(
            select(NaskahEvent)
            .where(NaskahEvent.naskah_id == nid, NaskahEvent.action == action)
            .order_by(col(NaskahEvent.id).desc())
        ).first()
        assert row is not None
        row.created_at = row.created_at - by
        session.add(row)


PARAF = ["paraf.kabag_pemerintahan", "paraf.asisten_umum", "paraf.sekda"]


@DBS
def test_a_kb_walk_offers_each_step_to_exactly_the_person_who_may_take_it(
    api, dev_pki, counterparty_pki, counterparty_person
):
    """A KB through review (returned once, then approved), the three paraf, desk to desk and the Bupati's
    signature: at every step exactly who the pipeline accepts has a task, everyone else none, and the
    progress agrees (current step, states, whose turn)."""
    api.services.trust_roots = [*dev_pki.roots, *counterparty_pki.roots]
    api.services.tsa_url = dev_pki.tsa_url
    add_counterparty_official(api)
    nid = create_naskah(api, create_case(api), cara="desk")["id"]
    assert api.client.get("/api/v1/me/tasks", headers=api.auth("admin")).status_code == 403
    assert api.client.get("/api/v1/me/tasks").status_code == 401

    # drafting: nothing waits on anyone yet (the drafter's own draft is not a task)
    expect(api, nid)
    assert states(api, nid) == {
        "penyusunan": "current",
        "telaah": "waiting",
        **dict.fromkeys(PARAF, "waiting"),
        "rencana_ttd": "waiting",
        "ttd.2": "waiting",
        "ttd.1": "waiting",
        "arsip": "waiting",
    }
    # the counterparty's official sees nothing before the signature plan exists
    assert api.client.get(f"/api/v1/naskah/{nid}/progress", headers=api.auth("walikota_bpp")).status_code == 404

    # submitted: Bagian Hukum (both reviewers) review
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    holders = {"legal": "telaah", "kabag_hukum": "telaah"}
    expect(api, nid, **holders)
    my_turn(api, nid, holders)
    assert progress(api, nid)["langkah_sekarang"] == "telaah"

    # returned with a note: the drafter has it back, with the note and who wrote it
    note = "Pasal 5 ayat (2): sebutkan mekanisme perpanjangan."
    assert post(api, f"{nid}/return", "kabag_hukum", note).status_code == 200
    expect(api, nid, drafter="dikembalikan")
    (task,) = inbox(api, "drafter")["data"]
    assert task["catatan"] == note and task["catatan_oleh"].startswith("Hj. Nurul Hidayah")
    assert task["standar"] == "10 menit" and task["langkah"] == "returned"
    assert task["nomor"]["1"].startswith("100.3.7.1/") and task["judul"] and task["jenis"] == "KB"
    path = progress(api, nid)
    assert path["langkah_sekarang"] == "penyusunan"
    telaah = next(s for s in path["langkah"] if s["kunci"] == "telaah")
    assert telaah["keadaan"] == "refused" and telaah["catatan"] == note
    assert [e["aksi"] for e in telaah["riwayat"]] == ["submit", "return"]

    # a new revision: still the drafter's until submitted again
    r = api.client.post(
        f"/api/v1/naskah/{nid}/revisions/render", json={"note": "perbaikan Pasal 5"}, headers=api.auth("drafter")
    )
    assert r.status_code == 201, r.text
    expect(api, nid, drafter="dikembalikan")
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    expect(api, nid, legal="telaah", kabag_hukum="telaah")
    assert post(api, f"{nid}/approve", "kabag_hukum").status_code == 200

    # paraf in the profile's order: only the official whose turn it is; the others are refused if they try
    for i, who in enumerate(("kabag_pemerintahan", "asisten_umum", "sekda")):
        expect(api, nid, **{who: "paraf"})
        my_turn(api, nid, {who: "paraf"})
        (task,) = inbox(api, who)["data"]
        assert task["langkah"] == PARAF[i] and task["detail"]["urutan"] == i + 1 and task["standar"] == "30 menit"
        for other in ("kabag_pemerintahan", "asisten_umum", "sekda", "paraf"):
            if other != who:
                assert post(api, f"{nid}/paraf", other).status_code in (403, 404, 409), other
        now = states(api, nid)
        assert [now[k] for k in PARAF] == ["done"] * i + ["current"] + ["waiting"] * (2 - i)
        assert post(api, f"{nid}/paraf", who).status_code == 200

    # every paraf given: the drafters and the secretariat make the signature plan
    expect(api, nid, drafter="rencana_ttd", secretariat="rencana_ttd")
    assert progress(api, nid)["langkah_sekarang"] == "rencana_ttd"
    r = api.client.post(f"/api/v1/naskah/{nid}/signature-plan", json={"mode": "desk"}, headers=api.auth("drafter"))
    assert r.status_code == 201, r.text

    # desk to desk, the counterparty first: our side sends the file, their official signs in his own system
    holders = {"drafter": "kirim_mitra", "secretariat": "kirim_mitra", "walikota_bpp": "tanda_tangan"}
    expect(api, nid, **holders)
    my_turn(api, nid, holders)
    (theirs,) = inbox(api, "walikota_bpp")["data"]
    assert theirs["detail"]["desk"] is True and theirs["detail"]["pihak_urutan"] == 2
    seen_by_them = progress(api, nid, "walikota_bpp")
    assert seen_by_them["langkah_sekarang"] == "ttd.2"
    drafting = next(s for s in seen_by_them["langkah"] if s["kunci"] == "telaah")
    assert drafting["riwayat"] == [] and drafting["catatan"] is None  # internal material stays internal
    exported = api.client.get(f"/api/v1/naskah/{nid}/export", headers=api.auth("drafter")).content
    expect(api, nid, drafter="impor", secretariat="impor", walikota_bpp="tanda_tangan")
    (task,) = inbox(api, "drafter")["data"]
    assert task["detail"]["diekspor_pada"] is not None
    for answer in (inbox(api, "drafter"), progress(api, nid), progress(api, nid, "walikota_bpp")):
        times = time_like_strings(answer, "$")
        assert times and all(RFC3339.match(value) for _, value in times), times  # every time with its zone

    returned = counterparty_signs(exported, counterparty_pki, counterparty_person)
    r = api.client.post(
        f"/api/v1/naskah/{nid}/import",
        files={"file": ("balik.pdf", returned, "application/pdf")},
        headers=api.auth("drafter"),
    )
    assert r.status_code == 200, r.text

    # the Bupati's turn (not before): only him
    expect(api, nid, bupati="tanda_tangan")
    my_turn(api, nid, {"bupati": "tanda_tangan"})
    now = states(api, nid)
    assert (now["ttd.2"], now["ttd.1"], now["arsip"]) == ("done", "current", "waiting")
    p12 = dev_pki.issue_person("dr. Fahmi Fadli").to_pkcs12("k")
    r = api.client.post(
        f"/api/v1/naskah/{nid}/sign",
        files={"p12": ("b.p12", p12, "application/x-pkcs12")},
        data={"passphrase": "k"},
        headers=api.auth("bupati"),
    )
    assert r.status_code == 200, r.text

    # signed: the secretariat archives; then nothing waits on anyone
    expect(api, nid, secretariat="arsip")
    assert progress(api, nid)["langkah_sekarang"] == "arsip"
    assert api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat")).status_code == 201
    expect(api, nid)
    path = progress(api, nid)
    assert path["langkah_sekarang"] is None and set(states(api, nid).values()) == {"done"}
    assert all(s["selesai_pada"] for s in path["langkah"])
    assert api.client.get(f"/api/v1/naskah/{nid}/progress", headers=api.auth("sekda")).status_code == 200
    assert api.client.get("/api/v1/naskah/999999/progress", headers=api.auth("secretariat")).status_code == 404


@DBS
def test_late_tasks_come_first_then_the_oldest_against_the_profile_standard(api):
    """Paser's legal review has 30 menit: a draft submitted two hours ago is late by 90 minutes and comes
    first; the counters count the late ones; the progress marks the same step late."""
    fresh = create_naskah(api, create_case(api))["id"]
    older = create_naskah(api, create_case(api))["id"]
    oldest = create_naskah(api, create_case(api))["id"]
    for nid in (fresh, older, oldest):
        assert post(api, f"{nid}/submit", "drafter").status_code == 200
    backdate(api, older, "submit", dt.timedelta(hours=1))
    backdate(api, oldest, "submit", dt.timedelta(hours=2))

    body = inbox(api, "kabag_hukum")
    assert [t["naskah_id"] for t in body["data"]] == [oldest, older, fresh]
    assert [t["terlambat"] for t in body["data"]] == [True, True, False]
    assert 89 <= body["data"][0]["lewat_menit"] <= 90 and body["data"][2]["lewat_menit"] is None
    assert body["terlambat"] == 2
    (telaah,) = [c for c in body["ringkasan"] if c["tugas"] == "telaah"]
    assert (telaah["jumlah"], telaah["terlambat"]) == (3, 2)
    # every time carries its zone
    assert body["data"][0]["sejak"].endswith(("Z", "+00:00")) and body["data"][0]["tenggat"].endswith(("Z", "+00:00"))

    step = next(s for s in progress(api, oldest)["langkah"] if s["kunci"] == "telaah")
    assert step["keadaan"] == "current" and step["terlambat"] is True and step["standar"] == "30 menit"
    assert step["sejak"] == body["data"][0]["sejak"] and step["tenggat"] == body["data"][0]["tenggat"]


@DBS
def test_who_submitted_is_not_offered_the_approval(api):
    """Separation of duties: a person holding the drafter and the legal role who submitted the draft gets no
    review task (the approval would be refused); the other reviewers get it."""
    with session_scope(api.services.engine) as session:
        both = create_user(
            session, username="rangkap", nama="Rangkap Jabatan", jabatan="Analis", roles=["drafter", "legal"]
        )
        api.tokens["rangkap"] = issue_token(session, both)
    r = api.client.post("/api/v1/cases", json=case_body(), headers=api.auth("rangkap"))
    case_id = r.json()["id"]
    r = api.client.post(
        f"/api/v1/cases/{case_id}/naskah",
        json=naskah_body("KB"),
        headers=api.auth("rangkap"),
    )
    nid = r.json()["id"]
    assert post(api, f"{nid}/submit", "rangkap").status_code == 200
    assert inbox(api, "rangkap")["data"] == []
    assert post(api, f"{nid}/approve", "rangkap").status_code == 403
    assert [t["naskah_id"] for t in inbox(api, "kabag_hukum")["data"]] == [nid]
    assert progress(api, nid)["giliran_saya"] is False


@DBS
def test_a_refused_paraf_goes_back_to_the_drafter_with_its_note(api):
    """The Asisten refuses with a note: the paraf given are void, the drafter has the naskah back with the
    note, and the stepper shows the Asisten's step refused and drafting current."""
    nid = approved_kb(api)
    assert post(api, f"{nid}/paraf", "kabag_pemerintahan").status_code == 200
    note = "Lampiran belum memuat peta lokasi."
    assert post(api, f"{nid}/paraf/refuse", "asisten_umum", note).status_code == 200
    (task,) = inbox(api, "drafter")["data"]
    assert task["tugas"] == "dikembalikan" and task["catatan"] == note and task["naskah_id"] == nid
    assert "Asisten Umum" in task["keterangan"]
    for who in ("kabag_pemerintahan", "asisten_umum", "sekda", "legal", "kabag_hukum"):
        assert inbox(api, who)["data"] == [], who
    path = progress(api, nid)
    by_key = {s["kunci"]: s for s in path["langkah"]}
    assert path["langkah_sekarang"] == "penyusunan"
    assert by_key["paraf.asisten_umum"]["keadaan"] == "refused" and by_key["paraf.asisten_umum"]["catatan"] == note
    assert by_key["paraf.kabag_pemerintahan"]["keadaan"] == "waiting"  # voided: to be given again
    assert by_key["telaah"]["keadaan"] == "waiting"
    assert [e["aksi"] for e in by_key["telaah"]["riwayat"]] == ["submit", "approve"]


@DBS
def test_a_kepala_opd_under_a_surat_kuasa_is_offered_the_pks_at_his_turn(
    kuasa_api,  # noqa: F811 - the fixture imported above
    dev_pki,
    counterparty_pki,
):
    """A PKS signed tatap muka: the counterparty's Kepala Dinas (an account of the partner) first, then our
    Kepala Dinas under the Bupati's Surat Kuasa.  Each sees only his own signing task, at his turn; the
    task and the stepper name the Surat Kuasa."""
    api = kuasa_api
    today = dt.datetime.now(api.services.profile.tz).date()
    case_id = create_case(api)
    create_naskah(api, case_id, "KB")
    pks = pks_under_kuasa(api, case_id)
    through_paraf(api, pks)
    sk = surat_kuasa(api, case_id, pks, mulai=today, sampai=today + dt.timedelta(days=30))
    through_paraf(api, sk)
    r = plan(api, sk, [{"pihak_urutan": 2, "username": "kadis_dlh"}, {"pihak_urutan": 1, "username": "bupati"}])
    assert r.status_code == 201, r.text
    kadis_p12 = dev_pki.issue_person("Budi Santoso", nip="196612111986091002").to_pkcs12("rahasia")
    assert [(t["tugas"], t["naskah_id"]) for t in inbox(api, "kadis_dlh")["data"]] == [("tanda_tangan", sk)]
    assert sign(api, sk, "kadis_dlh", kadis_p12).status_code == 200
    assert [(t["tugas"], t["naskah_id"]) for t in inbox(api, "bupati")["data"]] == [("tanda_tangan", sk)]
    assert sign(api, sk, "bupati", dev_pki.issue_person("dr. Fahmi Fadli").to_pkcs12("rahasia")).status_code == 200

    r = plan(api, pks, [{"pihak_urutan": 2, "username": "kadis_mitra"}, {"pihak_urutan": 1, "username": "kadis_dlh"}])
    assert r.status_code == 201, r.text
    assert [(t["tugas"], t["naskah_id"]) for t in inbox(api, "kadis_mitra")["data"]] == [("tanda_tangan", pks)]
    assert inbox(api, "kadis_dlh")["data"] == []  # not before his turn
    assert inbox(api, "bupati")["data"] == []  # the Bupati delegated this one
    mitra_p12 = counterparty_pki.issue_person(MITRA_DLH).to_pkcs12("rahasia")
    assert sign(api, pks, "kadis_mitra", mitra_p12).status_code == 200

    assert inbox(api, "kadis_mitra")["data"] == []
    (task,) = inbox(api, "kadis_dlh")["data"]
    assert (task["tugas"], task["naskah_id"], task["detail"]["kuasa_naskah_id"]) == ("tanda_tangan", pks, sk)
    assert "Surat Kuasa" in task["keterangan"]
    step = next(s for s in progress(api, pks, "kadis_dlh")["langkah"] if s["kunci"] == "ttd.1")
    assert step["keadaan"] == "current" and step["giliran_saya"] is True and step["detail"]["kuasa_naskah_id"] == sk
    assert sign(api, pks, "kadis_dlh", kadis_p12).status_code == 200
    assert inbox(api, "kadis_dlh")["data"] == []
    assert [(t["tugas"], t["naskah_id"]) for t in inbox(api, "secretariat")["data"]] == [
        ("arsip", sk),
        ("arsip", pks),
    ]
