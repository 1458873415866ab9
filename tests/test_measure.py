"""Measured verdicts (issue 30): a revision's statements run on the real servers at the
revision's starting schema, with rows, and what each server did read back from the server:
PostgreSQL's rewritten tables (relfilenode) and held locks (pg_locks), MariaDB's cheapest
accepted ALGORITHM and LOCK. The expected verdicts are the servers' documented behaviour."""

from __future__ import annotations

import pytest

from tools.config import load_project
from tools.dialects import script_dialect
from tools.history.load import load_history
from tools.proof.measure import measure_revision

from .conftest import admin_url

REVISION = '''"""Measured cases"""

from alembic import op

revision = "0123456789ab"
down_revision = "68cfa590ad28"
branch_labels = None
depends_on = None

STATEMENTS = {statements!r}


def upgrade():
    for sql in STATEMENTS[op.get_context().dialect.name]:
        op.execute(sql)


def downgrade():
    pass
'''

# (statement, what the server is documented to do with it)
CASES = {
    "postgresql": [
        # A VARCHAR widened, numeric precision raised at the same scale: the catalog only.
        ("ALTER TABLE products ALTER COLUMN name TYPE varchar(200)", "no-rewrite"),
        ("ALTER TABLE discounts ALTER COLUMN percent_off TYPE numeric(7, 2)", "no-rewrite"),
        # A scale changed: every row written again, under ACCESS EXCLUSIVE.
        ("ALTER TABLE discounts ALTER COLUMN percent_off TYPE numeric(7, 3)", "rewrite"),
        # A plain CREATE INDEX: SHARE (writes wait), no rewrite.
        ("CREATE INDEX ix_products_name ON products (name)", "share"),
        ("ALTER TABLE products ADD COLUMN weight integer", "no-rewrite"),
    ],
    "mariadb": [
        ("ALTER TABLE products ADD COLUMN weight INT", "INSTANT"),
        ("CREATE INDEX ix_products_name ON products (name)", "NOCOPY"),
        ("ALTER TABLE discounts MODIFY percent_off DECIMAL(7, 3) NOT NULL", "COPY"),
    ],
}


@pytest.mark.parametrize("dialect", ["postgresql", "mariadb"])
def test_each_statement_is_measured_on_its_server(repo_copy, dialect):
    statements = {d: [sql for sql, _ in CASES.get(d, [])] for d in ("postgresql", "mariadb")}
    (repo_copy / "versions" / "0011_0123456789ab_measured.py").write_text(
        REVISION.format(statements=statements)
    )
    project = load_project(repo_copy / "alembic.ini")
    kind = script_dialect(dialect)
    measured = measure_revision(
        project, load_history(project), kind, admin_url(dialect), "0123456789ab"
    )
    assert [m.sql.strip().rstrip(";") for m in measured] == statements[dialect]
    for m, (sql, expected) in zip(measured, CASES[dialect], strict=True):
        seen = m.observed
        assert seen.measured, sql
        assert m.server.startswith(kind.title), m.server
        if dialect == "postgresql":
            table = sql.split()[2] if sql.startswith("ALTER") else "products"
            locks = dict(seen.locks)
            if expected == "rewrite":
                assert seen.rewritten == (table,) and locks[table] == "ACCESS EXCLUSIVE", m
                assert m.rewrites and m.blocks_writes
                assert f"rewrote {table}; held ACCESS EXCLUSIVE on {table}" in m.words()
            elif expected == "share":
                assert seen.rewritten == () and locks[table] == "SHARE", m
                assert m.blocks_writes and not m.rewrites
            else:
                assert seen.rewritten == () and locks[table] == "ACCESS EXCLUSIVE", m
                assert not m.rewrites
        else:
            assert seen.algorithm == expected, (sql, seen)
            assert m.rewrites == (expected == "COPY")
            assert m.blocks_writes == (expected == "COPY")
            if expected == "COPY":  # the server's own reason for refusing the cheaper ones
                assert any("Cannot change column type" in r for r in seen.refused), seen


ALTERS = '''"""Type changes"""

import sqlalchemy as sa
from alembic import op

revision = "0123456789ab"
down_revision = "68cfa590ad28"
branch_labels = None
depends_on = None

CHANGES = [
    ("products", "name", sa.String(100), sa.String(200)),
    ("products", "sku", sa.String(64), sa.Text()),
    ("discounts", "percent_off", sa.Numeric(5, 2), sa.Numeric(9, 2)),
    ("discounts", "percent_off", sa.Numeric(9, 2), sa.Numeric(9, 3)),
    ("products", "name", sa.String(200), sa.String(150)),
    ("tax_rates", "rate", sa.Numeric(5, 2), sa.Float()),
]


def upgrade():
    for table, column, old, new in CHANGES:
        op.alter_column(table, column, existing_type=old, type_=new)


def downgrade():
    pass
'''


def test_lints_rewrite_verdicts_agree_with_what_postgresql_does(repo_copy):
    """Each type change lint judges offline (rewrites the table or only the catalog) is run
    on PostgreSQL with rows, and the server's relfilenode says the same."""
    from tools.lint.findings import _rewrites
    from tools.scripts.capture import capture_operations

    (repo_copy / "versions" / "0011_0123456789ab_types.py").write_text(ALTERS)
    project = load_project(repo_copy / "alembic.ini")
    history = load_history(project)
    kind = script_dialect("postgresql")
    measured = measure_revision(project, history, kind, admin_url("postgresql"), "0123456789ab")
    operations = capture_operations(history, "postgresql", ["0123456789ab"])["0123456789ab"]
    static = [_rewrites(op.source) for op in operations]
    observed = [bool(m.observed.rewritten) for m in measured]
    assert static == observed == [False, False, False, True, True, True]
