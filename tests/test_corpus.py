"""Foreign Alembic projects, written in the idioms real ones use (tests/scenarios/corpus/):
schemactl renders every revision plain `alembic upgrade --sql` renders, statement for
statement, and its script, applied with the real client, gives the schema Alembic's gives.

idioms:      a1 (core) ── b2 ── c3 ── d4          shared helper reading alembic.context,
                                                  -x tenant, custom version table
online_ops:  e1 ─┬─ f2 (shipping) ─┬─ h3 ─┐       autocommit_block, batch copy_from,
                 └─ g2 (money) ────┴─ h4 ─┴─ i5   parallel merges of the same parents, a merge
                                                  that tests what the bind answered (offline,
                                                  Alembic's None: ``if result:``)
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tools.cli import app
from tools.config import load_project
from tools.core.errors import SchemactlError
from tools.core.text import labels_text
from tools.dialects import TOOL_TABLES
from tools.history.load import load_graph, load_history
from tools.release import ranges

from .conftest import (
    DIALECTS,
    SCENARIOS,
    apply_script,
    assert_agrees_with_alembic,
    schema_snapshot,
    schemactl,
    scratch_env,
)

runner = CliRunner()

CORPUS = SCENARIOS / "corpus"
PROJECTS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
X_ARGS = {"idioms": ["-x", "tenant=globex"]}
PLACEHOLDER = {
    "postgresql": "postgresql+psycopg://u@h/db",
    "mariadb": "mariadb+pymysql://u@h/db",
    "sqlite": "sqlite:///app.db",
}
# What is Alembic's own bookkeeping in its --sql output rather than a revision's statement.
VERSION_WORDS = ("_versions", "alembic_version")
# What revision code prints: Alembic's --sql output carries it on stdout, schemactl sends it
# to stderr. Left out of Alembic's output before comparing.
PRINTED = {"helpers": ("migration helpers loaded", "filled 0 notes")}


@pytest.fixture(autouse=True)
def _own_helper_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Revision files run in this process put a copy's helper folder on sys.path and import
    its helpers (helpers' first file does): each test starts without another copy's."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in [m for m in sys.modules if m.split(".")[0] in HELPER_MODULES]:
        monkeypatch.delitem(sys.modules, name)


# The modules helpers' revision files import from the folder the first one adds to sys.path.
HELPER_MODULES = ("migration_utils", "migration_kit")


def project_copy(tmp_path: Path, name: str, dialect: str, url: str | None = None) -> Path:
    dest = tmp_path / Path(name).name
    shutil.copytree(CORPUS / name, dest, ignore=shutil.ignore_patterns("__pycache__"))
    ini = dest / "alembic.ini"
    text = ini.read_text().splitlines()
    wanted = (url or PLACEHOLDER[dialect].replace("app.db", str(dest / "app.db"))).replace(
        "%", "%%"
    )
    ini.write_text(
        "\n".join(
            f"sqlalchemy.url = {wanted}" if line.startswith("sqlalchemy.url") else line
            for line in text
        )
        + "\n"
    )
    return dest


def alembic_sql(project: Path, name: str, *args: str) -> str | None:
    """What plain Alembic prints, or None when it cannot render the range offline."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "alembic",
            "-c",
            str(project / "alembic.ini"),
            *X_ARGS.get(name, []),
            *args,
        ],
        capture_output=True,
        text=True,
        cwd=project,
    )
    if result.returncode != 0:
        return None
    printed = PRINTED.get(name, ())
    return "".join(line for line in result.stdout.splitlines(True) if line.strip() not in printed)


