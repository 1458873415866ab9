"""Several databases in one repo: billing ([alembic]) and reporting ([reporting]), each with
its own models, history, version table, URL per environment, scripts and releases; and a
foreign project with several databases in Alembic's cookbook idiom (`alembic -n NAME`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import DIALECTS, FIXTURE, MODELS, SCENARIOS, apply_script, schemactl

REPORTING_VAR = {
    "sqlite": "BILLGEN_DEV_REPORTING_URL",
    "postgresql": "BILLGEN_STAGING_REPORTING_URL",
    "mariadb": "BILLGEN_MARIADB_REPORTING_URL",
}
REPORTING_HEAD = "6f90ca6efb5f"
REPORTING_TABLES = {"monthly_revenue", "tax_summaries"}


def _url(db) -> str:
    return db.url.render_as_string(hide_password=False)


@pytest.fixture(params=DIALECTS)
def pair(request, throwaway_database):
    """A billing and a reporting database of each dialect, and the variables that point the
    dialect's environment at them."""
    dialect = request.param
    billing, reporting = throwaway_database(dialect), throwaway_database(dialect)
    env = {billing.url_var: _url(billing), REPORTING_VAR[dialect]: _url(reporting)}
    return billing, reporting, env


def alembic(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("BILLGEN_", "SCHEMACTL_"))}
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=FIXTURE,
        env={**environ, **env},
        capture_output=True,
        text=True,
    )


def test_plain_alembic_and_schemactl_work_on_each_database(pair):
    billing, reporting, env = pair
    name = billing.env
    up = alembic("-n", "reporting", "-x", f"env={name}", "upgrade", "head", env=env)
    assert up.returncode == 0, up.stderr
    current = alembic("-n", "reporting", "-x", f"env={name}", "current", env=env)
    assert f"{REPORTING_HEAD} (head)" in current.stdout
    # Its own version table, and the audit plain Alembic now writes as schemactl does; the
    # billing database is untouched.
    from tools.dialects import AUDIT_TABLE, TOOL_TABLES

    assert reporting.tables() - TOOL_TABLES == REPORTING_TABLES | {"reporting_alembic_version"}
    assert AUDIT_TABLE in reporting.tables()
    assert billing.tables() == set()
    status = schemactl(FIXTURE, "--env", name, "-n", "reporting", "status", env=env)
    assert status.returncode == 0, status.stderr
    assert f"Environment {name} ({billing.dialect}), database reporting:" in status.stdout
    assert "5 of 5 revisions applied" in status.stdout
    # The option after the command works too, as --env does.
    down = schemactl(FIXTURE, "--env", name, "downgrade", "base", "-n", "reporting", env=env)
    assert down.returncode == 0, down.stderr
    assert REPORTING_TABLES.isdisjoint(reporting.tables())
    billing_status = schemactl(FIXTURE, "--env", name, "status", env=env)
    assert "0 of 12 revisions applied" in billing_status.stdout
    # The first database is not named: a single-database project looks as it always did.
    assert "database" not in billing_status.stdout.splitlines()[0]
    up = schemactl(FIXTURE, "--env", name, "-n", "reporting", "upgrade", env=env)
    assert up.returncode == 0, up.stderr
    assert reporting.tables() >= REPORTING_TABLES


def test_a_script_for_one_database_refuses_the_other(pair, tmp_path):
    """The script of each database stops, changing nothing, on a database holding the other
    one's version table: the DBA gave it the wrong --dbname."""
    billing, reporting, _ = pair
    scripts = {}
    for name in ("alembic", "reporting"):
        out = tmp_path / name
        made = schemactl(
            FIXTURE, "-n", name, "sql", "--env", billing.env, "--from", "base", "--out", str(out)
        )
        assert made.returncode == 0, made.stderr
        scripts[name] = out / "upgrade.sql"
    assert "for database reporting, environment" in scripts["reporting"].read_text()
    assert apply_script(billing, scripts["alembic"]).returncode == 0
    assert apply_script(reporting, scripts["reporting"]).returncode == 0
    before = (billing.tables(), reporting.tables())
    wrong = apply_script(billing, scripts["reporting"])
    assert wrong.returncode != 0
    assert "holds the version table of another database: alembic_version" in (
        wrong.stdout + wrong.stderr
    )
    wrong = apply_script(reporting, scripts["alembic"])
    assert wrong.returncode != 0
    assert "reporting_alembic_version (database reporting)" in wrong.stdout + wrong.stderr
    assert (billing.tables(), reporting.tables()) == before


