"""schemactl recover: a MariaDB script stopped midway (its DDL commits statement by
statement), on a database with rows, found out and finished or undone by scripts applied
with the real client; values compared before and after."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import text

from tools.config import load_project
from tools.release import ranges

from .conftest import ENV_FOR_DIALECT, apply_script, copy_fixture, schemactl

# A revision of five statements: a new column, a rename, a data change, then a unique index
# that the rows (two customers of one name) make the server refuse, then one more column.
STOPPING = '''"""Customers: postal code, vat_id, unique names

Revision ID: 5a1e5a1e5a1e
Revises: 68cfa590ad28
Create Date: 2026-12-01 09:00:00+00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "5a1e5a1e5a1e"
down_revision = "68cfa590ad28"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("postal_code", sa.String(length=16), nullable=True))
    op.alter_column(
        "customers",
        "tax_id",
        new_column_name="vat_id",
        existing_type=sa.String(length=32),
        existing_nullable=True,
    )
    op.execute("UPDATE customers SET postal_code = '100%'")
    op.create_index("uq_customers_name", "customers", ["name"], unique=True)
    op.add_column("customers", sa.Column("notes", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("customers", "notes")
    op.drop_index("uq_customers_name", table_name="customers")
    op.alter_column(
        "customers",
        "vat_id",
        new_column_name="tax_id",
        existing_type=sa.String(length=32),
        existing_nullable=True,
    )
    op.drop_column("customers", "postal_code")
'''


def stop_midway(tmp_path, throwaway_database, monkeypatch, dialect, revision=STOPPING):
    """The fixture's copy at its head on a fresh database with customers in it (two of one
    name), and a new revision whose script the server stopped at its 4th statement there."""
    repo = copy_fixture(tmp_path / "repo")
    db = throwaway_database(dialect)
    monkeypatch.setenv(db.url_var, db.url.render_as_string(hide_password=False))
    env = ENV_FOR_DIALECT[dialect][0]
    project = load_project(repo / "alembic.ini")
    ranges.sql(project, project.environment(env), start="base", out=tmp_path / "base")
    assert apply_script(db, tmp_path / "base" / "upgrade.sql").returncode == 0
    with db.engine().begin() as connection:
        for n, (name, tax) in enumerate([("Ada", "T-1"), ("Ada", "T-2"), ("Bo %s", None)], 1):
            connection.execute(
                text(
                    "INSERT INTO users (id, email, full_name, password_hash) "
                    "VALUES (:id, :email, 'U', 'x')"
                ),
                {"id": n, "email": f"u{n}@example.com"},
            )
            connection.execute(
                text(
                    "INSERT INTO customers (id, owner_id, name, tax_id) "
                    "VALUES (:id, :id, :name, :tax)"
                ),
                {"id": n, "name": name, "tax": tax},
            )
    (repo / "versions" / "0011_5a1e5a1e5a1e_customers_postal_code.py").write_text(revision)
    project = load_project(repo / "alembic.ini")
    ranges.sql(project, project.environment(env), start="68cfa590ad28", out=tmp_path / "new")
    script = (tmp_path / "new" / "upgrade.sql").read_text()
    if dialect == "mariadb":  # the header sends the DBA to recover when it stops midway
        said = re.search(r"before its error\. Then run:\n--   schemactl (.*)\n", script)
        assert said is not None and said.group(1).endswith(f"recover --env {env}"), script
    failed = apply_script(db, tmp_path / "new" / "upgrade.sql")
    said = failed.stderr.lower()
    assert failed.returncode != 0 and ("duplicate" in said or "unique" in said), failed.stderr
    return repo, db, env, {db.url_var: db.url.render_as_string(hide_password=False)}


@pytest.fixture
def stopped(tmp_path, throwaway_database, monkeypatch):
    """stop_midway on MariaDB, where the first statements of the step stay done."""
    return stop_midway(tmp_path, throwaway_database, monkeypatch, "mariadb")


def rows(db, sql):
    with db.engine().connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


@pytest.mark.mariadb
def test_recover_says_which_statements_ran_and_its_undo_puts_the_database_back(stopped, tmp_path):
    repo, db, env, environ = stopped
    said = schemactl(repo, "recover", "--env", env, env=environ)
    assert said.returncode == 0, said.stderr
    lines = said.stdout.splitlines()
    assert "Stopped in the upgrade of 5a1e5a1e5a1e" in said.stdout
    marks = [line.split()[1] for line in lines if line.strip()[:1].isdigit()]
    # 1 and 2 ran; 3 (an UPDATE) leaves the schema as it was: the schema cannot tell.
    assert marks == ["ran", "ran", "unknown", "not", "not"], said.stdout

    reported = json.loads(schemactl(repo, "recover", "--env", env, "--json", env=environ).stdout)
    assert [s["ran"] for s in reported["statements"]] == [True, True, None, False, False]
    assert reported["current"] == ["68cfa590ad28"] and reported["revision"] == "5a1e5a1e5a1e"

    # An undo needs to know whether statement 3 ran: refused, nothing written.
    refused = schemactl(repo, "recover", "--env", env, "--undo", "-o", "undo.sql", env=environ)
    assert refused.returncode == 1 and "--ran N (2 to 3)" in refused.stderr, refused.stderr
    assert not (repo / "undo.sql").exists()

    made = schemactl(
        repo, "recover", "--env", env, "--ran", "3", "--undo", "-o", "undo.sql", env=environ
    )
    assert made.returncode == 0, made.stderr
    script = (repo / "undo.sql").read_text()
    assert "-- RECOVERY of a script that stopped midway:" in script
    assert "Statement(s) 3 changed data" in script
    applied = apply_script(db, repo / "undo.sql")
    assert applied.returncode == 0, applied.stderr
    # Back at the step's start: the rename turned back with its values, the new column gone.
    assert rows(db, "SELECT id, name, tax_id FROM customers ORDER BY id") == [
        (1, "Ada", "T-1"),
        (2, "Ada", "T-2"),
        (3, "Bo %s", None),
    ]
    clean = schemactl(repo, "verify", "--env", env, "-n", "alembic", env=environ)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    again = schemactl(repo, "recover", "--env", env, env=environ)
    assert "Nothing to recover" in again.stdout, again.stdout
    # The same undo a second time meets a database it was not written for: the guard is
    # the version table's, so it passes, but the rename finds no vat_id and stops.
    assert apply_script(db, repo / "undo.sql").returncode != 0
    assert rows(db, "SELECT id, tax_id FROM customers ORDER BY id") == [
        (1, "T-1"),
        (2, "T-2"),
        (3, None),
    ]


@pytest.mark.mariadb
def test_recover_finishes_the_step_once_the_data_allows_it(stopped, tmp_path):
    repo, db, env, environ = stopped
    with db.engine().begin() as connection:  # the DBA settles the duplicate names
        connection.execute(text("UPDATE customers SET name = 'Ada B' WHERE id = 2"))
    made = schemactl(
        repo, "recover", "--env", env, "--ran", "3", "--finish", "-o", "finish.sql", env=environ
    )
    assert made.returncode == 0, made.stderr
    script = (repo / "finish.sql").read_text()
    assert "statements 4 to 5" in script
    assert "UPDATE customers" not in script.split("-- 1/1")[1]  # what ran is not run again
    applied = apply_script(db, repo / "finish.sql")
    assert applied.returncode == 0, applied.stderr
    assert rows(db, "SELECT id, name, vat_id, postal_code, notes FROM customers ORDER BY id") == [
        (1, "Ada", "T-1", "100%", None),
        (2, "Ada B", "T-2", "100%", None),
        (3, "Bo %s", None, "100%", None),
    ]
    status = schemactl(repo, "status", "--env", env, "--json", env=environ)
    assert json.loads(status.stdout)["current"] == ["5a1e5a1e5a1e"], status.stdout
    clean = schemactl(repo, "verify", "--env", env, "-n", "alembic", env=environ)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    audit = rows(db, "SELECT revision, direction FROM schemactl_audit ORDER BY id DESC LIMIT 1")
    assert audit == [("5a1e5a1e5a1e", "upgrade")]
    # Applied again, the guard stops it before anything: the version moved on.
    twice = apply_script(db, repo / "finish.sql")
    assert twice.returncode != 0 and "5a1e5a1e5a1e" in twice.stderr, twice.stderr


@pytest.mark.mariadb
def test_a_rollback_stopped_midway_is_finished(stopped, tmp_path):
    """A rollback script's step that stopped after two of its four statements (run here as
    the client ran them): recover finds the downgrade, and its finish stamps it back."""
    repo, db, env, environ = stopped
    with db.engine().begin() as connection:
        connection.execute(text("UPDATE customers SET name = 'Ada B' WHERE id = 2"))
    finish = ("recover", "--env", env, "--ran", "3", "--finish", "-o", "finish.sql")
    assert schemactl(repo, *finish, env=environ).returncode == 0
    assert apply_script(db, repo / "finish.sql").returncode == 0
    project = load_project(repo / "alembic.ini")
    back = ranges.sql_one(
        project, project.environment(env), "upgrade", start="5a1e5a1e5a1e", target="68cfa590ad28"
    )
    statements = [s for s in back.steps[0].statements]
    assert len(statements) == 4
    with db.engine().connect() as connection:
        for statement in statements[:2]:
            connection.exec_driver_sql(statement.rstrip(";"))

    said = schemactl(repo, "recover", "--env", env, "--json", env=environ)
    assert said.returncode == 0, said.stderr
    report = json.loads(said.stdout)
    assert (report["revision"], report["direction"]) == ("5a1e5a1e5a1e", "downgrade")
    assert [s["ran"] for s in report["statements"]] == [True, True, False, False]

    made = schemactl(repo, "recover", "--env", env, "--finish", "-o", "back.sql", env=environ)
    assert made.returncode == 0, made.stderr
    applied = apply_script(db, repo / "back.sql")
    assert applied.returncode == 0, applied.stderr
    assert rows(db, "SELECT id, name, tax_id FROM customers ORDER BY id") == [
        (1, "Ada", "T-1"),
        (2, "Ada B", "T-2"),
        (3, "Bo %s", None),
    ]
    status = json.loads(schemactl(repo, "status", "--env", env, "--json", env=environ).stdout)
    assert status["current"] == ["68cfa590ad28"]
    audit = rows(db, "SELECT revision, direction FROM schemactl_audit ORDER BY id DESC LIMIT 1")
    assert audit == [("5a1e5a1e5a1e", "downgrade")]
    clean = schemactl(repo, "verify", "--env", env, "-n", "alembic", env=environ)
    assert clean.returncode == 0, clean.stdout + clean.stderr


@pytest.mark.parametrize(
    "dialect",
    [
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgresql),
    ],
)
def test_where_a_script_is_all_or_nothing_there_is_nothing_to_recover(
    dialect, tmp_path, throwaway_database, monkeypatch
):
    repo, _, env, environ = stop_midway(tmp_path, throwaway_database, monkeypatch, dialect)
    said = schemactl(repo, "recover", "--env", env, env=environ)
    assert said.returncode == 0, said.stderr
    assert "Nothing to recover" in said.stdout
    asked = schemactl(repo, "recover", "--env", env, "--finish", "-o", "f.sql", env=environ)
    assert asked.returncode == 0 and "nothing to finish or undo" in asked.stderr
    assert not (repo / "f.sql").exists()


@pytest.mark.mariadb
def test_recover_refuses_what_it_cannot_account_for(stopped):
    repo, db, env, environ = stopped
    both = schemactl(repo, "recover", "--env", env, "--finish", "--undo", env=environ)
    assert both.returncode == 2 and "not both" in both.stderr
    unknown = schemactl(repo, "recover", "--env", env, "--revision", "beef", env=environ)
    assert unknown.returncode == 1 and "is not a revision" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1 and "Traceback" not in unknown.stderr
    behind = schemactl(repo, "recover", "--env", env, "--revision", "ab251de0ab93", env=environ)
    assert behind.returncode == 1 and "5a1e5a1e5a1e (upgrade)" in behind.stderr, behind.stderr
    wrong = schemactl(repo, "recover", "--env", env, "--ran", "5", env=environ)
    assert wrong.returncode == 1 and "--ran 5 does not fit" in wrong.stderr, wrong.stderr
    # Something else changed the database too: no point of any step is its schema.
    with db.engine().begin() as connection:
        connection.execute(text("ALTER TABLE users ADD COLUMN nickname VARCHAR(20)"))
    drifted = schemactl(
        repo, "recover", "--env", env, "--ran", "3", "--finish", "-o", "f.sql", env=environ
    )
    assert drifted.returncode == 1, drifted.stdout
    assert "matches no point" in drifted.stderr and "nickname" in drifted.stderr
    assert not (repo / "f.sql").exists()


CONCURRENT = '''"""Customers: indexes built without blocking writes

Revision ID: c0c0c0c0c0c0
Revises: 68cfa590ad28
Create Date: 2026-12-01 09:00:00+00:00

"""

from alembic import op

revision = "c0c0c0c0c0c0"
down_revision = "68cfa590ad28"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index("ix_customers_name", "customers", ["name"], postgresql_concurrently=True)
        op.create_index(
            "uq_customers_tax_id",
            "customers",
            ["tax_id"],
            unique=True,
            postgresql_concurrently=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index("uq_customers_tax_id", table_name="customers", postgresql_concurrently=True)
        op.drop_index("ix_customers_name", table_name="customers", postgresql_concurrently=True)
'''


@pytest.mark.postgresql
def test_a_concurrent_index_that_failed_is_found_invalid_and_built_again(
    tmp_path, throwaway_database, monkeypatch
):
    """PostgreSQL: a step outside a transaction (CREATE INDEX CONCURRENTLY) stopped by a
    duplicate leaves the first index built and the second INVALID, which the catalog shows and
    an ordinary reading of it does not: verify calls it drift, recover says the statement did
    not finish, and its finish drops the invalid index before building it again."""
    repo = copy_fixture(tmp_path / "repo")
    db = throwaway_database("postgresql")
    monkeypatch.setenv(db.url_var, db.url.render_as_string(hide_password=False))
    environ = {db.url_var: db.url.render_as_string(hide_password=False)}
    env = ENV_FOR_DIALECT["postgresql"][0]
    project = load_project(repo / "alembic.ini")
    ranges.sql(project, project.environment(env), start="base", out=tmp_path / "base")
    assert apply_script(db, tmp_path / "base" / "upgrade.sql").returncode == 0
    with db.engine().begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, email, full_name, password_hash) "
                "VALUES (1, 'a@example.com', 'A', 'x')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO customers (id, owner_id, name, tax_id) "
                "VALUES (1, 1, 'Ada', 'T-1'), (2, 1, 'Bo', 'T-1')"
            )
        )
    (repo / "versions" / "0011_c0c0c0c0c0c0_customers_indexes.py").write_text(CONCURRENT)
    project = load_project(repo / "alembic.ini")
    ranges.sql(project, project.environment(env), start="68cfa590ad28", out=tmp_path / "new")
    failed = apply_script(db, tmp_path / "new" / "upgrade.sql")
    assert failed.returncode != 0 and "uq_customers_tax_id" in failed.stderr, failed.stderr

    drift = schemactl(repo, "verify", "--env", env, "-n", "alembic", env=environ)
    assert drift.returncode == 1
    invalid = "extra index uq_customers_tax_id on customers (INVALID: a CREATE INDEX CONCURRENTLY"
    assert invalid in drift.stdout, drift.stdout

    said = schemactl(repo, "recover", "--env", env, "--json", env=environ)
    assert said.returncode == 0, said.stderr
    report = json.loads(said.stdout)
    assert report["revision"] == "c0c0c0c0c0c0"
    assert [s["ran"] for s in report["statements"]] == [True, False]
    assert report["invalid_indexes"] == ["customers.uq_customers_tax_id"]

    with db.engine().begin() as connection:  # the DBA settles the duplicate
        connection.execute(text("UPDATE customers SET tax_id = 'T-2' WHERE id = 2"))
    made = schemactl(repo, "recover", "--env", env, "--finish", "-o", "finish.sql", env=environ)
    assert made.returncode == 0, made.stderr
    applied = apply_script(db, repo / "finish.sql")
    assert applied.returncode == 0, applied.stderr
    clean = schemactl(repo, "verify", "--env", env, "-n", "alembic", env=environ)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    status = json.loads(schemactl(repo, "status", "--env", env, "--json", env=environ).stdout)
    assert status["current"] == ["c0c0c0c0c0c0"]


# The step starts with a data change, then the unique index the rows refuse.
DATA_FIRST = STOPPING.split("def upgrade() -> None:")[0] + (
    "def upgrade() -> None:\n"
    "    op.execute(\"UPDATE customers SET name = CONCAT(name, '!')\")\n"
    '    op.create_index("uq_customers_name", "customers", ["name"], unique=True)\n'
    '    op.add_column("customers", sa.Column("notes", sa.Text(), nullable=True))\n\n\n'
    "def downgrade() -> None:\n"
    '    op.drop_column("customers", "notes")\n'
    '    op.drop_index("uq_customers_name", table_name="customers")\n'
)


@pytest.mark.mariadb
def test_a_step_that_stopped_after_data_changes_only_is_not_called_clean(
    tmp_path, throwaway_database, monkeypatch
):
    """The step's first statement changes data (committed on MariaDB), its second is refused:
    the schema is the version table's, but recover does not call the database clean: whether
    the UPDATE ran cannot be read from the schema, so the DBA says (--ran)."""
    repo, db, env, environ = stop_midway(
        tmp_path, throwaway_database, monkeypatch, "mariadb", DATA_FIRST
    )
    said = json.loads(schemactl(repo, "recover", "--env", env, "--json", env=environ).stdout)
    assert said["revision"] == "5a1e5a1e5a1e"
    assert [s["ran"] for s in said["statements"]] == [None, False, False]
    unsure = schemactl(repo, "recover", "--env", env, "--finish", env=environ)
    assert unsure.returncode == 1 and "--ran N (0 to 1)" in unsure.stderr, unsure.stderr
    names = [("Ada!",), ("Ada!",), ("Bo %s!",)]
    assert rows(db, "SELECT name FROM customers ORDER BY id") == names
    nothing = schemactl(repo, "recover", "--env", env, "--ran", "1", "--undo", env=environ)
    assert nothing.returncode == 1 and "changed data only" in nothing.stderr, nothing.stderr
    with db.engine().begin() as connection:
        connection.execute(text("UPDATE customers SET name = 'Ada B!' WHERE id = 2"))
    finish = ("recover", "--env", env, "--ran", "1", "--finish", "-o", "finish.sql")
    assert schemactl(repo, *finish, env=environ).returncode == 0
    applied = apply_script(db, repo / "finish.sql")
    assert applied.returncode == 0, applied.stderr
    # The UPDATE is not run twice: the names keep one '!'.
    assert rows(db, "SELECT name FROM customers ORDER BY id") == [
        ("Ada!",),
        ("Ada B!",),
        ("Bo %s!",),
    ]
    clean = schemactl(repo, "verify", "--env", env, "-n", "alembic", env=environ)
    assert clean.returncode == 0, clean.stdout + clean.stderr
