"""Offline rendering: each revision's SQL captured on its own, laid out as a DBA script.

Every revision's upgrade() or downgrade() runs against an offline Alembic context of the
environment's dialect, so its statements, and the operations behind them, are known per
revision. No env.py, no URL, no driver, no server: a dialect name is all this needs. The script
itself is laid out by a Mako template; everything dialect-specific comes from tools.dialects.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.dialects import ScriptDialect, safe_revision, script_dialect
from tools.errors import RevisionError, SchemactlError
from tools.graph import (
    Graph,
    Revision,
    RevisionId,
    graph_from_loaded,
    load_scripts,
    script_directory,
)
from tools.text import comment

if TYPE_CHECKING:
    from alembic.operations.ops import MigrateOperation
    from alembic.script import ScriptDirectory

    from tools.config import Environment, Project

UPGRADE = "upgrade"
ROLLBACK = "rollback"
DEFAULT_TEMPLATE = Path(__file__).parent / "templates" / "script.sql.mako"

# Control characters other than tab and newline have no business in a statement's text.
_RAW_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class RenderError(SchemactlError):
    """A revision, range or template that cannot be rendered as an offline script."""


class IrreversibleRevision(RenderError):
    """A revision whose downgrade (or upgrade) refuses to run: it raises NotImplementedError."""


@dataclass(frozen=True)
class Operation:
    """One Alembic operation a revision performs, e.g. ('add_column', 'users', 'phone')."""

    name: str
    table: str | None
    # The column, index or constraint it is about, if any.
    target: str | None = None
    # Named enum types it creates or uses (PostgreSQL makes them schema objects).
    enums: tuple[str, ...] = ()
    # Where the revision file asks for it, and Alembic's own description of it (for lint).
    line: int | None = field(default=None, compare=False)
    source: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Statement:
    """One SQL statement a revision renders, and where it came from."""

    sql: str
    line: int | None  # the line of the revision file that caused it
    operation: str | None  # the Alembic operation that emitted it (None: direct use of the bind)


@dataclass(frozen=True)
class Step:
    revision: Revision
    branch: str | None
    sha256: str
    direction: str  # 'upgrade' or 'downgrade': what the revision's function was run
    statements: tuple[str, ...]
    operations: tuple[Operation, ...]
    stamp: tuple[str, ...]
    audit: str
    # False when a statement cannot run inside a transaction (CREATE INDEX CONCURRENTLY).
    transactional: bool

    @property
    def message(self) -> str:
        return comment(self.revision.message.splitlines()[0] if self.revision.message else "")


@dataclass(frozen=True)
class Script:
    kind: str  # UPGRADE or ROLLBACK
    environment: Environment
    dialect: ScriptDialect
    expected: tuple[RevisionId, ...]  # what the guard requires before the script runs
    result: tuple[RevisionId, ...]  # what alembic_version holds after it
    steps: tuple[Step, ...]
    apply_command: str
    regenerate_command: str
    text: str = field(default="", repr=False)

    @property
    def transactional(self) -> bool:
        return self.dialect.transactional and all(step.transactional for step in self.steps)


@dataclass(frozen=True)
class Range:
    """What a pair of scripts covers: from a set of heads to a set of heads."""

    start: tuple[RevisionId, ...]
    end: tuple[RevisionId, ...]
    revisions: tuple[RevisionId, ...]  # apply order

    @property
    def start_label(self) -> str:
        return ",".join(self.start) or "base"

    @property
    def end_label(self) -> str:
        return ",".join(self.end) or "base"


@dataclass(frozen=True)
class History:
    """The revision files, loaded once: Alembic's view (for the code) and ours (the graph)."""

    scripts: ScriptDirectory
    graph: Graph
    loaded: dict[RevisionId, Any] = field(repr=False)  # revision -> Alembic's Script

    def module(self, revision: RevisionId) -> Any:
        return self.loaded[revision].module


def load_history(project: Project) -> History:
    scripts = script_directory(project.alembic_config())
    loaded = load_scripts(scripts)
    return History(scripts, graph_from_loaded(loaded), loaded)


# -- ranges -------------------------------------------------------------------------------------


