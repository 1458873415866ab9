"""SQLite: the sqlite3 client, a file per database, table rebuilds, BEGIN IMMEDIATE as the lock."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from tools.core.directions import AuditedStep
from tools.core.internals import copied_column
from tools.dialects.base import ClientCommand
from tools.dialects.names import (
    AUDIT_TABLE,
    AUDIT_TIMING_TABLE,
    CONTROL,
    TIMING_COLUMNS,
    _dump_file,
    _guard_message,
    _release,
    _shell,
    safe_revision,
)
from tools.dialects.scripts import ScriptDialect

if TYPE_CHECKING:
    from pathlib import Path

    from alembic.operations.ops import MigrateOperation
    from sqlalchemy.engine import URL, Engine, Inspector
    from sqlalchemy.sql import ColumnElement, Insert


@dataclass(frozen=True)
class SQLite(ScriptDialect):
    name: ClassVar[str] = "sqlite"
    title: ClassVar[str] = "SQLite"
    client: ClassVar[str] = "sqlite3"
    # How long the sqlite3 client waits for another writer's lock (.timeout).
    BUSY_MS: ClassVar[int] = 10_000
    transactional: ClassVar[bool] = True
    driver: ClassVar[str] = "pysqlite"
    family: ClassVar[frozenset[str]] = frozenset({"sqlite"})
    example_url: ClassVar[str] = "sqlite:///PATH/TO/FILE.db"
    sqlglot: ClassVar[str] = "sqlite"
    # SQLite cannot ALTER most things in place: autogenerate writes batch operations.
    batch_by_default: ClassVar[bool] = True
    # Its lock is the transaction (BEGIN IMMEDIATE): a COMMIT around an autocommit block let
    # a second client in to run the same step. SQLite has nothing such a block is for
    # (CONCURRENTLY and the like), so the block's statements stay in the transaction.
    runs_autocommit_blocks: ClassVar[bool] = False
    needs_server: ClassVar[bool] = False
    # A development database: each revision kept as it succeeds, as Django's SQLite does.
    commits_each_revision: ClassVar[bool] = True
    lint_rules: ClassVar[frozenset[str]] = frozenset({"table-rebuild", "alter-column-unsupported"})
    tool_tables: ClassVar[frozenset[str]] = frozenset({AUDIT_TABLE, AUDIT_TIMING_TABLE})

    def connect_timeout(self, seconds: float) -> dict[str, Any]:
        # How long to wait for a lock another connection holds on the file.
        return {"timeout": seconds}

    def apply_command(self, path: str) -> str:
        return f"sqlite3 -bail DATABASE_FILE < {path}"

    def needs_rebuild(self, operations: Sequence[MigrateOperation]) -> bool:
        # As Alembic's batch mode decides for SQLite (an index goes in place, the rest needs
        # a rebuild), except that whether a new column goes in place is asked of SQLite
        # itself: ADD COLUMN takes a constant default, not CURRENT_TIMESTAMP or (an expression).
        from alembic.operations import ops

        for op in operations:
            if isinstance(op, ops.CreateIndexOp | ops.DropIndexOp):
                continue
            if isinstance(op, ops.AddColumnOp) and _adds_in_place(op):
                continue
            return True
        return False

    # SQLite's literals have no escapes: the string is closed, char(13) added, and reopened.
    crlf_in_string: ClassVar[str | None] = "' || char(13) || '\n"

    def string_literal(self, value: str) -> str | None:
        if not CONTROL.search(value):
            return None
        # ('a' || char(13, 10) || 'b'): in parentheses, it stands wherever a literal does
        # in an expression, a column's DEFAULT included.
        parts = []
        for run in re.split(f"({CONTROL.pattern}+)", value):
            if not run:
                continue
            if CONTROL.match(run):
                parts.append(f"char({', '.join(str(ord(c)) for c in run)})")
            else:
                parts.append("'" + run.replace("'", "''") + "'")
        return "(" + " || ".join(parts) + ")"

    def dump_command(self, table: str) -> str:
        return f"sqlite3 DATABASE_FILE {_shell('.dump ' + table)} > {_dump_file(table)}"

    def backups_sql(self) -> str:
        prefix, length = self.literal(self.backup_prefix), len(self.backup_prefix)
        return (
            "SELECT name, NULL FROM sqlite_master WHERE type = 'table' "
            f"AND substr(name, 1, {length}) = {prefix} ORDER BY 1"
        )

    def preamble(self) -> list[str]:
        # .bail: stop at the first error even without -bail (mariadb stops at this very line,
        # psql at the lines before it). Foreign keys off before the transaction, so a table
        # rebuild cannot cascade; they are checked before COMMIT instead.
        return [
            *self.stops_psql(),
            ".bail on",
            f".timeout {self.BUSY_MS}",
            "PRAGMA foreign_keys = OFF;",
        ]

    def timeouts_in_words(self) -> str:
        return f"the database's lock is waited for {self.BUSY_MS // 1000} s at most (.timeout)"

    def begin(self) -> list[str]:
        # IMMEDIATE: the write lock is taken at BEGIN, so a second client waits here.
        return ["BEGIN IMMEDIATE;"]

    def lock(self) -> list[str]:
        # The lock itself is BEGIN IMMEDIATE (begin()); here the checks that stamps and
        # foreign keys report into: a temp table whose triggers abort on a bad count.
        return [
            "CREATE TEMP TABLE IF NOT EXISTS schemactl_check (what TEXT, n INTEGER);",
            "CREATE TEMP TRIGGER IF NOT EXISTS schemactl_check_stamp BEFORE INSERT ON "
            "schemactl_check\nWHEN NEW.what = 'stamp' AND NEW.n <> 1\nBEGIN\n    SELECT "
            "RAISE(ABORT, 'schemactl stamp: the version table did not hold the expected "
            "revision; stopped, nothing was changed');\nEND;",
            "CREATE TEMP TRIGGER IF NOT EXISTS schemactl_check_keys BEFORE INSERT ON "
            "schemactl_check\nWHEN NEW.what = 'foreign keys' AND NEW.n > 0\nBEGIN\n    SELECT "
            "RAISE(ABORT, 'schemactl: rows would break foreign keys (PRAGMA "
            "foreign_key_check); nothing was changed');\nEND;",
        ]

    def commit(self) -> list[str]:
        return [
            "INSERT INTO temp.schemactl_check SELECT 'foreign keys', count(*) "
            "FROM pragma_foreign_key_check;",
            "COMMIT;",
        ]

    def _verified(self, statement: str, old: str) -> list[str]:
        return [statement, "INSERT INTO temp.schemactl_check SELECT 'stamp', changes();"]

    def _upgrade_audit(self, online: bool) -> list[str]:
        # SQLite cannot add a column only where it is missing, and a script cannot ask: the
        # step timings get a table of their own, keyed by the audit row's id.
        from sqlalchemy.schema import CreateTable

        timing = self._tables[AUDIT_TIMING_TABLE]
        return [self.compile(CreateTable(timing, if_not_exists=True))]

    # The start is kept in a temp table, as a Julian day: SQLite's clock counts milliseconds.
    def clock_setup(self) -> list[str]:
        return [
            "CREATE TEMP TABLE IF NOT EXISTS schemactl_clock "
            "(id INTEGER PRIMARY KEY CHECK (id = 1), started REAL NOT NULL);"
        ]

    def clock_start(self) -> list[str]:
        return ["INSERT OR REPLACE INTO temp.schemactl_clock VALUES (1, julianday('now'));"]

    def last_duration_sql(self) -> str:
        return f"SELECT duration_ms FROM {AUDIT_TIMING_TABLE} ORDER BY audit_id DESC LIMIT 1"

    def audit_layout(self, inspector: Inspector) -> int | None:
        tables = set(inspector.get_table_names())
        if AUDIT_TABLE not in tables:
            return None
        return 2 if AUDIT_TIMING_TABLE in tables else 1

    def audit_rows_sql(self, layout: int) -> str:
        if layout < 2:
            return super().audit_rows_sql(layout)
        timing = ", ".join(f"t.{c}" for c in TIMING_COLUMNS)
        return (
            "SELECT a.id, a.revision, a.direction, a.revision_sha256, a.applied_at, "
            f"a.applied_by, {timing} FROM {AUDIT_TABLE} AS a "
            f"LEFT JOIN {AUDIT_TIMING_TABLE} AS t ON t.audit_id = a.id ORDER BY a.id"
        )

    def audit_statements(
        self, revision: str, direction: AuditedStep, sha256: str, release: str | None = None
    ) -> list[str]:
        row = {"revision": safe_revision(revision), "direction": direction, "sha": sha256}
        return [self._fill("audit", **row), self._fill("timing", release=_release(release))]

    _timed_shape: ClassVar[str] = "timing"

    def _timed_audit(self) -> Insert:
        # The audit row as in layout 1, then its timing: this is the second statement.
        from sqlalchemy import bindparam, column, insert, literal_column, select, table

        timing = self._tables[AUDIT_TIMING_TABLE]
        # Six digits of fraction, as SQLAlchemy writes and reads SQLite's DATETIME.
        iso = "strftime('%Y-%m-%d %H:%M:%f', {}) || '000'"
        clock = (
            select(column("started"), literal_column("julianday('now')").label("finished"))
            .select_from(table("schemactl_clock", schema="temp"))
            .subquery("clock")
        )
        values: list[ColumnElement[Any]] = [
            literal_column("last_insert_rowid()").label("audit_id"),
            literal_column(iso.format("clock.started")).label("started_at"),
            literal_column(iso.format("clock.finished")).label("finished_at"),
            literal_column("round((clock.finished - clock.started) * 86400000)").label(
                "duration_ms"
            ),
            bindparam("release").label("release_name"),
        ]
        row = select(*values).select_from(clock)
        return insert(timing).from_select(["audit_id", *TIMING_COLUMNS], row)

    def migration_engine(self, url: URL) -> Engine:
        # Python's sqlite3 opens a transaction only before a data change: DDL before one
        # would commit at once, and a revision failing halfway would keep its first ALTER.
        # The driver is told to leave transactions alone and each one begins here, taking
        # the write lock at once (as the scripts' BEGIN IMMEDIATE does).
        from sqlalchemy import event

        engine = super().migration_engine(url)

        @event.listens_for(engine, "connect")
        def _no_implicit_transactions(connection: Any, record: Any) -> None:
            connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine

    def prepare(self, url: URL) -> None:
        # "Created on demand": the file appears on first connect, but its folder must exist.
        from pathlib import Path

        if url.database not in (None, "", ":memory:"):
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)

    # A URL the warm path reads without SQLAlchemy: a file named plainly (anything else, a
    # query, ':memory:', a name with characters SQLAlchemy might read otherwise, is left to
    # SQLAlchemy).
    _PLAIN_FILE: ClassVar[re.Pattern[str]] = re.compile(r"sqlite(\+pysqlite)?:///([\w./-]+)")

    def warm_path(self, raw: str) -> str | None:
        """The file a plain ``sqlite:///PATH`` URL names, as SQLAlchemy reads it (None: a URL
        only SQLAlchemy should read)."""
        found = self._PLAIN_FILE.fullmatch(raw)
        return found.group(2) if found else None

    def warm_shown(self, path: str) -> str:
        """The URL of a file warm_path read, as people are shown it (tools.config.redact)."""
        return f"sqlite:///{path}"

    def warm_heads(self, path: str, version_table: str) -> tuple[str, ...] | None:
        """The revisions the version table of the database file holds, read with Python's own
        sqlite3, read-only (none: no file, or no such table); None where it cannot be read."""
        import os
        import sqlite3
        from urllib.parse import quote

        if not os.path.exists(path):
            return ()
        quoted = '"' + version_table.replace('"', '""') + '"'
        try:
            connection = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True)
        except sqlite3.Error:
            return None
        try:
            known = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (version_table,)
            ).fetchone()
            if known is None:
                return ()
            rows = connection.execute(f"SELECT version_num FROM {quoted}").fetchall()
        except sqlite3.Error:
            return None
        finally:
            connection.close()
        return tuple(sorted(str(row[0]) for row in rows))

    def exists(self, url: URL) -> bool:
        # Connecting would create the file: read-only commands must not.
        from pathlib import Path

        return url.database in (None, "", ":memory:") or Path(url.database).exists()

    def client_command(self, url: URL, script: Path) -> ClientCommand:
        return ClientCommand((self.client, "-bail", str(url.database)), {}, script)

    # Parse error near line 8: text   /   Runtime error near line 8: text   /   Error: ...
    _CLIENT_ERROR: ClassVar[re.Pattern[str]] = re.compile(
        r"^(?:(?:Parse|Runtime) error |Error: )(?:near line (?P<line>\d+): )?(?P<error>.*)$"
    )
    server_version_sql: ClassVar[str] = "SELECT sqlite_version()"

    def scratch_url(self, server: URL | None, name: str, folder: Path) -> URL:
        from sqlalchemy.engine import URL

        return URL.create(f"{self.name}+{self.driver}", database=str(folder / f"{name}.db"))

    def create_database(self, name: str) -> str | None:
        return None  # the file appears on first connect

    def drop_database(self, name: str) -> str | None:
        return None  # the file goes with its folder

    def guard(self, expected: Sequence[str]) -> str:
        # SQLite has no procedural SQL and RAISE() takes only a literal: the found revisions
        # are printed by a SELECT that returns a row only on a mismatch, then a trigger aborts.
        want = self.literal(",".join(safe_revision(r) for r in sorted(expected)) or "base")
        message = self.literal(
            f"schemactl guard: expected revision {_guard_message(sorted(expected))}, found the "
            "revisions printed above; nothing was changed"
        )
        found = (
            "coalesce((SELECT group_concat(version_num, ',') FROM "
            f"(SELECT version_num FROM {self.version_name} ORDER BY version_num)), 'base')"
        )
        return f"""CREATE TEMP TABLE schemactl_guard (found TEXT);
