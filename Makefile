# Two commands do all set-up on a fresh Debian machine:  make demo  |  make test
# They create .venv, install the project, and install the Debian packages that are missing
# (as root via apt-get, else via sudo -n); where neither works they stop and say what to install.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Every Python package, pinned: pyproject.toml keeps the ranges (the intent), requirements/lock.txt the
# exact versions a fresh machine installs (runtime and the test extra); `make lock` regenerates it.
LOCK := requirements/lock.txt
LOCK_VENV := .venv-lock
PIP_TOOLS := pip-tools==7.7.0
DEMO_OUT ?= out/demo
# LibreOffice (writer, headless) with python3-uno for the warm converter, poppler for PDF checks,
# the metric-compatible fonts Word documents expect; PostgreSQL and SoftHSM2 (PKCS#11) for the tests;
# libnss3-tools (certutil, pk12util) for the NSS database of poppler's pdfsig, a counterparty's signer in the
# desk-to-desk tests; curl and jq for the README's 'Using it' flow that tests/test_readme.py runs;
# chromium for the browser tests (Playwright drives Debian's own: never `playwright install`).
DEB_RUNTIME := libreoffice-writer-nogui python3-uno poppler-utils fonts-liberation fonts-crosextra-carlito fonts-crosextra-caladea
DEB_TEST := postgresql softhsm2 libnss3-tools curl jq chromium zbar-tools

.PHONY: demo test lint bench bench-web serve clean system-deps system-deps-test venv vendor-web lock lock-upgrade

demo: system-deps $(VENV)/.installed
	$(BIN)/naskah demo --out $(DEMO_OUT)

# The suite in parallel (pytest-xdist), one worker per core: each worker starts its own PostgreSQL, S3
# (moto), LibreOffice and test PKI on free ports and temp directories; a file's tests stay on one worker
# (--dist loadfile) so module fixtures are built once.  TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto

test: system-deps system-deps-test $(VENV)/.installed lint
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=25

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: system-deps system-deps-test $(VENV)/.installed
	$(BIN)/python bench/convert.py
	$(BIN)/python bench/render.py
	$(BIN)/python bench/sign.py
	$(BIN)/python bench/archive_load.py
	$(BIN)/python bench/preview.py
	$(BIN)/python bench/web.py

# The web pages under load alone (bench/web.py): /arsip with 100,000 records and 32 signed-in sessions,
# /verifikasi under 16 concurrent uploads.  BENCH_WEB_ARGS passes options, e.g. "--keep" to keep the
# seeded database for the next run, or "--records 10000 --seconds 5" for a quick look.
BENCH_WEB_ARGS ?=
bench-web: system-deps system-deps-test $(VENV)/.installed
	$(BIN)/python bench/web.py $(BENCH_WEB_ARGS)

# The web pages and the API on the demo's data (make demo first; it runs here when there is none):
# http://127.0.0.1:8000/ , sign in with an account the demo printed (also in out/demo/report.json).
DEMO_ABS = $(abspath $(DEMO_OUT))
serve: system-deps $(VENV)/.installed
	@test -f $(DEMO_OUT)/report.json || $(BIN)/naskah demo --out $(DEMO_OUT)
	NASKAH_DATABASE_URL=sqlite:///$(DEMO_ABS)/naskah.db NASKAH_STORAGE_URL=file:$(DEMO_ABS)/objects \
	NASKAH_ARCHIVE_STORAGE_URL=file:$(DEMO_ABS)/arsip NASKAH_TRUST_ROOTS=$(DEMO_ABS)/pki/roots.pem \
	  $(BIN)/naskah serve

# Refresh the vendored front-end files (Swagger UI, ReDoc, ...) from package.json + package-lock.json.
# Needs npm and the npm registry; never part of demo/test: the app serves the committed copies.
vendor-web: $(VENV)/.installed
	$(BIN)/python tools/vendor_web.py

system-deps:
	@$(call apt_ensure,$(DEB_RUNTIME))

system-deps-test:
	@$(call apt_ensure,$(DEB_TEST))

define apt_ensure
missing=""; for p in $(1); do \
  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
done; \
if [ -n "$$missing" ]; then \
  echo "Installing missing Debian packages:$$missing"; \
  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else \
    echo "ERROR: cannot install packages (not root, no passwordless sudo). Please run:"; \
    echo "  sudo apt-get install -y --no-install-recommends$$missing"; exit 1; fi; \
  export DEBIAN_FRONTEND=noninteractive; \
  ( $$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends $$missing ) > /tmp/naskah-apt.log 2>&1 || { \
    tail -20 /tmp/naskah-apt.log; echo "ERROR: apt-get failed. Please install:$$missing"; exit 1; }; \
fi
endef

$(VENV)/bin/python:
	@$(PYTHON) -m venv $(VENV) || { echo "ERROR: cannot create a virtualenv: install python3-venv (sudo apt-get install python3-venv)"; exit 1; }

$(VENV)/.installed: pyproject.toml $(LOCK) $(VENV)/bin/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r $(LOCK)
	$(BIN)/pip install -q --no-deps -e .
	$(BIN)/pip check
	@touch $@

# Regenerate the lock after a dependency was added or its range changed in pyproject.toml: pins that
# still fit are kept, new packages get the newest version that fits.  `make lock-upgrade` moves every
# pin to the newest version within the ranges (then run `make test`).  pip-compile runs in a venv of
# its own so that pip-tools never enters the project's.
lock: $(LOCK_VENV)/.installed
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile -q $(LOCK_FLAGS) --extra test --strip-extras --allow-unsafe \
	  --no-emit-index-url --no-emit-find-links --output-file $(LOCK) pyproject.toml

lock-upgrade:
	$(MAKE) lock LOCK_FLAGS=--upgrade

$(LOCK_VENV)/.installed:
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install -q $(PIP_TOOLS)
	@touch $@

clean:
	rm -rf $(VENV) $(LOCK_VENV) var out .pytest_cache .ruff_cache
