"""Every error class has an HTTP status; the models and the migrations agree."""

from __future__ import annotations

import inspect

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import pipeline.models  # noqa: F401  (registers the tables)
from api.errors import STATUS, exit_code, http_status
from pipeline import errors
from storage.db import make_engine, upgrade


def error_classes():
    return [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.NaskahError)]


@pytest.mark.parametrize("cls", error_classes(), ids=lambda c: c.__name__)
def test_every_error_class_maps_to_a_status_and_exit_code(cls):
    exc = cls()
    assert cls in STATUS or any(base in STATUS for base in cls.__mro__[1:])
    assert 400 <= http_status(exc) < 600
    assert exit_code(exc) != 0
    assert exc.message and exc.code


def test_error_codes_are_unique():
    codes = [c.code for c in error_classes()]
    assert len(codes) == len(set(codes))


def test_specific_statuses():
    assert http_status(errors.NotFound()) == 404
    assert http_status(errors.NotPermitted()) == 403
    assert http_status(errors.Unauthenticated()) == 401
    assert http_status(errors.ActionNotAvailable()) == 409
    assert http_status(errors.TemplateDataError()) == 422
    assert http_status(errors.DocumentTooLarge()) == 413
    assert http_status(errors.StorageUnavailable()) == 503


def _diff(url: str) -> list:
    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, SQLModel.metadata)
    engine.dispose()
    return diff


def test_migrations_match_models_on_sqlite(tmp_path):
    assert _diff(f"sqlite:///{tmp_path}/m.db") == []


def test_migrations_match_models_on_postgres(pg_server):
    assert _diff(pg_server.url(pg_server.new_database())) == []


def test_migrations_are_idempotent(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/m.db")
    upgrade(engine)
    upgrade(engine)
    engine.dispose()
