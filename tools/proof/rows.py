"""Rows: generated data for every table of a database, so proofs run on tables that hold some.

A proof on empty tables proves nothing about data: a rollback that restores a child's column
before its parent's rows, or a script that turns ``%`` into ``%%``, passes on an empty
database. Before each step of a proof, every table gets a few rows that satisfy its schema:
parents before children (foreign keys point at rows that exist), unique columns unique,
enum members, lengths, NOT NULL; values chosen to expose what scripts get wrong (``%``, TAB,
CR LF, quotes, backslashes, non-BMP characters, long strings, NUL bytes, values a rounding
changes). What the schema cannot say (a CHECK constraint's expression) the database answers:
each row is inserted in a savepoint and, if refused, tried again as another variant, and a
row no variant of which the database accepts is left out.

Generation is deterministic: a row's values depend only on the seed, the table, the row's
number and the variant, so the same proof of the same repo generates the same rows.
"""

from __future__ import annotations

import datetime
import decimal
import random
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tools.config import PROOF_ROWS
from tools.dialects import is_tool_table

if TYPE_CHECKING:
    from sqlalchemy import Column, Table
    from sqlalchemy.engine import Connection, Inspector

DEFAULT_ROWS = PROOF_ROWS
SEED = "schemactl"
VARIANTS = 6  # tries per row before it is left out
PLAIN = 3  # the first variant with plain values (small numbers, plain text)
# Pieces of text that scripts have been seen to get wrong, in a value near each other.
HOSTILE = ("50% off", "\t", "it's", '"q"', "back\\slash", "\r\n", "\n", "é", "\U0001f600", "%%")
LONG_TEXT = 5000  # characters in one value of each unbounded text column


