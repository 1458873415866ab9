"""Everything a kind of database knows, in one object per kind.

A ScriptDialect knows its DBA scripts (guard, transactions, timeouts, stamping), its URLs (the
default driver, which URL schemes reach it, an example for error messages), its command-line
client, how a throwaway database is made and dropped on it, its name in sqlglot, and which
lint rules only it needs. The rest of schemactl asks it and never compares a dialect name or
writes dialect SQL itself. Adding a kind of database means a class here, a driver pin and tests.

Version and audit statements are SQLAlchemy Core compiled with literal values; only the
guards, which need each server's procedural dialect, are written out here by hand.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from tools.core.errors import ConfigError, SchemactlError

if TYPE_CHECKING:
    from pathlib import Path

    from alembic.operations.ops import MigrateOperation
    from sqlalchemy.engine import URL, Dialect, Engine, Inspector
    from sqlalchemy.sql import ClauseElement, ColumnElement, Insert, Select


# The layout of DBA scripts. schemactl renders only the current one; a recorded release keeps
# the format it was rendered with in its manifest, and one of an earlier format is verified by
# the sha256 of its files and of its revision files, never rendered again (releases are data).
# 7: literals written exactly (no doubled %, TABs kept, CR and control characters escaped);
#    backups named per object and per schema, restored in foreign-key order, enums as text,
#    lossy type changes kept.
# 8: statements outside a transaction (autocommit_block, CONCURRENTLY) run under the
#    environment's timeouts set for the session (PostgreSQL); SQLite keeps such a block
#    inside its transaction, which is its lock.
# 9: SQLite and MariaDB scripts stop psql, given one by mistake, before their first statement.
FORMAT = 9
FORMATS = (1, 2, 3, 4, 5, 6, 7, 8, 9)
VERSION_TABLE = "alembic_version"
# Tables schemactl itself owns in a managed database; never part of the models.
AUDIT_TABLE = "schemactl_audit"
# SQLite keeps the audit's step timings in a table of their own: a script cannot
# add a column only where it is missing there (see SQLite._upgrade_audit).
AUDIT_TIMING_TABLE = "schemactl_audit_timing"
TOOL_TABLES = frozenset({AUDIT_TABLE, AUDIT_TIMING_TABLE})
# Backup tables where a database has no schema of their own for them.
BACKUP_PREFIX = "schemactl_backup_"


def is_tool_table(name: str) -> bool:
    """Whether a table is schemactl's own (audit, backups): never part of the models."""
    return name in TOOL_TABLES or name.startswith(BACKUP_PREFIX)


# The audit's release_name for a step run by an online command rather than a script.
ONLINE = "online"
# The audit table's layouts, each the one before plus what its upgrade adds; never a column
# renamed or dropped, so a database holding any layout is brought up to date in place and a
# script of an earlier format still writes its rows into a later layout.
#   1 (formats 1-3): id, revision, direction, revision_sha256, applied_at, applied_by
#   2 (format 4):    + started_at, finished_at, duration_ms, release_name
TIMING_COLUMNS = ("started_at", "finished_at", "duration_ms", "release_name")
TIMED_AUDIT_TABLE = f"{AUDIT_TABLE} (layout 2)"  # a key of _tables(), not a name in SQL
# What a revision id may look like to be written into SQL (Alembic's are hex; others are
# identifiers): anything else could close a string literal.
_SAFE_REVISION = re.compile(r"[A-Za-z0-9_\-]{1,32}")
_PARAMETER = re.compile(r":(old|new|revision|direction|sha|release)\b")
# Characters a string value may hold that a script cannot carry raw: the clients drop a CR
# before a LF (mariadb, sqlite3), NUL ends a C string, and the others can hide text from a
# DBA reading the script in a terminal. TAB and LF travel as they are.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def _named(dialect_class: type[Dialect]) -> Dialect:
    """A dialect of ``dialect_class`` with named parameters (its constructor takes
    paramstyle; the Dialect interface does not declare it)."""
    make: Any = dialect_class
    return make(paramstyle="named")  # type: ignore[no-any-return]


class UnwritableValue(SchemactlError):
    """A value this kind of database cannot hold, so no script can write it."""


class UnsafeRevisionId(SchemactlError):
    def __init__(self, revision: str) -> None:
        self.revision = revision
        super().__init__(
            f"revision id {revision!r} cannot be written into SQL safely; revision ids may hold "
            "only letters, digits, '_' and '-' (at most 32 characters)"
        )


