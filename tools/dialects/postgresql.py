"""PostgreSQL: psql, advisory locks, lock and statement timeouts, a schema for backups."""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from tools.dialects.base import ClientCommand
from tools.dialects.names import (
    AUDIT_TABLE,
    BACKFILL_TABLE,
    CONTROL,
    TIMING_COLUMNS,
    UnwritableValue,
    _dump_file,
    _guard_message,
    _identifier,
    _shell,
    safe_revision,
)
from tools.dialects.observe import Observation, as_written, run
from tools.dialects.scripts import ScriptDialect

if TYPE_CHECKING:
    from collections.abc import Collection
    from pathlib import Path

    from sqlalchemy import Index
    from sqlalchemy.engine import URL, Connection
    from sqlalchemy.sql import ColumnElement
    from sqlalchemy.sql.schema import (
        CheckConstraint,
        Constraint,
        ForeignKeyConstraint,
        UniqueConstraint,
    )

    from tools.dialects.online import Backfill, Emitter, NotNull, ShadowCopy


@dataclass(frozen=True)
class PostgreSQL(ScriptDialect):
    name: ClassVar[str] = "postgresql"
    title: ClassVar[str] = "PostgreSQL"
    client: ClassVar[str] = "psql"
    transactional: ClassVar[bool] = True
    check_proves_not_null: ClassVar[bool] = True
    observes: ClassVar[bool] = True
    driver: ClassVar[str] = "psycopg"
    family: ClassVar[frozenset[str]] = frozenset({"postgresql"})
    aliases: ClassVar[dict[str, str]] = {"postgres": "postgresql"}
    setting_patterns: ClassVar[dict[str, tuple[str, str]]] = {
        "lock_timeout": (r"\d+(\.\d+)?\s*(us|ms|s|min|h|d)?", "5s"),
        "statement_timeout": (r"\d+(\.\d+)?\s*(us|ms|s|min|h|d)?", "15min"),
        # The schema the script works in (search_path): lower case, as PostgreSQL folds an
        # unquoted name; not pg_* (reserved: pg_temp would "work" and keep nothing).
        "schema": (r"(?!pg_)[a-z_][a-z0-9_$]{0,62}", "public"),
        # Which client the scripts are for: psql (its \set and \g), or plain SQL a GUI
        # client (pgAdmin, DBeaver) runs as one script.
        "client": (r"psql|plain", "plain"),
    }
    example_url: ClassVar[str] = "postgresql://USER@HOST:5432/DBNAME"
    text_holds_nul: ClassVar[bool] = False
    sqlglot: ClassVar[str] = "postgres"
    # squawk: its statement rules, on every statement a script runs (tools.lint.squawk).
    lint_rules: ClassVar[frozenset[str]] = frozenset(
        {"postgresql-locks", "postgresql-json", "enum-lifecycle", "squawk"}
    )
    _CONCURRENTLY: ClassVar[re.Pattern[str]] = re.compile(
        r"^\s*(CREATE\s+(UNIQUE\s+)?INDEX|DROP\s+INDEX|REINDEX\b.*?)\s+CONCURRENTLY\b", re.I
    )

    def connect_timeout(self, seconds: float) -> dict[str, Any]:
        # libpq's connect_timeout: whole seconds, 2 at least.
        return {"connect_timeout": max(2, round(seconds))}

    def string_literal(self, value: str) -> str | None:
        if "\x00" in value:
            raise UnwritableValue(
                f"a text value holds a NUL character, which {self.title} text cannot hold"
            )
        if not CONTROL.search(value):
            return None
        # A Unicode-escape literal (standard_conforming_strings is pinned on): still a
        # literal, so it is valid wherever one is (an enum's labels, a DEFAULT).
        body = "".join(
            f"\\{ord(c):04X}" if CONTROL.match(c) else "\\\\" if c == "\\" else c for c in value
        )
        return "U&'" + body.replace("'", "''") + "'"

    def binary_literal(self, value: bytes) -> str:
        return f"'\\x{value.hex()}'::bytea"

    @property
    def _plain(self) -> bool:
        """Scripts without psql's meta-commands, for a GUI client (client = plain)."""
        return self.settings.get("client") == "plain"

    def clients(self) -> str:
        if self._plain:
            return (
                "any PostgreSQL client that runs a file as one script and stops at the first "
                "error (pgAdmin's Query Tool, DBeaver's Execute script, psql): plain SQL, no "
                "meta-commands"
            )
        return (
            "psql, which it needs (\\set ON_ERROR_STOP, \\g); for a GUI client, render it "
            "with `client = plain` (`schemactl sql --client plain`)"
        )

    def apply_command(self, path: str) -> str:
        if self._plain:
            return f"open {path} in the client and run it as one script, stopping at any error"
        # As the MariaDB and SQLite ones: the database named where DBNAME stands, the server
        # and user as psql finds them (PGHOST, PGUSER, ~/.pgpass, -h, -U).
        return f"psql -X -v ON_ERROR_STOP=1 --dbname=DBNAME -f {path}"

    def client_command(self, url: URL, script: Path) -> ClientCommand:
        from sqlalchemy.engine import URL

        bare = URL.create("postgresql", url.username, None, url.host, url.port, url.database)
        # Secrets go in libpq's environment variables, never on the command line (ps shows it).
        query = dict(url.query)
        env: dict[str, str] = {}
        for parameter, variable in (("password", "PGPASSWORD"), ("passfile", "PGPASSFILE")):
            value = query.pop(parameter, None)
            if isinstance(value, str):
                env[variable] = value
        if url.password:
            env["PGPASSWORD"] = url.password
        libpq = bare.update_query_dict(query).render_as_string(hide_password=False)
        args = [self.client, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--dbname", libpq]
        return ClientCommand((*args, "-f", str(script)), env, None)

    # psql:FILE:LINE: ERROR:  text   (LINE is where the failing statement ends)
    _CLIENT_ERROR: ClassVar[re.Pattern[str]] = re.compile(
        r"^psql:.*?:(?P<line>\d+): (?P<error>(?:ERROR|FATAL|PANIC):.*)$"
    )
    server_version_sql: ClassVar[str] = "SHOW server_version"

    def preamble(self) -> list[str]:
        # The script stops at the first error even if psql was started without -v ON_ERROR_STOP.
        # As pg_dump does: settings that change what a statement means are pinned.
        schema = self.literal(self.settings.get("schema", "public"))
        return [
            *([] if self._plain else ["\\set ON_ERROR_STOP on"]),
            "SET client_encoding = 'UTF8';",
            "SET standard_conforming_strings = on;",
            "SET client_min_messages = warning;",
            self._quiet(f"SELECT pg_catalog.set_config('search_path', {schema}, false)"),
        ]

    def _quiet(self, select: str) -> str:
        """A SELECT run for its effect: psql is told to print nothing of it (\\g /dev/null);
        a plain script ends it as any statement (a GUI shows its one row)."""
        return f"{select};" if self._plain else f"{select} \\g /dev/null"

    def lock(self) -> list[str]:
        # Held for the session (across the COMMITs of steps that run outside a transaction);
        # taken inside the first transaction, so lock_timeout bounds the wait.
        return [self._quiet(f"SELECT pg_catalog.pg_advisory_lock({self.lock_key})")]

    def unlock(self) -> list[str]:
        return [self._quiet(f"SELECT pg_catalog.pg_advisory_unlock({self.lock_key})")]

    def _verified(self, statement: str, old: str) -> list[str]:
        message = self._quote(
            f"schemactl stamp: {self.version_name} did not hold {old}; stopped, nothing of "
            "this step was kept"
        )
        return [
            "DO $schemactl_stamp$\nBEGIN\n    "
            + statement
            + f"\n    IF NOT FOUND THEN\n        RAISE EXCEPTION {message};\n    END IF;\nEND\n"
            "$schemactl_stamp$;"
        ]

    def begin(self) -> list[str]:
        return ["BEGIN;", *self.timeouts()]

    def timeouts(self, scope: str = "LOCAL") -> list[str]:
        # A DDL statement waiting for a lock queues every later writer behind it: better to
        # fail fast, and retry at a quieter moment, than to stall the application. ``scope``:
        # LOCAL for a script's transaction, SESSION for an online command's connection.
        lock, statement = (self.literal(value) for value in self._timeout_settings)
        return [
            f"SET {scope} lock_timeout = {lock};",
            f"SET {scope} statement_timeout = {statement};",
        ]

    def outside_transaction(self) -> list[str]:
        # SET LOCAL ended with the transaction: the same timeouts, for the session.
        return self.timeouts("SESSION")

    @property
    def _timeout_settings(self) -> tuple[str, str]:
        """lock_timeout and statement_timeout, as the environment sets them or by default."""
        return (
            self.settings.get("lock_timeout", "5s"),
            self.settings.get("statement_timeout", "15min"),
        )

    def timeouts_in_words(self) -> str:
        lock, statement = self._timeout_settings
        return (
            f"a lock is waited for {lock} at most (lock_timeout), a statement runs "
            f"{statement} at most (statement_timeout), steps outside the transaction included"
        )

    def bookkeeping(self, statement: str) -> str:
        """Each line squawk's style rules would flag in schemactl's own statements (a
        VARCHAR, a SERIAL) preceded by squawk's ignore comment for those rules (squawk reads
        one for the line after it), so squawk run over a script judges only the revisions'
        statements (tests/test_scripts.py runs it)."""
        lines = []
        for line in statement.splitlines():
            rules = [rule for rule, pattern in _SQUAWK_STYLE if pattern.search(line)]
            if rules:
                indent = line[: len(line) - len(line.lstrip())]
                lines.append(f"{indent}-- squawk-ignore {', '.join(rules)}")
            lines.append(line)
        return "\n".join(lines)

    def guard(self, expected: Sequence[str]) -> str:
        want = self.literal(",".join(safe_revision(r) for r in sorted(expected)))
        shown = self.literal(_guard_message(sorted(expected)))
        return f"""DO $schemactl_guard$
DECLARE
    found text := '';
BEGIN
    IF to_regclass({self.literal(self.version_name)}) IS NOT NULL THEN
        EXECUTE 'SELECT coalesce(string_agg(version_num, '','' ORDER BY version_num), '''') '
             || 'FROM {self._in_string(self.version_name)}' INTO found;
    END IF;
    IF found IS DISTINCT FROM {want} THEN
        RAISE EXCEPTION 'schemactl guard: expected revision %, found %; nothing was changed',
            {shown}, coalesce(nullif(found, ''), 'base (no revision)');
    END IF;
END
$schemactl_guard$;"""

    def _database_guard(self, names: str, message: str) -> str:
        return f"""DO $schemactl_database$
BEGIN
    IF EXISTS (SELECT 1 FROM unnest(ARRAY[{names}]) AS other(name)
               WHERE to_regclass(pg_catalog.quote_ident(other.name)) IS NOT NULL) THEN
        RAISE EXCEPTION '%', {message};
    END IF;
END
$schemactl_database$;"""

    def applied_by(self) -> ColumnElement[Any]:
        from sqlalchemy import literal_column

        return literal_column("session_user")

    def _upgrade_audit(self, online: bool) -> list[str]:
        names = ", ".join(self.literal(name) for name in TIMING_COLUMNS)
        table = self.literal(AUDIT_TABLE)
        return [
            "DO $schemactl_audit$\nBEGIN\n"
            "    IF (SELECT count(*) FROM pg_catalog.pg_attribute\n"
            f"        WHERE attrelid = {table}::regclass AND NOT attisdropped\n"
            f"          AND attname IN ({names})) < {len(TIMING_COLUMNS)} THEN\n"
            f"        {self._add_timing_columns()}\n"
            "    END IF;\nEND\n$schemactl_audit$;"
        ]

    # The start is kept in a setting of the session (it outlives the COMMIT a step that runs
    # outside a transaction needs), as seconds since the epoch: no DateStyle can misread it.
    def clock_start(self) -> list[str]:
        return [
            "DO $schemactl_clock$ BEGIN PERFORM pg_catalog.set_config('schemactl.step_started', "
            "extract(epoch FROM pg_catalog.clock_timestamp())::text, false); END $schemactl_clock$;"
        ]

    _clock_started: ClassVar[str] = (
        "pg_catalog.to_timestamp(pg_catalog.current_setting('schemactl.step_started')::float8)"
    )
    _clock_now: ClassVar[str] = "pg_catalog.clock_timestamp()"

    @property
    def backup_schema(self) -> str:
        # One per schema an environment works in: two environments in different schemas of
        # one database never share (or drop) each other's backups.
        schema = self._schema()
        if schema is None:
            return "schemactl_backup"
        name = f"schemactl_backup_{schema}"
        if len(name) > 63:
            digest = hashlib.sha256(schema.encode()).hexdigest()[:8]
            name = f"{name[:54]}_{digest}"
        return name

    def backup_setup(self) -> list[str]:
        quote = self.sa_dialect.identifier_preparer.quote
        return [f"CREATE SCHEMA IF NOT EXISTS {quote(self.backup_schema)};"]

    def backup_statements(
        self, name: str, table: str, columns: Sequence[str] | None, *, keep_existing: bool = False
    ) -> list[str]:
        # An enum column kept as its enum would make the backup depend on the type, and a
        # revision that drops the type after the table fail: enums are kept as text.
        table_name = self.literal(self.backup_table(name))
        return [
            *super().backup_statements(name, table, columns, keep_existing=keep_existing),
            "DO $schemactl_backup$\nDECLARE\n    found record;\nBEGIN\n"
            "    FOR found IN SELECT a.attname FROM pg_catalog.pg_attribute a\n"
            "        JOIN pg_catalog.pg_type t ON t.oid = a.atttypid\n"
            f"        WHERE a.attrelid = {table_name}::regclass AND a.attnum > 0\n"
            "          AND NOT a.attisdropped AND t.typtype = 'e' LOOP\n"
            "        EXECUTE format('ALTER TABLE %s ALTER COLUMN %I TYPE text', "
            f"{table_name}, found.attname);\n"
            "    END LOOP;\nEND\n$schemactl_backup$;",
        ]

    def restored_type(self, type_: Any) -> Any:
        """A named enum: a value kept as text is cast back to it."""
        from sqlalchemy import Enum

        return type_ if isinstance(type_, Enum) and type_.name and type_.native_enum else None

    def dump_command(self, table: str) -> str:
        return f"pg_dump --dbname=DBNAME --table={_shell(table)} --file={_dump_file(table)}"

    def size_query(self, tables: Sequence[str]) -> str:
        names = ", ".join(self.literal(t) for t in tables)
        return (
            "SELECT c.relname AS table_name, c.reltuples::bigint AS row_estimate,\n"
            "       pg_catalog.pg_size_pretty(pg_catalog.pg_total_relation_size(c.oid)) "
            "AS size_with_indexes\n"
            "FROM pg_catalog.pg_class c\n"
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
            f"WHERE n.nspname = current_schema() AND c.relname IN ({names})\n"
            "ORDER BY pg_catalog.pg_total_relation_size(c.oid) DESC;"
        )

    def backups_sql(self) -> str:
        return (
            "SELECT c.relname, pg_catalog.pg_total_relation_size(c.oid) FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE n.nspname = {self.literal(self.backup_schema)} AND c.relkind = 'r' ORDER BY 1"
        )

    def reset_counters(self, table: str) -> list[str]:
        # Rows put back with their ids: a serial or identity column's sequence must move past
        # them, or the application's next INSERT collides. regclass and
        # pg_get_serial_sequence read a name as SQL writes it (quoted where it must be).
        named = self.literal(self.sa_dialect.identifier_preparer.quote(table))
        return [
            "DO $schemactl_restore$\nDECLARE\n    found record;\nBEGIN\n"
            "    FOR found IN SELECT a.attname, pg_catalog.pg_get_serial_sequence("
            f"{named}, a.attname) AS seq\n"
            f"        FROM pg_catalog.pg_attribute a WHERE a.attrelid = {named}::regclass\n"
            "          AND a.attnum > 0 AND NOT a.attisdropped LOOP\n"
            "        IF found.seq IS NOT NULL THEN\n"
            "            EXECUTE format('SELECT pg_catalog.setval(%L, coalesce(max(%I), 0) + 1, "
            f"false) FROM %I', found.seq, found.attname, {self.literal(table)});\n"
            "        END IF;\n    END LOOP;\nEND\n$schemactl_restore$;"
        ]

    def online_session(self) -> list[str]:
        # For the session, not SET LOCAL: an env.py may run each revision in a transaction of
        # its own.
        timeouts = self.timeouts("SESSION")
        message = self.literal(
            "schemactl lock: another client is migrating this database (waited lock_timeout); "
            "nothing was changed"
        )
        lock = (
            "DO $schemactl_lock$\nBEGIN\n"
            f"    PERFORM pg_catalog.pg_advisory_lock({self.lock_key});\n"
            f"EXCEPTION WHEN lock_not_available THEN\n    RAISE EXCEPTION {message};\n"
            "END\n$schemactl_lock$"
        )
        return [*timeouts, lock]

    def _duration_ms(self, started: str, finished: str) -> str:
        return f"round((extract(epoch FROM {finished}) - extract(epoch FROM {started})) * 1000, 3)"

    def non_transactional(self, statement: str) -> bool:
        return bool(self._CONCURRENTLY.match(statement))

    databases_sql: ClassVar[str | None] = "SELECT datname FROM pg_catalog.pg_database"

    def drop_database(self, name: str) -> str:
        # A connection the scratch run left open must not keep the database alive.
        return f"DROP DATABASE IF EXISTS {_identifier(name)} WITH (FORCE)"

    def _schema(self) -> str | None:
        schema = self.settings.get("schema", "public").strip()
        return None if schema == "public" else schema

    def scratch_setup(self) -> list[str]:
        schema = self._schema()
        quoted = self.sa_dialect.identifier_preparer.quote_identifier
        return [f"CREATE SCHEMA IF NOT EXISTS {quoted(schema)}"] if schema else []

    def session_url(self, url: URL) -> URL:
        # Pinned, as the scripts pin it: a role's own search_path must not decide where
        # the migrations' tables go or which of them are read back.
        schema = self._schema() or "public"
        return url.update_query_dict({"options": f"-csearch_path={schema}"})

    def unchecked_constraints(self, connection: Connection) -> set[tuple[str, str]]:
        # SQLAlchemy's reflection says NOT VALID of a CHECK, not of a foreign key: asked here.
        from sqlalchemy import text

        found = connection.execute(
            text(
                "SELECT c.relname, k.conname FROM pg_catalog.pg_constraint k "
                "JOIN pg_catalog.pg_class c ON c.oid = k.conrelid "
                "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                "WHERE NOT k.convalidated AND n.nspname = current_schema()"
            )
        )
        return {(str(table), str(name)) for table, name in found}

    # -- safe forms (tools.dialects.online) -------------------------------------------------------

    def create_index(self, emit: Emitter, index: Index) -> None:
        """Built CONCURRENTLY, outside a transaction: writes go on while it is built (a
        failure leaves an INVALID index, which `schemactl recover` drops)."""
        from sqlalchemy.schema import CreateIndex

        index.dialect_kwargs["postgresql_concurrently"] = True
        emit.run(CreateIndex(index), outside=True)

    def drop_index(self, emit: Emitter, index: Index) -> None:
        from sqlalchemy.schema import DropIndex

        index.dialect_kwargs["postgresql_concurrently"] = True
        emit.run(DropIndex(index), outside=True)

    def create_foreign_key(self, emit: Emitter, key: ForeignKeyConstraint) -> None:
        """Added NOT VALID (a brief lock, no scan), then validated in a transaction of its
        own, which reads every row under a lock that lets writes go on."""
        self._add_then_validate(emit, key)

    def create_check(self, emit: Emitter, check: CheckConstraint, copy: ShadowCopy) -> None:
        self._add_then_validate(emit, check)

    def create_unique(self, emit: Emitter, unique: UniqueConstraint) -> None:
        """A unique index built CONCURRENTLY, then made the constraint (USING INDEX: no
        scan, a brief lock)."""
        from sqlalchemy import Index
        from sqlalchemy.schema import CreateIndex

        # Made of the table's columns, the index is the table's (a copy Alembic built).
        index = Index(str(unique.name), *unique.columns, unique=True, postgresql_concurrently=True)
        emit.run(CreateIndex(index), outside=True)
        name = self._ident(str(unique.name))
        where = self._qualified(unique.table)
        emit.run(f"ALTER TABLE {where} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}")

    def set_not_null(self, emit: Emitter, change: NotNull) -> None:
        """A CHECK (column IS NOT NULL) added NOT VALID and validated on its own (writes go
        on), which lets SET NOT NULL skip its scan (PostgreSQL 12+); the CHECK is then
        dropped."""
        from alembic.ddl.base import ColumnNullable
        from sqlalchemy import CheckConstraint
        from sqlalchemy.schema import DropConstraint

        column, table = change.column, change.table
        name = self.check_name(table.name, column.name)
        check = CheckConstraint(column.isnot(None), name=name)
        table.append_constraint(check)  # the table is a copy Alembic built for the operation
        self._add_then_validate(emit, check)
        emit.run(ColumnNullable(table.name, column.name, False, schema=table.schema))
        emit.run(DropConstraint(check))

    def backfill(self, emit: Emitter, backfill: Backfill) -> None:
        """A loop outside any transaction (a DO block may COMMIT there, PostgreSQL 11+), one
        transaction per batch of keys, without statement_timeout (the loop is one statement;
        lock_timeout still holds for each batch), which is set back after. Each batch
        writes how far it went into schemactl_backfill in its own transaction: run again
        after a stop, the loop goes on from there (a run that finished is not resumed)."""
        table, key = self._qualified(backfill.table), self._ident(backfill.key)
        update = self.backfill_update(backfill, ("low", "low + step"))
        label, name = self.literal(self.backfill_label(backfill)), self.literal(backfill.table.name)
        progress = BACKFILL_TABLE
        # The body's quotes: a tag the UPDATE (the developer's SQL) does not hold.
        tags = (f"$schemactl_backfill{n or ''}$" for n in itertools.count())
        tag = next(t for t in tags if t not in update)
        loop = f"""DO {tag}
DECLARE
    low bigint;
    high bigint;
    run integer;
    changed bigint;
    step constant bigint := {int(backfill.batch_size)};
BEGIN
    SELECT id, done_to, {progress}.high INTO run, low, high FROM {progress}
        WHERE label = {label} AND finished_at IS NULL ORDER BY id DESC LIMIT 1;
    IF run IS NULL THEN
        SELECT min({key}), max({key}) INTO low, high FROM {table};
        INSERT INTO {progress} (label, table_name, done_to, high, rows_done, started_at,
                                updated_at)
            VALUES ({label}, {name}, low, high, 0, clock_timestamp(), clock_timestamp())
            RETURNING id INTO run;
        COMMIT;
    END IF;
    WHILE low <= high LOOP
        {update};
        GET DIAGNOSTICS changed = ROW_COUNT;
        UPDATE {progress} SET done_to = low + step, rows_done = rows_done + changed,
            updated_at = clock_timestamp() WHERE id = run;
        COMMIT;
        low := low + step;
    END LOOP;
    UPDATE {progress} SET finished_at = clock_timestamp(), updated_at = clock_timestamp()
        WHERE id = run;
    COMMIT;
END
{tag}"""
        emit.run(self.backfill_progress())
        emit.run("SET SESSION statement_timeout = 0", outside=True)
        emit.run(loop, outside=True)
        emit.run(self.timeouts("SESSION")[1].rstrip(";"), outside=True)

    def _add_then_validate(self, emit: Emitter, constraint: Constraint) -> None:
        from sqlalchemy.schema import AddConstraint

        constraint.dialect_kwargs["postgresql_not_valid"] = True
        emit.run(AddConstraint(constraint))
        name = self._ident(str(constraint.name))
        where = self._qualified(constraint.table)
        emit.run(f"ALTER TABLE {where} VALIDATE CONSTRAINT {name}", outside=True)

    # -- observing a statement (tools.dialects.observe) ------------------------------------------

    # Each table's storage file: a statement that rewrites a table gives it a new one.
    _FILES: ClassVar[str] = (
        "SELECT c.relname, c.relfilenode FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname = current_schema()"
    )
    # The locks this session holds on the schema's tables (granted, before commit).
    _LOCKS: ClassVar[str] = (
        "SELECT c.relname, l.mode FROM pg_catalog.pg_locks l "
        "JOIN pg_catalog.pg_class c ON c.oid = l.relation "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE l.pid = pg_catalog.pg_backend_pid() AND l.granted "
        "AND c.relkind IN ('r', 'p', 'm') AND n.nspname = current_schema()"
    )

    # The rows each table's scans read in this transaction so far.
    _SCANS: ClassVar[str] = (
        "SELECT relname, seq_scan, seq_tup_read FROM pg_catalog.pg_stat_xact_user_tables "
        "WHERE schemaname = current_schema()"
    )

    def _files(self, connection: Connection) -> dict[str, int]:
        return {str(t): int(f) for t, f in connection.exec_driver_sql(self._FILES)}

    def _scans(self, connection: Connection) -> dict[str, tuple[int, int]]:
        return {str(t): (int(n), int(r)) for t, n, r in connection.exec_driver_sql(self._SCANS)}

    def observe(
        self,
        connection: Connection,
        sql: str,
        *,
        autocommit: bool = False,
        fresh: Collection[str] = (),
    ) -> Observation:
        """The tables the statement rewrote (a new relfilenode), those whose rows it scanned
        (this transaction's pg_stat_xact_user_tables) and the strongest lock its transaction
        held on each while it ran (pg_locks of this backend): as in the script, a revision's
        statements share one transaction, and a lock an earlier one took is still held. A
        statement outside a transaction (CONCURRENTLY) commits what came before, as the
        script does, and holds none by the time it returns: its locks and scans are not read.
        A table in ``fresh`` (made in this transaction) is set apart: no one else sees it."""
        if autocommit:
            before = self._files(connection)
            run(connection, sql, autocommit=True)
            after = self._files(connection)
            rewritten = {t for t, f in after.items() if t in before and before[t] != f}
            return Observation(
                measured=True,
                rewritten=tuple(sorted(rewritten - set(fresh))),
                locks_read=False,
                rewrites=bool(rewritten - set(fresh)),
                fresh=tuple(sorted(rewritten & set(fresh))),
            )
        before, scans = self._files(connection), self._scans(connection)
        connection.exec_driver_sql(as_written(connection, sql))
        locks = [(str(t), str(m)) for t, m in connection.exec_driver_sql(self._LOCKS).all()]
        scanned = {
            table
            for table, (count, rows) in self._scans(connection).items()
            if (count, rows) > scans.get(table, (0, 0))
        }
        after = self._files(connection)
        strongest: dict[str, str] = {}
        for table, mode in locks:
            if table not in strongest or LOCK_MODES.index(mode) > LOCK_MODES.index(
                strongest[table]
            ):
                strongest[table] = mode
        rewritten = {t for t, f in after.items() if t in before and before[t] != f}
        worked = rewritten | scanned  # tables whose rows it went through, under its lock
        new = {t for t in worked if t in fresh or t not in before}  # made in this transaction
        rewritten, scanned, worked = rewritten - new, scanned - new, worked - new
        return Observation(
            measured=True,
            rewritten=tuple(sorted(rewritten)),
            scanned=tuple(sorted(scanned - rewritten)),
            locks=tuple(
                sorted(
                    (t, lock_words(m)) for t, m in strongest.items() if t not in new | set(fresh)
                )
            ),
            fresh=tuple(sorted(new)),
            rewrites=bool(rewritten),
            blocks_writes=any(
                LOCK_MODES.index(mode) >= LOCK_MODES.index("ShareLock")
                for table, mode in strongest.items()
                if table in worked
            ),
        )


# squawk's style rules and the column types they flag in schemactl's own tables.
_SQUAWK_STYLE = (
    ("prefer-bigint-over-int", re.compile(r"\b(SERIAL|INTEGER|INT)\b", re.I)),
    ("prefer-identity", re.compile(r"\bSERIAL\b", re.I)),
    ("prefer-text-field", re.compile(r"\bVARCHAR\b", re.I)),
    ("prefer-timestamp-tz", re.compile(r"\bTIMESTAMP\b(?!\s+WITH\s+TIME\s+ZONE)", re.I)),
)


# PostgreSQL's table lock modes, weakest first, as pg_locks names them.
LOCK_MODES = (
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)


def lock_words(mode: str) -> str:
    """A lock mode as the manual writes it: AccessExclusiveLock -> ACCESS EXCLUSIVE."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", mode.removesuffix("Lock")).upper()