def resolve_heads(history: History, spec: str | Sequence[str] | None) -> tuple[RevisionId, ...]:
    """The set of revisions a --from/--to value names: 'base', 'heads', ids, labels, 'x@head'."""
    if spec is None:
        return ()
    parts = [spec] if isinstance(spec, str) else list(spec)
    names = [p.strip() for part in parts for p in part.split(",") if p.strip()]
    if names in ([], ["base"]):
        return ()
    from alembic.script.revision import RevisionError as AlembicRevisionError

    graph = history.graph
    found: set[RevisionId] = set()
    for name in names:
        # The usual forms come from the graph; anything else (prefixes, labels, label@head)
        # from Alembic's revision map, which is only built when it is needed.
        if name == "heads" or (name == "head" and len(graph.heads) == 1):
            found.update(graph.heads)
            continue
        if name in graph.revisions:
            found.add(name)
            continue
        try:
            revisions = history.scripts.revision_map.get_revisions(name)
        except AlembicRevisionError as err:
            raise RevisionError(
                f"{err}; run `schemactl status` to see the revisions and branch labels"
            ) from err
        if not revisions:
            raise RevisionError(f"no revision named {name!r}; run `schemactl status` to see them")
        found.update(r.revision for r in revisions if r is not None)
    return tuple(r for r in history.graph.order if r in found)


def plan(graph: Graph, start: Sequence[RevisionId], target: Sequence[RevisionId]) -> Range:
    """The revisions that take a database at ``start`` to ``target``, in apply order."""
    start_set, target_set = set(start), set(target)
    for heads, what in ((start_set, "--from"), (target_set, "--to")):
        inner = sorted(r for r in heads if graph.ancestors(heads - {r}) & {r})
        if inner:
            raise RevisionError(
                f"{what} names {', '.join(inner)} together with a later revision on the same "
                "line; a database sits on heads only, so name just the later one"
            )
    have = graph.ancestors(start_set)
    want = graph.ancestors(target_set)
    todo = tuple(r for r in graph.order if r in want and r not in have)
    if not todo:
        raise RevisionError(
            f"nothing to render: a database at {','.join(sorted(start_set)) or 'base'} already "
            f"has {','.join(sorted(target_set)) or 'base'}; choose a later --to"
        )
    end = _heads_of(graph, have | want)
    return Range(tuple(r for r in graph.order if r in start_set), end, todo)


def _version_moves(
    graph: Graph, span: Range
) -> dict[RevisionId, tuple[list[RevisionId], list[RevisionId]]]:
    """For each revision of ``span``: the heads applying it removes from alembic_version, and
    the one it adds. A rollback undoes the revisions in exactly the reverse order, so each of
    its moves is the inverse of the upgrade's: one pass serves both."""
    heads = set(span.start)
    moves = {}
    for rev in span.revisions:
        removed = [p for p in graph[rev].parents if p in heads]
        heads = (heads - set(removed)) | {rev}
        moves[rev] = (removed, [rev])
    return moves


def _heads_of(graph: Graph, revisions: set[RevisionId]) -> tuple[RevisionId, ...]:
    return tuple(
        r for r in graph.order if r in revisions and not set(graph[r].children) & revisions
    )


# -- capture ------------------------------------------------------------------------------------


class _Capture:
    """An offline Alembic context whose output is collected statement by statement."""

    def __init__(self, dialect: str) -> None:
        from alembic.migration import MigrationContext

        self.statements: list[Statement] = []
        self.path = ""
        self.operation: str | None = None
        self.context = MigrationContext.configure(
            dialect_name=dialect,
            opts={"as_sql": True, "literal_binds": True, "output_buffer": io.StringIO()},
        )
        # Each statement arrives here whole, terminator included.
        self.context.impl.static_output = self._collect  # type: ignore[method-assign]

    def _collect(self, text: str) -> None:
        self.statements.append(Statement(text, revision_line(self.path), self.operation))

    def run(
        self, fn: Callable[[], None], revision: Revision, direction: str
    ) -> tuple[tuple[Statement, ...], tuple[Operation, ...]]:
        from sqlalchemy.exc import CompileError

        operations = _recording_operations(self.context, self)
        self.statements.clear()
        self.path = str(revision.path)
        where = f"revision {revision.id} ({revision.path.name}) {direction}"
        operations._install_proxy()
        try:
            fn()
        except SchemactlError:
            raise
        except CompileError as err:
            raise RenderError(
                f"{where} has a value that cannot be written as an SQL literal "
                f"({_first_line(err)}); use a value of a plain SQL type"
            ) from err
        except NotImplementedError as err:
            raise IrreversibleRevision(
                f"{where} cannot be run: it raises NotImplementedError"
                + (f" ({_first_line(err)})" if str(err) else "")
            ) from err
        except Exception as err:
            raise RenderError(
                f"{where} cannot render offline ({type(err).__name__}: {_first_line(err)}); "
                "it probably reads from the database: write data changes as SQL that reads "
                "nothing (op.execute with an UPDATE ... SELECT, op.bulk_insert)"
            ) from err
        finally:
            operations._remove_proxy()
        if any(_RAW_CONTROL.search(statement.sql) for statement in self.statements):
            # SQLAlchemy writes some values (bytes, for one) into literals unchanged.
            raise RenderError(
                f"{where} renders a statement with raw control characters (a binary value "
                "written as a literal?); write such data with an SQL expression, e.g. "
                "decode('...', 'hex')"
            )
        return tuple(self.statements), tuple(operations.recorded)


