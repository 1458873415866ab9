"""schemactl as a user meets it: exact output, help, and one-line errors for bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tools.cli import app

from .conftest import FIXTURE, SCENARIOS, schemactl

runner = CliRunner()

# The labels Alembic gives each revision: a merge and what follows it carry its branches'.
STATUS_ROWS = """\
[ ] 0001 ab251de0ab93                       Baseline: users, customers, invoices and invoice items
[ ] 0002 228dfcf7a7c0                       Add users.phone
[ ] 0003 cc474e29ad24                       Create tax_rates
[ ] 0004 45c580e85327                       Create products
[ ] 0005 a66186b7cc1d                       Store invoices.total_amount as Numeric(12, 2), not Float
[ ] 0006 9ecdc98b5e8a                       Seed the standard tax rates  (branchpoint)
[ ] 0007 466a3e31682b  discounts            Start the discounts feature: create discounts
[ ] 0008 fa4621c62bf9  discounts            Add invoices.discount_total
[ ] 0007 83a14815e175  payments             Start the payments feature: create payments
[ ] 0008 fcac57c435d7  payments             Add payments.reference and index payments.paid_at
[ ] 0009 e58b81ed3f5b  discounts, payments  Merge the payments and discounts branches  (merge)
[ ] 0010 68cfa590ad28  discounts, payments  Add customers.tax_id  (head)"""


def invoke(*args: str):
    return runner.invoke(app, ["-c", str(FIXTURE / "alembic.ini"), *args])


def test_status_on_a_new_database(database):
    result = invoke("--env", database.env, "status")
    assert result.exit_code == 0, result.output
    # Shown as psql and libpq take it: no SQLAlchemy driver in the scheme.
    shown = database.url.set(drivername=database.dialect)
    assert result.output.splitlines()[0] == (
        f"Environment {database.env} ({database.dialect}): {shown.render_as_string()}"
    )
    assert "+" not in result.output.splitlines()[0].split("://")[0]
    assert result.output.splitlines()[1] == "Database at base (empty); 0 of 12 revisions applied"
    assert "\n".join(result.output.splitlines()[2:]) == STATUS_ROWS


def test_status_on_two_heads_then_merged(database):
    """A database that took both feature branches sits on two heads before the merge.

    0006 ─┬─ 0007 ── 0008 (discounts) [X] ─┐
          └─ 0007 ── 0008 (payments)  [X] ─┴─ 0009 merge [ ]
    """
    assert invoke("--env", database.env, "upgrade", "discounts@fa4621c62bf9").exit_code == 0
    assert invoke("--env", database.env, "upgrade", "fcac57c435d7").exit_code == 0
    result = invoke("--env", database.env, "status")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1] == "Database at fa4621c62bf9, fcac57c435d7; 10 of 12 revisions applied"
    expected = STATUS_ROWS.replace("[ ]", "[X]", 10)
    assert "\n".join(lines[2:]) == expected

    upgraded = invoke("--env", database.env, "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    now_at = f"{database.env} ({database.dialect}) is now at"
    assert upgraded.stdout == f"{now_at} 68cfa590ad28\n"
    down = invoke("--env", database.env, "downgrade", "-1")
    assert down.stdout == f"{now_at} e58b81ed3f5b\n"


def test_dev_is_the_default_and_lives_under_var(repo_copy):
    result = runner.invoke(app, ["-c", str(repo_copy / "alembic.ini"), "upgrade"])
    assert result.exit_code == 0, result.output
    assert (repo_copy / "var" / "dev.db").is_file()
    assert result.stdout == "dev (sqlite) is now at 68cfa590ad28\n"
    assert "Running upgrade e58b81ed3f5b -> 68cfa590ad28, Add customers.tax_id" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--env", "nope", "status"],
            "Error: unknown environment 'nope'; choose one of: dev, mariadb, prod, staging "
            "(environments are the [schemactl.env.NAME] sections of alembic.ini)",
        ),
        (
            ["--env", "staging", "status"],
            "Error: environment 'staging' takes its database URL from $BILLGEN_STAGING_URL, which "
            "is not set; export BILLGEN_STAGING_URL=postgresql://USER@HOST:5432/DBNAME",
        ),
        (
            ["upgrade", "deadbeef"],
            "Error: No such revision or branch 'deadbeef'; run `schemactl status` to see "
            "the revisions and branch labels",
        ),
        (
            ["downgrade", "nosuchbranch@-1"],
            "Error: No such revision or branch 'nosuchbranch'; run `schemactl status` to "
            "see the revisions and branch labels",
        ),
    ],
)
def test_bad_input_is_one_line(args, message, repo_copy, monkeypatch):
    monkeypatch.delenv("BILLGEN_STAGING_URL", raising=False)
    monkeypatch.delenv("SCHEMACTL_ENV", raising=False)
    result = runner.invoke(app, ["-c", str(repo_copy / "alembic.ini"), *args])
    assert result.exit_code == 1
    assert result.output == message + "\n"


def test_missing_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 1
    assert result.output == (
        "Error: no Alembic config at alembic.ini; run from the repository root or pass "
        "-c PATH/TO/alembic.ini\n"
    )


def test_a_password_is_never_printed(monkeypatch):
    monkeypatch.setenv("BILLGEN_STAGING_URL", "postgresql://app:s3cr%40t@127.0.0.1:1/billing")
    result = invoke("--env", "staging", "status")
    assert result.exit_code == 1
    assert "s3cr" not in result.output
    assert result.output.startswith("Error: postgresql://app:***@127.0.0.1:1/billing: ")


def test_a_url_for_the_wrong_dialect(monkeypatch):
    monkeypatch.setenv("BILLGEN_STAGING_URL", "mysql://root@127.0.0.1/x")
    result = invoke("--env", "staging", "status")
    assert result.output == (
        "Error: environment 'staging' is postgresql but the URL in $BILLGEN_STAGING_URL is for "
        "mysql; point $BILLGEN_STAGING_URL at a postgresql database\n"
    )


def _break(repo_copy, name: str, text: str) -> None:
    (repo_copy / "versions" / name).write_text(text)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "0011_0123456789ab_broken.py",
            'revision = "0123456789ab"\ndown_revision = "68cfa590ad28"\ndef upgrade(:\n',
            "Error: revision file 0011_0123456789ab_broken.py, line 3 is not valid Python "
            "(invalid syntax); fix or remove it",
        ),
        (
            "0011_0123456789ab_orphan.py",
            'revision = "0123456789ab"\ndown_revision = "ffffffffffff"\n',
            "Error: Revision ffffffffffff referenced from 0011_0123456789ab_orphan.py "
            "(0123456789ab) is not present; fix that down_revision or restore the missing file",
        ),
    ],
)
def test_a_broken_revision_file(repo_copy, name, text, message):
    _break(repo_copy, name, text)
    result = runner.invoke(app, ["-c", str(repo_copy / "alembic.ini"), "status"])
    assert result.exit_code == 1
    assert result.output == message + "\n"


def test_a_revision_id_used_twice(repo_copy):
    source = repo_copy / "versions" / "0002_228dfcf7a7c0_add_users_phone.py"
    (repo_copy / "versions" / "0011_228dfcf7a7c0_copy.py").write_text(source.read_text())
    result = runner.invoke(app, ["-c", str(repo_copy / "alembic.ini"), "status"])
    assert result.exit_code == 1
    assert result.output in {
        f"Error: revision 228dfcf7a7c0 is defined twice, in {first} and {second}; give one of "
        "them a new revision id\n"
        for first, second in [
            ("0002_228dfcf7a7c0_add_users_phone.py", "0011_228dfcf7a7c0_copy.py"),
            ("0011_228dfcf7a7c0_copy.py", "0002_228dfcf7a7c0_add_users_phone.py"),
        ]
    }


def test_a_cycle(repo_copy):
    baseline = repo_copy / "versions" / "0001_ab251de0ab93_baseline.py"
    baseline.write_text(
        baseline.read_text().replace(
            "down_revision: str | Sequence[str] | None = None",
            'down_revision: str | Sequence[str] | None = "68cfa590ad28"',
        )
    )
    result = runner.invoke(app, ["-c", str(repo_copy / "alembic.ini"), "status"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: the revision history is broken: ")
    assert "cycle" in result.output.lower()
    assert len(result.output.splitlines()) == 1


def test_another_alembic_project_with_c(tmp_path):
    """-c points schemactl at any Alembic project; one without [schemactl] sections gets a
    'default' environment from its sqlalchemy.url."""
    project = tmp_path / "plain"
    shutil.copytree(SCENARIOS / "plain_alembic", project)
    config = str(project / "alembic.ini")
    up = runner.invoke(app, ["-c", config, "upgrade", "1000000000aa"])
    assert up.exit_code == 0, up.output
    result = runner.invoke(app, ["-c", config, "status"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == [
        "Database at 1000000000aa; 1 of 2 revisions applied",
        "[X] 0001 1000000000aa  Create notes",
        "[ ] 0002 2000000000bb  Add notes.body  (head)",
    ]
    assert result.output.startswith("Environment default (sqlite): sqlite:///")


def test_commands_have_help_with_an_example():
    top = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert top.exit_code == 0
    assert "(a [schemactl.env.NAME] section of alembic.ini)" in " ".join(top.output.split())
    commands = [[c.name or c.callback.__name__] for c in app.registered_commands]
    for group in app.registered_groups:
        assert group.name in top.output
        commands += [
            [group.name, c.name or c.callback.__name__]
            for c in group.typer_instance.registered_commands
        ]
    assert len(commands) >= 11
    for words in commands:
        assert words[0] in top.output
        result = runner.invoke(app, [*words, "--help"])
        assert result.exit_code == 0, words
        assert "Example:" in result.output, words
        assert "<bool>" not in result.output, words  # a flag takes no value


def test_help_rewraps_its_prose_and_keeps_examples_whole():
    """Paragraphs are rewrapped to the terminal (not cut where the docstring's lines end);
    each Example stays on a line of its own; a flag shows no type."""
    result = runner.invoke(app, ["makemigrations", "--help"])
    assert result.output == (
        "Usage: schemactl makemigrations [OPTIONS]\n"
        "\n"
        "  Autogenerate a revision from the models, like Django's makemigrations.\n"
        "\n"
        "  The file is named NNNN_<rev>_<slug>.py (the slug at most truncate_slug_length\n"
        "  long, as Alembic's) and formatted by ruff; without -m, the slug and message\n"
        "  come from what changed (add_invoices_discount).\n"
        "\n"
        '  Example: schemactl makemigrations --branch invoicing -m "Add invoices.discount"\n'
        "  Example: schemactl makemigrations --check\n"
        "  Example: schemactl makemigrations --rename customers.billing_address:postal_address\n"
        "\n"
        "Options:\n"
        "  -m, --message <str>     The revision's message.\n"
        "  -b, --branch <str>      Branch to add the revision to, or 'trunk' (the default\n"
        "                          while no branch is open).\n"
        "  --empty                 Write a revision even with no model changes.\n"
        "  --rename TABLE.OLD:NEW  Write this column's drop and add as a rename (its\n"
        "                          values kept); repeatable. Without it, makemigrations\n"
        "                          asks on a terminal, as Django's does.\n"
        "  --check                 Write nothing: exit 1, listing them, when the models\n"
        "                          have changes no revision holds yet (as Django's\n"
        "                          makemigrations --check).\n"
        "  -n, --name <str>        Database to work on: an alembic.ini section, as with\n"
        "                          `alembic -n NAME`. Default: the first ([alembic]).\n"
        "  --help                  Show this message and exit.\n"
    )
    bad = runner.invoke(app, ["--bogus"])
    assert bad.exit_code == 2 and bad.output.splitlines()[-1] == "Error: No such option: --bogus"


def test_help_imports_neither_sqlalchemy_nor_alembic():
    code = (
        "import runpy, sys\n"
        "sys.argv = ['schemactl', '--help']\n"
        "try:\n    runpy.run_module('tools', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in ('sqlalchemy', 'alembic') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=FIXTURE, env=os.environ
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"
    assert "Usage: schemactl" in result.stdout


@pytest.mark.postgresql
def test_a_password_with_percent_signs_reaches_the_driver(throwaway_database, monkeypatch):
    """'%' is the ini parser's escape: a URL must reach Alembic and the driver intact."""
    db = throwaway_database("postgresql")
    url = db.url.set(password="p%40ss%w0rd")
    monkeypatch.setenv("BILLGEN_STAGING_URL", url.render_as_string(hide_password=False))
    result = invoke("--env", "staging", "upgrade", "ab251de0ab93")
    assert result.exit_code == 0, result.output
    assert "p%40ss" not in result.output
    assert result.stdout == "staging (postgresql) is now at ab251de0ab93\n"


def test_progress_output_ends_with_its_command(repo_copy, monkeypatch, tmp_path):
    """upgrade shows Alembic's progress while it runs, and leaves no handler behind for
    whatever the same process does next."""
    import logging

    logger = logging.getLogger("alembic.runtime.migration")
    before = list(logger.handlers)
    monkeypatch.setenv("BILLGEN_DEV_URL", f"sqlite:///{tmp_path / 'p.db'}")
    result = runner.invoke(app, ["-c", str(repo_copy / "alembic.ini"), "upgrade", "ab251de0ab93"])
    assert "Running upgrade  -> ab251de0ab93" in result.stderr
    assert logger.handlers == before


def test_status_check_and_plans_change_nothing(database):
    """`status --check` exits 1 while revisions are pending; `--plan` shows what upgrade or
    downgrade would run, in Alembic's order, with each revision's operations, and runs none."""
    pending = invoke("--env", database.env, "status", "--check")
    assert pending.exit_code == 1
    assert pending.stderr == (
        f"12 revisions pending; run `schemactl --env {database.env} upgrade` (or apply the "
        "release's script)\n"
    )
    assert invoke("--env", database.env, "upgrade", "9ecdc98b5e8a").exit_code == 0
    before = database.tables()

    planned = invoke("--env", database.env, "upgrade", "--plan")
    assert planned.exit_code == 0, planned.output
    lines = planned.stdout.splitlines()
    assert lines[1] == "Database at 9ecdc98b5e8a; upgrade would run 6 revisions, in this order:"
    assert lines[2:5] == [
        "   1. upgrade 466a3e31682b  [discounts] Start the discounts feature: create discounts",
        "        create_table discounts",
        "   2. upgrade fa4621c62bf9  [discounts] Add invoices.discount_total",
    ]
    assert lines[-1] == "Nothing was changed (--plan)."
    assert [line.split()[2] for line in lines if line[:4].strip().rstrip(".").isdigit()] == [
        "466a3e31682b", "fa4621c62bf9", "83a14815e175", "fcac57c435d7", "e58b81ed3f5b",
        "68cfa590ad28",
    ]  # fmt: skip
    assert database.tables() == before
    still = invoke("--env", database.env, "status", "--check")
    assert still.exit_code == 1 and still.stderr.startswith("6 revisions pending")

    assert invoke("--env", database.env, "upgrade").exit_code == 0
    assert invoke("--env", database.env, "status", "--check").exit_code == 0
    back = invoke("--env", database.env, "downgrade", "-1", "--plan")
    assert back.exit_code == 0, back.output
    assert back.stdout.splitlines()[2:5] == [
        "   1. downgrade 68cfa590ad28  Add customers.tax_id",
        "        drop_index customers.ix_customers_tax_id",
        "        drop_column customers.tax_id",
    ]
    assert invoke("--env", database.env, "status", "--check").exit_code == 0
    assert invoke("--env", database.env, "upgrade", "--plan").stdout == (
        f"Nothing to run: {database.env} ({database.dialect}) at 68cfa590ad28 is already there.\n"
    )


def test_an_environment_marked_offline_refuses_online_commands(repo_copy, database):
    """online = false (this repo sets it for prod): upgrade, downgrade and stamp refuse in one
    line and touch nothing; --plan, status and status --check still read the database."""
    ini = repo_copy / "alembic.ini"
    section = f"[schemactl.env.{database.env}]\n"
    ini.write_text(ini.read_text().replace(section, f"{section}online = false\n"))

    def run(*args):
        return runner.invoke(app, ["-c", str(ini), "--env", database.env, *args])

    for args in (["upgrade"], ["downgrade", "base"], ["stamp", "heads"]):
        refused = run(*args)
        assert refused.exit_code == 1
        assert refused.output == (
            f"Error: environment {database.env} is online = false: `{args[0]}` does not run "
            f"there; render a release (`schemactl release --env {database.env}`) for the DBA to "
            "apply, or see what it would do with --plan\n"
        )
    assert database.tables() == set()
    assert run("upgrade", "--plan").exit_code == 0
    assert run("status").exit_code == 0
    assert run("status", "--check").exit_code == 1
    assert database.tables() <= {"alembic_version"}


def test_online_must_be_true_or_false(repo_copy):
    ini = repo_copy / "alembic.ini"
    ini.write_text(ini.read_text().replace("online = false", "online = maybe"))
    result = runner.invoke(app, ["-c", str(ini), "status"])
    assert (result.exit_code, result.output) == (
        1,
        "Error: [schemactl.env.prod]: online = 'maybe' is not true or false; write online = "
        "false to keep online commands off this environment\n",
    )


def test_stamp_sets_the_version_and_records_it(database):
    """A dev database left on a revision of another git branch (unknown to this checkout) is
    stamped to head: the version table holds head alone, nothing ran, and the audit says so;
    verify then counts the stamp as deliberate."""
    from sqlalchemy import text

    assert invoke("--env", database.env, "upgrade").exit_code == 0
    engine = database.engine()
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'deadbeef0000'"))
    engine.dispose()
    before = database.tables()
    assert invoke("--env", database.env, "status").exit_code == 1  # unknown revision
    # After switching git branches: upgrade, downgrade and --plan say why, and both ways out.
    for args in (("upgrade",), ("downgrade", "-1"), ("upgrade", "--plan")):
        refused = invoke("--env", database.env, *args)
        assert refused.exit_code == 1 and refused.stdout == ""
        assert refused.stderr == (
            f"Error: the {database.env} database is at revision deadbeef0000, which is not in "
            "this checkout's history (written from another git branch?); check out the code "
            "that wrote it (or `git pull`), or, if this checkout's schema is what you want "
            f"there, `schemactl --env {database.env} stamp REVISION` to set the version by "
            "hand\n"
        )

    stamped = invoke("--env", database.env, "stamp", "heads")
    assert stamped.exit_code == 0, stamped.output
    assert stamped.stdout == (
        f"{database.env} ({database.dialect}) is now stamped at 68cfa590ad28\n"
    )
    assert database.tables() == before
    engine = database.engine()
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT revision, direction FROM schemactl_audit ORDER BY id")
        ).all()
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    # The online upgrade's twelve rows, then the stamp's.
    assert [tuple(r) for r in rows][12:] == [("68cfa590ad28", "stamp")]
    assert {r[1] for r in rows[:12]} == {"upgrade"}
    shown = invoke("--env", database.env, "audit", "--json")
    stamp = json.loads(shown.stdout)["rows"][-1]
    assert (stamp["direction"], stamp["release"], stamp["file"]) == ("stamp", "online", "same")
    assert [tuple(v) for v in versions] == [("68cfa590ad28",)]
    assert invoke("--env", database.env, "status", "--check").exit_code == 0
    assert invoke("--env", database.env, "stamp", "nosuchrev").exit_code == 1


