"""What autogenerate proposes for tables that already hold rows, written in their safe forms.

A new index, foreign key or unique constraint on an existing table, a dropped index, or a
column made NOT NULL: autogenerate writes Alembic's plain operations, which on a busy table
stop the application's writes while the server reads every row. makemigrations writes
schemactl's online operations instead (tools.operations.online), which each kind of database
runs in the form that lets writes go on, and an environment with ``safe = false`` runs
plainly. A table the same revision creates has no rows and no readers yet: its operations
stay as they are.

A column made NOT NULL together with another change (its type) is split in two: the other
change as autogenerate wrote it, then ``set_not_null_online``. A type change that rewrites
the table (anything but a VARCHAR widened or a NUMERIC's precision raised) has no online
form: it is written as it is, flagged, with the recipe that changes a large table without
stopping the application (a new column, backfilled, switched to, the old one dropped).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alembic.autogenerate import render_op_text, renderers
from alembic.operations import ops

from tools.lint.findings import type_change_rewrites
from tools.operations.online import (
    CreateCheckConstraintOnlineOp,
    CreateForeignKeyOnlineOp,
    CreateIndexOnlineOp,
    CreateUniqueConstraintOnlineOp,
    DropIndexOnlineOp,
    SetNotNullOnlineOp,
)

if TYPE_CHECKING:
    from alembic.autogenerate.api import AutogenContext
    from alembic.operations.ops import MigrateOperation, MigrationScript, OpContainer

# Each plain operation -> its online form (same arguments).
ONLINE: dict[type[MigrateOperation], type[MigrateOperation]] = {
    ops.CreateIndexOp: CreateIndexOnlineOp,
    ops.DropIndexOp: DropIndexOnlineOp,
    ops.CreateForeignKeyOp: CreateForeignKeyOnlineOp,
    ops.CreateUniqueConstraintOp: CreateUniqueConstraintOnlineOp,
    ops.CreateCheckConstraintOp: CreateCheckConstraintOnlineOp,
}


def use_online_forms(script: MigrationScript) -> None:
    """Rewrite a revision's operations on existing tables into their online forms."""
    for container in (*script.upgrade_ops_list, *script.downgrade_ops_list):
        created = {
            (op.schema, op.table_name) for op in container.ops if isinstance(op, ops.CreateTableOp)
        }
        _rewrite(container, created)


def _rewrite(container: OpContainer, created: set[tuple[str | None, str]]) -> None:
    rewritten: list[MigrateOperation] = []
    for op in container.ops:
        if isinstance(op, ops.ModifyTableOps):
            if (op.schema, op.table_name) not in created:
                _rewrite(op, created)
            rewritten.append(op)
        elif _table_of(op) in created:
            rewritten.append(op)
        else:
            rewritten.extend(online(op))
    container.ops = rewritten


def _table_of(op: MigrateOperation) -> tuple[str | None, str | None]:
    if isinstance(op, ops.CreateForeignKeyOp):
        return op.kw.get("source_schema"), op.source_table
    return getattr(op, "schema", None), getattr(op, "table_name", None)


def online(op: MigrateOperation) -> list[MigrateOperation]:
    """``op`` in its online form (one or two operations), or as it is where it has none."""
    form = ONLINE.get(type(op))
    if form is not None:
        return [_as(form, op)]
    if isinstance(op, ops.AlterColumnOp) and op.modify_nullable is False:
        return [_flagged(o) for o in _not_null(op)]
    return [_flagged(op)]


class RewritingAlterColumnOp(ops.AlterColumnOp):
    """An alter_column whose type change rewrites the table: written with the recipe."""


def _flagged(op: MigrateOperation) -> MigrateOperation:
    """An alter_column whose type change rewrites the table, marked to be written with
    the recipe (autogenerate's existing type is the column's as it stands)."""
    if not isinstance(op, ops.AlterColumnOp) or isinstance(op, SetNotNullOnlineOp):
        return op
    if op.modify_type is None or not type_change_rewrites(op.existing_type, op.modify_type):
        return op
    return _as(RewritingAlterColumnOp, op)


def _as(kind: type[MigrateOperation], op: MigrateOperation) -> MigrateOperation:
    """``op`` as an instance of ``kind``, a subclass of its class adding no state: the same
    arguments, written and run as ``kind`` says."""
    changed = object.__new__(kind)
    changed.__dict__.update(op.__dict__)
    return changed


def _not_null(op: ops.AlterColumnOp) -> list[MigrateOperation]:
    """An ALTER that makes a column NOT NULL: the rest of it, then set_not_null_online."""
    column_type = op.modify_type if op.modify_type is not None else op.existing_type
    default = op.existing_server_default
    if op.modify_server_default is not False:
        default = op.modify_server_default
    comment = op.existing_comment if op.modify_comment is False else op.modify_comment
    name = op.modify_name or op.column_name
    safe = SetNotNullOnlineOp(
        op.table_name,
        name,
        schema=op.schema,
        existing_type=column_type,
        existing_server_default=default or None,
        existing_comment=comment or None,
        existing_nullable=True,
        modify_nullable=False,
    )
    op.modify_nullable = None
    op.existing_nullable = True
    return [op, safe] if op.has_changes() else [safe]


# -- how the online operations are written into a revision file --------------------------------


def _renamed(plain: type[MigrateOperation], name: str, online_name: str) -> None:
    """Render an online operation as its plain one is, under its own name."""
    write = renderers.dispatch(plain)

    def render(autogen_context: AutogenContext, op: MigrateOperation) -> Any:
        text = write(autogen_context, op)
        if isinstance(text, list):
            return [line.replace(f"{name}(", f"{online_name}(", 1) for line in text]
        return text.replace(f"{name}(", f"{online_name}(", 1)

    renderers.dispatch_for(ONLINE[plain])(render)


_renamed(ops.CreateIndexOp, "create_index", "create_index_online")
_renamed(ops.DropIndexOp, "drop_index", "drop_index_online")
_renamed(ops.CreateForeignKeyOp, "create_foreign_key", "create_foreign_key_online")
_renamed(
    ops.CreateUniqueConstraintOp, "create_unique_constraint", "create_unique_constraint_online"
)
_renamed(ops.CreateCheckConstraintOp, "create_check_constraint", "create_check_constraint_online")


RECIPE = (
    "# schemactl: this type change rewrites {table} (PostgreSQL: every row written again",
    "# under ACCESS EXCLUSIVE; MariaDB: the table copied): reads and writes wait until it is",
    "# done. For a large table, instead: add a column of the new type, fill it with",
    "# op.backfill_online, let the application write both and read the new one, then drop",
    "# the old column (each step a revision of its own).",
)


@renderers.dispatch_for(RewritingAlterColumnOp)
def _render_rewriting(autogen_context: AutogenContext, op: RewritingAlterColumnOp) -> list[str]:
    written = renderers.dispatch(ops.AlterColumnOp)(autogen_context, op)
    return [line.format(table=op.table_name) for line in RECIPE] + [written]


@renderers.dispatch_for(SetNotNullOnlineOp)
def _render_not_null(autogen_context: AutogenContext, op: SetNotNullOnlineOp) -> str:
    # Alembic's alter_column rendering of what set_not_null_online takes: the column as it is.
    described = ops.AlterColumnOp(
        op.table_name,
        op.column_name,
        schema=op.schema,
        existing_type=op.existing_type,
        existing_server_default=op.existing_server_default or False,
        existing_comment=op.existing_comment,
    )
    text = render_op_text(autogen_context, described)
    return text.replace("alter_column(", "set_not_null_online(", 1)
