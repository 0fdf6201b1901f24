# tradestore: the one entry point for humans and CI. Every target bootstraps .venv itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
DATABASE_URL ?= sqlite:///data/tradestore.db
export DATABASE_URL

.PHONY: venv demo test lint typecheck format clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev,bench]'
	@touch $(STAMP)

demo: venv ## run the demo bot on the embedded SQLite default (or DATABASE_URL)
	$(PY) -m tradestore.demo

test: venv ## run the test suite (PostgreSQL from TEST_DATABASE_URL or testcontainers)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: venv ## ruff + mypy --strict
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

typecheck: venv
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) dist build .mypy_cache .ruff_cache .pytest_cache