def test_the_lint_summary_says_what_stops_a_release():
    from tools.cli import lint_summary
    from tools.lint.findings import Finding

    def finding(severity: str, silenced: str | None = None) -> Finding:
        return Finding(
            rule="r", severity=severity, revision="abc", path=FIXTURE / "x.py", line=3,
            message="m", why="w", fix="f", silenced=silenced,
        )  # fmt: skip

    assert lint_summary([], []) == "No findings."
    warning = finding("warning")
    assert lint_summary([warning], []) == "1 finding: 0 errors, 1 warning; nothing stops a release"
    silenced, loud = finding("error", "reviewed"), finding("error")
    assert lint_summary([silenced, warning], []) == (
        "2 findings: 1 error (1 silenced), 1 warning; nothing stops a release"
    )
    assert lint_summary([silenced, loud, warning], [loud]) == (
        "3 findings: 2 errors (1 silenced), 1 warning; 1 error not silenced: lint fails and "
        "release refuses"
    )


def test_read_only_commands_create_no_database(repo_copy, tmp_path):
    """status, --plan, audit and graph --env on a SQLite database that does not exist yet
    report it empty and create nothing (neither the file nor its folder); verify says there
    is none; upgrade creates it, as plain `alembic upgrade` does."""
    from tests.conftest import schemactl as run

    var = repo_copy / "var"
    assert not var.exists()
    for args in (
        ("status",),
        ("status", "--check"),
        ("upgrade", "--plan"),
        ("audit",),
        ("graph", "--env", "dev"),
    ):
        result = run(repo_copy, *args)
        assert result.returncode in (0, 1) and "Traceback" not in result.stderr, args
        assert not var.exists(), args
    verified = run(repo_copy, "verify")
    assert verified.returncode == 1 and not var.exists()
    # Each database on a line of its own, each with the command that creates it.
    first, second = verified.stderr.splitlines()
    assert first.startswith("Error: database alembic: sqlite:///")
    assert first.endswith(
        "/var/dev.db: no database there (the file does not exist); check the URL, or create "
        "it with `schemactl --env dev upgrade`"
    )
    assert second.endswith("or create it with `schemactl -n reporting --env dev upgrade`")
    upgraded = run(repo_copy, "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert (var / "dev.db").is_file()
    plain = subprocess.run(
        [sys.executable, "-m", "alembic", "-x", "env=dev", "current"],
        cwd=repo_copy, capture_output=True, text=True,
        env={**os.environ, "BILLGEN_DEV_URL": f"sqlite:///{tmp_path}/new/fresh.db"},
    )  # fmt: skip
    assert plain.returncode == 0, plain.stderr


def test_status_of_another_project_with_c_creates_nothing(tmp_path):
    """`schemactl -c other/alembic.ini status` on a project whose SQLite file does not exist."""
    from tests.conftest import schemactl as run
    from tests.test_corpus import project_copy

    project = project_copy(tmp_path, "online_ops", "sqlite")
    before = sorted(p.name for p in project.iterdir())
    for args in (("status",), ("upgrade", "--plan"), ("audit",)):
        result = run(tmp_path, "-c", str(project / "alembic.ini"), *args)
        assert result.returncode == 0, result.stderr
    # Nothing but the header cache, which git ignores (its own .gitignore says so).
    assert sorted(p.name for p in project.iterdir()) == sorted([*before, ".schemactl_cache"])
    assert (project / ".schemactl_cache" / ".gitignore").read_text().endswith("*\n")
    assert not (project / "app.db").exists()


HALF = '''"""{message}

Revision ID: {rev}
Revises: {parent}
"""

import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = "{parent}"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("{column}", sa.String(30)))
{more}

def downgrade():
    op.drop_column("users", "{column}")
'''


def test_a_sqlite_revision_that_fails_halfway_leaves_the_revision_before_it(repo_copy):
    """Online on SQLite each revision is its own transaction, DDL included: the revision
    before the failing one is kept, nothing of the failing one is (its first ALTER was
    once left behind, and the next upgrade died on 'duplicate column name'); the error is
    one line naming the revision's line; fixed, the upgrade goes on."""
    from tools.config import load_project
    from tools.history.load import load_graph

    from .conftest import schemactl

    (head,) = load_graph(load_project(repo_copy / "alembic.ini").alembic_config()).heads
    versions = repo_copy / "versions"
    (versions / "0091_5f5f00000000_title.py").write_text(
        HALF.format(message="Add users.title", rev="5f5f00000000", parent=head, column="title",
                    more="")
    )  # fmt: skip
    failing = versions / "0092_5f5f00000001_nickname.py"
    failing.write_text(
        HALF.format(message="Add users.nickname", rev="5f5f00000001", parent="5f5f00000000",
                    column="nickname",
                    more='    op.create_unique_constraint("uq_users_nickname", "users", ["nickname"])\n')
    )  # fmt: skip
    done = schemactl(repo_copy, "upgrade")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1].startswith(
        "Error: the migration stopped at versions/0092_5f5f00000001_nickname.py:18 with "
        "NotImplementedError: No support for ALTER of constraints in SQLite dialect."
    )
    import sqlite3

    database = sqlite3.connect(repo_copy / "var" / "dev.db")
    try:
        columns = {row[1] for row in database.execute("PRAGMA table_info(users)")}
        (version,) = database.execute("SELECT version_num FROM alembic_version").fetchone()
    finally:
        database.close()
    assert version == "5f5f00000000" and "title" in columns and "nickname" not in columns
    failing.write_text(
        failing.read_text().replace(
            'op.create_unique_constraint("uq_users_nickname", "users", ["nickname"])', "pass"
        )
    )
    again = schemactl(repo_copy, "upgrade")
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("graph",),
        ("sql", "--env", "prod", "--from", "base", "--stdout"),
        ("lint", "--env", "mariadb"),
        ("upgrade", "nosuchrevision"),
        ("--env", "nosuchenv", "status"),
        ("makemigrations", "--branch", "nosuchbranch"),
    ],
    ids=lambda args: " ".join(args),
)
def test_a_command_run_in_this_process_says_what_a_fresh_interpreter_says(repo_copy, args):
    """The suite runs schemactl in its own process (tests/conftest.py::schemactl); that is
    only a proof if it prints, and exits, as a fresh interpreter does."""
    fresh = schemactl(repo_copy, *args, fresh=True)
    here = schemactl(repo_copy, *args)
    assert (here.returncode, here.stdout, here.stderr) == (
        fresh.returncode,
        fresh.stdout,
        fresh.stderr,
    )


