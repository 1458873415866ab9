"""A database's reflected schema as typed data, and the one comparer of two of them.

verify compares a live database with a scratch one built to the same revision; merge
analysis compares the schemas two orders of the same branches give. Both ask ``compare``,
which says each difference in the words a DBA uses.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from tools.dialects import BACKUP_PREFIX, dialect_of_url

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Inspector


@dataclass(frozen=True, order=True)
class Column:
    name: str
    type: str
    nullable: bool
    # What `diff` compares besides (verify and merge compare name, type and nullability):
    # the server default as the catalog says it, and the type's family (a meaning every
    # dialect shares: STRING(40) for VARCHAR(40), BOOLEAN for MariaDB's TINYINT(1)).
    default: str | None = field(default=None, compare=False)
    family: str = field(default="", compare=False)

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
    # False: added NOT VALID and never validated (PostgreSQL): enforced on new rows only.
    valid: bool = True


@dataclass(frozen=True, order=True)
class Check:
    name: str
    sqltext: str


_Named = Index | Unique | ForeignKey | Check


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
    # Read only for `diff` (snapshot(..., detailed=True)); no other comparison looks at them.
    checks: tuple[Check, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Schema:
    tables: tuple[Table, ...] = ()

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)


# What the catalog says of each table: aspect (columns, pk, fks, indexes, uniques) -> the
# inspector's answer for that table.
Catalog = dict[str, dict[str, Any]]


def read_catalog(
    connection: Connection,
    ignore: Collection[str] = (),
    inspector: Inspector | None = None,
    *,
    detailed: bool = False,
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
            *((("checks", insp.get_multi_check_constraints),) if detailed else ()),
        )
    }
    unchecked = dialect_of_url(connection.engine.url).unchecked_constraints(connection)
    return {
        name: {
            **{k: v.get(name) for k, v in found.items()},
            "unchecked": sorted(c for t, c in unchecked if t == name),
        }
        for name in names
    }


def snapshot(
    connection: Connection,
    ignore: Collection[str] = (),
    inspector: Inspector | None = None,
    *,
    detailed: bool = False,
) -> Schema:
    """Tables with their columns (name, type, nullability), keys, indexes and constraints
    (``inspector``: one to share the catalog reads of with other reflection; ``detailed``:
    check constraints too, for `diff`)."""
    return schema_of_catalog(read_catalog(connection, ignore, inspector, detailed=detailed))


def schema_of_catalog(catalog: Catalog) -> Schema:
    return Schema(tuple(_table(name, found) for name, found in catalog.items()))


def _table(name: str, found: dict[str, Any]) -> Table:
    return Table(
        name=name,
        columns=tuple(
            sorted(
                Column(
                    c["name"],
                    str(c["type"]),
                    bool(c["nullable"]),
                    None if c.get("default") is None else str(c["default"]),
                    family(c["type"]),
                )
                for c in found["columns"] or ()
            )
        ),
        primary_key=tuple((found["pk"] or {}).get("constrained_columns") or ()),
        foreign_keys=tuple(
            sorted(
                ForeignKey(
                    fk["name"] or "",
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    fk["name"] not in (found.get("unchecked") or ()),
                )
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
        checks=tuple(
            sorted(
                Check(ck["name"] or "", " ".join(str(ck["sqltext"]).split()))
                for ck in found.get("checks") or ()
            )
        ),
    )


def family(type_: Any) -> str:
    """What a column type means whatever the dialect: its generic SQLAlchemy type with the
    length, precision and values that matter (VARCHAR(40) and NVARCHAR(40) are STRING(40);
    a MariaDB TINYINT(1) is BOOLEAN; a time zone is left out, which MariaDB cannot keep)."""
    from sqlalchemy import types

    if isinstance(type_, types.Enum):
        return f"ENUM({', '.join(sorted(type_.enums))})"
    if type(type_).__name__ == "TINYINT" and getattr(type_, "display_width", None) == 1:
        return "BOOLEAN"
    try:
        generic: Any = type_.as_generic()
    except NotImplementedError:
        return str(type_).upper()
    families: tuple[tuple[type, str], ...] = (
        (types.Enum, "ENUM"),
        (types.Text, "TEXT"),
        (types.String, "STRING"),
        (types.Boolean, "BOOLEAN"),
        (types.BigInteger, "BIGINT"),
        (types.SmallInteger, "SMALLINT"),
        (types.Integer, "INTEGER"),
        (types.Float, "FLOAT"),
        (types.Numeric, "NUMERIC"),
        (types.DateTime, "DATETIME"),
        (types.Date, "DATE"),
        (types.Time, "TIME"),
        (types.LargeBinary, "BINARY"),
        (types.JSON, "JSON"),
        (types.Uuid, "UUID"),
    )
    name = next((name for kind, name in families if isinstance(generic, kind)), None)
    if name == "ENUM":
        return f"ENUM({', '.join(sorted(generic.enums))})"
    if name == "STRING" and generic.length:
        return f"STRING({generic.length})"
    if name == "NUMERIC" and generic.precision is not None:
        return f"NUMERIC({generic.precision}, {generic.scale or 0})"
    if name is not None:
        return name
    return type(generic).__name__.upper()


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


def compare(
    expected: Schema, actual: Schema, *, across: bool = False, detailed: bool = False
) -> list[Difference]:
    """Each way ``actual`` differs from ``expected``, table by table, in a stable order.
    ``across``: two dialects, so column types are compared by family and only what differs
    in meaning is said; ``detailed``: server defaults and check constraints too (the
    snapshots read with detailed=True)."""
    found: list[Difference] = []
    want = {t.name: t for t in expected.tables}
    have = {t.name: t for t in actual.tables}
    for name in sorted(set(want) | set(have)):
        if name not in have:
            found.append(Difference("missing", "table", name))
        elif name not in want:
            found.append(Difference("extra", "table", name))
        else:
            left, right = want[name], have[name]
            if across:
                left, right = _without_constraint_indexes(left), _without_constraint_indexes(right)
            found.extend(_compare_tables(left, right, across, detailed))
    return found


def _compare_tables(
    want: Table, have: Table, across: bool = False, detailed: bool = False
) -> Iterator[Difference]:
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
            if across and old.family != new.family:
                yield Difference(
                    "differs",
                    "column",
                    table,
                    name,
                    f"is {new.family}, expected {old.family}",
                )
            elif not across and old.type != new.type:
                yield Difference(
                    "differs", "column", table, name, f"is {new.type}, expected {old.type}"
                )
            if detailed:
                yield from _defaults(table, name, old, new, across)
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
    if detailed:
        # Across dialects a check's text is each server's own rendering: names only.
        def named(checks: tuple[Check, ...]) -> tuple[Check, ...]:
            return tuple(Check(c.name, "") for c in checks) if across else checks

        aspects += (("check constraint", named(want.checks), named(have.checks)),)
    for what, wanted, had in aspects:
        want_items = {item.name: item for item in wanted}
        have_items = {item.name: item for item in had}
        for name in sorted(set(want_items) | set(have_items)):
            if name not in have_items:
                yield Difference("missing", what, table, name)
            elif name not in want_items:
                yield Difference("extra", what, table, name, _state(have_items[name]))
            elif want_items[name] != have_items[name]:
                yield Difference(
                    "differs", what, table, name, _how(want_items[name], have_items[name])
                )


def _defaults(
    table: str, name: str, old: Column, new: Column, across: bool
) -> Iterator[Difference]:
    """A server default that differs: by its text on one dialect, by being there at all
    across two (each server writes the same default its own way)."""
    if across and (_own(old.default) is None) != (_own(new.default) is None):
        said = f"has default {new.default}" if new.default is not None else "has no default"
        yield Difference("differs", "column", table, name, f"{said}, expected otherwise")
    elif not across and old.default != new.default:
        want = old.default if old.default is not None else "none"
        yield Difference(
            "differs", "column", table, name, f"has default {new.default}, expected {want}"
        )


def _own(default: str | None) -> str | None:
    """A default as a person set it: PostgreSQL's serial columns show their sequence as a
    default (nextval(...)), where MariaDB and SQLite show AUTO_INCREMENT as none."""
    return None if default is None or default.startswith("nextval(") else default


def _without_constraint_indexes(table: Table) -> Table:
    """A table without the indexes that are its unique constraints' own (PostgreSQL and
    MariaDB list both, SQLite the constraint alone)."""
    uniques = {u.name for u in table.uniques}
    return replace(table, indexes=tuple(ix for ix in table.indexes if ix.name not in uniques))


def _how(want: _Named, have: _Named) -> str:
    """What is wrong with an index or constraint the expected schema has too."""
    if isinstance(have, Index | ForeignKey) and replace(have, valid=True) == want:
        return f"is {_state(have)}"
    return ""


def _state(item: _Named) -> str:
    """An index left INVALID, or a foreign key NOT VALID, in words ('' for any other)."""
    if isinstance(item, Index) and not item.valid:
        return _INVALID
    if isinstance(item, ForeignKey) and not item.valid:
        return _NOT_VALID
    return ""


_NOT_VALID = (
    "NOT VALID: its rows were never checked (a VALIDATE CONSTRAINT that failed or never ran); "
    "`schemactl recover` says which statements of its step ran"
)
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
