"""Test session set-up: real services, each started once per session (see tests/fixtures/).

A missing tool (PostgreSQL, LibreOffice) fails the run; nothing is skipped silently.
"""

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
