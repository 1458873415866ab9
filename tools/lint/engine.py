"""Lint: what each revision does that a DBA would want to know before running it.

Rules look at the Alembic operations captured while rendering offline, and at raw SQL from
op.execute parsed with sqlglot (never by hand). Each rule is one function; its docstring says
why it exists. A revision silences a rule with a comment naming it and giving a reason,
anywhere in the file:

    # schemactl: allow destructive: the column was never read by any release

The reason is kept and shown in the review. Errors stop `schemactl release` unless silenced.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
import tokenize
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.core.errors import SchemactlError
from tools.core.text import shown_file
from tools.history.graph import BOTH_WAYS
from tools.scripts.narrowing import loss

if TYPE_CHECKING:
    from tools.dialects import ScriptDialect
    from tools.history.graph import Direction, Revision
    from tools.history.load import History, Range
    from tools.lint.squawk import Hit as SquawkHit
    from tools.scripts.capture import Operation, Session, Statement
    from tools.scripts.shapes import Shapes
    from tools.scripts.statements import RawStatement

ERROR = "error"
WARNING = "warning"
_SILENCE = re.compile(r"#\s*schemactl:\s*allow\s+([a-z0-9-]+)\s*:?\s*(.*)$")


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    revision: str
    path: Path
    line: int | None
    message: str
    why: str
    fix: str
    silenced: str | None = None  # the reason given, when a comment silences the rule

    @property
    def where(self) -> str:
        return f"{shown_file(self.path)}:{self.line or 1}"

    def __str__(self) -> str:
        state = f" (silenced: {self.silenced})" if self.silenced else ""
        return f"{self.where}: {self.severity} {self.rule}: {self.message}{state}"

    def as_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "revision": self.revision,
            "file": self.where,
            "message": self.message,
            "why": self.why,
            "fix": self.fix,
            "silenced": self.silenced,
        }


@dataclass(frozen=True)
class Facts:
    """What a rule gets to look at for one revision in one direction."""

    revision: Revision
    dialect: ScriptDialect
    direction: Direction
    operations: tuple[Operation, ...]
    statements: tuple[Statement, ...]  # every statement this step renders
    # SQL no Alembic operation describes (op.execute, the bind's execute), one statement each.
    raw_sql: tuple[tuple[Statement, RawStatement], ...]
    new_tables: frozenset[str]  # created by this revision: no existing rows, no readers
    render_error: SchemactlError | None = None
    reverse_operations: tuple[Operation, ...] | None = None  # the other direction
    reverse_statements: tuple[Statement, ...] = ()
    reverse_error: SchemactlError | None = None
    # The tables' indexes and foreign keys before this step, replayed from the revisions
    # before it in apply order (None when not replayed: only rules that need it ask).
    shapes: Shapes | None = None
    # squawk's findings on this step's statements, judged with the whole range's.
    squawk: tuple[tuple[Statement, SquawkHit], ...] = ()

    def existing(self, table: str | None) -> bool:
        return table is not None and table not in self.new_tables


@dataclass(frozen=True)
class Hit:
    """A rule's raw finding; lint fills in revision, file and silencing."""

    severity: str
    message: str
    line: int | None
    why: str
    fix: str


Rule = Callable[[Facts], Iterator[Hit]]


# -- the rules ----------------------------------------------------------------------------------


def destructive(facts: Facts) -> Iterator[Hit]:
    """Dropping a table or column, or narrowing a type, takes data from the application for
    good once the release stays: only the release's backup (not with backup = off) lets its
    rollback put it back. A dropped index can make queries crawl."""
    why = (
        "the data is gone for the application; only the release's backup (not with "
        "backup = off) lets the rollback script put it back"
    )
    for op in facts.operations:
        if op.name == "drop_table" and facts.existing(op.table):
            yield Hit(ERROR, f"drops table {op.table}", op.line, why, _FIX_DROP)
        elif op.name == "drop_column":
            yield Hit(ERROR, f"drops column {op.table}.{op.target}", op.line, why, _FIX_DROP)
        elif op.name == "drop_index" and facts.existing(op.table):
            yield Hit(
                WARNING,
                f"drops index {op.target}",
                op.line,
                "queries that used the index fall back to scanning the table",
                "check the running application no longer needs it",
            )
        elif op.name == "alter_column" and (verb := loss(op.source)):
            old, new = op.source.existing_type, op.source.modify_type
            change = f"{verb} {op.table}.{op.target} from {old} to {new}"
            if verb == "narrows":
                yield Hit(
                    ERROR,
                    change,
                    op.line,
                    "values that do not fit are truncated or make the statement fail",
                    "check the data fits first, or keep the wider type",
                )
            elif facts.existing(op.table):  # a table the range creates holds no rows yet
                yield Hit(
                    WARNING,
                    change,
                    op.line,
                    f"the upgrade changes existing values ({verb.removesuffix(' of')} them) and "
                    "widening the type again cannot give them back: only the release's backup "
                    "(not with backup = off) lets its rollback restore them",
                    "check the change of values is intended; keep the backup on",
                )
    for statement, raw in facts.raw_sql:
        for kind in raw.kinds:
            if kind in _RAW_DESTRUCTIVE:
                yield Hit(
                    ERROR,
                    f"raw SQL {kind.replace('-', ' ')}: {_short(statement)}",
                    statement.line,
                    why,
                    _FIX_DROP,
                )
            elif kind == "drop-index":
                yield Hit(
                    WARNING,
                    f"raw SQL drop index: {_short(statement)}",
                    statement.line,
                    "queries that used the index fall back to scanning the table",
                    "check the running application no longer needs it",
                )
            elif kind == "drop-type":
                yield Hit(
                    WARNING,
                    f"raw SQL drop type: {_short(statement)}",
                    statement.line,
                    "it fails while a column still uses the type, and a rollback stops there",
                    "drop it after the tables that use it (in a downgrade: after drop_table)",
                )


