"""`schemactl recover`: after a script stopped midway where DDL commits on its own.

On MariaDB every DDL statement commits, and on any database a step run outside a
transaction commits statement by statement: a script that stops there leaves the failed
revision's first statements done and its version row unchanged. recover reads the live
database (nothing else: it changes nothing there), says which statements of the stopped step
ran, and renders a short script that finishes the step or undoes what of it ran, with the
same lock, guard, timeouts and audit as a release's script.

What each point of the step looks like is built for real, as verify builds its expected
schema: a scratch database on the same server (dropped afterwards) is brought to the
revisions the version table names, the step's statements run on it one at a time, and the
schema is read after each. The live schema is matched against those points. An undo is
worked out on such a scratch database too (renames turned back, then what Alembic's
autogenerate finds between the point reached and the step's start) and written only once
the scratch database it ran on is back at the step's start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from shlex import quote
from typing import TYPE_CHECKING, Any

from tools.config import redact
from tools.core.errors import DatabaseError, RevisionError, SchemactlError
from tools.core.text import comment
from tools.dialects import BACKUP_PREFIX
from tools.dialects.observe import run as run_statement
from tools.history.load import Range, heads_of, load_history
from tools.live import migrate
from tools.live.database_errors import translate_errors
from tools.proof import scratch
from tools.proof.snapshot import (
    Schema,
    compare,
    invalid_indexes,
    snapshot,
    without_invalid_indexes,
)
from tools.scripts import statements as sql_statements
from tools.scripts.capture import capture_session, render_operations
from tools.scripts.render import ROLLBACK, UPGRADE, Script, render_script, rendered

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from tools.config import Environment, Project
    from tools.core.directions import Direction
    from tools.history.graph import Graph, RevisionId
    from tools.history.load import History
    from tools.scripts.capture import Captured, Statement


class RecoverError(SchemactlError):
    """The live database does not show a step stopped midway that recover can account for."""


@dataclass(frozen=True)
class Recovery:
    """Where a stopped step stands: ``ran`` of its ``statements`` ran (from ``ran`` to
    ``ran_up_to``: the statements in between change no schema, so whether they ran cannot
    be read from it). ``revision`` None: the schema is exactly the version table's."""

    environment: Environment
    url: str  # redacted
    current: tuple[RevisionId, ...]
    revision: RevisionId | None = None
    direction: Direction | None = None
    statements: tuple[str, ...] = ()
    ran: int = 0
    ran_up_to: int = 0
    # Statements among those that ran which changed data (an undo does not change it back).
    data_changes: tuple[int, ...] = ()
    # Indexes PostgreSQL marks INVALID (table.index): a CREATE INDEX CONCURRENTLY that failed.
    invalid_indexes: tuple[str, ...] = ()

    @property
    def stopped(self) -> bool:
        return self.revision is not None

    @property
    def certain(self) -> bool:
        return self.ran == self.ran_up_to

    def as_json(self) -> dict[str, object]:
        return {
            "command": "recover",
            **self.environment.as_json(),
            "url": self.url,
            "current": list(self.current),
            "invalid_indexes": list(self.invalid_indexes),
            "stopped": self.stopped,
            "revision": self.revision,
            "direction": self.direction,
            "statements": [
                {"number": n, "sql": sql, "ran": self.did_run(n)}
                for n, sql in enumerate(self.statements, 1)
            ],
        }

    def did_run(self, number: int) -> bool | None:
        """Whether statement ``number`` ran: None when the schema cannot tell."""
        if number <= self.ran:
            return True
        return None if number <= self.ran_up_to else False


@dataclass(frozen=True)
class _Candidate:
    revision: RevisionId
    direction: Direction
    captured: Captured


