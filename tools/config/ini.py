"""Reading alembic.ini: its databases (sections), the [schemactl] and [schemactl.env.NAME]
sections, and a project of several databases, one at a time."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tools.config.project import (
    DEFAULT_CONFIG,
    ENV_SECTION_PREFIX,
    IMPLICIT_ENV,
    Environment,
    Project,
    UnknownDatabase,
    proof_rows,
)
from tools.core.errors import ConfigError
from tools.dialects import (
    DIALECTS,
    dialect_of_url,
    is_plain_name,
    script_dialect,
)

if TYPE_CHECKING:
    import configparser


class IniConfig(Protocol):
    """What reading a project asks of an Alembic Config (env.py hands its own over)."""

    config_file_name: str | None
    config_ini_section: str

    @property
    def file_config(self) -> configparser.ConfigParser: ...

    def get_main_option(self, name: str, default: str | None = None) -> str | None: ...


class IniFile:
    """alembic.ini read as Alembic's Config reads it (a ConfigParser whose defaults hold
    ``here``, the file's folder), without importing Alembic: a command that only reads the
    project and its history does not load Alembic and SQLAlchemy for it."""

    def __init__(self, path: Path) -> None:
        self.config_file_name: str | None = str(path)
        self.config_ini_section = MAIN_SECTION
        self._path = path
        self._parser: configparser.ConfigParser | None = None

    @property
    def file_config(self) -> configparser.ConfigParser:
        import configparser

        if self._parser is None:
            parser = configparser.ConfigParser({"here": self._path.absolute().parent.as_posix()})
            parser.read([self._path], encoding="locale")
            self._parser = parser
        return self._parser

    def get_main_option(self, name: str, default: str | None = None) -> str | None:
        parser = self.file_config
        if parser.has_option(self.config_ini_section, name):
            return parser.get(self.config_ini_section, name)
        return default


def load_project(
    config_path: str | os.PathLike[str] | None = None, database: str | None = None
) -> Project:
    """Read alembic.ini (default: ./alembic.ini) and its [schemactl] sections, for one of
    its databases (an ini section, as `alembic -n NAME` picks it; default: the first)."""
    import configparser

    path = Path(config_path or DEFAULT_CONFIG)
    if not path.is_file():
        hint = "run from the repository root" if config_path is None else "check the path"
        raise ConfigError(f"no Alembic config at {path}; {hint} or pass -c PATH/TO/alembic.ini")
    path = path.resolve()
    cfg = IniFile(path)
    if database is None:
        try:
            names = databases_of(cfg.file_config)
        except (configparser.Error, UnicodeDecodeError):
            names = ()  # reported, with the line at fault, by project_from_alembic_config
        database = names[0] if names else MAIN_SECTION
    else:
        # A file that cannot be read is reported, with the line at fault, below.
        with contextlib.suppress(configparser.Error, UnicodeDecodeError):
            database = section_of(cfg.file_config, database)
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


def display_names(parser: configparser.ConfigParser, databases: tuple[str, ...]) -> dict[str, str]:
    """Each database's name as scripts, errors and `-n` show it: `display_name` in its
    section, else the section's own name; the first database ([alembic], which every
    project has) is named after its script_location's folder (`migrations`) unless that is
    no name or another database's."""
    names = {}
    for section in databases:
        default = _named_after_scripts(parser, databases) if section == MAIN_SECTION else section
        shown = (parser.get(section, "display_name", fallback="") or default).strip()
        if not _ENV_NAME.fullmatch(shown):
            raise ConfigError(
                f"display_name = {shown!r} in [{section}]: a database's display name is "
                "letters, digits, '_' and '-' (a letter first, at most 40)"
            )
        names[section] = shown
    if len(set(names.values())) < len(names):
        raise ConfigError(
            "two databases have one display_name; give each its own (display_name in each section)"
        )
    return names


def _named_after_scripts(parser: configparser.ConfigParser, databases: tuple[str, ...]) -> str:
    """The first database's name by default: its script folder's (`migrations` for
    `script_location = %(here)s/migrations` or `myapp:migrations`), else `alembic`."""
    try:
        location = parser.get(MAIN_SECTION, "script_location", fallback="")
    except configparser.Error:
        return MAIN_SECTION
    folder = re.split(r"[/\\:]", location.strip().rstrip("/\\"))[-1]
    taken = {parser.get(s, "display_name", fallback="") or s for s in databases} - {MAIN_SECTION}
    if not _ENV_NAME.fullmatch(folder) or folder in taken:
        return MAIN_SECTION
    return folder


def section_of(parser: configparser.ConfigParser, database: str) -> str:
    """The section a database is named by: its own name, or its display_name (`-n billing`
    for [alembic] with display_name = billing); unknown names are left as given."""
    databases = databases_of(parser)
    if database in databases:
        return database
    shown = {name: section for section, name in display_names(parser, databases).items()}
    return shown.get(database, database)