def test_version_names_schemactl_alembic_and_sqlalchemy_without_importing_them(tmp_path):
    """`schemactl --version` (issue 31): the installed versions, from the packages' metadata;
    it needs no project and imports neither library."""
    from importlib.metadata import version

    code = (
        "import runpy, sys\n"
        "sys.argv = ['schemactl', '--version']\n"
        "try:\n    runpy.run_module('tools', run_name='__main__')\n"
        "except SystemExit as exit:\n    print('exit', exit.code)\n"
        "print(sorted(m for m in ('sqlalchemy', 'alembic') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=os.environ
    )
    first, code_line, imported = result.stdout.splitlines()
    assert first == (
        f"schemactl {version('billgenerator-schema')}, alembic {version('alembic')}, "
        f"sqlalchemy {version('sqlalchemy')}"
    )
    assert code_line in ("exit 0", "exit None") and imported == "[]"


@pytest.mark.postgresql
def test_a_database_at_an_unknown_revision_gets_advice_its_environment_allows(
    throwaway_database, monkeypatch
):
    """On an environment that takes scripts only (prod: online = false) the way out is not
    `stamp`, which prod refuses, but what the DBA runs with the client (issue 31)."""
    from sqlalchemy import text

    db = throwaway_database("postgresql")
    url = db.url.render_as_string(hide_password=False)
    monkeypatch.setenv("BILLGEN_STAGING_URL", url)
    monkeypatch.setenv("BILLGEN_PROD_URL", url)
    assert invoke("--env", "staging", "upgrade").exit_code == 0
    engine = db.engine()
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'deadbeef0000'"))
    engine.dispose()
    refused = invoke("--env", "prod", "status")
    assert refused.exit_code == 1
    assert "stamp REVISION" not in refused.stderr
    assert refused.stderr.endswith(
        "have the DBA set it with the database's client (`UPDATE alembic_version SET "
        "version_num = 'REVISION'`; prod is online = false, so `stamp` does not run there)\n"
    )
    staging = invoke("--env", "staging", "status")
    assert "`schemactl --env staging stamp REVISION`" in staging.stderr


