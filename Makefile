# Two commands on a fresh machine with Python 3.11 and make:
#   make run    the main job on the embedded SQLite default (no server needed)
#   make test   lint, format and type checks and the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test unit coverage lint bench venv clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
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
# every core (pytest-xdist: each test makes its own databases and files, so any two can run
# at once); the slowest are listed at the end: CI's time is a budget (5 minutes).
test: lint
	$(BIN)/schemactl check $(STRICT)
	$(if $(STRICT),$(BIN)/schemactl release --prove --env prod)
	$(BIN)/pytest --ignore=tests/repo -n auto --durations=40

# The unit tests alone: pure logic in memory, no server, a few seconds.
unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

# Branch coverage of tools/, schemactl subprocesses included; per-module figures.
coverage: $(STAMP)
	rm -rf var/coverage && mkdir -p var/coverage
	$(BIN)/coverage run -m pytest -q
	$(BIN)/coverage combine -q
	$(BIN)/coverage report

# schemactl against plain Alembic on 1,000 / 3,000 / 10,000 synthetic revisions (~5 min).
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache *.egg-info
