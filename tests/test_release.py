"""schemactl sql and release: bad input, hostile text, determinism and the release check."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tools.cli import app
from tools.dialects import FORMAT
from tools.history.load import sha256_of

from .conftest import FIXTURE, SCENARIOS, apply_script, scenario_copy, schemactl

runner = CliRunner()
HEAD = "68cfa590ad28"

REVISION = '''"""{message}"""

import sqlalchemy as sa
from alembic import op

revision = "0123456789ab"
down_revision = "68cfa590ad28"
branch_labels = {labels!r}
depends_on = None


def upgrade():
{upgrade}


def downgrade():
    op.drop_column("users", "nickname")
'''
ADD_NICKNAME = '    op.add_column("users", sa.Column("nickname", sa.String(30)))'
HOSTILE = (
    "Add users.nickname */ DROP TABLE users; -- ' \\\" \\\\\n"
    "DROP TABLE customers; --\r\nDROP TABLE invoices;\u2028DROP TABLE payments; /*"
)


def add_revision(repo, *, message="Add users.nickname", labels=None, upgrade=ADD_NICKNAME):
    path = repo / "versions" / "0011_0123456789ab_extra.py"
    path.write_text(REVISION.format(message=message, labels=labels, upgrade=upgrade))
    return path


def cli(repo, *args):
    return runner.invoke(app, ["-c", str(repo / "alembic.ini"), *args])


def test_a_hostile_message_and_label_stay_comments(repo_copy, throwaway_database):
    """Text a developer wrote is data: it cannot end its comment and become SQL."""
    add_revision(repo_copy, message=HOSTILE, labels=("evil */ DROP TABLE users; --\nDROP TABLE x",))
    out = repo_copy / "out"
    result = cli(repo_copy, "sql", "--env", "dev", "--from", HEAD, "--out", str(out))
    assert result.exit_code == 0, result.output
    upgrade = (out / "upgrade.sql").read_text()
    injected = ("DROP TABLE users", "DROP TABLE customers", "DROP TABLE invoices", "DROP TABLE x")
    dangerous = [line for line in upgrade.splitlines() if any(i in line for i in injected)]
    assert dangerous, "the message should appear, as a comment"
    assert all(line.startswith("--") for line in dangerous), dangerous
    assert "\u2028" not in upgrade and "\r" not in upgrade

    db = throwaway_database("sqlite")
    to_head = cli(
        repo_copy,
        "sql",
        "--env",
        "dev",
        "--from",
        "base",
        "--to",
        HEAD,
        "--out",
        str(repo_copy / "h"),
    )
    assert to_head.exit_code == 0
    assert apply_script(db, repo_copy / "h" / "upgrade.sql").returncode == 0
    applied = apply_script(db, out / "upgrade.sql")
    assert applied.returncode == 0, applied.stderr
    import sqlite3

    with sqlite3.connect(db.url.database) as connection:
        tables = {
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        columns = {r[1] for r in connection.execute("PRAGMA table_info(users)")}
    assert {"users", "customers", "invoices", "payments"} <= tables
    assert "nickname" in columns


def test_a_hostile_message_in_the_review(repo_copy):
    add_revision(repo_copy, message="Add | nickname <script>x</script>\n| DROP |")
    result = cli(repo_copy, "release", "--env", "dev")
    assert result.exit_code == 0, result.output
    (folder,) = [p for p in (repo_copy / "sql_out" / "dev").iterdir() if p.is_dir()]
    review = (folder / "review.md").read_text()
    assert "<script>" not in review
    row = next(line for line in review.splitlines() if "0123456789ab |" in line)
    assert len(re.findall(r"(?<!\\)\|", row)) == 7  # the message's pipes are escaped


@pytest.mark.parametrize(
    ("upgrade", "reason"),
    [
        (
            '    op.get_bind().execute(sa.text("SELECT count(*) FROM users")).scalar()',
            "upgrade reads from the database (0011_0123456789ab_extra.py:13: it uses the "
            "result of a query, which offline has no rows); write data changes as SQL that "
            "reads nothing (op.execute with an UPDATE ... SELECT, op.bulk_insert)",
        ),
        (
            "    op.create_table('t', sa.Column('id', sa.Integer, primary_key=True))\n"
            "    raise KeyError('missing setting')",
            "upgrade fails offline with KeyError: 'missing setting' "
            "(0011_0123456789ab_extra.py:14); fix the revision (offline, "
            "`context.is_offline_mode()` is true and `op.get_bind()` executes nothing)",
        ),
        (
            "    op.execute('COMMIT')",
            "upgrade runs COMMIT itself, which would end the script's transaction; run "
            "statements that cannot be in a transaction inside "
            "`with op.get_context().autocommit_block():`",
        ),
        (
            # Hidden in one string among other statements: found by sqlglot all the same.
            '    op.execute("UPDATE users SET is_active = true; COMMIT; UPDATE users SET '
            "full_name = 'x'\")",
            "upgrade runs COMMIT itself, which would end the script's transaction; run "
            "statements that cannot be in a transaction inside "
            "`with op.get_context().autocommit_block():`",
        ),
        (
            # Its own transaction is folded into the script's only when it closes it.
            "    op.execute('BEGIN')\n    op.execute(\"UPDATE users SET full_name = 'x'\")",
            "upgrade runs BEGIN itself (line 13) and never a COMMIT or END to close it; "
            "close the transaction it opens, or run its statements without one",
        ),
        (
            "    op.execute('BEGIN IMMEDIATE')\n    op.execute('ROLLBACK')",
            "upgrade runs ROLLBACK itself, which would end the script's transaction; run "
            "statements that cannot be in a transaction inside "
            "`with op.get_context().autocommit_block():`",
        ),
        (
            "    op.bulk_insert(sa.table('users', sa.column('prefs', sa.JSON())), "
            "[{'prefs': {'a': 1}}])",
            "upgrade has a value that cannot be written as an SQL literal (No literal value "
            "renderer is available for literal value \"{'a': 1}\" with datatype JSON); use a "
            "value of a plain SQL type",
        ),
        (
            # A value with control characters is written with escapes; raw SQL is not.
            "    op.execute(\"UPDATE users SET full_name = 'bell\\x07'\")",
            "upgrade runs SQL text holding raw control characters, which a script cannot "
            "carry; pass such values as bound parameters (sa.text(...).bindparams(...)), "
            "which are written with escapes",
        ),
    ],
    ids=[
        "reads-from-the-database",
        "fails",
        "raw-commit",
        "commit-among-statements",
        "begin-never-closed",
        "begin-rolled-back",
        "json-value",
        "raw-control",
    ],
)
def test_a_revision_that_cannot_render_offline(repo_copy, upgrade, reason):
    """One line naming the revision and the reason; nothing written."""
    add_revision(repo_copy, upgrade=upgrade)
    out = repo_copy / "out"
    result = cli(repo_copy, "sql", "--env", "prod", "--out", str(out))
    assert result.exit_code == 1
    assert result.output == (
        f"Error: revision 0123456789ab (0011_0123456789ab_extra.py) {reason}\n"
    )
    assert not out.exists()

    before = sorted(p.relative_to(repo_copy) for p in (repo_copy / "sql_out").rglob("*"))
    released = cli(repo_copy, "release", "--env", "prod")
    assert released.exit_code == 1
    assert sorted(p.relative_to(repo_copy) for p in (repo_copy / "sql_out").rglob("*")) == before


INDEXES = SCENARIOS / "indexes"
# What a process may differ in: hash seed, time zone, locale, working directory.
PROCESSES = [
    (str(seed), tz, lang, cwd)
    for seed, (tz, lang, cwd) in enumerate(
        [
            ("UTC", "C.UTF-8", "project"),
            ("Asia/Kolkata", "C", "elsewhere"),
            ("America/New_York", "C.UTF-8", "project"),
            ("Pacific/Chatham", "POSIX", "elsewhere"),
            ("UTC", "C", "project"),
        ]
        * 2
    )
]


def in_process(project, seed, tz, lang, cwd, *args):
    elsewhere = cwd != "project"
    return subprocess.run(
        [sys.executable, "-m", "tools", *(["-c", str(project / "alembic.ini")] if elsewhere else []),
         *args],
        cwd=project.parent if elsewhere else project,
        env=os.environ | {"PYTHONHASHSEED": seed, "TZ": tz, "LANG": lang, "LC_ALL": lang},
        capture_output=True,
        text=True,
    )  # fmt: skip


def test_releases_verify_the_same_in_every_process(tmp_path):
    """Tables with several indexes, unique and check constraints (sets Alembic iterates): a
    release written in one process is current in ten others, whatever their hash seed, time
    zone, locale and working directory."""
    project = tmp_path / "indexes"
    shutil.copytree(INDEXES, project)
    made = in_process(project, "99", "UTC", "C.UTF-8", "project", "release")
    assert made.returncode == 0, made.stderr
    for process in PROCESSES:
        checked = in_process(project, *process, "release", "--check")
        assert (checked.returncode, checked.stderr) == (0, ""), process
        assert checked.stdout.endswith("all current\n")


@pytest.mark.parametrize("dialect", ["postgresql", "mariadb", "sqlite"])
def test_scripts_are_byte_identical_in_every_process(tmp_path, dialect):
    """No timestamps, no set order: the same project renders the same bytes, upgrade and
    rollback, on every dialect (offline: no server)."""
    project = tmp_path / "indexes"
    shutil.copytree(INDEXES, project)
    ini = project / "alembic.ini"
    ini.write_text(ini.read_text().replace("sqlite:///%(here)s/app.db", f"{dialect}://u@h/db"))
    outputs = set()
    for process in PROCESSES[:4]:
        for extra in ([], ["--rollback"]):
            result = in_process(project, *process[:3], "project", "sql", "--from", "base",
                                "--stdout", *extra)  # fmt: skip
            assert result.returncode == 0, result.stderr
            outputs.add((tuple(extra), result.stdout))
    assert len(outputs) == 2


def test_sql_to_stdout_and_bad_ranges(repo_copy):
    up = cli(
        repo_copy, "sql", "--env", "prod", "--from", "base", "--to", "ab251de0ab93", "--stdout"
    )
    assert up.exit_code == 0
    assert up.output.startswith("-- ====")
    assert "-- schemactl upgrade script for environment prod (postgresql)" in up.output
    assert "-- Apply with:\n--   psql -X -v ON_ERROR_STOP=1 --dbname=DBNAME -f upgrade.sql\n" in (
        up.output
    )
    down = cli(
        repo_copy,
        "sql",
        "--env",
        "prod",
        "--from",
        "base",
        "--to",
        "ab251de0ab93",
        "--stdout",
        "--rollback",
    )
    assert "DROP TABLE users;" in down.output

    # Nothing to render is not an error (as for `release`): exit 0, nothing printed where the
    # script would be, nothing written.
    same = cli(repo_copy, "sql", "--env", "prod", "--from", HEAD, "--stdout")
    assert same.exit_code == 0 and same.stdout == ""
    assert same.stderr == (
        f"Nothing to render: a database at {HEAD} already has {HEAD}; nothing was written.\n"
    )
    out = repo_copy / "out"
    files = cli(repo_copy, "sql", "--env", "prod", "--from", HEAD, "--out", str(out))
    assert files.exit_code == 0 and files.stdout == same.stderr
    assert not out.exists()
    inner = cli(
        repo_copy, "sql", "--env", "prod", "--from", "ab251de0ab93,228dfcf7a7c0", "--stdout"
    )
    assert inner.exit_code == 1
    assert "names ab251de0ab93 together with a later revision" in inner.output
    unknown = cli(repo_copy, "sql", "--env", "prod", "--from", "nosuch", "--stdout")
    assert unknown.output == (
        "Error: No such revision or branch 'nosuch'; run `schemactl status` to see the revisions "
        "and branch labels\n"
    )


def test_a_broken_template_names_itself(repo_copy):
    template = repo_copy / "own.sql.mako"
    template.write_text("-- ${script.kind}\n-- ${script.no_such_thing}\n")
    ini = repo_copy / "alembic.ini"
    ini.write_text(
        ini.read_text().replace("[schemactl]\n", "[schemactl]\ntemplate = %(here)s/own.sql.mako\n")
    )
    result = cli(repo_copy, "sql", "--env", "prod", "--from", "base", "--stdout")
    assert result.exit_code == 1
    assert result.output == (
        "Error: template own.sql.mako failed at line 2: AttributeError: 'Script' object has no "
        "attribute 'no_such_thing'; fix the template (or the [schemactl] template setting)\n"
    )


def test_release_check_is_clean_on_the_repo():
    result = runner.invoke(app, ["-c", str(FIXTURE / "alembic.ini"), "release", "--check"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "3 release(s) verified (sha256s; the current format re-rendered byte for byte): "
        "all current\n"
    )


def test_release_check_finds_every_problem(repo_copy):
    prod = repo_copy / "sql_out" / "prod"
    first, second = "0001_9ecdc98b5e8a", f"0002_{HEAD}"
    upgrade = prod / second / "upgrade.sql"
    upgrade.write_text(upgrade.read_text().replace("lock_timeout = '5s'", "lock_timeout = '0'"))
    revision = repo_copy / "versions" / "0002_228dfcf7a7c0_add_users_phone.py"
    revision.write_text(revision.read_text().replace("length=20", "length=24"))
    manifest = json.loads((prod / "manifest.json").read_text())
    manifest["releases"][1]["from"] = ["a66186b7cc1d"]
    # A release of the current format is rendered again byte for byte; one of an earlier
    # format (the second, format 1) is data, verified by its sha256s alone.
    manifest["releases"][0]["format"] = FORMAT
    (prod / "manifest.json").write_text(json.dumps(manifest))
    (prod / "0003_stray").mkdir()

    result = cli(repo_copy, "release", "--check")
    assert result.exit_code == 1
    assert result.stdout == ""
    differs = (
        "differs from a fresh render of the same range; something it is made from changed "
        "(a revision file, the template, or a pinned package)"
    )
    assert result.stderr.splitlines() == [
        "FAIL sql_out/prod/0003_stray: not listed in manifest.json: nothing but recorded "
        "releases belongs here; remove it, or render releases with `schemactl release`",
        f"FAIL versions/0002_228dfcf7a7c0_add_users_phone.py: edited after release {first} "
        "contained it; released history must not change: restore the file from git and put "
        "the change in a new revision",
        f"FAIL sql_out/prod/{first}/upgrade.sql: {differs}",
        f"FAIL sql_out/prod/{first}/rollback.sql: {differs}",
        f"FAIL sql_out/prod/{second}: starts at a66186b7cc1d but the release before it ends at "
        "9ecdc98b5e8a: the chain has a gap",
        f"FAIL sql_out/prod/{second}/upgrade.sql: edited after it was rendered (its sha256 "
        "differs from manifest.json); restore it from git",
        # review.md is the review as it was (lint improves): its sha256 is checked, not a
        # fresh render.
        "6 problem(s) in 3 release(s)",
    ]


def test_release_when_there_is_nothing_new(repo_copy):
    result = cli(repo_copy, "release", "--env", "prod")
    assert result.exit_code == 0
    assert result.output == "Nothing to release: prod's last release already reaches the target.\n"


@pytest.mark.postgresql
def test_create_index_concurrently_runs_outside_the_transaction(
    repo_copy, throwaway_database, project, monkeypatch
):
    """CREATE INDEX CONCURRENTLY cannot run in a transaction block: the script commits
    before it and says so in its header, instead of failing at apply time."""
    from tools.live import migrate

    add_revision(
        repo_copy,
        upgrade='    op.create_index("ix_invoices_due_date", "invoices", ["due_date"], '
        "postgresql_concurrently=True)",
    )
    down = repo_copy / "versions" / "0011_0123456789ab_extra.py"
    down.write_text(
        down.read_text().replace(
            '    op.drop_column("users", "nickname")',
            '    op.drop_index("ix_invoices_due_date", table_name="invoices", '
            "postgresql_concurrently=True)",
        )
    )
    out = repo_copy / "out"
    result = cli(repo_copy, "sql", "--env", "prod", "--from", HEAD, "--out", str(out))
    assert result.exit_code == 0, result.output
    upgrade = (out / "upgrade.sql").read_text()
    assert "-- NOT all or nothing: these revisions run statements that cannot run in a" in upgrade
    body = upgrade[upgrade.index("-- 1/1") :]
    assert body.index("COMMIT;") < body.index("CREATE INDEX CONCURRENTLY") < body.index("BEGIN;")

    db = throwaway_database("postgresql")
    monkeypatch.setenv(db.url_var, db.url.render_as_string(hide_password=False))
    migrate.upgrade(project, project.environment(db.env))
    applied = apply_script(db, out / "upgrade.sql")
    assert applied.returncode == 0, applied.stderr
    from sqlalchemy import create_engine, inspect, pool

    engine = create_engine(db.url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        assert "ix_invoices_due_date" in {
            i["name"] for i in inspect(connection).get_indexes("invoices")
        }
    undone = apply_script(db, out / "rollback.sql")
    assert undone.returncode == 0, undone.stderr
    with engine.connect() as connection:
        names = {i["name"] for i in inspect(connection).get_indexes("invoices")}
        version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    engine.dispose()
    assert "ix_invoices_due_date" not in names
    assert version == HEAD


@pytest.mark.postgresql
def test_the_apply_command_in_the_header_can_be_pasted(repo_copy, throwaway_database, tmp_path):
    """The header's command, pasted into a shell with the database's name for DBNAME and the
    server where psql looks for it (PGHOST, PGUSER), applies the script."""
    db = throwaway_database("postgresql")
    out = tmp_path / "release"
    rendered = cli(repo_copy, "sql", "--env", "prod", "--from", "base", "--out", str(out))
    assert rendered.exit_code == 0, rendered.output
    text = (out / "upgrade.sql").read_text()
    command = text.split("-- Apply with:\n--   ", 1)[1].split("\n", 1)[0]
    assert command == f"psql -X -v ON_ERROR_STOP=1 --dbname=DBNAME -f {out}/upgrade.sql"
    env = {**os.environ, "PGHOST": db.url.host, "PGPORT": str(db.url.port or 5432)}
    env["PGUSER"] = db.url.username
    if db.url.password:
        env["PGPASSWORD"] = db.url.password
    pasted = subprocess.run(
        command.replace("DBNAME", db.url.database),
        shell=True,
        env=env,
        capture_output=True,
        text=True,
    )
    assert pasted.returncode == 0, pasted.stderr
    assert "alembic_version" in db.tables()


def test_the_review_names_what_each_operation_changes_and_whole_sha256s(repo_copy):
    """Changes per table name the column or index ('add_column nickname'), and the sha256 of
    each revision file is whole, as the audit records it."""
    add_revision(repo_copy)
    result = cli(repo_copy, "release", "--env", "dev")
    assert result.exit_code == 0, result.output
    (folder,) = [p for p in (repo_copy / "sql_out" / "dev").iterdir() if p.is_dir()]
    review = (folder / "review.md").read_text()
    upgrade = review.split("## Changes per table (upgrade)")[1].split("##")[0]
    assert "|  | 0123456789ab | add_column nickname |  |" in upgrade.splitlines()  # under users
    assert "|  | 68cfa590ad28 | create_index ix_customers_tax_id |  |" in upgrade.splitlines()
    sha = sha256_of(next((repo_copy / "versions").glob("*_0123456789ab_*.py")))
    assert f"| `{sha}` |" in review


# -- the gates before a release is written (tests/scenarios/data, a foreign project) -------------

ON_D008 = '''"""{message}

