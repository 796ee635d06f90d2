"""The object store stopped: every call that needs it answers 503, writes nothing, and works once it is back.

The store is moto's S3 server over HTTP, really stopped (``S3Server.outage()``: connections are
refused), not a patched client.  For each call that needs the store (create a naskah, render or
upload a revision, download a revision, paraf, the signature plan, sign, archive, the signed / final
PDF and the archived original) the answer is HTTP 503 ``storage_unavailable`` with an Indonesian
message, and the database is exactly as before: no pending revision, no paraf / signature / archive
row, the same status and lock_version, no audit entry (the chain still verifies).  Then the same call
succeeds.  The store also fails *in the middle* of a call: while a signature is being timestamped
(the test's own gate in front of the TSA holds it there) and, for archiving, the archive store alone
(on a second S3 server) is down when the timestamped original is to be stored.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from sqlmodel import col, func, select

from pipeline.audit import verify_chain
from pipeline.models import (
    Arsip,
    ArsipVersion,
    AuditHead,
    Naskah,
    NaskahEvent,
    NaskahFile,
    Paraf,
    Revision,
    SignaturePlan,
    SignatureStep,
)
from storage.db import session_scope
from storage.objects import S3ObjectStore
from tests.fixtures.s3 import S3Server
from tests.test_api import create_case, create_naskah, naskah_body
from tests.test_workflow import approved_kb, post


@dataclass(frozen=True)
class State:
    """Everything a half-done call could have left behind, for one naskah (and the whole audit chain)."""

    status: str
    lock_version: int
    revisions: tuple[tuple[int, str], ...]
    files: int
    paraf: int
    plans: int
    signed_steps: int
    arsip: int
    arsip_versions: int
    events: int
    audit_seq: int


def state_of(svc, naskah_id: int) -> State:
    """The naskah's rows as the database has them; fails unless the audit chain verifies."""
    with session_scope(svc.engine) as session:
        naskah = session.get(Naskah, naskah_id)
        assert naskah is not None

        def count(model, *where) -> int:
            return session.exec(select(func.count()).select_from(model).where(*where)).one()

        revisions = session.exec(
            select(Revision.number, Revision.state).where(Revision.naskah_id == naskah_id).order_by(Revision.number)
        ).all()
        plan_ids = select(SignaturePlan.id).where(SignaturePlan.naskah_id == naskah_id)
        arsip_ids = select(Arsip.id).where(Arsip.naskah_id == naskah_id)
        report = verify_chain(session)
        assert report.ok, report.to_dict()
        head = session.get(AuditHead, 1)
        assert head is not None
        return State(
            status=naskah.status,
            lock_version=naskah.lock_version,
            revisions=tuple((n, s) for n, s in revisions),
            files=count(NaskahFile, NaskahFile.naskah_id == naskah_id),
            paraf=count(Paraf, Paraf.naskah_id == naskah_id, col(Paraf.voided_at).is_(None)),
            plans=count(SignaturePlan, SignaturePlan.naskah_id == naskah_id),
            signed_steps=count(
                SignatureStep, col(SignatureStep.plan_id).in_(plan_ids), col(SignatureStep.signed_at).is_not(None)
            ),
            arsip=count(Arsip, Arsip.naskah_id == naskah_id),
            arsip_versions=count(ArsipVersion, col(ArsipVersion.arsip_id).in_(arsip_ids)),
            events=count(NaskahEvent, NaskahEvent.naskah_id == naskah_id),
            audit_seq=head.seq,
        )


def assert_storage_unavailable(r, what: str) -> None:
    assert r.status_code == 503, (what, r.status_code, r.text)
    body = r.json()
    assert body["code"] == "storage_unavailable", (what, body)
    assert "Penyimpanan" in body["message"] and "Coba lagi" in body["message"], (what, body)


def sign(api, nid: int, who: str, p12: bytes):
    return api.client.post(
        f"/api/v1/naskah/{nid}/sign",
        files={"p12": ("k.p12", p12, "application/x-pkcs12")},
        data={"passphrase": "k"},
        headers=api.auth(who),
    )


@pytest.mark.parametrize("services", ["postgres-s3"], indirect=True)
def test_drafting_with_the_store_stopped_answers_503_writes_nothing_and_works_once_it_is_back(api, s3_server):
    case_id, other_case = create_case(api), create_case(api)
    nid = create_naskah(api, case_id)["id"]
    rev1 = api.client.get(f"/api/v1/naskah/{nid}/revisions", headers=api.auth("drafter")).json()["data"][0]
    docx = api.client.get(rev1["docx_url"], headers=api.auth("drafter")).content
    drafter = api.auth("drafter")
    calls = {
        "create naskah": (
            lambda: api.client.post(f"/api/v1/cases/{other_case}/naskah", json=naskah_body("KB"), headers=drafter),
            201,
        ),
        "render revision": (
            lambda: api.client.post(
                f"/api/v1/naskah/{nid}/revisions/render", json={"data": {"tempat": "Tanah Grogot"}}, headers=drafter
            ),
            201,
        ),
        "upload revision": (
            lambda: api.client.post(
                f"/api/v1/naskah/{nid}/revisions/upload",
                files={"file": ("kb.docx", docx, "application/octet-stream")},
                headers=drafter,
            ),
            201,
        ),
        "download docx": (lambda: api.client.get(rev1["docx_url"], headers=drafter), 200),
        "download pdf": (lambda: api.client.get(rev1["pdf_url"], headers=drafter), 200),
        "diff": (lambda: api.client.get(f"/api/v1/naskah/{nid}/diff", params={"a": 1, "b": 1}, headers=drafter), 200),
    }
    before = state_of(api.services, nid)
    assert before.revisions == ((1, "complete"),)

    with s3_server.outage():
        for what, (call, _ok) in calls.items():
            assert_storage_unavailable(call(), what)
        assert state_of(api.services, nid) == before  # no pending revision, no step, no audit entry
        case = api.client.get(f"/api/v1/cases/{other_case}", headers=drafter).json()
        assert case["naskah"] == []  # the naskah that could not store its first revision is gone
        with session_scope(api.services.engine) as session:
            assert session.exec(select(Revision).where(Revision.state == "pending")).all() == []

    for what, (call, ok) in calls.items():
        r = call()
        assert r.status_code == ok, (what, r.text)
    after = state_of(api.services, nid)
    assert after.revisions == ((1, "complete"), (2, "complete"), (3, "complete"))
    assert after.lock_version == before.lock_version + 2 and after.audit_seq > before.audit_seq