def revision_statements(sql: str) -> dict[str, list[str]]:
    """Alembic's --sql output per revision (from its "-- Running upgrade a -> b" lines),
    without its transactions and version bookkeeping."""
    found: dict[str, list[str]] = {}
    current = None
    for chunk in sql.split("\n\n"):
        chunk = chunk.strip()
        running = re.match(r"-- Running (upgrade|downgrade) (.*?) ->\s*(.*)$", chunk)
        if running:
            # upgrade a -> b runs b; downgrade b -> a runs b
            ids = running.group(3) if running.group(1) == "upgrade" else running.group(2)
            current = ids.split(",")[0].strip()
            found[current] = []
            continue
        # BEGIN; and COMMIT; are Alembic's transaction; BEGIN; and END; a revision's own (a
        # SQLite helper's), which schemactl folds into the script's transaction.
        if not chunk or chunk.startswith("--") or chunk in ("BEGIN;", "COMMIT;", "END;"):
            continue
        if any(word in chunk.splitlines()[0] for word in VERSION_WORDS):
            continue
        assert current is not None, chunk
        found[current].append(chunk)
    return found


def ours(project: Path, name: str, kind: str) -> dict[str, list[str]] | None:
    loaded = load_project(project / "alembic.ini")
    from dataclasses import replace

    loaded = replace(loaded, x_arguments=tuple(X_ARGS.get(name, [])[1::2]))
    try:
        script = ranges.sql_one(
            loaded, loaded.environment(None), kind, start="base", target="heads"
        )
    except SchemactlError:
        return None
    return {step.revision.id: [s.strip() for s in step.statements] for step in script.steps}


@pytest.mark.parametrize("dialect", ["postgresql", "mariadb", "sqlite"])
@pytest.mark.parametrize("name", PROJECTS)
def test_statements_equal_alembic_upgrade_sql(tmp_path, name, dialect):
    """Where Alembic cannot render a range offline (a batch operation without copy_from on
    SQLite, say), schemactl refuses too; everywhere else the statements are the same."""
    project = project_copy(tmp_path, name, dialect)
    up = alembic_sql(project, name, "upgrade", "heads", "--sql")
    assert up is not None, "the corpus is written so that every upgrade renders"
    assert ours(project, name, "upgrade") == revision_statements(up)
    heads = load_graph(load_project(project / "alembic.ini").alembic_config()).heads
    down = alembic_sql(project, name, "downgrade", f"{','.join(heads)}:base", "--sql")
    assert ours(project, name, "rollback") == (None if down is None else revision_statements(down))


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("name", PROJECTS)
def test_scripts_apply_like_alembics(tmp_path, throwaway_database, name, dialect):
    """Alembic's --sql output and schemactl's script, each applied with the real client to a
    fresh database, give the same schema; schemactl's rollback then leaves only its tables."""
    from dataclasses import replace

    theirs_db, ours_db = throwaway_database(dialect), throwaway_database(dialect)
    project = project_copy(tmp_path, name, dialect)
    alembic_script = tmp_path / "alembic.sql"
    alembic_script.write_text(alembic_sql(project, name, "upgrade", "heads", "--sql") or "")
    applied = apply_script(theirs_db, alembic_script)
    assert applied.returncode == 0, applied.stderr

    loaded = replace(
        load_project(project / "alembic.ini"), x_arguments=tuple(X_ARGS.get(name, [])[1::2])
    )
    upgrade = ranges.sql_one(loaded, loaded.environment(None), "upgrade", start="base")
    (tmp_path / "upgrade.sql").write_text(upgrade.text)
    applied = apply_script(ours_db, tmp_path / "upgrade.sql")
    assert applied.returncode == 0, applied.stderr
    ignore = TOOL_TABLES
    assert schema_snapshot(ours_db.url, ignore) == schema_snapshot(theirs_db.url, ignore)
    if upgrade.dialect.version_table != "alembic_version":
        assert "alembic_version" not in {t.name for t in schema_snapshot(ours_db.url).tables}

    try:
        rollback = ranges.sql_one(loaded, loaded.environment(None), "rollback", start="base")
    except SchemactlError:
        assert ours(project, name, "rollback") is None  # Alembic cannot render it either
        return
    (tmp_path / "rollback.sql").write_text(rollback.text)
    rolled = apply_script(ours_db, tmp_path / "rollback.sql")
    assert rolled.returncode == 0, rolled.stderr
    left = {t.name for t in schema_snapshot(ours_db.url).tables}
    assert left == {upgrade.dialect.version_table, *upgrade.dialect.tool_tables}


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
@pytest.mark.parametrize("name", [*PROJECTS, "../plain_alembic"])
def test_check_reports_on_any_project(tmp_path, name, dialect):
    """A report and an exit code, never a traceback; no target_metadata is a skip."""
    project = project_copy(tmp_path, name, dialect)
    result = schemactl(project, "-c", "alembic.ini", *X_ARGS.get(name, []), "check", "--json")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    skipped = {s["check"]: s["reason"] for s in report["skipped"]}
    assert skipped["models-match-migrations"].startswith(
        "no target_metadata" if dialect == "sqlite" else "no scratch PostgreSQL server"
    )
    failed = {p["check"] for p in report["problems"]}
    assert report["ok"] == (not failed) == (result.returncode == 0)
    if name == "idioms" and dialect == "sqlite":
        # b2's downgrade, as for Alembic; d4's deletes rows it did not insert (the proof has
        # rows in every table).
        assert failed == {"renders-offline", "downgrades", "migrations-run:sqlite"}
        (lost,) = [p["message"] for p in report["problems"] if p["check"].startswith("migr")]
        assert lost.startswith(
            "the rollback script of d4d4d4d4d4d4 (migrations/versions/d4_settings.py) does not "
            "give every row back on SQLite (table audit lost row id="
        )
    elif name != "idioms":
        assert failed == set(), report["problems"]


