"""`schemactl squash`: the trunk up to the branch point as one revision. A fresh database
built through the squashed history equals one built through the original; a database at the
squash point carries on; one before it is refused; check, release --check and makemigrations
agree; plain Alembic works."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys

import pytest
from sqlalchemy import text

from tests.conftest import DIALECTS, schema_snapshot, schemactl, scratch_env
from tests.test_audit import str_url

POINT = "9ecdc98b5e8a"  # the branch point: the trunk up to it is in prod's releases
BEFORE = "228dfcf7a7c0"


def rows(db, table: str) -> list[tuple]:
    engine = db.engine()
    try:
        with engine.connect() as connection:
            return [
                tuple(map(str, r))
                for r in connection.execute(text(f"SELECT * FROM {table} ORDER BY id"))
            ]
    finally:
        engine.dispose()


@pytest.mark.parametrize("database", DIALECTS, indirect=True)
def test_a_squashed_history_builds_the_same_database(repo_copy, database, throwaway_database):
    original = throwaway_database(database.dialect)
    env = {database.url_var: str_url(original)}
    built = schemactl(repo_copy, "--env", database.env, "upgrade", env=env)
    assert built.returncode == 0, built.stderr
    at_point = throwaway_database(database.dialect)
    env_point = {database.url_var: str_url(at_point)}
    assert (
        schemactl(repo_copy, "--env", database.env, "upgrade", POINT, env=env_point).returncode == 0
    )
    before = throwaway_database(database.dialect)
    env_before = {database.url_var: str_url(before)}
    assert (
        schemactl(repo_copy, "--env", database.env, "upgrade", BEFORE, env=env_before).returncode
        == 0
    )

    squashed = schemactl(repo_copy, "squash", "--to", POINT)
    assert squashed.returncode == 0, squashed.stderr
    assert squashed.stdout.splitlines()[0] == f"Squash base .. {POINT}: 6 revisions into one"
    assert sorted(p.name for p in (repo_copy / "squashed" / POINT).iterdir())[0] == (
        "0001_ab251de0ab93_baseline.py"
    )
    assert not list((repo_copy / "versions").glob("0001_ab251de0ab93_*"))

    fresh = schemactl(
        repo_copy, "--env", database.env, "upgrade", env={database.url_var: str_url(database)}
    )
    assert fresh.returncode == 0, fresh.stderr
    ignore = {"alembic_version", "schemactl_audit", "schemactl_audit_timing"}
    assert schema_snapshot(database.url, ignore) == schema_snapshot(original.url, ignore)
    assert rows(database, "tax_rates") == rows(original, "tax_rates")

    # At the squash point: its version is still valid; upgrading runs what it ran before.
    carried = schemactl(repo_copy, "--env", database.env, "upgrade", env=env_point)
    assert carried.returncode == 0, carried.stderr
    assert f"Running upgrade {POINT} -> " in carried.stderr
    assert schema_snapshot(at_point.url, ignore) == schema_snapshot(original.url, ignore)

    # Before it: refused, with the way to get there.
    refused = schemactl(repo_copy, "--env", database.env, "upgrade", env=env_before)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.startswith(
        f"Error: the {database.env} database is at revision {BEFORE}, which `schemactl squash` "
        f"replaced (with everything up to {POINT}); bring it to {POINT} first with the "
        f"recorded release scripts in sql_out/{database.env}/"
    )


def test_after_a_squash_check_release_check_makemigrations_and_plain_alembic_agree(
    repo_copy, tmp_path
):
    squashed = schemactl(repo_copy, "squash", "--to", POINT, "-m", "Squash the trunk")
    assert squashed.returncode == 0, squashed.stderr
    (new,) = (repo_copy / "versions").glob(f"0001_{POINT}_*.py")
    assert new.name == f"0001_{POINT}_squash_the_trunk.py"
    body = new.read_text()
    assert body.startswith('"""Squash the trunk\n')
    assert "down_revision = None" in body and f'revision = "{POINT}"' in body
    assert "Not carried over" not in body  # a squash carries everything, or refuses
    assert "op.bulk_insert(" in body  # the seeded tax rates
    servers = scratch_env("postgresql", "mariadb")
    checked = schemactl(repo_copy, "check", env=servers)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert schemactl(repo_copy, "release", "--check").returncode == 0
    proved = schemactl(repo_copy, "release", "--prove", "--env", "prod", env=servers)
    assert proved.returncode == 0, proved.stderr
    assert schemactl(repo_copy, "makemigrations").stdout == "No changes detected\n"
    plain = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=repo_copy, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "BILLGEN_DEV_URL": f"sqlite:///{tmp_path}/plain.db"},
    )  # fmt: skip
    assert plain.returncode == 0, plain.stderr
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", str(new)], capture_output=True)
    assert lint.returncode == 0, lint.stdout


