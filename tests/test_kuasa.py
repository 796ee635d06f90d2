"""Surat kuasa: a Kepala OPD signs a PKS for the Kepala Daerah, only under a valid, signed Surat Kuasa."""

from __future__ import annotations

import datetime as dt
import io
import itertools

import pytest
from pypdf import PdfReader
from sqlmodel import select

from api.demo import CASE_FIELDS
from pipeline.auth import create_user, issue_token
from pipeline.drafting.revisions import latest_revision
from pipeline.drafting.templates import sample_data
from pipeline.errors import NotPermitted
from pipeline.models import Naskah, User
from pipeline.sign.kuasa import find_kuasa, same_person
from pipeline.sign.verify import verify_pdf
from storage.db import session_scope
from tests.test_api import create_case, create_naskah, hari_ini
from tests.test_workflow import post

KEPALA_DLH = "Ir. Budi Santoso, M.Si."
KEPALA_DLH_NIP = "19661211 198609 1 002"
MITRA_DLH = "Sudirman Djayaleksana, S.T., M.T."
SK_NOMOR = "100.3.7.1/31/Tapem/2026"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Ir. Budi Santoso, M.Si.", "BUDI SANTOSO", True),
        ("dr. Fahmi Fadli", "Dr. H. Fahmi Fadli, M.Si.", True),
        ("Hj. Nurul Hidayah, S.H., M.H.", "Nurul  Hidayah", True),
        ("Ir. Budi Santoso, M.Si.", "Budi Santosa", False),
        ("Ir. Budi Santoso", "Budi", False),
        ("", "", False),
    ],
)
def test_same_person_ignores_titles_only(a: str, b: str, same: bool):
    assert same_person(a, b) is same


@pytest.fixture
def kuasa_api(api, dev_pki, counterparty_pki):
    """The API with the signing PKI, and the two Kepala Dinas as users with the signer role."""
    api.services.trust_roots = [*dev_pki.roots, *counterparty_pki.roots]
    api.services.tsa_url = dev_pki.tsa_url
    with session_scope(api.services.engine) as session:
        for username, nama, nip, jabatan, where in (
            (
                "kadis_dlh",
                KEPALA_DLH,
                KEPALA_DLH_NIP,
                "Kepala Dinas Lingkungan Hidup Kabupaten Paser",
                {"opd": "Dinas Lingkungan Hidup Kabupaten Paser"},
            ),
            (
                "kadis_mitra",
                MITRA_DLH,
                None,
                "Kepala Dinas Lingkungan Hidup Kota Balikpapan",
                {"pihak_luar": True, "instansi": "Pemerintah Kota Balikpapan"},
            ),
            (
                "kadis_lain",
                "Drs. Joko Widodo",
                None,
                "Kepala Dinas Perhubungan Kabupaten Paser",
                {"opd": "Dinas Perhubungan Kabupaten Paser"},
            ),
        ):
            user = create_user(
                session, username=username, nama=nama, jabatan=jabatan, roles=["signer"], nip=nip, **where
            )
            api.tokens[username] = issue_token(session, user)
    return api


def through_paraf(api, nid: int) -> None:
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    assert post(api, f"{nid}/approve", "legal").status_code == 200
    for who in ("kabag_pemerintahan", "asisten_umum", "sekda"):
        r = post(api, f"{nid}/paraf", who)
        assert r.status_code == 200, r.text


def plan(api, nid: int, steps: list[dict]):
    return api.client.post(
        f"/api/v1/naskah/{nid}/signature-plan", json={"mode": "tatap_muka", "steps": steps}, headers=api.auth("drafter")
    )


def sign(api, nid: int, who: str, p12: bytes):
    return api.client.post(
        f"/api/v1/naskah/{nid}/sign",
        files={"p12": ("k.p12", p12, "application/x-pkcs12")},
        data={"passphrase": "rahasia"},
        headers=api.auth(who),
    )


_PKS_SERIAL = itertools.count(40)


