"""Two requests racing for the same signature step, or to archive the same naskah: exactly one wins.

On PostgreSQL, over the API, from two threads.  So that the race is real and not two requests that
happen to run one after the other, both are held at the test's gate in front of the TSA until both
have passed every check and made their signature (or document timestamp); released together, they
reach the final transaction at the same moment, where the naskah's optimistic lock (and the unique
archive record per naskah) lets one commit.  The other gets a 409 with an Indonesian message, and the
state holds one signature per step (one Arsip row, one ARCHIVE event); the loser's object is an
unreferenced version in the store.  Two requests making (or replacing) the signature plan at once leave
one plan.  (Racing paraf: ``tests/test_workflow.py``.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

import pytest
from sqlmodel import select

from pipeline.audit import verify_chain
from pipeline.auth import create_user, issue_token
from pipeline.models import Arsip, AuditEntry, NaskahEvent, NaskahFile, SignaturePlan, SignatureStep
from pipeline.sign.verify import verify_pdf
from storage.db import session_scope
from tests.test_archive import signed_kb
from tests.test_crash_recovery import WALIKOTA, planned_kb
from tests.test_signing_flow import fully_initialled
from tests.test_store_outage import sign, state_of

BACKENDS = ["postgres-local", "postgres-s3"]


def race(gate, *calls: Callable[[], object]) -> list:
    """Run ``calls`` at once, each held at ``gate`` until all are there; their results, in order."""
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int, call: Callable[[], object]) -> None:
        try:
            results[i] = call()
        except BaseException as exc:  # an unhandled server error surfaces here (TestClient re-raises)
            errors.append(exc)

    gate.hold()
    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    try:
        assert gate.wait_held(len(calls), timeout=120), "not every request reached its timestamp"
    finally:
        gate.release()
        for t in threads:
            t.join(120)
    if errors:
        raise errors[0]
    return results


def one_winner(responses: list, ok: int) -> dict:
    """Exactly one ``ok``; the other a 409 a person can act on.  Returns the loser's body."""
    codes = sorted(r.status_code for r in responses)
    assert codes == [ok, 409], [(r.status_code, r.text[:300]) for r in responses]
    loser = next(r for r in responses if r.status_code == 409).json()
    assert loser["code"] == "conflict" and ("lain" in loser["message"] or "bersamaan" in loser["message"]), loser
    return loser


@pytest.mark.parametrize("services", BACKENDS, indirect=True)
def test_two_requests_racing_for_the_same_signature_exactly_one_succeeds(
    signers_api,
    dev_pki,
    counterparty_pki,
    tsa_gate,
):
    api = signers_api
    nid = planned_kb(api)
    api.services.tsa_url = tsa_gate.url
    walikota = counterparty_pki.issue_person(WALIKOTA).to_pkcs12("k")
    bupati = dev_pki.issue_person("dr. Fahmi Fadli").to_pkcs12("k")
    before = state_of(api.services, nid)

    for step, (who, p12) in enumerate((("walikota", walikota), ("bupati", bupati)), start=1):

        def signs(who: str = who, p12: bytes = p12):
            return sign(api, nid, who, p12)

        one_winner(race(tsa_gate, signs, signs), 200)
        state = state_of(api.services, nid)
        assert state.signed_steps == step and state.lock_version == before.lock_version + step
        key = f"naskah/{nid}/ttd-{step}-signed.pdf"
        versions = api.services.store.versions(key)
        assert len(versions) == 2  # both signed and stored; one is recorded
        with session_scope(api.services.engine) as session:
            files = session.exec(select(NaskahFile).where(NaskahFile.key == key)).all()
        assert [f.version_id for f in files] == [versions[0].version_id] or [f.version_id for f in files] == [
            versions[1].version_id
        ]

    assert state.status == "signed"
    plan = api.client.get(f"/api/v1/naskah/{nid}/signature-plan", headers=api.auth("drafter")).json()
    assert [s["status"] for s in plan["steps"]] == ["sudah", "sudah"] and plan["next"] is None
    signed = api.client.get(f"/api/v1/naskah/{nid}/signed.pdf", headers=api.auth("secretariat")).content
    report = verify_pdf(signed, api.services.trust_roots)
    assert report.ok and [s.field for s in report.signatures] == ["ttd_pihak_2", "ttd_pihak_1"]
    with session_scope(api.services.engine) as session:
        events = session.exec(select(NaskahEvent.action).where(NaskahEvent.naskah_id == nid)).all()
        audit = session.exec(select(AuditEntry.action).where(AuditEntry.naskah_id == nid)).all()
        assert verify_chain(session).ok
    assert events.count("sign") == 2 and audit.count("sign") == 2


