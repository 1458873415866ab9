"""Capture: each revision run on its own in an offline Alembic context, its work recorded.

A revision's upgrade() or downgrade() runs against an offline context of a dialect, so its
statements, and the Alembic operations behind them, are known per revision and per line of
the revision file. No env.py, no URL, no driver, no server: a dialect name is all this
needs. Rendering scripts, lint, conflict analysis, checks and branch listing all build on it.
"""

from __future__ import annotations

import dataclasses
import io
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tools.errors import SchemactlError

if TYPE_CHECKING:
    from alembic.operations.ops import MigrateOperation

    from tools.graph import Revision, RevisionId
    from tools.history import History

# Control characters other than tab and newline have no business in a statement's text.
_RAW_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class RenderError(SchemactlError):
    """A revision, range or template that cannot be rendered as an offline script.

    ``summary`` is the problem without the advice that follows it in the message.
    """

    def __init__(self, summary: str, fix: str | None = None) -> None:
        self.summary = summary
        self.fix = fix
        super().__init__(f"{summary}; {fix}" if fix else summary)


class RevisionRenderError(RenderError):
    """One revision's function failed while it was captured offline."""

    def __init__(
        self, revision: RevisionId, file: str, direction: str, problem: str, fix: str | None
    ) -> None:
        self.revision = revision
        self.file = file
        self.direction = direction
        self.problem = problem
        super().__init__(f"revision {revision} ({file}) {direction} {problem}", fix)


class OfflineUnsafe(RevisionRenderError):
    """The revision failed offline: most often it reads from the database."""


class UnrenderableValue(RevisionRenderError):
    """A value with no SQL literal (or written raw, control characters and all)."""


class IrreversibleRevision(RevisionRenderError):
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


class Capture:
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
        where = (revision.id, revision.path.name, direction)
        operations._install_proxy()
        try:
            fn()
        except SchemactlError:
            raise
        except CompileError as err:
            raise UnrenderableValue(
                *where,
                f"has a value that cannot be written as an SQL literal ({_first_line(err)})",
                "use a value of a plain SQL type",
            ) from err
        except NotImplementedError as err:
            raise IrreversibleRevision(
                *where,
                "cannot be run: it raises NotImplementedError"
                + (f" ({_first_line(err)})" if str(err) else ""),
                None,
            ) from err
        except Exception as err:
            raise OfflineUnsafe(
                *where,
                f"cannot render offline ({type(err).__name__}: {_first_line(err)})",
                "it probably reads from the database: write data changes as SQL that reads "
                "nothing (op.execute with an UPDATE ... SELECT, op.bulk_insert)",
            ) from err
        finally:
            operations._remove_proxy()
        if any(_RAW_CONTROL.search(statement.sql) for statement in self.statements):
            # SQLAlchemy writes some values (bytes, for one) into literals unchanged.
            raise UnrenderableValue(
                *where,
                "renders a statement with raw control characters (a binary value written as "
                "a literal?)",
                "write such data with an SQL expression, e.g. decode('...', 'hex')",
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


def _recording_operations(context: Any, capture: Capture) -> Any:
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


@dataclass(frozen=True)
class Captured:
    statements: tuple[Statement, ...]
    operations: tuple[Operation, ...]


def capture_revisions(
    history: History, dialect: str, revisions: Sequence[RevisionId], direction: str = "upgrade"
) -> dict[RevisionId, Captured]:
    """What each revision renders and does, offline; RenderError for one that cannot render."""
    capture = Capture(dialect)
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