def test_json_reports_share_one_shape(embedded_copy, monkeypatch):
    """status, graph, upgrade/downgrade (--plan or not) and release speak JSON (issue 31),
    each an object naming its command and, where it is about one database, its environment,
    dialect and database (null: the first), as docs/commands.md's "JSON output" says."""
    import json

    monkeypatch.setenv("BILLGEN_DEV_URL", f"sqlite:///{embedded_copy / 'dev.db'}")

    def run(*args: str) -> dict:
        result = runner.invoke(app, ["-c", str(embedded_copy / "alembic.ini"), *args])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    head = {"environment": "dev", "dialect": "sqlite", "database": None}
    plan = run("upgrade", "--plan", "--json")
    assert plan.items() >= {"command": "plan", "direction": "upgrade", **head}.items()
    assert plan["current"] == [] and plan["steps"][0]["operations"]
    assert [s["revision"] for s in plan["steps"]][-1] == "68cfa590ad28"
    done = run("upgrade", "--json")
    assert done.items() >= {"command": "upgrade", "pending": 0, **head}.items()
    assert done["current"] == ["68cfa590ad28"] and "dev.db" in done["url"]
    status = run("status", "--json")
    assert status["command"] == "status" and status["heads"] == ["68cfa590ad28"]
    assert [r["revision"] for r in status["revisions"]] == [s["revision"] for s in plan["steps"]]
    assert all(r["applied"] for r in status["revisions"])
    back = run("downgrade", "-1", "--plan", "--json")
    assert back["direction"] == "downgrade" and len(back["steps"]) == 1
    graph = run("--env", "dev", "graph", "--format", "json")
    assert graph.items() >= {"command": "graph", **head}.items()
    by_id = {r["revision"]: r for r in graph["revisions"]}
    assert by_id["e58b81ed3f5b"]["merge"] and by_id["68cfa590ad28"]["head"]
    assert all(r["applied"] for r in graph["revisions"])
    made = run("release", "--env", "dev", "--json")
    assert made.items() >= {"command": "release", **head}.items()
    assert made["folder"].startswith("sql_out/dev/") and made["release"]["to"] == ["68cfa590ad28"]
    again = run("release", "--env", "dev", "--json")
    assert again["release"] is None and again["folder"] is None
    refused = runner.invoke(
        app, ["-c", str(embedded_copy / "alembic.ini"), "release", "--check", "--json"]
    )
    assert refused.exit_code == 2 and "--json reports the release written" in refused.output


