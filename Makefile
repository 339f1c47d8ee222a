# lovflow: two commands for a new user, `make run` and `make test`.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: run demo test lint check bench clean-var

$(BIN)/python:
	$(PY) -m venv $(VENV)

# Reinstall only when the declared dependencies change.
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

## Start everything: app database, Prefect server + UI on :4200, SMTP sink on :8025, deployments.
run: $(STAMP)
	$(BIN)/python -m deployments.local run

## Load demo data (the four municipalities and a handful of providers), then start as `make run`.
demo: $(STAMP)
	$(BIN)/python -m deployments.local run --demo

# Workers for the suite: the case tests wait for runs more than they compute, so
# four workers on two cores overlap those waits (tests/conftest.py groups them).
# --no-loadscope-reorder: hand out the groups in the order tests/conftest.py sets,
# longest first, not by their number of tests (test_scaled has 4 and finished last).
TEST_WORKERS ?= 4

## Lint, type-check and run the whole test suite.
test: $(STAMP) lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

bench: $(STAMP)
	$(BIN)/python bench/outbox_throughput.py