def test_squash_refuses_what_it_cannot_do(repo_copy):
    crossing = schemactl(repo_copy, "squash", "--to", "466a3e31682b")
    assert crossing.returncode == 1
    assert crossing.stderr == (
        "Error: revision 83a14815e175 neither comes before 466a3e31682b nor builds on it (a "
        "branch open across it); squash up to a revision every line passes through, or merge "
        "first\n"
    )
    from tests.test_lint import add_case

    add_case(
        repo_copy,
        '    op.add_column("users", sa.Column("nick", sa.String(9)))',
        '    op.drop_column("users", "nick")',
    )
    unreleased = schemactl(repo_copy, "squash", "--to", "0123456789ab", "--dry-run")
    assert unreleased.returncode == 1
    assert unreleased.stderr == (
        "Error: 0123456789ab is not in the last recorded release of prod (last release "
        "0002_68cfa590ad28): squash only what every environment has; release it there first, "
        "or squash up to an earlier revision\n"
    )
    nothing = schemactl(repo_copy, "squash", "--to", "base")
    assert nothing.returncode == 1 and nothing.stderr == (
        "Error: --to base names 0 revisions; name the one revision to squash up to (see "
        "`schemactl graph`)\n"
    )
    before = sorted(p.name for p in (repo_copy / "versions").iterdir())
    planned = schemactl(repo_copy, "squash", "--to", POINT, "--dry-run")
    assert planned.returncode == 0, planned.stderr
    assert sorted(p.name for p in (repo_copy / "versions").iterdir()) == before
    assert not (repo_copy / "squashed").exists()
    assert "  would write versions/0001_9ecdc98b5e8a_squashed.py" in planned.stdout
    # A message is data: it cannot end the docstring and become code.
    hostile = 'x"""\nimport os; os.system("id")\n"""\\'
    shown = schemactl(repo_copy, "squash", "--to", POINT, "-m", hostile, "--dry-run")
    assert shown.returncode == 0, shown.stderr
    tree = ast.parse(shown.stdout.split("\n\n", 1)[1])
    imported = {
        a.name for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom) for a in n.names
    }
    assert "os" not in imported and "os" not in {getattr(n, "module", None) for n in tree.body}
    assert ast.get_docstring(tree).startswith("x'''")


WIDER = [
    (
        "5a0000000001",
        "68cfa590ad28",
        '    op.drop_column("customers", "billing_address")',
        '    op.add_column("customers", sa.Column("billing_address", sa.Text(), nullable=True))',
    ),
    (
        "5a0000000002",
        "5a0000000001",
        '    op.add_column("invoices", sa.Column("approved_by_id", sa.Integer(), nullable=True))\n'
        '    op.create_foreign_key("fk_invoices_approved_by_id_users", "invoices", "users", '
        '["approved_by_id"], ["id"])\n'
        '    op.create_unique_constraint("uq_customers_tax_id", "customers", ["tax_id"])\n'
        '    op.create_check_constraint("ck_invoices_total_positive", "invoices", "total_amount >= 0")',
        '    op.drop_constraint("ck_invoices_total_positive", "invoices", type_="check")\n'
        '    op.drop_constraint("uq_customers_tax_id", "customers", type_="unique")\n'
        '    op.drop_constraint("fk_invoices_approved_by_id_users", "invoices", type_="foreignkey")\n'
        '    op.drop_column("invoices", "approved_by_id")',
    ),
    (
        "5a0000000003",
        "5a0000000002",
        '    op.drop_index("ix_customers_tax_id", table_name="customers")\n'
        '    op.drop_constraint("uq_customers_tax_id", "customers", type_="unique")',
        '    op.create_unique_constraint("uq_customers_tax_id", "customers", ["tax_id"])\n'
        '    op.create_index("ix_customers_tax_id", "customers", ["tax_id"])',
    ),
]


