"""Where things are and which databases exist: alembic.ini and its [schemactl] sections.

An environment names its dialect and the environment variable its URL comes from; a URL is
never stored in a committed file (dev may fall back to an embedded SQLite file). Offline work
needs only the dialect, so nothing here connects or imports a driver.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tools.errors import ConfigError, MissingDatabaseUrl, UnknownEnvironment

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import URL

DEFAULT_CONFIG = "alembic.ini"
ENV_SECTION_PREFIX = "schemactl.env."
# Environment used by an Alembic project that has no [schemactl.env.*] sections.
IMPLICIT_ENV = "default"
# Tables schemactl itself owns in a managed database; never part of the models.
AUDIT_TABLE = "schemactl_audit"
TOOL_TABLES = frozenset({AUDIT_TABLE})

# The dialects schemactl renders for, and the driver each uses when a URL names none.
DEFAULT_DRIVERS: dict[str, str] = {
    "postgresql": "psycopg",
    "mariadb": "pymysql",
    "mysql": "pymysql",
    "sqlite": "pysqlite",
}
# MariaDB speaks MySQL's protocol: either URL scheme reaches either server.
_FAMILY = {"mariadb": "mysql", "mysql": "mysql", "postgresql": "postgresql", "sqlite": "sqlite"}
_EXAMPLE_URL = {
    "postgresql": "postgresql://USER@HOST:5432/DBNAME",
    "mariadb": "mariadb://USER@HOST:3306/DBNAME",
    "mysql": "mysql://USER@HOST:3306/DBNAME",
    "sqlite": "sqlite:///PATH/TO/FILE.db",
}


@dataclass(frozen=True)
class Environment:
    """One database the schema is deployed to."""

    name: str
    dialect: str
    url_env: str | None = None
    default_url: str | None = None
    # Script settings for this environment, e.g. lock_timeout = 5s (PostgreSQL).
    settings: Mapping[str, str] = field(default_factory=dict)

    def url(self, environ: Mapping[str, str] | None = None) -> URL:
        """The database URL, from ``url_env`` or the default; the driver filled in if missing."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        environ = os.environ if environ is None else environ
        raw = environ.get(self.url_env) if self.url_env else None
        source = f"${self.url_env}" if raw else "alembic.ini"
        raw = raw or self.default_url
        if not raw:
            if self.url_env:
                raise MissingDatabaseUrl(self.name, self.url_env, _EXAMPLE_URL[self.dialect])
            raise ConfigError(
                f"environment {self.name!r} has no database URL; set sqlalchemy.url or "
                "url_env in alembic.ini"
            )
        try:
            url = make_url(raw)
        except ArgumentError:
            # The message would echo the URL, password included.
            raise ConfigError(
                f"the database URL in {source} for environment {self.name!r} is not a valid "
                f"SQLAlchemy URL; expected something like {_EXAMPLE_URL[self.dialect]}"
            ) from None
        backend = url.get_backend_name()
        if _FAMILY.get(backend) != _FAMILY[self.dialect]:
            raise ConfigError(
                f"environment {self.name!r} is {self.dialect} but the URL in {source} is for "
                f"{backend}; point {source} at a {self.dialect} database"
            )
        if "+" not in url.drivername:
            url = url.set(drivername=f"{backend}+{DEFAULT_DRIVERS[backend]}")
        if backend == "sqlite" and url.database not in (None, "", ":memory:"):
            # "created on demand": the file appears on first connect, its folder must exist.
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        return url


@dataclass(frozen=True)
class Project:
    """An Alembic project as schemactl sees it: its config file and environments."""

    config_path: Path
    default_env: str
    environments: dict[str, Environment] = field(repr=False)
    sql_out: Path
    # A Mako template of the project's own for DBA scripts; None means schemactl's.
    template: Path | None = None

    @property
    def root(self) -> Path:
        return self.config_path.parent

    def environment(self, name: str | None = None) -> Environment:
        name = name or self.default_env
        try:
            return self.environments[name]
        except KeyError:
            raise UnknownEnvironment(name, sorted(self.environments)) from None

    def alembic_config(self, environment: Environment | None = None) -> Config:
        """A fresh Alembic ``Config`` for this project, bound to ``environment`` if given.

        env.py reads the environment from ``config.attributes``, so URLs (and their passwords)
        never pass through the ini parser or a command line.
        """
        from alembic.config import Config

        cfg = Config(str(self.config_path))
        if environment is not None:
            cfg.attributes["schemactl.environment"] = environment
        return cfg


