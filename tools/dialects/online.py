"""A kind of database, its online role: the forms of a schema change that leave the
application's writes going (tools.operations offers them to revisions as Alembic
operations). The default is the plain form, Alembic's own; postgresql.py and mariadb.py
hold each server's safe forms: what is built without stopping writes, what is added
unchecked and checked afterwards, and what the server must refuse rather than copy.

A kind writes through an Emitter: the operation's plain form, or statements of its own,
in the revision's transaction or outside any (``outside``: CONCURRENTLY, a VALIDATE that
should not keep the lock the ADD took).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from tools.dialects.observe import ObservingDialect

if TYPE_CHECKING:
    from sqlalchemy import Column, Index, Table
    from sqlalchemy.sql.elements import ClauseElement, ColumnElement
    from sqlalchemy.sql.schema import CheckConstraint, ForeignKeyConstraint, UniqueConstraint


@dataclass(frozen=True)
class NotNull:
    """A column to be made NOT NULL, as it stands: what a server that restates the whole
    column (MariaDB's MODIFY) needs besides its name."""

    table: Table  # a copy holding the column, with its existing type
    name: str
    server_default: Any = None  # as Alembic's existing_server_default takes it
    comment: str | None = None

    @property
    def column(self) -> Column[Any]:
        return self.table.c[self.name]


@dataclass(frozen=True)
class Backfill:
    """Rows of a table given values, batch by batch along an integer key: each batch its
    own transaction, so a writer waits for one batch's row locks at most."""

    table: Table  # a copy holding the key column
    values: tuple[tuple[str, str], ...]  # (column, SQL expression)
    where: str | None = None  # which rows, in SQL (None: all)
    key: str = "id"
    batch_size: int = 10_000


@dataclass(frozen=True)
class ShadowCopy:
    """How a server that can only check a new constraint by copying the table (MariaDB's
    CHECK) copies it beside itself instead: along the integer primary key ``key``,
    ``batch_size`` rows at a time."""

    key: str = "id"
    batch_size: int = 10_000


class Emitter(Protocol):
    """Where a kind writes one operation's form."""

    def plain(self) -> None:
        """The operation as Alembic writes it."""

    def run(self, statement: str | ClauseElement, *, outside: bool = False) -> None:
        """One statement (``outside``: run outside any transaction)."""

    def sql(self, construct: ClauseElement) -> str:
        """A construct as this kind of database writes it, values inline."""


class OnlineForms(ObservingDialect):
    """The safe forms (here: the plain ones; a server's own module says better)."""

    def create_index(self, emit: Emitter, index: Index) -> None:
        emit.plain()

    def drop_index(self, emit: Emitter, index: Index) -> None:
        emit.plain()

    def create_foreign_key(self, emit: Emitter, key: ForeignKeyConstraint) -> None:
        emit.plain()

    def create_check(self, emit: Emitter, check: CheckConstraint, copy: ShadowCopy) -> None:
        emit.plain()

    def create_unique(self, emit: Emitter, unique: UniqueConstraint) -> None:
        emit.plain()

    def set_not_null(self, emit: Emitter, column: NotNull) -> None:
        emit.plain()

    def backfill(self, emit: Emitter, backfill: Backfill) -> None:
        emit.run(self.backfill_update(backfill))

    def backfill_update(self, backfill: Backfill, batch: tuple[str, str] | None = None) -> str:
        """The UPDATE of a backfill: every row at once, or those with ``low <= key < high``
        for ``batch = (low, high)`` (SQL expressions)."""
        from sqlalchemy import literal_column, update

        # The developer's SQL as written: literal_column reads no :name as a bound value.
        table = backfill.table
        values: dict[str, Any] = {c: literal_column(value) for c, value in backfill.values}
        where: list[ColumnElement[Any]] = (
            [literal_column(f"({backfill.where})")] if backfill.where else []
        )
        if batch is not None:
            key = table.c[backfill.key]
            where = [key >= literal_column(batch[0]), key < literal_column(batch[1]), *where]
        return self.compile(update(table).values(values).where(*where)).removesuffix(";")

    def backfill_label(self, backfill: Backfill) -> str:
        """What names a backfill in its progress rows: a hash of its table, values, rows and
        key (not its batch size: a run given another goes on from the same progress)."""
        import json

        table = backfill.table
        said = [table.schema, table.name, list(backfill.values), backfill.where, backfill.key]
        return hashlib.sha256(json.dumps(said).encode()).hexdigest()[:32]

    def backfill_progress(self) -> str:
        """The statement that makes the backfills' progress table where there is none."""
        from sqlalchemy.schema import CreateTable

        from tools.dialects.tables import backfill_table

        return self.compile(CreateTable(backfill_table(), if_not_exists=True)).removesuffix(";")

    def check_name(self, table: str, column: str) -> str:
        """The name of the temporary CHECK (column IS NOT NULL) a safe SET NOT NULL uses:
        shortened, with a hash of the whole, where the server's names are shorter."""
        return self.short_name(f"ck_{table}_{column}_not_null")

    def short_name(self, name: str) -> str:
        """``name``, or where it is longer than this kind's names can be, its beginning and
        a hash of the whole."""
        limit = self.sa_dialect.max_identifier_length
        if len(name) <= limit:
            return name
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        return f"{name[: limit - 9]}_{digest}"

    def _ident(self, name: str) -> str:
        """A name as this kind's SQL writes it (quoted where it must be)."""
        return self.sa_dialect.identifier_preparer.quote(name)

    def _qualified(self, table: Table) -> str:
        """A table's name, with its schema, as this kind's SQL writes it."""
        return self.sa_dialect.identifier_preparer.format_table(table)
