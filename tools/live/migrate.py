"""Online commands: move an environment's database along the history, or report where it is.

Each public function is what one CLI verb does, callable from Python and tests. Alembic and
driver exceptions become SchemactlError with a fix in the message (tools.live.database_errors).
What the project's code (env.py, revision files) prints while a verb runs goes to stderr, as
everywhere in schemactl: stdout is the verb's report.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tools.config import redact
from tools.core.errors import RevisionError, SchemactlError
from tools.core.internals import downgrade_steps, upgrade_steps
from tools.core.text import printed_to_stderr
from tools.dialects import VERSION_TABLE, dialect_of_url
from tools.history.graph import Graph, RevisionId
from tools.history.load import (
    check_stamp_target,
    check_target,
    load_history,
    project_graph,
    squashed_into,
)
from tools.live import env_answers, online
from tools.live.database_errors import translate_errors
from tools.live.status import Status, status_rows
from tools.proof.scratch import env_options
from tools.scripts.capture import capture_session

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import URL

    from tools.config import Environment, Project
    from tools.dialects import ScriptDialect
    from tools.history.graph import Direction
    from tools.live.online import StepDone


@printed_to_stderr()
def upgrade(
    project: Project,
    environment: Environment,
    target: str = "heads",
    report: Callable[[StepDone], None] | None = None,
) -> Status:
    """Upgrade the environment's database to ``target`` (default: every head), with the
    scripts' timeouts and lock and a timed audit row per revision (``report`` hears of each
    as it finishes)."""
    environment.check_online("upgrade")
    url = environment.url()
    history = load_history(project)
    check_target(history, target)
    _check_known(history.graph, environment, current_heads(url, project, environment), project)
    environment.kind.prepare(url)
    with translate_errors(url):
        online.run(
            _online_config(project, environment, url), environment.kind, target, "upgrade", report
        )
    return status(project, environment)


@printed_to_stderr()
def downgrade(
    project: Project,
    environment: Environment,
    target: str,
    report: Callable[[StepDone], None] | None = None,
) -> Status:
    """Downgrade the environment's database to ``target`` ('-1', a revision, or 'base'), as
    upgrade() does."""
    environment.check_online("downgrade")
    url = environment.url()
    cfg = _online_config(project, environment, url)
    history = load_history(project)
    check_target(history, target)
    current = current_heads(url, project, environment)
    _check_known(history.graph, environment, current, project)
    check_steps_back(history.graph, current, target)
    environment.kind.prepare(url)
    with translate_errors(url):
        online.run(cfg, environment.kind, target, "downgrade", report)
    return status(project, environment)


@dataclass(frozen=True)
class PlannedStep:
    revision: RevisionId
    direction: Direction
    branch: str | None
    message: str
    # What the revision does, as captured offline ('add_column users.phone'); None when it
    # cannot be rendered offline (it reads from the database, say).
    operations: tuple[str, ...] | None


@dataclass(frozen=True)
class Plan:
    environment: Environment
    url: str  # redacted
    current: tuple[RevisionId, ...]
    steps: tuple[PlannedStep, ...]

    def as_json(self) -> dict[str, object]:
        return {
            **self.environment.as_json(),
            "url": self.url,
            "current": list(self.current),
            "steps": [
                {
                    "revision": s.revision,
                    "direction": s.direction,
                    "branch": s.branch,
                    "message": s.message,
                    "operations": list(s.operations) if s.operations is not None else None,
                }
                for s in self.steps
            ],
        }


@printed_to_stderr()
def plan_steps(
    project: Project, environment: Environment, target: str, direction: Direction
) -> Plan:
    """What `upgrade TARGET` (or `downgrade TARGET`) would run on the environment's database,
    in order, with each revision's operations. Reads alembic_version; changes nothing. The
    steps are Alembic's own, as the command would compute them."""
    from alembic.script import ScriptDirectory

    url = environment.url()
    history = load_history(project)
    check_target(history, target)
    current = current_heads(url, project, environment)
    _check_known(history.graph, environment, current, project)
    if direction == "downgrade":
        check_steps_back(history.graph, current, target)
    scripts = ScriptDirectory.from_config(project.alembic_config(environment, url=url))
    with translate_errors(url):
        if direction == "upgrade":
            steps = upgrade_steps(scripts, target, current)
        else:
            steps = downgrade_steps(scripts, target, current)
    order = [step.revision.revision for step in steps]
    session = capture_session(
        history, environment.dialect, [(rev, direction) for rev in order], environment=environment
    )
    planned = []
    for rev in order:
        try:
            captured = session.get(rev, direction)
            operations: tuple[str, ...] | None = tuple(
                " ".join(x for x in (op.name, _on(op.table, op.target)) if x)
                for op in captured.operations
            )
        except SchemactlError:
            operations = None
        revision = history.graph[rev]
        planned.append(
            PlannedStep(
                rev,
                direction,
                history.graph.branch_of(rev),
                revision.message.splitlines()[0] if revision.message else "",
                operations,
            )
        )
    return Plan(environment, redact(url), current, tuple(planned))


