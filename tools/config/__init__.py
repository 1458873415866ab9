"""Where things are and which databases exist: alembic.ini and its [schemactl] sections.

An environment names its dialect and the environment variable its URL comes from; a URL is
never stored in a committed file (dev may fall back to an embedded SQLite file). Offline work
needs only the dialect, so nothing here connects or imports a driver.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tools.core.errors import ConfigError, MissingDatabaseUrl, UnknownEnvironment
from tools.dialects import (
    ScriptDialect,
    dialect_of_url,
    driver_hint,
    is_plain_name,
    script_dialect,
)

if TYPE_CHECKING:
    import configparser

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
    # The database of the project (an ini section, as `alembic -n NAME` names it) whose URL
    # this is, when it is not the project's first (the one plain `alembic` uses); else None.
    database: str | None = None
    # The other databases' URL settings in this environment: (database, url_env, default_url).
    others: tuple[tuple[str, str | None, str | None], ...] = ()

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

    def for_database(self, name: str) -> Project:
        """The same project, working on another of its databases."""
        if name == self.database:
            return self
        loaded = load_project(self.config_path, name)
        return replace(loaded, x_arguments=self.x_arguments, proof_rows=self.proof_rows)

    def each_database(self, name: str | None = None) -> list[Project]:
        """This project for every database (the default first), or for ``name`` only."""
        names = [name] if name else list(self.databases)
        return [self.for_database(database) for database in names]

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


def load_project(
    config_path: str | os.PathLike[str] | None = None, database: str | None = None
) -> Project:
    """Read alembic.ini (default: ./alembic.ini) and its [schemactl] sections, for one of
    its databases (an ini section, as `alembic -n NAME` picks it; default: the first)."""
    import configparser

    from alembic.config import Config

    path = Path(config_path or DEFAULT_CONFIG)
    if not path.is_file():
        hint = "run from the repository root" if config_path is None else "check the path"
        raise ConfigError(f"no Alembic config at {path}; {hint} or pass -c PATH/TO/alembic.ini")
    path = path.resolve()
    cfg = Config(str(path))
    if database is None:
        try:
            names = databases_of(cfg.file_config)
        except (configparser.Error, UnicodeDecodeError):
            names = ()  # reported, with the line at fault, by project_from_alembic_config
        database = names[0] if names else MAIN_SECTION
    cfg.config_ini_section = database  # the section `alembic -n NAME` reads
    return project_from_alembic_config(cfg)


MAIN_SECTION = "alembic"
# The values Alembic takes for path_separator.
PATH_SEPARATORS = ("os", "space", "newline", ":", ";")
# Sections of an Alembic ini that are never a database.
_NOT_DATABASES = ("loggers", "handlers", "formatters", "post_write_hooks", "schemactl")


def databases_of(parser: configparser.ConfigParser) -> tuple[str, ...]:
    """The databases of a project: the sections of its ini that have a script_location
    (`alembic -n NAME` picks one), [alembic] first when there is one, then in file order."""
    if "script_location" in parser.defaults():
        # Every section would seem to have one: only the main section is a database.
        return (MAIN_SECTION,) if parser.has_section(MAIN_SECTION) else ()
    names = [
        section
        for section in parser.sections()
        if parser.has_option(section, "script_location")
        and not section.startswith(_NOT_DATABASES)
        and not section.startswith(("logger_", "handler_", "formatter_"))
    ]
    names.sort(key=lambda name: name != MAIN_SECTION)
    return tuple(names)


def project_from_alembic_config(cfg: Config) -> Project:
    """Build the Project from an Alembic Config (also how env.py finds the environments)."""
    import configparser

    if cfg.config_file_name is None:
        raise ConfigError("the Alembic config has no file; pass -c PATH/TO/alembic.ini")
    path = Path(cfg.config_file_name).resolve()
    try:
        parser = cfg.file_config
    except (configparser.Error, UnicodeDecodeError) as err:
        raise ConfigError(
            f"{path.name} cannot be read ({_ini_problem(err)}); fix the file or pass "
            "-c PATH/TO/alembic.ini"
        ) from err
    database = cfg.config_ini_section
    try:
        databases = databases_of(parser)
    except configparser.Error as err:
        raise ConfigError(f"{path.name} cannot be read ({_ini_problem(err)})") from err
    if not parser.has_section(database) and database == MAIN_SECTION:
        raise ConfigError(
            f"{path.name} has no [{database}] section, so it is not an Alembic "
            "config; pass -c PATH/TO/alembic.ini"
        )
    if database not in databases:
        listed = ", ".join(databases) or "none"
        raise UnknownDatabase(
            f"{path.name} has no database {database!r} (a section with a script_location, as "
            f"`alembic -n NAME` picks one); its databases: {listed}"
        )
    for name in databases:
        try:
            options = dict(parser.items(name))  # every value, interpolated as Alembic will
        except configparser.Error as err:
            raise ConfigError(f"{path.name} cannot be read ({_ini_problem(err)})") from err
        separator = options.get("path_separator")
        if separator is not None and separator not in PATH_SEPARATORS:
            raise ConfigError(
                f"path_separator = {separator!r} in [{name}] of {path.name} is not one Alembic "
                f"knows; write one of {', '.join(PATH_SEPARATORS)}"
            )
        table = options.get("version_table")
        if table is not None and not is_plain_name(table):
            raise ConfigError(
                f"version_table {table!r} in [{name}] of {path.name} is not a plain name: use "
                "letters, digits and '_' (a letter or '_' first, at most 63)"
            )
    several = len(databases) > 1
    for name in databases if several else ():
        if not _ENV_NAME.fullmatch(name):
            # The name becomes a folder under sql_out/ENV/ and appears in scripts.
            raise ConfigError(
                f"[{name}] in {path.name}: a database name is a letter followed by letters, "
                "digits, '_' or '-' (at most 40); rename the section"
            )
    try:
        environments = {
            section[len(ENV_SECTION_PREFIX) :]: _environment(
                section[len(ENV_SECTION_PREFIX) :],
                parser[section],
                database if several else None,
                databases,
            )
            for section in parser.sections()
            if section.startswith(ENV_SECTION_PREFIX)
        }
        settings = parser["schemactl"] if parser.has_section("schemactl") else {}
        sql_out = Path(settings.get("sql_out") or path.parent / "sql_out")
        template = Path(settings["template"]) if settings.get("template") else None
        default_env = settings.get("default_env") or next(iter(environments), IMPLICIT_ENV)
        scratch_urls = {
            key.removeprefix("scratch_").removesuffix("_url"): value
            for key, value in settings.items()
            if key.startswith("scratch_") and key.endswith("_url") and value
        }
        lint_include = tuple(
            name.strip() for name in (settings.get("lint_include") or "").split(",") if name.strip()
        )
        rows = proof_rows(settings.get("proof_rows"), f"proof_rows in {path.name}")
    except configparser.Error as err:
        raise ConfigError(f"{path.name} cannot be read ({_ini_problem(err)})") from err
    if not environments:
        implicit = _implicit_environment(cfg)  # the section's own sqlalchemy.url
        named = database if database != databases[0] else None
        environments = {IMPLICIT_ENV: replace(implicit, database=named)}
    if default_env not in environments:
        raise ConfigError(
            f"default_env = {default_env} in {path.name} names no [schemactl.env.{default_env}] "
            "section; add the section or change default_env"
        )
    if template is not None and not template.is_file():
        raise ConfigError(
            f"template = {template} in {path.name} is not a file; fix the path or remove the "
            "setting to use schemactl's own template"
        )
    return Project(
        path,
        default_env,
        environments,
        sql_out,
        template,
        scratch_urls=scratch_urls,
        lint_include=lint_include,
        database=database,
        databases=databases,
        proof_rows=rows,
    )


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


def parse_url(raw: str, kind: ScriptDialect, what: str, wrong_kind: str) -> URL:
    """A URL for ``kind``, its driver filled in. ``what`` names it in an error, which never
    shows the URL itself (it may hold a password); ``wrong_kind`` is the message for a URL of
    another kind of database, with ``{backend}`` for the one it names."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        url = make_url(raw)
        url.port  # noqa: B018 - a port that is not a number fails here, not later
    except (ArgumentError, ValueError):
        raise ConfigError(
            f"{what} is not a valid SQLAlchemy URL; expected something like {kind.example_url}"
        ) from None
    if "@" in (url.host or ""):
        # An '@' left unencoded in a password splits it: part of it would show as the host.
        # (A '/' parses as it is; encoded, it decodes to the same password.)
        raise ConfigError(
            f"{what} has an unencoded '@' in its password; percent-encode the password: "
            "%40 for @, %25 for %"
        )
    if not kind.accepts(url):
        raise ConfigError(wrong_kind.replace("{backend}", url.get_backend_name()))
    url = kind.complete(url)
    try:
        url.get_dialect().import_dbapi()
    except ImportError as err:
        raise ConfigError(
            f"{what} names the driver {url.get_driver_name()}, which is not installed; use "
            f"{driver_hint()}"
        ) from err
    except NoSuchModuleError as err:
        raise ConfigError(
            f"{what} names the driver {url.get_driver_name()}, which SQLAlchemy does not know; "
            f"use {driver_hint()}"
        ) from err
    return url


