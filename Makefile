# ledger-tui: `make demo` opens the console on sample data; `make test` runs everything.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
NODE := $(PYTHON) tools/cassandra/node.py
RING := $(PYTHON) tools/cassandra/ring.py
RING_NODES ?= 3
CASSANDRA_PORT ?= 9042
export LEDGER_TEST_CASSANDRA ?= 127.0.0.1:$(CASSANDRA_PORT)
BROKER := $(PYTHON) tools/kafka/broker.py
KAFKA_PORT ?= 9092
export LEDGER_TEST_KAFKA ?= 127.0.0.1:$(KAFKA_PORT)

.PHONY: install demo test test-fast test-install lint cassandra-up cassandra-down cassandra-status \
	kafka-up kafka-down kafka-status \
	cluster-up cluster-down cluster-status test-faults test-blocks test-console-stores bench-load \
	bench-browse bench-http bench-http-origin bench-balance bench-events bench-hot test-api clean \
	test-scale bench-scale

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

# Everything: lint, types, layer contracts, the installed wheel, the whole suite (console UI tests
# on the embedded store, a marked few on both; `make test-console-stores` runs them all on both).
# hledger is installed if missing (the journal export is checked with it). The local node and the
# local Kafka broker are started first and stopped afterwards, also when a test fails. The suite runs
# on PYTEST_WORKERS xdist workers; tests that start nodes of their own share one worker, first.
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL := $(if $(filter-out 0 1,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS) --dist loadgroup)
test: install
	$(MAKE) lint
	$(MAKE) test-install
	tools/hledger/install
	tools/browser/install
	$(MAKE) cassandra-up NODE_ARGS="--unsafe-system --quick-jit"
	$(MAKE) kafka-up KAFKA_ARGS="--quick-jit" || { $(MAKE) cassandra-down; exit 1; }
	status=0; $(PY) -m pytest -q -p no:cacheprovider --durations=25 $(PYTEST_PARALLEL) $(PYTEST_ARGS) || status=$$?; \
	  $(MAKE) kafka-down; $(MAKE) cassandra-down; exit $$status

# Every console test on both stores (make test runs the UI tests on the embedded store only).
test-console-stores: install
	$(MAKE) cassandra-up NODE_ARGS="--unsafe-system --quick-jit"
	status=0; LEDGER_CONSOLE_STORES=all $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_PARALLEL) \
	  tests/console $(PYTEST_ARGS) || status=$$?; $(MAKE) cassandra-down; exit $$status

# The suite without the Cassandra leg and the Kafka tests (for a quick loop while editing).
test-fast: install
	$(PY) -m pytest -q -m "not cassandra and not kafka" $(PYTEST_ARGS)

# The shared node is durable by default. `make test` starts it with --unsafe-system (no fsync of
# schema changes: a test ledger is a keyspace, emptied and lent again to later tests) and
# --quick-jit (the JVM's quick compiler only: about half the node's CPU on a 2-core box shared
# with the tests); the tests of durability (restart, fault suite) start their own nodes without
# --unsafe-system. Benchmarks use neither.
cassandra-up:
	LEDGER_CASSANDRA_PORT=$(CASSANDRA_PORT) $(NODE) up $(NODE_ARGS)

cassandra-down:
	$(NODE) down

cassandra-status:
	$(NODE) status

# One local Kafka broker (KRaft, broker+controller in one JVM) on 127.0.0.1:$(KAFKA_PORT), controller
# port KAFKA_PORT+1; its run dir is .run/kafka/<port>. `make test` starts it with --quick-jit (C1
# compiler and the serial collector: less CPU beside the suite on 2 cores); benchmarks use neither.
kafka-up:
	LEDGER_KAFKA_PORT=$(KAFKA_PORT) $(BROKER) up $(KAFKA_ARGS)

kafka-down:
	LEDGER_KAFKA_PORT=$(KAFKA_PORT) $(BROKER) down

kafka-status:
	LEDGER_KAFKA_PORT=$(KAFKA_PORT) $(BROKER) status

# The fault suite with long phases (its short version runs inside `make test`): a bank workload on
# its own 3-node ring (127.0.0.11..13) through kill -9, pause and restart; figures printed and
# written to .run/faults-report.json (record them in bench/RESULTS.md); and kill -9 of the node
# under `ledger-tui import` (own 1-node ring on 127.0.0.31), restart, rerun: exact result.
FAULT_PHASE ?= 10
test-faults: install
	@mkdir -p .run
	LEDGER_FAULT_PHASE_SECONDS=$(FAULT_PHASE) LEDGER_FAULT_REPORT=.run/faults-report.json \
	  $(PY) -m pytest -q -s -p no:cacheprovider -m faults tests/faults $(PYTEST_ARGS)

