"""Signing over the API: desk to desk with a counterparty on another CA, then our signature."""

from __future__ import annotations

import pytest

from pipeline.sign.signing import SignatureAppearance, SignOptions, http_timestamper, sign_pdf, validation_context
from pipeline.sign.verify import verify_pdf
from tests.fixtures.pki import make_signer
from tests.test_api import hari_ini
from tests.test_workflow import approved_kb, post


@pytest.fixture
def signing_api(api, dev_pki, counterparty_pki):
    api.services.trust_roots = [*dev_pki.roots, *counterparty_pki.roots]
    api.services.tsa_url = dev_pki.tsa_url
    return api


def fully_initialled(api, cara: str | None = None) -> int:
    """A KB dated today, drafted for ``cara`` of signing (default tatap muka), with every paraf."""
    nid = approved_kb(api, cara)
    for who in ("kabag_pemerintahan", "asisten_umum", "sekda"):
        assert post(api, f"{nid}/paraf", who).status_code == 200
    return nid


def counterparty_signs(pdf: bytes, counterparty_pki, person) -> bytes:
    """The counterparty signs in its own system: plain pyHanko with its own CA and TSA."""
    return sign_pdf(
        pdf,
        make_signer(person),
        SignatureAppearance(
            nama="H. Rahmad Mas'ud, S.E., M.E.", jabatan="Wali Kota Balikpapan", tanggal=hari_ini(), reference="x"
        ),
        SignOptions(field_name="ttd_pihak_2"),
        timestamper=http_timestamper(counterparty_pki.tsa_url),
        validation_context=validation_context(counterparty_pki.roots),
    )


def test_desk_to_desk_then_our_signature_all_valid(signing_api, dev_pki, counterparty_pki, counterparty_person):
    api = signing_api
    nid = fully_initialled(api, "desk")
    r = api.client.post(f"/api/v1/naskah/{nid}/signature-plan", json={"mode": "desk"}, headers=api.auth("drafter"))
    assert r.status_code == 201, r.text
    plan = r.json()
    assert [(s["pihak_urutan"], s["external"]) for s in plan["steps"]] == [(2, True), (1, False)]

    exported = api.client.get(f"/api/v1/naskah/{nid}/export", headers=api.auth("drafter")).content
    assert exported.startswith(b"%PDF-")
    returned = counterparty_signs(exported, counterparty_pki, counterparty_person)

    # a tampered return is refused with the reason, and changes nothing
    tampered = returned.replace(b"/Annots", b"/Annotz", 1) if b"/Annots" in returned else returned[:-10] + b"0" * 10
    r = api.client.post(
        f"/api/v1/naskah/{nid}/import",
        files={"file": ("balik.pdf", tampered, "application/pdf")},
        headers=api.auth("drafter"),
    )
    assert r.status_code == 422, r.text
    r = api.client.post(
        f"/api/v1/naskah/{nid}/import",
        files={"file": ("balik.pdf", returned, "application/pdf")},
        headers=api.auth("drafter"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["next"] == 2

    bupati = dev_pki.issue_person("dr. Fahmi Fadli")
    p12 = bupati.to_pkcs12("rahasia-bupati")
    files = {"p12": ("bupati.p12", p12, "application/x-pkcs12")}
    r = api.client.post(
        f"/api/v1/naskah/{nid}/sign", files=files, data={"passphrase": "salah"}, headers=api.auth("bupati")
    )
    assert r.status_code == 422 and r.json()["code"] == "signing_refused"
    assert r.json()["detail"]["reason"] == "wrong_passphrase"
    r = api.client.post(
        f"/api/v1/naskah/{nid}/sign", files=files, data={"passphrase": "rahasia-bupati"}, headers=api.auth("sekda")
    )
    assert r.status_code == 403
    r = api.client.post(
        f"/api/v1/naskah/{nid}/sign",
        files=files,
        data={"passphrase": "rahasia-bupati", "location": "Tanah Grogot"},
        headers=api.auth("bupati"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["next"] is None
    naskah = api.client.get(f"/api/v1/naskah/{nid}", headers=api.auth("drafter")).json()
    assert naskah["status"] == "signed"

    signed = api.client.get(f"/api/v1/naskah/{nid}/signed.pdf", headers=api.auth("secretariat")).content
    report = verify_pdf(signed, [*dev_pki.roots, *counterparty_pki.roots])
    assert report.ok, report.to_dict()
    assert [s.field for s in report.signatures] == ["ttd_pihak_2", "ttd_pihak_1"]
    assert all(s.intact and s.valid and s.trusted for s in report.signatures)
    r = api.client.post(
        "/api/v1/verify", files={"file": ("x.pdf", signed, "application/pdf")}, headers=api.auth("secretariat")
    )
    assert r.status_code == 200 and r.json()["ok"] is True


def test_tatap_muka_both_sign_on_the_server_in_order(signers_api, dev_pki, counterparty_pki):
    api = signers_api
    nid = fully_initialled(api)
    r = api.client.post(
        f"/api/v1/naskah/{nid}/signature-plan", json={"mode": "tatap_muka"}, headers=api.auth("drafter")
    )
    assert r.status_code == 422 and "steps" in r.json()["message"]  # tatap muka names every signer
    steps = [{"pihak_urutan": 2, "username": "walikota"}, {"pihak_urutan": 1, "username": "bupati"}]
    r = api.client.post(
        f"/api/v1/naskah/{nid}/signature-plan", json={"mode": "tatap_muka", "steps": steps}, headers=api.auth("drafter")
    )
    assert r.status_code == 201, r.text
    assert api.client.get(f"/api/v1/naskah/{nid}/export", headers=api.auth("drafter")).status_code == 409

    mitra_p12 = counterparty_pki.issue_person("H. Rahmad Mas'ud, S.E., M.E.").to_pkcs12("m")
    bupati_p12 = dev_pki.issue_person("dr. Fahmi Fadli").to_pkcs12("b")

    def sign(who: str, p12: bytes, passphrase: str):
        return api.client.post(
            f"/api/v1/naskah/{nid}/sign",
            files={"p12": ("k.p12", p12, "application/x-pkcs12")},
            data={"passphrase": passphrase},
            headers=api.auth(who),
        )

    r = sign("bupati", bupati_p12, "b")
    assert r.status_code == 403 and "Giliran" in r.json()["message"]  # the Wali Kota signs first
    assert sign("walikota", mitra_p12, "m").status_code == 200
    r = sign("bupati", bupati_p12, "b")
    assert r.status_code == 200 and r.json()["next"] is None
    assert sign("bupati", bupati_p12, "b").status_code == 409  # the plan is complete

    signed = api.client.get(f"/api/v1/naskah/{nid}/signed.pdf", headers=api.auth("secretariat")).content
    report = verify_pdf(signed, [*dev_pki.roots, *counterparty_pki.roots])
    assert report.ok and [s.pades_level for s in report.signatures] == ["B-LT", "B-LT"]
    history = api.client.get(f"/api/v1/naskah/{nid}/history", headers=api.auth("drafter")).json()["data"]
    assert [e["action"] for e in history][-2:] == ["sign", "sign"] and history[-1]["to_status"] == "signed"
