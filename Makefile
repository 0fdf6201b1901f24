# tradestore: the one entry point for humans and CI. Every target bootstraps .venv itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
DATABASE_URL ?= sqlite:///data/tradestore.db
export DATABASE_URL

.PHONY: venv demo demo-async test test-nightly lint typecheck format clean
.PHONY: migrate rollback migrations-status migration break-lock
.PHONY: stubs check-sql generate
.PHONY: bench
.PHONY: soak

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev,bench]'
	@touch $(STAMP)

demo: venv ## run the demo bot on the embedded SQLite default (or DATABASE_URL)
	$(PY) -m tradestore.trading.demo

demo-async: venv ## the same demo bot on the async store (asyncio), with its event loop watched
	$(PY) -m tradestore.trading.demo_async

test: venv ## run the test suite (PostgreSQL from TEST_DATABASE_URL or testcontainers)
	$(BIN)/pytest $(PYTEST_ARGS)

# Every hypothesis test (pytest marks them `hypothesis`) with fresh random seeds and 20 times
# its examples: slower than `make test` (minutes), finds what the fixed CI examples cannot.
test-nightly: venv ## the property tests, random seeds, 20x the examples (for a nightly job)
	TRADESTORE_HYPOTHESIS_PROFILE=nightly $(BIN)/pytest -m hypothesis --hypothesis-show-statistics $(PYTEST_ARGS)

lint: venv ## ruff + mypy --strict, and the generated sync twins up to date
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/mypy
	$(PY) tools/async_to_sync.py --check

generate: venv ## regenerate the sync twin of every *_async.py module (tools/async_to_sync.py)
	$(PY) tools/async_to_sync.py

typecheck: venv
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format src tests benchmarks tools
	$(BIN)/ruff check --fix src tests benchmarks tools

steps ?= 1

migrate: venv ## apply every pending migration to DATABASE_URL (default: the SQLite file)
	$(BIN)/tradestore migrate

rollback: venv ## roll back the newest migration (steps=N for N; yes=1 to skip the question)
	$(BIN)/tradestore rollback --steps $(steps)$(if $(filter 1 y yes true,$(yes)), --yes)

migrations-status: venv ## list migrations of DATABASE_URL, applied or pending
	$(BIN)/tradestore status

break-lock: venv ## remove a migration lock whose holder is gone (migrate takes over a dead one itself)
	$(BIN)/tradestore break-lock

migration: venv ## create a migration pair per dialect: make migration name=add_x
	@test -n "$(name)" || { echo "usage: make migration name=add_x" >&2; exit 2; }
	$(BIN)/tradestore new-migration $(name)

stubs: venv ## regenerate the typed surface of sql/ (parameter types from a scratch PostgreSQL schema)
	TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$(DATABASE_URL)}" $(BIN)/tradestore stubs --scratch -o src/tradestore/trading/builtin_queries.py

check-sql: venv ## every named query vs a freshly migrated scratch PostgreSQL schema and SQLite file
	TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$(DATABASE_URL)}" $(BIN)/tradestore check-sql

bench: venv ## tradestore vs raw drivers and peers (BENCH_ARGS=--quick for a two-minute run)
	$(PY) benchmarks/run.py $(BENCH_ARGS)

SOAK_SECONDS ?= 60

soak: venv ## demo bot threads on PostgreSQL while its backends are killed; exits 1 if a row is lost
	$(PY) tools/soak.py --seconds $(SOAK_SECONDS)

clean:
	rm -rf $(VENV) dist build .mypy_cache .ruff_cache .pytest_cache
