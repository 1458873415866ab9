"""What autogenerate proposes, rewritten so both directions run on every dialect.

Autogenerate undoes a new table with an index as ``drop_index`` then ``drop_table``: fine on
PostgreSQL and SQLite, but MariaDB and MySQL refuse to drop an index a foreign key of the
table needs (error 1553), and the rollback stops halfway. So, in each direction:

- an index of a table that is dropped later in the same list is not dropped separately:
  DROP TABLE takes its indexes with it;
- on one table, foreign keys are dropped before indexes (an index a foreign key needs can
  only go once the foreign key has).

And a server default that is an SQL function (``server_default=func.now()``) is written as
that function (``sa.func.now()``), not as the SQL one dialect compiles it to: autogenerate
compares with a scratch SQLite database, whose ``(CURRENT_TIMESTAMP)`` would otherwise reach
the PostgreSQL and MariaDB scripts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from alembic.autogenerate.api import AutogenContext
    from alembic.operations.ops import MigrateOperation, MigrationScript, OpContainer


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Autogenerate's render_item hook: a server default that calls an SQL function without
    arguments is written as the function, which every dialect then renders its own way."""
    from sqlalchemy.schema import DefaultClause
    from sqlalchemy.sql.elements import False_, True_
    from sqlalchemy.sql.functions import FunctionElement

    if type_ == "server_default" and isinstance(obj, DefaultClause):
        call = obj.arg
        if isinstance(call, True_ | False_):  # SQLite would say 1 or 0, which PostgreSQL refuses
            return "sa.true()" if isinstance(call, True_) else "sa.false()"
        name = getattr(call, "name", None)
        bare = isinstance(call, FunctionElement) and not call.clauses.clauses
        if bare and name and name.isidentifier():
            return f"sa.func.{name}()"
    return False  # Alembic renders everything else as usual


def make_portable(script: MigrationScript) -> None:
    """Rewrite a revision's upgrade and downgrade operations in place (see the module)."""
    for container in (*script.upgrade_ops_list, *script.downgrade_ops_list):
        portable(container)


def portable(container: OpContainer) -> None:
    from alembic.operations import ops

    dropped_after: dict[int, set[tuple[str | None, str]]] = {}
    later: set[tuple[str | None, str]] = set()
    for position in range(len(container.ops) - 1, -1, -1):
        dropped_after[position] = set(later)
        op = container.ops[position]
        if isinstance(op, ops.DropTableOp):
            later.add((op.schema, op.table_name))
    kept: list[MigrateOperation] = []
    for position, op in enumerate(container.ops):
        doomed = dropped_after[position]
        if isinstance(op, ops.ModifyTableOps):
            inner = list(op.ops)
            if (op.schema, op.table_name) in doomed:
                inner = [o for o in inner if not isinstance(o, ops.DropIndexOp)]
            op.ops = _foreign_keys_first(inner)
            if not op.ops:
                continue
        elif isinstance(op, ops.DropIndexOp) and (op.schema, op.table_name) in doomed:
            continue
        kept.append(op)
    container.ops = _foreign_keys_first(kept)


def _foreign_keys_first(operations: list[MigrateOperation]) -> list[MigrateOperation]:
    """Move each foreign key drop ahead of the first index drop on its table."""
    from alembic.operations import ops

    result: list[MigrateOperation] = []
    for op in operations:
        if _drops_foreign_key(op):
            table = (op.schema, op.table_name)  # type: ignore[attr-defined]
            first = next(
                (
                    i
                    for i, o in enumerate(result)
                    if isinstance(o, ops.DropIndexOp) and (o.schema, o.table_name) == table
                ),
                None,
            )
            if first is not None:
                result.insert(first, op)
                continue
        result.append(op)
    return result


def _drops_foreign_key(op: MigrateOperation) -> bool:
    from alembic.operations import ops

    return isinstance(op, ops.DropConstraintOp) and op.constraint_type == "foreignkey"
