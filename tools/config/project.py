"""A project and its environments, as alembic.ini describes them: which databases exist,
where their revisions and scripts live, and where each environment's URL comes from."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tools.config.urls import parse_url, scratch_variable
from tools.core.errors import ConfigError, MissingDatabaseUrl, UnknownEnvironment
from tools.dialects import (
    ScriptDialect,
    script_dialect,
)

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import URL


DEFAULT_CONFIG = "alembic.ini"
ENV_SECTION_PREFIX = "schemactl.env."
# Environment used by an Alembic project that has no [schemactl.env.*] sections.
IMPLICIT_ENV = "default"
# Rows a proof (check's migrations-run, release) puts into every table before each step,
# unless [schemactl] proof_rows or --rows says otherwise.
PROOF_ROWS = 3
MAX_PROOF_ROWS = 10_000


@dataclass(frozen=True)
class Environment:
    """One database the schema is deployed to."""

    name: str
    dialect: str
    url_env: str | None = None
    default_url: str | None = None
    # Script settings for this environment, e.g. lock_timeout = 5s (PostgreSQL).
    settings: Mapping[str, str] = field(default_factory=dict)
    # False: online commands (upgrade, downgrade) refuse; changes go through releases.
    online: bool = True
    # False (backup = off): scripts keep no copy of what destructive steps drop.
    backup: bool = True
    # False (safe = false): the online operations (tools.operations.online) run their plain
    # forms, as Alembic's own operations would (a dev database needs no care for writers).
    safe: bool = True
    # Promotion: the environment whose audit must show a release's revisions applied before
    # `release` writes it for this one (requires = staging in [schemactl.env.prod]).
    requires: str | None = None
    # The database of the project (an ini section, as `alembic -n NAME` names it) whose URL
    # this is, when it is not the project's first (the one plain `alembic` uses); else None.
    database: str | None = None
    # The other databases' URL settings in this environment: (database, url_env, default_url).
    others: tuple[tuple[str, str | None, str | None], ...] = ()

    def as_json(self) -> dict[str, object]:
        """The head of every JSON report about one environment's database (see docs/commands.md:
        "JSON output")."""
        return {"environment": self.name, "dialect": self.dialect, "database": self.database}

    def with_client(self, client: str) -> Environment:
        """This environment with its scripts rendered for ``client`` (`sql --client`): a
        kind of database with no client variants, or an unknown client, is a ConfigError."""
        if "client" not in self.kind.setting_patterns:
            raise ConfigError(
                f"--client: {self.kind.title} scripts have one form only (for "
                f"{self.kind.clients()}); leave --client out"
            )
        changed = replace(self, settings={**self.settings, "client": client})
        changed.kind.check_settings()
        return changed

    def check_online(self, command: str) -> None:
        """Refuse an online command on an environment that takes only reviewed scripts."""
        if not self.online:
            raise OnlineRefused(
                f"environment {self.name} is online = false: `{command}` does not run there; "
                f"render a release (`schemactl release --env {self.name}`) for the DBA to "
                "apply, or see what it would do with --plan"
            )

    @property
    def kind(self) -> ScriptDialect:
        """Everything this environment's kind of database knows (tools.dialects)."""
        return script_dialect(self.dialect, self.settings)

    def raw_url(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The database URL as given (``url_env``, else the default), unparsed; None: none."""
        environ = os.environ if environ is None else environ
        given = environ.get(self.url_env) if self.url_env else None
        return given or self.default_url

    def url(self, environ: Mapping[str, str] | None = None) -> URL:
        """The database URL, from ``url_env`` or the default; the driver filled in if missing.
        Nothing is created: a command that writes calls ``kind.prepare(url)`` first."""

        environ = os.environ if environ is None else environ
        raw = environ.get(self.url_env) if self.url_env else None
        source = f"${self.url_env}" if raw else "alembic.ini"
        raw = raw or self.default_url
        kind = self.kind
        of = f" of database {self.database}" if self.database else ""
        if not raw:
            if self.url_env:
                raise MissingDatabaseUrl(self.name, self.url_env, kind.example_url)
            if self.database:
                raise ConfigError(
                    f"environment {self.name!r} has no URL for database {self.database}; set "
                    f"{self.database}.url_env in [schemactl.env.{self.name}] of alembic.ini"
                )
            raise ConfigError(
                f"environment {self.name!r} has no database URL; set sqlalchemy.url or "
                "url_env in alembic.ini"
            )
        url = parse_url(
            raw,
            kind,
            f"the database URL{of} in {source} for environment {self.name!r}",
            f"environment {self.name!r} is {self.dialect} but the URL{of} in {source} is for "
            f"{{backend}}; point {source} at a {self.dialect} database",
        )
        self._check_own(url, environ, source)
        return url

    def _check_own(self, url: URL, environ: Mapping[str, str], source: str) -> None:
        """Two databases of a project never share one: each one's tables and history would
        look like drift to the other (autogenerate would offer to drop them)."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        for other, url_env, default_url in self.others:
            raw = (environ.get(url_env) if url_env else None) or default_url
            try:
                theirs = self.kind.complete(make_url(raw)) if raw else None
            except (ArgumentError, ValueError):
                continue  # reported when that database is used
            if theirs is not None and self.kind.same_database(theirs, url):
                raise ConfigError(
                    f"environment {self.name!r}: the URL in {source} is the one database "
                    f"{other} uses; each database of the project needs its own: point "
                    f"{source} at another database"
                )


@dataclass(frozen=True)
class Project:
    """An Alembic project as schemactl sees it: its config file and environments."""

    config_path: Path
    default_env: str
    environments: dict[str, Environment] = field(repr=False)
    sql_out: Path
    # A Mako template of the project's own for DBA scripts; None means schemactl's.
    template: Path | None = None
    # `-x KEY=VALUE` arguments for env.py, as `alembic -x` passes them.
    x_arguments: tuple[str, ...] = ()
    # Servers for throwaway databases, per dialect, from [schemactl] scratch_<dialect>_url.
    scratch_urls: Mapping[str, str] = field(default_factory=dict)
    # Linter rules that are off by default and turned on ([schemactl] lint_include).
    lint_include: tuple[str, ...] = ()
    # Where the revision files are read from instead of alembic.ini's version_locations (the
    # history as releases were rendered from, squashed files back in place: tools.history.load).
    version_locations: str | None = None
    # The database worked on: the ini section Alembic reads (`alembic -n NAME`), and every
    # database of the project, the default first.
    database: str = "alembic"
    databases: tuple[str, ...] = ("alembic",)
    # Each database's name as scripts, errors and `-n` show it (display_name in its section;
    # else the section's name).
    display_names: Mapping[str, str] = field(default_factory=dict)
    # Rows per table in proofs ([schemactl] proof_rows, or --rows).
    proof_rows: int = PROOF_ROWS

    @property
    def root(self) -> Path:
        return self.config_path.parent

    @property
    def several(self) -> bool:
        """Whether the project has more than one database (then paths and commands name it)."""
        return len(self.databases) > 1

    @property
    def display_name(self) -> str:
        """The name of the database worked on, as people are shown it."""
        return self.shown(self.database)

    def shown(self, database: str) -> str:
        return self.display_names.get(database, database)

    @property
    def default_database(self) -> bool:
        """Whether this is the project's first database (the one plain `alembic` uses)."""
        return self.database == self.databases[0]

    def releases_dir(self, environment: Environment) -> Path:
        """Where an environment's releases of this database live: sql_out/ENV/ for the first
        database, sql_out/ENV/NAME/ for another one. (The first keeps its folder when a
        database is added: a released script names its own path, and never changes.)"""
        folder = self.sql_out / environment.name
        return folder if self.default_database else folder / self.database

    @property
    def squash_archive(self) -> Path:
        """Where `schemactl squash` keeps the files it replaced, a folder per squash:
        squashed/ for the first database, squashed/NAME/ for another."""
        folder = self.root / "squashed"
        return folder if self.default_database else folder / self.database

    def work_dir(self, environment: Environment) -> Path:
        """Where `schemactl sql` writes when not told: var/sql/ENV/, or var/sql/ENV/NAME/ for
        each database of a project of several (var/ is not committed)."""
        folder = self.root / "var" / "sql" / environment.name
        return folder / self.database if self.several else folder

    def scratch_server(
        self, kind: ScriptDialect, environ: Mapping[str, str] | None = None
    ) -> URL | None:
        """The server on which throwaway databases of ``kind`` may be created and dropped:
        $SCHEMACTL_SCRATCH_<DIALECT>_URL, else ``scratch_<dialect>_url`` in [schemactl];
        None when neither is set. A kind that needs no server gets None too."""

        if not kind.needs_server:
            return None
        environ = os.environ if environ is None else environ
        variable = scratch_variable(kind)
        raw = environ.get(variable) or self.scratch_urls.get(kind.name)
        if not raw:
            return None
        return parse_url(
            raw,
            kind,
            f"the scratch {kind.name} URL (${variable} or scratch_{kind.name}_url)",
            f"the scratch {kind.name} URL (${variable} or scratch_{kind.name}_url) is for "
            f"{{backend}}; point it at a {kind.name} server",
        )

    def require_scratch_server(self, kind: ScriptDialect) -> URL | None:
        """The scratch server of ``kind`` (None for a kind that needs none); NoScratchServer
        when it needs one and none is set."""
        server = self.scratch_server(kind)
        if kind.needs_server and server is None:
            raise NoScratchServer(
                f"no scratch {kind.title} server: set ${scratch_variable(kind)} (or "
                f"scratch_{kind.name}_url in [schemactl]) to a server where schemactl may "
                "create and drop databases"
            )
        return server

    def environment(self, name: str | None = None) -> Environment:
        name = name or self.default_env
        try:
            return self.environments[name]
        except KeyError:
            raise UnknownEnvironment(name, sorted(self.environments)) from None

    def alembic_config(
        self,
        environment: Environment | None = None,
        *,
        url: URL | None = None,
        quiet: bool = False,
        plain_operations: bool = False,
    ) -> Config:
        """A fresh Alembic ``Config`` for this project: the one way schemactl builds one.

        ``environment`` and ``url`` tell env.py which database to use; ours reads them from
        ``config.attributes``, a foreign env.py from ``sqlalchemy.url``, which is set with
        its ``%`` escaped for the ini parser (a path or password may hold one). ``quiet``
        keeps Alembic's own chatter out of sight: schemactl reports what it did itself.
        ``plain_operations`` asks autogenerate for plain operations rather than SQLite batch
        ones: they render offline on every dialect.
        """
        import argparse
        import io

        from alembic.config import Config

        cfg = Config(str(self.config_path), ini_section=self.database)
        if environment is not None:
            cfg.attributes["schemactl.environment"] = environment
        if url is not None:
            cfg.attributes["schemactl.url"] = url
            cfg.attributes["configure_logger"] = False
            raw = url.render_as_string(hide_password=False)
            cfg.set_main_option("sqlalchemy.url", raw.replace("%", "%%"))
        # What `alembic -x` leaves in cmd_opts, for env.py's context.get_x_argument().
        cfg.cmd_opts = argparse.Namespace(x=list(self.x_arguments), quiet=quiet)
        if quiet:
            cfg.stdout = io.StringIO()
        if plain_operations:
            cfg.attributes["schemactl.render_as_batch"] = False
        if self.version_locations is not None:
            cfg.set_main_option("version_locations", self.version_locations.replace("%", "%%"))
        return cfg


def proof_rows(value: str | None, where: str) -> int:
    """Rows per table for proofs, as a setting or option (``where``) gives them."""
    if value is None or not value.strip():
        return PROOF_ROWS
    if not value.strip().isascii() or not value.strip().isdigit() or int(value) > MAX_PROOF_ROWS:
        raise ConfigError(
            f"{where}: {value!r} is not a number of rows from 0 to {MAX_PROOF_ROWS}; "
            f"give e.g. {PROOF_ROWS}"
        )
    return int(value)


class NoScratchServer(ConfigError):
    """A throwaway database is needed on a server, and no scratch server is set."""


class OnlineRefused(ConfigError):
    """An online command on an environment marked online = false."""


class UnknownDatabase(ConfigError):
    """-n/--name names no database of the project."""
