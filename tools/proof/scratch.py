"""Throwaway databases: make one, migrate it, read its schema, drop it.

makemigrations compares the models with a scratch database at every head; merge analysis
applies branches in each order to scratch databases; check compares models and migrations in
one; verify builds the expected schema in one next to the live database; the tests make
theirs here too. The kind of database decides how (tools.dialects): a file in a temporary
folder for SQLite, CREATE DATABASE on a server for the others.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.config import Environment, redact
from tools.core.errors import DatabaseError, SchemactlError, first_line, raised_at
from tools.core.internals import revision_file, upgrade_steps
from tools.core.text import printed_to_stderr
from tools.dialects import AUDITED, TOOL_TABLES, VERSION_TABLE, dialect_of_url
from tools.history.graph import HistoryError
from tools.history.headers import revision_files
from tools.history.load import script_directory
from tools.proof.snapshot import snapshot

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import MetaData
    from sqlalchemy.engine import URL

    from tools.config import Project
    from tools.dialects import ScriptDialect
    from tools.history.graph import Direction
    from tools.proof.snapshot import Schema


# What a schema comparison leaves out: the version table and schemactl's own tables.
IGNORED = frozenset({VERSION_TABLE, *TOOL_TABLES})


class ScratchUpgradeFailed(HistoryError):
    """The history does not apply to a scratch database (run online, as `alembic upgrade`)."""

    def __init__(self, dialect: str, target: str, reason: str, where: str | None = None) -> None:
        self.dialect = dialect
        self.target = target
        self.reason = reason
        self.where = where  # the revision file and line it failed at, when known
        at = f" at {where}" if where else ""
        fix = f"fix {where} first" if where else f"fix the revision on the way to {target} first"
        super().__init__(
            f"the history does not apply to a scratch {dialect} database{at} ({reason}); {fix}"
        )


def _failed_at(err: BaseException) -> str | None:
    found = raised_at(err)
    return f"{found[0]}:{found[1]}" if found else None


class ScratchUnavailable(DatabaseError):
    """The scratch server cannot be reached, or will not make a database."""


@contextmanager
def scratch_database(
    kind: ScriptDialect, server: URL | None = None, *, prefix: str = "schemactl"
) -> Iterator[URL]:
    """An empty database of ``kind`` (on ``server`` when it needs one), dropped afterwards."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    # Who made it and when (UTC), so a run killed before its drop leaves a name the next
    # run can sweep: schemactl_prove_20261206093000_1a2b3c4d.
    name = f"{prefix}_{time.strftime('%Y%m%d%H%M%S', time.gmtime())}_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as folder:
        url = kind.scratch_url(server, name, Path(folder))
        create, drop = kind.create_database(name), kind.drop_database(name)
        if create is None or drop is None or server is None:
            yield url
            return
        engine = kind.engine(kind.complete(server), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                _sweep(connection, kind)
                connection.execute(text(create))
        except SQLAlchemyError as err:
            engine.dispose()
            orig = getattr(err, "orig", None)
            reason = kind.describe_error(orig) if orig is not None else first_line(err)
            raise ScratchUnavailable(
                f"cannot create a scratch database on {redact(server)} ({reason}); check that "
                "the server is up and that its user may create databases"
            ) from err
        try:
            yield url
        finally:
            with engine.connect() as connection:
                connection.execute(text(drop))
            engine.dispose()


# A throwaway database's name (scratch_database), and how long one may live: older ones were
# left by a killed run and are dropped by the next.
_THROWAWAY = re.compile(r"schemactl(?:_[a-z]+)*_(\d{14})_[0-9a-f]{8}")
STALE_AFTER_S = 3600


def stale(names: Collection[str], now: float) -> list[str]:
    """The throwaway databases among ``names`` made more than STALE_AFTER_S before ``now``."""
    import calendar

    found = []
    for name in sorted(names):
        match = _THROWAWAY.fullmatch(name)
        if match is None:
            continue
        try:
            made = calendar.timegm(time.strptime(match.group(1), "%Y%m%d%H%M%S"))
        except ValueError:
            continue
        if now - made > STALE_AFTER_S:
            found.append(name)
    return found


def _sweep(connection: Any, kind: ScriptDialect) -> None:
    """Drop the throwaway databases killed runs left on this server (best effort: one in use
    or not ours to drop is left alone)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    if kind.databases_sql is None:
        return
    try:
        names = [row[0] for row in connection.execute(text(kind.databases_sql))]
    except SQLAlchemyError:
        return
    for name in stale(names, time.time()):
        statement = kind.drop_database(name)
        if statement is None:
            continue
        try:
            connection.execute(text(statement))
        except SQLAlchemyError:
            continue


def run_statements(url: URL, statements: list[str]) -> None:
    """Run setup statements (a dialect's, not a user's) on a scratch database."""
    from sqlalchemy import text

    if not statements:
        return
    engine = dialect_of_url(url).engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def scratch_config(
    project: Project, kind: ScriptDialect, url: URL, *, plain: bool = False
) -> Config:
    """The project's Alembic config pointed at a scratch database (``plain``: autogenerate
    writes plain operations, which render offline on every dialect)."""
    scratch = Environment(name="scratch", dialect=kind.name)
    cfg = project.alembic_config(scratch, url=url, quiet=True, plain_operations=plain)
    cfg.attributes[AUDITED] = True  # a scratch database keeps no audit of its own
    return cfg


def _scripts(cfg: Config) -> ScriptDirectory:
    """The revision files ``cfg`` names, loaded once for as long as none is added, removed or
    changed: a proof steps the same scratch databases through them dozens of times, and
    Alembic's commands load every file anew each time."""
    scripts = script_directory(cfg)  # the config read; no revision file loaded yet
    files = tuple(
        (path, found.st_mtime_ns, found.st_size)
        for path in revision_files(scripts)
        for found in [os.stat(path)]
    )
    loaded = cfg.attributes.get(_LOADED)
    if loaded is not None and loaded[0] == files:
        return loaded[1]
    cfg.attributes[_LOADED] = (files, scripts)
    return scripts