def recover(
    project: Project,
    environment: Environment,
    *,
    revision: str | None = None,
    ran: int | None = None,
    undo: bool = False,
) -> tuple[Recovery, tuple[str, ...] | None]:
    """Which statements of the step a script stopped in ran on the environment's database
    (``revision``: the step's revision, when several could be it; ``ran``: how many ran, as
    the DBA found, where the schema cannot tell), and with ``undo`` the statements that take
    the database back to the step's start (None without)."""
    kind = environment.kind
    url = environment.url()
    if not kind.exists(url):
        raise DatabaseError(
            f"{redact(url)}: no database there (the file does not exist); check the URL"
        )
    history = load_history(project)
    have = migrate.applied(project, environment)  # refuses revisions it does not know
    current = migrate.current_heads(url, project, environment)
    with translate_errors(url):
        seen = scratch.schema_of(url)
    # An index a failed CREATE INDEX CONCURRENTLY left INVALID: its statement did not finish.
    # The step is matched as if it were not there; the scripts drop it first.
    invalid = tuple(f"{table}.{name}" for table, name in invalid_indexes(seen))
    live = without_invalid_indexes(seen)
    base = Recovery(environment, redact(url), current, invalid_indexes=invalid)
    candidates = _candidates(history, environment, have, current, revision)
    if invalid:  # the step is one that builds them
        names = [name.split(".", 1)[1] for name in invalid]
        candidates = [
            c
            for c in candidates
            if all(any(n in s.sql for s in c.captured.statements) for n in names)
        ]
    with scratch.scratch_database(kind, url, prefix="schemactl_recover") as start_url:
        _bring_to(project, environment, start_url, current)
        start = scratch.schema_of(start_url)
        if not compare(start, live) and not invalid:
            # Nothing that changes the schema ran; a step that may stop midway and starts with
            # data changes may still have run them.
            leading = [(c, n) for c in candidates if (n := _leading_data(c, kind)) > 0]
            if not leading:
                if ran:
                    raise RecoverError(
                        f"the {environment.name} database's schema is exactly that of its "
                        f"version table ({_heads(current)}) and no step from there starts "
                        f"with data changes, so --ran {ran} cannot hold"
                    )
                return base, None
            if len(leading) > 1:
                raise _several(
                    environment,
                    [c for c, _ in leading],
                    f"has the schema of its version table ({_heads(current)}), and more than "
                    "one step from there starts with data changes it cannot show",
                )
            chosen, first, last = leading[0][0], 0, leading[0][1]
        else:
            found = [
                (c, [start, *_points(project, environment, url, current, c)]) for c in candidates
            ]
            chosen, first, last = _match(environment, current, live, found)
        numbers = _pinned(first, last, ran, chosen)
        said = replace(
            base,
            revision=chosen.revision,
            direction=chosen.direction,
            statements=tuple(s.sql for s in chosen.captured.statements),
            ran=numbers[0],
            ran_up_to=numbers[1],
            data_changes=tuple(
                n
                for n, s in enumerate(chosen.captured.statements[: numbers[0]], 1)
                if _changes_data(s.sql, kind.sqlglot)
            ),
        )
        if not undo:
            return said, None
        if not said.certain:
            raise RecoverError(uncertain(said))
        where = f"the {said.direction} of {said.revision}"
        if said.ran == 0 and not invalid:
            raise RecoverError(
                f"no statement of {where} ran: there is nothing to undo; the database is at "
                f"{_heads(current)}, as its version table says"
            )
        undone = _undo(project, environment, url, current, chosen, said.ran, start, start_url)
        if not undone and not invalid:
            raise RecoverError(
                f"statements 1 to {said.ran} of {where} changed data only: an undo of the "
                "schema has nothing to do, and cannot give data back (put it back from a "
                "backup by hand); or finish the step instead (--finish)"
            )
        return said, undone


def _candidates(
    history: History,
    environment: Environment,
    have: set[RevisionId],
    current: tuple[RevisionId, ...],
    revision: str | None,
) -> list[_Candidate]:
    """The steps a script could have stopped in: an upgrade of a revision whose parents the
    database has, or a downgrade of one of its heads (its version row still there)."""
    graph = history.graph
    ups = _ups(graph, have)
    downs = [r for r in graph.order if r in current]
    if revision is not None:
        wanted = _known(graph, revision)
        ups, downs = [r for r in ups if r == wanted], [r for r in downs if r == wanted]
        if not ups and not downs:
            could = ", ".join([*(f"{r} (upgrade)" for r in _ups(graph, have)), *current])
            raise RevisionError(
                f"no script can have stopped in revision {wanted} on the {environment.name} "
                f"database: it is at {_heads(current)}, so a stopped step is one of: "
                f"{could or 'none'}; name one of them with --revision"
            )
    requests: list[tuple[RevisionId, Direction]] = [(r, "upgrade") for r in ups]
    requests += [(r, "downgrade") for r in downs]
    session = capture_session(history, environment.dialect, requests, environment=environment)
    found = []
    for rev, direction in requests:
        try:
            found.append(_Candidate(rev, direction, session.get(rev, direction)))
        except SchemactlError:
            continue  # a revision that cannot render is in no script
    return found


def _ups(graph: Graph, have: set[RevisionId]) -> list[RevisionId]:
    return [r for r in graph.order if r not in have and set(graph[r].parents) <= have]