_RAW_DESTRUCTIVE = frozenset(
    {"drop-table", "drop-column", "truncate", "drop-database", "drop-schema"}
)


_WHY_INDEX = "CREATE INDEX blocks every write to the table until the index is built"
_WHY_VALIDATE = "validating every row holds a lock on the table for the whole scan"
_WHY_RENAME = "the running application still uses the old name until it is redeployed"
_FIX_RENAME = "add the new name, write to both, switch readers, then drop the old one"
_FIX_DROP = (
    "release the code that stops using it first, back the data up, and silence this rule "
    "with the reason once that is done"
)


def not_null_without_default(facts: Facts) -> Iterator[Hit]:
    """A NOT NULL column added to a table that has rows needs a value for each of them: without
    a server default the statement fails on the first non-empty database."""
    for op in facts.operations:
        source = op.source
        if op.name == "add_column" and facts.existing(op.table):
            column = source.column
            if not column.nullable and column.server_default is None:
                yield Hit(
                    ERROR,
                    f"adds NOT NULL column {op.table}.{column.name} without a server default",
                    op.line,
                    "existing rows have no value for it: the ALTER fails where the table has rows",
                    "give it a server_default, or add it nullable, backfill, then set NOT NULL",
                )
        elif (
            op.name == "alter_column"
            and facts.existing(op.table)
            and source.modify_nullable is False
            and source.existing_nullable is not False
        ):
            yield Hit(
                WARNING,
                f"sets {op.table}.{op.target} NOT NULL",
                op.line,
                _WHY_SET_NOT_NULL,
                _FIX_SET_NOT_NULL,
            )
    for statement, raw in facts.raw_sql:
        if not facts.existing(raw.table):
            continue
        if "add-not-null-column" in raw.kinds:
            yield Hit(
                ERROR,
                f"raw SQL adds a NOT NULL column without a default: {_short(statement)}",
                statement.line,
                "existing rows have no value for it: the ALTER fails where the table has rows",
                "give it a DEFAULT, or add it nullable, backfill, then SET NOT NULL",
            )
        if "set-not-null" in raw.kinds:
            yield Hit(
                WARNING,
                f"raw SQL sets NOT NULL: {_short(statement)}",
                statement.line,
                _WHY_SET_NOT_NULL,
                _FIX_SET_NOT_NULL,
            )


_WHY_SET_NOT_NULL = "fails if any row holds NULL, and the check scans the whole table"
_FIX_SET_NOT_NULL = "backfill the NULLs in an earlier revision"


def unique_on_existing_table(facts: Facts) -> Iterator[Hit]:
    """A new unique constraint or unique index fails if the table already holds duplicates,
    and then only on the databases that do: it depends on the data, not the schema."""
    for op in facts.operations:
        unique_index = op.name == "create_index" and getattr(op.source, "unique", False)
        if (op.name == "create_unique_constraint" or unique_index) and facts.existing(op.table):
            yield Hit(
                WARNING,
                f"adds unique {op.target or 'constraint'} on existing table {op.table}",
                op.line,
                "fails on any database whose table already holds duplicates",
                "check for duplicates first (SELECT ... GROUP BY ... HAVING count(*) > 1)",
            )