@pytest.mark.parametrize("services", ["postgres-s3"], indirect=True)
def test_paraf_signing_and_archiving_with_a_store_stopped_answer_503_and_work_once_it_is_back(
    signers_api,
    s3_server,
    dev_pki,
    counterparty_pki,
    tsa_gate,
):
    api = signers_api
    nid = approved_kb(api)

    # paraf: the revision PDF cannot be read (nor the stamped one stored)
    before = state_of(api.services, nid)
    with s3_server.outage():
        assert_storage_unavailable(post(api, f"{nid}/paraf", "kabag_pemerintahan"), "paraf")
        assert state_of(api.services, nid) == before
    for who in ("kabag_pemerintahan", "asisten_umum", "sekda"):
        assert post(api, f"{nid}/paraf", who).status_code == 200

    # the signature plan stores the locked final PDF
    steps = [{"pihak_urutan": 2, "username": "walikota"}, {"pihak_urutan": 1, "username": "bupati"}]
    plan = {"mode": "tatap_muka", "steps": steps}
    before = state_of(api.services, nid)
    with s3_server.outage():
        r = api.client.post(f"/api/v1/naskah/{nid}/signature-plan", json=plan, headers=api.auth("drafter"))
        assert_storage_unavailable(r, "signature plan")
        assert state_of(api.services, nid) == before
    r = api.client.post(f"/api/v1/naskah/{nid}/signature-plan", json=plan, headers=api.auth("drafter"))
    assert r.status_code == 201, r.text

    # signing, the store down from the start
    walikota = counterparty_pki.issue_person("H. Rahmad Mas'ud, S.E., M.E.").to_pkcs12("k")
    bupati = dev_pki.issue_person("dr. Fahmi Fadli").to_pkcs12("k")
    before = state_of(api.services, nid)
    with s3_server.outage():
        assert_storage_unavailable(sign(api, nid, "walikota", walikota), "sign")
        assert state_of(api.services, nid) == before

    # signing, the store going down in the middle: the document was read and is being timestamped
    api.services.tsa_url = tsa_gate.url
    tsa_gate.hold()
    answer = {}
    signing = threading.Thread(target=lambda: answer.setdefault("r", sign(api, nid, "walikota", walikota)))
    signing.start()
    try:
        assert tsa_gate.wait_held(), "the signature never asked for its timestamp"
        s3_server.stop()
        tsa_gate.release()
        signing.join(60)
        assert not signing.is_alive()
    finally:
        tsa_gate.release()
        s3_server.start()
    assert_storage_unavailable(answer["r"], "sign, store lost while timestamping")
    assert tsa_gate.forwarded >= 1  # the signature was made and timestamped; only storing it failed
    assert state_of(api.services, nid) == before

    assert sign(api, nid, "walikota", walikota).status_code == 200
    assert sign(api, nid, "bupati", bupati).status_code == 200
    signed = state_of(api.services, nid)
    assert signed.status == "signed" and signed.signed_steps == 2

    # downloads that need the store, and archiving while the working store is down
    secretariat = api.auth("secretariat")
    with s3_server.outage():
        for path in ("signed.pdf", "final.pdf", "revisions/1/pdf"):
            assert_storage_unavailable(api.client.get(f"/api/v1/naskah/{nid}/{path}", headers=secretariat), path)
        assert_storage_unavailable(api.client.post(f"/api/v1/naskah/{nid}/archive", headers=secretariat), "archive")
        assert state_of(api.services, nid) == signed  # not even a download was recorded

    # the archive store alone down: verified and timestamped, then the locked original cannot be stored
    arsip_s3 = S3Server()
    arsip_s3.start()
    try:
        api.services.archive_store = S3ObjectStore(arsip_s3.client(), arsip_s3.new_bucket_name(), object_lock=True)
        with arsip_s3.outage():
            r = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=secretariat)
            assert_storage_unavailable(r, "archive, archive store down")
            assert state_of(api.services, nid) == signed
        r = api.client.post(f"/api/v1/naskah/{nid}/archive", headers=secretariat)
        assert r.status_code == 201, r.text
        arsip = r.json()
        archived = state_of(api.services, nid)
        assert archived.status == "archived" and archived.arsip == 1 and archived.arsip_versions == 1

        with arsip_s3.outage():
            for path in ("original.pdf", "verify"):
                r = api.client.get(f"/api/v1/arsip/{arsip['id']}/{path}", headers=secretariat)
                assert_storage_unavailable(r, path)
            assert state_of(api.services, nid) == archived
        r = api.client.get(f"/api/v1/arsip/{arsip['id']}/original.pdf", headers=secretariat)
        assert r.status_code == 200 and r.headers["X-Content-SHA256"] == arsip["sha256"]
        assert api.client.get(f"/api/v1/arsip/{arsip['id']}/verify", headers=secretariat).json()["ok"] is True
    finally:
        arsip_s3.stop()
