"""The history run for real on SQLite, PostgreSQL and MariaDB.

0001 ── … ── 0006 ─┬─ 0007 ── 0008 (discounts) ─┐
                   └─ 0007 ── 0008 (payments) ──┴─ 0009 merge ── 0010 head
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import text

from tools import migrate
from tools.dialects import TOOL_TABLES, VERSION_TABLE, script_dialect
from tools.history import load_graph, load_history
from tools.stairway import stairway

from .conftest import DIALECTS, admin_url, model_diff, schema_snapshot


def test_stairway(project, database):
    """Every revision upgrades, downgrades one step and upgrades again, base to head.

    A downgrade that forgets an index or a type shows up as the re-upgrade failing.
    """
    graph = load_graph(project.alembic_config())
    for rev in graph.order:
        before = migrate.status(project, database.env).current
        before_schema = schema_snapshot(database.url, ignore={VERSION_TABLE, *TOOL_TABLES})
        assert rev in migrate.upgrade(project, database.env, rev).current
        revision = graph[rev]
        # Undo exactly this revision: Alembic counts '@-1' along its branch, but cannot
        # count back through a merge, which is undone by going back to one of its parents.
        back = revision.parents[0] if revision.is_merge else f"{rev}@-1"
        assert migrate.downgrade(project, database.env, back).current == before
        assert (
            schema_snapshot(database.url, ignore={VERSION_TABLE, *TOOL_TABLES}) == before_schema
        ), f"{rev} downgrade left changes"
        assert rev in migrate.upgrade(project, database.env, rev).current
    assert migrate.status(project, database.env).current == graph.heads


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("name", ["alembic", "reporting"])
def test_every_revision_keeps_the_data_both_ways(project, dialect, name):
    """Whatever revisions the team adds: each one, with generated rows in every table, by
    its scripts (the real client) and by Alembic online from the same rows, gives the same
    schema and data; its rollback gives every row back; up again gives the same again."""
    mine = project.for_database(name)
    history = load_history(mine)
    kind = script_dialect(dialect)
    server = admin_url(dialect) if kind.needs_server else None
    assert stairway(mine, history, kind, server, revisions=list(history.graph.order)) == []


def test_head_matches_models(project, database):
    """At head, autogenerate finds nothing to do: the revisions build exactly the models."""
    migrate.upgrade(project, database.env)
    assert model_diff(database.url) == []


def test_downgrade_to_base_leaves_only_the_version_and_audit_tables(project, database):
    migrate.upgrade(project, database.env)
    migrate.downgrade(project, database.env, "base")
    assert database.tables() == {"alembic_version", *database.kind.tool_tables}
    if database.dialect == "postgresql":
        engine = database.engine()
        with engine.connect() as connection:
            enums = connection.execute(text("SELECT typname FROM pg_type WHERE typtype = 'e'"))
            assert enums.scalars().all() == []
        engine.dispose()


def test_total_amount_keeps_its_value_through_the_type_change(project, database):
    """0005 turns Float into Numeric(12, 2): an existing invoice keeps its total."""
    migrate.upgrade(project, database.env, "45c580e85327")
    engine = database.engine()
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, email, full_name, password_hash) "
                "VALUES (1, 'a@example.com', 'A', 'x')"
            )
        )
        connection.execute(text("INSERT INTO customers (id, owner_id, name) VALUES (1, 1, 'C')"))
        connection.execute(
            text(
                "INSERT INTO invoices (id, number, customer_id, issued_by_id, issue_date, "
                "total_amount) VALUES (1, 'INV-1', 1, 1, '2026-01-31', 19.99)"
            )
        )
    migrate.upgrade(project, database.env, "a66186b7cc1d")
    with engine.connect() as connection:
        total = connection.execute(text("SELECT total_amount FROM invoices")).scalar_one()
        status = connection.execute(text("SELECT status FROM invoices")).scalar_one()
    engine.dispose()
    assert Decimal(str(total)).quantize(Decimal("0.01")) == Decimal("19.99")
    assert status == "draft"


def test_seeded_tax_rates(project, database):
    migrate.upgrade(project, database.env, "9ecdc98b5e8a")
    engine = database.engine()
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT code, rate FROM tax_rates ORDER BY code"))
        seeded = {code: Decimal(str(rate)) for code, rate in rows}
    engine.dispose()
    assert seeded == {"RED": Decimal("7.00"), "STD": Decimal("19.00"), "ZERO": Decimal("0.00")}
    migrate.downgrade(project, database.env, "a66186b7cc1d")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM tax_rates")).scalar_one() == 0
    engine.dispose()


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mariadb"])
def test_every_revision_renders_offline(project, dialect, capsys):
    """`--sql` needs only the dialect: no URL variable, no server, no driver connection."""
    env = {"sqlite": "dev", "postgresql": "prod", "mariadb": "mariadb"}[dialect]
    cfg = project.alembic_config(project.environment(env))
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "base:heads", sql=True)
    out = capsys.readouterr().out
    assert "CREATE TABLE invoices" in out
    assert "68cfa590ad28" in out
    if dialect == "postgresql":
        assert "USING round(total_amount::numeric, 2)" in out
        assert "CREATE TYPE invoice_status AS ENUM" in out
