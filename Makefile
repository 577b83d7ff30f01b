# Folio: `make run` serves the demo on SQLite, `make test` runs the suite.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-postgres lint format bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: install
	$(BIN)/folio migrate
	$(BIN)/folio seed-demo
	$(BIN)/folio serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/pytest -q

test-postgres: install
	FOLIO_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres $(BIN)/pytest -q

lint: install
	$(BIN)/ruff check app tests bench migrations
	$(BIN)/ruff format --check app tests bench

format: install
	$(BIN)/ruff format app tests bench
	$(BIN)/ruff check --fix app tests bench

bench: install
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.webhooks
	$(BIN)/python -m bench.search
	$(BIN)/python -m bench.render
	$(BIN)/python -m bench.members

clean:
	rm -rf $(VENV) folio.db folio.db-wal folio.db-shm