def postgresql_locks(facts: Facts) -> Iterator[Hit]:
    """On PostgreSQL these statements hold locks that stop writes (or everything) to a busy
    table for as long as they run: a plain CREATE INDEX, a constraint that is validated at
    once, a type change or a volatile default that rewrites the table."""
    for op in facts.operations:
        source = op.source
        if not facts.existing(op.table):
            continue
        if op.name == "create_index" and not source.kw.get("postgresql_concurrently"):
            yield Hit(
                WARNING,
                f"creates index {op.target} on existing table {op.table} without CONCURRENTLY",
                op.line,
                _WHY_INDEX,
                _FIX_CONCURRENTLY,
            )
        elif op.name in ("create_foreign_key", "create_check_constraint"):
            yield Hit(
                WARNING,
                f"adds {op.name.removeprefix('create_').replace('_', ' ')} {op.target} on "
                f"existing table {op.table} and validates it at once",
                op.line,
                _WHY_VALIDATE,
                _FIX_NOT_VALID,
            )
        elif op.name in ("create_unique_constraint", "create_primary_key"):
            yield Hit(
                WARNING,
                f"adds {'unique constraint' if 'unique' in op.name else 'primary key'} "
                f"{op.target} on existing table {op.table}: its index is built under lock",
                op.line,
                _WHY_UNIQUE,
                _FIX_UNIQUE,
            )
        elif op.name == "alter_column" and _rewrites(op.source):
            yield Hit(
                WARNING,
                f"changes the type of {op.table}.{op.target}: PostgreSQL rewrites the table",
                op.line,
                _WHY_REWRITE,
                "schedule it for a quiet moment, or add a new column, backfill, and switch over",
            )
        elif op.name == "add_column" and _volatile_default(source.column, facts.dialect):
            yield Hit(
                WARNING,
                f"adds {op.table}.{op.target} with a volatile default: PostgreSQL rewrites the "
                "table",
                op.line,
                _WHY_REWRITE,
                _FIX_VOLATILE,
            )
    for statement, raw in facts.raw_sql:
        if not facts.existing(raw.table):
            continue
        if "create-index" in raw.kinds and not raw.parsed.args.get("concurrently"):  # type: ignore[union-attr]
            yield Hit(
                WARNING,
                f"raw SQL creates an index without CONCURRENTLY: {_short(statement)}",
                statement.line,
                _WHY_INDEX,
                "write CREATE INDEX CONCURRENTLY, inside "
                "`with op.get_context().autocommit_block():`",
            )
        if "add-unique" in raw.kinds or "add-primary-key" in raw.kinds:
            yield Hit(
                WARNING,
                f"raw SQL adds a unique constraint or primary key: {_short(statement)}",
                statement.line,
                _WHY_UNIQUE,
                _FIX_UNIQUE,
            )
        elif "add-constraint" in raw.kinds and "NOT VALID" not in statement.sql.upper():
            yield Hit(
                WARNING,
                f"raw SQL adds a constraint without NOT VALID: {_short(statement)}",
                statement.line,
                _WHY_VALIDATE,
                _FIX_NOT_VALID,
            )
        if "alter-type" in raw.kinds:
            yield Hit(
                WARNING,
                f"raw SQL changes a column's type: {_short(statement)}",
                statement.line,
                _WHY_REWRITE,
                "add a new column, backfill, and switch over",
            )
        if "add-volatile-default" in raw.kinds:
            yield Hit(
                WARNING,
                f"raw SQL adds a column with a volatile default: {_short(statement)}",
                statement.line,
                _WHY_REWRITE,
                _FIX_VOLATILE,
            )


_FIX_NOT_VALID = (
    "add it NOT VALID (op.execute), and VALIDATE CONSTRAINT in a later revision inside "
    "`with op.get_context().autocommit_block():` (validated in the transaction that added it, "
    "it blocks as before)"
)
_WHY_REWRITE = "the rewrite holds an ACCESS EXCLUSIVE lock: no reads or writes until it is done"
_WHY_UNIQUE = "building the unique index blocks every write to the table until it is done"
# NOT VALID does not exist for UNIQUE or PRIMARY KEY: PostgreSQL builds the index first.
_FIX_UNIQUE = (
    "create a unique index with postgresql_concurrently=True inside "
    "`with op.get_context().autocommit_block():`, then add the constraint USING INDEX "
    "(op.execute) in a later revision"
)
_FIX_CONCURRENTLY = (
    "use postgresql_concurrently=True inside `with op.get_context().autocommit_block():` "
    "(CONCURRENTLY cannot run in a transaction; the script runs it outside one)"
)
_FIX_VOLATILE = (
    "add the column without a default (or with a constant one), backfill it in batches, "
    "then set the default"
)


def _volatile_default(column: Any, dialect: ScriptDialect) -> bool:
    from tools.scripts.statements import is_volatile_default

    default = getattr(column, "server_default", None)
    text = getattr(getattr(default, "arg", None), "text", None)
    return isinstance(text, str) and is_volatile_default(text, dialect.sqlglot)


def renames(facts: Facts) -> Iterator[Hit]:
    """Renaming a table or column breaks the application that is still running during the
    deployment: its queries name the old one."""
    for op in facts.operations:
        renamed_column = op.name == "alter_column" and getattr(op.source, "modify_name", None)
        if op.name == "rename_table" or renamed_column:
            what = f"table {op.table}" if op.name == "rename_table" else f"{op.table}.{op.target}"
            yield Hit(
                ERROR,
                f"renames {what}",
                op.line,
                _WHY_RENAME,
                _FIX_RENAME,
            )
    for statement, raw in facts.raw_sql:
        if "rename" in raw.kinds:
            yield Hit(
                ERROR,
                f"raw SQL renames: {_short(statement)}",
                statement.line,
                _WHY_RENAME,
                _FIX_RENAME,
            )


