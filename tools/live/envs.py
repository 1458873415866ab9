"""`schemactl envs`: every environment and database of the project in one table.

For each: its dialect, whether it can be reached (or why not: URL unset, no database file,
server down, authentication), the revisions its version table holds, what is pending, drift
against its revision's schema (as `verify` finds it), and its last audit row.

The databases are read at once, each in a thread of its own with a connect timeout, and
waited for no longer than a deadline: a dead server costs its timeout, not the sum of them.
Only SQLAlchemy runs in those threads (Alembic's env.py, which drift needs, keeps global
state): the version table each database's env.py configures is asked first, offline, and drift
is found afterwards for the reachable ones, one expected schema per dialect, database and
revisions (eight environments at one revision on one server build it once).
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tools.config import for_database, redact
from tools.core.errors import MissingDatabaseUrl, SchemactlError, first_line
from tools.history.load import load_graph, load_history
from tools.live.audit import read as read_audit
from tools.live.database_errors import translate_errors
from tools.proof import scratch
from tools.proof.snapshot import Schema, compare
from tools.scripts.capture import capture_session
from tools.scripts.manifest import read_manifest

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from tools.config import Environment, Project
    from tools.history.graph import Graph, RevisionId
    from tools.live.audit import AuditRow

# How long one database may take to answer (connect and read), in seconds.
TIMEOUT_S = 1.5


@dataclass
class Target:
    """One environment's view of one database."""

    environment: str
    database: str  # its display name
    dialect: str
    url: str | None = None  # redacted; None when unset
    reachable: bool = False
    why: str | None = None  # why it could not be read
    current: tuple[RevisionId, ...] = ()
    pending: tuple[RevisionId, ...] = ()
    drift: list[str] = field(default_factory=list)
    drift_checked: bool = False
    # Why drift was not compared (no scratch database could be made there): said, not counted.
    drift_note: str | None = None
    released: bool = False  # at the end of one of its environment's releases (or head, without)
    last: AuditRow | None = None

    @property
    def ok(self) -> bool:
        return self.reachable and self.released and not self.drift

    @property
    def problems(self) -> list[str]:
        if not self.reachable:
            return [f"unreachable ({self.why})"]
        said = []
        if not self.released:
            said.append(f"at {', '.join(self.current) or 'base'}, not a released revision")
        said += [f"drift: {d}" for d in self.drift]
        return said

    @property
    def drift_shown(self) -> str:
        """The drift column: how many differences, none, or why not compared."""
        if self.drift_note is not None:
            return "not compared"
        if not self.drift_checked:
            return "-"
        return str(len(self.drift)) if self.drift else "none"

    def as_json(self) -> dict[str, object]:
        return {
            "environment": self.environment,
            "database": self.database,
            "dialect": self.dialect,
            "url": self.url,
            "reachable": self.reachable,
            "why": self.why,
            "current": list(self.current),
            "pending": list(self.pending),
            "drift": self.drift if self.drift_checked else None,
            "drift_not_compared": self.drift_note,
            "released": self.released,
            "last_audit": self.last.as_json() if self.last is not None else None,
            "ok": self.ok,
        }


@dataclass
class Matrix:
    targets: list[Target]
    heads: tuple[RevisionId, ...]
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Every reachable database at a released revision without drift."""
        return all(t.ok for t in self.targets if t.reachable)

    def as_json(self) -> dict[str, object]:
        return {
            "command": "envs",
            "heads": list(self.heads),
            "ok": self.ok,
            "targets": [t.as_json() for t in self.targets],
        }


# One environment's view of one database: the target, its project and environment, its URL
# (None: unset), and the version table (and schema) its env.py names, once asked.
_Table = concurrent.futures.Future[tuple[str, "str | None"]]
_Job = tuple[Target, "Project", "Environment", "URL | None", _Table]


@dataclass(frozen=True)
class _Read:
    current: tuple[RevisionId, ...]
    last: AuditRow | None


def envs(project: Project, *, timeout: float = TIMEOUT_S, drift: bool = True) -> Matrix:
    """The matrix of ``project``'s environments and databases (``drift``: compare each reachable
    database with its revision's schema, as verify does)."""
    began = time.monotonic()
    jobs: list[_Job] = []
    heads: tuple[RevisionId, ...] = ()
    # The version table each database's env.py names, per dialect and settings: asked
    # (offline, in this thread) while the threads connect, which is what takes the time.
    tables: dict[tuple[str, str, tuple[tuple[str, str], ...]], _Table] = {}
    asks: list[tuple[_Table, Project, Environment]] = []
    for name in project.databases:
        database = for_database(project, name)
        for env_name in sorted(database.environments):
            environment = database.environment(env_name)
            target = Target(env_name, database.display_name, environment.dialect)
            try:
                url: URL | None = environment.url()
            except MissingDatabaseUrl as err:
                target.why = f"URL unset: {first_line(err).split(';')[0]}"
                url = None
            if url is not None:
                target.url = redact(url)
            key = (name, environment.dialect, tuple(sorted(environment.settings.items())))
            if key not in tables:
                tables[key] = concurrent.futures.Future()
                asks.append((tables[key], database, environment))
            jobs.append((target, database, environment, url, tables[key]))
    expected: dict[tuple[str, str, tuple[RevisionId, ...], str], Schema] = {}
    graphs: dict[str, Graph] = {}

    def judge(job: _Job) -> None:
        """Pending, released and drift of a database read (in this thread: env.py)."""
        target, database, environment, url = job[:4]
        if database.database not in graphs:
            graphs[database.database] = load_graph(database.alembic_config())
        _place(target, database, environment, graphs[database.database])
        if drift and url is not None:
            _drift(target, database, environment, url, expected)

    # The deadline counts from the moment the reads start, whatever env.py then takes.
    deadline = time.monotonic() + timeout + _GRACE_S
    futures = {
        _in_thread(_read, environment, url, table, timeout): job
        for job in jobs
        for _, _, environment, url, table in [job]
        if url is not None
    }
    for answer, database, environment in asks:
        try:
            history = load_history(database)
            if database.database == project.databases[0]:
                heads = history.graph.heads
            session = capture_session(history, environment.dialect, [], environment=environment)
        except BaseException as err:
            for waiting, _, _ in asks:
                if not waiting.done():
                    waiting.set_exception(err)
            raise
        answer.set_result((session.version_table, session.version_table_schema))
    # Each database is judged as soon as it is read, while the silent ones are waited for.
    done: set[concurrent.futures.Future[_Read]] = set()

    def take(future: concurrent.futures.Future[_Read]) -> None:
        done.add(future)
        target = futures[future][0]
        try:
            found = future.result()
        except SchemactlError as err:
            target.why = first_line(err)
            return
        target.reachable = True
        target.current = found.current
        target.last = found.last
        judge(futures[future])

    try:
        left = max(0.0, deadline - time.monotonic())
        for future in concurrent.futures.as_completed(futures, timeout=left):
            take(future)
    except concurrent.futures.TimeoutError:
        pass  # judging took the time: what answered meanwhile is taken below
    for future, job in futures.items():
        if future in done:
            continue
        if not future.done():  # its last chance: up to the deadline
            concurrent.futures.wait([future], timeout=max(0.0, deadline - time.monotonic()))
        if future.done():
            take(future)
        else:
            job[0].why = f"no answer within {timeout:g} s"
    return Matrix([j[0] for j in jobs], heads, time.monotonic() - began)


