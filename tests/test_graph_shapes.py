"""Each shape of history Alembic allows, as revision files (tests/scenarios/graphs/<shape>/,
its picture in README.txt): graph, status and branch list agree with Alembic's heads, branch
points and label membership, and a script from base leaves Alembic's heads in the version
table when the real client applies it.

parallel_merges   r1 ─┬─ a ─┬─ m1 ── x          merge_of_merges  r1 ─┬─ p1 (pay) ──┬─ m1 ──┐
                      └─ b ─┴─ m2 ── y                              ├─ d1 (disc) ─┘       ├─ m2 ── r5
                                                                    └─ t1 (tax) ──────────┘
root_label        c1 (core) ─┬─ a1 ─┐           depends_on       r1 ── r2 ·· depends on n1
                             └─ b1 ─┴─ m ── c4                   n1 (networking) ── n2
several_roots     a1 ── a2
                  b1 ── b2
"""

from __future__ import annotations

import shutil
import sqlite3

import pytest
from typer.testing import CliRunner

from tools import release
from tools.cli import app
from tools.config import load_project
from tools.history import load_history

from .conftest import SCENARIOS, apply_script, assert_agrees_with_alembic

runner = CliRunner()

GRAPHS = SCENARIOS / "graphs"
SHAPES = sorted(p.name for p in GRAPHS.iterdir() if p.is_dir() and not p.name.startswith("_"))


@pytest.fixture(params=SHAPES)
def shape(request, tmp_path):
    project = tmp_path / request.param
    shutil.copytree(GRAPHS / "_project", project)
    # The env.py `alembic init` writes, as the plain Alembic scenario has it.
    shutil.copy(SCENARIOS / "plain_alembic" / "migrations" / "env.py", project / "env.py")
    shutil.copytree(GRAPHS / request.param / "versions", project / "versions")
    return project


def test_graph_agrees_with_alembic(shape):
    history = load_history(load_project(shape / "alembic.ini"))
    assert_agrees_with_alembic(history)
    graph = history.graph
    config = str(shape / "alembic.ini")
    for command in (["graph"], ["status"], ["branch", "list"]):
        result = runner.invoke(app, ["-c", config, *command])
        assert result.exit_code == 0, (command, result.output)
    status = runner.invoke(app, ["-c", config, "status"]).stdout.splitlines()
    assert len(status) == 2 + len(graph.order)


def test_a_script_from_base_leaves_alembics_heads(shape, tmp_path, throwaway_database):
    database = throwaway_database("sqlite")
    project = load_project(shape / "alembic.ini")
    script = release.sql_one(project, None, "upgrade", start="base")
    (tmp_path / "up.sql").write_text(script.text)
    applied = apply_script(database, tmp_path / "up.sql")
    assert applied.returncode == 0, applied.stderr
    with sqlite3.connect(database.url.database) as connection:
        versions = {row[0] for row in connection.execute("SELECT version_num FROM alembic_version")}
    assert versions == set(load_history(project).scripts.get_heads())
