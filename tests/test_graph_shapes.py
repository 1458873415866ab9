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

import json
import re
import shutil
import sqlite3

import pytest
from typer.testing import CliRunner

from tools.cli import app
from tools.config import load_project
from tools.history.load import load_history
from tools.release import ranges

from .conftest import SCENARIOS, apply_script, assert_agrees_with_alembic, scenario_copy

runner = CliRunner()

GRAPHS = SCENARIOS / "graphs"
SHAPES = sorted(p.name for p in GRAPHS.iterdir() if p.is_dir() and not p.name.startswith("_"))


def shape_copy(tmp_path, name):
    project = tmp_path / name
    shutil.copytree(GRAPHS / "_project", project)
    # The env.py `alembic init` writes, as the plain Alembic scenario has it.
    shutil.copy(SCENARIOS / "plain_alembic" / "migrations" / "env.py", project / "env.py")
    shutil.copytree(GRAPHS / name / "versions", project / "versions")
    return project


@pytest.fixture(params=SHAPES)
def shape(request, tmp_path):
    return shape_copy(tmp_path, request.param)


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
    script = ranges.sql_one(project, project.environment(None), "upgrade", start="base")
    (tmp_path / "up.sql").write_text(script.text)
    applied = apply_script(database, tmp_path / "up.sql")
    assert applied.returncode == 0, applied.stderr
    with sqlite3.connect(database.url.database) as connection:
        versions = {row[0] for row in connection.execute("SELECT version_num FROM alembic_version")}
    assert versions == set(load_history(project).scripts.get_heads())


def with_tables(project, broken: str | None = None) -> None:
    """Each revision creates a table of its own and its downgrade drops it (``broken``: this
    one's downgrade forgets to)."""
    shutil.rmtree(project / "versions")
    shutil.copytree(GRAPHS / project.name / "versions", project / "versions")
    for path in (project / "versions").glob("*.py"):
        text = path.read_text()
        rev = text.split('revision = "')[1].split('"')[0]
        up, down = text.split("def downgrade")
        create = f'op.create_table("t_{rev}", sa.Column("id", sa.Integer, primary_key=True))'
        drop = "pass" if rev == broken else f'op.drop_table("t_{rev}")'
        up = up.replace('op.execute("SELECT 1")', create)
        down = down.replace('op.execute("SELECT 1")', drop)
        path.write_text("import sqlalchemy as sa\n" + up + "def downgrade" + down)


def test_check_runs_every_revision_up_down_and_up_whatever_the_shape(shape):
    """One revision at a time, whatever other branches the database holds: Alembic's own
    'rev-1' would take sibling branches along, or refuse at a merge."""
    with_tables(shape)
    result = runner.invoke(app, ["-c", str(shape / "alembic.ini"), "check", "--json"])
    report = json.loads(result.stdout)
    assert "migrations-run:sqlite" not in {p["check"] for p in report["problems"]}, report
    # A merge or a revision on a second root whose downgrade leaves its table behind.
    history = load_history(load_project(shape / "alembic.ini"))
    victim = next(
        (r for r in history.graph.order if history.graph[r].is_merge), history.graph.order[-1]
    )
    with_tables(shape, broken=victim)
    result = runner.invoke(app, ["-c", str(shape / "alembic.ini"), "check", "--json"])
    (problem,) = [p for p in json.loads(result.stdout)["problems"] if "run" in p["check"]]
    assert problem["message"].startswith(
        f"the downgrade of {victim} (versions/{history.graph[victim].path.name}) does not undo "
        f"its upgrade on SQLite (extra table t_{victim})"
    )


@pytest.mark.parametrize("ids", ["short", "alembics"])
def test_branch_list_columns_line_up_whatever_the_length_of_the_ids(tmp_path, ids):
    """Revision ids of four characters (tests/scenarios/data) and of Alembic's twelve: each
    column starts where its heading does."""
    if ids == "short":
        project = scenario_copy(tmp_path, SCENARIOS / "data")
    else:
        project = shape_copy(tmp_path, "merge_of_merges")
    listed = runner.invoke(app, ["-c", str(project / "alembic.ini"), "branch", "list"])
    assert listed.exit_code == 0, listed.output
    heading, *rows = listed.stdout.splitlines()
    assert rows
    columns = ("branch", "first", "head", "revs", "state")
    starts = [heading.index(word) for word in columns]
    for row in rows:
        # Each value left-aligned under its heading; the count right-aligned under "revs".
        branch, first, head, revs, state = list(re.finditer(r"\S+", row))[:5]
        assert [branch.start(), first.start(), head.start()] == starts[:3], (heading, row)
        assert revs.end() == starts[3] + len("revs"), (heading, row)
        assert state.start() == starts[4], (heading, row)