class NoScratchServer(ConfigError):
    """A throwaway database is needed on a server, and no scratch server is set."""


class OnlineRefused(ConfigError):
    """An online command on an environment marked online = false."""


class UnknownDatabase(ConfigError):
    """-n/--name names no database of the project."""


def scratch_variable(kind: ScriptDialect) -> str:
    """The environment variable naming the scratch server of a kind of database."""
    return f"SCHEMACTL_SCRATCH_{kind.name.upper()}_URL"


_ENV_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")
_SCRIPT_SETTINGS = ("lock_timeout", "statement_timeout", "lock_wait_timeout", "schema")


def _environment(
    name: str, section: Mapping[str, str], database: str | None, databases: tuple[str, ...]
) -> Environment:
    """An environment as ``database`` sees it (None: the project's only one). Its URL comes
    from ``url_env``/``default_url``, or for a database other than the first from
    ``NAME.url_env``/``NAME.default_url``, NAME being the database (its ini section)."""
    if not _ENV_NAME.fullmatch(name):
        # The name becomes a folder under sql_out/ and appears in scripts.
        raise ConfigError(
            f"[schemactl.env.{name}]: an environment name is a letter followed by letters, "
            "digits, '_' or '-' (at most 40); rename the section"
        )
    dialect = section.get("dialect", "").strip()
    settings = {key: section[key] for key in _SCRIPT_SETTINGS if section.get(key)}
    try:
        script_dialect(dialect, settings).check_settings()
    except ConfigError as err:
        raise ConfigError(f"[schemactl.env.{name}]: {err}") from None
    online = _switch(name, section, "online", "to keep online commands off this environment")
    backup = _switch(
        name, section, "backup", "to keep scripts from copying what destructive steps drop"
    )
    for key in section:
        prefix, dot, rest = key.partition(".")
        # The ini parser lowercases keys: a database [Reporting] is reporting.url_env.
        if dot and (
            prefix not in {d.lower() for d in databases} or rest not in ("url_env", "default_url")
        ):
            raise ConfigError(
                f"[schemactl.env.{name}]: {key} is not a setting; a database's URL is "
                f"DATABASE.url_env or DATABASE.default_url, DATABASE one of "
                f"{', '.join(databases) or 'none'}"
            )
    first = database is None or database == databases[0]
    url_env, default_url = _url_settings(section, database or databases[0], databases)
    others = tuple(
        (other, *_url_settings(section, other, databases))
        for other in (databases if database is not None else ())
        if other != database
    )
    return Environment(
        name=name,
        dialect=dialect,
        url_env=url_env,
        default_url=default_url,
        settings=settings,
        online=online,
        backup=backup,
        # Only a database other than the first is named where the environment is shown.
        database=None if first else database,
        others=others,
    )