@pytest.mark.parametrize("name", [*PROJECTS, "../plain_alembic"])
def test_graph_status_and_branches_agree_with_alembic(tmp_path, name):
    project = project_copy(tmp_path, name, "sqlite")
    history = load_history(load_project(project / "alembic.ini"))
    assert_agrees_with_alembic(history)
    graph = history.graph
    scripts = history.scripts
    config = ["-c", str(project / "alembic.ini"), *X_ARGS.get(name, [])]
    status = runner.invoke(app, [*config, "status"])
    assert status.exit_code == 0, status.output
    rows = status.stdout.splitlines()[2:]
    assert len(rows) == len(graph.order)
    # Each row names the labels Alembic gives its revision (three, then how many more).
    for rev, row in zip(graph.order, rows, strict=True):
        theirs = scripts.get_revision(rev).branch_labels
        assert set(graph.labels_shown(rev)) == theirs
        shown = row.split(rev, 1)[1]
        assert shown.startswith(f"  {labels_text(graph.labels_shown(rev))}"), (rev, row)
    drawn = runner.invoke(app, [*config, "graph"])
    assert drawn.exit_code == 0, drawn.output
    listed = runner.invoke(app, [*config, "branch", "list"])
    assert listed.exit_code == 0, listed.output
    counts = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    for label in graph.labels:
        members = [r for r in graph.order if label in scripts.get_revision(r).branch_labels]
        assert f"  {len(members):>4}  " in counts[label], (label, counts[label])


