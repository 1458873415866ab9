"""Plain `alembic` keeps working from the repo root, for anyone who never heard of schemactl."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

ALEMBIC = str(Path(sys.executable).with_name("alembic"))


def alembic(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("BILLGEN_", "SCHEMACTL_"))}
    return subprocess.run(
        [ALEMBIC, *args], cwd=REPO, env=environ | (env or {}), capture_output=True, text=True
    )


def _graph():
    from tools.config import load_project
    from tools.history.load import load_graph

    return load_graph(load_project(REPO / "alembic.ini").alembic_config())


def test_upgrade_current_downgrade_history_heads_branches(tmp_path):
    graph = _graph()
    (head,) = graph.heads
    env = {"BILLGEN_DEV_URL": f"sqlite:///{tmp_path / 'dev.db'}"}
    up = alembic("upgrade", "head", env=env)
    assert up.returncode == 0, up.stderr
    assert f"-> {head}, " in up.stderr

    current = alembic("current", env=env)
    assert current.stdout.split()[:2] == [head, "(head)"]

    # At a merge Alembic itself cannot count back ("Ambiguous walk"): name a parent instead.
    step = graph[head].parents[0] if graph[head].is_merge else "-1"
    down = alembic("downgrade", step, env=env)
    assert down.returncode == 0, down.stderr
    below = set(alembic("current", env=env).stdout.split()) & set(graph.order)
    assert below == set(graph[head].parents)

    heads = alembic("heads").stdout.strip().splitlines()
    assert len(heads) == 1 and heads[0].startswith(f"{head} ") and heads[0].endswith("(head)")
    history = alembic("history")
    assert history.returncode == 0
    assert len(history.stdout.splitlines()) == len(graph.order)
    branches = alembic("branches")
    assert branches.returncode == 0
    points = {line.split()[0] for line in branches.stdout.splitlines() if "(branchpoint)" in line}
    assert points == {r for r in graph.order if graph[r].is_branch_point}


@pytest.mark.parametrize("environment", ["dev", "prod", "mariadb"])
def test_offline_sql_needs_no_url(environment):
    """`alembic upgrade head --sql` works with no database URL set at all."""
    (head,) = _graph().heads
    result = alembic("-x", f"env={environment}", "upgrade", "head", "--sql")
    assert result.returncode == 0, result.stderr
    assert f"'{head}'" in result.stdout and "CREATE TABLE" in result.stdout