def load_project(config_path: str | os.PathLike[str] | None = None) -> Project:
    """Read alembic.ini (default: ./alembic.ini) and its [schemactl] sections."""
    from alembic.config import Config

    path = Path(config_path or DEFAULT_CONFIG)
    if not path.is_file():
        hint = "run from the repository root" if config_path is None else "check the path"
        raise ConfigError(f"no Alembic config at {path}; {hint} or pass -c PATH/TO/alembic.ini")
    path = path.resolve()
    return project_from_alembic_config(Config(str(path)))


def project_from_alembic_config(cfg: Config) -> Project:
    """Build the Project from an Alembic Config (also how env.py finds the environments)."""
    import configparser

    if cfg.config_file_name is None:
        raise ConfigError("the Alembic config has no file; pass -c PATH/TO/alembic.ini")
    path = Path(cfg.config_file_name).resolve()
    parser = cfg.file_config
    try:
        environments = {
            section[len(ENV_SECTION_PREFIX) :]: _environment(
                section[len(ENV_SECTION_PREFIX) :], parser[section]
            )
            for section in parser.sections()
            if section.startswith(ENV_SECTION_PREFIX)
        }
        settings = parser["schemactl"] if parser.has_section("schemactl") else {}
        sql_out = Path(settings.get("sql_out") or path.parent / "sql_out")
        template = Path(settings["template"]) if settings.get("template") else None
        default_env = settings.get("default_env") or next(iter(environments), IMPLICIT_ENV)
    except configparser.Error as err:
        raise ConfigError(f"{path.name} cannot be read: {err}".splitlines()[0]) from err
    if not environments:
        environments = {IMPLICIT_ENV: _implicit_environment(cfg)}
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
    return Project(path, default_env, environments, sql_out, template)


_ENV_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")
_SCRIPT_SETTINGS = ("lock_timeout", "statement_timeout", "lock_wait_timeout")


def _environment(name: str, section: Mapping[str, str]) -> Environment:
    if not _ENV_NAME.match(name):
        # The name becomes a folder under sql_out/ and appears in scripts.
        raise ConfigError(
            f"[schemactl.env.{name}]: an environment name is a letter followed by letters, "
            "digits, '_' or '-' (at most 40); rename the section"
        )
    dialect = section.get("dialect", "").strip()
    if dialect not in DEFAULT_DRIVERS:
        raise ConfigError(
            f"[schemactl.env.{name}] has dialect = {dialect or '(missing)'}; use one of: "
            + ", ".join(sorted(DEFAULT_DRIVERS))
        )
    return Environment(
        name=name,
        dialect=dialect,
        url_env=section.get("url_env") or None,
        default_url=section.get("default_url") or None,
        settings={key: section[key] for key in _SCRIPT_SETTINGS if section.get(key)},
    )


def _implicit_environment(cfg: Config) -> Environment:
    """A plain Alembic project: one environment from sqlalchemy.url."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    raw = cfg.get_main_option("sqlalchemy.url")
    if not raw:
        raise ConfigError(
            f"{Path(str(cfg.config_file_name)).name} has neither [schemactl.env.NAME] sections "
            "nor sqlalchemy.url; add one of them"
        )
    try:
        dialect = make_url(raw).get_backend_name()
    except ArgumentError:
        raise ConfigError("sqlalchemy.url in the Alembic config is not a valid URL") from None
    if dialect not in DEFAULT_DRIVERS:
        raise ConfigError(f"sqlalchemy.url is for {dialect}, which schemactl does not support")
    return Environment(name=IMPLICIT_ENV, dialect=dialect, default_url=raw)


def redact(url: URL) -> str:
    """The URL as it may be shown to a person: never with its password."""
    return url.render_as_string(hide_password=True)
