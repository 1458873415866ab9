"""The repo's history run for real on SQLite, PostgreSQL and MariaDB, whatever it holds."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from tests.conftest import DIALECTS, admin_url, model_diff
from tools.config import for_database
from tools.dialects import script_dialect
from tools.history.load import load_graph, load_history
from tools.live import migrate
from tools.proof.stairway import stairway


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("name", ["alembic", "reporting"])
def test_every_revision_keeps_the_data_both_ways(project, dialect, name):
    """Whatever revisions the team adds: each one, with generated rows in every table, by
    its scripts (the real client) and by Alembic online from the same rows, gives the same
    schema and data; its rollback gives every row back; up again gives the same again.

    This is the history's one up/down/up proof per dialect (a downgrade that forgets an
    index or a type fails here, merges included): the schema-only stairway that ran beside
    it proved a subset of it."""
    mine = for_database(project, name)
    history = load_history(mine)
    kind = script_dialect(dialect)
    server = admin_url(dialect) if kind.needs_server else None
    assert stairway(mine, history, kind, server, revisions=list(history.graph.order)) == []


def test_head_matches_models(project, database, repo_metadata):
    """At head, autogenerate finds nothing to do: the revisions build exactly the models."""
    migrate.upgrade(project, project.environment(database.env))
    assert model_diff(database.url, repo_metadata) == []


def test_downgrade_to_base_leaves_only_the_version_and_audit_tables(project, database):
    migrate.upgrade(project, project.environment(database.env))
    migrate.downgrade(project, project.environment(database.env), "base")
    assert database.tables() == {"alembic_version", *database.kind.tool_tables}
    if database.dialect == "postgresql":
        engine = database.engine()
        with engine.connect() as connection:
            enums = connection.execute(text("SELECT typname FROM pg_type WHERE typtype = 'e'"))
            assert enums.scalars().all() == []
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
    (head,) = load_graph(project.alembic_config()).heads
    assert f"'{head}'" in out  # the version table is stamped with the head
