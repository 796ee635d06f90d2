"""One workflow step in a process of its own, for the crash tests: ``python -m tests.crash_child SPEC.json``.

``tests/test_crash_recovery.py`` runs this against its own PostgreSQL database and object stores
and SIGKILLs it in the middle of the step.  The services are built from settings exactly as
``naskah serve`` builds them (``api.config.build_services``); the database connections carry the
application name ``naskah-crash-child`` so the test can see in ``pg_stat_activity`` where they wait.

SPEC (JSON): ``action`` (``sign``, ``archive`` or ``render``), ``naskah_id``, ``username``,
``database_url``, ``storage_url``, ``trust_roots`` (PEM paths, ``:``-separated), ``tsa_url``;
for ``sign`` also ``p12`` (a path) and ``passphrase``; for ``render`` ``converter_url`` (a
unoserver, ``host:port``) and ``data``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from sqlmodel import select

from api.config import Settings, build_services
from pipeline.archival import archive
from pipeline.drafting import revisions
from pipeline.drafting.convert import RemoteConverter
from pipeline.models import User
from pipeline.sign import signature_plan
from pipeline.sign.signers import Pkcs12Backend
from storage.db import session_scope

APPLICATION_NAME = "naskah-crash-child"


class _NoConverter:
    """Signing and archiving never convert."""

    def to_pdf(self, docx: bytes) -> bytes:
        raise RuntimeError("no converter in the crash child")

    def close(self) -> None:
        return None


def run(spec: dict[str, Any]) -> str:
    url = spec["database_url"]
    settings = Settings(
        database_url=f"{url}{'&' if '?' in url else '?'}application_name={APPLICATION_NAME}",
        storage_url=spec["storage_url"],
        trust_roots=spec["trust_roots"],
        tsa_url=spec["tsa_url"],
        migrate_on_start=False,
    )
    converter = RemoteConverter(spec["converter_url"]) if spec.get("converter_url") else _NoConverter()
    svc = build_services(settings, converter=converter)
    try:
        with session_scope(svc.engine) as session:
            user = session.exec(select(User).where(User.username == spec["username"])).one()
        naskah_id = int(spec["naskah_id"])
        if spec["action"] == "sign":
            backend = Pkcs12Backend(data=Path(spec["p12"]).read_bytes())
            step = signature_plan.sign_step(svc, user, naskah_id, backend, spec["passphrase"])
            return f"signed step {step.urutan}"
        if spec["action"] == "archive":
            arsip = archive.archive_naskah(svc, user, naskah_id)
            return f"archived as {arsip.key}@{arsip.version_id}"
        if spec["action"] == "render":
            revision = revisions.render_revision(svc, user, naskah_id, spec.get("data") or {}, "revisi di proses anak")
            return f"revision {revision.number} stored"
        raise SystemExit(f"unknown action {spec['action']!r}")
    finally:
        svc.close()


if __name__ == "__main__":
    print(run(json.loads(Path(sys.argv[1]).read_text())), flush=True)