# Schemathesis against `ledger-tui serve` on the embedded store with many examples per operation
# (its short version runs inside `make test`; tests/server/schemathesis.toml names the checks it
# excludes and why). No node needed.
API_EXAMPLES ?= 200
test-api: install
	LEDGER_API_EXAMPLES=$(API_EXAMPLES) $(PY) -m pytest -q -p no:cacheprovider \
	  tests/server/test_openapi_contract.py $(PYTEST_ARGS)

# The blocks property test (fast path = full fold, concurrent writers, seals among them) with many
# examples per store (its short version runs inside `make test`); needs the node up.
BLOCKS_EXAMPLES ?= 300
test-blocks: install
	LEDGER_BLOCKS_EXAMPLES=$(BLOCKS_EXAMPLES) $(PY) -m pytest -q -p no:cacheprovider \
	  tests/contract/test_blocks_property.py $(PYTEST_ARGS)

# A local ring (default 3 nodes on 127.0.0.2..4, 512M heaps; RING_ARGS e.g. --auth --tls
# --first-address 127.0.0.5). Its own run dir: .run/ring (LEDGER_RING_RUN_DIR).
cluster-up:
	$(RING) up --nodes $(RING_NODES) $(RING_ARGS)

cluster-down:
	$(RING) down

cluster-status:
	$(RING) status

bench-load: install
	$(MAKE) cassandra-up
	status=0; $(PY) bench/load.py $(BENCH_ARGS) || status=$$?; $(MAKE) cassandra-down; exit $$status

bench-browse: install
	$(MAKE) cassandra-up
	status=0; $(PY) bench/browse.py $(BENCH_ARGS) || status=$$?; $(MAKE) cassandra-down; exit $$status

bench-http: install
	$(MAKE) cassandra-up
	status=0; $(PY) bench/http_api.py $(BENCH_ARGS) || status=$$?; $(MAKE) cassandra-down; exit $$status

# Ingest from Kafka beside `import` of the same 100,000 sets, on both stores (~2 min).
bench-events: install
	$(MAKE) cassandra-up
	$(MAKE) kafka-up || { $(MAKE) cassandra-down; exit 1; }
	status=0; $(PY) bench/ingest.py $(BENCH_ARGS) && $(PY) bench/publish.py $(BENCH_ARGS) || status=$$?; \
	  $(MAKE) kafka-down; $(MAKE) cassandra-down; exit $$status

# The origin's load (two-leg sets, a Go client, 32 and 128 workers) beside the engine and the
# driver's row-at-a-time rate, with CPU per set of each process (~3 min).
bench-http-origin: install
	$(MAKE) cassandra-up
	status=0; $(PY) bench/http_api.py --mode origin $(BENCH_ARGS) || status=$$?; $(MAKE) cassandra-down; exit $$status

# Balance blocks beside the full fold at 10k/100k/1M entries, both stores (~35 min on 2 cores;
# BENCH_ARGS="--sizes 10000,100000" for a quick run).
bench-balance: install
	$(MAKE) cassandra-up
	status=0; $(PY) bench/balance.py $(BENCH_ARGS) || status=$$?; $(MAKE) cassandra-down; exit $$status

# One hot account (every set has a leg on it) beside sets spread over 3,000 accounts: online posts
# through the engine in-process, 64 in flight, passes alternated over 2 rounds; target hot >= 0.8x
# spread (BENCH_ARGS e.g. "--sets 5000 --rounds 1", "--split 8", "--json").
bench-hot: install
	$(MAKE) cassandra-up
	status=0; $(PY) bench/hot.py $(BENCH_ARGS) || status=$$?; $(MAKE) cassandra-down; exit $$status

# No partition grows without bound, at the issue's size: 300,000 hot entries in one month through
# `ledger-tui import` (the account split beforehand, claim shards and rollup parts sized at creation),
# then every partition of every table counted on the node against 20,000 rows, and the ledger's reads
# (balances, as-of, the merged browse, verify) equal to a fold of the input (make test: 30,000 / 3,000).
test-scale: install
	$(MAKE) cassandra-up
	status=0; LEDGER_SCALE_ENTRIES=300000 LEDGER_SCALE_BOUND=20000 $(PY) -m pytest -q -s -p no:cacheprovider \
	  tests/store/test_partition_bound.py $(PYTEST_ARGS) || status=$$?; $(MAKE) cassandra-down; exit $$status

# The same import as a benchmark: 300,000 sets on one hot account and 5,000 customers in one month,
# every table's largest partition beside the bound (default 100,000 rows) and the import's entries/s
# (BENCH_ARGS e.g. "--sets 100000 --bound 20000", "--keep").
bench-scale: install
	$(MAKE) cassandra-up
	status=0; $(PY) bench/hot_import.py $(BENCH_ARGS) || status=$$?; $(MAKE) cassandra-down; exit $$status

clean:
	rm -rf $(VENV) .run .pytest_cache .mypy_cache .ruff_cache *.egg-info
