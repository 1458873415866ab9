"""A kind of database, its script role: what the template calls (session settings,
transactions, guards, locks, stamps, the audit and its clock). ScriptDialect is the whole kind."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from tools.core.directions import AuditedStep
from tools.dialects.names import (
    _PARAMETER,
    AUDIT_TABLE,
    TIMED_AUDIT_TABLE,
    TIMING_COLUMNS,
    VERSION_TABLE,
    _named,
    _release,
    safe_revision,
)
from tools.dialects.online import OnlineForms

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Inspector
    from sqlalchemy.sql import ClauseElement, ColumnElement, Insert, Select


class ScriptDialect(OnlineForms):
    """How one kind of database is guarded, stamped and applied."""

    # -- what the template calls -------------------------------------------------------------

    def apply_command(self, path: str) -> str:
        raise NotImplementedError

    def clients(self) -> str:
        """Which clients a script of this kind is for, as its header says it."""
        return self.client

    def preamble(self) -> list[str]:
        """Session settings before anything else runs."""
        return []

    def copy_commands(self, sql: str, *, measured: bool = False) -> list[str]:
        """For a statement that copies its table under a lock (it says so, or ``measured``:
        the server did): the commands of tools that make the same change while writes go
        on (none, by default)."""
        return []

    def script_statement(self, sql: str) -> str:
        """A revision's statement as this kind's client reads it from a script."""
        return sql

    # The ALTER TABLE actions (as tools.scripts.statements names them) this kind always does
    # without copying the table or stopping writes, and says so in the statement.
    ONLINE_ACTIONS: ClassVar[frozenset[str]] = frozenset()

    def stated_online(self, actions: Sequence[str], sql: str) -> str | None:
        """``sql`` (an ALTER TABLE or CREATE INDEX that does ``actions``) with the clause
        that makes the server refuse it rather than copy the table or stop writes, where
        every action is one of ONLINE_ACTIONS; None where one is not."""
        return None

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
            self.bookkeeping(self.compile(CreateTable(self._tables[name], if_not_exists=True)))
            for name in (VERSION_TABLE, AUDIT_TABLE)
        ]
        return created + self._upgrade_audit(online)

    def bookkeeping(self, statement: str) -> str:
        """One of schemactl's own statements, as the script shows it (PostgreSQL: with the
        comments that keep a linter of the scripts to the revisions' statements)."""
        return statement

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
        # SQLAlchemy's Table: imported when a script is made, not with the kinds (a command
        # that reads the project's configuration only does not load SQLAlchemy).
        from tools.dialects.tables import version_and_audit_tables

        return version_and_audit_tables(self.version_table, self.version_table_schema)

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

    def audit(
        self, revision: str, direction: AuditedStep, sha256: str, release: str | None = None
    ) -> str:
        """The audit row of one step, as the script writes it (timed, from the
        clock_start() before the step's statements, and naming ``release``)."""
        return "\n".join(self.audit_statements(revision, direction, sha256, release))

    def audit_statements(
        self, revision: str, direction: AuditedStep, sha256: str, release: str | None = None
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
