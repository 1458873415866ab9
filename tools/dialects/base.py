"""A kind of database, its first role: names, URL policy, the command-line client, and
throwaway databases. The script SQL (scripts.py) and the backups (backups.py) build on it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from tools.core.errors import ConfigError
from tools.dialects.names import (
    AUDIT_TABLE,
    VERSION_TABLE,
    _identifier,
    _named,
    is_plain_name,
)

if TYPE_CHECKING:
    from pathlib import Path

    from alembic.operations.ops import MigrateOperation
    from sqlalchemy.engine import URL, Dialect, Engine
    from sqlalchemy.sql import ClauseElement


@dataclass(frozen=True)
class ClientCommand:
    """A command-line client run: its arguments, the environment variables it needs on top
    of the caller's (a password), and the script for its standard input (None: the
    arguments name the script)."""

    args: tuple[str, ...]
    env: Mapping[str, str]
    stdin: Path | None


@dataclass(frozen=True)
class DialectBase:
    """What a kind of database is: its names, its URLs, its client, its throwaway databases."""

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
    # SET NOT NULL skips its scan of the table where a validated CHECK (col IS NOT NULL)
    # proves it (PostgreSQL 12+).
    check_proves_not_null: ClassVar[bool] = False
    # A NOT NULL column added without a default gets the type's implicit one (0, '') in
    # every row, rather than the statement failing (MariaDB, MySQL).
    fills_not_null_columns: ClassVar[bool] = False
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

    def engine(self, url: URL, **options: Any) -> Engine:
        """An engine on ``url`` that connects at each use and keeps no connection open
        (NullPool: the scripts' client and Alembic change the schema in between), its driver
        prepared (prepare_driver). Every engine schemactl opens is made here."""
        from sqlalchemy import create_engine, pool

        self.prepare_driver()
        return create_engine(url, poolclass=pool.NullPool, **options)

    def prepare_driver(self) -> None:
        """What the driver needs once per process before it connects (nothing, by default)."""

    def connect_timeout(self, seconds: float) -> dict[str, Any]:
        """The driver's connect_args that give up connecting (and reading) after about
        ``seconds``: a dead server costs that, not the operating system's minutes."""
        return {}

    def migration_engine(self, url: URL) -> Engine:
        """The engine migrations run on online: each of its transactions all or nothing, in
        the session the scripts set up (session_url)."""
        return self.engine(self.session_url(url))

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

    def needs_rebuild(self, operations: Sequence[MigrateOperation]) -> bool:
        """Whether these operations on one table need it rebuilt (a batch block with the
        table written out as ``copy_from``) because this kind cannot ALTER them in place."""
        return False
