"""MariaDB and MySQL: the mariadb/mysql client, GET_LOCK, lock_wait_timeout, sql_mode."""

from __future__ import annotations

import itertools
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from tools.core.internals import share_pymysql_tls_context
from tools.dialects.base import ClientCommand
from tools.dialects.names import (
    AUDIT_TABLE,
    BACKFILL_TABLE,
    CONTROL,
    TIMING_COLUMNS,
    _dump_file,
    _guard_message,
    _shell,
    safe_revision,
)
from tools.dialects.observe import Observation, run
from tools.dialects.scripts import ScriptDialect

if TYPE_CHECKING:
    from collections.abc import Collection
    from pathlib import Path

    from sqlalchemy import Index
    from sqlalchemy.engine import URL, Connection, Engine
    from sqlalchemy.sql import ColumnElement
    from sqlalchemy.sql.schema import CheckConstraint, ForeignKeyConstraint, UniqueConstraint

    from tools.dialects.online import Backfill, Emitter, NotNull, ShadowCopy


@dataclass(frozen=True)
class MariaDB(ScriptDialect):
    name: ClassVar[str] = "mariadb"
    title: ClassVar[str] = "MariaDB"
    client: ClassVar[str] = "mariadb"
    # MariaDB commits every DDL statement: a script cannot be all or nothing.
    transactional: ClassVar[bool] = False
    observes: ClassVar[bool] = True
    fills_not_null_columns: ClassVar[bool] = True
    driver: ClassVar[str] = "pymysql"
    family: ClassVar[frozenset[str]] = frozenset({"mariadb", "mysql"})
    example_url: ClassVar[str] = "mariadb://USER@HOST:3306/DBNAME"
    setting_patterns: ClassVar[dict[str, tuple[str, str]]] = {
        "lock_wait_timeout": (r"[1-9]\d{0,7}", "10"),
    }
    databases_sql: ClassVar[str | None] = "SHOW DATABASES"
    sqlglot: ClassVar[str] = "mysql"
    lint_rules: ClassVar[frozenset[str]] = frozenset(
        {"index-needed-by-foreign-key", "table-copy", "implicit-commit"}
    )

    def connect_timeout(self, seconds: float) -> dict[str, Any]:
        return {"connect_timeout": max(1, round(seconds)), "read_timeout": seconds}

    def apply_command(self, path: str) -> str:
        return f"mariadb --database=DBNAME < {path}"

    # The escapes a string literal has (the script pins a sql_mode without
    # NO_BACKSLASH_ESCAPES); any other control character makes the value a hex literal.
    _ESCAPES: ClassVar[dict[str, str]] = {"\x00": "\\0", "\b": "\\b", "\r": "\\r", "\x1a": "\\Z"}
    crlf_in_string: ClassVar[str | None] = "\\r\n"

    def string_literal(self, value: str) -> str | None:
        found = set(CONTROL.findall(value))
        if not found:
            return None
        if not found <= set(self._ESCAPES):
            return f"_utf8mb4 X'{value.encode().hex().upper()}'"
        body = value.replace("\\", "\\\\").replace("'", "''")
        for character, escape in self._ESCAPES.items():
            body = body.replace(character, escape)
        return f"'{body}'"

    def size_query(self, tables: Sequence[str]) -> str:
        names = ", ".join(self.literal(t) for t in tables)
        return (
            "SELECT table_name, table_rows AS row_estimate,\n"
            "       ROUND((data_length + index_length) / 1048576, 1) AS mb_with_indexes\n"
            "FROM information_schema.tables\n"
            f"WHERE table_schema = DATABASE() AND table_name IN ({names})\n"
            "ORDER BY data_length + index_length DESC;"
        )

    def dump_command(self, table: str) -> str:
        return f"mariadb-dump --single-transaction DBNAME {_shell(table)} > {_dump_file(table)}"

    def counters_as_fresh(self, table: str) -> list[str]:
        # InnoDB keeps its counter past a deleted largest id; a value at or below the largest
        # id in use sets it just past that id.
        quote = self.sa_dialect.identifier_preparer.quote
        return [f"ALTER TABLE {quote(table)} AUTO_INCREMENT = 1"]

    def describe_error(self, error: BaseException) -> str:
        # PyMySQL's errors are (code, message) tuples: show the message, then the code.
        args: tuple[Any, ...] = getattr(error, "args", ())
        if len(args) == 2 and isinstance(args[0], int) and isinstance(args[1], str):
            return f"{args[1]} (error {args[0]})"
        return super().describe_error(error)

    def client_command(self, url: URL, script: Path) -> ClientCommand:
        # --no-defaults: no option file of the machine's changes how the script runs.
        args = [self.client, "--no-defaults"]
        if url.host:
            args += [f"--host={url.host}", f"--port={url.port or 3306}"]
        if url.username:
            args.append(f"--user={url.username}")
        given = url.query.get("password")  # a URL may carry it as a parameter too
        password = url.password or (given if isinstance(given, str) else None)
        env = {"MYSQL_PWD": password} if password else {}
        return ClientCommand((*args, str(url.database)), env, script)

    # ERROR 1553 (HY000) at line 57: text   (the line where the failing statement starts)
    _CLIENT_ERROR: ClassVar[re.Pattern[str]] = re.compile(
        r"^(?P<error>ERROR \d+ \(\w+\)) at line (?P<line>\d+): (?P<message>.*)$"
    )

    # MariaDB 10.11's default sql_mode, less NO_AUTO_CREATE_USER (MySQL 8 removed it and
    # refuses a sql_mode naming it; it only stops GRANT creating users); never with
    # NO_BACKSLASH_ESCAPES, which would change what the literals in a script (written with
    # backslash escapes) mean.
    SQL_MODE: ClassVar[str] = (
        "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"
    )

    @property
    def _lock_wait(self) -> int:
        """lock_wait_timeout in seconds, as the environment sets it or by default."""
        return int(self.settings.get("lock_wait_timeout", "10"))

    # What a MySQL server says when given a script: its guard and lock are MariaDB's compound
    # statements (BEGIN NOT ATOMIC), which MySQL does not run. The error names a table that
    # holds the message (an identifier may hold any character; at most 64).
    NOT_MYSQL = "schemactl: a MariaDB script; refused on MySQL, nothing changed"

    def server_check(self, condition: str = "VERSION() LIKE '%MariaDB%'") -> list[str]:
        """Statements that stop a script at once, with nothing changed and a message, on a
        server that is not MariaDB (MySQL 8 runs them: plain SET, PREPARE and EXECUTE)."""
        return [f"{line};" for line in self.refuse_unless(condition, self.NOT_MYSQL, "server")]

    # A statement whose body holds statements of its own: the client would end it at the
    # first ';' of its body.
    _COMPOUND: ClassVar[re.Pattern[str]] = re.compile(
        r"^\s*(BEGIN\s+NOT\s+ATOMIC\b|CREATE\s+(OR\s+REPLACE\s+)?(DEFINER\s*=\s*\S+\s+)?"
        r"(PROCEDURE|FUNCTION|TRIGGER|EVENT)\b)",
        re.I,
    )

    def script_statement(self, sql: str) -> str:
        """A compound statement between DELIMITER lines, so the mariadb client sends it
        whole (a driver takes it as it is)."""
        body = sql.rstrip().removesuffix(";").rstrip()
        if not self._COMPOUND.match(sql) or ";" not in body:
            return sql
        ends = itertools.chain(("//", "$$"), (f"$schemactl_{n}$" for n in itertools.count()))
        end = next(d for d in ends if d not in body)
        return f"DELIMITER {end}\n{body} {end}\nDELIMITER ;"

    def refuse_unless(self, condition: str, message: str, name: str) -> list[str]:
        """Statements that stop the script where ``condition`` is false: the server reads a
        table named ``message`` (at most 64 characters, no backtick), which no database
        has, and its error says the message. ``name`` names the statement prepared."""
        assert "`" not in message and len(message) <= 64, message
        refuse = f"SELECT 1 FROM `{message}`"
        return [
            f"SET @schemactl_{name} = IF({condition}, 'DO 0', {self.literal(refuse)})",
            f"PREPARE schemactl_{name}_check FROM @schemactl_{name}",
            f"EXECUTE schemactl_{name}_check",
            f"DEALLOCATE PREPARE schemactl_{name}_check",
        ]

    def run_whole(self, emit: Emitter, block: str, name: str, what: str) -> None:
        """A compound statement (BEGIN NOT ATOMIC ... END), then a check that it ran to its
        end: a KILL QUERY stops one midway without an error the mariadb client stops on
        (it goes on with the next statement, seen on 10.11), so the block says it ended in
        a session variable, and the script stops where it did not. ``what`` names it in the
        message (the script, run again, starts it over)."""
        flag = f"@schemactl_{name}_ended"
        body = block.rstrip().removesuffix("END").rstrip()
        emit.run(f"SET {flag} = 0")
        emit.run(f"{body}\n    SET {flag} = 1;\nEND")
        message = f"schemactl: {what} stopped before its end; run the script again"
        for line in self.refuse_unless(f"{flag} = 1", message.replace("`", "")[:64], name):
            emit.run(line)

    def clients(self) -> str:
        return (
            f"{self.client}, on a MariaDB server (tested on 10.11); a MySQL server refuses it "
            "at its first statement, with nothing changed"
        )

    def preamble(self) -> list[str]:
        wait = self._lock_wait
        return [
            *self.stops_psql(),
            *self.server_check(),
            "SET NAMES utf8mb4;",
            f"SET SESSION lock_wait_timeout = {wait};",
            f"SET SESSION sql_mode = {self.literal(self.SQL_MODE)};",
        ]

    @property
    def _lock_name(self) -> str:
        return f"CONCAT('schemactl:', DATABASE(), ':', {self.literal(self.version_name)})"

    def lock(self) -> list[str]:
        message = self.literal(
            "schemactl lock: another client is applying a script to this database; nothing "
            "was changed"
        )
        return ["DELIMITER //\n" + self._lock_block(message) + " //\nDELIMITER ;"]

    def _lock_block(self, message: str) -> str:
        wait = self._lock_wait
        return (
            "BEGIN NOT ATOMIC\n"
            f"    IF GET_LOCK({self._lock_name}, {wait}) IS NOT TRUE THEN\n"
            f"        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = {message};\n"
            "    END IF;\nEND"
        )

    def prepare_driver(self) -> None:
        # PyMySQL builds a TLS context per connection (20-35 ms of CPU); one, shared.
        share_pymysql_tls_context()

    def migration_engine(self, url: URL) -> Engine:
        # READ COMMITTED: the version table read again under the lock sees what a client that
        # held the lock committed (REPEATABLE READ kept the snapshot of the first read, taken
        # before the wait, and three clients ran one data migration three times). The
        # scripts' sql_mode is set before SQLAlchemy reads it, so both agree on quoting.
        from sqlalchemy import event

        engine = self.engine(url, isolation_level="READ COMMITTED")
        mode = self.SQL_MODE

        @event.listens_for(engine, "connect", insert=True)
        def _session(connection: Any, record: Any) -> None:
            cursor = connection.cursor()
            try:
                cursor.execute("SET NAMES utf8mb4")
                cursor.execute("SET SESSION sql_mode = %s", (mode,))
            finally:
                cursor.close()

        return engine

    def timeouts_in_words(self) -> str:
        wait = self._lock_wait
        return f"a lock is waited for {wait} s at most (lock_wait_timeout, for the session)"

    def online_session(self) -> list[str]:
        wait = self._lock_wait
        message = self.literal(
            "schemactl lock: another client is migrating this database; nothing was changed"
        )
        return [f"SET SESSION lock_wait_timeout = {wait}", self._lock_block(message)]

    def unlock(self) -> list[str]:
        return [f"DO RELEASE_LOCK({self._lock_name});"]

    def _verified(self, statement: str, old: str) -> list[str]:
        message = self._quote(f"schemactl stamp: {self.version_name} did not hold {old}; stopped")
        return [
            "DELIMITER //\nBEGIN NOT ATOMIC\n    " + statement + "\n    IF ROW_COUNT() <> 1 THEN\n"
            f"        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = {message};\n"
            "    END IF;\nEND //\nDELIMITER ;"
        ]

    def guard(self, expected: Sequence[str]) -> str:
        want = self.literal(",".join(safe_revision(r) for r in sorted(expected)))
        shown = self.literal(_guard_message(sorted(expected)))
        schema = (
            self.literal(self.version_table_schema) if self.version_table_schema else "DATABASE()"
        )
        table = self.literal(self.version_table)
        source = self._in_string(self.version_name)
        return f"""DELIMITER //
BEGIN NOT ATOMIC
    DECLARE found TEXT DEFAULT '';
    IF EXISTS (SELECT 1 FROM information_schema.tables
               WHERE table_schema = {schema} AND table_name = {table}) THEN
        EXECUTE IMMEDIATE CONCAT('SELECT COALESCE(GROUP_CONCAT(version_num ORDER BY version_num ',
            'SEPARATOR '',''), '''') INTO @schemactl_found FROM {source}');
        SET found = @schemactl_found;
    END IF;
    IF found <> {want} THEN
        SET @schemactl_message = CONCAT('schemactl guard: expected revision ', {shown},
            ', found ', IF(found = '', 'base (no revision)', found), '; nothing was changed');
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = @schemactl_message;
    END IF;
END //
DELIMITER ;"""

    def _database_guard(self, names: str, message: str) -> str:
        return f"""DELIMITER //
BEGIN NOT ATOMIC
    IF EXISTS (SELECT 1 FROM information_schema.tables
               WHERE table_schema = DATABASE() AND table_name IN ({names})) THEN
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = {message};
    END IF;
END //
DELIMITER ;"""

    def applied_by(self) -> ColumnElement[Any]:
        from sqlalchemy import literal_column

        return literal_column("USER()")

    def _upgrade_audit(self, online: bool) -> list[str]:
        # ALTER TABLE waits for every open transaction that read the table (a metadata
        # lock), and commits: only when a column is missing.
        names = ", ".join(self.literal(name) for name in TIMING_COLUMNS)
        table = self.literal(AUDIT_TABLE)
        block = (
            "BEGIN NOT ATOMIC\n"
            "    IF (SELECT COUNT(*) FROM information_schema.columns\n"
            f"        WHERE table_schema = DATABASE() AND table_name = {table}\n"
            f"          AND column_name IN ({names})) < {len(TIMING_COLUMNS)} THEN\n"
            f"        {self._add_timing_columns()}\n"
            "    END IF;\nEND"
        )
        return [block] if online else ["DELIMITER //\n" + block + " //\nDELIMITER ;"]

    # SYSDATE(6), not NOW(6): the moment it runs, not the statement's start. Both ends are
    # kept in user variables, whose values a statement-based replica receives with the
    # INSERT (SYSDATE() in the INSERT itself would be read again on the replica).
    def clock_start(self) -> list[str]:
        return ["SET @schemactl_started = SYSDATE(6);"]

    def _clock_stop(self) -> list[str]:
        return ["SET @schemactl_finished = SYSDATE(6);"]

    _clock_started: ClassVar[str] = "CAST(@schemactl_started AS DATETIME(6))"
    _clock_now: ClassVar[str] = "CAST(@schemactl_finished AS DATETIME(6))"

    def _duration_ms(self, started: str, finished: str) -> str:
        return f"ROUND(TIMESTAMPDIFF(MICROSECOND, {started}, {finished}) / 1000, 3)"

    # -- safe forms (tools.dialects.online) -------------------------------------------------------

    # Stated on an ALTER that must neither copy the table nor stop writes: a server that
    # cannot do it so refuses (error 1845 or 1846) and changes nothing, where left to itself
    # it would copy the table under a lock.
    ONLINE: ClassVar[str] = "ALGORITHM=INPLACE, LOCK=NONE"
    # Stated on an ALTER the server can only do by copying the table: reads go on, writes
    # wait until the copy is done.
    COPY: ClassVar[str] = "ALGORITHM=COPY, LOCK=SHARED"
    _ALTER: ClassVar[re.Pattern[str]] = re.compile(
        r"^\s*ALTER\s+(?:ONLINE\s+|IGNORE\s+)*TABLE\s+(?P<table>`[^`]+`|\S+)\s+(?P<change>.*)$",
        re.I | re.S,
    )
    _CLAUSES: ClassVar[re.Pattern[str]] = re.compile(r"\s*,\s*(ALGORITHM|LOCK)\s*=\s*\w+", re.I)
    # What MariaDB 10.11 does to a table with rows without copying it or stopping writes
    # (INSTANT, or in place under LOCK=NONE): the ALTER actions schemactl states ONLINE on,
    # measured by the safety corpus (tests/test_safety_corpus.py). Not here: a column added
    # with AUTO_INCREMENT (a lock), STORED or with a volatile default (a copy); a MODIFY or
    # CHANGE (a type change copies); a foreign key or CHECK added (checked by a copy); a
    # primary key; a FULLTEXT or SPATIAL index (writes wait); a table renamed.
    ONLINE_ACTIONS: ClassVar[frozenset[str]] = frozenset(
        {
            "add-column",
            "drop-column",
            "rename-column",
            "set-default",
            "drop-default",
            "add-index",
            "add-unique",
            "create-index",
            "drop-index",
            "drop-key",
            "drop-foreign-key",
            "drop-check",
            "drop-constraint",
        }
    )
    _STATED: ClassVar[re.Pattern[str]] = re.compile(
        r"\b(ALGORITHM|LOCK)\s*=|\b(FULLTEXT|SPATIAL)\b", re.I
    )

    def stated_online(self, actions: Sequence[str], sql: str) -> str | None:
        if not actions or not set(actions) <= self.ONLINE_ACTIONS or self._STATED.search(sql):
            return None
        if actions == ("create-index",):  # CREATE INDEX takes its options without commas
            return f"{sql} {self.ONLINE.replace(',', '')}"
        return f"{sql}, {self.ONLINE}"

    def copy_commands(self, sql: str, *, measured: bool = False) -> list[str]:
        """For an ALTER TABLE that says ALGORITHM=COPY (or that the server was ``measured``
        copying): the pt-online-schema-change and gh-ost commands that make the same change
        by copying the table in the background while writes go on (a brief lock at the
        switch); none for any other statement."""
        shape = self._ALTER.match(sql.strip().rstrip(";"))
        says = re.search(r"\bALGORITHM\s*=\s*COPY\b", sql, re.I)
        if shape is None or not (says or measured):
            return []
        table = shape.group("table").strip("`")
        change = self._CLAUSES.sub("", shape.group("change")).strip()
        return [
            f"pt-online-schema-change --alter {shlex.quote(change)} "
            f"D=DBNAME,t={shlex.quote(table)} --execute",
            f"gh-ost --database=DBNAME --table={shlex.quote(table)} "
            f"--alter={shlex.quote(change)} --execute",
        ]

    def create_index(self, emit: Emitter, index: Index) -> None:
        from sqlalchemy.schema import CreateIndex

        emit.run(f"{emit.sql(CreateIndex(index))} {self.ONLINE.replace(',', '')}")

    def drop_index(self, emit: Emitter, index: Index) -> None:
        # DROP INDEX takes no ALGORITHM; its ALTER TABLE form does.
        assert index.table is not None  # Alembic's operations build the index on its table
        name = self._ident(str(index.name))
        emit.run(f"ALTER TABLE {self._qualified(index.table)} DROP INDEX {name}, {self.ONLINE}")

    def create_foreign_key(self, emit: Emitter, key: ForeignKeyConstraint) -> None:
        """Checked first (the script stops, nothing added, where a row has no match), then
        added in place without the copy MariaDB makes to check the rows itself: writes go
        on. Rows written between the check and the ALTER are not checked."""
        from sqlalchemy import and_, exists, literal, select
        from sqlalchemy.schema import AddConstraint

        child = key.table
        parent = key.referred_table.alias("schemactl_parent")
        pairs = [(e.parent, parent.c[e.column.name]) for e in key.elements]
        orphan = (
            select(literal(1))
            .select_from(child)
            .where(*(c.isnot(None) for c, _ in pairs))
            .where(~exists().where(and_(*(p == c for c, p in pairs))))
            .limit(1)
        )
        message = f"schemactl: rows break {key.name}; nothing added".replace("`", "")[:64]
        for line in self.refuse_unless(f"NOT EXISTS ({emit.sql(orphan)})", message, "rows"):
            emit.run(line)
        emit.run("SET SESSION foreign_key_checks = 0")
        emit.run(f"{emit.sql(AddConstraint(key))}, {self.ONLINE}")
        emit.run("SET SESSION foreign_key_checks = 1")

    def create_check(self, emit: Emitter, check: CheckConstraint, copy: ShadowCopy) -> None:
        """MariaDB checks a new CHECK only by copying the table, writes waiting
        (ALGORITHM=COPY, LOCK=SHARED): so the table is copied beside it instead, as
        pt-online-schema-change does, writes going on. A shadow table made LIKE it, with the
        CHECK; triggers that keep it in step; the rows copied a batch of keys at a time; then
        one RENAME that puts it in the table's place, and the foreign keys to and from the
        old table moved to it (the only moment writes wait: metadata only). Refused, nothing
        made, where a row breaks the CHECK, the key is not the table's integer primary key,
        the table has triggers of its own (the swap would lose them) or generated columns
        (the copy cannot write them).

        Each batch locks its rows first, and only then copies them: the copy (a bulk
        insert, which holds the shadow's AUTO-INC lock to its end) never waits for a
        writer's row lock while it holds what the writer's trigger needs."""
        from sqlalchemy import MetaData, Table, literal, literal_column, select
        from sqlalchemy.schema import AddConstraint
        from sqlalchemy.schema import CheckConstraint as Check

        table = check.table
        names = self.shadow_names(table.name)
        ident = {part: self._ident(name) for part, name in names.items()}
        if table.schema:
            ident = {part: f"{self._ident(table.schema)}.{name}" for part, name in ident.items()}
        origin, key = self._qualified(table), self._ident(copy.key)
        schema = self.literal(table.schema) if table.schema else "DATABASE()"
        this = f"TABLE_SCHEMA = {schema} AND TABLE_NAME = {self.literal(table.name)}"
        integers = "'tinyint', 'smallint', 'mediumint', 'int', 'bigint'"
        primary = (
            f"information_schema.KEY_COLUMN_USAGE WHERE {this} AND CONSTRAINT_NAME = 'PRIMARY'"
        )
        keyed = (
            f"(SELECT GROUP_CONCAT(COLUMN_NAME) FROM {primary}) = {self.literal(copy.key)} "
            f"AND EXISTS (SELECT 1 FROM information_schema.COLUMNS WHERE {this} "
            f"AND COLUMN_NAME = {self.literal(copy.key)} AND DATA_TYPE IN ({integers}))"
        )
        ours = ", ".join(self.literal(names[t]) for t in ("insert", "update", "delete"))
        untriggered = (
            f"NOT EXISTS (SELECT 1 FROM information_schema.TRIGGERS WHERE "
            f"EVENT_OBJECT_SCHEMA = {schema} AND EVENT_OBJECT_TABLE = "
            f"{self.literal(table.name)} AND TRIGGER_NAME NOT IN ({ours}))"
        )
        # A generated column takes no value: copied with SELECT *, it would stop the copy
        # and, through the triggers, the application's writes.
        ungenerated = (
            f"NOT EXISTS (SELECT 1 FROM information_schema.COLUMNS WHERE {this} "
            "AND IS_GENERATED <> 'NEVER')"
        )
        # As the developer wrote it: literal_column reads no :name as a bound value.
        breaks: ColumnElement[Any] = literal_column(f"NOT ({emit.sql(check.sqltext)})")
        broken = select(literal(1)).select_from(table).where(breaks).limit(1)
        refusals = (
            (keyed, f"schemactl: {copy.key} is no integer primary key", "key"),
            (untriggered, "schemactl: the table has triggers; nothing added", "triggers"),
            (ungenerated, "schemactl: the table has generated columns; nothing added", "generated"),
            (
                f"NOT EXISTS ({emit.sql(broken)})",
                f"schemactl: rows break {check.name}; nothing added",
                "rows",
            ),
        )
        for condition, message, name in refusals:
            for line in self.refuse_unless(condition, message.replace("`", "")[:64], name):
                emit.run(line)
        # What a run stopped on its way left behind (the triggers first: they write to it).
        for event in ("insert", "update", "delete"):
            emit.run(f"DROP TRIGGER IF EXISTS {ident[event]}")
        emit.run(f"DROP TABLE IF EXISTS {ident['shadow']}")
        emit.run(f"CREATE TABLE {ident['shadow']} LIKE {origin}")
        shadow = Table(names["shadow"], MetaData(), schema=table.schema)
        copied = Check(check.sqltext, name=check.name)
        shadow.append_constraint(copied)
        emit.run(emit.sql(AddConstraint(copied)))
        row = f"SELECT * FROM {origin} WHERE {key} = NEW.{key}"
        # Deletes first, inserts last: a row inserted into the shadow by a trigger is never
        # deleted from the table with no trigger to delete it from the shadow too.
        emit.run(
            f"CREATE TRIGGER {ident['delete']} AFTER DELETE ON {origin} FOR EACH ROW "
            f"DELETE FROM {ident['shadow']} WHERE {key} = OLD.{key}"
        )
        emit.run(f"""CREATE TRIGGER {ident["update"]} AFTER UPDATE ON {origin} FOR EACH ROW
BEGIN
    DELETE FROM {ident["shadow"]} WHERE {key} = OLD.{key} AND OLD.{key} <> NEW.{key};
    REPLACE INTO {ident["shadow"]} {row};
END""")
        emit.run(
            f"CREATE TRIGGER {ident['insert']} AFTER INSERT ON {origin} FOR EACH ROW "
            f"REPLACE INTO {ident['shadow']} {row}"
        )
        copy_rows = f"""BEGIN NOT ATOMIC
    DECLARE low BIGINT;
    DECLARE high BIGINT;
    DECLARE step BIGINT DEFAULT {int(copy.batch_size)};
    DECLARE next_id BIGINT;
    DECLARE locked BIGINT;
    SELECT MIN({key}), MAX({key}) INTO low, high FROM {origin};
    WHILE low <= high DO
        START TRANSACTION;
        SELECT COUNT(*) INTO locked FROM {origin}
            WHERE {key} >= low AND {key} < low + step LOCK IN SHARE MODE;
        REPLACE INTO {ident["shadow"]} SELECT * FROM {origin}
            WHERE {key} >= low AND {key} < low + step;
        COMMIT;
        SET low = low + step;
    END WHILE;
    SELECT AUTO_INCREMENT INTO next_id FROM information_schema.TABLES WHERE {this};
    IF next_id IS NOT NULL THEN
        EXECUTE IMMEDIATE CONCAT('ALTER TABLE ', {self.literal(ident["shadow"])},
                                 ' AUTO_INCREMENT = ', next_id);
    END IF;
END"""
        self.run_whole(emit, copy_rows, "copy", "the copy of the rows")
        emit.run(f"RENAME TABLE {origin} TO {ident['old']}, {ident['shadow']} TO {origin}")
        moved = self._foreign_keys_moved(schema, names["old"], table.name)
        self.run_whole(emit, moved, "keys", "moving the foreign keys")
        emit.run(f"DROP TABLE {ident['old']}")

    def _foreign_keys_moved(self, schema: str, old: str, new: str) -> str:
        """A compound statement that moves every foreign key to or from table ``old`` (in
        ``schema``, an SQL expression) onto table ``new``: each dropped and added again, as
        the catalog states it, in place without checking the rows (they were checked)."""

        def quoted(column: str) -> str:
            return f"CONCAT('`', REPLACE({column}, '`', '``'), '`')"

        def renamed(column: str) -> str:
            return quoted(f"IF({column} = {self.literal(old)}, {self.literal(new)}, {column})")

        def columns(name: str) -> str:
            return (
                f"(SELECT GROUP_CONCAT({quoted(f'k.{name}')} ORDER BY k.ORDINAL_POSITION) "
                "FROM information_schema.KEY_COLUMN_USAGE k WHERE "
                "k.CONSTRAINT_SCHEMA = r.CONSTRAINT_SCHEMA AND k.TABLE_NAME = r.TABLE_NAME "
                "AND k.CONSTRAINT_NAME = r.CONSTRAINT_NAME)"
            )

        def rule(event: str, column: str) -> str:
            return f"IF({column} = 'RESTRICT', '', CONCAT(' ON {event} ', {column}))"

        child = f"{quoted('r.CONSTRAINT_SCHEMA')}, '.', "
        parent = f"{quoted('r.UNIQUE_CONSTRAINT_SCHEMA')}, '.', "
        return f"""BEGIN NOT ATOMIC
    DECLARE done INT DEFAULT 0;
    DECLARE dropped, added TEXT;
    DECLARE moved CURSOR FOR
        SELECT CONCAT('ALTER TABLE ', {child}{quoted("r.TABLE_NAME")},
                      ' DROP FOREIGN KEY ', {quoted("r.CONSTRAINT_NAME")}),
               CONCAT('ALTER TABLE ', {child}{renamed("r.TABLE_NAME")},
                      ' ADD CONSTRAINT ', {quoted("r.CONSTRAINT_NAME")},
                      ' FOREIGN KEY (', {columns("COLUMN_NAME")}, ') REFERENCES ',
                      {parent}{renamed("r.REFERENCED_TABLE_NAME")},
                      ' (', {columns("REFERENCED_COLUMN_NAME")}, ')',
                      {rule("DELETE", "r.DELETE_RULE")}, {rule("UPDATE", "r.UPDATE_RULE")},
                      ', {self.ONLINE}')
        FROM information_schema.REFERENTIAL_CONSTRAINTS r
        WHERE (r.CONSTRAINT_SCHEMA = {schema} AND r.TABLE_NAME = {self.literal(old)})
           OR (r.UNIQUE_CONSTRAINT_SCHEMA = {schema}
               AND r.REFERENCED_TABLE_NAME = {self.literal(old)})
        ORDER BY r.CONSTRAINT_SCHEMA, r.TABLE_NAME, r.CONSTRAINT_NAME;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET done = 1;
    SET SESSION foreign_key_checks = 0;
    OPEN moved;
    moving: LOOP
        FETCH moved INTO dropped, added;
        IF done THEN
            LEAVE moving;
        END IF;
        EXECUTE IMMEDIATE dropped;
        EXECUTE IMMEDIATE added;
    END LOOP;
    CLOSE moved;
    SET SESSION foreign_key_checks = 1;
END"""

    def shadow_names(self, table: str) -> dict[str, str]:
        """The names of what copying ``table`` beside itself makes: its shadow, the name
        the old table takes at the switch, and the triggers that keep the shadow in step
        (each shortened, with a hash of the whole, past the server's 64 characters)."""
        suffixes = {
            "shadow": "new",
            "old": "old",
            "insert": "ins",
            "update": "upd",
            "delete": "del",
        }
        # schemactl in each name: the script drops a shadow a stopped run left, and must
        # never meet a table of the application's under that name.
        return {
            part: self.short_name(f"_{table}_schemactl_{end}") for part, end in suffixes.items()
        }

    def create_unique(self, emit: Emitter, unique: UniqueConstraint) -> None:
        from sqlalchemy.schema import AddConstraint

        emit.run(f"{emit.sql(AddConstraint(unique))}, {self.ONLINE}")

    def backfill(self, emit: Emitter, backfill: Backfill) -> None:
        """A loop in one compound statement, one transaction per batch of keys (InnoDB row
        locks end with each COMMIT). Each batch writes how far it went into
        schemactl_backfill in its own transaction: run again after a stop, the loop goes
        on from there (a run that finished is not resumed)."""
        table, key = self._qualified(backfill.table), self._ident(backfill.key)
        update = self.backfill_update(backfill, ("low", "low + step"))
        label, name = self.literal(self.backfill_label(backfill)), self.literal(backfill.table.name)
        progress = BACKFILL_TABLE
        emit.run(self.backfill_progress())
        loop = f"""BEGIN NOT ATOMIC
    DECLARE low BIGINT;
    DECLARE high BIGINT;
    DECLARE run INT;
    DECLARE changed BIGINT;
    DECLARE step BIGINT DEFAULT {int(backfill.batch_size)};
    SET run = (SELECT id FROM {progress} WHERE label = {label} AND finished_at IS NULL
               ORDER BY id DESC LIMIT 1);
    IF run IS NULL THEN
        SELECT MIN({key}), MAX({key}) INTO low, high FROM {table};
        INSERT INTO {progress} (label, table_name, done_to, high, rows_done, started_at,
                                updated_at)
            VALUES ({label}, {name}, low, high, 0, SYSDATE(6), SYSDATE(6));
        SET run = LAST_INSERT_ID();
        COMMIT;
    ELSE
        SELECT done_to, {progress}.high INTO low, high FROM {progress} WHERE id = run;
    END IF;
    WHILE low <= high DO
        START TRANSACTION;
        {update};
        SET changed = ROW_COUNT();
        UPDATE {progress} SET done_to = low + step, rows_done = rows_done + changed,
            updated_at = SYSDATE(6) WHERE id = run;
        COMMIT;
        SET low = low + step;
    END WHILE;
    UPDATE {progress} SET finished_at = SYSDATE(6), updated_at = SYSDATE(6) WHERE id = run;
    COMMIT;
END"""
        self.run_whole(emit, loop, "backfill", "the backfill")

    def set_not_null(self, emit: Emitter, change: NotNull) -> None:
        """MODIFY restating the column, in place: writes go on while the table is rebuilt,
        and a NULL left in it stops the statement (strict sql_mode) rather than becoming
        the type's zero."""
        from alembic.ddl.mysql import MySQLModifyColumn

        column = change.column
        modify = MySQLModifyColumn(
            change.table.name,
            column.name,
            schema=change.table.schema,
            nullable=False,
            type_=column.type,
            default=change.server_default,
            comment=change.comment,
        )
        emit.run(f"{emit.sql(modify)}, {self.ONLINE}")

    # -- observing a statement (tools.dialects.observe) ------------------------------------------

    # The ALGORITHM and LOCK an ALTER TABLE (or CREATE/DROP INDEX) is tried with, cheapest
    # first; the server refuses one it cannot do (error 1845 or 1846) and changes nothing.
    ATTEMPTS: ClassVar[tuple[tuple[str, str | None], ...]] = (
        ("INSTANT", None),
        ("NOCOPY", "NONE"),
        ("INPLACE", "NONE"),
        ("INPLACE", "SHARED"),
        ("COPY", "SHARED"),
    )
    _ONLINE_DDL: ClassVar[re.Pattern[str]] = re.compile(
        r"^\s*(?P<alter>ALTER\s+(ONLINE\s+|IGNORE\s+)*TABLE\s+(?P<table>`[^`]+`|\S+))|"
        r"^\s*(CREATE|DROP)\s+(OR\s+REPLACE\s+|UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)*INDEX\b"
        r"(\s+IF\s+(NOT\s+)?EXISTS)?\s+(`[^`]+`|\S+)\s+ON\s+(?P<on>`[^`]+`|[^\s(]+)",
        re.I,
    )
    _DROP_INDEX: ClassVar[re.Pattern[str]] = re.compile(
        r"^\s*DROP\s+INDEX\s+(?P<index>`[^`]+`|\S+)\s+ON\s+(?P<table>`[^`]+`|\S+)$", re.I
    )
    _CHOSEN: ClassVar[re.Pattern[str]] = re.compile(r"\b(ALGORITHM|LOCK)\s*=\s*(\w+)", re.I)
    _ALGORITHM: ClassVar[re.Pattern[str]] = re.compile(r"\s*,?\s*\bALGORITHM\s*=\s*\w+", re.I)
    _NOT_SUPPORTED: ClassVar[frozenset[int]] = frozenset({1845, 1846})

    def observe(
        self,
        connection: Connection,
        sql: str,
        *,
        autocommit: bool = False,
        fresh: Collection[str] = (),
    ) -> Observation:
        """The cheapest ALGORITHM and LOCK the server accepts for the statement, found by
        asking for each in turn (only those a statement that names its own ALGORITHM or
        LOCK allows); the last, as written, is a copy under an exclusive lock. A statement
        that is no table change, or changes a table in ``fresh`` (made since the revision
        began: no rows, no readers), runs as it is, unmeasured."""
        from sqlalchemy.exc import DBAPIError

        shape = self._ONLINE_DDL.match(sql)
        table = (shape.group("table") or shape.group("on")) if shape else None
        if shape is None or (table and table.strip("`") in fresh):
            run(connection, sql)
            return Observation(fresh=(table.strip("`"),) if table else ())
        body = sql.strip().rstrip(";").rstrip()
        dropped = self._DROP_INDEX.match(body)
        if dropped:  # DROP INDEX takes no ALGORITHM or LOCK; its ALTER TABLE form does
            body = f"ALTER TABLE {dropped.group('table')} DROP INDEX {dropped.group('index')}"
            shape = self._ONLINE_DDL.match(body)
            assert shape is not None
        given = {k.upper(): v.upper() for k, v in self._CHOSEN.findall(body)}
        if "DEFAULT" in given.values():  # the server's choice, which asking would change
            run(connection, sql)
            return Observation()
        refused: list[str] = []
        # NOCOPY refused: INPLACE rebuilds the table, every row written again (not known
        # when the statement itself asks for INPLACE).
        rebuilds = False
        attempts = self._attempts(given)
        # An ALGORITHM the statement states allows any cheaper one: each is asked for in its
        # place, cheapest first.
        stated = given.get("ALGORITHM")
        swapped = stated is not None and any(a != stated for a, _ in attempts)
        bare = self._ALGORITHM.sub("", body) if swapped else body
        for algorithm, lock in attempts:
            clauses = [
                clause
                for name, value in (("ALGORITHM", algorithm), ("LOCK", lock))
                if value and ((name == "ALGORITHM" and swapped) or name not in given)
                for clause in [f"{name}={value}"]
            ]
            body = bare
            joined = ", " if shape.group("alter") else " "
            try:
                run(connection, joined.join([body, *clauses]))
            except DBAPIError as err:
                connection.rollback()
                args = err.orig.args if err.orig is not None else ()
                if not args or args[0] not in self._NOT_SUPPORTED:
                    raise
                refused.append(str(args[-1]))
                rebuilds = rebuilds or algorithm == "NOCOPY"
                continue
            return self._seen(algorithm, lock or "NONE", refused, rebuilds)
        run(connection, sql)
        chosen = given.get("ALGORITHM", "COPY")
        return self._seen(chosen, given.get("LOCK", "EXCLUSIVE"), refused, rebuilds)

    def _attempts(self, given: dict[str, str]) -> list[tuple[str, str | None]]:
        """The ALGORITHM/LOCK pairs to try, cheapest first, within what the statement says."""
        algorithm, lock = given.get("ALGORITHM"), given.get("LOCK")
        order = list(dict.fromkeys(a for a, _ in self.ATTEMPTS))
        # ALGORITHM=INPLACE or NOCOPY allows a cheaper one too (MariaDB 10.3.7 on); COPY
        # copies.
        allowed: list[str | None] = [algorithm]
        if algorithm is not None and algorithm in order and algorithm != "COPY":
            allowed = list(order[: order.index(algorithm) + 1])
        if lock is None:
            tried = [(a, own) for a, own in self.ATTEMPTS if algorithm is None or a in allowed]
        else:  # every algorithm, cheapest first, under the lock it asks for
            tried = [(a, lock) for a in order if algorithm is None or a in allowed]
        if algorithm is not None and not tried:  # an algorithm not in ATTEMPTS' order
            tried = [(algorithm, lock or "NONE"), (algorithm, lock or "SHARED")]
        return list(dict.fromkeys(tried))

    @staticmethod
    def _seen(algorithm: str, lock: str, refused: list[str], rebuilds: bool) -> Observation:
        return Observation(
            measured=True,
            algorithm=algorithm,
            lock=lock,
            refused=tuple(refused),
            rewrites=algorithm == "COPY" or (algorithm == "INPLACE" and rebuilds),
            blocks_writes=lock in ("SHARED", "EXCLUSIVE"),
        )


@dataclass(frozen=True)
class MySQL(MariaDB):
    # A mysql:// URL (often a MariaDB server's): rendered as for MariaDB, whose guard and lock
    # are compound statements MySQL does not run; a MySQL server refuses the scripts at their
    # first statement (server_check).
    name: ClassVar[str] = "mysql"
    title: ClassVar[str] = "MySQL"
    client: ClassVar[str] = "mysql"
    example_url: ClassVar[str] = "mysql://USER@HOST:3306/DBNAME"

    def apply_command(self, path: str) -> str:
        return f"mysql --database=DBNAME < {path}"

    def dump_command(self, table: str) -> str:
        return f"mysqldump --single-transaction DBNAME {_shell(table)} > {_dump_file(table)}"
