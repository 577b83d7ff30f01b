# Folio: `make run` serves the demo on SQLite, `make test` runs the suite.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

UV_VERSION := 0.13.8
# One resolution for every supported Python (3.11 up), with hashes: `make lock` renews it.
LOCK := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --quiet

.PHONY: install lock run test test-faults test-postgres lint format bench bench-search clean

install: $(VENV)/.installed

# Only python3 and PyPI needed: pip brings uv, uv installs the locked, hash-checked set, then
# Folio itself (editable; its build backend comes from the lock, so no other download).
$(VENV)/.installed: pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes -r requirements-dev.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	touch $@

lock:
	test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet uv==$(UV_VERSION); }
	$(LOCK) -o requirements.lock
	$(LOCK) --extra dev -o requirements-dev.lock

run: install
	$(BIN)/folio migrate
	$(BIN)/folio seed-demo
	$(BIN)/folio serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/pytest -q -n auto --dist loadgroup -m "not fault_load"

# Fault tests that load a real server for tens of seconds (SQLite under write load): alone,
# so the rest of the suite neither slows them nor is slowed by them.
test-faults: install
	$(BIN)/pytest -q -m fault_load

test-postgres: install
	FOLIO_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres $(BIN)/pytest -q -n auto --dist loadgroup -m "not fault_load"

lint: install
	$(BIN)/ruff check app tests bench migrations
	$(BIN)/ruff format --check app tests bench
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format app tests bench
	$(BIN)/ruff check --fix app tests bench

bench: install
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.workers
	$(BIN)/python -m bench.webhooks
	$(BIN)/python -m bench.search
	$(BIN)/python -m bench.organizations
	$(BIN)/python -m bench.render
	$(BIN)/python -m bench.members
	$(BIN)/python -m bench.usage

# Search alone (building 100,000 reports on both databases takes minutes; make bench runs it too).
bench-search: install
	$(BIN)/python -m bench.search

clean:
	rm -rf $(VENV) folio.db folio.db-wal folio.db-shm .folio-secret .folio-content-generation .folio-access-generation build dist
