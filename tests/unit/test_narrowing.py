"""Which type changes lose values (narrow, round, drop a time zone) or make PostgreSQL
rewrite the table."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from tools.lint.findings import _rewrites
from tools.scripts.narrowing import loss, narrows


def change(old, new):
    return SimpleNamespace(existing_type=old, modify_type=new)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (sa.String(50), sa.String(20), "narrows"),
        (sa.String(20), sa.String(50), None),
        (sa.String(), sa.String(20), "narrows"),
        (sa.Text(), sa.String(200), "narrows"),
        (sa.String(20), sa.Text(), None),
        (sa.Numeric(12, 2), sa.Numeric(10, 2), "narrows"),
        (sa.Numeric(12, 2), sa.Numeric(12, 0), "rounds"),
        (sa.Numeric(10, 2), sa.Numeric(12, 2), None),
        (sa.Numeric(10, 2), sa.Integer(), "rounds"),
        (sa.Numeric(10, 2), sa.Float(), "rounds"),
        # BillGenerator's own 0005: a float made NUMERIC(12, 2) rounds 10.555 to 10.56.
        (sa.Float(), sa.Numeric(12, 2), "rounds"),
        (sa.Float(), sa.Integer(), "rounds"),
        (sa.Float(), sa.Float(), None),
        (sa.BigInteger(), sa.Integer(), "narrows"),
        (sa.Integer(), sa.SmallInteger(), "narrows"),
        (sa.SmallInteger(), sa.BigInteger(), None),
        (sa.Integer(), sa.String(10), None),
        (sa.DateTime(timezone=True), sa.DateTime(), "drops the time zone of"),
        (sa.DateTime(), sa.DateTime(timezone=True), None),
        (sa.DateTime(), sa.Date(), "drops the time of day of"),
        (mysql.DATETIME(fsp=6), mysql.DATETIME(), "rounds"),
        (None, sa.String(10), None),
        (sa.String(10), None, None),
    ],
)
def test_what_a_type_change_does_to_values(old, new, expected):
    assert loss(change(old, new)) == expected
    assert narrows(change(old, new)) is (expected == "narrows")


@pytest.mark.parametrize(
    ("old", "new", "rewrites"),
    [
        (sa.String(20), sa.String(50), False),  # widening VARCHAR is catalog-only
        (sa.String(50), sa.String(20), True),
        (sa.Float(), sa.Numeric(12, 2), True),
        (sa.String(20), None, False),  # not a type change
    ],
)
def test_rewrites(old, new, rewrites):
    assert _rewrites(change(old, new)) is rewrites