def test_long_work_says_what_it_is_doing_on_a_terminal_only(embedded_copy):
    """check and release say each step as it begins on stderr when stderr is a terminal
    (issue 31: they were silent for seconds); through a pipe, only their results."""
    import pty

    def run(*args: str, terminal: bool) -> tuple[str, str]:
        environ = {**os.environ, "BILLGEN_DEV_URL": f"sqlite:///{embedded_copy / 'dev.db'}"}
        command = [sys.executable, "-m", "tools", *args]
        if not terminal:
            done = subprocess.run(
                command, cwd=embedded_copy, env=environ, capture_output=True, text=True
            )
            return done.stdout, done.stderr
        main, side = pty.openpty()
        with subprocess.Popen(
            command, cwd=embedded_copy, env=environ, stdout=subprocess.PIPE, stderr=side
        ) as process:
            os.close(side)
            said = b""
            while True:
                try:
                    chunk = os.read(main, 4096)
                except OSError:  # the terminal's other side closed
                    break
                if not chunk:
                    break
                said += chunk
            out = process.stdout.read().decode() if process.stdout else ""
        os.close(main)
        return out, said.decode().replace("\r\n", "\n")

    _, watched = run("check", terminal=True)
    assert "... check alembic/single-head\n" in watched
    assert "... check alembic/migrations-run:sqlite\n" in watched
    out, piped = run("check", terminal=False)
    assert "... " not in piped and "ok   alembic/single-head" in out
    _, watched = run("release", "--env", "dev", terminal=True)
    assert "... linting " in watched
    assert "... proving the scripts with rows on a scratch SQLite database" in watched


def test_shell_completion_completes_commands_and_prints_its_script():
    """Typer's completion (issue 31): `--show-completion bash` prints the script a shell
    sources, and the completion itself answers with schemactl's commands."""
    schemactl_bin = str(Path(sys.executable).parent / "schemactl")  # the installed entry point
    answered = subprocess.run(
        [schemactl_bin],
        env={
            **os.environ,
            "COMP_WORDS": "schemactl sta",
            "COMP_CWORD": "1",
            "_SCHEMACTL_COMPLETE": "complete_bash",
        },
        capture_output=True,
        text=True,
    )
    assert answered.stdout.split() == ["status", "stamp"], answered
    script = subprocess.run(
        [schemactl_bin, "--show-completion", "bash"], capture_output=True, text=True
    )
    assert script.returncode == 0
    assert "complete -o default -F _schemactl_completion schemactl" in script.stdout
