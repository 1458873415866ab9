"""Capture: each revision run on its own in an offline Alembic context, its work recorded.

A revision's upgrade() or downgrade() runs against an offline context of a dialect, so its
statements, and the Alembic operations behind them, are known per revision and per line of
the revision file. No env.py, no URL, no driver, no server: a dialect name is all this
needs. Rendering scripts, lint, conflict analysis, checks and branch listing all build on it.
"""

from __future__ import annotations

import dataclasses
import gc
import io
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tools.config import Environment
from tools.core.errors import SchemactlError, first_line, raised_at
from tools.core.internals import (
    current_operations,
    make_current,
    stop_being_current,
)
from tools.core.text import printed_to_stderr
from tools.dialects import UnwritableValue, script_dialect
from tools.scripts import literals, transactions
from tools.scripts.offline import (
    OfflineBind,
    ReadsFromDatabase,
    creating_in_stable_order,
    in_stable_order,
    register_inspection,
)

if TYPE_CHECKING:
    from alembic.operations.ops import MigrateOperation

    from tools.config import Environment
    from tools.dialects import ScriptDialect
    from tools.history.graph import Direction, Revision, RevisionId
    from tools.history.load import History

# Control characters other than tab and newline have no business in a statement's text:
# values holding them are written with escapes (tools.scripts.literals), so these come from raw SQL.
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
        self,
        revision: RevisionId,
        file: str,
        direction: Direction,
        problem: str,
        fix: str | None,
        line: int | None = None,
    ) -> None:
        self.revision = revision
        self.file = file
        self.direction = direction
        self.problem = problem
        self.line = line  # where in the revision file it failed, when known
        super().__init__(f"revision {revision} ({file}) {direction} {problem}", fix)


class OfflineUnsafe(RevisionRenderError):
    """The revision failed offline: most often it reads from the database."""


class UnrenderableValue(RevisionRenderError):
    """A value with no SQL literal (or written raw, control characters and all)."""


class IrreversibleRevision(RevisionRenderError):
    """A revision whose downgrade (or upgrade) refuses to run: it raises NotImplementedError."""


class RevisionFailed(RevisionRenderError):
    """The revision's own code raised offline (not a read from the database)."""


@dataclass(frozen=True, slots=True)
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
    # The Table Alembic built to create (create_table). Its columns, indexes and constraints
    # now belong to it, so it is what later replays read: building the table again from
    # ``source`` would attach them twice (SQLAlchemy refuses an Index already on a table).
    built: Any = field(default=None, compare=False, repr=False)
    # What a create_table or add_column made, as plain data read once it ran (a
    # shapes.TableMade or shapes.ColumnAdded): what backup plans and lint replay. A capture
    # without sources (capture_session) keeps only this of them: their ``source`` and
    # ``built`` hold Tables, about 6 KB a revision that nothing else in a render reads.
    made: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL statement a revision renders, and where it came from."""

    sql: str
    line: int | None  # the line of the revision file that caused it
    operation: str | None  # the Alembic operation that emitted it (None: direct use of the bind)
    # Inside `op.get_context().autocommit_block()`: it must run outside a transaction.
    autocommit: bool = False
    # Which of the revision's operations (Captured.operations) emitted it, when one did.
    operation_index: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Captured:
    statements: tuple[Statement, ...]
    operations: tuple[Operation, ...]
    # The revision's own BEGIN and its matching COMMIT or END, left out: the statements
    # between them run in the script's transaction (as they are and with their line).
    folded: tuple[Statement, ...] = ()


Request = tuple["RevisionId", "Direction"]  # (revision, which of its functions)


@dataclass
class Session:
    """What one offline run of the project's env.py captured.

    ``results`` holds, for each requested (revision, direction), what it rendered or why it
    could not; ``version_table`` and ``version_table_schema`` are what env.py configured.
    """

    dialect: str
    results: dict[Request, Captured | RenderError] = field(default_factory=dict)
    version_table: str = "alembic_version"
    version_table_schema: str | None = None
    # Whether each operation keeps its Alembic objects (Operation.source, .built).
    sources: bool = True

    def get(self, revision: RevisionId, direction: Direction) -> Captured:
        """The capture of one revision; its RenderError raised if it could not render."""
        found = self.results[(revision, direction)]
        if isinstance(found, RenderError):
            raise found
        return found


class EnvironmentFailed(RenderError):
    """The project's env.py could not set up an offline context."""