Revision ID: {rev}
Revises: d008
"""

import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = "d008"
branch_labels = {labels!r}
depends_on = None


def upgrade():
    op.add_column("prices", sa.Column("{column}", sa.Integer))


def downgrade():
    op.drop_column("prices", "{column}")
'''


def released_data_project(tmp_path):
    """The data corpus with release 0001 (base -> d008) recorded, proven on SQLite."""
    project = scenario_copy(tmp_path, SCENARIOS / "data")
    first = schemactl(project, "release")
    assert first.returncode == 0, first.stderr
    return project


def add_on_d008(project, rev, column, labels=None):
    (project / "migrations" / "versions" / f"{rev}_{column}.py").write_text(
        ON_D008.format(message=f"Add prices.{column}", rev=rev, column=column, labels=labels)
    )


def sql_out_files(project):
    return sorted(p.relative_to(project) for p in (project / "sql_out").rglob("*"))


def test_release_refuses_branches_nobody_merged(tmp_path):
    """Two heads: a release would apply both lines unmerged. Refused, naming both heads
    and `schemactl merge`; nothing written. `status --check` fails too."""
    project = released_data_project(tmp_path)
    add_on_d008(project, "e001", "weight", labels=("weights",))
    add_on_d008(project, "e002", "colour", labels=("colours",))
    before = sql_out_files(project)
    refused = schemactl(project, "release")
    assert refused.returncode == 1
    assert refused.stderr == (
        "Error: release not written: it would end at 2 heads (e001, e002), branches nobody "
        "has merged; join them with `schemactl merge`, or release up to where they fork with "
        "--to\n"
    )
    assert sql_out_files(project) == before
    status = schemactl(project, "status", "--check")
    assert status.returncode == 1
    assert status.stderr.splitlines()[-1] == (
        "2 heads (e001, e002): branches nobody has merged; join them with `schemactl merge`"
    )
    merged = schemactl(project, "merge", "-m", "Join weights and colours")
    assert merged.returncode == 0, merged.stderr
    done = schemactl(project, "release")
    assert done.returncode == 0, done.stderr


def test_release_refuses_after_a_released_file_was_edited(tmp_path):
    """A docstring edited in a released revision: refused before anything is rendered,
    naming the revision and its file (not another one)."""
    project = released_data_project(tmp_path)
    edited = project / "migrations" / "versions" / "d003_round_prices.py"
    edited.write_text(edited.read_text().replace("relabel a price", "relabel one price"))
    add_on_d008(project, "e001", "weight")
    before = sql_out_files(project)
    refused = schemactl(project, "release")
    assert refused.returncode == 1
    assert refused.stderr == (
        "Error: release not written: migrations/versions/d003_round_prices.py (revision d003) "
        "changed since release default/0001_d008 recorded it; released history never changes: "
        "restore the file from git (`git checkout -- FILE`) and put the change in a new "
        "revision\n"
    )
    assert sql_out_files(project) == before


def test_lint_judges_what_the_next_release_would_run(tmp_path):
    """Without a range, lint judges what the environment's next release would run: from its
    last recorded release (base before the first), so a table prod has had for months is
    not taken for one the range creates."""
    project = scenario_copy(tmp_path, SCENARIOS / "data")
    first = schemactl(project, "lint", "--json")
    assert {f["revision"] for f in json.loads(first.stdout)["findings"]} >= {"d004", "d007"}
    project = released_data_project(tmp_path / "released")
    nothing = schemactl(project, "lint")
    assert (nothing.returncode, nothing.stdout) == (
        0,
        "Nothing to lint: the last release (d008) already reaches every head.\n",
    )
    (project / "migrations" / "versions" / "e001_drop_label.py").write_text(
        ON_D008.format(message="Drop prices.label", rev="e001", column="x", labels=None)
        .replace('op.add_column("prices", sa.Column("x", sa.Integer))', 'op.drop_column("prices", "label")')
        .replace('op.drop_column("prices", "x")', 'op.add_column("prices", sa.Column("label", sa.String(60)))')
    )  # fmt: skip
    linted = schemactl(project, "lint", "--json")
    assert linted.returncode == 1
    (finding,) = json.loads(linted.stdout)["findings"]
    assert (finding["revision"], finding["rule"], finding["message"]) == (
        "e001",
        "destructive",
        "drops column prices.label",
    )


def test_what_a_revision_prints_never_reaches_a_script_or_a_report(tmp_path):
    """print() in a revision file (at import, in upgrade()) goes to stderr: the script on
    stdout and the JSON of a report stay whole."""
    project = scenario_copy(tmp_path, SCENARIOS / "data")
    (project / "migrations" / "versions" / "e001_chatty.py").write_text(
        ON_D008.format(message="Add prices.weight", rev="e001", column="weight", labels=None)
        .replace("def upgrade():\n", 'print("imported e001")\n\n\ndef upgrade():\n    print("upgrading; DROP TABLE users;")\n')
    )  # fmt: skip
    script = schemactl(project, "sql", "--from", "d008", "--stdout")
    assert script.returncode == 0, script.stderr
    assert "upgrading" not in script.stdout and "imported" not in script.stdout
    assert "upgrading; DROP TABLE users;" in script.stderr
    assert script.stdout.startswith("-- ====")
    checked = schemactl(project, "check", "--json")
    json.loads(checked.stdout)  # nothing else on stdout
    assert "imported e001" in checked.stderr