def _known(graph: Graph, revision: str) -> RevisionId:
    matches = [r for r in graph.order if r.startswith(revision)] if revision else []
    if len(matches) != 1:
        what = "matches several revisions" if matches else "is not a revision of this history"
        raise RevisionError(f"--revision {revision!r} {what}; give its id as `history` shows it")
    return matches[0]


def _bring_to(
    project: Project, environment: Environment, url: URL, heads: Sequence[RevisionId]
) -> None:
    """The scratch database at ``url`` upgraded to ``heads``, in the session scripts run."""
    kind = environment.kind
    scratch.run_statements(url, kind.scratch_setup())
    cfg = scratch.scratch_config(project, kind, url)
    for head in heads:
        scratch.upgrade(cfg, head)


def _points(
    project: Project,
    environment: Environment,
    server: URL,
    current: tuple[RevisionId, ...],
    candidate: _Candidate,
) -> list[Schema]:
    """The schema after each statement of ``candidate``'s step, run one at a time on a
    scratch database at the database's revisions (up to one the server refuses)."""
    kind = environment.kind
    with scratch.scratch_database(kind, server, prefix="schemactl_recover") as url:
        _bring_to(project, environment, url, current)
        return _run_each(url, kind, candidate.captured.statements)


def _run_each(url: URL, kind: Any, statements: Sequence[Statement | str]) -> list[Schema]:
    """The schema after each of ``statements``, run one at a time as a script runs them (a
    statement of an autocommit block outside a transaction), up to one the server refuses."""
    from sqlalchemy.exc import DBAPIError

    points = []
    engine = kind.engine(kind.session_url(url))
    try:
        with engine.connect() as connection:
            for statement in statements:
                text, outside = (
                    (statement, False)
                    if isinstance(statement, str)
                    else (statement.sql, statement.autocommit and kind.runs_autocommit_blocks)
                )
                try:
                    run_statement(connection, text, autocommit=outside)
                    connection.commit()
                except DBAPIError:
                    connection.rollback()
                    break
                points.append(snapshot(connection, scratch.IGNORED))
    finally:
        engine.dispose()
    return points


def _match(
    environment: Environment,
    current: tuple[RevisionId, ...],
    live: Schema,
    found: list[tuple[_Candidate, list[Schema]]],
) -> tuple[_Candidate, int, int]:
    """The step and the statements (first, last) after which its schema is the live one."""
    matches = [
        (candidate, [n for n, point in enumerate(points) if not compare(point, live)])
        for candidate, points in found
    ]
    matches = [(c, numbers) for c, numbers in matches if numbers]
    if not matches:
        raise RecoverError(_unmatched(environment, current, live, found))
    if len(matches) > 1:
        raise _several(
            environment,
            [c for c, _ in matches],
            "has a schema that is a point of more than one step",
        )
    candidate, numbers = matches[0]
    return candidate, numbers[0], numbers[-1]


def _several(environment: Environment, steps: list[_Candidate], why: str) -> RecoverError:
    named = " and ".join(f"the {c.direction} of {c.revision}" for c in steps)
    return RecoverError(
        f"the {environment.name} database {why} ({named}); name the step the script stopped "
        "in with --revision (its header lists its revisions)"
    )


def _unmatched(
    environment: Environment,
    current: tuple[RevisionId, ...],
    live: Schema,
    found: list[tuple[_Candidate, list[Schema]]],
) -> str:
    """Why no step accounts for the live schema, with the nearest point's differences."""
    where = f"the {environment.name} database (at {_heads(current)})"
    nearest = min(
        (
            (len(compare(point, live)), c, n, compare(point, live))
            for c, points in found
            for n, point in enumerate(points)
        ),
        key=lambda item: item[0],
        default=None,
    )
    if nearest is None:
        return (
            f"{where} has a schema no step from there explains (no step renders for it); "
            "compare it with `schemactl verify` and repair it by hand"
        )
    _, candidate, number, differences = nearest
    shown = "; ".join(str(d) for d in differences[:3])
    more = f" (and {len(differences) - 3} more)" if len(differences) > 3 else ""
    return (
        f"{where} matches no point of the steps that start there; nearest: the "
        f"{candidate.direction} of {candidate.revision} after statement {number}, which differs "
        f"in: {shown}{more}; something else changed it too: compare with `schemactl verify` and "
        "repair by hand"
    )


