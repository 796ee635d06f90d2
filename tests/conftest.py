"""Test session set-up: real services, each started once per session (see tests/fixtures/).

A missing tool (PostgreSQL, LibreOffice) fails the run; nothing is skipped silently.
"""

import os

from pipeline.sign.signing import configure_tsa_timeout

# The race tests hold TSA requests at a gate until every racer has arrived; on a loaded 2-core machine
# (pytest-xdist, LibreOffice, PostgreSQL) the last one can take longer than the production default.
os.environ.setdefault("NASKAH_TSA_TIMEOUT", "60")
configure_tsa_timeout(float(os.environ["NASKAH_TSA_TIMEOUT"]))
# The API's background mail sender is off in tests (and in the live servers they start) unless a test
# asks for it: a thread reading the database while a test arranges it would only add noise.
os.environ.setdefault("NASKAH_MAIL_WORKER", "0")

pytest_plugins = [
    "tests.fixtures.converter",
    "tests.fixtures.postgres",
    "tests.fixtures.s3",
    "tests.fixtures.app",
    "tests.fixtures.browser",
    "tests.fixtures.gate",
    "tests.fixtures.pki",
    "tests.fixtures.signer_pki",
    "tests.fixtures.softhsm",
]