def _url_settings(
    section: Mapping[str, str], database: str, databases: tuple[str, ...]
) -> tuple[str | None, str | None]:
    """A database's url_env and default_url in an environment's section: NAME.url_env and
    NAME.default_url (the ini parser lowercases keys), or for the first database, also the
    plain url_env and default_url."""
    first = not databases or database == databases[0]
    own = database.lower()
    url_env = section.get(f"{own}.url_env") or (section.get("url_env") if first else None)
    default_url = section.get(f"{own}.default_url") or (
        section.get("default_url") if first else None
    )
    return url_env or None, default_url or None


def _switch(env: str, section: Mapping[str, str], key: str, purpose: str) -> bool:
    """An on/off setting of an environment (on unless set): true/false, yes/no, on/off."""
    value = (section.get(key) or "true").strip().lower()
    if value not in _BOOLEANS:
        raise ConfigError(
            f"[schemactl.env.{env}]: {key} = {value!r} is not true or false; write "
            f"{key} = false {purpose}"
        )
    return _BOOLEANS[value]


_BOOLEANS = {"true": True, "yes": True, "on": True, "1": True}
_BOOLEANS |= {"false": False, "no": False, "off": False, "0": False}


def _implicit_environment(cfg: Config) -> Environment:
    """A plain Alembic project: one environment from sqlalchemy.url."""
    import configparser

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        raw = cfg.get_main_option("sqlalchemy.url")
    except configparser.Error as err:
        name = Path(str(cfg.config_file_name)).name
        raise ConfigError(f"{name} cannot be read ({_ini_problem(err)})") from err
    if not raw:
        raise ConfigError(
            f"{Path(str(cfg.config_file_name)).name} has neither [schemactl.env.NAME] sections "
            "nor sqlalchemy.url; add one of them"
        )
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        raise ConfigError("sqlalchemy.url in the Alembic config is not a valid URL") from None
    try:
        kind = dialect_of_url(url)
    except ConfigError:
        raise ConfigError(
            f"sqlalchemy.url is for {url.get_backend_name()}, which schemactl does not support"
        ) from None
    return Environment(name=IMPLICIT_ENV, dialect=kind.name, default_url=raw)