class Capture:
    """Runs revisions inside the offline context the project's env.py configures, the way
    `alembic upgrade --sql` runs them, and collects their output statement by statement."""

    def __init__(self, context: Any, kind: ScriptDialect, sources: bool = True) -> None:
        self.context = context
        self.kind = kind
        self.sources = sources
        self.statements: list[Statement] = []
        self.path = ""
        self.operation: str | None = None
        self.operation_index: int | None = None
        self.autocommit = False
        # The revision's own BEGIN and COMMIT/END, folded into the script's transaction.
        self.folded: list[Statement] = []

    def _collect(self, text: str) -> None:
        text = literals.restore(text)
        control = transactions.transaction_control(text, self.kind.sqlglot)
        here = Statement(
            text, revision_line(self.path), self.operation, self.autocommit, self.operation_index
        )
        if control is not None:
            if not self._fold(here, control):
                raise _TransactionControl(control.strip().rstrip(";").strip())
            return
        self.statements.append(here)

    @property
    def _own_transaction(self) -> bool:
        return len(self.folded) % 2 == 1

    def _fold(self, statement: Statement, control: str) -> bool:
        """Whether ``statement`` is a revision's own BEGIN, or the COMMIT or END that closes
        it, which the script leaves out: what runs between them runs in the script's
        transaction, all or nothing as the revision meant (a helper that wraps SQLite work
        in BEGIN ... END). Anything else that ends a transaction cannot be folded."""
        if control != statement.sql or (self.autocommit and self.kind.runs_autocommit_blocks):
            return False  # with other statements, or inside a block run outside one
        begins = transactions.begins_transaction(control)
        if begins == self._own_transaction or (
            not begins and not transactions.commits_transaction(control)
        ):
            return False  # a second BEGIN, a COMMIT with none open, a ROLLBACK
        self.folded.append(statement)
        return True

    @contextmanager
    def _autocommit_block(self) -> Iterator[None]:
        # Alembic writes COMMIT and BEGIN around the block offline; the script lays out its
        # own transactions, so the block's statements are only marked as running outside one.
        outer, self.autocommit = self.autocommit, True
        try:
            yield
        finally:
            self.autocommit = outer

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Take over the context's output, bind and autocommit_block while capturing."""
        context, impl = self.context, self.context.impl
        bind, dialect = context.connection, context.dialect
        previous = current_operations()
        register_inspection()
        impl.static_output = self._collect
        impl.create_table = creating_in_stable_order(impl.create_table)
        context.connection = impl.connection = OfflineBind(bind)
        context.autocommit_block = self._autocommit_block
        # Values reach the statements exactly as written (no doubled %, TABs kept).
        context.dialect = impl.dialect = literals.offline_dialect(dialect, self.kind)
        try:
            yield
        finally:
            del impl.static_output
            del impl.create_table
            del context.autocommit_block
            context.connection = impl.connection = bind
            context.dialect = impl.dialect = dialect
            if previous is not None:
                make_current(previous)

    def run(self, fn: Callable[[], None], revision: Revision, direction: Direction) -> Captured:

        operations = _recording_operations(self.context, self)
        self.statements.clear()
        self.folded.clear()
        self.path = revision.file
        self.autocommit = False
        # Alembic's memory of the named types created in this run (a PostgreSQL enum made
        # once, however many tables use it): each revision is captured on its own, so what
        # another capture in the same run created is not taken as there already.
        self.context.impl.memo = {}
        where = (revision.id, revision.filename, direction)
        make_current(operations)
        try:
            fn()
        except UnwritableValue as err:
            raise _failure(err, where, self.path) from err
        except SchemactlError:
            raise
        except _TransactionControl as err:
            raise _failure(err, where, self.path) from None
        except Exception as err:  # the revision's own code failed: report it as it is
            raise _failure(err, where, self.path) from err
        finally:
            stop_being_current(operations)
        if self._own_transaction:
            opened = self.folded[-1]
            raise UnrenderableValue(
                *where,
                f"runs {opened.sql.strip().rstrip(';')} itself (line {opened.line}) and never "
                "a COMMIT or END to close it",
                "close the transaction it opens, or run its statements without one",
                opened.line,
            )
        if any(_RAW_CONTROL.search(statement.sql) for statement in self.statements):
            raise UnrenderableValue(
                *where,
                "runs SQL text holding raw control characters, which a script cannot carry",
                "pass such values as bound parameters (sa.text(...).bindparams(...)), which "
                "are written with escapes",
            )
        made = tuple(_settled(op, self.kind, self.sources) for op in operations.recorded)
        return Captured(tuple(self.statements), made, tuple(self.folded))


class _TransactionControl(Exception):
    pass


