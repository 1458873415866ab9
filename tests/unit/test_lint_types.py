"""Which type changes narrow a column or make PostgreSQL rewrite the table."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tools.lint import _rewrites, narrows


def change(old, new):
    return SimpleNamespace(existing_type=old, modify_type=new)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (sa.String(50), sa.String(20), True),
        (sa.String(20), sa.String(50), False),
        (sa.String(), sa.String(20), True),
        (sa.Text(), sa.String(200), True),
        (sa.String(20), sa.Text(), False),
        (sa.Numeric(12, 2), sa.Numeric(10, 2), True),
        (sa.Numeric(12, 2), sa.Numeric(12, 0), True),
        (sa.Numeric(10, 2), sa.Numeric(12, 2), False),
        (sa.BigInteger(), sa.Integer(), True),
        (sa.Integer(), sa.SmallInteger(), True),
        (sa.SmallInteger(), sa.BigInteger(), False),
        (sa.Integer(), sa.String(10), False),
        (None, sa.String(10), False),
        (sa.String(10), None, False),
    ],
)
def test_narrowing(old, new, expected):
    assert narrows(change(old, new)) is expected


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
