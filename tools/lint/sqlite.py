"""The rules only SQLite needs: a table rebuilt to change it, and the ALTERs it cannot run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from tools.lint.findings import ERROR, WARNING, Facts, Hit, _short
from tools.scripts.statements import parse_one, split

if TYPE_CHECKING:
    from tools.dialects import ScriptDialect


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

    parsed = parse_one(sql, dialect.sqlglot)
    if isinstance(parsed, exp.Create) and str(parsed.args.get("kind") or "").upper() == "TABLE":
        table = parsed.find(exp.Table)
        if table is not None and table.name.startswith("_alembic_tmp_"):
            return table.name.removeprefix("_alembic_tmp_")
    return None


def alter_column_unsupported(facts: Facts) -> Iterator[Hit]:
    """SQLite has no ALTER COLUMN: outside a batch (a table rebuild), op.alter_column
    renders a statement the database rejects."""

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
