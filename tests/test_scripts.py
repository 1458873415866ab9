"""DBA scripts applied with the real clients (psql, mariadb, sqlite3) to fresh databases.

0001 ── … ── 0006 ─┬─ 0007 ── 0008 (discounts) ─┐
                   └─ 0007 ── 0008 (payments) ──┴─ 0009 merge ── 0010 head
"""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import create_engine, pool, text

from tools.dialects import AUDIT_TABLE, TOOL_TABLES
from tools.history.load import load_graph
from tools.live import migrate
from tools.release import ranges, release

from .conftest import FIXTURE, apply_script, model_diff, schema_snapshot

HEAD = "68cfa590ad28"
BRANCH_POINT = "9ecdc98b5e8a"
FEATURE_HEADS = "fa4621c62bf9,fcac57c435d7"


def render(project, db, tmp_path, start="base", target="heads"):
    out = tmp_path / f"sql-{start.replace(',', '+')}-{target}"
    ranges.sql(project, project.environment(db.env), start=start, target=target, out=out)
    return out / "upgrade.sql", out / "rollback.sql"


def query(db, sql):
    engine = create_engine(db.url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).all()
    finally:
        engine.dispose()


def versions(db):
    if "alembic_version" not in db.tables():
        return []
    return sorted(row[0] for row in query(db, "SELECT version_num FROM alembic_version"))


def no_diff(db):
    return model_diff(db.url) == []


def test_script_equals_online_upgrade_and_rolls_back_to_base(
    project, database, throwaway_database, tmp_path, monkeypatch
):
    """base -> head by script gives what online `alembic upgrade head` gives; rollback
    leaves only the version and audit tables."""
    upgrade, rollback = render(project, database, tmp_path)
    applied = apply_script(database, upgrade)
    assert applied.returncode == 0, applied.stderr
    assert versions(database) == [HEAD]
    assert no_diff(database)

    online = throwaway_database(database.dialect)
    monkeypatch.setenv(online.url_var, online.url.render_as_string(hide_password=False))
    migrate.upgrade(project, project.environment(online.env))
    ignore = TOOL_TABLES
    assert schema_snapshot(database.url, ignore) == schema_snapshot(online.url, ignore)

    undone = apply_script(database, rollback)
    assert undone.returncode == 0, undone.stderr
    assert database.tables() == {"alembic_version", *database.kind.tool_tables}
    assert versions(database) == []
    if database.dialect == "postgresql":
        assert query(database, "SELECT typname FROM pg_type WHERE typtype = 'e'") == []


def test_wrong_database_changes_nothing(project, database, tmp_path):
    """A script for base, applied to a database at 0002, stops at the guard: exit code
    non-zero, the message names both revisions, schema and version table untouched."""
    migrate.upgrade(project, project.environment(database.env), "228dfcf7a7c0")
    before = schema_snapshot(database.url)
    upgrade, _ = render(project, database, tmp_path, start="base", target=BRANCH_POINT)
    result = apply_script(database, upgrade)
    assert result.returncode != 0
    said = result.stdout + result.stderr
    assert "expected revision base (no revision)" in said
    assert "228dfcf7a7c0" in said
    assert schema_snapshot(database.url) == before
    assert versions(database) == ["228dfcf7a7c0"]


def test_wrong_database_for_a_later_range(project, database, tmp_path):
    migrate.upgrade(project, project.environment(database.env), "228dfcf7a7c0")
    before = schema_snapshot(database.url)
    upgrade, _ = render(project, database, tmp_path, start=BRANCH_POINT, target="heads")
    result = apply_script(database, upgrade)
    assert result.returncode != 0
    assert f"expected revision {BRANCH_POINT}" in result.stdout + result.stderr
    assert schema_snapshot(database.url) == before


def test_from_two_feature_heads(project, database, tmp_path):
    """A database that took both feature branches before the merge sits on two heads;
    a script from those two heads takes it to head.

        0006 ─┬─ 0007 ── 0008 (discounts) [X] ─┐
              └─ 0007 ── 0008 (payments)  [X] ─┴─ 0009 merge ── 0010 head
    """
    migrate.upgrade(project, project.environment(database.env), "fa4621c62bf9")
    migrate.upgrade(project, project.environment(database.env), "fcac57c435d7")
    assert versions(database) == FEATURE_HEADS.split(",")
    upgrade, rollback = render(project, database, tmp_path, start=FEATURE_HEADS)
    result = apply_script(database, upgrade)
    assert result.returncode == 0, result.stderr
    assert versions(database) == [HEAD]
    assert no_diff(database)
    back = apply_script(database, rollback)
    assert back.returncode == 0, back.stderr
    assert versions(database) == FEATURE_HEADS.split(",")


