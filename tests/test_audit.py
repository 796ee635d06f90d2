"""The hash-chained audit trail: recorded with every action, verified by `naskah audit verify`.

Chain tests run on SQLite and PostgreSQL engines directly; the lifecycle test runs through the
API on every backend.  Tampering is done with raw SQL, as an intruder with database access would.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from datetime import date

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from api.cli import app
from api.demo import demo_case
from pipeline import actions, audit
from pipeline.auth import create_user
from pipeline.drafting import cases
from pipeline.drafting.revisions import derived_file
from pipeline.errors import ActionNotAvailable, Conflict, NotPermitted
from pipeline.lifecycle import Action
from pipeline.models import AuditEntry, AuditHead, Naskah
from storage.db import session_scope
from storage.objects import StoredObject
from tests.fixtures.app import make_db
from tests.test_api import create_case, create_naskah
from tests.test_workflow import post

runner = CliRunner()


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, tmp_path):
    engine = make_db(request.param, tmp_path, request)
    yield engine
    engine.dispose()


def add_user(engine, username: str = "analis", roles: tuple[str, ...] = ("drafter",)):
    with session_scope(engine) as session:
        return create_user(session, username=username, nama="Rina", jabatan="Analis", roles=list(roles))


def seed(engine, n: int = 5) -> list[AuditEntry]:
    user = add_user(engine)
    return [
        audit.record_now(engine, user, audit.AuditAction.DOWNLOAD, sha256=hashlib.sha256(bytes([i])).hexdigest(), i=i)
        for i in range(n)
    ]


def entries(engine) -> list[AuditEntry]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all())


def check(engine) -> audit.ChainReport:
    with Session(engine) as session:
        return audit.verify_chain(session)


def cli_verify(engine, monkeypatch, *args: str):
    monkeypatch.setenv("NASKAH_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    return runner.invoke(app, ["audit", "verify", *args])


def sql(engine, *statements: str) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))


# --- the chain ---------------------------------------------------------------------------------


def test_entries_form_one_chain_from_64_zeros(engine):
    seed(engine, 4)
    rows = entries(engine)
    assert [r.seq for r in rows] == [1, 2, 3, 4]
    assert rows[0].prev_hash == "0" * 64
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.entry_hash
    for row in rows:  # the hash read back from the database is the hash of what was written
        assert audit.entry_hash(row) == row.entry_hash
        assert json.loads(audit.canonical(row))["actor"] == "analis"
    report = check(engine)
    assert report.ok and report.count == 4 and report.head_hash == rows[-1].entry_hash
    with Session(engine) as session:
        head = session.get(AuditHead, 1)
        assert head is not None and (head.seq, head.entry_hash) == (4, rows[-1].entry_hash)


def test_canonical_form_covers_every_field_but_the_hash(engine):
    seed(engine, 1)
    (row,) = entries(engine)
    fields = json.loads(audit.canonical(row))
    assert set(fields) == {c.name for c in AuditEntry.__table__.columns} - {"entry_hash"}
    assert fields["at"].endswith("Z") and fields["detail"] == {"i": 0}
    assert audit.canonical(row) == json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("tamper", "seq", "problem"),
    [
        (["UPDATE audit_entry SET action = 'approve' WHERE seq = 3"], 3, "edited"),
        (["UPDATE audit_entry SET object_sha256 = NULL WHERE seq = 2"], 2, "edited"),
        (["UPDATE audit_entry SET actor = 'orang.lain' WHERE seq = 5"], 5, "edited"),
        (["DELETE FROM audit_entry WHERE seq = 3"], 4, "missing_predecessor"),
        (["DELETE FROM audit_entry WHERE seq IN (1, 2)"], 3, "missing_predecessor"),
        (
            [
                "UPDATE audit_entry SET seq = -1 WHERE seq = 3",
                "UPDATE audit_entry SET seq = 3 WHERE seq = 4",
                "UPDATE audit_entry SET seq = 4 WHERE seq = -1",
            ],
            3,
            "out_of_order",
        ),
        (["DELETE FROM audit_entry WHERE seq = 5"], 5, "missing"),
    ],
    ids=["edit-action", "edit-sha256", "edit-actor", "delete-middle", "delete-first-two", "swap", "delete-newest"],
)
def test_audit_verify_names_the_first_broken_entry(engine, monkeypatch, tamper, seq, problem):
    seed(engine, 5)
    ok = cli_verify(engine, monkeypatch)
    assert ok.exit_code == 0, ok.output
    assert "5 entri" in ok.output and entries(engine)[-1].entry_hash in ok.output

    sql(engine, *tamper)
    result = cli_verify(engine, monkeypatch)
    assert result.exit_code == 7, result.output  # IntegrityAlarm's exit code (api/errors.py)
    assert f"RUSAK pada entri {seq} ({problem})" in result.output
    as_json = cli_verify(engine, monkeypatch, "--json")
    assert as_json.exit_code == 7
    report = json.loads(as_json.stdout)
    assert report["ok"] is False and report["broken"]["seq"] == seq and report["broken"]["problem"] == problem


def test_a_rewritten_entry_with_a_fresh_hash_still_breaks_the_chain(engine):
    seed(engine, 4)
    with Session(engine) as session:
        row = session.get(AuditEntry, 2)
        assert row is not None
        row.actor = "penyusup"
        row.entry_hash = audit.entry_hash(row)  # the intruder recomputes the edited entry's own hash
        session.add(row)
        session.commit()
    report = check(engine)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.problem) == (3, "missing_predecessor") and report.count == 2


def test_audit_verify_json_on_an_intact_chain(engine, monkeypatch):
    seed(engine, 3)
    result = cli_verify(engine, monkeypatch, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report == {
        "ok": True,
        "bottom_line": "ok",
        "count": 3,
        "head_seq": 3,
        "head_hash": entries(engine)[-1].entry_hash,
        "broken": None,
    }


def test_audit_verify_on_an_empty_or_unmigrated_database(tmp_path, monkeypatch, request):
    from storage.db import make_engine

    bare = make_engine(f"sqlite:///{tmp_path}/leer.db")
    result = cli_verify(bare, monkeypatch)
    assert result.exit_code == 3 and "naskah db upgrade" in result.output
    empty = make_db("sqlite", tmp_path / "x", request)
    result = cli_verify(empty, monkeypatch)
    assert result.exit_code == 0 and "0 entri" in result.output


def test_concurrent_appends_give_one_unbroken_chain(engine):
    """Eight threads appending at once (PostgreSQL: the head row lock; SQLite: its write lock)."""
    user = add_user(engine)
    threads, per_thread = 8, 15
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def append(t: int) -> None:
        barrier.wait()
        try:
            for i in range(per_thread):
                with session_scope(engine) as session:
                    audit.record(session, user, audit.AuditAction.DOWNLOAD, thread=t, i=i)
                    session.exec(select(AuditEntry.seq).limit(1)).all()  # more work inside the transaction
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=append, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors
    rows = entries(engine)
    assert [r.seq for r in rows] == list(range(1, threads * per_thread + 1))
    assert len({r.prev_hash for r in rows}) == len(rows)
    report = check(engine)
    assert report.ok and report.count == threads * per_thread


def test_a_failed_action_appends_nothing(engine):
    user = add_user(engine)
    with session_scope(engine) as session:
        case = cases.create_case(session, user, demo_case(date(2026, 11, 23)))
        data = cases.NaskahInput(jenis="KB", nomor={1: "1/2026", 2: "2/2026"})
        naskah = cases.new_naskah(session, user, case, data, "kb/standar", None)
    before = entries(engine)
    assert [e.action for e in before] == ["create_case"]
    # the step itself succeeds and appends, then something later in the same transaction fails
    with pytest.raises(Conflict), session_scope(engine) as session:
        row = session.get(Naskah, naskah.id)
        actions.perform(session, row, user, Action.SUBMIT, sha256="a" * 64)
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "submit")).first() is not None
        raise Conflict()
    # a step the lifecycle refuses (approve from draft, by a drafter) appends nothing either
    with pytest.raises((ActionNotAvailable, NotPermitted)), session_scope(engine) as session:
        actions.perform(session, session.get(Naskah, naskah.id), user, Action.APPROVE)
    assert [e.entry_hash for e in entries(engine)] == [e.entry_hash for e in before]
    assert check(engine).ok
    with session_scope(engine) as session:  # and the chain goes on from where it was
        actions.perform(session, session.get(Naskah, naskah.id), user, Action.SUBMIT)
    after = entries(engine)
    assert [e.seq for e in after] == [1, 2] and after[1].prev_hash == before[0].entry_hash
    assert after[1].naskah_id == naskah.id and after[1].kerja_sama_id == case.id
    assert after[1].detail == {"from_status": "draft", "to_status": "legal_review"}


def test_a_verification_is_recorded_against_our_file(engine):
    user = add_user(engine)
    ours, foreign = b"%PDF-1.7 ours", b"%PDF-1.7 foreign"
    with session_scope(engine) as session:
        case = cases.create_case(session, user, demo_case(date(2026, 11, 23)))
        data = cases.NaskahInput(jenis="KB", nomor={1: "1/2026", 2: "2/2026"})
        naskah = cases.new_naskah(session, user, case, data, "kb/standar", None)
        stored = StoredObject(key="k", version_id="v1", sha256=hashlib.sha256(ours).hexdigest(), size=len(ours))
        session.add(derived_file(naskah.id, "signed", 1, 2, stored, user.id))
    entry = audit.record_verification(engine, user, ours, "ok")
    assert (entry.action, entry.naskah_id, entry.kerja_sama_id) == ("verify", naskah.id, case.id)
    assert entry.object_sha256 == hashlib.sha256(ours).hexdigest() and entry.detail == {"verdict": "ok"}
    other = audit.record_verification(engine, user, foreign, "untrusted")
    assert other.naskah_id is None and other.detail == {"verdict": "untrusted"}
    assert check(engine).ok


# --- through the API ----------------------------------------------------------------------------


def trail(api, nid: int, who: str = "secretariat", **params) -> dict:
    r = api.client.get(f"/api/v1/naskah/{nid}/audit", params=params, headers=api.auth(who))
    assert r.status_code == 200, r.text
    return r.json()


def test_lifecycle_through_the_api_leaves_a_valid_chain(api, monkeypatch):
    case_id = create_case(api)
    nid = create_naskah(api, case_id)["id"]
    get = api.client.get
    r = api.client.post(f"/api/v1/naskah/{nid}/revisions/render", json={"note": "r2"}, headers=api.auth("drafter"))
    assert r.status_code == 201
    rev2 = r.json()
    pdf = get(rev2["pdf_url"], headers=api.auth("legal")).content
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    assert post(api, f"{nid}/return", "legal", "Pasal 3 diperbaiki.").status_code == 200
    r = api.client.post(f"/api/v1/naskah/{nid}/revisions/render", json={"note": "r3"}, headers=api.auth("drafter"))
    rev3 = r.json()
    assert post(api, f"{nid}/submit", "drafter").status_code == 200
    assert post(api, f"{nid}/approve", "legal").status_code == 200
    before = trail(api, nid)["count"]
    assert post(api, f"{nid}/paraf", "sekda").status_code == 403  # out of order: nothing recorded
    assert post(api, f"{nid}/approve", "legal").status_code == 409
    assert trail(api, nid)["count"] == before
    for who in ("kabag_pemerintahan", "asisten_umum", "sekda"):
        assert post(api, f"{nid}/paraf", who).status_code == 200
    final = get(f"/api/v1/naskah/{nid}/final.pdf", headers=api.auth("secretariat")).content

    body = trail(api, nid, limit=200)
    data = body["data"]
    assert [e["action"] for e in data] == [
        "create_naskah",
        "revise",
        "revise",
        "download",
        "submit",
        "return",
        "revise",
        "submit",
        "approve",
        "paraf",
        "paraf",
        "paraf",
        "download",
    ]
    assert body["count"] == len(data)
    assert data[0]["actor"] == "u-drafter" and data[3]["actor"] == "u-legal"
    assert data[2]["sha256"] == rev2["pdf_sha256"] == data[3]["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert data[6]["sha256"] == data[7]["sha256"] == data[8]["sha256"] == rev3["pdf_sha256"]
    assert data[5]["detail"]["note"] == "Pasal 3 diperbaiki." and data[5]["detail"]["to_status"] == "returned"
    assert data[11]["sha256"] == data[12]["sha256"] == hashlib.sha256(final).hexdigest()
    assert data[11]["detail"]["to_status"] == "signing" and data[12]["detail"]["file"] == "final.pdf"
    seqs = [e["seq"] for e in data]
    assert seqs == sorted(seqs) and all(len(e["entry_hash"]) == 64 for e in data)

    page = trail(api, nid, offset=4, limit=3)
    assert page["count"] == len(data) and [e["seq"] for e in page["data"]] == seqs[4:7]
    assert trail(api, nid, who="kabag_pemerintahan")["count"] == len(data)  # anyone who can read
    assert get(f"/api/v1/naskah/{nid}/audit", headers=api.auth("admin")).status_code == 403
    assert get(f"/api/v1/naskah/{nid}/audit").status_code == 401
    assert get("/api/v1/naskah/99999/audit", headers=api.auth("drafter")).status_code == 404

    # the whole database's chain: the case's creation first, then everything above, all intact
    everything = entries(api.services.engine)
    assert everything[0].action == "create_case" and everything[0].kerja_sama_id == case_id
    result = cli_verify(api.services.engine, monkeypatch)
    assert result.exit_code == 0, result.output
    assert f"{len(everything)} entri" in result.output and everything[-1].entry_hash in result.output
