"""The API built from plain settings opens its own database and store and migrates on start."""

from __future__ import annotations

import pydantic
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.config import Settings, build_services
from api.main import create_app
from pipeline.sign import fetch


def test_api_applies_migrations_on_start_and_defaults_need_no_setup(tmp_path):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/var/naskah.db", storage_url=f"file:{tmp_path}/var/objects", converter="cold"
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        assert client.get("/api/v1/cases").status_code == 401
    engine = sa.create_engine(f"sqlite:///{tmp_path}/var/naskah.db")
    tables = set(sa.inspect(engine).get_table_names())
    assert {
        "users",
        "api_tokens",
        "kerja_sama",
        "pihak",
        "naskah",
        "naskah_nomor",
        "revision",
        "alembic_version",
    } <= tables


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NASKAH_DATABASE_URL", "postgresql+psycopg://u:p@db:5432/naskah")
    monkeypatch.setenv("NASKAH_STORAGE_URL", "s3+http://k:s@minio:9000/naskah")
    monkeypatch.setenv("NASKAH_MAX_UPLOAD_MB", "5")
    monkeypatch.setenv("NASKAH_TEMPLATE_DIRS", f"{tmp_path}/a:{tmp_path}/b")
    s = Settings()
    assert s.database_url.startswith("postgresql") and s.storage_url.startswith("s3+http")
    assert s.docx_limits.max_bytes == 5 * 1024 * 1024
    assert [p.name for p in s.template_roots[1:]] == ["a", "b"]


def test_the_fetch_policy_comes_from_the_environment_and_a_bad_entry_stops_the_start_up(monkeypatch, tmp_path):
    monkeypatch.setenv("NASKAH_FETCH_ALLOW", "127.0.0.1:8123, 10.20.0.0/16")
    monkeypatch.setenv("NASKAH_FETCH_TIMEOUT", "3")
    monkeypatch.setenv("NASKAH_FETCH_MAX_CRL_MB", "2")
    settings = Settings(database_url=f"sqlite:///{tmp_path}/n.db", storage_url=f"file:{tmp_path}/o", converter="cold")
    saved = fetch.current_policy()
    try:
        build_services(settings).close()
        policy = fetch.current_policy()
    finally:
        fetch.configure(saved)
    assert policy.refusal("127.0.0.1", 8123) is None and policy.refusal("10.20.1.2", 80) is None
    assert policy.refusal("127.0.0.1", 8124) is not None and policy.refusal("192.168.0.1", 80) is not None
    assert policy.timeout == 3 and policy.max_crl_bytes == 2 * 1024 * 1024

    monkeypatch.setenv("NASKAH_FETCH_ALLOW", "127.0.0.1:8123,ocsp.intranet:80")
    with pytest.raises(pydantic.ValidationError, match=r"ocsp\.intranet:80"):
        Settings()
