"""What start-up made is kept out of the garbage collector's full collections (``api.main``'s
``_freeze_startup_objects``): a full collection of ~300,000 objects stalled every request of the
process for 180-400 ms (bench/web.py's slowest /arsip pages)."""

from __future__ import annotations

import gc
import logging
import re
import time

import pytest
from fastapi.testclient import TestClient

from api.config import Settings
from api.main import create_app

SQLITE = pytest.mark.parametrize("services", ["sqlite-local"], indirect=True)


@SQLITE
def test_start_up_freezes_what_it_made_and_a_full_collection_skips_it(api, caplog):
    settings = Settings(
        database_url="sqlite://",
        storage_url="file:/nonexistent",
        migrate_on_start=False,
        cleanup_on_start=False,
        mail_worker=False,
    )
    app = create_app(settings, api.services)
    gc.unfreeze()  # as in a fresh process: nothing frozen before this app starts
    try:
        started = time.perf_counter()
        gc.collect()
        unfrozen_ms = (time.perf_counter() - started) * 1000
        with caplog.at_level(logging.INFO, logger="api.main"), TestClient(app) as client:
            assert client.get("/healthz").status_code == 200
            frozen = gc.get_freeze_count()
            assert frozen > 10_000  # the modules, routes and models of the app, at least
            assert not any(o is app.router for o in gc.get_objects())  # frozen objects are not tracked
            started = time.perf_counter()
            gc.collect()
            frozen_ms = (time.perf_counter() - started) * 1000
        logged = re.search(r"start-up objects kept out of garbage collection: (\d+)", caplog.text)
        assert logged and int(logged.group(1)) >= frozen - 1000, caplog.text  # some freed since: counted less
        # a full collection now scans only what was made since: a fraction of the work
        assert frozen_ms < unfrozen_ms / 2, (frozen_ms, unfrozen_ms)
    finally:
        gc.unfreeze()
