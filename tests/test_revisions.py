"""Write order and reconcile: a crash between the steps never leaves a half-visible revision."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlmodel import select

from api.demo import CASE_FIELDS, demo_case
from pipeline.auth import create_user
from pipeline.drafting import cases, revisions
from pipeline.drafting.docxcheck import DocxLimits
from pipeline.drafting.templates import sample_data
from pipeline.errors import ActionNotAvailable, Conflict, StorageUnavailable
from pipeline.models import Naskah, Revision, RevisionState
from pipeline.services import Services
from storage.db import session_scope
from storage.objects import LocalObjectStore
from tests.fixtures.app import make_db

DAY = date(2026, 11, 23)


@pytest.fixture
def svc(tmp_path, converter, registry, request):
    engine = make_db("sqlite", tmp_path, request)  # a copy of the migrated template
    s = Services(
        engine=engine,
        store=LocalObjectStore.create(tmp_path / "objects"),
        converter=converter,
        templates=registry,
        docx_limits=DocxLimits(),
    )
    yield s
    engine.dispose()


@pytest.fixture
def drafter(svc):
    with session_scope(svc.engine) as session:
        return create_user(session, username="analis", nama="Analis", jabatan="Analis Kerja Sama", roles=["drafter"])


@pytest.fixture
def kb(svc, drafter):
    with session_scope(svc.engine) as session:
        case_id = cases.create_case(session, drafter, demo_case(DAY)).id
    data = {k: v for k, v in sample_data("KB").items() if k not in CASE_FIELDS}
    body = cases.NaskahInput(jenis="KB", nomor={1: "100.3.7.1/1/Tapem/2026", 2: "100.3.7.1/2/Pem/2026"}, data=data)
    naskah, _ = revisions.create_naskah(svc, drafter, case_id, body)
    return naskah


def rows(svc, naskah_id):
    with session_scope(svc.engine) as session:
        return session.exec(select(Revision).where(Revision.naskah_id == naskah_id).order_by(Revision.number)).all()


class FailingStore:
    """The real local store, except that puts fail after ``ok`` successful ones (a crash or an outage)."""

    def __init__(self, inner, ok: int, exc: Exception):
        self.inner, self.ok, self.exc = inner, ok, exc

    def put(self, key, data, *, content_type="application/octet-stream"):
        if self.ok <= 0:
            raise self.exc
        self.ok -= 1
        return self.inner.put(key, data, content_type=content_type)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_store_failure_between_docx_and_pdf_leaves_nothing_visible(svc, drafter, kb):
    from storage.objects import StoreUnavailable

    real = svc.store
    svc.store = FailingStore(real, ok=1, exc=StoreUnavailable("down"))
    with pytest.raises(StorageUnavailable):
        revisions.render_revision(svc, drafter, kb.id, {"tempat": "Tanah Grogot"})
    svc.store = real
    assert [r.number for r in rows(svc, kb.id)] == [1]  # pending row removed at once
    with session_scope(svc.engine) as session:
        assert [r.number for r in revisions.list_revisions(session, drafter, kb.id, profile=svc.profile)] == [1]
    rev = revisions.render_revision(svc, drafter, kb.id, {"tempat": "Tanah Grogot"})
    assert rev.number == 2


def test_crash_after_pending_row_is_discarded_by_reconcile(svc, drafter, kb):
    class Crash(BaseException):
        """Stands for the process being killed: nothing after it runs."""

    real = svc.store
    svc.store = FailingStore(real, ok=1, exc=Crash())
    original = revisions._discard_pending
    revisions._discard_pending = lambda *a: None  # a killed process cleans nothing up
    try:
        with pytest.raises(Crash):
            revisions.render_revision(svc, drafter, kb.id, {"tempat": "Tanah Grogot"})
    finally:
        revisions._discard_pending = original
        svc.store = real
    assert [r.state for r in rows(svc, kb.id)] == ["complete", "pending"]
    with session_scope(svc.engine) as session:
        assert len(revisions.list_revisions(session, drafter, kb.id, profile=svc.profile)) == 1  # invisible
    assert revisions.reconcile(svc, older_than=timedelta(hours=1)) == []  # too young: may still be running
    result = revisions.reconcile(svc, older_than=timedelta(0))
    assert [(r.number, r.outcome) for r in result] == [(2, "discarded")]
    assert [r.number for r in rows(svc, kb.id)] == [1]


def test_crash_after_both_objects_is_completed_by_reconcile(svc, drafter, kb):
    class Crash(BaseException):
        pass

    def crash(*_a, **_k):
        raise Crash()

    original = revisions.actions.check
    calls = {"n": 0}

    def check_then_crash(*a, **k):  # the 2nd check is the one inside step 3
        calls["n"] += 1
        if calls["n"] == 2:
            crash()
        return original(*a, **k)

    revisions.actions.check = check_then_crash
    saved = revisions._discard_pending
    revisions._discard_pending = lambda *a: None
    try:
        with pytest.raises(Crash):
            revisions.render_revision(svc, drafter, kb.id, {"tempat": "Samarinda"})
    finally:
        revisions.actions.check = original
        revisions._discard_pending = saved
    assert [r.state for r in rows(svc, kb.id)] == ["complete", "pending"]
    result = revisions.reconcile(svc, older_than=timedelta(0))
    assert [(r.number, r.outcome) for r in result] == [(2, "completed")]
    with session_scope(svc.engine) as session:
        rev2 = revisions.get_revision(session, drafter, kb.id, 2, profile=svc.profile)
    data = revisions.read_revision_file(svc, rev2, "docx")
    assert "Samarinda" in " ".join(revisions.docx_paragraphs(data))


def test_concurrent_revisions_get_distinct_numbers_and_none_is_lost(svc, drafter, kb):
    results, errors = [], []

    def work(i):
        try:
            results.append(revisions.render_revision(svc, drafter, kb.id, {"tempat": f"Tempat {i}"}).number)
        except Conflict as exc:  # the optimistic lock may refuse the slower one: it can simply retry
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) + len(errors) == 3 and results
    assert len(set(results)) == len(results)
    complete = [r for r in rows(svc, kb.id) if r.state == RevisionState.COMPLETE.value]
    assert len(complete) == 1 + len(results)
    assert all(r.state == RevisionState.COMPLETE.value for r in rows(svc, kb.id))


def test_archived_naskah_cannot_be_revised(svc, drafter, kb):
    with session_scope(svc.engine) as session:
        row = session.get(Naskah, kb.id)
        row.status = "archived"
        session.add(row)
    with pytest.raises(ActionNotAvailable) as info:
        revisions.render_revision(svc, drafter, kb.id, {})
    assert "Diarsipkan" in info.value.message
    assert [r.number for r in rows(svc, kb.id)] == [1]