def _pinned(first: int, last: int, ran: int | None, candidate: _Candidate) -> tuple[int, int]:
    """How many statements ran: (first, last) when the schema alone says, or the DBA's
    ``ran`` where it lies in that span."""
    if ran is None:
        return first, last
    if first <= ran <= last:
        return ran, ran
    said = f"statement {first}" if first == last else f"statements {first} to {last}"
    raise RecoverError(
        f"--ran {ran} does not fit the schema: the {candidate.direction} of "
        f"{candidate.revision} shows {said} done; give --ran within that"
        if first != last
        else f"--ran {ran} does not fit the schema: it shows the {candidate.direction} of "
        f"{candidate.revision} stopped after {said}; leave --ran out"
    )


def uncertain(said: Recovery) -> str:
    return (
        f"statements {said.ran + 1} to {said.ran_up_to} of the {said.direction} of "
        f"{said.revision} change no schema, so whether they ran cannot be read from it; check "
        "the data they change, then say how many statements ran with --ran N "
        f"({said.ran} to {said.ran_up_to})"
    )


def _leading_data(candidate: _Candidate, kind: Any) -> int:
    """How many statements the step starts with that change data only, where a script can
    stop after them with them done (none where the step runs in the script's transaction)."""
    statements = candidate.captured.statements
    inside = not any(s.autocommit and kind.runs_autocommit_blocks for s in statements)
    if kind.transactional and inside:
        return 0
    count = 0
    for statement in statements:
        if not _changes_data(statement.sql, kind.sqlglot):
            break
        count += 1
    return count


def _changes_data(sql: str, dialect: str) -> bool:
    parsed = sql_statements.parse_one(sql, dialect)
    return bool(set(sql_statements.kinds(parsed)) & {"update", "insert", "delete", "truncate"})


def _undo(
    project: Project,
    environment: Environment,
    server: URL,
    current: tuple[RevisionId, ...],
    candidate: _Candidate,
    ran: int,
    start: Schema,
    start_url: URL,
) -> tuple[str, ...]:
    """Statements that take the database from ``ran`` statements into the step back to
    its start, worked out and proven on a scratch database."""
    kind = environment.kind
    captured = candidate.captured
    done = captured.statements[:ran]
    indexes = list(dict.fromkeys(s.operation_index for s in done if s.operation_index is not None))
    # Renames first, turned back by Alembic's own reverse: autogenerate would see a dropped
    # column and a new one, and the undo would lose the column's values.
    renames = [
        _reversed_rename(captured.operations[i].source)
        for i in reversed(indexes)
        if _is_rename(captured.operations[i].source)
    ]
    undo = render_operations(kind, renames)
    with scratch.scratch_database(kind, server, prefix="schemactl_recover") as url:
        _bring_to(project, environment, url, current)
        texts: list[Statement | str] = [*done, *undo]
        if len(_run_each(url, kind, texts)) != len(texts):
            raise RecoverError(_no_undo(candidate, ran, "turning its renames back fails"))
        rest = render_operations(kind, _differences(url, start_url, kind))
        if len(_run_each(url, kind, rest)) != len(rest):
            raise RecoverError(_no_undo(candidate, ran, "the undo autogenerate wrote fails"))
        left = compare(start, scratch.schema_of(url))
        if left:
            shown = "; ".join(str(d) for d in left[:3])
            raise RecoverError(_no_undo(candidate, ran, f"an undo would still differ in: {shown}"))
    return tuple(undo + rest)


def _no_undo(candidate: _Candidate, ran: int, why: str) -> str:
    return (
        f"cannot work out an undo of statements 1 to {ran} of the {candidate.direction} of "
        f"{candidate.revision} that a scratch database confirms ({why}); finish the step "
        "instead (--finish), or undo it by hand"
    )


def _is_rename(operation: Any) -> bool:
    from alembic.operations import ops

    if isinstance(operation, ops.RenameTableOp):
        return True
    return isinstance(operation, ops.AlterColumnOp) and operation.modify_name is not None


def _reversed_rename(operation: Any) -> Any:
    from alembic.operations import ops

    if isinstance(operation, ops.RenameTableOp):
        return ops.RenameTableOp(
            operation.new_table_name, operation.table_name, schema=operation.schema
        )
    # Alembic's reverse() turns back what changed but keeps the name: give it back too.
    turned = operation.reverse()
    turned.column_name, turned.modify_name = operation.modify_name, operation.column_name
    return turned


