"""schemactl verify on live databases built by the real clients from the rendered scripts."""

from __future__ import annotations

import contextlib
import json

from sqlalchemy import create_engine, pool, text
from typer.testing import CliRunner

from tools.cli import app
from tools.config import load_project
from tools.release import ranges

from .conftest import FIXTURE, apply_script

runner = CliRunner()
DROP_INDEX = {
    "postgresql": "DROP INDEX ix_customers_tax_id",
    "mariadb": "DROP INDEX ix_customers_tax_id ON customers",
    "sqlite": "DROP INDEX ix_customers_tax_id",
}


def verify(repo, database, *options):
    """`schemactl verify` of the billing database (the first) of the repo at ``repo``."""
    config = str(repo / "alembic.ini")
    return runner.invoke(
        app, ["-c", config, "-n", "alembic", "verify", "--env", database.env, *options]
    )


@contextlib.contextmanager
def _recording_scratch_names(made):
    """The names of the scratch databases made meanwhile (in this process), in ``made``:
    another test's may come and go on the same server at the same time."""
    from tools.proof import scratch

    real = scratch.scratch_database

    @contextlib.contextmanager
    def recording(kind, server=None, **kw):
        with real(kind, server, **kw) as url:
            made.append(url.database)
            yield url

    scratch.scratch_database = recording
    try:
        yield
    finally:
        scratch.scratch_database = real


def execute(db, *statements):
    engine = create_engine(db.url, poolclass=pool.NullPool)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def test_verify_finds_drift_and_edited_files_and_passes_a_clean_database(
    repo_copy, database, tmp_path
):
    project = load_project(repo_copy / "alembic.ini")
    ranges.sql(project, project.environment(database.env), start="base", out=tmp_path / "s")
    applied = apply_script(database, tmp_path / "s" / "upgrade.sql")
    assert applied.returncode == 0, applied.stderr

    clean = verify(repo_copy, database)
    assert clean.exit_code == 0, clean.output
    assert clean.stdout.splitlines()[1:] == [
        "Database at 68cfa590ad28; compared with a scratch database upgraded to the same.",
        "No drift: the database matches its revision exactly.",
    ]

    execute(
        database,
        "ALTER TABLE customers ADD COLUMN vat_number VARCHAR(20)",
        DROP_INDEX[database.dialect],
    )
    phone = repo_copy / "versions" / "0002_228dfcf7a7c0_add_users_phone.py"
    phone.write_text(phone.read_text() + "\n# edited after it reached the database\n")

    made = []
    with _recording_scratch_names(made):
        result = verify(repo_copy, database, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["drift"] == [
        "extra column customers.vat_number (VARCHAR(20), nullable)",
        "missing index ix_customers_tax_id on customers",
    ]
    (edited,) = report["edited"]
    assert edited.startswith(
        "versions/0002_228dfcf7a7c0_add_users_phone.py changed after it was applied"
    )
    assert report["audit_rows"] == 12

    if database.dialect == "postgresql":  # the scratch databases it made are gone again
        engine = create_engine(database.url, poolclass=pool.NullPool)
        with engine.connect() as connection:
            left = connection.execute(
                text("SELECT datname FROM pg_database WHERE datname = ANY(:made)"),
                {"made": made},
            ).all()
        engine.dispose()
        assert made and left == []


def unaudited_upgrade(project, database, target: str = "heads") -> None:
    """The version moved by a tool that writes no audit (Alembic with another env.py, a
    hand-written UPDATE): no audit row, no audit table."""
    from alembic import command

    from tools.dialects import AUDITED

    environment = project.environment(database.env)
    cfg = project.alembic_config(environment, url=database.url)
    cfg.attributes[AUDITED] = True
    command.upgrade(cfg, target)


def plain_alembic(project, database, *args: str) -> None:
    """`alembic upgrade/downgrade ...` as a developer types it, through this repo's env.py."""
    from alembic import command

    environment = project.environment(database.env)
    cfg = project.alembic_config(environment, url=database.url)
    getattr(command, args[0])(cfg, *args[1:])


def test_verify_without_audit_table_still_compares_the_schema(project, database):
    unaudited_upgrade(project, database, "9ecdc98b5e8a")
    execute(database, "ALTER TABLE users DROP COLUMN phone")
    result = verify(FIXTURE, database)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[2:] == [
        "DRIFT missing column users.phone",
        "No audit table: revision file checksums not compared.",
        "1 problem(s)",
    ]


def test_verify_says_when_the_audit_and_the_version_table_disagree(repo_copy, database, tmp_path):
    """A release applied, its rollback applied, then the version moved without a script (by
    a tool that writes no audit rows): the schema matches the version table, but the audit's
    last rows undo revisions alembic_version has."""
    project = load_project(repo_copy / "alembic.ini")
    ranges.sql(project, project.environment(database.env), start="base", out=tmp_path / "all")
    ranges.sql(
        project, project.environment(database.env), start="9ecdc98b5e8a", out=tmp_path / "last"
    )
    for script in (tmp_path / "all" / "upgrade.sql", tmp_path / "last" / "rollback.sql"):
        applied = apply_script(database, script)
        assert applied.returncode == 0, applied.stderr
    clean = verify(repo_copy, database)
    assert clean.exit_code == 0, clean.output
    unaudited_upgrade(project, database)

    result = verify(repo_copy, database, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["drift"] == [] and report["edited"] == []
    undone = [line.split(":")[0] for line in report["audit_disagrees"]]
    assert undone == [
        "466a3e31682b", "fa4621c62bf9", "83a14815e175", "fcac57c435d7", "e58b81ed3f5b",
        "68cfa590ad28",
    ]  # fmt: skip
    assert "the audit's last row undoes it" in report["audit_disagrees"][0]
    shown = verify(repo_copy, database)
    assert shown.stdout.splitlines()[-1] == "6 problem(s)"
    assert sum(line.startswith("AUDIT 466a3e31682b: ") for line in shown.stdout.splitlines()) == 1


def test_plain_alembic_records_the_audit_schemactl_does(repo_copy, database):
    """`alembic upgrade` and `alembic downgrade` in this repo (its env.py) write the audit
    rows schemactl's own commands write, release 'alembic', timed (issue 31): `verify`
    agrees with the version table, and `audit` lists them."""
    project = load_project(repo_copy / "alembic.ini")
    plain_alembic(project, database, "current")
    assert database.tables() == set()  # a command that applies nothing writes nothing
    plain_alembic(project, database, "upgrade", "heads")
    plain_alembic(project, database, "downgrade", "e58b81ed3f5b")
    plain_alembic(project, database, "upgrade", "heads")
    result = verify(repo_copy, database, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["audit_disagrees"] == []
    rows = json.loads(
        runner.invoke(
            app, ["-c", str(repo_copy / "alembic.ini"), "--env", database.env, "audit", "--json"]
        ).stdout
    )["rows"]
    assert [r["revision"] for r in rows][-2:] == ["68cfa590ad28", "68cfa590ad28"]
    assert [r["direction"] for r in rows][-3:] == ["upgrade", "downgrade", "upgrade"]
    assert {r["release"] for r in rows} == {"alembic"}
    assert all(r["duration_ms"] is not None for r in rows)
