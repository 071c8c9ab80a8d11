# keystead — the two commands of the quickstart, and a few helpers.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: dev test lint serve clean

# Runtime + dev dependencies from the lock file (pinned, hash-checked), then keystead itself.
$(BIN)/.installed: pyproject.toml requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

## Quickstart 1: install and start keystead on the embedded SQLite default, with demo data.
dev: $(BIN)/.installed
	$(BIN)/keystead serve --demo

## Quickstart 2: install the dev dependencies and run the whole test suite (what CI runs).
test: $(BIN)/.installed lint
	$(BIN)/pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests examples
	$(BIN)/ruff format --check src tests examples
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