@pytest.mark.postgresql
def test_postgresql_failure_midway_changes_nothing(
    project, throwaway_database, tmp_path, monkeypatch
):
    """0005 alters invoices, then 0006's seed hits a row added by hand: the whole script
    rolls back, the ALTER included."""
    db = throwaway_database("postgresql")
    monkeypatch.setenv(db.url_var, db.url.render_as_string(hide_password=False))
    migrate.upgrade(project, project.environment(db.env), "45c580e85327")
    engine = create_engine(db.url, poolclass=pool.NullPool)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO tax_rates (code, name, rate) VALUES ('STD', 'x', 1)"))
    engine.dispose()
    before = schema_snapshot(db.url)
    upgrade, _ = render(project, db, tmp_path, start="45c580e85327", target=BRANCH_POINT)
    result = apply_script(db, upgrade)
    assert result.returncode != 0
    assert "uq_tax_rates_code" in result.stderr
    assert schema_snapshot(db.url) == before  # total_amount is still a float, no audit table
    assert versions(db) == ["45c580e85327"]


def test_audit_rows(project, database, tmp_path):
    """One row per revision and direction, in order, with the sha256 of the revision file."""
    upgrade, rollback = render(project, database, tmp_path)
    assert apply_script(database, upgrade).returncode == 0
    assert apply_script(database, rollback).returncode == 0
    graph = load_graph(project.alembic_config())
    sha = {r: hashlib.sha256(graph[r].path.read_bytes()).hexdigest() for r in graph.order}
    expected = [(r, "upgrade", sha[r]) for r in graph.order]
    expected += [(r, "downgrade", sha[r]) for r in reversed(graph.order)]
    rows = query(
        database,
        f"SELECT revision, direction, revision_sha256, applied_at, applied_by FROM {AUDIT_TABLE} "
        "ORDER BY id",
    )
    assert [tuple(row[:3]) for row in rows] == expected
    assert all(row[3] is not None for row in rows)
    if database.dialect != "sqlite":  # SQLite has no users
        assert all(row[4] for row in rows)


def test_releases_in_order_equal_one_script(
    project, repo_copy, database, throwaway_database, tmp_path, scratch_servers
):
    """Two releases applied one after another give the schema one base -> head script gives."""
    import shutil

    scratch_servers(database.dialect)
    from tools.config import load_project

    copy = load_project(repo_copy / "alembic.ini")
    shutil.rmtree(copy.sql_out / database.env, ignore_errors=True)  # a first release from base
    first = release.release(copy, copy.environment(database.env), target=BRANCH_POINT)
    second = release.release(copy, copy.environment(database.env))
    assert first is not None and second is not None
    assert second.start == first.end == (BRANCH_POINT,)
    folder = copy.sql_out / database.env
    for made in (first, second):
        result = apply_script(database, folder / made.name / "upgrade.sql")
        assert result.returncode == 0, result.stderr

    single = throwaway_database(database.dialect)
    upgrade, _ = render(project, single, tmp_path)
    assert apply_script(single, upgrade).returncode == 0
    assert schema_snapshot(database.url) == schema_snapshot(single.url)
    assert versions(database) == versions(single) == [HEAD]


@pytest.mark.postgresql
def test_committed_prod_releases_apply_in_order(throwaway_database):
    """What is committed in sql_out/prod/ takes an empty PostgreSQL database to the models."""
    db = throwaway_database("postgresql")
    folder = FIXTURE / "sql_out" / "prod"
    names = sorted(p.name for p in folder.iterdir() if p.is_dir())
    # The first database's releases, and the folder of the other database's.
    assert names == ["0001_9ecdc98b5e8a", f"0002_{HEAD}", "reporting"]
    for name in names[:2]:
        result = apply_script(db, folder / name / "upgrade.sql")
        assert result.returncode == 0, result.stderr
    assert versions(db) == [HEAD]
    assert no_diff(db)
    # The reporting release takes its own empty database to reporting's models.
    reporting = throwaway_database("postgresql")
    [release] = (folder / "reporting").glob("0001_*")
    result = apply_script(reporting, release / "upgrade.sql")
    assert result.returncode == 0, result.stderr
    assert reporting.tables() == {
        "monthly_revenue",
        "tax_summaries",
        "reporting_alembic_version",
        "schemactl_audit",
    }
    rollback = apply_script(reporting, release / "rollback.sql")
    assert rollback.returncode == 0, rollback.stderr
    assert reporting.tables() == {"reporting_alembic_version", "schemactl_audit"}