def redact(url: URL) -> str:
    """The URL as it may be shown to a person: never with its password, and without
    SQLAlchemy's driver (postgresql://, as psql and libpq take it, not postgresql+psycopg://)."""
    query = {
        key: "redacted" if key.lower() in _SECRET_PARAMETERS else value
        for key, value in url.query.items()
    }
    shown = url.set(drivername=url.get_backend_name(), query=query)
    return shown.render_as_string(hide_password=True)


# Connection parameters that carry a secret (libpq's and the drivers' names for them).
_SECRET_PARAMETERS = frozenset(
    {"password", "passwd", "pass", "sslpassword", "passfile", "sslkey", "token", "secret"}
)


def _ini_problem(err: BaseException) -> str:
    """What is wrong with an ini file, without quoting its values (a URL may hold a password)."""
    import configparser

    if isinstance(err, configparser.InterpolationError):
        return (
            f"the value of {err.option} in [{err.section}] has a '%' the ini parser reads as a "
            "substitution: write %% for each %"
        )
    if isinstance(err, configparser.MissingSectionHeaderError):
        return f"line {err.lineno} comes before any [section]"
    if isinstance(err, configparser.ParsingError):
        numbers = [str(number) for number, _ in err.errors]
        if len(numbers) == 1:
            return f"line {numbers[0]} is neither a [section] nor key = value"
        return f"lines {', '.join(numbers)} are neither a [section] nor key = value"
    if isinstance(err, UnicodeDecodeError):
        return f"it is not UTF-8 (byte {err.object[err.start]:#04x} at position {err.start})"
    if isinstance(err, configparser.DuplicateSectionError | configparser.DuplicateOptionError):
        return str(err).splitlines()[0]
    return type(err).__name__