def _differences(url: URL, start_url: URL, kind: Any) -> list[Any]:
    """What Alembic's autogenerate finds to take the database at ``url`` to the schema of the
    one at ``start_url``, as plain operations."""
    from alembic.autogenerate import produce_migrations
    from alembic.operations import ops
    from alembic.runtime.migration import MigrationContext

    wanted = scratch.reflect(start_url)

    def include(name: str | None, type_: str, parents: Any) -> bool:
        return type_ != "table" or (
            name is not None and name not in scratch.IGNORED and not name.startswith(BACKUP_PREFIX)
        )

    engine = kind.engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": include}
            )
            found = produce_migrations(context, wanted).upgrade_ops
    finally:
        engine.dispose()
    flat: list[Any] = []
    for operation in found.ops if found is not None else []:
        flat.extend(operation.ops if isinstance(operation, ops.ModifyTableOps) else [operation])
    return flat


def _heads(revisions: Sequence[RevisionId]) -> str:
    return ", ".join(revisions) or "base (no revision)"


# -- the scripts ---------------------------------------------------------------------------------


def recovery_script(
    project: Project,
    recovery: Recovery,
    how: str,
    undo: Sequence[str] = (),
    *,
    config_option: str = "",
    out: str | None = None,
) -> Script:
    """The script that finishes (``how`` = 'finish') the stopped step or undoes (``undo``:
    its statements) what of it ran, as the release's scripts are written (``out``: the file
    it goes to, as its header's commands name it)."""
    from alembic.operations import ops

    assert recovery.revision is not None and recovery.direction is not None
    if not recovery.certain:
        raise RecoverError(uncertain(recovery))
    environment = recovery.environment
    history = load_history(project)
    graph = history.graph
    rev, current = recovery.revision, recovery.current
    have = graph.ancestors(current)
    if recovery.direction == "upgrade":
        span = Range(current, heads_of(graph, have | {rev}), (rev,))
        kind = UPGRADE
    else:
        span = Range(heads_of(graph, have - {rev}), current, (rev,))
        kind = ROLLBACK
    script = render_script(
        project, environment, history, span, kind, out_dir=None, config_option=config_option
    )
    step = script.steps[0]
    total, ran = len(recovery.statements), recovery.ran
    named = "" if project.default_database else f"-n {quote(project.database)} "
    command = (
        f"schemactl {config_option}{named}recover --env {environment.name} --revision {rev} "
        f"--ran {ran} --{how}"
    )
    told = [
        f"the script stopped in the {recovery.direction} of {rev}, after {_of(ran, total)} of "
        f"its statements ran; the version table still names {_heads(current)}."
    ]
    # An INVALID index is dropped first: its CREATE must run again (finish), or it was not
    # there at the step's start (undo).
    invalid = tuple(
        render_operations(
            script.dialect,
            [
                ops.DropIndexOp(
                    name, table_name=table, if_exists=True, postgresql_concurrently=True
                )
                for table, name in (found.split(".", 1) for found in recovery.invalid_indexes)
            ],
        )
    )
    if invalid:
        told.append(
            f"First it drops the INVALID index(es) {', '.join(recovery.invalid_indexes)} that a "
            "failed CREATE INDEX CONCURRENTLY left."
        )
    if how == "finish":
        told.append(
            f"This script runs the step's statements {ran + 1} to {total} (the rest are done), "
            "then moves the version table and records the audit row, as the stopped script "
            "would have."
        )
        step = replace(step, statements=invalid + step.statements[ran:], backup_sql=())
        script = replace(script, steps=(step,))
    else:
        told.append(
            f"This script undoes statements 1 to {ran}: the database goes back to "
            f"{_heads(current)}, as the version table already says. It moves no version and "
            "writes no audit row."
        )
        if recovery.data_changes:
            numbers = ", ".join(map(str, recovery.data_changes))
            told.append(f"Statement(s) {numbers} changed data: the undo does not change it back.")
        step = replace(step, statements=invalid + tuple(undo), moves=None, backup_sql=())
        script = replace(script, steps=(step,), result=script.expected)
    told.append(
        "Then the rest of the stopped script (TO: its To: line): "
        f"{script.sql_command} --from {','.join(script.result) or 'base'} --to TO"
    )
    return rendered(
        project,
        replace(
            script,
            recovery=tuple(comment(line, limit=100_000) for line in told),
            regenerate_command=command + (f" --out {quote(out)}" if out else ""),
            apply_command=script.dialect.apply_command(quote(out or f"recover-{how}.sql")),
        ),
    )


def _of(ran: int, total: int) -> str:
    return f"{ran} of {total}" if total else "none"
