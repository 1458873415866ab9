"""Which column type changes lose values: lint warns of them, backups keep the old values.

A change of type can keep every value (VARCHAR(20) to VARCHAR(40)), or change some: a
narrower type truncates or refuses them, a NUMERIC with fewer decimals or a FLOAT made
NUMERIC rounds them (10.555 becomes 10.56), a timestamp without its time zone or a date
without its time of day loses part of each. A rollback that widens the type again cannot
bring back what was lost, unless the upgrade kept the old values first.
"""

from __future__ import annotations

from typing import Any


def loss(source: Any) -> str | None:
    """What an alter_column operation does to existing values, as a verb for 'column t.c'
    ('narrows', 'rounds', ...); None when it keeps every value (or changes no type)."""
    old, new = getattr(source, "existing_type", None), getattr(source, "modify_type", None)
    if old is None or new is None:
        return None
    return type_loss(old, new)


def type_loss(old: Any, new: Any) -> str | None:
    """What changing a column from type ``old`` to ``new`` does to its values (see loss)."""
    from sqlalchemy import (
        BigInteger,
        Date,
        DateTime,
        Float,
        Integer,
        Numeric,
        SmallInteger,
        String,
        Text,
    )

    if isinstance(old, String) and isinstance(new, String):
        if isinstance(old, Text) and not isinstance(new, Text):
            return "narrows"
        shorter = bool(old.length and new.length and new.length < old.length)
        return "narrows" if shorter or (old.length is None and new.length is not None) else None
    # (SQLAlchemy 2.1's Float is no Numeric; 2.0's is: neither is assumed.)
    old_float, new_float = isinstance(old, Float), isinstance(new, Float)
    old_decimal = isinstance(old, Numeric) and not old_float
    new_decimal = isinstance(new, Numeric) and not new_float
    if old_float and (new_decimal or isinstance(new, Integer)):
        return "rounds"
    if old_decimal and new_float:
        return "rounds"  # a binary float cannot hold every decimal
    if old_decimal and new_decimal:
        if (new.scale or 0) < (old.scale or 0):
            return "rounds"
        if (new.precision or 0) < (old.precision or 0):
            return "narrows"
        return None
    if old_decimal and isinstance(new, Integer) and (old.scale or 0):
        return "rounds"
    widths = {SmallInteger: 1, Integer: 2, BigInteger: 3}
    old_width = next((w for t, w in widths.items() if type(old) is t), None)
    new_width = next((w for t, w in widths.items() if type(new) is t), None)
    if old_width and new_width and new_width < old_width:
        return "narrows"
    if isinstance(old, DateTime) and isinstance(new, DateTime):
        if old.timezone and not new.timezone:
            return "drops the time zone of"
        if (getattr(new, "fsp", None) or 0) < (getattr(old, "fsp", None) or 0):
            return "rounds"
        return None
    if isinstance(old, DateTime) and isinstance(new, Date):
        return "drops the time of day of"
    return None


def narrows(source: Any) -> bool:
    """Whether an alter_column makes a type smaller (length, precision, integer width):
    values that do not fit are truncated or make the statement fail."""
    return loss(source) == "narrows"
