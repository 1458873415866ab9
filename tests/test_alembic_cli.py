"""Plain `alembic` keeps working from the repo root, for anyone who never heard of schemactl."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

ALEMBIC = str(Path(sys.executable).with_name("alembic"))


def alembic(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("BILLGEN_", "SCHEMACTL_"))}
    return subprocess.run(
        [ALEMBIC, *args], cwd=REPO, env=environ | (env or {}), capture_output=True, text=True
    )


def test_upgrade_current_downgrade_history_heads_branches(tmp_path):
    env = {"BILLGEN_DEV_URL": f"sqlite:///{tmp_path / 'dev.db'}"}
    up = alembic("upgrade", "head", env=env)
    assert up.returncode == 0, up.stderr
    assert "Running upgrade e58b81ed3f5b -> 68cfa590ad28, Add customers.tax_id" in up.stderr

    current = alembic("current", env=env)
    assert current.stdout.split()[:2] == ["68cfa590ad28", "(head)"]

    down = alembic("downgrade", "-1", env=env)
    assert down.returncode == 0, down.stderr
    assert alembic("current", env=env).stdout.split()[0] == "e58b81ed3f5b"

    heads = alembic("heads").stdout.strip()
    # Alembic prints the inherited labels in set order, which varies between runs.
    assert heads.startswith("68cfa590ad28 (") and heads.endswith(") (head)")
    assert len(heads.splitlines()) == 1
    branches = alembic("branches")
    assert branches.stdout.splitlines()[0] == "9ecdc98b5e8a (branchpoint)"
    history = alembic("history")
    assert len(history.stdout.splitlines()) == 12
    assert "(mergepoint)" in history.stdout


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ("dev", "CREATE TABLE _alembic_tmp_invoices"),
        ("prod", "USING round(total_amount::numeric, 2)"),
        ("mariadb", "MODIFY total_amount NUMERIC(12, 2) NOT NULL"),
    ],
)
def test_offline_sql_needs_no_url(environment, expected):
    """`alembic upgrade head --sql` works with no database URL set at all."""
    result = alembic("-x", f"env={environment}", "upgrade", "head", "--sql")
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout


def test_missing_url_is_one_failed_line():
    result = alembic("-x", "env=prod", "current")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    # Alembic prints FAILED on stdout (and logs the same line on stderr).
    assert (
        "FAILED: environment 'prod' takes its database URL from $BILLGEN_PROD_URL, which is "
        "not set; export BILLGEN_PROD_URL=postgresql://USER@HOST:5432/DBNAME"
    ) in result.stdout