def constraint_change(facts: Facts) -> Iterator[Hit]:
    """Loosening or removing a constraint takes away a guarantee the running application and
    its data rely on: a column that may now be NULL, a constraint gone, a primary key
    replaced (which rebuilds the table's identity and every foreign key that points at it)."""
    why = "the running application and other tables rely on the guarantee it gave"
    for op in facts.operations:
        source = op.source
        if not facts.existing(op.table):
            continue
        if op.name == "drop_constraint" and getattr(source, "constraint_type", None) == "primary":
            yield Hit(
                ERROR,
                f"drops the primary key {op.target} of {op.table}",
                op.line,
                "foreign keys and replication identify rows by it; without it they break",
                "add the new key as a unique index beside the old one and switch over in "
                "steps; silence this rule with the reason once that is done",
            )
        elif op.name == "drop_constraint":
            yield Hit(
                WARNING, f"drops constraint {op.target} of {op.table}", op.line, why, _FIX_LOOSEN
            )
        elif (
            op.name == "alter_column"
            and getattr(source, "modify_nullable", None) is True
            and getattr(source, "existing_nullable", None) is False
        ):
            yield Hit(WARNING, f"lets {op.table}.{op.target} hold NULL", op.line, why, _FIX_LOOSEN)
    for statement, raw in facts.raw_sql:
        if not facts.existing(raw.table):
            continue
        if "drop-constraint" in raw.kinds:
            yield Hit(
                WARNING,
                f"raw SQL drops a constraint: {_short(statement)}",
                statement.line,
                why,
                _FIX_LOOSEN,
            )
        if "drop-not-null" in raw.kinds:
            yield Hit(
                WARNING,
                f"raw SQL drops NOT NULL: {_short(statement)}",
                statement.line,
                why,
                _FIX_LOOSEN,
            )


_FIX_LOOSEN = "check no reader relies on it, and silence this rule with the reason"


def data_rewrites(facts: Facts) -> Iterator[Hit]:
    """An UPDATE or DELETE without WHERE touches every row: slow, lock-heavy, and its effect
    depends on data nobody reviewed."""
    for statement, raw in facts.raw_sql:
        changes = "update" in raw.kinds or "delete" in raw.kinds
        if changes and not raw.parsed.args.get("where"):  # type: ignore[union-attr]
            yield Hit(
                WARNING,
                f"raw SQL changes every row: {_short(statement)}",
                statement.line,
                "it rewrites the whole table under lock, with an effect that depends on the data",
                "batch it, or restrict it with WHERE",
            )


def offline_unsafe(facts: Facts) -> Iterator[Hit]:
    """A revision that reads from the database cannot become a DBA script: the script is
    written before anyone connects."""
    from tools.scripts.capture import OfflineUnsafe

    error = facts.render_error
    if isinstance(error, OfflineUnsafe):
        yield Hit(
            ERROR,
            error.summary,
            error.line,
            "schemactl renders scripts offline; a revision that queries cannot be rendered",
            "write data changes as SQL that reads nothing (op.execute, op.bulk_insert)",
        )


def renders(facts: Facts) -> Iterator[Hit]:
    """A revision that fails while it is rendered (for any reason but reading from the
    database, or a downgrade that refuses to run) cannot be part of a DBA script."""
    from tools.scripts.capture import IrreversibleRevision, OfflineUnsafe, RenderError

    error = facts.render_error
    if error is not None and not isinstance(error, IrreversibleRevision | OfflineUnsafe):
        yield Hit(
            ERROR,
            error.summary if isinstance(error, RenderError) else str(error),
            getattr(error, "line", None),
            "the script is rendered offline; this revision does not render",
            error.fix if isinstance(error, RenderError) and error.fix else "fix the revision",
        )


def irreversible(facts: Facts) -> Iterator[Hit]:
    """A rollback script is only as good as every downgrade in it: a revision that changes
    something must undo it."""
    from tools.scripts.capture import IrreversibleRevision

    if facts.direction != "upgrade":
        return
    if isinstance(facts.reverse_error, IrreversibleRevision) or (
        _does_something(facts.operations, facts.statements, facts)
        and facts.reverse_operations is not None
        and not _does_something(facts.reverse_operations, facts.reverse_statements, facts)
    ):
        yield Hit(
            ERROR,
            "changes the schema but its downgrade is missing or does nothing",
            None,
            "its rollback script would leave the change in place",
            "write a downgrade that undoes the upgrade",
        )


def _does_something(
    operations: tuple[Operation, ...], statements: tuple[Statement, ...], facts: Facts
) -> bool:
    """Whether a direction changes anything: an operation other than raw SQL, or raw SQL
    that is more than a SELECT (a downgrade of `op.execute("SELECT 1")` undoes nothing) or
    the validation of a constraint (which has nothing to undo)."""
    from tools.scripts.statements import does_nothing

    if any(op.name != "execute_sql" for op in operations):
        return True
    return any(
        not does_nothing(s.sql, facts.dialect.sqlglot)
        for s in statements
        if s.operation in ("execute_sql", None)
    )