CREATE TEMP TRIGGER schemactl_guard_check BEFORE INSERT ON schemactl_guard
WHEN NEW.found IS NOT {want}
BEGIN
    SELECT RAISE(ABORT, {message});
END;
SELECT 'schemactl guard: found ' || found FROM (SELECT {found} AS found) WHERE found IS NOT {want};
INSERT INTO schemactl_guard SELECT {found};
DROP TABLE temp.schemactl_guard;"""

    def same_database(self, one: URL, other: URL) -> bool:
        """The same file, however the two paths are written (an in-memory one never is)."""
        from pathlib import Path

        names = (one.database, other.database)
        if not all(names) or ":memory:" in names:
            return False
        return Path(str(one.database)).resolve() == Path(str(other.database)).resolve()

    def _database_guard(self, names: str, message: str) -> str:
        # A row is inserted only for a version table of another database: its trigger aborts.
        return f"""CREATE TEMP TABLE schemactl_database (other TEXT);
CREATE TEMP TRIGGER schemactl_database_check BEFORE INSERT ON schemactl_database
BEGIN
    SELECT RAISE(ABORT, {message});
END;
INSERT INTO schemactl_database
    SELECT name FROM main.sqlite_master WHERE type = 'table' AND name IN ({names});
DROP TABLE temp.schemactl_database;"""


def _adds_in_place(op: Any) -> bool:
    """Whether SQLite's ALTER TABLE … ADD COLUMN takes this column on a table with rows (tried
    on a table of the same name, holding a row, in a throwaway in-memory database)."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations, ops
    from sqlalchemy import create_engine, pool
    from sqlalchemy.exc import DBAPIError

    engine = create_engine("sqlite://", poolclass=pool.StaticPool)
    try:
        with engine.begin() as connection:
            table = connection.dialect.identifier_preparer.quote_identifier(op.table_name)
            connection.exec_driver_sql(f"CREATE TABLE {table} (schemactl_probe INTEGER)")
            # With a row: on an empty table SQLite takes even a default it refuses otherwise.
            connection.exec_driver_sql(f"INSERT INTO {table} VALUES (1)")
            probe = ops.AddColumnOp(op.table_name, copied_column(op.column))
            Operations(MigrationContext.configure(connection)).invoke(probe)
    except (DBAPIError, NotImplementedError):
        return False
    finally:
        engine.dispose()
    return True