_LOADED = "schemactl.scratch_scripts"


def upgrade(cfg: Config, target: str) -> None:
    """Upgrade the scratch database ``cfg`` points at to ``target``, as `alembic upgrade`
    does."""
    from alembic.util import CommandError
    from sqlalchemy.exc import DBAPIError

    kind = cfg.attributes["schemactl.environment"].kind
    scripts = _scripts(cfg)

    def steps(heads: Sequence[str], context: Any) -> list[Any]:
        return upgrade_steps(scripts, target, heads)

    try:
        _run_env(cfg, scripts, steps, destination_rev=target)
    except CommandError as err:
        _raise_schemactl_cause(err)
        raise ScratchUpgradeFailed(kind.title, target, first_line(err), _failed_at(err)) from err
    except DBAPIError as err:
        raise ScratchUpgradeFailed(kind.title, target, first_line(err), _failed_at(err)) from err
    except SchemactlError:
        raise
    except Exception as err:  # the project's env.py and revisions: report what they raised
        reason = f"{type(err).__name__}: {first_line(err)}"
        raise ScratchUpgradeFailed(kind.title, target, reason, _failed_at(err)) from err


def step(cfg: Config, revision: str, direction: Direction) -> None:
    """Run exactly one revision's upgrade or downgrade on the scratch database ``cfg`` points
    at, whatever else it holds: Alembic's own targets ('rev-1', a revision) can take other
    branches along, or refuse, when a database sits on several heads."""
    from alembic.runtime.migration import RevisionStep
    from sqlalchemy.exc import DBAPIError

    kind = cfg.attributes["schemactl.environment"].kind
    scripts = _scripts(cfg)
    up = direction == "upgrade"

    def steps(heads: object, context: Any) -> list[Any]:
        return [RevisionStep(scripts.revision_map, scripts.get_revision(revision), up)]

    try:
        _run_env(cfg, scripts, steps)
    except SchemactlError:
        raise
    except DBAPIError as err:
        raise ScratchStepFailed(kind, revision, direction, kind.describe_error(err.orig)) from err
    except Exception as err:  # the project's env.py and revisions: report what they raised
        reason = f"{type(err).__name__}: {first_line(err)}"
        raise ScratchStepFailed(kind, revision, direction, reason) from err


class ScratchStepFailed(HistoryError):
    """One revision's upgrade or downgrade failed on a scratch database."""

    def __init__(
        self, kind: ScriptDialect, revision: str, direction: Direction, reason: str
    ) -> None:
        self.dialect = kind.title
        self.revision = revision
        self.direction = direction
        self.reason = reason
        super().__init__(f"the {direction} of {revision} fails on {kind.title}: {reason}")


def env_options(cfg: Config) -> dict[str, Any]:
    """What the project's env.py configures its migration context with (version_table,
    version_table_schema, target_metadata, ...), asked by running it against ``cfg``'s
    database: nothing runs."""
    found: dict[str, Any] = {}

    def probe(context: Any) -> None:
        found.update(context.opts)

    _ask_env(cfg, probe)
    return found