def enum_lifecycle(facts: Facts) -> Iterator[Hit]:
    """On PostgreSQL an enum is a type of its own: dropping the table leaves it behind, and
    the next upgrade's CREATE TYPE then fails."""
    if facts.direction != "upgrade":
        return
    from tools.scripts.statements import dropped_types

    created = {e for op in facts.operations for e in op.enums if op.name in _CREATES}
    dropped = {
        name
        for statement in facts.reverse_statements
        for name in dropped_types(statement.sql, facts.dialect.sqlglot)
    }
    for enum in sorted(created - dropped):
        line = next((op.line for op in facts.operations if enum in op.enums), None)
        yield Hit(
            ERROR,
            f"creates enum type {enum} but its downgrade does not drop it",
            line,
            "after a rollback the type stays, and upgrading again fails on CREATE TYPE",
            f"in downgrade(), after dropping the table: sa.Enum(name={enum!r}).drop(op.get_bind())",
        )


_CREATES = ("create_table", "add_column", "alter_column")


def table_copy(facts: Facts) -> Iterator[Hit]:
    """MariaDB and MySQL run most ALTERs instantly or in place; a column type change, a
    column redefined with MODIFY/CHANGE, or a new or dropped primary key copies the table
    (ALGORITHM=COPY): every row rewritten while writes to it wait."""
    why = "the copy rewrites every row, and writes to the table wait until it is done"
    fix = "add a new column, backfill it in batches, switch readers, drop the old one"
    for op in facts.operations:
        if not facts.existing(op.table):
            continue
        source = op.source
        if op.name == "alter_column" and getattr(source, "modify_type", None) is not None:
            yield Hit(
                WARNING,
                f"changes the type of {op.table}.{op.target}: {_copies(facts)}",
                op.line,
                why,
                fix,
            )
        elif op.name == "create_primary_key" or (
            op.name == "drop_constraint" and getattr(source, "constraint_type", None) == "primary"
        ):
            yield Hit(
                WARNING,
                f"changes the primary key of {op.table}: {_copies(facts)}",
                op.line,
                why,
                "schedule it for a quiet moment (or build the new table beside it)",
            )
    for statement, raw in facts.raw_sql:
        if facts.existing(raw.table) and ({"alter-type", "modify-column"} & set(raw.kinds)):
            yield Hit(
                WARNING,
                f"raw SQL redefines a column: {_copies(facts)}: {_short(statement)}",
                statement.line,
                why,
                fix,
            )


def _copies(facts: Facts) -> str:
    return f"{facts.dialect.title} copies the table"


def implicit_commit(facts: Facts) -> Iterator[Hit]:
    """MariaDB and MySQL commit before and after every DDL statement: in a revision that
    changes data and then schema, the data changes are committed by the DDL, and a failure
    later in the revision leaves them applied with the revision not recorded."""
    from tools.scripts.statements import split

    first_data: Statement | None = None
    for statement in facts.statements:
        pieces = split(statement.sql, facts.dialect.sqlglot)
        data = statement.operation == "bulk_insert" or any(
            {"insert", "update", "delete"} & set(raw.kinds) for raw in pieces
        )
        if data and first_data is None:
            first_data = statement
        elif not data and first_data is not None and _changes_schema(statement, pieces):
            yield Hit(
                WARNING,
                "changes data, then schema, in one revision: the DDL statement commits the "
                "data changes before it",
                first_data.line,
                "if the revision fails after that DDL statement, its data changes stay",
                "put the data changes in a revision of their own",
            )
            return


def _changes_schema(statement: Statement, pieces: list[RawStatement]) -> bool:
    if statement.operation not in ("execute_sql", None):
        return True  # an Alembic schema operation
    return any(raw.parsed is not None and _is_ddl(raw) for raw in pieces)


def _is_ddl(raw: RawStatement) -> bool:
    from sqlglot import exp

    return isinstance(raw.parsed, exp.Alter | exp.Create | exp.Drop | exp.TruncateTable)


def table_rebuild(facts: Facts) -> Iterator[Hit]:
    """SQLite changes most of a table by rebuilding it (op.batch_alter_table): a new table,
    every row copied, the old one dropped. The whole database is locked meanwhile, and
    foreign keys are off for the copy (the script checks them before it commits)."""
    for statement in facts.statements:
        if statement.operation != "batch_alter_table":
            continue
        created = _rebuilt(statement.sql, facts.dialect)
        if created and facts.existing(created):
            yield Hit(
                WARNING,
                f"rebuilds table {created}: every row is copied",
                statement.line,
                "the database is locked for the copy; a big table makes it long",
                "fine for a small table; for a big one, schedule it for a quiet moment",
            )


def _rebuilt(sql: str, dialect: ScriptDialect) -> str | None:
    """The table a batch's CREATE TABLE _alembic_tmp_<name> rebuilds."""
    from sqlglot import exp

    from tools.scripts.statements import parse_one

    parsed = parse_one(sql, dialect.sqlglot)
    if isinstance(parsed, exp.Create) and str(parsed.args.get("kind") or "").upper() == "TABLE":
        table = parsed.find(exp.Table)
        if table is not None and table.name.startswith("_alembic_tmp_"):
            return table.name.removeprefix("_alembic_tmp_")
    return None


