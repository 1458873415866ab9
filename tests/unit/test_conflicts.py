"""Conflict overlap between branches, and order differences, on in-memory data."""

from __future__ import annotations

import pytest

from tools.authoring.conflicts import Touch, _orders, order_differences, overlapping, touches
from tools.proof.snapshot import Column, Schema, Table
from tools.scripts.capture import Operation

from .helpers import graph_of, header


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        (Operation("create_table", "t"), [Touch("table", "t", "t")]),
        (
            Operation("rename_table", "t", "u"),
            [Touch("table", "t", "t"), Touch("table", "u", "u")],
        ),
        (Operation("add_column", "t", "c"), [Touch("column", "t.c", "t")]),
        (Operation("create_index", "t", "ix"), [Touch("index", "ix", "t")]),
        (Operation("create_foreign_key", "t", "fk"), [Touch("constraint", "fk", "t")]),
        (Operation("drop_constraint", "t", "ck"), [Touch("constraint", "ck", "t")]),
        (Operation("bulk_insert", "t"), [Touch("data", "t", "t")]),
        (
            Operation("create_table", "t", enums=("status",)),
            [Touch("enum", "status", None), Touch("table", "t", "t")],
        ),
        (Operation("execute_sql", None), []),
    ],
)
def test_what_each_operation_touches(operation, expected):
    assert touches(operation) == expected


def lines():
    """
    base ─┬─ a1 (left): add users.nickname, index ix_users_email
          └─ b1 (right): alter users.nickname; b2: drop table users
    """
    graph = graph_of(
        header("base"),
        header("a1", "base", labels=("left",)),
        header("b1", "base", labels=("right",)),
        header("b2", "b1"),
    )
    touched = {
        "left": {
            "a1": [
                Touch("column", "users.nickname", "users"),
                Touch("index", "ix_users_email", "users"),
            ]
        },
        "right": {
            "b1": [Touch("column", "users.nickname", "users")],
            "b2": [Touch("table", "users", "users")],
        },
    }
    return graph, touched


def test_objects_both_lines_touch_are_conflicts_naming_the_revisions():
    graph, touched = lines()
    assert [str(c) for c in overlapping(graph, touched)] == [
        "column users.nickname is changed by left: a1; right: b1",
        "table users is changed by left: a1; right: b2",
    ]


def test_no_shared_object_means_no_conflict():
    graph, _ = lines()
    touched = {
        "left": {"a1": [Touch("column", "users.nickname", "users")]},
        "right": {"b1": [Touch("column", "customers.nickname", "customers")]},
    }
    assert overlapping(graph, touched) == []


def test_order_differences_name_only_what_differs():
    one = Schema((Table("archive", (Column("id", "INTEGER", False),)),))
    two = Schema(
        (Table("archive", (Column("id", "INTEGER", False), Column("nick", "TEXT", True))),)
    )
    assert order_differences([("a then b", one), ("b then a", one)], []) == []
    assert order_differences([("a then b", one), ("b then a", two)], [("x then y", "boom")]) == [
        "applying x then y fails: boom",
        "a then b and b then a give different schemas: extra column archive.nick (TEXT, nullable)",
    ]
    assert order_differences([], [("x", "boom")]) == ["applying x fails: boom"]


def test_every_order_up_to_three_heads_then_two():
    assert len(_orders(("a", "b", "c"))) == 6
    assert _orders(("a", "b", "c", "d")) == [("a", "b", "c", "d"), ("d", "c", "b", "a")]