def revision_line(path: str) -> int | None:
    """The line of the revision file ``path`` that the current call stack came from."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == path:
            return frame.f_lineno
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _recording_operations(context: Any, capture: _Capture) -> Any:
    """Alembic's Operations, remembering what each revision asks of it (for review and lint).

    Alembic installs the `op` proxy per class, so the recording is wrapped around one instance
    rather than written as a subclass.
    """
    from alembic.operations import Operations

    operations = Operations(context)
    recorded: list[Operation] = []
    invoke = operations.invoke
    batch_alter_table = operations.batch_alter_table

    def run(operation: MigrateOperation, described: Operation, call: Callable[[], Any]) -> Any:
        recorded.append(
            dataclasses.replace(described, line=revision_line(capture.path), source=operation)
        )
        outer, capture.operation = capture.operation, described.name
        try:
            return call()
        finally:
            capture.operation = outer

    def recording_invoke(operation: MigrateOperation) -> Any:
        return run(operation, _describe(operation), lambda: invoke(operation))

    @contextmanager
    def recording_batch(table_name: str, *args: Any, **kw: Any) -> Iterator[Any]:
        if kw.get("copy_from") is not None:
            _in_stable_order(kw["copy_from"])
        with batch_alter_table(table_name, *args, **kw) as batch:
            batch_invoke = batch.invoke

            def invoke_in_batch(operation: MigrateOperation) -> Any:
                described = dataclasses.replace(_describe(operation), table=table_name)
                return run(operation, described, lambda: batch_invoke(operation))

            batch.invoke = invoke_in_batch
            yield batch

    operations.invoke = recording_invoke
    operations.batch_alter_table = recording_batch
    operations.recorded = recorded
    return operations


def _in_stable_order(table: Any) -> None:
    """Make a table's constraints and indexes iterate in one fixed order.

    They are sets of objects hashed by identity; Alembic's table rebuild iterates them, so
    without this the rebuilt table lists constraints, and creates indexes, in a different
    order from one run to the next, and rendered scripts would not be byte-identical.
    The primary key comes first, then everything by name, then by columns.
    """
    from sqlalchemy import PrimaryKeyConstraint
    from sqlalchemy.util import OrderedSet

    def key(item: Any) -> tuple[bool, str, tuple[str, ...]]:
        columns = tuple(str(c) for c in getattr(item, "columns", ()))
        return (not isinstance(item, PrimaryKeyConstraint), str(item.name or ""), columns)

    table.constraints = OrderedSet(sorted(table.constraints, key=key))
    table.indexes = OrderedSet(sorted(table.indexes, key=key))


def _describe(operation: MigrateOperation) -> Operation:
    # CreateTableOp -> create_table, ExecuteSQLOp -> execute_sql
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", type(operation).__name__.removesuffix("Op"))
    name = name.lower()
    table = getattr(operation, "table_name", None)
    if table is None and hasattr(operation, "table"):
        table = getattr(operation.table, "name", None)
    target = next(
        (
            value
            for attr in ("column_name", "index_name", "constraint_name", "new_table_name")
            if isinstance(value := getattr(operation, attr, None), str)
        ),
        None,
    )
    column = getattr(operation, "column", None)
    if target is None and column is not None:
        target = column.name
    types = [getattr(operation, "modify_type", None)]
    types += [c.type for c in getattr(operation, "columns", ()) if hasattr(c, "type")]
    if column is not None:
        types.append(column.type)
    enums = tuple(sorted({t.name for t in types if _is_named_enum(t)}))
    return Operation(name, table, target, enums)


def _is_named_enum(type_: object) -> bool:
    from sqlalchemy import Enum

    return isinstance(type_, Enum) and bool(type_.name)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Captured:
    statements: tuple[Statement, ...]
    operations: tuple[Operation, ...]


def capture_revisions(
    history: History, dialect: str, revisions: Sequence[RevisionId], direction: str = "upgrade"
) -> dict[RevisionId, Captured]:
    """What each revision renders and does, offline; RenderError for one that cannot render."""
    capture = _Capture(dialect)
    found = {}
    for rev in revisions:
        revision = history.graph[rev]
        statements, operations = capture.run(
            getattr(history.module(rev), direction), revision, direction
        )
        found[rev] = Captured(statements, operations)
    return found


def capture_operations(
    history: History, dialect: str, revisions: Sequence[RevisionId], direction: str = "upgrade"
) -> dict[RevisionId, tuple[Operation, ...]]:
    """What each revision does, captured offline; RenderError for one that cannot render."""
    captured = capture_revisions(history, dialect, revisions, direction)
    return {rev: c.operations for rev, c in captured.items()}


def capture_steps(
    history: History, dialect: ScriptDialect, span: Range, kind: str
) -> tuple[Step, ...]:
    """Each revision of ``span`` run offline, with the version-table moves around it."""
    graph = history.graph
    capture = _Capture(dialect.name)
    moves = _version_moves(graph, span)
    order = span.revisions if kind == UPGRADE else tuple(reversed(span.revisions))
    heads = set(span.start if kind == UPGRADE else span.end)
    steps = []
    for rev in order:
        revision = graph[safe_revision(rev)]
        direction = "upgrade" if kind == UPGRADE else "downgrade"
        captured, operations = capture.run(
            getattr(history.module(rev), direction), revision, direction
        )
        statements = tuple(statement.sql for statement in captured)
        removed, added = moves[rev] if kind == UPGRADE else moves[rev][::-1]
        heads = (heads - set(removed)) | set(added)
        sha = sha256_of(revision.path)
        steps.append(
            Step(
                revision=revision,
                branch=graph.branch_of(rev),
                sha256=sha,
                direction=direction,
                statements=statements,
                operations=operations,
                stamp=tuple(dialect.stamp(removed, added)),
                audit=dialect.audit(rev, direction, sha),
                transactional=not any(dialect.non_transactional(s) for s in statements),
            )
        )
    expected_end = set(span.end if kind == UPGRADE else span.start)
    assert heads == expected_end, (heads, expected_end)
    return tuple(steps)


# -- scripts ------------------------------------------------------------------------------------


def render_scripts(
    project: Project,
    environment: Environment,
    history: History,
    span: Range,
    *,
    out_dir: str | None,
) -> tuple[Script, Script]:
    """The upgrade script for ``span`` and the rollback script that undoes it."""
    return (
        render_script(project, environment, history, span, UPGRADE, out_dir=out_dir),
        render_script(project, environment, history, span, ROLLBACK, out_dir=out_dir),
    )


def render_script(
    project: Project,
    environment: Environment,
    history: History,
    span: Range,
    kind: str,
    *,
    out_dir: str | None,
) -> Script:
    """The upgrade (or rollback) script for ``span``."""
    dialect = script_dialect(environment.dialect, environment.settings)
    regenerate = (
        f"schemactl sql --env {environment.name} --from {span.start_label} "
        f"--to {span.end_label}" + (f" --out {out_dir}" if out_dir else " --stdout")
    )
    path = f"{out_dir}/{kind}.sql" if out_dir else f"{kind}.sql"
    script = Script(
        kind=kind,
        environment=environment,
        dialect=dialect,
        expected=span.start if kind == UPGRADE else span.end,
        result=span.end if kind == UPGRADE else span.start,
        steps=capture_steps(history, dialect, span, kind),
        apply_command=dialect.apply_command(path),
        regenerate_command=regenerate,
    )
    return _with_text(script, _template(project))


def _template(project: Project) -> Path:
    return project.template or DEFAULT_TEMPLATE


def _with_text(script: Script, template_path: Path) -> Script:
    from dataclasses import replace

    from mako import exceptions
    from mako.template import Template

    try:
        template = Template(filename=str(template_path), strict_undefined=True)
        text = template.render(script=script, dialect=script.dialect, comment=comment)
    except Exception as err:
        trace = exceptions.RichTraceback()
        where = next(
            (
                f"line {line}"
                for name, line, *_ in reversed(trace.traceback)
                if name == str(template_path)
            ),
            "an unknown line",
        )
        raise RenderError(
            f"template {template_path.name} failed at {where}: {type(err).__name__}: "
            f"{_first_line(err)}; fix the template (or the [schemactl] template setting)"
        ) from err
    # Exactly one trailing newline. Lines are left as rendered: a statement's text (string
    # literals included) reaches the database byte for byte as the revision wrote it.
    text = text.rstrip("\n") + "\n"
    return replace(script, text=text)