def project_from_alembic_config(cfg: IniConfig) -> Project:
    """Build the Project from an Alembic Config (also how env.py finds the environments)."""
    if cfg.config_file_name is None:
        raise ConfigError("the Alembic config has no file; pass -c PATH/TO/alembic.ini")
    path = Path(cfg.config_file_name).resolve()
    with _readable(path, "; fix the file or pass -c PATH/TO/alembic.ini"):
        parser = cfg.file_config
    database = cfg.config_ini_section
    with _readable(path):
        databases = databases_of(parser)
    _check_databases(parser, path, database, databases)
    with _readable(path):
        project = _project(parser, path, database, databases)
    if not project.environments:
        implicit = _implicit_environment(cfg)  # the section's own sqlalchemy.url
        named = database if database != databases[0] else None
        project = replace(project, environments={IMPLICIT_ENV: replace(implicit, database=named)})
    if project.default_env not in project.environments:
        raise ConfigError(
            f"default_env = {project.default_env} in {path.name} names no "
            f"[schemactl.env.{project.default_env}] section; add the section or change default_env"
        )
    if project.template is not None and not project.template.is_file():
        raise ConfigError(
            f"template = {project.template} in {path.name} is not a file; fix the path or remove "
            "the setting to use schemactl's own template"
        )
    return project


@contextmanager
def _readable(path: Path, fix: str = "") -> Iterator[None]:
    """An ini file the parser cannot read is one line naming the problem, never its values."""
    import configparser

    try:
        yield
    except (configparser.Error, UnicodeDecodeError) as err:
        raise ConfigError(f"{path.name} cannot be read ({_ini_problem(err)}){fix}") from err


def _check_databases(
    parser: configparser.ConfigParser, path: Path, database: str, databases: tuple[str, ...]
) -> None:
    """The database asked for exists, and every database's section is one Alembic and SQL
    can take: a known path_separator, a plain version_table, a name fit for a folder."""
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
        with _readable(path):
            options = dict(parser.items(name))  # every value, interpolated as Alembic will
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
        if len(databases) > 1 and not _ENV_NAME.fullmatch(name):
            # The name becomes a folder under sql_out/ENV/ and appears in scripts.
            raise ConfigError(
                f"[{name}] in {path.name}: a database name is a letter followed by letters, "
                "digits, '_' or '-' (at most 40); rename the section"
            )


def _project(
    parser: configparser.ConfigParser, path: Path, database: str, databases: tuple[str, ...]
) -> Project:
    """The project as its [schemactl] and [schemactl.env.NAME] sections give it (no
    environment yet when there are no such sections)."""
    several = len(databases) > 1
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
    _check_requires(environments)
    settings = parser["schemactl"] if parser.has_section("schemactl") else {}
    template = Path(settings["template"]) if settings.get("template") else None
    lint_include = (settings.get("lint_include") or "").split(",")
    return Project(
        path,
        settings.get("default_env") or next(iter(environments), IMPLICIT_ENV),
        environments,
        Path(settings.get("sql_out") or path.parent / "sql_out"),
        template,
        scratch_urls={
            key.removeprefix("scratch_").removesuffix("_url"): value
            for key, value in settings.items()
            if key.startswith("scratch_") and key.endswith("_url") and value
        },
        lint_include=tuple(name.strip() for name in lint_include if name.strip()),
        database=database,
        databases=databases,
        display_names=display_names(parser, databases),
        proof_rows=proof_rows(settings.get("proof_rows"), f"proof_rows in {path.name}"),
    )


_ENV_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")
_SCRIPT_SETTINGS = ("lock_timeout", "statement_timeout", "lock_wait_timeout", "schema", "client")


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
        # Settings are the kind's to check; with none, its name alone is checked, and the
        # module of a kind the command does not use is not imported.
        if settings or dialect not in DIALECTS:
            script_dialect(dialect, settings).check_settings()
    except ConfigError as err:
        raise ConfigError(f"[schemactl.env.{name}]: {err}") from None
    online = _switch(name, section, "online", "to keep online commands off this environment")
    backup = _switch(
        name, section, "backup", "to keep scripts from copying what destructive steps drop"
    )
    safe = _switch(
        name, section, "safe", "to run the plain forms of the online operations (op.*_online)"
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
    requires = (section.get("requires") or "").strip() or None
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
        safe=safe,
        requires=requires,
        # Only a database other than the first is named where the environment is shown.
        database=None if first else database,
        others=others,
    )


def _check_requires(environments: Mapping[str, Environment]) -> None:
    """`requires = OTHER` names another environment, and no chain of them comes back."""
    for name, environment in environments.items():
        seen = [name]
        needed = environment.requires
        while needed is not None:
            if needed not in environments:
                raise ConfigError(
                    f"[schemactl.env.{name}]: requires = {needed}, which is no environment "
                    f"of this project; name one of {', '.join(sorted(environments))}"
                )
            if needed in seen:
                raise ConfigError(
                    f"[schemactl.env.{name}]: requires goes round in a circle "
                    f"({' -> '.join([*seen, needed])}); one environment must come first"
                )
            seen.append(needed)
            needed = environments[needed].requires


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


def _implicit_environment(cfg: IniConfig) -> Environment:
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


def for_database(project: Project, name: str) -> Project:
    """The same project, working on another of its databases."""
    if name == project.database:
        return project
    loaded = load_project(project.config_path, name)
    return replace(loaded, x_arguments=project.x_arguments, proof_rows=project.proof_rows)


def each_database(project: Project, name: str | None = None) -> list[Project]:
    """This project for every database (the default first), or for ``name`` only."""
    names = [name] if name else list(project.databases)
    return [for_database(project, database) for database in names]
