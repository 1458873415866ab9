"""This repo's own history as it stands: the one file whose tests name its revisions.

They assert what versions/ holds today (two labelled branches and their merge, the 0005 type
change keeping a total, the 0006 seed) and so change with it, on purpose: the tool's tests use
the billing fixture (tests/fixture/), the tests that must hold for any history live in
tests/repo/ and name no revision.

0001 ── 0002 ── 0003 ── 0004 ── 0005 ── 0006 ─┬─ 0007 ── 0008 (discounts) ─┐
                                              └─ 0007 ── 0008 (payments) ──┴─ 0009 ── 0010
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text

from tools.config import Project, load_project
from tools.history.load import load_graph
from tools.live import migrate

from .conftest import REPO


@pytest.fixture
def project() -> Project:
    return load_project(REPO / "alembic.ini")


def test_one_head_two_labelled_branches_and_a_merge(project):
    graph = load_graph(project.alembic_config())
    assert len(graph.order) >= 10
    assert graph.heads == ("68cfa590ad28",)
    assert set(graph.labels) == {"payments", "discounts"}
    merges = [r for r in graph.order if graph[r].is_merge]
    assert merges == ["e58b81ed3f5b"]
    # Both feature branches start from the same trunk revision and the merge joins them.
    branch_point = graph[graph.labels["payments"]].parents
    assert branch_point == graph[graph.labels["discounts"]].parents == ("9ecdc98b5e8a",)
    assert {graph.branch_of(p) for p in graph["e58b81ed3f5b"].parents} == {"payments", "discounts"}


def test_total_amount_keeps_its_value_through_the_type_change(project, database):
    """0005 turns Float into Numeric(12, 2): an existing invoice keeps its total."""
    migrate.upgrade(project, project.environment(database.env), "45c580e85327")
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
    migrate.upgrade(project, project.environment(database.env), "a66186b7cc1d")
    with engine.connect() as connection:
        total = connection.execute(text("SELECT total_amount FROM invoices")).scalar_one()
        status = connection.execute(text("SELECT status FROM invoices")).scalar_one()
    engine.dispose()
    assert Decimal(str(total)).quantize(Decimal("0.01")) == Decimal("19.99")
    assert status == "draft"


def test_seeded_tax_rates(project, database):
    migrate.upgrade(project, project.environment(database.env), "9ecdc98b5e8a")
    engine = database.engine()
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT code, rate FROM tax_rates ORDER BY code"))
        seeded = {code: Decimal(str(rate)) for code, rate in rows}
    engine.dispose()
    assert seeded == {"RED": Decimal("7.00"), "STD": Decimal("19.00"), "ZERO": Decimal("0.00")}
    migrate.downgrade(project, project.environment(database.env), "a66186b7cc1d")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM tax_rates")).scalar_one() == 0
    engine.dispose()
