"""A kind of database, its backups role: what a release's destructive steps keep, said in
SQL (scripts.backup_plan decides what is kept)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from tools.dialects.base import DialectBase
from tools.dialects.names import (
    BACKUP_PREFIX,
)


class BackupSQL(DialectBase):
    """Backups in SQL: take, restore, count, drop."""

    # Where backup tables live: a schema of their own (PostgreSQL), else a name prefix.
    backup_prefix: ClassVar[str] = BACKUP_PREFIX

    @property
    def backup_schema(self) -> str | None:
        """The schema backup tables live in (None: beside the tables, under backup_prefix)."""
        return None

    def backup_table(self, name: str) -> str:
        """A backup table's name as SQL writes it."""
        quote = self.sa_dialect.identifier_preparer.quote
        if self.backup_schema:
            return f"{quote(self.backup_schema)}.{quote(name)}"
        return quote(self.backup_prefix + name)

    def backup_statements(
        self, name: str, table: str, columns: Sequence[str] | None, *, keep_existing: bool = False
    ) -> list[str]:
        """Copy ``columns`` of ``table`` (None: every column) into backup table ``name``;
        ``keep_existing``: where an earlier run left one, it stays as it is."""
        quote = self.sa_dialect.identifier_preparer.quote
        selected = ", ".join(quote(c) for c in columns) if columns else "*"
        create = "CREATE TABLE IF NOT EXISTS" if keep_existing else "CREATE TABLE"
        return [f"{create} {self.backup_table(name)} AS SELECT {selected} FROM {quote(table)};"]

    def backup_setup(self) -> list[str]:
        """What a script runs once before its first backup (PostgreSQL: the schema)."""
        return []

    def dump_command(self, table: str) -> str:
        """The client command that writes one table (structure and rows) to a file."""
        raise NotImplementedError

    def size_query(self, tables: Sequence[str]) -> str:
        """A query a DBA runs before applying: how many rows, and how much space, each of
        ``tables`` holds (what a table rewrite or copy, or a scan, will go through)."""
        quote = self.sa_dialect.identifier_preparer.quote
        counts = [
            f"SELECT {self.literal(t)} AS table_name, count(*) AS row_count FROM {quote(t)}"
            for t in tables
        ]
        return "\nUNION ALL ".join(counts) + ";"

    def _kept(self, name: str, columns: Sequence[str]) -> Any:
        from sqlalchemy import column, table

        schema = self.backup_schema
        full = name if schema else self.backup_prefix + name
        return table(full, *(column(c) for c in columns), schema=schema).alias("b")

    def restore_by_key(
        self,
        name: str,
        table: str,
        key: Sequence[str],
        column: str,
        types: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """Put ``column``'s values back into ``table`` from backup ``name``, row by ``key``;
        ``types``: the restored columns' types, for values kept in another one."""
        from sqlalchemy import and_, update
        from sqlalchemy import column as sql_column
        from sqlalchemy import table as sql_table

        names = (*key, column)
        target = sql_table(table, *(sql_column(c) for c in names))
        kept = self._kept(name, names)
        value = self._restored(kept.c[column], (types or {}).get(column))
        statement = (
            update(target)
            .values({column: value})
            .where(and_(*(target.c[k] == kept.c[k] for k in key)))
        )
        return [self.compile(statement)]

    def restore_rows(
        self,
        name: str,
        table: str,
        columns: Sequence[str],
        types: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """Put the whole rows of backup ``name`` back into the rebuilt ``table``."""
        from sqlalchemy import column as sql_column
        from sqlalchemy import insert, select
        from sqlalchemy import table as sql_table

        target = sql_table(table, *(sql_column(c) for c in columns))
        kept = self._kept(name, columns)
        values = [self._restored(kept.c[c], (types or {}).get(c)) for c in columns]
        statement = insert(target).from_select(list(columns), select(*values))
        return [self.compile(statement), *self.reset_counters(table)]

    def _restored(self, kept: Any, type_: Any) -> Any:
        """A kept value as its restored column takes it (PostgreSQL: text back to an enum)."""
        from sqlalchemy import cast

        needed = self.restored_type(type_)
        return kept if needed is None else cast(kept, needed)

    def restored_type(self, type_: Any) -> Any:
        """What restoring a value into a column of type ``type_`` needs of that type: the
        type it is cast back to, or None (taken as it was kept). A script keeps of the
        types its revisions create only this (tools.scripts.capture)."""
        return None

    def ensure_backup(self, name: str, table: str, columns: Sequence[str]) -> list[str]:
        """An empty backup table ``name`` where there is none (purged, or never taken), so a
        rollback restores nothing rather than stop."""
        quote = self.sa_dialect.identifier_preparer.quote
        selected = ", ".join(quote(c) for c in columns)
        return [
            f"CREATE TABLE IF NOT EXISTS {self.backup_table(name)} AS SELECT {selected} "
            f"FROM {quote(table)} WHERE 1 = 0;"
        ]

    def drop_backup(self, name: str, *, if_exists: bool = False) -> list[str]:
        drop = "DROP TABLE IF EXISTS" if if_exists else "DROP TABLE"
        return [f"{drop} {self.backup_table(name)};"]

    def count_backup(self, name: str) -> str:
        """The query counting a backup table's rows (for a DBA, and for `schemactl backups`)."""
        from sqlalchemy import func, select, table

        schema = self.backup_schema
        full = name if schema else self.backup_prefix + name
        counted = select(func.count().label("kept")).select_from(table(full, schema=schema))
        return " ".join(self.compile(counted).split())

    def backups_sql(self) -> str:
        """The backup tables a database holds: (name, bytes or NULL), by name."""
        prefix, length = self.literal(self.backup_prefix), len(self.backup_prefix)
        return (
            "SELECT table_name, data_length + index_length FROM information_schema.tables "
            f"WHERE table_schema = DATABASE() AND LEFT(table_name, {length}) = {prefix} "
            "ORDER BY 1"
        )

    def reset_counters(self, table: str) -> list[str]:
        """What sets a table's id counters just past its largest id, after rows went in with
        their ids (a restore, a proof's generated rows): PostgreSQL's sequences. MariaDB's
        AUTO_INCREMENT and SQLite's rowid move past an id given explicitly by themselves."""
        return []

    def counters_as_fresh(self, table: str) -> list[str]:
        """What sets a table's id counters as a fresh database holding its rows would have
        them (a proof runs the same step twice and compares the ids it gave)."""
        return self.reset_counters(table)