@pytest.mark.parametrize("services", BACKENDS, indirect=True)
def test_two_secretariat_users_archiving_at_once_make_one_archive_record(
    signers_api,
    dev_pki,
    counterparty_pki,
    tsa_gate,
):
    api = signers_api
    with session_scope(api.services.engine) as session:
        other = create_user(
            session, username="sekretariat2", nama="Siti Aminah", jabatan="Sekretariat TKKSD", roles=["secretariat"]
        )
        api.tokens["sekretariat2"] = issue_token(session, other)
    nid = signed_kb(api, dev_pki, counterparty_pki)
    api.services.tsa_url = tsa_gate.url
    before = state_of(api.services, nid)

    def archive(who: str):
        return lambda: api.client.post(f"/api/v1/naskah/{nid}/archive", headers=api.auth(who))

    responses = race(tsa_gate, archive("secretariat"), archive("sekretariat2"))
    one_winner(responses, 201)
    arsip = next(r for r in responses if r.status_code == 201).json()

    after = state_of(api.services, nid)
    assert after.status == "archived" and after.lock_version == before.lock_version + 1
    assert after.arsip == 1 and after.arsip_versions == 1 and after.events == before.events + 1
    with session_scope(api.services.engine) as session:
        assert len(session.exec(select(Arsip)).all()) == 1
        audit = session.exec(select(AuditEntry.action).where(AuditEntry.naskah_id == nid)).all()
    assert audit.count("archive") == 1
    store = api.services.archive_store
    assert store is not None
    key = f"arsip/{datetime.now(api.services.profile.tz).year}/kb-{nid}.pdf"
    versions = store.versions(key)
    assert len(versions) == 2 and arsip["version_id"] in {v.version_id for v in versions}  # the loser's stays locked
    r = api.client.get(f"/api/v1/arsip/{arsip['id']}/original.pdf", headers=api.auth("sekretariat2"))
    assert r.status_code == 200 and r.headers["X-Content-SHA256"] == arsip["sha256"]


@pytest.mark.parametrize("services", ["postgres-local"], indirect=True)
def test_signature_plans_made_at_once_or_replaced_leave_exactly_one_plan(api):
    nid = fully_initialled(api, "desk")

    def plans_at_once() -> list[int]:
        barrier = threading.Barrier(2)
        codes: list[int] = []

        def make(who: str) -> None:
            barrier.wait()
            r = api.client.post(f"/api/v1/naskah/{nid}/signature-plan", json={"mode": "desk"}, headers=api.auth(who))
            assert r.status_code in (201, 409), r.text
            codes.append(r.status_code)

        threads = [threading.Thread(target=make, args=(who,)) for who in ("drafter", "secretariat")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        return sorted(codes)

    def one_plan() -> None:
        with session_scope(api.services.engine) as session:
            (plan,) = session.exec(select(SignaturePlan).where(SignaturePlan.naskah_id == nid)).all()
            assert len(session.exec(select(SignatureStep).where(SignatureStep.plan_id == plan.id)).all()) == 2
            assert verify_chain(session).ok

    # a first plan, then a replacement: each time both succeed one after the other, or one gets a 409
    for _ in range(2):
        assert plans_at_once() in ([201, 201], [201, 409])
        one_plan()
    # replacing a plan that has no signature yet, one request at a time (a 500 on PostgreSQL before:
    # the plan was deleted before its steps)
    r = api.client.post(f"/api/v1/naskah/{nid}/signature-plan", json={"mode": "desk"}, headers=api.auth("drafter"))
    assert r.status_code == 201, r.text
    one_plan()