def test_the_regenerate_line_reaches_a_project_in_another_folder(tmp_path):
    project = project_copy(tmp_path, "idioms", "postgresql")
    command = ["-c", "idioms/alembic.ini", "-x", "tenant=globex", "sql", "--from", "base"]
    result = subprocess.run(
        [sys.executable, "-m", "tools", *command, "--stdout"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    regenerate = lines[lines.index("-- Regenerate with:") + 1]
    assert regenerate == (
        "--   schemactl -c idioms/alembic.ini -x tenant=globex sql --env default --from base "
        "--to d4d4d4d4d4d4 --stdout"
    )
    # The guard and stamps use the version table env.py chose for -x tenant=globex.
    assert "to_regclass('globex_versions')" in result.stdout
    assert "INSERT INTO globex_versions (version_num) VALUES ('a1a1a1a1a1a1');" in result.stdout
    assert project.is_dir()


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("name", [*PROJECTS, "../plain_alembic"])
def test_release_proves_any_project(tmp_path, name, dialect):
    """A release of a foreign project is proven with the real client, or refused in one line
    naming the revision: idioms' b2 cannot render offline on SQLite (nor can Alembic), and its
    d4 binds a string to a jsonb column, which PostgreSQL refuses when Alembic runs it."""
    project = project_copy(tmp_path, name, dialect)
    servers = scratch_env(dialect)
    result = schemactl(project, "-c", "alembic.ini", *X_ARGS.get(name, []), "release", env=servers)
    assert "Traceback" not in result.stderr and "WARNING" not in result.stderr, result.stderr
    refused = {
        ("idioms", "sqlite"): "Error: revision b2b2b2b2b2b2 (b2_plan.py) downgrade fails offline",
        ("idioms", "postgresql"): "Error: the history does not apply to a scratch PostgreSQL "
        'database at d4_settings.py:15 (column "settings" is of type jsonb',
    }
    if (name, dialect) in refused:
        assert result.returncode == 1
        assert len(result.stderr.splitlines()) == 1
        assert result.stderr.startswith(refused[(name, dialect)]), result.stderr
        assert not (project / "sql_out").exists()
        return
    assert result.returncode == 0, result.stderr
    manifest = json.loads(next((project / "sql_out").glob("*/manifest.json")).read_text())
    assert manifest["releases"][0]["proven"]["server"].startswith(
        {"sqlite": "SQLite", "postgresql": "PostgreSQL", "mariadb": "MariaDB"}[dialect]
    )


def test_without_target_metadata_the_models_check_is_skipped_even_when_the_history_fails(
    tmp_path,
):
    """env.py gives autogenerate no models: there is nothing to compare, whatever happens
    when the history runs (a revision that fails online is migrations-run's to report)."""
    project = project_copy(tmp_path, "../plain_alembic", "sqlite")
    (project / "migrations" / "versions" / "0003_3000000000cc_fails_online.py").write_text(
        '"""Fails online"""\n\n'
        "from alembic import context, op\n\n"
        'revision = "3000000000cc"\n'
        'down_revision = "2000000000bb"\n'
        "branch_labels = None\n"
        "depends_on = None\n\n\n"
        "def upgrade():\n"
        "    if not context.is_offline_mode():\n"
        '        op.execute("SELECT no_such_function()")\n\n\n'
        "def downgrade():\n"
        "    pass\n"
    )
    result = schemactl(project, "-c", "alembic.ini", "check", "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    skipped = {s["check"]: s["reason"] for s in report["skipped"]}
    assert skipped["models-match-migrations"].startswith("no target_metadata"), report
    assert "migrations-run:sqlite" in {p["check"] for p in report["problems"]}


@pytest.mark.parametrize("dialect", ["postgresql", "mariadb", "sqlite"])
def test_a_range_that_starts_midway_imports_every_file_as_alembic_does(tmp_path, dialect):
    """helpers' p4 uses a helper package that only the first file puts on sys.path and
    imports: rendered alone, in a fresh process, it renders as Alembic renders it, and what
    the files print goes to stderr, not into the script."""
    project = project_copy(tmp_path, "helpers", dialect)
    span = ("p2p2p2p2p2p2", "p4p4p4p4p4p4")
    theirs = alembic_sql(project, "helpers", "upgrade", ":".join(span), "--sql")
    assert theirs is not None
    expected = revision_statements(theirs)[span[1]]
    result = subprocess.run(
        [sys.executable, "-m", "tools", "sql", "--from", span[0], "--to", span[1], "--stdout"],
        capture_output=True,
        text=True,
        cwd=project,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("-- ====="), result.stdout[:200]
    assert "migration helpers loaded" in result.stderr
    assert "migration helpers loaded" not in result.stdout
    at = 0
    for statement in expected:  # in Alembic's order
        at = result.stdout.index(statement, at)
    folded = "-- Its own BEGIN, END (line 14) are left out"  # the helper's `with` line
    assert (folded in result.stdout) == (dialect == "sqlite")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_revisions_own_transaction_is_folded_into_the_scripts(
    tmp_path, throwaway_database, dialect
):
    """A helper that wraps its statements in BEGIN ... END, on any database: the script
    leaves the pair out and runs the statements in its own transaction; applied with the
    real client, the rows arrive, and the rollback takes them away again."""
    from dataclasses import replace

    project = project_copy(tmp_path, "helpers", dialect)
    helper = project / "migrations" / "helpers" / "migration_kit" / "batches.py"
    helper.write_text(helper.read_text().replace('== "sqlite"', "is not None"))
    loaded = load_project(project / "alembic.ini")
    env = loaded.environment(None)
    upgrade = ranges.sql_one(loaded, env, "upgrade", start="base")
    assert "-- Its own BEGIN, END (line 14) are left out" in upgrade.text
    step = upgrade.text.split("upgrade p4p4p4p4p4p4")[1].split("\n-- ---")[1]
    assert "INSERT INTO customers (name) VALUES ('Walk-in');" in step.splitlines()
    assert not {"BEGIN;", "END;", "COMMIT;"} & set(step.splitlines())
    db = throwaway_database(dialect)
    (tmp_path / "upgrade.sql").write_text(upgrade.text)
    applied = apply_script(db, tmp_path / "upgrade.sql")
    assert applied.returncode == 0, applied.stderr
    with db.engine().connect() as connection:
        rows = connection.exec_driver_sql("SELECT name FROM customers").all()
        items = connection.exec_driver_sql("SELECT sku FROM items").all()
    assert rows == [("Walk-in",)] and items == [("WALK-IN",)]
    rollback = ranges.sql_one(replace(loaded), env, "rollback", start="base")
    (tmp_path / "rollback.sql").write_text(rollback.text)
    rolled = apply_script(db, tmp_path / "rollback.sql")
    assert rolled.returncode == 0, rolled.stderr
    left = {t.name for t in schema_snapshot(db.url).tables}
    assert left == {upgrade.dialect.version_table, *upgrade.dialect.tool_tables}


def test_a_module_level_index_is_attached_once_per_run(tmp_path):
    """A sa.Index made when the file is imported and passed to create_table: every run of
    the revisions gets its own import, as each Alembic command does, so a release (which
    lints, renders, plans backups and proves) renders it and check's online proof runs it up
    and down again; squash replays the table Alembic built rather than building it again."""
    project = project_copy(tmp_path, "helpers", "sqlite")
    first = project / "migrations" / "versions" / "p01_items.py"
    index = 'sa.Index("ix_customers_email", "email", unique=True)'
    text = first.read_text().replace(f"        {index},\n", "        ix_email,\n")
    first.write_text(text.replace("\n\ndef upgrade", f"\n\nix_email = {index}\n\n\ndef upgrade"))
    # check's proof steps the scratch database up, down and up again in one process.
    checked = schemactl(project, "-c", "alembic.ini", "check", "--json")
    assert checked.returncode == 0, checked.stdout
    released = schemactl(project, "-c", "alembic.ini", "release")
    assert released.returncode == 0, released.stderr
    squashed = schemactl(project, "-c", "alembic.ini", "squash", "--to", "s1s1s1s1s1s1")
    assert squashed.returncode == 0, squashed.stderr
    (written,) = (project / "migrations" / "versions").glob("*_s1s1s1s1s1s1_*.py")
    code = written.read_text()
    assert "op.create_index('ix_customers_email', 'customers', ['email'], unique=True)" in code


# Every command of a foreign project that runs its revision files, and the ones that do not.
COMMANDS = [
    ("status",),
    ("graph",),
    ("branch", "list"),
    ("sql", "--from", "base", "--stdout"),
    ("sql", "--from", "base", "--stdout", "--rollback"),
    ("lint",),
    ("check", "--json"),
    ("release", "--to", "p9p9p9p9p9p9"),
    ("upgrade", "--plan"),
    ("upgrade",),
    ("verify",),
    ("downgrade", "pricing@base", "--plan"),
    ("downgrade", "base"),
    ("stamp", "heads"),
    ("squash", "--to", "p2p2p2p2p2p2", "--dry-run"),
]


def test_what_revision_files_print_goes_to_stderr_on_every_command(tmp_path):
    """helpers' first file prints when it is imported, p2's upgrade when it runs: never
    onto stdout, where scripts, reports and JSON go."""
    project = project_copy(tmp_path, "helpers", "sqlite")
    for command in COMMANDS:
        result = schemactl(project, "-c", "alembic.ini", *command)
        assert result.returncode in (0, 1), (command, result.stderr)
        assert "Traceback" not in result.stderr, (command, result.stderr)
        assert not {"migration helpers loaded", "filled 0 notes"} & set(
            result.stdout.splitlines()
        ), (command, result.stdout)


def alembic_in_process(project: Path, name: str, *args: str) -> str | None:
    """`alembic ... --sql` run here (as fast as a revision deserves): Alembic imports every
    file again for each command, as a fresh process would; None when it cannot render."""
    import argparse
    import io

    from alembic import command
    from alembic.config import Config

    out = io.StringIO()
    x = X_ARGS.get(name, [])[1::2]
    cfg = Config(str(project / "alembic.ini"), output_buffer=out, cmd_opts=argparse.Namespace(x=x))
    verb, span = args
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # what revision files print
            getattr(command, verb)(cfg, span, sql=True)
    except Exception:
        return None
    return out.getvalue()


@pytest.mark.parametrize("dialect", ["postgresql", "mariadb", "sqlite"])
@pytest.mark.parametrize("name", PROJECTS)
def test_each_revision_alone_renders_as_alembic_renders_it(tmp_path, name, dialect):
    """What the issue measured: each revision's own range, PARENTS:REV up and back, rendered
    by plain Alembic and by schemactl: the same refusals (none where Alembic renders) and
    the same statements."""
    from dataclasses import replace

    project = project_copy(tmp_path, name, dialect)
    loaded = replace(
        load_project(project / "alembic.ini"), x_arguments=tuple(X_ARGS.get(name, [])[1::2])
    )
    graph = load_graph(loaded.alembic_config())
    env = loaded.environment(None)
    # Alembic takes one revision as a range's start: a merge's statements are taken from
    # its run of the whole history instead.
    whole = {
        "upgrade": alembic_in_process(project, name, "upgrade", "heads"),
        "rollback": alembic_in_process(project, name, "downgrade", f"{','.join(graph.heads)}:base"),
    }
    for rev in graph.order:
        below = ",".join(graph[rev].parents) or "base"
        for kind, verb, span in (
            ("upgrade", "upgrade", f"{below}:{rev}"),
            ("rollback", "downgrade", f"{rev}:{below}"),
        ):
            theirs = alembic_in_process(project, name, verb, span)
            if graph[rev].is_merge:
                theirs = whole[kind]
            try:
                script = ranges.sql_one(loaded, env, kind, start=below, target=rev)
            except SchemactlError as err:
                assert theirs is None, (rev, kind, str(err))
                assert "Traceback" not in str(err)
                continue
            assert theirs is not None, (rev, kind)
            (step,) = script.steps
            assert [s.strip() for s in step.statements] == revision_statements(theirs)[rev], (
                rev,
                kind,
            )