def alter_column_unsupported(facts: Facts) -> Iterator[Hit]:
    """SQLite has no ALTER COLUMN: outside a batch (a table rebuild), op.alter_column
    renders a statement the database rejects."""
    from tools.scripts.statements import split

    for statement in facts.statements:
        if statement.operation == "batch_alter_table":
            continue
        kinds = {k for raw in split(statement.sql, facts.dialect.sqlglot) for k in raw.kinds}
        if kinds & {"alter-type", "set-not-null", "drop-not-null"}:
            yield Hit(
                ERROR,
                f"{facts.dialect.title} has no ALTER COLUMN: {_short(statement)}",
                statement.line,
                "the statement fails when the script runs",
                "write it inside `with op.batch_alter_table(TABLE, copy_from=TABLE_DEFINITION) "
                "as batch_op:` (batch_op.alter_column rebuilds the table; offline, the "
                "rebuild needs the whole table's definition as a sa.Table)",
            )


def index_needed_by_foreign_key(facts: Facts) -> Iterator[Hit]:
    """MariaDB and MySQL keep a foreign key on an index whose leading columns are its own:
    dropping that index fails (error 1553) until the foreign key is gone, and a script
    stops halfway, its earlier statements already committed. Judged for the downgrade too
    when linting an upgrade: a rollback that cannot run is found before the release."""
    if facts.shapes is None:
        return
    shapes = facts.shapes.copy()
    yield from _needed_indexes(facts, shapes, facts.operations, "")
    if facts.direction == "upgrade" and facts.reverse_operations:
        yield from _needed_indexes(facts, shapes, facts.reverse_operations, "its downgrade ")


def _needed_indexes(
    facts: Facts, shapes: Shapes, operations: tuple[Operation, ...], which: str
) -> Iterator[Hit]:
    for op in operations:
        if op.name == "drop_index" and op.target:
            needing = shapes.foreign_key_needing(op.table, op.target)
            if needing:
                yield Hit(
                    ERROR,
                    f"{which}drops index {op.target}, which foreign key {needing} of "
                    f"{op.table} needs",
                    op.line,
                    f"{facts.dialect.title} refuses (error 1553) and the script stops halfway",
                    "drop the foreign key first; or, if the table goes too, just drop the table",
                )
        shapes.apply(op.source)


# Rules that are families of another tool's rules (their findings carry that tool's names):
# a dialect claims the family, as it claims a rule of RULES.
SQUAWK = "squawk"
FAMILIES = frozenset({SQUAWK})

RULES: dict[str, Rule] = {
    "destructive": destructive,
    "not-null-without-default": not_null_without_default,
    "unique-on-existing-table": unique_on_existing_table,
    "postgresql-locks": postgresql_locks,
    "rename": renames,
    "constraint-change": constraint_change,
    "data-rewrite": data_rewrites,
    "offline-unsafe": offline_unsafe,
    "renders": renders,
    "irreversible": irreversible,
    "enum-lifecycle": enum_lifecycle,
    "index-needed-by-foreign-key": index_needed_by_foreign_key,
    "table-copy": table_copy,
    "implicit-commit": implicit_commit,
    "table-rebuild": table_rebuild,
    "alter-column-unsupported": alter_column_unsupported,
}


# -- helpers the rules share --------------------------------------------------------------------


def _short(statement: Statement) -> str:
    from tools.core.text import comment

    return comment(statement.sql, limit=80)


def _rewrites(source: Any) -> bool:
    """Whether PostgreSQL rewrites the table for this type change (widening VARCHAR does not)."""
    from sqlalchemy import String

    old, new = getattr(source, "existing_type", None), getattr(source, "modify_type", None)
    if new is None:
        return False
    if isinstance(old, String) and isinstance(new, String):
        return bool(old.length and new.length and new.length < old.length)
    return True


def silences(path: Path) -> dict[str, str]:
    """The rules a revision file silences, each with its reason (Python's tokenizer finds the
    comments; a string that merely looks like one does not count)."""
    found: dict[str, str] = {}
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    for token in tokens:
        if token.type == tokenize.COMMENT:
            match = _SILENCE.match(token.string)
            if match:
                found[match.group(1)] = match.group(2).strip()
    return found


# -- running ------------------------------------------------------------------------------------


def facts_for(
    history: History,
    dialect: ScriptDialect,
    rev: str,
    direction: Direction = "upgrade",
    session: Session | None = None,
    shapes: Shapes | None = None,
) -> Facts:
    """What the rules see of one revision; ``session`` holds it captured both ways."""
    from tools.scripts.capture import capture_session
    from tools.scripts.statements import split

    revision = history.graph[rev]
    reverse: Direction = "downgrade" if direction == "upgrade" else "upgrade"
    if session is None:
        session = capture_session(history, dialect.name, [(rev, direction), (rev, reverse)])
    try:
        captured = session.get(rev, direction)
    except SchemactlError as err:
        return Facts(revision, dialect, direction, (), (), (), frozenset(), render_error=err)
    try:
        back = session.get(rev, reverse)
        reverse_operations, reverse_statements = back.operations, back.statements
        reverse_error = None
    except SchemactlError as err:
        reverse_operations, reverse_statements, reverse_error = None, (), err
    # A table this step creates has no rows and no readers yet, in either direction.
    new_tables = _created(captured.operations)
    raw = tuple(
        (dataclasses.replace(s, sql=piece.sql), piece)
        for s in captured.statements
        if s.operation in ("execute_sql", None)  # op.execute, or the bind's own execute
        for piece in split(s.sql, dialect.sqlglot)
    )
    return Facts(
        revision,
        dialect,
        direction,
        captured.operations,
        captured.statements,
        raw,
        new_tables,
        reverse_operations=reverse_operations,
        reverse_statements=reverse_statements,
        reverse_error=reverse_error,
        shapes=shapes,
    )