def _on(table: str | None, target: str | None) -> str:
    if table and target and target != table:
        return f"{table}.{target}"
    return table or target or ""


@printed_to_stderr()
def stamp(project: Project, environment: Environment, target: str) -> Status:
    """Set the environment's version table to ``target`` without running anything (adopting
    an existing database, or recovering after switching git branches over one dev database:
    what it held before, known to this checkout or not, is replaced), and record a 'stamp'
    audit row per revision it now holds: one transaction under the lock and timeouts of
    upgrade(), the target resolved before anything is touched."""
    environment.check_online("stamp")
    url = environment.url()
    history = load_history(project)
    check_stamp_target(history, target)  # resolved before Alembic empties the version table
    environment.kind.prepare(url)
    with translate_errors(url):
        online.run(_online_config(project, environment, url), environment.kind, target, "stamp")
    return status(project, environment)


def _with_version_table(kind: ScriptDialect, options: Mapping[str, Any]) -> ScriptDialect:
    """The dialect writing to the version table the project's env.py configures (``options``:
    what it configured its context with)."""
    from dataclasses import replace

    return replace(
        kind,
        version_table=options.get("version_table") or VERSION_TABLE,
        version_table_schema=options.get("version_table_schema"),
    )


class AmbiguousDowngrade(RevisionError):
    """A relative downgrade that would step back through a merge revision."""

    def __init__(self, target: str, merge: RevisionId, parents: tuple[RevisionId, ...]) -> None:
        self.target = target
        self.merge = merge
        self.parents = parents
        super().__init__(
            f"downgrade {target!r} would step back through the merge revision {merge}, which "
            f"has {len(parents)} parents ({', '.join(parents)}), so a count is ambiguous; "
            f"name the revision instead: `schemactl downgrade {parents[0]}` undoes just the "
            f"merge and leaves the database on {' and '.join(parents)}"
        )


_STEPS_BACK = re.compile(r"-(\d+)")


def check_steps_back(graph: Graph, current: tuple[RevisionId, ...], target: str) -> None:
    """Refuse '-N' when counting N steps back from ``current`` crosses a merge revision:
    Alembic cannot count through one (which parent is one step back?)."""
    match = _STEPS_BACK.fullmatch(target.strip())
    if match is None:
        return
    heads = [rev for rev in current if rev in graph.revisions]
    for _ in range(int(match.group(1))):
        if len(heads) != 1:
            return  # several heads: Alembic decides (and explains) itself
        revision = graph[heads[0]]
        if revision.is_merge:
            raise AmbiguousDowngrade(target, revision.id, revision.parents)
        heads = list(revision.parents)


def status(project: Project, environment: Environment) -> Status:
    """Every revision in apply order, marked applied or not in the environment's database."""
    graph = project_graph(project)
    url = environment.url()
    current = current_heads(url, project, environment)
    have = _applied(graph, environment, current, project)
    return Status(environment, redact(url), current, status_rows(graph, have), graph.heads)


def applied(project: Project, environment: Environment) -> set[RevisionId]:
    """Every revision the environment's database has (its heads and all they stand on)."""
    graph = project_graph(project)
    url = environment.url()
    return _applied(graph, environment, current_heads(url, project, environment), project)


