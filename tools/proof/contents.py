"""A database's table contents as typed data, and the one comparer of two of them.

Proofs compare schemas (tools.proof.snapshot) and data: after a script's upgrade against Alembic's
online run from the same rows (offline must equal online, value for value), after its
rollback against the rows from before (a rollback must give every row back), and after the
upgrade applied again against the first. Rows are matched by primary key (by the whole row
where a table has none) and each difference names the table, the row and one value.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tools.core.text import comment
from tools.dialects import is_tool_table
from tools.proof.snapshot import Catalog

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection

# How far apart two moments may be and still count as the same, where a step writes the
# server's clock (a DEFAULT now() on an added column, an UPDATE ... SET at = now()): the
# runs compared happen seconds apart.
CLOCK_SLACK = datetime.timedelta(seconds=120)


@dataclass(frozen=True)
class TableRows:
    name: str
    columns: tuple[str, ...]  # by name
    key: tuple[str, ...]  # the primary key's columns; () when the table has none
    rows: tuple[tuple[Any, ...], ...]  # values in ``columns`` order, sorted

    def keyed(self) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        """The rows by primary key (by the whole row, counted, where there is none)."""
        positions = [self.columns.index(c) for c in self.key]
        found: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for row in self.rows:
            key = tuple(row[i] for i in positions) if positions else _whole(row, found)
            found[key] = row
        return found


def _whole(row: tuple[Any, ...], found: Mapping[tuple[Any, ...], object]) -> tuple[Any, ...]:
    # A table without a key may hold the same row twice: the second is (row, 2).
    number = 1
    while (sort_key(row), number) in found:
        number += 1
    return (sort_key(row), number)


@dataclass(frozen=True)
class Contents:
    tables: Mapping[str, TableRows]

    @property
    def row_count(self) -> int:
        return sum(len(t.rows) for t in self.tables.values())


def contents_of(connection: Connection, tables: Mapping[str, Table]) -> Contents:
    """Every row of ``tables`` (as reflected from this database), values as the driver
    reads them."""
    from sqlalchemy import select

    found = {}
    for name, table in sorted(tables.items()):
        columns = tuple(sorted(c.name for c in table.columns))
        rows = connection.execute(select(*(table.c[c] for c in columns))).all()
        values = sorted((tuple(_plain(v) for v in row) for row in rows), key=sort_key)
        key = tuple(c.name for c in table.primary_key.columns)
        found[name] = TableRows(name, columns, key, tuple(values))
    return Contents(found)


def row_tables(catalog: Catalog) -> dict[str, Table]:
    """The tables of ``catalog`` as far as reading their rows needs (contents_of): each
    column with the type the catalog gives it, and the primary key; schemactl's own tables
    left out. Built from what a snapshot already read, rather than reflected again."""
    from sqlalchemy import Column, MetaData, PrimaryKeyConstraint
    from sqlalchemy import Table as CoreTable

    metadata = MetaData()
    tables = {}
    for name, found in catalog.items():
        if is_tool_table(name):
            continue
        key = (found["pk"] or {}).get("constrained_columns") or ()
        tables[name] = CoreTable(
            name,
            metadata,
            *(Column(c["name"], c["type"]) for c in found["columns"] or ()),
            *([PrimaryKeyConstraint(*key)] if key else []),
        )
    return tables


def _plain(value: Any) -> Any:
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    return value


def sort_key(row: tuple[Any, ...]) -> tuple[tuple[int, str, Any], ...]:
    """A total order over rows of mixed values (NULLs first)."""
    return tuple(
        (0, "", "") if v is None else (1, type(v).__name__, v if _orderable(v) else repr(v))
        for v in row
    )


def _orderable(value: Any) -> bool:
    return isinstance(
        value, int | float | decimal.Decimal | str | bytes | datetime.date | datetime.time
    ) and not (isinstance(value, datetime.datetime) and value.tzinfo is not None)


@dataclass(frozen=True)
class DataDifference:
    """One way ``actual``'s rows differ from ``expected``'s."""

    table: str
    kind: str  # missing (a row), extra (a row), differs (a value)
    row: str  # the row, as its key says it: id=3
    detail: str = ""

    def __str__(self) -> str:
        if self.kind == "missing":
            return f"table {self.table} lost row {self.row} ({self.detail})"
        if self.kind == "extra":
            return f"table {self.table} has an extra row {self.row} ({self.detail})"
        return f"table {self.table} row {self.row}: {self.detail}"


def compare_contents(
    expected: Contents,
    actual: Contents,
    *,
    loose: Collection[tuple[str, str]] = (),
    clock_slack: bool = False,
    limit: int = 5,
) -> list[DataDifference]:
    """How ``actual``'s rows differ from ``expected``'s, in tables and columns both have (a
    missing table or column is the schema comparison's to report), at most ``limit``.
    ``loose``: (table, column) pairs whose values only need the same NULLs (a value the
    server generates each run); ``clock_slack``: moments within CLOCK_SLACK count as one."""
    found: list[DataDifference] = []
    for name in sorted(set(expected.tables) & set(actual.tables)):
        want, have = expected.tables[name], actual.tables[name]
        columns = [c for c in want.columns if c in have.columns]
        if want.key != have.key or not set(want.key) <= set(columns):
            want, have = _rekeyed(want, columns), _rekeyed(have, columns)
        want_rows, have_rows = want.keyed(), have.keyed()
        for key in sorted(set(want_rows) | set(have_rows), key=sort_key):
            shown = _key(want.key, key)
            if key not in have_rows:
                found.append(DataDifference(name, "missing", shown, _row(want, want_rows[key])))
            elif key not in want_rows:
                found.append(DataDifference(name, "extra", shown, _row(have, have_rows[key])))
            else:
                for column in columns:
                    old = want_rows[key][want.columns.index(column)]
                    new = have_rows[key][have.columns.index(column)]
                    if not _same(old, new, (name, column) in loose, clock_slack):
                        found.append(
                            DataDifference(
                                name,
                                "differs",
                                shown,
                                f"{column} is {_shown(new)}, expected {_shown(old)}",
                            )
                        )
            if len(found) >= limit:
                return found
    return found


def _rekeyed(table: TableRows, columns: list[str]) -> TableRows:
    """The table reduced to ``columns`` and keyed by whole rows (its key changed, or lost
    columns): what can still be compared."""
    positions = [table.columns.index(c) for c in columns]
    rows = sorted((tuple(r[i] for i in positions) for r in table.rows), key=sort_key)
    return TableRows(table.name, tuple(columns), (), tuple(rows))


def _same(old: Any, new: Any, loose: bool, clock_slack: bool) -> bool:
    # Drivers read one SQL type as one Python type; a difference of type is a change of
    # value (10.555 stored as a float, read back as Decimal('10.56')).
    if old == new and type(old) is type(new):
        return True
    if old is None or new is None:
        return False
    if loose:
        return True
    if clock_slack and isinstance(old, datetime.datetime) and isinstance(new, datetime.datetime):
        try:
            return abs(old - new) <= CLOCK_SLACK
        except TypeError:  # one aware, one naive
            return False
    return False


def _key(columns: tuple[str, ...], key: tuple[Any, ...]) -> str:
    if not columns:
        return "(no primary key)"
    return ", ".join(f"{c}={_shown(v)}" for c, v in zip(columns, key, strict=True))


def _row(table: TableRows, row: tuple[Any, ...]) -> str:
    return ", ".join(f"{c}={_shown(v)}" for c, v in zip(table.columns, row, strict=True))


def _shown(value: Any) -> str:

    text = repr(value)
    return comment(text if len(text) <= 60 else text[:57] + "...", limit=80)


def without(contents: Contents, left_out: Collection[tuple[str, str | None]]) -> Contents:
    """``contents`` without the tables (column None) and columns of ``left_out``."""
    if not left_out:
        return contents
    tables = {}
    for name, table in contents.tables.items():
        if (name, None) in left_out:
            continue
        gone = [i for i, c in enumerate(table.columns) if (name, c) in left_out]
        if gone:
            keep = [i for i in range(len(table.columns)) if i not in gone]
            columns = tuple(table.columns[i] for i in keep)
            rows = tuple(sorted((tuple(r[i] for i in keep) for r in table.rows), key=sort_key))
            key = table.key if set(table.key) <= set(columns) else ()
            table = TableRows(name, columns, key, rows)
        tables[name] = table
    return Contents(tables)