@dataclass
class Seeded:
    """The rows a proof step inserted, table by table in the order they went in, and the
    tables it could not fill (with why)."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    unfilled: dict[str, str] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


def fill_order(tables: Sequence[Table]) -> list[Table]:
    """Parents before children; tables in a cycle of foreign keys by name (their nullable
    keys are left NULL where no parent row exists yet)."""
    remaining = {t.name: t for t in tables}
    order: list[Table] = []
    while remaining:
        ready = sorted(
            name
            for name, table in remaining.items()
            if not (_parents(table) & (set(remaining) - {name}))
        )
        if not ready:  # a cycle: take the first by name
            ready = [min(remaining)]
        for name in ready:
            order.append(remaining.pop(name))
    return order


def _parents(table: Table) -> set[str]:
    return {fk.referred_table.name for fk in table.foreign_key_constraints}


class RowMaker:
    """Candidate rows for one table, given what the database already holds."""

    def __init__(
        self,
        table: Table,
        *,
        seed: str = SEED,
        start: Mapping[str, int] | None = None,
        parents: Mapping[str, list[tuple[Any, ...]]] | None = None,
        text_holds_nul: bool = False,
    ) -> None:
        self.table = table
        self.seed = seed
        # The first free number of each integer column that must be unique.
        self.start = dict(start or {})
        # For each foreign key (by its position), the referred rows that exist.
        self.parents = dict(parents or {})
        self.text_holds_nul = text_holds_nul

    def row(self, number: int, variant: int) -> dict[str, Any]:
        rng = random.Random(f"{self.seed}:{self.table.name}:{number}:{variant}")
        row: dict[str, Any] = {}
        keyed = self._foreign_key_values(number, variant, rng)
        unique = _unique_columns(self.table)
        for column in self.table.columns:
            if column.name in keyed:
                row[column.name] = keyed[column.name]
            elif column.computed is not None:
                continue
            else:
                row[column.name] = self._value(column, number, variant, rng, column.name in unique)
        return row

    def _foreign_key_values(self, number: int, variant: int, rng: random.Random) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for index, fk in enumerate(_foreign_keys(self.table)):
            columns = [c.name for c in fk.columns]
            candidates = self.parents.get(str(index), [])
            nullable = all(c.nullable for c in fk.columns)
            if not candidates or (nullable and (number + variant) % 3 == 2):
                found.update(dict.fromkeys(columns))
            else:
                found.update(zip(columns, rng.choice(candidates), strict=True))
        return found

    def _value(
        self, column: Column[Any], number: int, variant: int, rng: random.Random, unique: bool
    ) -> Any:
        from sqlalchemy import types

        kind = column.type
        if column.nullable and not unique and not column.primary_key and number % 3 == 2:
            return None
        token = f"{number}v{variant}"
        if isinstance(kind, types.Boolean):
            return (number + variant) % 2 == 0
        if isinstance(kind, types.Enum) and kind.enums:
            return kind.enums[(number + variant) % len(kind.enums)]
        if isinstance(kind, types.Integer):
            limit = _INTEGER_LIMITS.get(kind.__visit_name__, 2**31 - 1)
            if unique or column.primary_key:
                return min(self.start.get(column.name, 1) + number + variant * 1000, limit)
            # Plainer variants: small numbers, for CHECK constraints a wide one fails.
            return rng.randint(0, min(limit, 100_000 if variant < PLAIN else 100))
        if isinstance(kind, types.Numeric) and not isinstance(kind, types.Float):
            scale = kind.scale if kind.scale is not None else 3
            digits = max(1, (kind.precision or 12) - scale)
            whole = rng.randint(0, 10 ** min(digits, 9 if variant < PLAIN else 2) - 1)
            if unique:
                whole = (self.start.get(column.name, 0) + number + variant * 1000) % 10**digits
            fraction = rng.randint(0, 10**scale - 1) if scale else 0
            return decimal.Decimal(f"{whole}.{fraction:0{scale}d}" if scale else str(whole))
        if isinstance(kind, types.Float):
            # Three decimals, the last a 5: a rounding to two decimals shows.
            wide = 99_999 if variant < PLAIN else 99
            return rng.randint(0, wide) / 100 + 0.005 + (number if unique else 0)
        if isinstance(kind, types.DateTime):
            moment = datetime.datetime(2024, 1, 1, 12, 0, 0) + datetime.timedelta(
                days=number + 31 * variant, seconds=rng.randint(0, 86_399), microseconds=123_456
            )
            return moment.replace(tzinfo=datetime.UTC) if kind.timezone else moment
        if isinstance(kind, types.Date):
            return datetime.date(2024, 1, 1) + datetime.timedelta(days=number + 31 * variant)
        if isinstance(kind, types.Time):
            return datetime.time(rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
        if isinstance(kind, types.Interval):
            return datetime.timedelta(days=number, seconds=rng.randint(0, 3600))
        if isinstance(kind, types.JSON):
            return {"note": "50% off\tit's", "n": number}
        if isinstance(kind, types.Uuid):
            value = uuid.UUID(int=rng.getrandbits(128))
            return value if kind.as_uuid else str(value)
        if isinstance(kind, types._Binary):
            length = getattr(kind, "length", None) or 16
            return (bytes([0, 255, 13, 10, 39, 92]) + token.encode())[:length]
        if isinstance(kind, types.String):
            return self._text(kind, token, number, variant, rng)
        return None  # a type this generator does not know: NULL, or the row is refused

    def _text(self, kind: Any, token: str, number: int, variant: int, rng: random.Random) -> str:
        length = getattr(kind, "length", None)
        if variant >= PLAIN:  # plainer variants, for CHECK constraints hostile text fails
            plain = [f"r{token}", f"r{token}@example.test", f"{number}{variant}", token.upper()]
            return plain[variant % len(plain)][: length or None]
        pieces = [*HOSTILE, "\x00"] if self.text_holds_nul else list(HOSTILE)
        rng.shuffle(pieces)
        text = f"{token} {''.join(pieces[:5])}"
        if length is None and number == 0 and variant == 0:
            text = (text + " ") * (LONG_TEXT // len(text))
        if length is not None and len(text) > length:
            text = text[:length] if len(token) <= length else token[-length:]
        return text


# The largest value of the integer types narrower than INTEGER (MariaDB's among them).
_INTEGER_LIMITS = {"TINYINT": 127, "SMALLINT": 32767, "small_integer": 32767, "MEDIUMINT": 8388607}


def _foreign_keys(table: Table) -> list[Any]:
    return sorted(table.foreign_key_constraints, key=lambda fk: [c.name for c in fk.columns])


def _unique_columns(table: Table) -> set[str]:
    """Columns some single-column unique constraint, unique index or primary key covers (a
    composite one is kept unique by the integer columns' numbers and the texts' tokens)."""
    from sqlalchemy import UniqueConstraint

    found = {c.name for c in table.primary_key.columns}
    found.update(
        c.name
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
        for c in constraint.columns
    )
    found.update(c.name for index in table.indexes if index.unique for c in index.columns)
    return found


# -- against a database ---------------------------------------------------------------------------


def seed(
    connection: Connection,
    tables: Sequence[Table],
    *,
    rows: int = DEFAULT_ROWS,
    text_holds_nul: bool = False,
    seed: str = SEED,
) -> Seeded:
    """Insert ``rows`` generated rows into each of ``tables`` (parents first), each in a
    savepoint, trying other variants of a row the database refuses. Returns what went in."""
    from sqlalchemy import func, select
    from sqlalchemy.exc import DBAPIError

    seeded = Seeded()
    for table in fill_order(tables):
        start = {
            column.name: int(connection.execute(select(func.max(column))).scalar() or 0) + 1
            for column in table.columns
            if _is_integer(column) and column.name in _unique_columns(table)
        }
        parents = {
            str(index): [
                tuple(row)
                for row in connection.execute(
                    select(*(element.column for element in fk.elements))
                    .order_by(*(element.column for element in fk.elements))
                    .limit(50)
                )
                if None not in row
            ]
            for index, fk in enumerate(_foreign_keys(table))
        }
        maker = RowMaker(
            table, seed=seed, start=start, parents=parents, text_holds_nul=text_holds_nul
        )
        done: list[dict[str, Any]] = []
        refused = ""
        for number in range(rows):
            for variant in range(VARIANTS):
                row = maker.row(number, variant)
                try:
                    with connection.begin_nested():
                        connection.execute(table.insert().values(row))
                except DBAPIError as err:
                    refused = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
                    continue
                done.append(row)
                break
        seeded.rows[table.name] = done
        if not done and rows:
            seeded.unfilled[table.name] = refused or "no row could be generated"
    return seeded


def insert(connection: Connection, tables: Mapping[str, Table], seeded: Seeded) -> None:
    """Insert rows another database took (``seed``) into this one, table by table."""
    for name, rows in seeded.rows.items():
        if rows:
            connection.execute(tables[name].insert(), rows)


def _is_integer(column: Column[Any]) -> bool:
    from sqlalchemy import types

    return isinstance(column.type, types.Integer) and not isinstance(column.type, types.Boolean)


def data_tables(
    connection: Connection, ignore: Collection[str] = (), inspector: Inspector | None = None
) -> dict[str, Table]:
    """The database's tables as SQLAlchemy reflects them, schemactl's own and ``ignore``
    left out (the data proofs fill and compare); ``inspector``: one that already read the
    catalog (its cache serves this reflection too)."""
    from sqlalchemy import MetaData

    from tools.core.internals import reflect_tables

    metadata = MetaData()
    # reflect() inspects what it is given, and an Inspector inspects to itself.
    reflect_tables(metadata, inspector if inspector is not None else connection)
    return {
        name: table
        for name, table in sorted(metadata.tables.items())
        if name not in ignore and not is_tool_table(name)
    }
