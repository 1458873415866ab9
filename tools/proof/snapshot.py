"""A database's reflected schema as typed data, and the one comparer of two of them.

verify compares a live database with a scratch one built to the same revision; merge
analysis compares the schemas two orders of the same branches give. Both ask ``compare``,
which says each difference in the words a DBA uses.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from tools.dialects import BACKUP_PREFIX

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Inspector


@dataclass(frozen=True, order=True)
class Column:
    name: str
    type: str
    nullable: bool

    def describe(self) -> str:
        return f"{self.type}, {'nullable' if self.nullable else 'NOT NULL'}"


@dataclass(frozen=True, order=True)
class Index:
    name: str
    columns: tuple[str, ...]
    unique: bool
    # False: PostgreSQL's catalog marks it invalid (a CREATE INDEX CONCURRENTLY that failed
    # leaves it so: it exists, is maintained on writes, and answers no query).
    valid: bool = True


@dataclass(frozen=True, order=True)
class Unique:
    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True, order=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    referred_table: str


_Named = Index | Unique | ForeignKey


@dataclass(frozen=True)
class Table:
    """One table. Columns are kept sorted by name, not position: two branches that each add a
    column to one table give the same schema in either order, only the columns' order differs.
    """

    name: str
    columns: tuple[Column, ...] = ()
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    indexes: tuple[Index, ...] = ()
    uniques: tuple[Unique, ...] = ()


@dataclass(frozen=True)
class Schema:
    tables: tuple[Table, ...] = ()

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)


# What the catalog says of each table: aspect (columns, pk, fks, indexes, uniques) -> the
# inspector's answer for that table.
Catalog = dict[str, dict[str, Any]]


def read_catalog(
    connection: Connection, ignore: Collection[str] = (), inspector: Inspector | None = None
) -> Catalog:
    """Each table's columns, keys, indexes and constraints as the inspector reads them, in
    table name order, ``ignore`` and schemactl's backups left out (``inspector``: one to
    share the catalog reads of with other reflection)."""
    from sqlalchemy import inspect

    insp = inspector if inspector is not None else inspect(connection)
    names = [
        name
        for name in sorted(insp.get_table_names())
        if name not in ignore and not name.startswith(BACKUP_PREFIX)  # schemactl's backups
    ]
    if not names:
        return {}
    # One catalog query per aspect for all the tables (a server answers per table otherwise).
    found = {
        aspect: {key[1]: value for key, value in read(filter_names=names).items()}
        for aspect, read in (
            ("columns", insp.get_multi_columns),
            ("pk", insp.get_multi_pk_constraint),
            ("fks", insp.get_multi_foreign_keys),
            ("indexes", insp.get_multi_indexes),
            ("uniques", insp.get_multi_unique_constraints),
        )
    }
    return {name: {k: v.get(name) for k, v in found.items()} for name in names}


def snapshot(
    connection: Connection, ignore: Collection[str] = (), inspector: Inspector | None = None
) -> Schema:
    """Tables with their columns (name, type, nullability), keys, indexes and constraints
    (``inspector``: one to share the catalog reads of with other reflection)."""
    return schema_of_catalog(read_catalog(connection, ignore, inspector))


def schema_of_catalog(catalog: Catalog) -> Schema:
    return Schema(tuple(_table(name, found) for name, found in catalog.items()))


def _table(name: str, found: dict[str, Any]) -> Table:
    return Table(
        name=name,
        columns=tuple(
            sorted(
                Column(c["name"], str(c["type"]), bool(c["nullable"]))
                for c in found["columns"] or ()
            )
        ),
        primary_key=tuple((found["pk"] or {}).get("constrained_columns") or ()),
        foreign_keys=tuple(
            sorted(
                ForeignKey(fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in found["fks"] or ()
            )
        ),
        indexes=tuple(
            sorted(
                Index(
                    ix["name"] or "",
                    tuple(str(c) for c in ix["column_names"]),
                    ix["unique"],
                    not (ix.get("dialect_options") or {}).get("postgresql_invalid"),
                )
                for ix in found["indexes"] or ()
            )
        ),
        uniques=tuple(
            sorted(
                Unique(uq["name"] or "", tuple(uq["column_names"])) for uq in found["uniques"] or ()
            )
        ),
    )


@dataclass(frozen=True)
class Difference:
    """One way ``actual`` differs from ``expected``."""

    kind: str  # missing, extra, differs
    what: str  # table, column, primary key, index, unique constraint, foreign key
    table: str
    name: str | None = None  # the column, index or constraint
    detail: str = ""

    def __str__(self) -> str:
        if self.what == "table":
            return f"{self.kind} table {self.table}"
        if self.what == "column":
            where = f"{self.table}.{self.name}"
            if self.kind == "extra":
                return f"extra column {where} ({self.detail})"
            if self.kind == "missing":
                return f"missing column {where}"
            return f"column {where} {self.detail}"
        if self.what == "primary key":
            return f"primary key of {self.table} is {self.detail}"
        if self.kind == "differs":
            said = self.detail or "differs"
            return f"{self.what} {self.name} on {self.table} {said}"
        said = f" ({self.detail})" if self.detail else ""
        return f"{self.kind} {self.what} {self.name} on {self.table}{said}"


def compare(expected: Schema, actual: Schema) -> list[Difference]:
    """Each way ``actual`` differs from ``expected``, table by table, in a stable order."""
    found: list[Difference] = []
    want = {t.name: t for t in expected.tables}
    have = {t.name: t for t in actual.tables}
    for name in sorted(set(want) | set(have)):
        if name not in have:
            found.append(Difference("missing", "table", name))
        elif name not in want:
            found.append(Difference("extra", "table", name))
        else:
            found.extend(_compare_tables(want[name], have[name]))
    return found


def _compare_tables(want: Table, have: Table) -> Iterator[Difference]:
    table = want.name
    want_columns = {c.name: c for c in want.columns}
    have_columns = {c.name: c for c in have.columns}
    for name in sorted(set(want_columns) | set(have_columns)):
        if name not in have_columns:
            yield Difference("missing", "column", table, name)
        elif name not in want_columns:
            yield Difference("extra", "column", table, name, have_columns[name].describe())
        else:
            old, new = want_columns[name], have_columns[name]
            if old.type != new.type:
                yield Difference(
                    "differs", "column", table, name, f"is {new.type}, expected {old.type}"
                )
            if old.nullable != new.nullable:
                should = "nullable" if old.nullable else "NOT NULL"
                yield Difference("differs", "column", table, name, f"should be {should}")
    if want.primary_key != have.primary_key:
        detail = f"{list(have.primary_key)}, expected {list(want.primary_key)}"
        yield Difference("differs", "primary key", table, None, detail)
    aspects: tuple[tuple[str, tuple[_Named, ...], tuple[_Named, ...]], ...] = (
        ("index", want.indexes, have.indexes),
        ("unique constraint", want.uniques, have.uniques),
        ("foreign key", want.foreign_keys, have.foreign_keys),
    )
    for what, wanted, had in aspects:
        want_items = {item.name: item for item in wanted}
        have_items = {item.name: item for item in had}
        for name in sorted(set(want_items) | set(have_items)):
            if name not in have_items:
                yield Difference("missing", what, table, name)
            elif name not in want_items:
                found = have_items[name]
                invalid = isinstance(found, Index) and not found.valid
                yield Difference("extra", what, table, name, _INVALID if invalid else "")
            elif want_items[name] != have_items[name]:
                yield Difference(
                    "differs", what, table, name, _how(want_items[name], have_items[name])
                )


def _how(want: _Named, have: _Named) -> str:
    """What is wrong with an index or constraint the expected schema has too."""
    if isinstance(have, Index) and not have.valid and replace(have, valid=True) == want:
        return f"is {_INVALID}"
    return ""


_INVALID = (
    "INVALID: a CREATE INDEX CONCURRENTLY that failed left it; `schemactl recover` renders "
    "the script that drops it and finishes or undoes its step"
)


def invalid_indexes(schema: Schema) -> list[tuple[str, str]]:
    """The (table, index) pairs of the schema's invalid indexes."""
    return [(t.name, ix.name) for t in schema.tables for ix in t.indexes if not ix.valid]


def without_invalid_indexes(schema: Schema) -> Schema:
    """The schema as if its invalid indexes were not there."""
    return Schema(
        tuple(replace(t, indexes=tuple(ix for ix in t.indexes if ix.valid)) for t in schema.tables)
    )