@pytest.mark.postgresql
def test_a_plain_postgresql_script_runs_without_psql(repo_copy, throwaway_database, tmp_path):
    """`sql --client plain` (issue 31): no psql meta-command, so a GUI client that sends the
    file as one script (here psycopg, in autocommit, as pgAdmin's Query Tool does) runs it:
    the guard refuses the wrong state, changing nothing, and at the right one the upgrade and
    its audit go through all or nothing. Every script's header says which clients it is for."""
    import psycopg

    from .conftest import schemactl

    db = throwaway_database("postgresql")
    out = schemactl(
        repo_copy, "sql", "--env", "prod", "--client", "plain", "--from", "base", "--stdout"
    )
    assert out.returncode == 0, out.stderr
    script = out.stdout
    assert not [line for line in script.splitlines() if line.startswith("\\") or "\\g" in line]
    assert "-- For: any PostgreSQL client that runs a file as one script" in script
    assert "--client plain --from base --to 68cfa590ad28 --stdout" in script  # regenerates it
    psql_one = schemactl(repo_copy, "sql", "--env", "prod", "--from", "base", "--stdout").stdout
    assert "-- For: psql, which it needs" in psql_one
    dsn = db.url.set(drivername="postgresql").render_as_string(hide_password=False)
    later = schemactl(
        repo_copy, "sql", "--env", "prod", "--client", "plain", "--from", "9ecdc98b5e8a", "--stdout"
    ).stdout
    with psycopg.connect(dsn, autocommit=True) as connection:
        with pytest.raises(psycopg.errors.RaiseException, match="schemactl guard"):
            connection.execute(later.encode())  # a database at base: the wrong start
        # What the client does after the error: the script's transaction is gone, and with
        # it everything the script did (its own tables included).
        connection.execute("ROLLBACK")
        found = connection.execute("SELECT to_regclass('public.alembic_version')").fetchone()
        assert found == (None,)
        connection.execute(script.encode())
        heads = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        assert heads == [("68cfa590ad28",)]
        audited = connection.execute("SELECT count(*) FROM schemactl_audit").fetchone()
        assert audited is not None and audited[0] == 12


@pytest.mark.mariadb
def test_a_mysql_server_refuses_a_mariadb_script_at_its_first_statement(
    project, throwaway_database, tmp_path
):
    """Issue 31: a MariaDB script's guard and lock are compound statements MySQL 8 does not
    run, so a MySQL server must refuse the script clearly, before anything. Its first
    statements ask the server whether it is MariaDB, with only what MySQL runs too (SET,
    PREPARE, EXECUTE). No MySQL server here: the same script, its question answered "no" by
    a condition that is false, is refused by MariaDB's client as MySQL's would refuse it."""
    db = throwaway_database("mariadb")
    upgrade, _ = render(project, db, tmp_path)
    text_ = upgrade.read_text()
    body = text_.split("\n\n", 1)[1]
    first = next(line for line in body.splitlines() if line and not line.startswith("#"))
    assert first.startswith("SET @schemactl_server = IF(VERSION() LIKE '%MariaDB%'")
    assert "a MySQL server refuses it at its first statement" in text_  # the header says so
    mysql = tmp_path / "as-on-mysql.sql"
    mysql.write_text(text_.replace("VERSION() LIKE '%MariaDB%'", "VERSION() LIKE '%MySQL!%'", 1))
    refused = apply_script(db, mysql)
    assert refused.returncode != 0
    assert "schemactl: a MariaDB script; refused on MySQL, nothing changed" in refused.stderr
    assert db.tables() == set()  # nothing changed: not even the version table
    applied = apply_script(db, upgrade)  # on MariaDB the question lets it through
    assert applied.returncode == 0, applied.stderr
    assert query(db, "SELECT version_num FROM alembic_version") == [(HEAD,)]
