"""Database engine, sessions and migrations (SQLite by default, PostgreSQL in production).

Knows nothing of naskah: callers pass the metadata to compare against.  Migrations are
Alembic scripts in ``storage/migrations``; ``upgrade`` applies them programmatically so
the API can migrate on start and tests can migrate a throw-away database.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from sqlmodel import Session

__all__ = ["MIGRATIONS_DIR", "MIGRATION_LOCK", "alembic_config", "make_engine", "session_scope", "upgrade"]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys on, WAL and a busy timeout.

    A relative SQLite path has its directory created, so the default ``./var/`` works
    with no set-up (not for a ``uri=true`` URL such as ``file:PATH?mode=ro``, which names an
    existing file).
    """
    sa_url = sa.engine.make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        if (path := _sqlite_path(sa_url)) is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = sa.create_engine(sa_url, **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if sa_url.get_backend_name() == "postgresql" and sa_url.drivername == "postgresql":
        sa_url = sa_url.set(drivername="postgresql+psycopg")
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("connect_args", {"connect_timeout": 5})
    return sa.create_engine(sa_url, **kwargs)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    cfg.attributes["engine"] = engine
    return cfg


#: PostgreSQL advisory lock key that makes the processes migrating one database take turns ("nask").
MIGRATION_LOCK = 0x6E61736B


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (idempotent).

    On PostgreSQL under an advisory lock: several API processes starting together (behind a load
    balancer, each migrating on start) migrate one after the other, and the later ones find the
    schema current, instead of failing on each other's half-made tables.  A SQLite file likewise,
    under an exclusive lock on ``<file>.migrate-lock`` (``naskah serve --workers`` on the default
    database: SQLite's DDL here is not transactional).
    """
    if engine.dialect.name != "postgresql":
        with _sqlite_file_lock(engine):
            command.upgrade(alembic_config(engine), revision)
        return
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        conn.commit()
        try:
            command.upgrade(alembic_config(engine), revision)
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            conn.commit()


def _sqlite_path(url: sa.engine.URL) -> Path | None:
    """The file of a SQLite URL given by path (None: in memory, or a ``uri=true`` URL)."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:" or url.query.get("uri"):
        return None
    return Path(url.database).expanduser().resolve()


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """Hold an exclusive lock beside a SQLite database file (nothing for memory or another database)."""
    path = _sqlite_path(engine.url)
    if path is None:
        yield
        return
    lock = path.with_name(path.name + ".migrate-lock")
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        yield


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any exception."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
