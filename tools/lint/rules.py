"""The rules that judge every kind of database: each one function, its docstring says why."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from tools.lint.findings import ERROR, WARNING, Facts, Hit, _short
from tools.scripts.capture import IrreversibleRevision, OfflineUnsafe, RenderError
from tools.scripts.narrowing import loss
from tools.scripts.statements import adds_enum_value, does_nothing, dropped_types

if TYPE_CHECKING:
    from tools.scripts.capture import Operation, Statement
    from tools.scripts.shapes import Shapes
    from tools.scripts.statements import RawStatement


def destructive(facts: Facts) -> Iterator[Hit]:
    """Dropping a table or column, or narrowing a type, takes data from the application for
    good once the release stays: only the release's backup (not with backup = off) lets its
    rollback put it back. (A dropped index loses no data and takes a brief lock: not
    flagged, as the servers measure it in tests/test_safety_corpus.py.)"""
    yield from _destructive_operations(facts)
    yield from _destructive_raw_sql(facts)


_WHY_GONE = (
    "the data is gone for the application; only the release's backup (not with "
    "backup = off) lets the rollback script put it back"
)


def _destructive_operations(facts: Facts) -> Iterator[Hit]:
    why = _WHY_GONE
    for op in facts.operations:
        if op.name == "drop_table" and facts.existing(op.table):
            yield Hit(ERROR, f"drops table {op.table}", op.line, why, _FIX_DROP)
        elif op.name == "drop_column":
            yield Hit(ERROR, f"drops column {op.table}.{op.target}", op.line, why, _FIX_DROP)
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


def _destructive_raw_sql(facts: Facts) -> Iterator[Hit]:
    why = _WHY_GONE
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
                    _why_not_null(facts),
                    "give it a server_default, or add it nullable, backfill, then set NOT NULL",
                )
        elif (
            op.name == "alter_column"
            and facts.existing(op.table)
            and source.modify_nullable is False
            and source.existing_nullable is not False
            and not proven_not_null(facts, op.table, op.target)
        ):
            yield Hit(
                WARNING,
                f"sets {op.table}.{op.target} NOT NULL",
                op.line,
                _WHY_SET_NOT_NULL,
                _fix_set_not_null(facts),
            )
    for statement, raw in facts.raw_sql:
        if not facts.existing(raw.table):
            continue
        if "add-not-null-column" in raw.kinds:
            yield Hit(
                ERROR,
                f"raw SQL adds a NOT NULL column without a default: {_short(statement)}",
                statement.line,
                _why_not_null(facts),
                "give it a DEFAULT, or add it nullable, backfill, then SET NOT NULL",
            )
        if "set-not-null" in raw.kinds and not all(
            proven_not_null(facts, raw.table, column) for column in set_not_null(raw)
        ):
            yield Hit(
                WARNING,
                f"raw SQL sets NOT NULL: {_short(statement)}",
                statement.line,
                _WHY_SET_NOT_NULL,
                _fix_set_not_null(facts),
            )


def _why_not_null(facts: Facts) -> str:
    if facts.dialect.fills_not_null_columns:
        return (
            "existing rows get the type's implicit value (0, ''), and the running "
            "application's INSERTs that leave the column out fail (strict mode)"
        )
    return "existing rows have no value for it: the ALTER fails where the table has rows"


def proven_not_null(facts: Facts, table: str | None, column: str | None) -> bool:
    """Whether PostgreSQL (12+) skips the scan of SET NOT NULL: a validated CHECK (column IS
    NOT NULL) already proves it (measured: tests/test_safety_corpus.py)."""
    return (
        facts.dialect.check_proves_not_null
        and facts.shapes is not None
        and facts.shapes.not_null_proven(table, column)
    )


def set_not_null(raw: RawStatement) -> list[str]:
    """The columns a raw ALTER TABLE sets NOT NULL."""
    from sqlglot import exp

    actions = raw.parsed.args.get("actions") or [] if raw.parsed is not None else []
    found = [
        a.name
        for a in actions
        if isinstance(a, exp.AlterColumn) and a.args.get("allow_null") is False
    ]
    return found or [""]


_WHY_SET_NOT_NULL = "fails if any row holds NULL, and the check scans the whole table"


def _fix_set_not_null(facts: Facts) -> str:
    """The proven way to NOT NULL on this kind of database (tests/test_safety_corpus.py)."""
    if facts.dialect.check_proves_not_null:
        return (
            "backfill the NULLs, then op.set_not_null_online; or add CHECK (col IS NOT NULL) NOT "
            "VALID (op.execute), VALIDATE "
            "CONSTRAINT it in a later revision, then SET NOT NULL in a later one: the "
            "validated check spares the scan (PostgreSQL 12+)"
        )
    return (
        "weigh the table's size: every row is checked (MariaDB and MySQL rebuild the table); "
        "backfill the NULLs in an earlier revision"
    )


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
                _FIX_DUPLICATES,
            )
    for statement, raw in facts.raw_sql:
        unique = "add-unique" in raw.kinds or (
            "create-index" in raw.kinds and raw.parsed is not None and raw.parsed.args.get("unique")
        )
        if unique and facts.existing(raw.table) and "USING INDEX" not in statement.sql.upper():
            yield Hit(
                WARNING,
                f"raw SQL adds a unique constraint or index on an existing table: "
                f"{_short(statement)}",
                statement.line,
                "fails on any database whose table already holds duplicates",
                _FIX_DUPLICATES,
            )


_FIX_DUPLICATES = "check for duplicates first (SELECT ... GROUP BY ... HAVING count(*) > 1)"


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
    """Dropping a primary key takes away how other tables and replication identify rows.
    (Other constraints loosened, a CHECK or NOT NULL dropped, change the catalog only and
    break no running query: not flagged, as the servers measure it in
    tests/test_safety_corpus.py.)"""
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
                "batch it (op.backfill_online), or restrict it with WHERE",
            )


def offline_unsafe(facts: Facts) -> Iterator[Hit]:
    """A revision that reads from the database cannot become a DBA script: the script is
    written before anyone connects."""

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

    if facts.direction != "upgrade":
        return
    # An enum value added cannot be taken away (PostgreSQL has no DROP VALUE): a downgrade
    # that leaves it is the right one.
    undoable = tuple(
        s
        for s in facts.statements
        if s.operation not in ("execute_sql", None)
        or not adds_enum_value(s.sql, facts.dialect.sqlglot)
    )
    if isinstance(facts.reverse_error, IrreversibleRevision) or (
        _does_something(facts.operations, undoable, facts)
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
        shapes.follow(op)


# Rules that are families of another tool's rules (their findings carry that tool's names):
# a dialect claims the family, as it claims a rule of RULES.
