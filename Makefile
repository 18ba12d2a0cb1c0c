# ledger-tui: `make demo` opens the console on sample data; `make test` runs everything.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
NODE := $(PYTHON) tools/cassandra/node.py
CASSANDRA_PORT ?= 9042
export LEDGER_TEST_CASSANDRA ?= 127.0.0.1:$(CASSANDRA_PORT)

.PHONY: install demo test test-fast test-install lint cassandra-up cassandra-down cassandra-status bench-load bench-browse bench-http clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing ledger-tui and its test tools into $(VENV) (log: $(VENV)/install.log)"
	@{ $(PY) -m pip install --disable-pip-version-check --upgrade pip \
	  && $(PY) -m pip install --disable-pip-version-check -e '.[test]'; } > $(VENV)/install.log 2>&1 \
	  || { tail -40 $(VENV)/install.log; exit 1; }
	@touch $(STAMP)

demo: install
	$(VENV)/bin/ledger-tui demo

lint: install
	$(VENV)/bin/ruff check ledger_tui tests bench tools
	$(VENV)/bin/ruff format --check ledger_tui tests bench tools
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

# The wheel, installed into a fresh virtualenv, used from a directory outside the repo.
test-install: install
	$(PY) tools/check_install.py

# Everything: lint, types, layer contracts, the installed wheel, the whole suite on both stores. The local node is started
# first and stopped afterwards, also when a test fails.
test: install
	$(MAKE) lint
	$(MAKE) test-install
	$(MAKE) cassandra-up
	status=0; $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) || status=$$?; \
	  $(MAKE) cassandra-down; exit $$status

# The suite without the Cassandra leg (for a quick loop while editing).
test-fast: install
	$(PY) -m pytest -q -m "not cassandra" $(PYTEST_ARGS)

cassandra-up:
	LEDGER_CASSANDRA_PORT=$(CASSANDRA_PORT) $(NODE) up

cassandra-down:
	$(NODE) down

cassandra-status:
	$(NODE) status

bench-load: install
	$(MAKE) cassandra-up
	status=0; $(PY) bench/load.py $(BENCH_ARGS) || status=$$?; $(MAKE) cassandra-down; exit $$status

bench-browse: install
	$(MAKE) cassandra-up
	status=0; $(PY) bench/browse.py $(BENCH_ARGS) || status=$$?; $(MAKE) cassandra-down; exit $$status

bench-http: install
	$(MAKE) cassandra-up
	status=0; $(PY) bench/http.py $(BENCH_ARGS) || status=$$?; $(MAKE) cassandra-down; exit $$status

clean:
	rm -rf $(VENV) .run .pytest_cache .mypy_cache .ruff_cache *.egg-info