def _failure(
    err: BaseException, where: tuple[RevisionId, str, Direction], path: str
) -> RenderError:
    """What a revision's failure offline means, as one error a person can act on."""
    from sqlalchemy.exc import CompileError

    if isinstance(err, UnwritableValue):
        return UnrenderableValue(
            *where,
            f"has a value that cannot be written into a script ({err})",
            "write it as a value the database can hold",
            _line(err, path),
        )
    if isinstance(err, _TransactionControl):
        return UnrenderableValue(
            *where,
            f"runs {err} itself, which would end the script's transaction",
            "run statements that cannot be in a transaction inside "
            "`with op.get_context().autocommit_block():`",
        )
    if isinstance(err, ReadsFromDatabase):
        return OfflineUnsafe(
            *where,
            f"reads from the database ({_where(err, path)}: {err})",
            "write data changes as SQL that reads nothing (op.execute with an "
            "UPDATE ... SELECT, op.bulk_insert)",
            _line(err, path),
        )
    if isinstance(err, CompileError):
        return UnrenderableValue(
            *where,
            f"has a value that cannot be written as an SQL literal ({first_line(err)})",
            "use a value of a plain SQL type",
        )
    if isinstance(err, NotImplementedError):
        return IrreversibleRevision(
            *where,
            "cannot be run: it raises NotImplementedError"
            + (f" ({first_line(err)})" if str(err) else ""),
            None,
        )
    return RevisionFailed(
        *where,
        f"fails offline with {type(err).__name__}: {first_line(err)} ({_where(err, path)})",
        next(
            (fix for start, fix in _KNOWN_FIXES.items() if first_line(err).startswith(start)),
            "fix the revision (offline, `context.is_offline_mode()` is true and "
            "`op.get_bind()` executes nothing)",
        ),
        _line(err, path),
    )


# Alembic's own refusals whose way out is known: how its message starts -> what to write.
_KNOWN_FIXES = {
    # A batch block `alembic revision --autogenerate` wrote for SQLite: it reflects the
    # table from a live database, which a script has not got.
    "This operation cannot proceed in --sql mode; batch mode with dialect sqlite requires a "
    "live database connection": (
        "write the revision with `schemactl makemigrations` (it gives each batch block the "
        "table's copy, copy_from=, that a script needs), or pass copy_from=sa.Table(...) to "
        "batch_alter_table yourself"
    ),
    "All MySQL CHANGE/MODIFY COLUMN operations require the existing type.": (
        "give alter_column existing_type= (and existing_nullable=, existing_server_default=): "
        "MariaDB and MySQL rename or change a column with CHANGE/MODIFY, which restate the "
        "whole column (`schemactl makemigrations --rename TABLE.OLD:NEW` writes them)"
    ),
}