@pytest.mark.postgresql
def test_verify_covers_every_database(throwaway_database):
    billing, reporting = throwaway_database("postgresql"), throwaway_database("postgresql")
    env = {"BILLGEN_STAGING_URL": _url(billing), "BILLGEN_STAGING_REPORTING_URL": _url(reporting)}
    for name in ("alembic", "reporting"):
        done = schemactl(FIXTURE, "--env", "staging", "-n", name, "upgrade", env=env)
        assert done.returncode == 0, done.stderr
    clean = schemactl(FIXTURE, "--env", "staging", "verify", env=env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.count("No drift") == 2
    assert "database reporting" in clean.stdout
    engine = reporting.engine()
    with engine.begin() as connection:
        from sqlalchemy import text

        connection.execute(text("ALTER TABLE monthly_revenue ADD COLUMN note text"))
    engine.dispose()
    drift = schemactl(FIXTURE, "--env", "staging", "verify", "--json", env=env)
    assert drift.returncode == 1
    found = {report["database"]: report for report in json.loads(drift.stdout)}
    assert found["alembic"]["ok"] is True
    assert found["reporting"]["ok"] is False
    assert any("note" in line for line in found["reporting"]["drift"])
    # A database this environment gives no URL is skipped, said after the others' reports,
    # and the others are judged (issue 31): billing is clean, so exit 0.
    env.pop("BILLGEN_STAGING_REPORTING_URL")
    half = schemactl(FIXTURE, "--env", "staging", "verify", env=env)
    assert half.returncode == 0, half.stdout + half.stderr
    assert "No drift" in half.stdout
    assert half.stderr.startswith("skipped database reporting: ")
    assert "BILLGEN_STAGING_REPORTING_URL" in half.stderr
    as_json = json.loads(schemactl(FIXTURE, "--env", "staging", "verify", "--json", env=env).stdout)
    assert [r["database"] for r in as_json] == ["alembic", "reporting"]
    assert "BILLGEN_STAGING_REPORTING_URL" in as_json[1]["skipped"]
    # One that cannot be reached (a URL to no server) still fails the run, the other reported.
    env["BILLGEN_STAGING_REPORTING_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    down = schemactl(FIXTURE, "--env", "staging", "verify", env=env)
    assert down.returncode == 1 and "No drift" in down.stdout
    assert "Error: database reporting:" in down.stderr
    # With no URL for any database there is nothing verified: exit 1.
    env.pop("BILLGEN_STAGING_URL")
    env.pop("BILLGEN_STAGING_REPORTING_URL")
    none = schemactl(FIXTURE, "--env", "staging", "verify", env=env)
    assert none.returncode == 1 and none.stderr.count("skipped database") == 2


def test_check_and_release_check_cover_both_databases(repo_copy, scratch_servers):
    env = scratch_servers("postgresql", "mariadb")
    clean = schemactl(repo_copy, "check", "--json", env=env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    # A model change without its revision, in reporting: found, with advice for reporting.
    models = repo_copy / MODELS / "reporting.py"
    models.write_text(
        models.read_text().replace(
            "    tax_amount: Mapped[Decimal]\n    gross_amount",
            "    tax_amount: Mapped[Decimal]\n    note: Mapped[str | None]\n    gross_amount",
        )
    )
    # And an edited release file of reporting, and a stray file beside its releases.
    release = repo_copy / "sql_out" / "prod" / "reporting" / f"0001_{REPORTING_HEAD}"
    upgrade = release / "upgrade.sql"
    upgrade.write_text(upgrade.read_text() + "-- edited\n")
    (release.parent / "hotfix.sql").write_text("SELECT 1;\n")
    report = schemactl(repo_copy, "check", "--json", env=env)
    assert report.returncode == 1
    problems = json.loads(report.stdout)["problems"]
    checks = {p["check"] for p in problems}
    assert checks == {"reporting/models-match-migrations", "reporting/sql-out-current"}
    advice = next(p["message"] for p in problems if "models" in p["check"])
    assert "`schemactl -n reporting makemigrations`" in advice
    released = schemactl(repo_copy, "release", "--check")
    assert released.returncode == 1
    assert f"sql_out/prod/reporting/0001_{REPORTING_HEAD}/upgrade.sql: edited" in released.stderr
    assert "sql_out/prod/reporting/hotfix.sql: not listed" in released.stderr
    assert "3 release(s)" in released.stderr  # billing's two and reporting's one


def test_release_goes_under_the_database_and_proves(repo_copy, scratch_servers):
    env = scratch_servers("postgresql")
    made = schemactl(repo_copy, "-n", "reporting", "release", "--env", "staging", env=env)
    assert made.returncode == 0, made.stderr
    folder = repo_copy / "sql_out" / "staging" / "reporting" / f"0001_{REPORTING_HEAD}"
    assert sorted(p.name for p in folder.iterdir()) == ["review.md", "rollback.sql", "upgrade.sql"]
    text = (folder / "upgrade.sql").read_text()
    assert (
        "schemactl -n reporting sql --env staging --from base --to "
        f"{REPORTING_HEAD} --out sql_out/staging/reporting/0001_{REPORTING_HEAD}" in text
    )
    assert (
        (folder / "review.md")
        .read_text()
        .startswith(f"# Release 0001_{REPORTING_HEAD}: database reporting, staging (postgresql)")
    )
    assert not (repo_copy / "sql_out" / "staging" / "manifest.json").exists()
    proven = schemactl(repo_copy, "release", "--prove", "--env", "staging", env=env)
    assert proven.returncode == 0, proven.stderr
    assert f"proven sql_out/staging/reporting/0001_{REPORTING_HEAD}" in proven.stdout
    checked = schemactl(repo_copy, "release", "--check")
    assert checked.returncode == 0 and "4 release(s)" in checked.stdout


def test_advice_names_the_database(tmp_path):
    env = {"BILLGEN_DEV_REPORTING_URL": f"sqlite:///{tmp_path}/reporting.db"}
    assert schemactl(FIXTURE, "-n", "reporting", "upgrade", env=env).returncode == 0
    merge_back = schemactl(FIXTURE, "-n", "reporting", "downgrade", "-1", "--plan", env=env)
    assert merge_back.returncode == 1
    assert "`schemactl -n reporting downgrade 5ed95bbd56e2`" in merge_back.stderr


@pytest.mark.parametrize(
    ("edit", "args", "message"),
    [
        (None, ("-n", "nope", "status"), "alembic.ini has no database 'nope'"),
        (
            ("reporting.url_env = BILLGEN_MARIADB_REPORTING_URL\n", ""),
            ("-n", "reporting", "--env", "mariadb", "status"),
            "no URL for database reporting; set reporting.url_env in [schemactl.env.mariadb]",
        ),
        (
            ("reporting.url_env = BILLGEN_MARIADB_REPORTING_URL", "reportin.url_env = X"),
            ("status",),
            "[schemactl.env.mariadb]: reportin.url_env is not a setting",
        ),
        (
            ("[reporting]\n", "[../evil]\n"),
            ("status",),
            "[../evil] in alembic.ini: a database name is a letter",
        ),
    ],
    ids=["unknown-name", "no-url", "misspelt-key", "path-in-name"],
)
def test_bad_database_settings_are_one_line(repo_copy, edit, args, message):
    ini = repo_copy / "alembic.ini"
    if edit:
        ini.write_text(ini.read_text().replace(*edit))
    done = schemactl(repo_copy, *args)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert message in done.stderr
    assert not (repo_copy / "evil").exists() and not (repo_copy / "var").exists()


def test_two_databases_never_share_one_url(repo_copy, tmp_path):
    shared = f"sqlite:///{tmp_path}/one.db"
    for args in (("status",), ("-n", "reporting", "upgrade")):
        done = schemactl(
            repo_copy, *args, env={"BILLGEN_DEV_URL": shared, "BILLGEN_DEV_REPORTING_URL": shared}
        )
        assert done.returncode == 1
        assert "is the one database" in done.stderr and "needs its own" in done.stderr
    assert not (tmp_path / "one.db").exists()


def test_makemigrations_starts_an_empty_history(repo_copy):
    for path in (repo_copy / "reporting" / "versions").glob("*.py"):
        path.unlink()
    made = schemactl(repo_copy, "-n", "reporting", "makemigrations", "-m", "Reporting baseline")
    assert made.returncode == 0, made.stderr
    [written] = (repo_copy / "reporting" / "versions").glob("0001_*_reporting_baseline.py")
    assert "down_revision: str | Sequence[str] | None = None" in written.read_text()
    assert "create_table" in written.read_text() and "tax_summaries" in written.read_text()
    branch = schemactl(repo_copy, "-n", "reporting", "branch", "start", "totals")
    assert branch.returncode == 0, branch.stderr
    assert "`schemactl -n reporting makemigrations --branch totals -m MESSAGE`" in branch.stdout


COOKBOOK_INI = """\
[engine1]
script_location = %(here)s/engine1
sqlalchemy.url = sqlite:///%(here)s/one.db

[engine2]
script_location = %(here)s/engine2
sqlalchemy.url = sqlite:///%(here)s/two.db
"""

# Alembic's own env.py, which reads the URL of the section `alembic -n NAME` picked.
COOKBOOK_ENV = SCENARIOS / "corpus" / "online_ops" / "migrations" / "env.py"

COOKBOOK_REVISION = '''\
"""Create {table}"""
import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("{table}", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("{table}")
'''


def test_a_foreign_project_in_the_cookbook_idiom(tmp_path):
    """Alembic's cookbook: one ini, a section per database, no [alembic] section, `alembic -n
    NAME`. schemactl finds both, the first by default, and renders what Alembic renders."""
    (tmp_path / "alembic.ini").write_text(COOKBOOK_INI)
    for name, rev, table in (
        ("engine1", "aaaaaaaaaaaa", "one"),
        ("engine2", "bbbbbbbbbbbb", "two"),
    ):
        folder = tmp_path / name
        (folder / "versions").mkdir(parents=True)
        shutil.copy(COOKBOOK_ENV, folder / "env.py")
        (folder / "script.py.mako").write_text(
            (FIXTURE.parent.parent / "tools" / "alembic" / "script.py.mako").read_text()
        )
        (folder / "versions" / f"{rev}_create.py").write_text(
            COOKBOOK_REVISION.format(rev=rev, table=table)
        )
    config = str(tmp_path / "alembic.ini")
    first = schemactl(tmp_path, "-c", config, "status")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Environment default (sqlite): sqlite:///")
    assert "aaaaaaaaaaaa" in first.stdout
    second = schemactl(tmp_path, "-c", config, "status", "-n", "engine2")
    assert second.stdout.startswith("Environment default (sqlite), database engine2:")
    upgraded = schemactl(tmp_path, "-c", config, "-n", "engine2", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert (tmp_path / "two.db").exists() and not (tmp_path / "one.db").exists()
    ours = schemactl(tmp_path, "-c", config, "-n", "engine2", "sql", "--from", "base", "--stdout")
    assert ours.returncode == 0, ours.stderr
    theirs = subprocess.run(
        [
            sys.executable,
            "-m",
            "alembic",
            "-c",
            config,
            "-n",
            "engine2",
            "upgrade",
            "head",
            "--sql",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert theirs.returncode == 0, theirs.stderr
    create = next(s for s in theirs.stdout.split(";") if "CREATE TABLE two" in s)
    create = create[create.index("CREATE TABLE") :]
    assert create in ours.stdout
    assert "-n engine2 sql --env default" in ours.stdout


def test_a_database_goes_by_its_display_name(repo_copy):
    """`display_name = billing` in [alembic] (issue 31): `-n billing` picks it, scripts and
    check say "billing" (the section keeps working for plain Alembic, and as -n alembic);
    a bad or shared display name is one line naming the fix."""
    import json

    ini = repo_copy / "alembic.ini"
    committed = ini.read_text()
    ini.write_text(committed.replace("[alembic]\n", "[alembic]\ndisplay_name = billing\n", 1))
    by_display = schemactl(
        repo_copy, "-n", "billing", "sql", "--env", "prod", "--from", "base", "--stdout"
    )
    by_section = schemactl(
        repo_copy, "-n", "alembic", "sql", "--env", "prod", "--from", "base", "--stdout"
    )
    assert by_display.returncode == 0, by_display.stderr
    assert by_display.stdout == by_section.stdout
    assert "this script is for database billing only" in by_display.stdout
    reporting = schemactl(
        repo_copy, "-n", "reporting", "sql", "--env", "prod", "--from", "base", "--stdout"
    )
    assert "alembic_version (database billing)" in reporting.stdout
    checked = schemactl(repo_copy, "check").stdout.splitlines()
    assert "ok   billing/single-head" in checked and "ok   reporting/single-head" in checked
    unset = schemactl(repo_copy, "--env", "staging", "verify", "--json")  # no URLs: skipped
    assert [r["database"] for r in json.loads(unset.stdout)] == ["billing", "reporting"]
    ini.write_text(committed.replace("[alembic]\n", "[alembic]\ndisplay_name = bad name\n", 1))
    bad = schemactl(repo_copy, "status")
    assert bad.returncode == 1 and len(bad.stderr.splitlines()) == 1
    assert "display_name = 'bad name' in [alembic]" in bad.stderr
    ini.write_text(committed.replace("[alembic]\n", "[alembic]\ndisplay_name = reporting\n", 1))
    shared = schemactl(repo_copy, "status")
    assert shared.returncode == 1 and "two databases have one display_name" in shared.stderr
