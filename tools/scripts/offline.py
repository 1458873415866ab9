"""What a revision meets offline while it is captured: a bind that writes statements out and
has no rows to give (reading from it is refused, with the reason), and Alembic's create_table
made to create a table's indexes in one fixed order (scripts stay byte-identical)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tools.core.internals import refuse_inspection


class ReadsFromDatabase(Exception):
    """A revision asked an offline bind for rows: there are none to give."""


class NoRows:
    """What an offline bind's execute() returns: false, as Alembic's None is (revisions test
    it: ``if result: ...``, ``rows.fetchall() if rows else []``); using it for rows is
    reading from the database."""

    def _refuse(self, *args: object, **kw: object) -> Any:
        raise ReadsFromDatabase("it uses the result of a query, which offline has no rows")

    def __bool__(self) -> bool:
        return False

    __getattr__ = __iter__ = __len__ = __getitem__ = _refuse


class OfflineBind:
    """``op.get_bind()`` offline: statements are written out; results have no rows."""

    def __init__(self, mock: Any) -> None:
        self._mock = mock

    def __getattr__(self, name: str) -> Any:
        return getattr(self._mock, name)

    def execute(self, *args: Any, **kw: Any) -> NoRows:
        self._mock.execute(*args, **kw)
        return NoRows()

    def exec_driver_sql(self, statement: str, *args: Any, **kw: Any) -> NoRows:
        from sqlalchemy import text

        self._mock.execute(text(statement))
        return NoRows()

    def scalar(self, *args: Any, **kw: Any) -> Any:
        raise ReadsFromDatabase("it asks the database for a value (bind.scalar)")

    scalars = scalar


def register_inspection() -> None:
    """sqlalchemy.inspect() of an offline bind is reading from the database."""

    def refuse(bind: OfflineBind) -> Any:
        raise ReadsFromDatabase("it inspects the live database (sqlalchemy.inspect)")

    refuse_inspection(OfflineBind, refuse)


def creating_in_stable_order(create_table: Callable[..., Any]) -> Callable[..., Any]:
    """Alembic's create_table, with the table's indexes created in one fixed order (it
    iterates their set: the order changed from one process to the next)."""

    def create(table: Any, **kw: Any) -> Any:
        in_stable_order(table)
        return create_table(table, **kw)

    return create


def in_stable_order(table: Any) -> None:
    """Make a table's constraints and indexes iterate in one fixed order.

    They are sets of objects hashed by identity; Alembic's table rebuild iterates them, so
    without this the rebuilt table lists constraints, and creates indexes, in a different
    order from one run to the next, and rendered scripts would not be byte-identical.
    The primary key comes first, then everything by name, then by columns.
    """
    from sqlalchemy import PrimaryKeyConstraint
    from sqlalchemy.util import OrderedSet

    def key(item: Any) -> tuple[bool, str, tuple[str, ...]]:
        columns = tuple(str(c) for c in getattr(item, "columns", ()))
        return (not isinstance(item, PrimaryKeyConstraint), str(item.name or ""), columns)

    table.constraints = OrderedSet(sorted(table.constraints, key=key))
    table.indexes = OrderedSet(sorted(table.indexes, key=key))