def lint_revision(
    history: History,
    dialect: ScriptDialect,
    rev: str,
    direction: Direction = "upgrade",
    session: Session | None = None,
    shapes: Shapes | None = None,
    squawked: tuple[tuple[Statement, SquawkHit], ...] = (),
    created: frozenset[str] = frozenset(),
) -> list[Finding]:
    """One revision's findings; ``created``: tables revisions before it in the same range
    created (new to the database the script runs on: no rows, no readers)."""
    from tools.dialects import rule_applies
    from tools.lint import squawk

    facts = facts_for(history, dialect, rev, direction, session, shapes)
    facts = dataclasses.replace(facts, squawk=squawked, new_tables=facts.new_tables | created)
    allowed = silences(facts.revision.path)
    findings = []
    for name, rule in RULES.items():
        if not rule_applies(dialect, name):
            continue
        for hit in rule(facts):
            findings.append(
                Finding(
                    rule=name,
                    severity=hit.severity,
                    revision=rev,
                    path=facts.revision.path,
                    line=hit.line,
                    message=hit.message,
                    why=hit.why,
                    fix=hit.fix,
                    silenced=allowed.get(name),
                )
            )
    findings += _from_squawk(facts, findings, allowed)
    known = set(RULES) | squawk.RULES
    for name, reason in allowed.items():
        if name not in known or not reason:
            findings.append(
                Finding(
                    rule="silence",
                    severity=ERROR,
                    revision=rev,
                    path=facts.revision.path,
                    line=None,
                    message=f"'# schemactl: allow {name}' "
                    + ("names no rule" if name not in known else "gives no reason"),
                    why="a silenced rule must say which rule and why, for the reviewer",
                    fix="write '# schemactl: allow RULE: reason' with one of: "
                    f"{', '.join(RULES)}, or a squawk rule (see `schemactl lint`)",
                )
            )
    return findings


# squawk's rules that say what one of schemactl's says: one finding, not two, on a line.
_SAME_AS = {
    "ban-drop-column": "destructive",
    "ban-drop-table": "destructive",
    "ban-drop-database": "destructive",
    "ban-truncate-cascade": "destructive",
    "require-concurrent-index-deletion": "destructive",
    "adding-required-field": "not-null-without-default",
    "adding-not-nullable-field": "not-null-without-default",
    "renaming-column": "rename",
    "renaming-table": "rename",
    "ban-drop-not-null": "constraint-change",
    "ban-drop-constraint": "constraint-change",
    "require-concurrent-index-creation": "postgresql-locks",
    "constraint-missing-not-valid": "postgresql-locks",
    "adding-foreign-key-constraint": "postgresql-locks",
    "changing-column-type": "postgresql-locks",
    "adding-field-with-default": "postgresql-locks",
    "disallowed-unique-constraint": "postgresql-locks",
    "adding-primary-key-constraint": "postgresql-locks",
    "adding-serial-primary-key-field": "postgresql-locks",
}


def _from_squawk(facts: Facts, ours: list[Finding], allowed: dict[str, str]) -> list[Finding]:
    """squawk's findings on this step, less those one of ours already makes on the line."""
    said = {(f.rule, f.line) for f in ours}
    rules = {f.rule for f in ours}
    found: dict[tuple[str, int | None], Finding] = {}
    for statement, hit in facts.squawk:
        same = _SAME_AS.get(hit.rule)
        # A batch runs its operations at the end of its block: its statements carry the
        # block's line, its operations their own.
        batch = statement.operation == "batch_alter_table"
        if (same, statement.line) in said or (batch and same in rules):
            continue
        if hit.rule == "changing-column-type" and _only_widens(facts, statement.line):
            continue  # a wider VARCHAR is a catalog change: no rewrite, no reader breaks
        if _table_of(statement, facts.dialect) in facts.new_tables:
            continue  # created earlier in this script: no rows to lock, no readers yet
        found.setdefault(
            (hit.rule, statement.line),
            Finding(
                rule=hit.rule,
                severity=hit.level,
                revision=facts.revision.id,
                path=facts.revision.path,
                line=statement.line,
                message=f"{hit.message.rstrip('.')}: {_short(statement)}",
                why="squawk, the PostgreSQL migration linter, flags it",
                fix=hit.fix,
                silenced=allowed.get(hit.rule),
            ),
        )
    return list(found.values())


def _table_of(statement: Statement, dialect: ScriptDialect) -> str | None:
    from tools.scripts.statements import split

    tables = {raw.table for raw in split(statement.sql, dialect.sqlglot)}
    return tables.pop() if len(tables) == 1 else None


