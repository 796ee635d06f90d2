"""A signature binds the person named in its block: signing, desk-to-desk import, verification, archive.

Over the API with the session's two PKIs (live TSA/OCSP/CRL).  The case is the demo's: PIHAK
KESATU "dr. Fahmi Fadli" (Bupati Paser), PIHAK KEDUA "H. Rahmad Mas'ud, S.E., M.E." (Wali Kota
Balikpapan).  A refusal must leave everything as it was.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from api.cli import app
from pipeline.identity import register_certificate
from pipeline.models import User
from pipeline.sign.signing import SignatureAppearance, SignOptions, http_timestamper, sign_pdf, validation_context
from storage.db import session_scope
from tests.fixtures.pki import WALIKOTA, make_signer
from tests.test_signing_backends import one_backend, state
from tests.test_signing_flow import fully_initialled

BUPATI = "dr. Fahmi Fadli"
NIK_WALIKOTA = "6471010101700001"


def plan(api, nid: int, mode: str = "tatap_muka") -> dict:
    body: dict = {"mode": mode}
    if mode == "tatap_muka":
        body["steps"] = [{"pihak_urutan": 2, "username": "walikota"}, {"pihak_urutan": 1, "username": "bupati"}]
    r = api.client.post(f"/api/v1/naskah/{nid}/signature-plan", json=body, headers=api.auth("drafter"))
    assert r.status_code == 201, r.text
    return r.json()


def upload_sign(api, nid: int, who: str, p12: bytes):
    return api.client.post(
        f"/api/v1/naskah/{nid}/sign",
        files={"p12": ("k.p12", p12, "application/x-pkcs12")},
        data={"passphrase": "k"},
        headers=api.auth(who),
    )


def partner_signs(pdf: bytes, pki, person, nama: str = WALIKOTA) -> bytes:
    """Signed outside the system (the partner's own software): plain pyHanko, B-LT."""
    return sign_pdf(
        pdf,
        make_signer(person),
        SignatureAppearance(nama=nama, jabatan="Wali Kota Balikpapan", tanggal=dt.date.today(), reference="mitra"),
        SignOptions(field_name="ttd_pihak_2"),
        timestamper=http_timestamper(pki.tsa_url),
        validation_context=validation_context(pki.roots),
    )


def import_file(api, nid: int, pdf: bytes):
    return api.client.post(
        f"/api/v1/naskah/{nid}/import",
        files={"file": ("balik.pdf", pdf, "application/pdf")},
        headers=api.auth("drafter"),
    )


def verify_api(api, pdf: bytes) -> dict:
    r = api.client.post(
        "/api/v1/verify", files={"file": ("x.pdf", pdf, "application/pdf")}, headers=api.auth("secretariat")
    )
    assert r.status_code == 200, r.text
    return r.json()


# -- signing on the server ------------------------------------------------------------------------


@one_backend
def test_signing_with_someone_elses_certificate_is_refused(signers_api, dev_pki, counterparty_pki):
    api = signers_api
    nid = fully_initialled(api)
    plan(api, nid)
    assert upload_sign(api, nid, "walikota", counterparty_pki.issue_person(WALIKOTA).to_pkcs12("k")).status_code == 200
    before = state(api, nid)

    r = upload_sign(api, nid, "bupati", dev_pki.issue_person("Orang Lain").to_pkcs12("k"))

    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "signing_refused" and body["detail"]["reason"] == "certificate_not_signer"
    assert "Orang Lain" in body["message"] and BUPATI in body["message"]
    assert "Orang Lain" in body["detail"]["subject"] and body["detail"]["expected"]["nama"] == BUPATI
    assert state(api, nid) == before
    assert upload_sign(api, nid, "bupati", dev_pki.issue_person("FAHMI FADLI").to_pkcs12("k")).status_code == 200


@one_backend
def test_a_certificate_whose_nik_is_not_the_officials_is_refused_even_with_the_right_name(
    signers_api, dev_pki, counterparty_pki
):
    api = signers_api
    with session_scope(api.services.engine) as session:
        bupati = session.exec(select(User).where(User.username == "bupati")).one()
        bupati.nik = "6401011203800001"
        session.add(bupati)
    nid = fully_initialled(api)
    plan(api, nid)
    assert upload_sign(api, nid, "walikota", counterparty_pki.issue_person(WALIKOTA).to_pkcs12("k")).status_code == 200

    namesake = dev_pki.issue_person(BUPATI, serial_number="NIK:6401011203800009")
    r = upload_sign(api, nid, "bupati", namesake.to_pkcs12("k"))
    assert r.status_code == 422 and r.json()["detail"]["reason"] == "certificate_not_signer", r.text
    assert r.json()["detail"]["mismatch"] == "nik" and "NIK" in r.json()["message"]

    own = dev_pki.issue_person("FAHMI FADLI", serial_number="NIK:6401011203800001")
    assert upload_sign(api, nid, "bupati", own.to_pkcs12("k")).status_code == 200


@one_backend
def test_a_registered_certificate_belongs_to_its_official_whatever_its_subject(
    signers_api, dev_pki, counterparty_pki, tmp_path, monkeypatch
):
    api = signers_api
    nid = fully_initialled(api)
    plan(api, nid)
    assert upload_sign(api, nid, "walikota", counterparty_pki.issue_person(WALIKOTA).to_pkcs12("k")).status_code == 200
    token = dev_pki.issue_person("Pemegang Token 0042")
    assert upload_sign(api, nid, "bupati", token.to_pkcs12("k")).json()["detail"]["reason"] == "certificate_not_signer"

    with session_scope(api.services.engine) as session:
        bupati = session.exec(select(User).where(User.username == "bupati")).one()
        register_certificate(session, bupati, token.certificate.dump())

    r = upload_sign(api, nid, "bupati", token.to_pkcs12("k"))
    assert r.status_code == 200, r.text
    signed = api.client.get(f"/api/v1/naskah/{nid}/signed.pdf", headers=api.auth("secretariat")).content
    report = verify_api(api, signed)
    assert [s["identity_basis"] for s in report["signatures"]] == ["nama", "fingerprint"]
    assert report["ok"] and all(s["belongs_to_signer"] for s in report["signatures"])


def test_naskah_user_sertifikat_registers_a_fingerprint(tmp_path, monkeypatch, dev_pki):
    monkeypatch.setenv("NASKAH_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("NASKAH_STORAGE_URL", f"file:{tmp_path}/objects")
    runner = CliRunner()
    add = ["user", "add", "bupati", "--nama", BUPATI, "--jabatan", "Bupati Paser", "--role", "signer"]
    r = runner.invoke(app, [*add, "--nik", "6401011203800001"])
    assert r.exit_code == 0, r.output
    cert = dev_pki.issue_person("Pemegang Token 0042")
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    pem = tmp_path / "ttd.pem"
    pem.write_bytes(x509.load_der_x509_certificate(cert.certificate.dump()).public_bytes(serialization.Encoding.PEM))
    r = runner.invoke(app, ["user", "sertifikat", "bupati", "--pem", str(pem)])
    assert r.exit_code == 0, r.output
    fp = cert.certificate.sha256.hex()
    assert fp in r.output and "Pemegang Token 0042" in r.output and "Sertifikat terdaftar untuk 'bupati': 1" in r.output
    r = runner.invoke(app, ["user", "sertifikat", "bupati", "--hapus", fp.upper()])
    assert r.exit_code == 0 and "Sertifikat terdaftar untuk 'bupati': 0" in r.output, r.output
    r = runner.invoke(app, ["user", "sertifikat", "bupati", "--sha256", "bukan-sidik"])
    assert r.exit_code == 2 and "SHA-256" in r.output
    r = runner.invoke(app, ["user", "add", "x.y", "--nama", "X", "--jabatan", "Y", "--role", "signer", "--nik", "12"])
    assert r.exit_code == 2 and "NIK" in r.output


# -- desk to desk ---------------------------------------------------------------------------------


@one_backend
def test_a_counterparty_signature_by_someone_else_is_refused_at_import(signers_api, dev_pki, counterparty_pki):
    api = signers_api
    nid = fully_initialled(api, "desk")
    plan(api, nid, "desk")
    exported = api.client.get(f"/api/v1/naskah/{nid}/export", headers=api.auth("drafter")).content
    before = state(api, nid)

    # trusted (our own Pemda's CA), valid, intact — and naming someone else
    stranger = partner_signs(exported, dev_pki, dev_pki.issue_person("Orang Lain"))
    r = import_file(api, nid, stranger)

    assert r.status_code == 422, r.text
    body = r.json()
    assert body["detail"]["reason"] == "certificate_not_signer" and WALIKOTA in body["message"], body
    assert body["detail"]["expected"]["nama"] == WALIKOTA
    assert state(api, nid) == before
    plan_now = api.client.get(f"/api/v1/naskah/{nid}/signature-plan", headers=api.auth("drafter")).json()
    assert plan_now["steps"][0]["status"] == "menunggu" and plan_now["steps"][0]["signer_subject"] is None

    r = import_file(api, nid, partner_signs(exported, counterparty_pki, counterparty_pki.issue_person("RAHMAD MAS'UD")))
    assert r.status_code == 200, r.text
    assert r.json()["steps"][0]["signed_field"] == "ttd_pihak_2"


@one_backend
def test_the_counterpartys_nik_from_the_case_decides_at_import(signers_api, counterparty_pki):
    api = signers_api
    from tests.test_api import case_body, create_naskah
    from tests.test_workflow import post

    body = case_body()
    body["pihak"][1]["penandatangan_nik"] = NIK_WALIKOTA
    r = api.client.post("/api/v1/cases", json=body, headers=api.auth("drafter"))
    assert r.status_code == 201, r.text
    assert r.json()["pihak"][1]["penandatangan_nik"] == NIK_WALIKOTA
    nid = create_naskah(api, r.json()["id"], cara="desk")["id"]
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    assert post(api, f"{nid}/approve", "legal").status_code == 200
    for who in ("kabag_pemerintahan", "asisten_umum", "sekda"):
        assert post(api, f"{nid}/paraf", who).status_code == 200
    plan(api, nid, "desk")
    exported = api.client.get(f"/api/v1/naskah/{nid}/export", headers=api.auth("drafter")).content

    namesake = counterparty_pki.issue_person(WALIKOTA, serial_number="NIK:6471010101700009")
    r = import_file(api, nid, partner_signs(exported, counterparty_pki, namesake))
    assert r.status_code == 422 and r.json()["detail"]["mismatch"] == "nik", r.text

    own = counterparty_pki.issue_person("R. MAS'UD", serial_number=f"NIK:{NIK_WALIKOTA}")
    assert import_file(api, nid, partner_signs(exported, counterparty_pki, own)).status_code == 200


@one_backend
def test_a_malformed_nik_in_the_case_is_refused(api):
    from tests.test_api import case_body

    body = case_body()
    body["pihak"][1]["penandatangan_nik"] = "64710101"
    r = api.client.post("/api/v1/cases", json=body, headers=api.auth("drafter"))
    assert r.status_code == 422 and "penandatangan_nik" in r.text


# -- verification ---------------------------------------------------------------------------------


@one_backend
def test_verification_says_whether_each_signature_belongs_to_the_official_in_its_block(
    signers_api, dev_pki, counterparty_pki, tmp_path, monkeypatch
):
    api = signers_api
    nid = fully_initialled(api, "desk")
    plan(api, nid, "desk")
    exported = api.client.get(f"/api/v1/naskah/{nid}/export", headers=api.auth("drafter")).content
    # a file made outside the system: our naskah, signed in the partner's block by someone else
    wrong = partner_signs(exported, counterparty_pki, counterparty_pki.issue_person("Orang Lain"), nama=WALIKOTA)
    right = partner_signs(exported, counterparty_pki, counterparty_pki.issue_person(WALIKOTA))

    report = verify_api(api, wrong)
    (sig,) = report["signatures"]
    assert report["naskah_id"] == nid and report["ok"] is False and report["bottom_line"] == "wrong_signer"
    assert sig["intact"] and sig["valid"] and sig["trusted"]  # nothing else is wrong with it
    assert sig["belongs_to_signer"] is False and sig["bottom_line"] == "wrong_signer"
    assert sig["expected_signer"]["nama"] == WALIKOTA and "Orang Lain" in sig["certificate_subject"]
    assert any("Orang Lain" in p and WALIKOTA in p for p in sig["problems"])

    report = verify_api(api, right)
    assert report["ok"] is True and report["signatures"][0]["belongs_to_signer"] is True
    assert report["signatures"][0]["identity_basis"] == "nama"

    # a PDF the system does not know: nobody can say whose signature it should be
    from tests.fixtures.pki import with_signature_fields

    unknown = with_signature_fields(_plain_pdf(), {"ttd_pihak_2": (50, 60, 290, 140)}, locked=None)
    foreign = partner_signs(unknown, counterparty_pki, counterparty_pki.issue_person(WALIKOTA))
    report = verify_api(api, foreign)
    assert report["naskah_id"] is None and report["signatures"][0]["belongs_to_signer"] is None
    assert report["ok"] is True

    # naskah verify FILE with the database configured says the same
    db_url = str(api.services.engine.url)
    monkeypatch.setenv("NASKAH_DATABASE_URL", db_url)
    roots = tmp_path / "roots.pem"
    roots.write_bytes(dev_pki.roots_pem.read_bytes() + counterparty_pki.roots_pem.read_bytes())
    path = tmp_path / "salah.pdf"
    path.write_bytes(wrong)
    r = CliRunner().invoke(app, ["verify", str(path), "--trust", str(roots)])
    assert r.exit_code == 8 and "wrong_signer" in r.output and "milik_penanda_tangan=TIDAK" in r.output, r.output
    r = CliRunner().invoke(app, ["verify", str(path), "--trust", str(roots), "--json"])
    data = json.loads(r.output)
    assert data["bottom_line"] == "wrong_signer" and data["signatures"][0]["belongs_to_signer"] is False
    monkeypatch.setenv("NASKAH_DATABASE_URL", f"sqlite:///{tmp_path}/tidak-ada.db")
    r = CliRunner().invoke(app, ["verify", str(path), "--trust", str(roots)])
    assert r.exit_code == 0 and "naskah tidak dikenal" in r.output, r.output
    assert not Path(f"{tmp_path}/tidak-ada.db").exists()


def _plain_pdf() -> bytes:
    from tests.fixtures.signer_pki import sample_pdf

    return sample_pdf(1)


@one_backend
def test_the_archive_verification_names_each_signatures_official(signers_api, dev_pki, counterparty_pki):
    api = signers_api
    nid = fully_initialled(api)
    plan(api, nid)
    assert upload_sign(api, nid, "walikota", counterparty_pki.issue_person(WALIKOTA).to_pkcs12("k")).status_code == 200
    assert upload_sign(api, nid, "bupati", dev_pki.issue_person(BUPATI).to_pkcs12("k")).status_code == 200
    r = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat"))
    assert r.status_code == 201, r.text
    verified = api.client.get(f"/api/v1/arsip/{r.json()['id']}/verify", headers=api.auth("secretariat")).json()
    assert verified["ok"] is True and verified["naskah_id"] == nid
    assert [(s["expected_signer"]["nama"], s["belongs_to_signer"]) for s in verified["signatures"]] == [
        (WALIKOTA, True),
        (BUPATI, True),
    ]


# -- the PAdES level a naskah needs ---------------------------------------------------------------


@one_backend
@pytest.mark.parametrize(("missing", "setting"), [("tsa_url", "NASKAH_TSA_URL"), ("trust_roots", "NASKAH_TRUST_ROOTS")])
def test_signing_that_cannot_reach_b_lt_is_refused_naming_the_setting(
    signers_api, counterparty_pki, missing: str, setting: str
):
    api = signers_api
    nid = fully_initialled(api)
    assert plan(api, nid)["pades_level"] == "B-LT"
    before = state(api, nid)
    setattr(api.services, missing, None if missing == "tsa_url" else [])

    r = upload_sign(api, nid, "walikota", counterparty_pki.issue_person(WALIKOTA).to_pkcs12("k"))

    assert r.status_code == 503, r.text
    body = r.json()
    assert body["detail"]["reason"] == "pades_level_unreachable" and setting in body["message"]
    assert body["detail"]["missing"] == [setting] and "B-LT" in body["message"]
    assert state(api, nid) == before


@one_backend
def test_b_b_signatures_only_when_the_admin_chooses_that_level(signers_api, dev_pki, counterparty_pki):
    api = signers_api
    api.services.pades_level = "B-B"
    api.services.tsa_url = None
    nid = fully_initialled(api)
    assert plan(api, nid)["pades_level"] == "B-B"
    assert upload_sign(api, nid, "walikota", counterparty_pki.issue_person(WALIKOTA).to_pkcs12("k")).status_code == 200
    assert upload_sign(api, nid, "bupati", dev_pki.issue_person(BUPATI).to_pkcs12("k")).status_code == 200
    signed = api.client.get(f"/api/v1/naskah/{nid}/signed.pdf", headers=api.auth("secretariat")).content
    report = verify_api(api, signed)
    assert [s["pades_level"] for s in report["signatures"]] == ["B-B", "B-B"]


def test_the_pades_level_setting_is_checked(monkeypatch):
    from api.config import Settings

    assert Settings().pades_level == "B-LT"
    monkeypatch.setenv("NASKAH_PADES_LEVEL", "B-T")
    assert Settings().pades_level == "B-T"
    monkeypatch.setenv("NASKAH_PADES_LEVEL", "B-LTA")
    with pytest.raises(ValueError, match="pades_level"):
        Settings()


# -- every backend: the same rule ----------------------------------------------------------------


@pytest.fixture(scope="module")
def bsre_officials(dev_pki):
    """tests/services/bsre_server with two users: one whose certificate names someone else, and one
    whose certificate carries only a NIK (as BSrE issues them to officials who are not civil servants)."""
    import secrets
    import tempfile

    from tests.services import ServiceProcess, hash_secret
    from tests.test_signing_backends import Service, _write_key_and_chain

    certificates = {
        "6401011203800007": dev_pki.issue_person("Orang Lain"),
        "6401011203800001": dev_pki.issue_person("PEJABAT 0001", serial_number="NIK:6401011203800001"),
    }
    with tempfile.TemporaryDirectory(prefix="bsre-identitas-") as tmp:
        directory = Path(tmp)
        users = {}
        for nik, issued in certificates.items():
            files = _write_key_and_chain(directory, f"u{nik}", issued)
            users[nik] = {**files, "email": "", "passphrase": hash_secret("Rahasia-BSrE-1"), "misbehave": None}
        (directory / "users.json").write_text(json.dumps(users), encoding="utf-8")
        user, password = "naskah-app", secrets.token_urlsafe(16)
        args = ["--keys", tmp, f"--basic-user={user}", f"--basic-pass={password}"]
        process = ServiceProcess("tests.services.bsre_server", directory, args).start()
        try:
            yield Service(process.base_url, directory, {"username": user, "password": password}, certificates)
        finally:
            process.stop()


@one_backend
def test_a_bsre_signature_by_someone_else_is_refused_and_a_nik_certificate_is_accepted(
    signers_api, bsre_officials, counterparty_pki
):
    from tests.test_signing_backends import configure

    api = signers_api
    nid = fully_initialled(api)
    plan(api, nid)
    assert upload_sign(api, nid, "walikota", counterparty_pki.issue_person(WALIKOTA).to_pkcs12("k")).status_code == 200
    before = state(api, nid)
    bsre = {"kind": "bsre", "base_url": bsre_officials.base_url, **bsre_officials.credentials}

    configure(api, bupati={**bsre, "signer_id": "6401011203800007"})
    r = api.client.post(f"/api/v1/naskah/{nid}/sign", data={"passphrase": "Rahasia-BSrE-1"}, headers=api.auth("bupati"))
    assert r.status_code == 422 and r.json()["detail"]["reason"] == "certificate_not_signer", r.text
    assert "Orang Lain" in r.json()["message"] and "tidak dicatat" in r.json()["message"]
    assert state(api, nid) == before

    # the certificate names no one we know, but carries the Bupati's NIK
    configure(api, bupati={**bsre, "signer_id": "6401011203800001"})
    r = api.client.post(f"/api/v1/naskah/{nid}/sign", data={"passphrase": "Rahasia-BSrE-1"}, headers=api.auth("bupati"))
    assert r.status_code == 422 and r.json()["detail"]["reason"] == "certificate_not_signer", r.text
    with session_scope(api.services.engine) as session:
        bupati = session.exec(select(User).where(User.username == "bupati")).one()
        bupati.nik = "6401011203800001"
        session.add(bupati)
    r = api.client.post(f"/api/v1/naskah/{nid}/sign", data={"passphrase": "Rahasia-BSrE-1"}, headers=api.auth("bupati"))
    assert r.status_code == 200, r.text
    signed = api.client.get(f"/api/v1/naskah/{nid}/signed.pdf", headers=api.auth("secretariat")).content
    report = verify_api(api, signed)
    assert report["ok"] and [s["identity_basis"] for s in report["signatures"]] == ["nama", "nik"]
    assert report["signatures"][1]["field"] == r.json()["steps"][1]["signed_field"] != "ttd_pihak_1"


@one_backend
def test_a_csc_credential_of_someone_else_is_refused_before_anything_is_signed(signers_api, csc_service):
    from tests.test_signing_backends import configure

    api = signers_api
    nid = fully_initialled(api)
    plan(api, nid)
    csc = {"kind": "csc", "base_url": csc_service.base_url, "auth_token": csc_service.token}
    configure(api, walikota={**csc, "credential_id": "pejabat-1"})
    before = state(api, nid)
    r = api.client.post(
        f"/api/v1/naskah/{nid}/sign", data={"passphrase": csc_service.pins["pejabat-1"]}, headers=api.auth("walikota")
    )
    assert r.status_code == 422 and r.json()["detail"]["reason"] == "certificate_not_signer", r.text
    assert "Penandatangan CSC pejabat-1" in r.json()["message"] and WALIKOTA in r.json()["message"]
    assert state(api, nid) == before