# Beyond the timeout, how long a driver is given to say why it gave up (its own message
# beats "no answer"); a thread still waiting after that is left behind (a daemon: the
# command does not wait for it to end).
_GRACE_S = 0.3


def _in_thread(fn: Any, *args: Any) -> concurrent.futures.Future[Any]:
    """``fn(*args)`` in a daemon thread of its own, its outcome in the future returned."""
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(*args))
        except BaseException as err:  # handed to whoever waits for it
            future.set_exception(err)

    threading.Thread(target=run, name="schemactl-envs", daemon=True).start()
    return future


def _read(environment: Environment, url: URL, table: _Table, timeout: float) -> _Read:
    """The version table's revisions and the last audit row of the database at ``url``
    (in a thread: SQLAlchemy only). It connects first, then waits for ``table``: the name
    env.py gives the version table, asked meanwhile."""
    from sqlalchemy.exc import SQLAlchemyError

    kind = environment.kind
    if not kind.exists(url):
        raise SchemactlError("no database there (the file does not exist)")
    engine = kind.engine(kind.session_url(url), connect_args=kind.connect_timeout(timeout))
    try:
        with engine.connect() as connection:
            current = _heads(connection, *table.result())
            rows = read_audit(connection, kind)
    except SQLAlchemyError as err:
        orig = getattr(err, "orig", None)
        reason = kind.describe_error(orig) if orig is not None else first_line(err)
        raise SchemactlError(reason) from err
    finally:
        engine.dispose()
    return _Read(current, rows[-1] if rows else None)


def _heads(connection: Any, table: str, schema: str | None) -> tuple[RevisionId, ...]:
    from alembic.migration import MigrationContext

    opts: dict[str, object] = {"version_table": table}
    if schema:
        opts["version_table_schema"] = schema
    context = MigrationContext.configure(connection, opts=opts)
    return tuple(sorted(context.get_current_heads()))


def _place(target: Target, database: Project, environment: Environment, graph: Graph) -> None:
    """Pending revisions, and whether the database is where a release (or, with none
    recorded, every head) leaves it."""
    known = [r for r in target.current if r in graph.revisions]
    if len(known) < len(target.current):
        unknown = ", ".join(r for r in target.current if r not in graph.revisions)
        target.drift.append(f"at {unknown}, which this checkout's history does not have")
        target.drift_checked = True
        return
    have = graph.ancestors(known)
    target.pending = tuple(r for r in graph.order if r not in have)
    releases = read_manifest(database, environment).releases
    ends = {tuple(sorted(r.end)) for r in releases} if releases else {tuple(sorted(graph.heads))}
    target.released = tuple(sorted(target.current)) in ends


def _drift(
    target: Target,
    database: Project,
    environment: Environment,
    url: URL,
    expected: dict[tuple[str, str, tuple[RevisionId, ...], str], Schema],
) -> None:
    """What verify would call drift, the expected schema built once per dialect, database,
    revisions and server."""
    if target.drift_checked:
        return
    kind = environment.kind
    server = redact(url.set(database=None)) if kind.needs_server else ""
    key = (kind.name, database.database, target.current, server)
    try:
        if key not in expected:
            with scratch.scratch_database(kind, url, prefix="schemactl_envs") as scratch_url:
                cfg = scratch.scratch_config(database, kind, scratch_url)
                for head in target.current:
                    scratch.upgrade(cfg, head)
                expected[key] = scratch.schema_of(scratch_url)
        with translate_errors(url):
            live = scratch.schema_of(url)
    except SchemactlError as err:
        target.drift_note = first_line(err)
        return
    target.drift = [str(d) for d in compare(expected[key], live)]
    target.drift_checked = True
