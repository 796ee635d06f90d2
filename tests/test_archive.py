"""The archive over the API: archive a signed naskah (B-LTA, locked), search, download, verify."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest

from pipeline.sign.verify import verify_pdf
from storage.objects import LocalObjectStore, ObjectLocked
from tests.test_signing_flow import fully_initialled


def signed_kb(api, dev_pki, counterparty_pki) -> int:
    """A KB signed tatap muka by the Wali Kota (partner CA) and the Bupati (our CA)."""
    nid = fully_initialled(api)
    steps = [{"pihak_urutan": 2, "username": "walikota"}, {"pihak_urutan": 1, "username": "bupati"}]
    r = api.client.post(
        f"/api/v1/naskah/{nid}/signature-plan", json={"mode": "tatap_muka", "steps": steps}, headers=api.auth("drafter")
    )
    assert r.status_code == 201, r.text
    for who, pki, nama in (
        ("walikota", counterparty_pki, "H. Rahmad Mas'ud, S.E., M.E."),
        ("bupati", dev_pki, "dr. Fahmi Fadli"),
    ):
        r = api.client.post(
            f"/api/v1/naskah/{nid}/sign",
            files={"p12": ("k.p12", pki.issue_person(nama).to_pkcs12("k"), "application/x-pkcs12")},
            data={"passphrase": "k"},
            headers=api.auth(who),
        )
        assert r.status_code == 200, r.text
    return nid


def test_archive_search_download_and_verify(signers_api, dev_pki, counterparty_pki):
    api = signers_api
    nid = signed_kb(api, dev_pki, counterparty_pki)
    signed = api.client.get(f"/api/v1/naskah/{nid}/signed.pdf", headers=api.auth("secretariat")).content

    r = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("drafter"))
    assert r.status_code == 403  # the secretariat archives
    r = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat"))
    assert r.status_code == 201, r.text
    arsip = r.json()
    assert arsip["jenis"] == "KB" and arsip["jenis_kerja_sama"] == "KSDD" and arsip["status_masa"] == "berlaku"
    assert [p["instansi"] for p in arsip["pihak"]] == ["Pemerintah Kabupaten Paser", "Pemerintah Kota Balikpapan"]
    assert set(arsip["nomor"]) == {"1", "2"}
    assert api.client.get(f"/api/v1/naskah/{nid}", headers=api.auth("drafter")).json()["status"] == "archived"
    r = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat"))
    assert r.status_code == 409  # archived once, for good

    # the original: byte-identical, B-LTA on top of the signed bytes, valid
    r = api.client.get(f"/api/v1/arsip/{arsip['id']}/original.pdf", headers=api.auth("secretariat"))
    assert r.status_code == 200 and r.headers["X-Content-SHA256"] == arsip["sha256"]
    original = r.content
    assert hashlib.sha256(original).hexdigest() == arsip["sha256"] and original.startswith(signed)
    report = verify_pdf(original, api.services.trust_roots)
    assert report.ok and report.document_timestamps == 1
    assert [s.pades_level for s in report.signatures] == ["B-LTA", "B-LTA"]
    r = api.client.get(f"/api/v1/arsip/{arsip['id']}/verify", headers=api.auth("secretariat"))
    assert r.status_code == 200 and r.json()["ok"] is True and r.json()["divalidasi_pada"], r.text

    # locked: the version cannot be deleted, on the local store as on S3 object lock
    store = api.services.archive_store
    assert store is not None
    with pytest.raises(ObjectLocked):
        store.delete(arsip["key"], arsip["version_id"])
    assert store.get(arsip["key"], arsip["version_id"], sha256=arsip["sha256"]) == original

    # search: free text over judul/pihak/nomor, filters, pagination
    def search(**params) -> dict:
        r = api.client.get("/api/v1/arsip", params=params, headers=api.auth("secretariat"))
        assert r.status_code == 200, r.text
        return r.json()

    assert search(q="sampah balikpapan")["count"] == 1
    assert search(q=arsip["nomor"]["1"])["count"] == 1
    assert search(q="sampah jakarta")["count"] == 0
    assert search(jenis="KB", jenis_kerja_sama="KSDD", masa="berlaku")["count"] == 1
    assert search(jenis="PKS")["count"] == 0 and search(masa="kedaluwarsa")["count"] == 0
    year = dt.date.fromisoformat(arsip["tanggal_ttd"]).year
    assert search(tahun=year)["count"] == 1 and search(tahun=year - 1)["count"] == 0
    assert search(opd="lingkungan hidup")["count"] == 1
    assert search(q="%")["count"] == 0  # LIKE wildcards are searched literally
    assert search(limit=1, offset=1) == {"data": [], "count": 1}
    r = api.client.get("/api/v1/arsip", params={"masa": "selamanya"}, headers=api.auth("secretariat"))
    assert r.status_code == 422


def test_archiving_refuses_an_unsigned_naskah_and_a_tampered_original_is_an_alarm(
    signers_api, dev_pki, counterparty_pki
):
    api = signers_api
    unsigned = fully_initialled(api)
    r = api.client.post(f"/api/v1/naskah/{unsigned}/archive", headers=api.auth("secretariat"))
    assert r.status_code == 409 and r.json()["code"] == "action_not_available"

    nid = signed_kb(api, dev_pki, counterparty_pki)
    arsip = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat")).json()
    store = api.services.archive_store
    if not isinstance(store, LocalObjectStore):
        pytest.skip("the bytes of an S3 object cannot be changed in place")
    blob = Path(store.root, *arsip["key"].split("/"), f"{arsip['version_id']}.blob")
    os.chmod(blob, 0o644)  # what an intruder with file access would do
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    r = api.client.get(f"/api/v1/arsip/{arsip['id']}/original.pdf", headers=api.auth("secretariat"))
    assert r.status_code == 500 and r.json()["code"] == "integrity_alarm"


@pytest.mark.parametrize("services", ["sqlite-s3"], indirect=True)
def test_timestamp_renewal_adds_a_locked_version_and_keeps_the_old_one(signers_api, dev_pki, counterparty_pki):
    from pipeline.archival.archive import renew_timestamps

    api = signers_api
    nid = signed_kb(api, dev_pki, counterparty_pki)
    arsip = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat")).json()
    assert renew_timestamps(api.services, margin_days=30) == []  # the TSA certificate is good for years

    (done,) = renew_timestamps(api.services, margin_days=100 * 365)  # as if it were about to expire
    assert done.arsip_id == arsip["id"] and done.version_id != arsip["version_id"]
    store = api.services.archive_store
    assert store is not None
    old = store.get(arsip["key"], arsip["version_id"], sha256=arsip["sha256"])
    new = api.client.get(f"/api/v1/arsip/{arsip['id']}/original.pdf", headers=api.auth("secretariat")).content
    assert new.startswith(old) and len(new) > len(old)
    report = verify_pdf(new, api.services.trust_roots)
    assert report.ok and report.document_timestamps == 2
    for version in (arsip["version_id"], done.version_id):
        with pytest.raises(ObjectLocked):
            store.delete(arsip["key"], version)
    r = api.client.get(f"/api/v1/arsip/{arsip['id']}/verify", headers=api.auth("secretariat"))
    assert r.json()["ok"] is True and r.json()["sha256"] == done.sha256


@pytest.mark.parametrize("services", ["postgres-local"], indirect=True)
def test_an_archived_original_still_verifies_after_the_signer_certificate_expired(
    signers_api, dev_pki, counterparty_pki
):
    import time

    api = signers_api
    nid = fully_initialled(api)
    steps = [{"pihak_urutan": 2, "username": "walikota"}, {"pihak_urutan": 1, "username": "bupati"}]
    r = api.client.post(
        f"/api/v1/naskah/{nid}/signature-plan", json={"mode": "tatap_muka", "steps": steps}, headers=api.auth("drafter")
    )
    assert r.status_code == 201, r.text
    walikota = counterparty_pki.issue_person("H. Rahmad Mas'ud, S.E., M.E.").to_pkcs12("k")
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=8)
    bupati = dev_pki.issue_person("dr. Fahmi Fadli", not_after=expires).to_pkcs12("k")
    for who, p12 in (("walikota", walikota), ("bupati", bupati)):
        r = api.client.post(
            f"/api/v1/naskah/{nid}/sign",
            files={"p12": ("k.p12", p12, "application/x-pkcs12")},
            data={"passphrase": "k"},
            headers=api.auth(who),
        )
        assert r.status_code == 200, r.text
    arsip = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat")).json()
    time.sleep(max(0.0, (expires - dt.datetime.now(dt.UTC)).total_seconds()) + 1)

    original = api.client.get(f"/api/v1/arsip/{arsip['id']}/original.pdf", headers=api.auth("secretariat")).content
    now = verify_pdf(original, api.services.trust_roots)
    assert not now.ok  # checked "now", the Bupati's certificate has expired
    r = api.client.get(f"/api/v1/arsip/{arsip['id']}/verify", headers=api.auth("secretariat"))
    body = r.json()
    assert r.status_code == 200 and body["ok"] is True, __import__("json").dumps(
        body, indent=1
    )  # at the time the document timestamp proves
    assert dt.datetime.fromisoformat(body["divalidasi_pada"]) < expires
    assert [s["pades_level"] for s in body["signatures"]] == ["B-LTA", "B-LTA"]
    assert all(dt.datetime.fromisoformat(s["validated_at"]) < expires for s in body["signatures"])


@pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)
def test_the_archive_chain_judges_each_timestamp_at_the_time_the_next_one_proves(
    signers_api, dev_pki, counterparty_pki, tmp_path
):
    """B-LTA over the years: the first TSA's certificate expires, the renewal's TSA got its
    certificate after the first timestamp was made; the archive still verifies, and the version
    that was not renewed in time says so."""
    import time

    from pipeline.archival.archive import renew_timestamps

    api = signers_api
    nid = signed_kb(api, dev_pki, counterparty_pki)
    short_end = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=12)
    api.services.tsa_url = dev_pki.issue_tsa("singkat", not_after=short_end)
    arsip = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat")).json()
    time.sleep(2.5)  # whole seconds in certificates, 1 s tolerance in the validator: start clearly later
    api.services.tsa_url = dev_pki.issue_tsa("penerus", not_before=dt.datetime.now(dt.UTC))
    (done,) = renew_timestamps(api.services, margin_days=30)  # the short TSA ends within the margin
    assert done.old_expiry is not None and done.old_expiry <= short_end
    time.sleep(max(0.0, (short_end - dt.datetime.now(dt.UTC)).total_seconds()) + 1)

    r = api.client.get(f"/api/v1/arsip/{arsip['id']}/verify", headers=api.auth("secretariat"))
    body = r.json()
    assert r.status_code == 200 and body["ok"] is True, body
    first, second = body["timestamps"]
    assert first["ok"] and second["ok"]
    assert "singkat" in first["tsa"] and "penerus" in second["tsa"]
    assert first["validated_at"] == second["time"]  # the first TSA is judged when the second proves
    assert second["validated_at"] == second["time"] and dt.datetime.fromisoformat(second["tsa_valid_until"]) > (
        dt.datetime.now(dt.UTC)
    )
    assert dt.datetime.fromisoformat(first["tsa_valid_until"]) < dt.datetime.now(dt.UTC)  # long expired now
    for s in body["signatures"]:  # each signature at the time its own timestamp proves
        assert s["bottom_line"] == "ok" and s["pades_level"] == "B-LTA", s
        assert s["validated_at"] == s["timestamp"]
    assert body["divalidasi_pada"] == first["time"]

    store = api.services.archive_store
    assert store is not None
    renewed = store.get(arsip["key"], done.version_id, sha256=done.sha256)
    moment = dt.datetime.fromisoformat(first["time"])
    at_first = verify_pdf(renewed, api.services.trust_roots, moment=moment)
    assert not at_first.ok  # all at the first timestamp's time: the successor TSA was not valid yet
    old = store.get(arsip["key"], arsip["version_id"], sha256=arsip["sha256"])
    stale = verify_pdf(old, api.services.trust_roots, archival=True)
    assert not stale.ok and stale.bottom_line == "untrusted"
    assert all(s.bottom_line == "ok" for s in stale.signatures)  # the signatures were fine...
    assert "perbarui-cap-waktu" in " ".join(stale.problems)  # ...but the proof was not renewed in time

    for data, ok in ((renewed, True), (old, False)):  # an uploaded copy, over the API
        r = api.client.post(
            "/api/v1/verify",
            files={"file": ("asli.pdf", data, "application/pdf")},
            data={"arsip": "true"},
            headers=api.auth("secretariat"),
        )
        assert r.status_code == 200 and r.json()["ok"] is ok, r.text

    # The same from the command line, for an original kept outside the system.
    from typer.testing import CliRunner

    from api.cli import app

    roots = [arg for pki in (dev_pki, counterparty_pki) for arg in ("--trust", str(pki.roots_pem))]
    for name, data, code in (("baru.pdf", renewed, 0), ("lama.pdf", old, 8)):
        path = tmp_path / name
        path.write_bytes(data)
        r = CliRunner().invoke(app, ["verify", str(path), *roots, "--arsip"])
        assert r.exit_code == code, r.output
        assert "cap waktu dokumen" in r.output
    assert "perbarui-cap-waktu" in r.output  # the version that was not renewed
    r = CliRunner().invoke(app, ["verify", str(tmp_path / "baru.pdf"), *roots])
    assert r.exit_code == 8  # judged today, the first TSA's certificate has expired


@pytest.mark.parametrize("services", ["sqlite-local", "sqlite-s3"], indirect=True)
def test_locked_versions_no_record_points_at_are_reported(signers_api, dev_pki, counterparty_pki):
    from pipeline.archival.archive import orphans, renew_timestamps

    api = signers_api
    nid = signed_kb(api, dev_pki, counterparty_pki)
    arsip = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth("secretariat")).json()
    renew_timestamps(api.services, margin_days=100 * 365)  # a second, recorded version of the same key
    assert orphans(api.services) == []

    # what an archive killed after storing its object leaves behind
    retain = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    stray = api.services.put_archive("arsip/2026/kb-999.pdf", b"%PDF-1.7 sisa", "application/pdf", retain)
    again = api.services.put_archive(arsip["key"], b"%PDF-1.7 kalah balapan", "application/pdf", retain)
    assert sorted(orphans(api.services)) == sorted(
        [("arsip/2026/kb-999.pdf", stray.version_id), (arsip["key"], again.version_id)]
    )