_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def is_plain_name(name: str) -> bool:
    """Whether a name from a config (a version table, a schema) is a plain SQL name: SQL
    writes it as it is, and it cannot end a comment, a literal or a statement."""
    return bool(_PLAIN_NAME.fullmatch(name))


def _identifier(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return name


def safe_revision(revision: str) -> str:
    # fullmatch: `$` would also match before a trailing newline.
    if not isinstance(revision, str) or not _SAFE_REVISION.fullmatch(revision):
        raise UnsafeRevisionId(revision)
    return revision


@dataclass(frozen=True)
class ClientCommand:
    """A command-line client run: its arguments, the environment variables it needs on top
    of the caller's (a password), and the script for its standard input (None: the
    arguments name the script)."""

    args: tuple[str, ...]
    env: Mapping[str, str]
    stdin: Path | None


@dataclass(frozen=True)
class ScriptDialect:
    """How one kind of database is guarded, stamped and applied."""

    name: ClassVar[str]
    title: ClassVar[str]  # the name people write: PostgreSQL
    client: ClassVar[str]
    # All or nothing: the whole script in one transaction.
    transactional: ClassVar[bool]
    # The driver a URL without one gets, and the URL schemes (backends) that reach this kind.
    driver: ClassVar[str]
    family: ClassVar[frozenset[str]]
    # Other names of a backend that clients accept (libpq's postgres://), and SQLAlchemy's.
    aliases: ClassVar[dict[str, str]] = {}
    example_url: ClassVar[str]
    # The dialect's name in sqlglot, which lint parses raw SQL with.
    sqlglot: ClassVar[str]
    # Lint rules that only make sense on this kind of database (the others apply everywhere).
    lint_rules: ClassVar[frozenset[str]] = frozenset()
    # Whether a script runs a revision's autocommit_block() outside its transaction (False:
    # inside it, for a kind whose lock a COMMIT would give up and that needs no such step).
    runs_autocommit_blocks: ClassVar[bool] = True
    # Whether autogenerate writes batch operations (a table rebuild) by default.
    batch_by_default: ClassVar[bool] = False
    # Whether a throwaway database needs a server (CREATE DATABASE) rather than a file.
    needs_server: ClassVar[bool] = True
    # Online, whether each revision commits on its own (a failure leaves the database at the
    # revision before it) rather than the whole run being one transaction.
    commits_each_revision: ClassVar[bool] = False
    # Whether a text column can hold a NUL character (proofs put one into generated rows).
    text_holds_nul: ClassVar[bool] = True
    # The tables of schemactl's own a database of this kind gets (its audit).
    tool_tables: ClassVar[frozenset[str]] = frozenset({AUDIT_TABLE})
    # The script settings an environment may give (name -> (pattern, example)).
    setting_patterns: ClassVar[dict[str, tuple[str, str]]] = {}
    settings: Mapping[str, str] = field(default_factory=dict)
    # The version table as the project's env.py configures it (Alembic's default otherwise).
    version_table: str = VERSION_TABLE
    version_table_schema: str | None = None
    # In a project of several databases: the version tables of the others, each
    # with its database. A script finding one of them was given the wrong database.
    other_version_tables: tuple[tuple[str, str], ...] = ()
    # ... and the database the script is for (its ini section).
    database_name: str = ""

    def __post_init__(self) -> None:
        # Every script names the version table, in SQL and in its header's comments: a name
        # from alembic.ini or env.py that could end a comment or a statement never gets there.
        for what, name in (
            ("version_table", self.version_table),
            ("version_table_schema", self.version_table_schema),
        ):
            if name is not None and not is_plain_name(name):
                raise ConfigError(
                    f"{what} {name!r} is not a plain name: use letters, digits and '_' (a "
                    "letter or '_' first, at most 63), in alembic.ini or env.py"
                )

    @cached_property
    def sa_dialect(self) -> Dialect:
        from sqlalchemy.engine import make_url

        # Named parameters: a format or pyformat paramstyle (the drivers') doubles every % of
        # a script's text, for a DBAPI that never sees it.
        return _named(make_url(f"{self.name}://").get_dialect())

    def compile(self, clause: ClauseElement) -> str:
        sql = str(clause.compile(dialect=self.sa_dialect, compile_kwargs={"literal_binds": True}))
        # Laid out as Alembic lays out its own offline statements.
        return sql.replace("\t", "    ").strip() + ";"

    def literal(self, value: str) -> str:
        from sqlalchemy import String, literal

        return str(
            literal(value, String())
            .compile(dialect=self.sa_dialect, compile_kwargs={"literal_binds": True})
            .string
        )

    # -- literals: values written into a script exactly (tools.scripts.literals) -------------

    def string_literal(self, value: str) -> str | None:
        """``value`` as a literal of this kind's SQL when it holds CONTROL characters, which
        must be escaped rather than written raw; None when it holds none (SQLAlchemy's own
        literal is exact). UnwritableValue for a value the database cannot hold."""
        raise NotImplementedError

    def binary_literal(self, value: bytes) -> str:
        """A binary value as a literal (hex digits: no byte of it reaches the script raw)."""
        return f"X'{value.hex().upper()}'"

    # What a CR before a LF inside a string literal of raw SQL becomes (None: the client
    # keeps it as it is).
    crlf_in_string: ClassVar[str | None] = None

    # -- URLs ---------------------------------------------------------------------------------

    def accepts(self, url: URL) -> bool:
        """Whether a URL reaches this kind of database (MariaDB and MySQL share a protocol)."""
        return url.get_backend_name() in self.family or url.get_backend_name() in self.aliases

    def complete(self, url: URL) -> URL:
        """The URL as SQLAlchemy names it, with this repo's driver when it names none."""
        backend = url.get_backend_name()
        canonical = self.aliases.get(backend, backend)
        if canonical == backend and "+" in url.drivername:
            return url
        driver = url.get_driver_name() if "+" in url.drivername else self.driver
        return url.set(drivername=f"{canonical}+{driver}")

    def migration_engine(self, url: URL) -> Engine:
        """The engine migrations run on online: each of its transactions all or nothing, in
        the session the scripts set up (session_url)."""
        from sqlalchemy import create_engine, pool

        return create_engine(self.session_url(url), poolclass=pool.NullPool)

    def prepare(self, url: URL) -> None:
        """Whatever must exist before the first connection that may write (nothing, for a
        server)."""

    def exists(self, url: URL) -> bool:
        """Whether there is a database at ``url`` to read, without creating one (a server's
        database: assumed, the connection says)."""
        return True

    def describe_error(self, error: BaseException) -> str:
        """One line a person can read from a driver's exception."""
        text = str(error).strip()
        return text.splitlines()[0] if text else type(error).__name__

    def check_settings(self) -> None:
        """Refuse script settings this kind of database would reject (ConfigError)."""
        unknown = sorted(set(self.settings) - set(self.setting_patterns))
        if unknown:
            raise ConfigError(
                f"{', '.join(unknown)} is not a {self.title} setting; "
                + (
                    f"use {', '.join(sorted(self.setting_patterns))}"
                    if self.setting_patterns
                    else "remove it"
                )
            )
        for key, (pattern, example) in self.setting_patterns.items():
            value = self.settings.get(key)
            if value is not None and not re.fullmatch(pattern, value.strip()):
                raise ConfigError(
                    f"{key} = {value!r} is not valid for {self.title}; write e.g. {key} = {example}"
                )

    def placeholder_url(self) -> URL:
        """A URL that names only this kind of database: what an env.py run offline gets as
        sqlalchemy.url, so it configures its context for this dialect (nothing connects)."""
        from sqlalchemy.engine import make_url

        return self.complete(make_url(f"{self.name}://"))

    def matches(self, dialect: Dialect) -> bool:
        """Whether a SQLAlchemy dialect is this kind of database."""
        return dialect.name in self.family or dialect.name in self.aliases

    # -- the command-line client ---------------------------------------------------------------

    def client_command(self, url: URL, script: Path) -> ClientCommand:
        """How the command-line client applies ``script`` to ``url``, as a DBA would run it.
        A password goes in the client's environment variable, never on the command line."""
        raise NotImplementedError

    def client_error(self, output: str) -> tuple[int | None, str]:
        """The script line the client reports an error at (None if it names none) and the
        server's error, read from what the client printed."""
        for line in output.splitlines():
            match = self._CLIENT_ERROR.search(line)
            if match:
                found = match.groupdict()
                error = ": ".join(found[k].strip() for k in ("error", "message") if found.get(k))
                return (int(found["line"]) if found.get("line") else None), error
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        return None, (lines[-1] if lines else "the client stopped without saying why")

    # What the client prints for an error: group 'error', and 'line' and 'message' (joined
    # to the error with ': ') when it prints them.
    _CLIENT_ERROR: ClassVar[re.Pattern[str]] = re.compile(r"(?P<error>\bERROR\b.*)")
    # A query answering the server's version, as recorded with a proven release.
    server_version_sql: ClassVar[str] = "SELECT version()"

    # -- throwaway databases -------------------------------------------------------------------

    def scratch_url(self, server: URL | None, name: str, folder: Path) -> URL:
        """Where a throwaway database called ``name`` lives: on ``server``, or in ``folder``."""
        if server is None:
            raise ConfigError(
                f"a throwaway {self.name} database needs a server to create it on; "
                f"give a {self.name} URL, e.g. {self.example_url}"
            )
        return self.complete(server).set(database=name)

    def needs_rebuild(self, operations: Sequence[MigrateOperation]) -> bool:
        """Whether these operations on one table need it rebuilt (a batch block with the
        table written out as ``copy_from``) because this kind cannot ALTER them in place."""
        return False

    # -- what the template calls -------------------------------------------------------------

    def apply_command(self, path: str) -> str:
        raise NotImplementedError

    def preamble(self) -> list[str]:
        """Session settings before anything else runs."""
        return []

    def stops_psql(self) -> list[str]:
        """Two lines that are comments to this kind's client ('#': sqlite3 and mariadb skip
        them) and make psql, given the script by mistake, stop before its first statement:
        ON_ERROR_STOP set, a message, and the buffer ('#') sent so that it fails (exit 3).
        Without them a plain `psql -f` went on past each error and created tables."""
        return [
            "# \\set ON_ERROR_STOP on",
            f"# \\echo 'schemactl: this is a {self.title} script; apply it with {self.client}, "
            "not psql' \\\\ \\g",
        ]

    def timeouts(self, scope: str = "LOCAL") -> list[str]:
        """The timeouts a script sets before its statements (for a linter to know), for its
        transaction (LOCAL) or a whole session (SESSION)."""
        return []

    def outside_transaction(self) -> list[str]:
        """What a script sets before statements that run outside its transaction (the
        timeouts it set for the transaction do not reach them)."""
        return []

    def timeouts_in_words(self) -> str:
        """The script's timeouts as its header states them."""
        return "none"

    def begin(self) -> list[str]:
        return ["BEGIN;"] if self.transactional else []

    def commit(self) -> list[str]:
        return ["COMMIT;"] if self.transactional else []

    def guard(self, expected: Sequence[str]) -> str:
        raise NotImplementedError

    def database_guard(self) -> list[str]:
        """Stop unless this database holds none of the other databases' version
        tables (a script of database ``database_name`` was handed another one)."""
        if not self.other_version_tables:
            return []
        found = ", ".join(
            f"{table} (database {other})" for table, other in self.other_version_tables
        )
        message = (
            f"schemactl guard: this database holds the version table of another database: "
            f"{found}; this script is for database {self.database_name}: run it on that "
            "database. Nothing was changed"
        )
        names = ", ".join(self.literal(table) for table, _ in self.other_version_tables)
        return [self._database_guard(names, self.literal(message))]

    def _database_guard(self, names: str, message: str) -> str:
        raise NotImplementedError

    def same_database(self, one: URL, other: URL) -> bool:
        """Whether two URLs of this kind name the same database."""
        where = (one.host or "", one.port, one.database)
        return where == (other.host or "", other.port, other.database)

    def lock(self) -> list[str]:
        """What makes a second client applying a script at the same moment wait for
        the first (its guard then finds the new state and stops)."""
        return []

    def unlock(self) -> list[str]:
        return []

    @cached_property
    def lock_key(self) -> int:
        """A stable 63-bit number naming this database's version table, for advisory locks."""
        digest = hashlib.sha256(f"schemactl:{self.version_name}".encode()).digest()
        return int.from_bytes(digest[:8], "big") >> 1

    def _verified(self, statement: str, old: str) -> list[str]:
        """A stamp that moves no row of the version table stops the script."""
        return [statement]

    def ensure_tables(self, *, online: bool = False) -> list[str]:
        """Create the version and audit tables if this database has none yet, and
        bring an audit table of an earlier layout up to this one, keeping its rows.
        ``online``: for a driver rather than the command-line client."""
        from sqlalchemy.schema import CreateTable

        created = [
            self.compile(CreateTable(self._tables[name], if_not_exists=True))
            for name in (VERSION_TABLE, AUDIT_TABLE)
        ]
        return created + self._upgrade_audit(online)

    def _upgrade_audit(self, online: bool) -> list[str]:
        """Statements that add what layout 2 adds to the audit table where it is missing,
        and do nothing (not even lock the table) where it is there: columns added in place,
        no row touched."""
        raise NotImplementedError

    def _add_timing_columns(self) -> str:
        # ALTER TABLE schemactl_audit ADD COLUMN IF NOT EXISTS ..., one clause per column.
        # No statement: only the compiler's column rendering is used.
        compiler = self.sa_dialect.ddl_compiler(self.sa_dialect, None)  # type: ignore[arg-type]
        audit = self._tables[TIMED_AUDIT_TABLE]
        added = ",\n            ".join(
            f"ADD COLUMN IF NOT EXISTS {compiler.get_column_specification(audit.c[name])}"
            for name in TIMING_COLUMNS
        )
        return f"ALTER TABLE {AUDIT_TABLE}\n            {added};"

    def online_session(self) -> list[str]:
        """What an online command runs first on its connection: the scripts' timeouts, for
        the session, and their lock (released when the connection closes)."""
        return []

    def audit_layout(self, inspector: Inspector) -> int | None:
        """The layout of the database's audit table (None: it has none)."""
        if AUDIT_TABLE not in inspector.get_table_names():
            return None
        columns = {column["name"] for column in inspector.get_columns(AUDIT_TABLE)}
        return 2 if set(TIMING_COLUMNS) <= columns else 1

    def audit_rows_sql(self, layout: int) -> str:
        """Every audit row, oldest first, with the timing columns (NULL before layout 2)."""
        timing = TIMING_COLUMNS if layout >= 2 else [f"NULL AS {c}" for c in TIMING_COLUMNS]
        return (
            "SELECT id, revision, direction, revision_sha256, applied_at, applied_by, "
            f"{', '.join(timing)} FROM {AUDIT_TABLE} ORDER BY id"
        )

    # -- backups (tools.scripts.backup_plan decides what is kept, these say it in SQL) -----------

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
        return kept

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

    def last_duration_sql(self) -> str:
        """The duration of the audit row this session wrote last."""
        return f"SELECT duration_ms FROM {AUDIT_TABLE} ORDER BY id DESC LIMIT 1"

    def clock_setup(self) -> list[str]:
        """What a session needs once before clock_start() (SQLite: a temp table)."""
        return []

    def clock_start(self) -> list[str]:
        """Note the server's clock as a step starts, for its audit row."""
        raise NotImplementedError

    # In the audit row: the step's start as clock_start() noted it, and now, both
    # by the server's clock; the duration in milliseconds between two such values.
    _clock_started: ClassVar[str]
    _clock_now: ClassVar[str]
    _timed_shape: ClassVar[str] = "timed audit"

    def _duration_ms(self, started: str, finished: str) -> str:
        raise NotImplementedError

    @cached_property
    def _tables(self) -> dict[str, Any]:
        return _tables(self.version_table, self.version_table_schema)

    @cached_property
    def version_name(self) -> str:
        """The version table's name as SQL writes it: quoted where needed, schema first."""
        return self.sa_dialect.identifier_preparer.format_table(self._tables[VERSION_TABLE])

    def _in_string(self, name: str) -> str:
        # A name inside an SQL string literal (dynamic SQL): quotes doubled.
        return name.replace("'", "''")

    def stamp(self, remove: Sequence[str], add: Sequence[str]) -> list[str]:
        """Move alembic_version from the heads in ``remove`` to those in ``add``."""
        remove = [safe_revision(r) for r in remove]
        add = [safe_revision(r) for r in add]
        if len(remove) == 1 and len(add) == 1:
            return self._verified(self._fill("update", old=remove[0], new=add[0]), remove[0])
        deleted = [line for r in remove for line in self._verified(self._fill("delete", old=r), r)]
        return deleted + [self._fill("insert", new=a) for a in add]

    def audit(self, revision: str, direction: str, sha256: str, release: str | None = None) -> str:
        """The audit row of one step, as the script writes it (timed, from the
        clock_start() before the step's statements, and naming ``release``)."""
        return "\n".join(self.audit_statements(revision, direction, sha256, release))

    def audit_statements(
        self, revision: str, direction: str, sha256: str, release: str | None = None
    ) -> list[str]:
        values = {"revision": safe_revision(revision), "direction": direction, "sha": sha256}
        timed = self._fill(self._timed_shape, **values, release=_release(release))
        return [*self._clock_stop(), timed]

    def _clock_stop(self) -> list[str]:
        """What notes a step's end before its audit row (nothing: the row asks
        the clock itself)."""
        return []

    # A script has one stamp and one audit row per revision: compiling each through
    # SQLAlchemy cost more than Alembic's whole render on long histories. Each shape is
    # compiled once, with named parameters, and filled in with the dialect's own literal
    # quoting (what literal_binds does); the values are revision ids and hex digests.
    @cached_property
    def _shapes(self) -> dict[str, str]:
        from sqlalchemy import bindparam, delete, insert, update

        version = self._tables[VERSION_TABLE]
        audit = self._tables[AUDIT_TABLE]
        shapes: dict[str, ClauseElement] = {
            "update": update(version)
            .where(version.c.version_num == bindparam("old"))
            .values(version_num=bindparam("new")),
            "delete": delete(version).where(version.c.version_num == bindparam("old")),
            "insert": insert(version).values(version_num=bindparam("new")),
            "audit": insert(audit)
            .values(
                revision=bindparam("revision"),
                direction=bindparam("direction"),
                revision_sha256=bindparam("sha"),
                applied_by=self.applied_by(),
            )
            # The id comes from the server; nothing to fetch back (no RETURNING clause).
            .inline(),
        }
        shapes[self._timed_shape] = self._timed_audit()
        from sqlalchemy.engine.interfaces import BindTyping

        named = _named(type(self.sa_dialect))
        named.bind_typing = BindTyping.NONE  # no ::VARCHAR casts: the values become literals
        return {
            name: str(statement.compile(dialect=named)).replace("\t", "    ").strip() + ";"
            for name, statement in shapes.items()
        }

    @cached_property
    def _quote(self) -> Callable[[str], str]:
        from sqlalchemy import String

        quote = String().literal_processor(dialect=self.sa_dialect)
        assert quote is not None
        if self.literal("\\") == quote("\\"):
            return quote
        # The compiler escapes more than the type does (MySQL's backslashes, which its
        # default sql_mode reads as escapes): let it, for the values where that matters.
        return lambda value: self.literal(value) if "\\" in value else quote(value)

    def _fill(self, shape: str, **values: str | None) -> str:
        def value(match: re.Match[str]) -> str:
            found = values[match.group(1)]
            return "NULL" if found is None else self._quote(found)

        return _PARAMETER.sub(value, self._shapes[shape])

    def _timed_audit(self) -> Insert:
        """The timed audit row: who and what as before, plus the step's start (noted by
        clock_start()), its end and duration by the server's clock, and the release."""
        from sqlalchemy import bindparam, insert, literal_column, select

        audit = self._tables[TIMED_AUDIT_TABLE]
        clock = select(
            literal_column(self._clock_started).label("started_at"),
            literal_column(self._clock_now).label("finished_at"),
        ).subquery("clock")
        row: Select[Any] = select(
            bindparam("revision").label("revision"),
            bindparam("direction").label("direction"),
            bindparam("sha").label("revision_sha256"),
            self.applied_by().label("applied_by"),
            clock.c.started_at,
            clock.c.finished_at,
            literal_column(self._duration_ms("clock.started_at", "clock.finished_at")).label(
                "duration_ms"
            ),
            bindparam("release").label("release_name"),
        )
        columns = ["revision", "direction", "revision_sha256", "applied_by", *TIMING_COLUMNS]
        return insert(audit).from_select(columns, row)

    def applied_by(self) -> ColumnElement[Any]:
        from sqlalchemy import null

        return null()

    def non_transactional(self, statement: str) -> bool:
        """Whether a statement refuses to run inside a transaction."""
        return False

    def create_database(self, name: str) -> str | None:
        """The statement that makes a throwaway database (None: nothing to run)."""
        return f"CREATE DATABASE {_identifier(name)}"

    def drop_database(self, name: str) -> str | None:
        return f"DROP DATABASE IF EXISTS {_identifier(name)}"

    # The query listing a server's databases (throwaway ones left by killed runs are swept).
    databases_sql: ClassVar[str | None] = None

    def scratch_setup(self) -> list[str]:
        """Statements that make a fresh throwaway database like one of this environment's,
        for its scripts to be proven on (PostgreSQL: the schema they work in)."""
        return []

    def session_url(self, url: URL) -> URL:
        """``url`` with the environment's session settings, so what migrations create and
        what is reflected is where its scripts work (PostgreSQL: search_path)."""
        return url


def _shell(word: str) -> str:
    # A table name in a shell command a DBA may paste: one word, whatever it holds.
    import shlex

    return shlex.quote(word)


def _dump_file(table: str) -> str:
    # The file a dump command writes: the table's name, made a plain file name.
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", table).lstrip(".") + ".before.sql"


def _release(name: str | None) -> str | None:
    # What the audit's release_name column (VARCHAR(100)) holds.
    return None if name is None else name[:100]


def _guard_message(expected: Sequence[str]) -> str:
    return ",".join(expected) or "base (no revision)"


@dataclass(frozen=True)
class PostgreSQL(ScriptDialect):
    name: ClassVar[str] = "postgresql"
    title: ClassVar[str] = "PostgreSQL"
    client: ClassVar[str] = "psql"
    transactional: ClassVar[bool] = True
    driver: ClassVar[str] = "psycopg"
    family: ClassVar[frozenset[str]] = frozenset({"postgresql"})
    aliases: ClassVar[dict[str, str]] = {"postgres": "postgresql"}
    setting_patterns: ClassVar[dict[str, tuple[str, str]]] = {
        "lock_timeout": (r"\d+(\.\d+)?\s*(us|ms|s|min|h|d)?", "5s"),
        "statement_timeout": (r"\d+(\.\d+)?\s*(us|ms|s|min|h|d)?", "15min"),
        # The schema the script works in (search_path): lower case, as PostgreSQL folds an
        # unquoted name; not pg_* (reserved: pg_temp would "work" and keep nothing).
        "schema": (r"(?!pg_)[a-z_][a-z0-9_$]{0,62}", "public"),
    }
    example_url: ClassVar[str] = "postgresql://USER@HOST:5432/DBNAME"
    text_holds_nul: ClassVar[bool] = False
    sqlglot: ClassVar[str] = "postgres"
    # squawk: its statement rules, on every statement a script runs (tools.lint.squawk).
    lint_rules: ClassVar[frozenset[str]] = frozenset(
        {"postgresql-locks", "enum-lifecycle", "squawk"}
    )
    _CONCURRENTLY: ClassVar[re.Pattern[str]] = re.compile(
        r"^\s*(CREATE\s+(UNIQUE\s+)?INDEX|DROP\s+INDEX|REINDEX\b.*?)\s+CONCURRENTLY\b", re.I
    )

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

    def apply_command(self, path: str) -> str:
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
            "\\set ON_ERROR_STOP on",
            "SET client_encoding = 'UTF8';",
            "SET standard_conforming_strings = on;",
            "SET client_min_messages = warning;",
            f"SELECT pg_catalog.set_config('search_path', {schema}, false) \\g /dev/null",
        ]

    def lock(self) -> list[str]:
        # Held for the session (across the COMMITs of steps that run outside a transaction);
        # taken inside the first transaction, so lock_timeout bounds the wait.
        return [f"SELECT pg_catalog.pg_advisory_lock({self.lock_key}) \\g /dev/null"]

    def unlock(self) -> list[str]:
        return [f"SELECT pg_catalog.pg_advisory_unlock({self.lock_key}) \\g /dev/null"]

    def _verified(self, statement: str, old: str) -> list[str]:
        message = self.literal(
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

    def _restored(self, kept: Any, type_: Any) -> Any:
        from sqlalchemy import Enum, cast

        if isinstance(type_, Enum) and type_.name and type_.native_enum:
            return cast(kept, type_)
        return kept

    def dump_command(self, table: str) -> str:
        return f"pg_dump --dbname=DBNAME --table={_shell(table)} --file={_dump_file(table)}"

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


@dataclass(frozen=True)
class MariaDB(ScriptDialect):
    name: ClassVar[str] = "mariadb"
    title: ClassVar[str] = "MariaDB"
    client: ClassVar[str] = "mariadb"
    # MariaDB commits every DDL statement: a script cannot be all or nothing.
    transactional: ClassVar[bool] = False
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

    # MariaDB 10.11's default sql_mode: without NO_BACKSLASH_ESCAPES, which would change what
    # the literals in a script (written with backslash escapes) mean.
    SQL_MODE: ClassVar[str] = (
        "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION"
    )

    @property
    def _lock_wait(self) -> int:
        """lock_wait_timeout in seconds, as the environment sets it or by default."""
        return int(self.settings.get("lock_wait_timeout", "10"))

    def preamble(self) -> list[str]:
        wait = self._lock_wait
        return [
            *self.stops_psql(),
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

    def migration_engine(self, url: URL) -> Engine:
        # READ COMMITTED: the version table read again under the lock sees what a client that
        # held the lock committed (REPEATABLE READ kept the snapshot of the first read, taken
        # before the wait, and three clients ran one data migration three times). The
        # scripts' sql_mode is set before SQLAlchemy reads it, so both agree on quoting.
        from sqlalchemy import create_engine, event, pool

        engine = create_engine(url, poolclass=pool.NullPool, isolation_level="READ COMMITTED")
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
        message = self.literal(f"schemactl stamp: {self.version_name} did not hold {old}; stopped")
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


@dataclass(frozen=True)
class MySQL(MariaDB):
    # Rendered as for MariaDB (the guard uses MariaDB's BEGIN NOT ATOMIC); tested on MariaDB.
    name: ClassVar[str] = "mysql"
    title: ClassVar[str] = "MySQL"
    client: ClassVar[str] = "mysql"
    example_url: ClassVar[str] = "mysql://USER@HOST:3306/DBNAME"

    def apply_command(self, path: str) -> str:
        return f"mysql --database=DBNAME < {path}"

    def dump_command(self, table: str) -> str:
        return f"mysqldump --single-transaction DBNAME {_shell(table)} > {_dump_file(table)}"


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
        self, revision: str, direction: str, sha256: str, release: str | None = None
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


DIALECTS: dict[str, type[ScriptDialect]] = {d.name: d for d in (PostgreSQL, MariaDB, MySQL, SQLite)}


def script_dialect(name: str, settings: Mapping[str, str] | None = None) -> ScriptDialect:
    try:
        kind = DIALECTS[name]
    except KeyError:
        raise UnknownDialect(name) from None
    return kind(settings=dict(settings or {}))


def embedded() -> ScriptDialect:
    """The kind of database whose throwaway databases need no server: a file will do."""
    return next(kind() for kind in DIALECTS.values() if not kind.needs_server)


def rule_applies(kind: ScriptDialect, rule: str) -> bool:
    """Whether a lint rule judges this kind of database: rules no kind claims apply to all."""
    return rule in kind.lint_rules or not any(rule in k.lint_rules for k in DIALECTS.values())


def dialect_of_url(url: URL) -> ScriptDialect:
    """The kind of database a URL reaches (a MySQL URL is rendered for as MySQL)."""
    backend = url.get_backend_name()
    for kind in DIALECTS.values():
        if backend in kind.aliases:
            return kind()
    return script_dialect(backend)


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
            probe = ops.AddColumnOp(op.table_name, op.column._copy())
            Operations(MigrationContext.configure(connection)).invoke(probe)
    except (DBAPIError, NotImplementedError):
        return False
    finally:
        engine.dispose()
    return True


class UnknownDialect(ConfigError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"dialect {name or '(missing)'} is not one schemactl renders for; use one of: "
            + ", ".join(sorted(DIALECTS))
        )


def driver_hint() -> str:
    """Which driver each kind of database is reached with, for an error message."""
    return ", ".join(f"+{kind.driver} ({kind.name})" for kind in DIALECTS.values())


@functools.cache
def _tables(version_table: str, version_table_schema: str | None) -> dict[str, Any]:
    """The version table (keyed VERSION_TABLE whatever its name), the audit table in layout 1
    (AUDIT_TABLE) and layout 2 (TIMED_AUDIT_TABLE), and SQLite's table of step timings."""
    from sqlalchemy import (
        Column,
        DateTime,
        Integer,
        MetaData,
        Numeric,
        PrimaryKeyConstraint,
        String,
        Table,
    )
    from sqlalchemy import text as sql_text
    from sqlalchemy.dialects import mysql

    # Microseconds: MariaDB's DATETIME keeps whole seconds unless asked.
    timestamp = DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

    def timing() -> list[Column[Any]]:
        return [
            Column("started_at", timestamp),
            Column("finished_at", timestamp),
            Column("duration_ms", Numeric(12, 3)),
            Column("release_name", String(100)),
        ]

    def layout_1(metadata: MetaData, *extra: Column[Any]) -> Table:
        return Table(
            AUDIT_TABLE,
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("revision", String(32), nullable=False),
            Column("direction", String(10), nullable=False),
            Column("revision_sha256", String(64), nullable=False),
            Column(
                "applied_at",
                DateTime(timezone=True),
                server_default=sql_text("CURRENT_TIMESTAMP"),
                nullable=False,
            ),
            Column("applied_by", String(128)),
            *extra,
        )

    metadata = MetaData()
    audit = layout_1(metadata)
    return {
        # Exactly Alembic's own definition, so online Alembic can carry on from a script.
        VERSION_TABLE: Table(
            version_table,
            metadata,
            Column("version_num", String(32), nullable=False),
            PrimaryKeyConstraint("version_num", name=f"{version_table}_pkc"),
            schema=version_table_schema,
        ),
        AUDIT_TABLE: audit,
        TIMED_AUDIT_TABLE: layout_1(MetaData(), *timing()),
        AUDIT_TIMING_TABLE: Table(
            AUDIT_TIMING_TABLE,
            metadata,
            # The audit row's id; no foreign key: pruning old audit rows must not make every
            # later script's foreign-key check fail.
            Column("audit_id", Integer, primary_key=True, autoincrement=False),
            *timing(),
        ),
    }