def pks_under_kuasa(api, case_id: int) -> int:
    """A PKS whose PIHAK KESATU block is the Kepala Dinas acting under Surat Kuasa SK_NOMOR."""
    data = {k: v for k, v in sample_data("PKS").items() if k not in CASE_FIELDS - {"pihak_kesatu", "pihak_kedua"}}
    data["tanggal"] = hari_ini().isoformat()  # signed tatap muka today: the PKS states today
    data["kuasa"] = {"nomor": SK_NOMOR, "tanggal": hari_ini().isoformat(), "pemberi_jabatan": "Bupati Paser"}
    n = next(_PKS_SERIAL)  # each party's register takes a nomor once
    body = {
        "jenis": "PKS",
        "nomor": {"1": f"100.3.7.1/{n}/DLH/2026", "2": f"100.3.7.1/{n + 48}/DLH/2026"},
        "data": data,
    }
    r = api.client.post(f"/api/v1/cases/{case_id}/naskah", json=body, headers=api.auth("drafter"))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def surat_kuasa(api, case_id: int, pks_id: int, *, mulai: dt.date, sampai: dt.date) -> int:
    data = {k: v for k, v in sample_data("SK").items() if k not in CASE_FIELDS}
    data.update(tanggal=mulai.isoformat(), berlaku_sampai=sampai.isoformat())
    body = {"jenis": "SK", "nomor": {"1": SK_NOMOR}, "parent_id": pks_id, "data": data}
    r = api.client.post(f"/api/v1/cases/{case_id}/naskah", json=body, headers=api.auth("drafter"))
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.mark.parametrize("services", ["postgres-s3"], indirect=True)
def test_kepala_opd_signs_a_pks_under_a_signed_surat_kuasa(kuasa_api, dev_pki, counterparty_pki):
    api = kuasa_api
    today = hari_ini()
    case_id = create_case(api)
    create_naskah(api, case_id, "KB")
    pks = pks_under_kuasa(api, case_id)
    through_paraf(api, pks)
    delegate_first = [{"pihak_urutan": 2, "username": "kadis_mitra"}, {"pihak_urutan": 1, "username": "kadis_dlh"}]

    # no Surat Kuasa yet: the delegate is refused with the reason, and no plan is made
    r = plan(api, pks, delegate_first)
    assert r.status_code == 403 and r.json()["detail"]["reason"] == "kuasa_missing", r.text
    assert "Kepala Daerah" in r.json()["message"]
    # the Bupati cannot sign a block that prints the Kepala Dinas's name
    r = plan(api, pks, [{"pihak_urutan": 2, "username": "kadis_mitra"}, {"pihak_urutan": 1, "username": "bupati"}])
    assert r.status_code == 422 and r.json()["detail"]["reason"] == "not_the_printed_signer", r.text

    # the Surat Kuasa: drafted for this PKS, reviewed, initialled, signed by both (penerima, then the Bupati)
    sk = surat_kuasa(api, case_id, pks, mulai=today, sampai=today + dt.timedelta(days=30))
    through_paraf(api, sk)
    r = plan(api, pks, delegate_first)
    assert r.status_code == 403 and r.json()["detail"]["reason"] == "kuasa_missing"  # not signed yet
    r = plan(api, sk, [{"pihak_urutan": 2, "username": "kadis_dlh"}, {"pihak_urutan": 1, "username": "bupati"}])
    assert r.status_code == 201, r.text
    assert [(s["nama"], s["pihak_urutan"]) for s in r.json()["steps"]] == [(KEPALA_DLH, 2), ("dr. Fahmi Fadli", 1)]
    assert r.json()["tanggal_naskah"] == today.isoformat()  # "Ditetapkan ... pada tanggal": signed on that day
    r = plan(api, pks, [*delegate_first[:1], {"pihak_urutan": 1, "username": "kadis_dlh", "kuasa_naskah_id": sk}])
    assert r.status_code == 403 and r.json()["detail"]["reason"] == "kuasa_not_signed", r.text

    kadis_cert = dev_pki.issue_person("Budi Santoso", nip="196612111986091002")
    kadis_p12 = kadis_cert.to_pkcs12("rahasia")
    assert sign(api, sk, "kadis_dlh", kadis_p12).status_code == 200
    assert sign(api, sk, "bupati", dev_pki.issue_person("dr. Fahmi Fadli").to_pkcs12("rahasia")).status_code == 200
    sk_pdf = api.client.get(f"/api/v1/naskah/{sk}/signed.pdf", headers=api.auth("secretariat")).content
    assert verify_pdf(sk_pdf, api.services.trust_roots).ok

    # another official is not the penerima kuasa
    r = plan(api, pks, [*delegate_first[:1], {"pihak_urutan": 1, "username": "kadis_lain", "kuasa_naskah_id": sk}])
    assert r.status_code == 403 and r.json()["detail"]["reason"] == "kuasa_other_person", r.text
    # a Surat Kuasa on another PKS does not count, nor a KB given as kuasa
    r = plan(api, pks, [*delegate_first[:1], {"pihak_urutan": 1, "username": "kadis_dlh", "kuasa_naskah_id": pks}])
    assert r.status_code == 403 and r.json()["detail"]["reason"] == "kuasa_missing"

    r = plan(api, pks, delegate_first)  # found by itself: the signed SK of this PKS naming the delegate
    assert r.status_code == 201, r.text
    assert api.client.get(f"/api/v1/naskah/{pks}/signature-plan", headers=api.auth("drafter")).json()["next"] == 1
    mitra_p12 = counterparty_pki.issue_person(MITRA_DLH).to_pkcs12("rahasia")
    assert sign(api, pks, "kadis_mitra", mitra_p12).status_code == 200

    # the delegate's certificate must be his own
    r = sign(api, pks, "kadis_dlh", dev_pki.issue_person("Drs. Joko Widodo").to_pkcs12("rahasia"))
    assert r.status_code == 422 and r.json()["detail"]["reason"] == "certificate_not_penerima_kuasa", r.text
    r = sign(api, pks, "kadis_dlh", dev_pki.issue_person("Budi Santoso", nip="199001012015031001").to_pkcs12("rahasia"))
    assert r.status_code == 422 and r.json()["detail"]["reason"] == "certificate_not_penerima_kuasa"
    r = sign(api, pks, "kadis_dlh", kadis_p12)
    assert r.status_code == 200 and r.json()["next"] is None, r.text

    signed = api.client.get(f"/api/v1/naskah/{pks}/signed.pdf", headers=api.auth("secretariat")).content
    report = verify_pdf(signed, api.services.trust_roots)
    assert report.ok and len(report.signatures) == 2
    reader = PdfReader(io.BytesIO(signed))
    delegate_sig = next(
        f.get_object()["/V"]
        for f in reader.trailer["/Root"]["/AcroForm"]["/Fields"]
        if f.get_object()["/T"] == "ttd_pihak_1"
    )
    assert delegate_sig["/Reason"].startswith(
        f"Untuk dan atas nama Bupati Paser berdasarkan Surat Kuasa Nomor {SK_NOMOR}"
    )
    # the signed Surat Kuasa travels inside the PKS, byte-identical, covered by both signatures
    attached = {name: data[0] for name, data in reader.attachments.items()}
    assert list(attached) == ["surat-kuasa-100-3-7-1-31-Tapem-2026.pdf"]
    assert attached["surat-kuasa-100-3-7-1-31-Tapem-2026.pdf"] == sk_pdf
    assert [s.field for s in report.signatures] == ["ttd_pihak_2", "ttd_pihak_1"]


@pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
def test_a_kuasa_is_valid_only_within_its_period_and_for_its_pks(kuasa_api, dev_pki):
    """``find_kuasa`` on the day of signing: before, during and after the validity period."""
    api = kuasa_api
    today = hari_ini()
    case_id = create_case(api)
    create_naskah(api, case_id, "KB")
    pks = pks_under_kuasa(api, case_id)
    other_pks = pks_under_kuasa(api, case_id)
    sk = surat_kuasa(api, case_id, pks, mulai=today, sampai=today + dt.timedelta(days=10))
    through_paraf(api, sk)
    assert (
        plan(
            api, sk, [{"pihak_urutan": 2, "username": "kadis_dlh"}, {"pihak_urutan": 1, "username": "bupati"}]
        ).status_code
        == 201
    )
    assert sign(api, sk, "kadis_dlh", dev_pki.issue_person(KEPALA_DLH).to_pkcs12("rahasia")).status_code == 200
    assert sign(api, sk, "bupati", dev_pki.issue_person("dr. Fahmi Fadli").to_pkcs12("rahasia")).status_code == 200

    with session_scope(api.services.engine) as session:
        kadis = session.exec(select(User).where(User.username == "kadis_dlh")).one()
        naskah = session.get(Naskah, pks)
        data = latest_revision(session, kadis, pks, profile=api.services.profile).data

        def reason(day: dt.date, target: Naskah = naskah, sk_id: int | None = sk) -> str:
            try:
                find_kuasa(session, target, data, kadis, sk_id, day)
            except NotPermitted as exc:
                return exc.detail["reason"]
            return "ok"

        assert reason(today) == "ok" and reason(today + dt.timedelta(days=10)) == "ok"
        assert reason(today - dt.timedelta(days=1)) == "kuasa_not_yet_valid"
        assert reason(today + dt.timedelta(days=11)) == "kuasa_expired"
        assert reason(today, session.get(Naskah, other_pks)) == "kuasa_other_pks"
        assert reason(today, session.get(Naskah, other_pks), None) == "kuasa_missing"
        data_wrong = {**data, "kuasa": {**data["kuasa"], "nomor": "100.3.7.1/99/Tapem/2026"}}
        with pytest.raises(NotPermitted) as err:
            find_kuasa(session, naskah, data_wrong, kadis, sk, today)
        assert err.value.detail["reason"] == "kuasa_nomor_mismatch"