def revision_line(path: str) -> int | None:
    """The line of the revision file ``path`` that the current call stack came from."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == path:
            return frame.f_lineno
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _recording_operations(context: Any, capture: Capture) -> Any:
    """Alembic's Operations, remembering what each revision asks of it (for review and lint).

    Alembic installs the `op` proxy per class, so the recording is wrapped around one instance
    rather than written as a subclass.
    """
    from alembic.operations import Operations

    # Any: its methods are replaced on this one instance below.
    operations: Any = Operations(context)
    recorded: list[Operation] = []
    invoke = operations.invoke
    batch_alter_table = operations.batch_alter_table

    def run(operation: MigrateOperation, described: Operation, call: Callable[[], Any]) -> Any:
        from sqlalchemy import Table

        at = len(recorded)
        recorded.append(
            dataclasses.replace(described, line=revision_line(capture.path), source=operation)
        )
        outer = capture.operation, capture.operation_index
        capture.operation, capture.operation_index = described.name, at
        try:
            made = call()
        finally:
            capture.operation, capture.operation_index = outer
        if isinstance(made, Table):
            recorded[at] = dataclasses.replace(recorded[at], built=made)
        return made

    def recording_invoke(operation: MigrateOperation) -> Any:
        return run(operation, _describe(operation), lambda: invoke(operation))

    @contextmanager
    def recording_batch(table_name: str, *args: Any, **kw: Any) -> Iterator[Any]:
        if kw.get("copy_from") is not None:
            in_stable_order(kw["copy_from"])
        outer = capture.operation
        try:
            with batch_alter_table(table_name, *args, **kw) as batch_operations:
                batch: Any = batch_operations  # its invoke is replaced for this block
                batch_invoke = batch.invoke

                def invoke_in_batch(operation: MigrateOperation) -> Any:
                    described = dataclasses.replace(_describe(operation), table=table_name)
                    return run(operation, described, lambda: batch_invoke(operation))

                batch.invoke = invoke_in_batch
                yield batch
                # The batch runs its operations as the block ends: their statements are the
                # batch's, not raw SQL of the revision's own.
                capture.operation = "batch_alter_table"
        finally:
            capture.operation = outer

    operations.invoke = recording_invoke
    operations.batch_alter_table = recording_batch
    operations.recorded = recorded
    return operations


def _settled(operation: Operation, kind: ScriptDialect, sources: bool) -> Operation:
    """``operation`` once its revision ran: what a create_table or add_column made read into
    ``made``. Without ``sources`` (a script and its backup plan, nothing else, read the
    capture), only what the plan reads is kept: of a create_table or add_column what it
    made, and of the columns' types only what restoring a value into them needs
    (ScriptDialect.restored_type); of the other operations, the Alembic object of those
    that change a table's keys (shapes.KEYS_CHANGED_BY). The rest stays in memory no
    longer, with what SQLAlchemy caches for each type it compiled."""
    from tools.scripts.shapes import KEYS_CHANGED_BY, column_added, table_made

    keep = {} if sources else {"keep_type": kind.restored_type}
    try:
        if operation.name == "create_table":
            built = operation.built
            table = built if built is not None else operation.source.to_table()
            made: Any = table_made(table, **keep)
        elif operation.name == "add_column":
            made = column_added(operation.source.column, **keep)
        elif sources or operation.name in KEYS_CHANGED_BY:
            return operation
        else:
            return dataclasses.replace(operation, source=None)
    except Exception:  # what it made cannot be read as plain data: kept whole, as it is
        return operation
    if sources:
        return dataclasses.replace(operation, made=made)
    return dataclasses.replace(operation, made=made, source=None, built=None)


def _describe(operation: MigrateOperation) -> Operation:
    # CreateTableOp -> create_table, ExecuteSQLOp -> execute_sql
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", type(operation).__name__.removesuffix("Op"))
    name = sys.intern(name.lower())  # one string for every create_table, not one each
    # A foreign key names its table source_table.
    table = getattr(operation, "table_name", None) or getattr(operation, "source_table", None)
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
    enums = tuple(sorted({t.name for t in types if t is not None and _is_named_enum(t)}))
    return Operation(name, table, target, enums)


def _is_named_enum(type_: object) -> bool:
    from sqlalchemy import Enum

    return isinstance(type_, Enum) and bool(type_.name)


# -- running the project's env.py offline ---------------------------------------------------------


def capture_session(
    history: History,
    dialect: str,
    requests: Sequence[Request],
    *,
    environment: Environment | None = None,
    sources: bool = True,
) -> Session:
    """Run the project's env.py offline, as `alembic upgrade --sql` does, and capture each
    requested revision on its own inside the context it configures. Without ``sources``,
    a created table or added column keeps only what it made (Operation.made): enough for a
    script and its backup plan, not for lint, review, proof or squash, which read the rest.

    env.py decides what it decides for `--sql`: the version table and its schema, literal
    binds, `-x` arguments, whatever `context.config` holds. Its sqlalchemy.url is a
    placeholder of the dialect rendered for (no server, no connection), and the environment
    is passed in ``config.attributes`` for an env.py that reads it (this repo's does).
    """
    project, scripts = history.project, history.scripts
    if project is None or scripts is None:
        raise RenderError("this history has no files to run", "load it with load_history")
    kind = script_dialect(dialect)
    environment = environment or Environment(name=f"offline-{kind.name}", dialect=kind.name)
    # Each (revision, direction) is captured on its own: what this history captured before
    # in the same dialect and environment is what a new run would capture again.
    key = (kind.name, repr(environment))
    known: Session | None = history.captured.get(key)
    if known is not None and sources and not known.sources:
        known = None  # captured for a script alone: captured again, whole
    missing = [r for r in dict.fromkeys(requests) if known is None or r not in known.results]
    if known is None:  # env.py runs at least once, even for nothing to capture
        known = history.captured[key] = _run_env(history, kind, environment, missing, sources)
    elif missing:
        known.results.update(_run_env(history, kind, environment, missing, known.sources).results)
    return dataclasses.replace(known, results={r: known.results[r] for r in requests})


def _run_env(
    history: History,
    kind: ScriptDialect,
    environment: Environment,
    requests: Sequence[Request],
    sources: bool,
) -> Session:
    """One offline run of env.py, capturing ``requests``."""
    from alembic.runtime.environment import EnvironmentContext

    project, scripts = history.project, history.scripts
    assert project is not None and scripts is not None
    cfg = project.alembic_config(environment, url=kind.placeholder_url(), quiet=True)
    session = Session(kind.name, sources=sources)
    calls: list[Any] = []

    def run(heads: object, context: Any) -> list[Any]:
        calls.append(context)
        if len(calls) == 1:  # an env.py for several databases runs more than once
            # A capture without sources and a whole one import the files each for itself,
            # as two Alembic commands would: a revision's functions run once per import.
            run_of = (kind.name, repr(environment), sources)
            _capture_in(context, kind, history, requests, session, run_of)
        return []  # nothing for Alembic itself to run

    with (
        _env_errors(),
        EnvironmentContext(
            cfg,
            scripts,
            fn=run,
            as_sql=True,
            starting_rev=None,
            destination_rev="heads",
            output_buffer=io.StringIO(),  # env.py's own BEGIN/COMMIT: not ours to keep
        ),
        printed_to_stderr(),
    ):
        scripts.run_env()
    if not calls:
        raise EnvironmentFailed(
            "env.py ran no migrations offline",
            "its offline branch must call context.run_migrations(), as Alembic's template does",
        )
    return session


@contextmanager
def _env_errors() -> Iterator[None]:
    """The project's env.py failing offline, as one error a person can act on."""
    from alembic.util import CommandError

    try:
        yield
    except SchemactlError:
        raise
    except CommandError as err:
        if isinstance(err.__cause__, SchemactlError):
            raise err.__cause__ from err
        raise EnvironmentFailed(f"env.py failed offline ({first_line(err)})", _ENV_FIX) from err
    except Exception as err:  # the project's env.py failed: report it as it is
        raise EnvironmentFailed(
            f"env.py failed offline with {type(err).__name__}: {first_line(err)} ({_where(err)})",
            _ENV_FIX,
        ) from err


_ENV_FIX = (
    "it must run offline as for `alembic upgrade --sql`; pass what it needs with "
    "`schemactl -x KEY=VALUE`"
)


def _capture_in(
    context: Any,
    kind: ScriptDialect,
    history: History,
    requests: Sequence[Request],
    session: Session,
    run: object,
) -> None:
    """Capture ``requests`` in the offline context env.py configured; ``run``: which set of
    imported revision modules they run on (one per dialect and environment)."""
    if not kind.matches(context.dialect):
        raise EnvironmentFailed(
            f"env.py set up its offline context for {context.dialect.name}, not {kind.name}",
            "make its offline branch use sqlalchemy.url (schemactl sets it to the dialect "
            "it renders for)",
        )
    session.version_table = context.version_table
    session.version_table_schema = context.version_table_schema
    capture = Capture(context, kind, session.sources)
    # The revisions of one dialect and environment run on modules of their own, imported as
    # one Alembic command imports them.
    modules = history.modules(run) if requests else {}
    with capture.installed():
        for request in requests:  # the caller's own tuple is the key (a pair each, not two)
            rev, direction = request
            revision = history.graph[rev]
            function = getattr(modules[rev], direction)
            try:
                session.results[request] = capture.run(function, revision, direction)
            except RenderError as err:
                session.results[request] = err
            # What the revision built and let go (Tables and their columns refer to each
            # other) is freed now, not whenever the collector next runs: its threshold is
            # high (tools.entry), and a render's memory would grow by all of it.
            gc.collect(0)


def capture_operations(
    history: History,
    dialect: str,
    revisions: Sequence[RevisionId],
    direction: Direction = "upgrade",
) -> dict[RevisionId, tuple[Operation, ...]]:
    """What each revision does, captured offline; RenderError for one that cannot render."""
    session = capture_session(history, dialect, [(rev, direction) for rev in revisions])
    return {rev: session.get(rev, direction).operations for rev in revisions}


def render_operations(kind: ScriptDialect, operations: Sequence[MigrateOperation]) -> list[str]:
    """Alembic operations built in code (not a revision's) as the statements a script of
    ``kind`` runs for them, written as a revision's are (values as literals, % as %)."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(
        url=kind.placeholder_url(),
        opts={"as_sql": True, "output_buffer": io.StringIO(), "literal_binds": True},
    )
    capture = Capture(context, kind)
    with capture.installed():
        runner = Operations(context)
        for operation in operations:
            runner.invoke(operation)
    return [statement.sql for statement in capture.statements]


def _line(err: BaseException, path: str | None) -> int | None:
    """The line of the revision file itself that raised ``err`` (None: not raised there)."""
    at = raised_at(err, path)
    return at[1] if at and path is not None and at[0] == os.path.basename(path) else None


def _where(err: BaseException, path: str | None = None) -> str:
    at = raised_at(err, path)
    return f"{at[0]}:{at[1]}" if at else "inside Alembic or SQLAlchemy"