def _applied(
    graph: Graph,
    environment: Environment,
    current: tuple[RevisionId, ...],
    project: Project | None = None,
) -> set[RevisionId]:
    _check_known(graph, environment, current, project)
    return graph.ancestors(current)


def _check_known(
    graph: Graph,
    environment: Environment,
    current: tuple[RevisionId, ...],
    project: Project | None = None,
) -> None:
    """Refuse a database at revisions this checkout does not have (its code is on another
    git branch, or not pulled yet, or a squash replaced them), saying the way out."""
    unknown = [rev for rev in current if rev not in graph.revisions]
    if unknown:
        squashed = squashed_into(project, unknown) if project is not None else None
        raise UnknownDatabaseRevision(environment, tuple(unknown), squashed)


class UnknownDatabaseRevision(RevisionError):
    def __init__(
        self,
        environment: Environment,
        unknown: tuple[RevisionId, ...],
        squashed: RevisionId | None = None,
    ) -> None:
        self.unknown = unknown
        at = ", ".join(unknown)
        if squashed:
            super().__init__(
                f"the {environment.name} database is at revision {at}, which `schemactl squash` "
                f"replaced (with everything up to {squashed}); bring it to {squashed} "
                f"first with the recorded release scripts in sql_out/{environment.name}/ (or "
                f"`schemactl --env {environment.name} sql --from {unknown[0]} --to "
                f"{squashed}` from a checkout before the squash), then upgrade"
            )
            return
        table = environment.kind.version_name
        way_out = (
            f"`schemactl --env {environment.name} stamp REVISION` to set the version by hand"
            if environment.online
            # stamp is an online command, refused there: the DBA does it with the client.
            else f"have the DBA set it with the database's client (`UPDATE {table} SET "
            f"version_num = 'REVISION'`; {environment.name} is online = false, so `stamp` "
            "does not run there)"
        )
        super().__init__(
            f"the {environment.name} database is at revision {at}, which is not in this "
            "checkout's history (written from another git branch?); check out the code that "
            f"wrote it (or `git pull`), or, if this checkout's schema is what you want there, "
            f"{way_out}"
        )


def current_heads(
    url: URL, project: Project | None = None, environment: Environment | None = None
) -> tuple[RevisionId, ...]:
    """The revisions the database's version table holds (none when it has no version table):
    the table the project's env.py configures, when ``project`` is given, else Alembic's."""
    from alembic.migration import MigrationContext

    if not dialect_of_url(url).exists(url):
        return ()  # no database yet (a SQLite file): reading it must not create it
    opts: dict[str, object] = {"version_table": VERSION_TABLE}
    if project is not None and environment is not None:
        said = env_answers.recall(project, environment)
        if said is None:
            with translate_errors(url):  # env.py connects to ask: a bad URL fails here
                said = env_options(_online_config(project, environment, url))
            env_answers.remember(project, environment, said)
        kind = _with_version_table(environment.kind, said)
        opts = {"version_table": kind.version_table}
        if kind.version_table_schema:
            opts["version_table_schema"] = kind.version_table_schema
    # In the session the scripts and online runs set up (PostgreSQL: the pinned search_path).
    kind = environment.kind if environment is not None else dialect_of_url(url)
    engine = kind.engine(kind.session_url(url))
    try:
        with translate_errors(url), engine.connect() as connection:
            context = MigrationContext.configure(connection, opts=opts)
            return tuple(sorted(context.get_current_heads()))
    finally:
        engine.dispose()


def applied_where(
    project: Project, graph: Graph, revisions: set[RevisionId]
) -> list[tuple[str, tuple[RevisionId, ...]]]:
    """The environments whose database (where one can be reached from here: its URL set,
    the database there) holds any of ``revisions``, each with its current heads."""
    found = []
    for name in sorted(project.environments):
        environment = project.environment(name)
        try:
            url = environment.url()
            heads = current_heads(url, project, environment)
        except SchemactlError:
            continue  # no URL here, or nothing to reach: not a database this one can see
        if graph.ancestors([h for h in heads if h in graph.revisions]) & revisions:
            found.append((name, heads))
    return found


def _online_config(project: Project, environment: Environment, url: URL) -> Config:
    return project.alembic_config(environment, url=url)