def ignored_tables(cfg: Config) -> frozenset[str]:
    """What a schema comparison of databases migrated through ``cfg`` leaves out: schemactl's
    tables and the version table the project's env.py configures (Alembic's by default)."""
    return IGNORED | {env_options(cfg).get("version_table") or VERSION_TABLE}


def has_models(cfg: Config) -> bool:
    """Whether the project's env.py gives autogenerate models (a target_metadata)."""
    with _env_failures():
        return env_options(cfg).get("target_metadata") is not None


def model_differences(cfg: Config) -> list[object] | None:
    """What autogenerate finds between the project's models and the scratch database, asked
    through its env.py (its target_metadata, include rules, compare options); None when
    env.py has no target_metadata."""
    from alembic.autogenerate import compare_metadata

    found: dict[str, Any] = {}

    def probe(context: Any) -> None:
        metadata = context.opts.get("target_metadata")
        if metadata is not None:
            found["diffs"] = compare_metadata(context, metadata)

    with _env_failures():
        _ask_env(cfg, probe)
    return found.get("diffs")


def _ask_env(cfg: Config, probe: Callable[[Any], None]) -> None:
    """Run the project's env.py against ``cfg``'s database with ``probe`` in place of the
    migrations (it gets the migration context)."""

    def steps(heads: object, context: Any) -> list[Any]:
        probe(context)
        return []

    _run_env(cfg, _scripts(cfg), steps, dont_mutate=True)


def _run_env(
    cfg: Config, scripts: ScriptDirectory, steps: Callable[[Any, Any], list[Any]], **options: Any
) -> None:
    """The project's env.py run against ``cfg``'s database, ``steps`` saying what to run;
    what it prints goes to stderr."""
    from alembic.runtime.environment import EnvironmentContext

    ran: list[Any] = []

    def recorded(heads: Any, context: Any) -> list[Any]:
        found = steps(heads, context)
        ran.extend(found)
        return found

    try:
        with EnvironmentContext(cfg, scripts, fn=recorded, **options), printed_to_stderr():
            scripts.run_env()
    finally:
        _imported_again(scripts, ran)


def _imported_again(scripts: ScriptDirectory, steps: Sequence[Any]) -> None:
    """Give each revision a step ran a module imported afresh: the files stay loaded from one
    run to the next (_scripts), but a revision's functions run on a module of their own each
    time, as with a new Alembic command (an sa.Index made at import attaches to one table)."""
    with printed_to_stderr():
        for step in steps:
            script = getattr(step, "revision", None)
            path = getattr(script, "path", None)
            fresh = revision_file(scripts, path) if path else None
            if fresh is not None:
                script.module = fresh.module  # type: ignore[union-attr]


def _raise_schemactl_cause(err: Exception) -> None:
    """Alembic wraps what schemactl's env.py raises (a model that does not load, say) in a
    CommandError: raise schemactl's own error, said plainly, when it is the cause."""
    if isinstance(err.__cause__, SchemactlError):
        raise err.__cause__ from err


@contextmanager
def _env_failures() -> Iterator[None]:
    """What the project's env.py raises against a scratch database, as one line."""
    from alembic.util import CommandError

    try:
        yield
    except SchemactlError:
        raise
    except CommandError as err:
        _raise_schemactl_cause(err)
        raise _env_failed(err) from err
    except Exception as err:  # the project's env.py: report what it raised
        raise _env_failed(err) from err


def _env_failed(err: Exception) -> DatabaseError:
    return DatabaseError(
        f"env.py failed against a scratch database ({type(err).__name__}: "
        f"{first_line(err)}); fix env.py"
    )


def schema_of(url: URL, ignore: Collection[str] = IGNORED, *, detailed: bool = False) -> Schema:
    """The reflected schema of the database at ``url`` (version and tool tables left out;
    ``detailed``: check constraints too, as `diff` compares them)."""
    engine = dialect_of_url(url).engine(url)
    try:
        with engine.connect() as connection:
            return snapshot(connection, ignore, detailed=detailed)
    finally:
        engine.dispose()


def reflect(url: URL, ignore: Collection[str] = IGNORED) -> MetaData:
    """The tables of the database at ``url`` as SQLAlchemy reflects them (version and tool
    tables left out), for code that needs Table objects rather than a Schema."""
    from sqlalchemy import MetaData

    from tools.core.internals import reflect_tables

    metadata = MetaData()
    engine = dialect_of_url(url).engine(url)
    try:
        with engine.connect() as connection:
            reflect_tables(metadata, connection, only=lambda name, _: name not in ignore)
    finally:
        engine.dispose()
    return metadata