@pytest.mark.postgresql
def test_a_squash_follows_dropped_columns_constraints_and_indexes(repo_copy, throwaway_database):
    """A released history that drops a column, adds a foreign key, a unique and a check
    constraint, then drops an index and the unique constraint: squashed, it builds the same
    PostgreSQL schema (columns, defaults, indexes, constraints)."""
    from tests.test_lint import add_case

    for depth, (rev, down, upgrade, downgrade) in enumerate(WIDER, start=11):
        header = "# schemactl: allow destructive: a test of squash\n"
        add_case(
            repo_copy, upgrade, downgrade, header, revision=rev, down_revision=down, depth=depth
        )
    servers = scratch_env("postgresql")
    released = schemactl(repo_copy, "release", "--env", "prod", env=servers)
    assert released.returncode == 0, released.stderr
    original = throwaway_database("postgresql")
    env = {original.url_var: str_url(original)}
    assert schemactl(repo_copy, "--env", original.env, "upgrade", env=env).returncode == 0
    squashed = schemactl(repo_copy, "squash", "--to", "5a0000000003")
    assert squashed.returncode == 0, squashed.stderr
    assert "not carried over" not in squashed.stdout
    fresh = throwaway_database("postgresql")
    env = {fresh.url_var: str_url(fresh)}
    upgraded = schemactl(repo_copy, "--env", fresh.env, "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert _catalog(fresh) == _catalog(original)
    assert schemactl(repo_copy, "release", "--check").returncode == 0


def _catalog(db) -> dict[str, list[tuple]]:
    engine = db.engine()
    queries = {
        "columns": "SELECT table_name, column_name, column_default, data_type, is_nullable "
        "FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name NOT LIKE 'schemactl%' AND table_name <> 'alembic_version' ORDER BY 1, 2",
        "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "AND tablename NOT LIKE 'schemactl%' AND tablename <> 'alembic_version' ORDER BY 1",
        "constraints": "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text NOT LIKE "
        "'schemactl%' AND conrelid::regclass::text <> 'alembic_version' ORDER BY 1",
    }
    try:
        with engine.connect() as connection:
            return {k: [tuple(r) for r in connection.execute(text(q))] for k, q in queries.items()}
    finally:
        engine.dispose()


@pytest.mark.postgresql
def test_a_revision_that_branches_on_the_dialect_is_not_squashed(repo_copy):
    """A revision doing different things per dialect cannot become one generated revision."""
    from tests.test_audit import add_slow_revisions

    add_slow_revisions(repo_copy)
    released = schemactl(repo_copy, "release", "--env", "prod", env=scratch_env("postgresql"))
    assert released.returncode == 0, released.stderr
    refused = schemactl(repo_copy, "squash", "--to", "5a1e00000002", "--dry-run")
    assert refused.returncode == 1
    assert refused.stderr == (
        "Error: revision 5a1e00000001 does different things on mariadb, postgresql, sqlite (it "
        "branches on the dialect), so one generated revision cannot replace it; squash up to a "
        "revision before it\n"
    )


def _released_end(repo, env: str = "prod") -> str:
    """Where the environment's last recorded release ends (read, not pinned)."""
    import json

    manifest = json.loads((repo / "sql_out" / env / "manifest.json").read_text())
    (end,) = manifest["releases"][-1]["to"]
    return end


@pytest.mark.postgresql
@pytest.mark.mariadb
def test_a_squash_of_everything_released_after_merged_branches(repo_copy, throwaway_database):
    """Squash up to the end of prod's last release, past the merged branches: the labels of
    the merged branches end with it (branch list, branch start, makemigrations on the trunk
    work), the downgrade drops what the range created in an order PostgreSQL (enum types) and
    MariaDB (an index a foreign key needs) accept, and a first release for another
    environment passes release --check."""
    end = _released_end(repo_copy)
    squashed = schemactl(repo_copy, "squash", "--to", end)
    assert squashed.returncode == 0, squashed.stderr
    (new,) = (repo_copy / "versions").glob(f"0001_{end}_*.py")
    body = new.read_text()
    assert "branch_labels = None" in body
    listed = schemactl(repo_copy, "branch", "list")
    assert listed.returncode == 0 and listed.stderr == "", listed.stderr
    started = schemactl(repo_copy, "branch", "start", "rates")
    assert started.returncode == 0, started.stderr
    status = schemactl(repo_copy, "status")
    assert "payments" not in status.stdout and "discounts" not in status.stdout
    for dialect, env, variable in (
        ("postgresql", "staging", "BILLGEN_STAGING_URL"),
        ("mariadb", "mariadb", "BILLGEN_MARIADB_URL"),
    ):
        db = throwaway_database(dialect)
        for step in (["upgrade", "heads"], ["downgrade", "base"], ["upgrade", "heads"]):
            ran = schemactl(repo_copy, "--env", env, *step, env={variable: str_url(db)})
            assert ran.returncode == 0, f"{dialect} {step}: {ran.stderr}"
    servers = scratch_env("postgresql", "mariadb")
    first = schemactl(repo_copy, "release", "--env", "mariadb", "--to", end, env=servers)
    assert first.returncode == 0, first.stderr
    checked = schemactl(repo_copy, "release", "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    made = schemactl(repo_copy, "makemigrations", "--branch", "trunk", "--empty", "-m", "next")
    assert made.returncode == 0, made.stderr


def test_a_squash_carries_server_default_changes_and_bound_values_or_refuses(repo_copy, tmp_path):
    """A server default changed on the way, and a value bound to text(), reach the squashed
    revision (a fresh database gets both); a renamed column cannot, and the squash says so."""
    from tests.test_lint import add_case

    shutil.rmtree(repo_copy / "sql_out")  # nothing released: nothing to check the squash against
    add_case(
        repo_copy,
        '    op.alter_column("customers", "billing_address", existing_type=sa.Text(), '
        'server_default="n/a")\n'
        '    op.execute(sa.text("INSERT INTO tax_rates (code, name, rate) '
        'VALUES (:code, :name, :rate)").bindparams(code="HALF", name="50% off", '
        'rate=Decimal("0.5")))\n'
        '    op.backfill_online("tax_rates", {"name": "name || \' (cut)\'"}, '
        "where=\"code = 'HALF'\", batch_size=2)",
        "    op.execute(sa.text(\"DELETE FROM tax_rates WHERE name = '50% off (cut)'\"))\n"
        '    op.alter_column("customers", "billing_address", existing_type=sa.Text(), '
        "server_default=None)",
        header="from decimal import Decimal\n",
        down_revision=_head(repo_copy),
    )
    squashed = schemactl(repo_copy, "squash", "--to", "0123456789ab")
    assert squashed.returncode == 0, squashed.stderr
    body = next((repo_copy / "versions").glob("0001_0123456789ab_*.py")).read_text()
    assert ".bindparams(" in body and 'name="50% off",' in body and 'rate=Decimal("0.5")' in body
    # A backfill, carried over as the revision wrote it (a data change, in its order).
    assert "op.backfill_online(" in body
    assert (
        """"tax_rates", {"name": "name || ' (cut)'"}, where="code = 'HALF'", batch_size=2""" in body
    )
    db = tmp_path / "fresh.db"
    ran = schemactl(repo_copy, "upgrade", "heads", env={"BILLGEN_DEV_URL": f"sqlite:///{db}"})
    assert ran.returncode == 0, ran.stderr
    import sqlite3

    with sqlite3.connect(db) as connection:
        assert connection.execute(
            "SELECT name, rate FROM tax_rates WHERE code = 'HALF'"
        ).fetchall() == [("50% off (cut)", 0.5)]
        connection.execute("INSERT INTO users (id, email, full_name, password_hash) "
                           "VALUES (1, 'a@b.c', 'A', 'x')")  # fmt: skip
        connection.execute("INSERT INTO customers (id, owner_id, name) VALUES (1, 1, 'Ada')")
        assert connection.execute("SELECT billing_address FROM customers").fetchall() == [("n/a",)]


def test_a_squash_refuses_what_it_cannot_carry(repo_copy):
    from tests.test_lint import add_case

    shutil.rmtree(repo_copy / "sql_out")
    add_case(
        repo_copy,
        '    op.alter_column("customers", "billing_address", new_column_name="address")',
        '    op.alter_column("customers", "address", new_column_name="billing_address")',
        down_revision=_head(repo_copy),
    )
    before = sorted(p.name for p in (repo_copy / "versions").iterdir())
    refused = schemactl(repo_copy, "squash", "--to", "0123456789ab")
    assert refused.returncode == 1, refused.stdout
    assert refused.stderr.startswith(
        "Error: cannot carry over 0123456789ab: alter_column customers"
    ), refused.stderr
    assert len(refused.stderr.splitlines()) == 1
    assert sorted(p.name for p in (repo_copy / "versions").iterdir()) == before
    assert not (repo_copy / "squashed").exists()


def _head(repo) -> str:
    """The head of the copied history (read, not pinned)."""
    from tools.config import load_project
    from tools.history.load import load_graph

    (head,) = load_graph(load_project(repo / "alembic.ini").alembic_config()).heads
    return head


def test_a_squash_refuses_a_sequence_made_by_an_expression(repo_copy):
    """A sequence created with op.execute(CreateSequence(...)) is DDL Python cannot write back
    as data: the squash refuses, naming the revision and what it could not carry."""
    from tests.test_lint import add_case

    shutil.rmtree(repo_copy / "sql_out")
    add_case(
        repo_copy,
        '    op.execute(sa.schema.CreateSequence(sa.Sequence("invoice_numbers")))',
        '    op.execute(sa.schema.DropSequence(sa.Sequence("invoice_numbers")))',
        down_revision=_head(repo_copy),
    )
    refused = schemactl(repo_copy, "squash", "--to", "0123456789ab")
    assert refused.returncode == 1, refused.stdout
    assert refused.stderr.startswith(
        "Error: cannot carry over 0123456789ab: op.execute of CreateSequence"
    ), refused.stderr
