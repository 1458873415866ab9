# Two commands on a fresh machine with Python 3.11 and make:
#   make run    the main job on the embedded SQLite default (no server needed)
#   make test   lint, format and type checks and the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test unit coverage lint bench venv clean

# pip compiles what it installs into site-packages (Alembic, SQLAlchemy); an editable install
# leaves tools/ as sources, which Python compiles again on every run where
# PYTHONDONTWRITEBYTECODE is set. Compiled once here, as pip would (a file edited since is
# compiled again when imported, as always).
BYTECODE = $(BIN)/python -m compileall -q tools

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	$(BYTECODE)
	touch $(STAMP)

venv: $(STAMP)

# The main job, on the embedded SQLite default: render the DBA scripts (base -> head) into
# var/sql/dev/DATABASE/, bring the dev databases (var/dev.db, var/reporting.db) to head, and show
# where they stand.
run: $(STAMP)
	$(BIN)/schemactl sql --env dev --from base
	$(BIN)/schemactl -n reporting sql --env dev --from base
	$(BIN)/schemactl upgrade
	$(BIN)/schemactl -n reporting upgrade
	$(BIN)/schemactl status
	$(BIN)/schemactl -n reporting status

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# In CI (CI=true) a check that cannot run fails instead of skipping, and the committed
# releases are proven again with the real clients on the scratch servers .ci/run names.
STRICT := $(if $(filter true,$(CI)),--strict)

# The CI gate first: one head, models match migrations, every revision renders offline,
# downgrades exist, unreleased revisions run up/down/up on every dialect, and every committed
# release in sql_out/ re-renders byte for byte.
# tests/repo/ (what must hold for this repo's history, whatever it is) runs inside
# tests/test_grown_repo.py, on a copy of the repo grown by a branch, a merge and a release:
# that history holds all of this one, so the suite does not run it twice. The tests run on
# every core, twice over (pytest-xdist: each test makes its own databases and files, so any two
# can run at once); the slowest are listed at the end: CI's time is a budget (5 minutes).
# Two test processes per core, at most 8: most of a test's time is spent waiting on a server
# or a client (measured on 2 cores: 4 workers take three quarters of the time 2 take), and
# each worker holds a few server connections. A worker that runs out of tests takes queued ones
# from a busy worker (--dist worksteal): with plain load balancing, the tests queued behind a
# two-minute story waited for it while the other workers sat idle (a third of the run at half
# the CPU, measured with vmstat: 320 s -> 276 s).
WORKERS ?= $(shell $(PYTHON) -c 'import os; print(min(8, 2 * (os.cpu_count() or 1)))')
test: lint
	$(BIN)/schemactl check $(STRICT)
	$(if $(STRICT),$(BIN)/schemactl release --prove --env prod)
	$(BIN)/pytest --ignore=tests/repo -n $(WORKERS) --dist worksteal --durations=40

# The unit tests alone, no server and no subprocess: the pure logic in memory, and the commands
# run in this process on the embedded SQLite in a temp folder (lint rules, a day's online
# commands, a feature from branch to release). Under a minute; they cover most of tools/
# (`make coverage TESTS=tests/unit` says how much).
unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

# Branch coverage of tools/, schemactl subprocesses included; per-module figures. TESTS picks
# what runs (default: the whole suite but tests/repo, as `make test` runs it).
TESTS ?= --ignore=tests/repo
coverage: $(STAMP)
	rm -rf var/coverage && mkdir -p var/coverage
	$(BIN)/coverage run -m pytest -q -n $(WORKERS) --dist worksteal $(TESTS)
	$(BIN)/coverage combine -q
	$(BIN)/coverage report

# schemactl against plain Alembic on 1,000 / 3,000 / 10,000 synthetic revisions (~5 min).
bench: $(STAMP)
	$(BYTECODE)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/impact.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache *.egg-info