def _only_widens(facts: Facts, line: int | None) -> bool:
    changes = [op for op in facts.operations if op.line == line and op.name == "alter_column"]
    return bool(changes) and not any(_rewrites(op.source) for op in changes)


def _squawked(
    history: History,
    dialect: ScriptDialect,
    session: Session,
    order: tuple[str, ...],
    direction: Direction,
) -> dict[str, tuple[tuple[Statement, SquawkHit], ...]]:
    """squawk run once over every statement the range's script runs, in order, after the
    timeouts the script sets; its findings given back to each revision."""
    from tools.lint import squawk

    statements: list[str] = []
    owners: list[tuple[str, Statement]] = []
    outside: set[int] = set()
    for rev in order:
        try:
            captured = session.get(rev, direction)
        except SchemactlError:
            continue  # a revision that does not render: its own rule says so
        for statement in captured.statements:
            if statement.autocommit or dialect.non_transactional(statement.sql):
                outside.add(len(statements))
            statements.append(statement.sql)
            owners.append((rev, statement))
    project = history.project
    include = project.lint_include if project is not None else ()
    grouped: dict[str, list[tuple[Statement, SquawkHit]]] = {}
    for hit in squawk.run(
        statements, preamble=dialect.timeouts(), outside_transaction=outside, include=include
    ):
        rev, statement = owners[hit.statement]
        grouped.setdefault(rev, []).append((statement, hit))
    return {rev: tuple(hits) for rev, hits in grouped.items()}


def lint_range(
    history: History,
    dialect: ScriptDialect,
    revisions: tuple[str, ...],
    direction: Direction = "upgrade",
) -> list[Finding]:
    from tools.dialects import rule_applies
    from tools.scripts.capture import capture_session

    order = revisions if direction == "upgrade" else tuple(reversed(revisions))
    requests: list[tuple[str, Direction]] = [(rev, d) for rev in order for d in BOTH_WAYS]
    replay = rule_applies(dialect, "index-needed-by-foreign-key") and bool(revisions)
    if replay:  # the revisions before the range too, to know the tables they run against
        last = max(history.graph.order.index(rev) for rev in revisions)
        requests += [(rev, "upgrade") for rev in history.graph.order[: last + 1]]
    # One offline run of env.py captures every revision both ways.
    session = capture_session(history, dialect.name, list(dict.fromkeys(requests)))
    shapes = _replayed(history, session, set(revisions), direction) if replay else {}
    squawked = (
        _squawked(history, dialect, session, order, direction)
        if rule_applies(dialect, SQUAWK)
        else {}
    )
    found: list[Finding] = []
    created: set[str] = set()  # by the range's revisions so far (an upgrade's only)
    for rev in order:
        found += lint_revision(
            history,
            dialect,
            rev,
            direction,
            session,
            shapes.get(rev),
            squawked.get(rev, ()),
            frozenset(created),
        )
        if direction == "upgrade":
            with contextlib.suppress(SchemactlError):  # one that does not render says so
                created |= _created(session.get(rev, direction).operations)
    return found


def _created(operations: tuple[Operation, ...]) -> frozenset[str]:
    """The tables these operations create."""
    return frozenset(op.table for op in operations if op.name == "create_table" and op.table)


def _replayed(
    history: History, session: Session, wanted: set[str], direction: Direction
) -> dict[str, Shapes]:
    """For each wanted revision, the shapes its step runs against: before its upgrade, or
    after it for its downgrade (a rollback script undoes revisions in reverse order)."""
    from tools.scripts.shapes import Shapes

    shapes, found = Shapes(), {}
    for rev in history.graph.order:
        if rev in wanted and direction == "upgrade":
            found[rev] = shapes.copy()
        if (rev, "upgrade") not in session.results:
            break
        try:
            for op in session.get(rev, "upgrade").operations:
                shapes.apply(op.source)
        except SchemactlError:
            pass  # a revision that does not render: lint reports it; replay goes on without
        if rev in wanted and direction != "upgrade":
            found[rev] = shapes.copy()
        if len(found) == len(wanted):
            break
    return found


def blocking(findings: list[Finding]) -> list[Finding]:
    """The findings that stop a release: errors nobody silenced."""
    return [f for f in findings if f.severity == ERROR and not f.silenced]


def lint(
    project: Any,
    env: str | None = None,
    span: str | None = None,
    *,
    released: tuple[str, ...] = (),
) -> tuple[Range | None, list[Finding]]:
    """Lint the revisions of ``span`` ('FROM:TO') for the environment; without one, what its
    next release would run: from ``released`` (where its last recorded release ends; base
    without one) to every head. (None, []) when that is nothing."""
    from tools.history.load import NothingToRender, load_history, plan, resolve_heads

    environment = project.environment(env)
    history = load_history(project)
    if span is None:
        start = released
        end = resolve_heads(history, "heads")
    else:
        first, _, last = span.partition(":")
        start = resolve_heads(history, first or "base")
        end = resolve_heads(history, last or "heads")
    try:
        chosen = plan(history.graph, start, end)
    except NothingToRender:
        if span is not None:
            raise
        return None, []
    return chosen, lint_range(history, environment.kind, chosen.revisions)
