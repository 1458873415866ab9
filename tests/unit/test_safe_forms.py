"""makemigrations' proposals for tables with rows, rewritten into the online operations, and
how they are written into a revision file: pure logic on Alembic operation objects, in memory.
(tests/test_online_forms.py runs them on the servers.)"""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import render_python_code
from alembic.operations import ops

from tools.authoring.safe_forms import use_online_forms

from .test_portable import create_reminders, names


def script(*upgrade: ops.MigrateOperation) -> ops.MigrationScript:
    return ops.MigrationScript(
        "0a11", ops.UpgradeOps(list(upgrade)), ops.DowngradeOps([]), message="m"
    )


def test_changes_to_existing_tables_take_their_online_forms_and_a_new_table_keeps_its_own():
    made = script(
        create_reminders(),
        ops.CreateIndexOp("ix_rem_invoice", "reminders", ["invoice_id"]),
        ops.ModifyTableOps(
            "invoices",
            [
                ops.CreateIndexOp("ix_inv_total", "invoices", ["total"]),
                ops.DropIndexOp("ix_inv_old", "invoices"),
                ops.CreateUniqueConstraintOp("uq_inv_number", "invoices", ["number"]),
            ],
        ),
        ops.CreateForeignKeyOp("fk_pay_inv", "payments", "invoices", ["invoice_id"], ["id"]),
        ops.CreateForeignKeyOp("fk_rem_user", "reminders", "users", ["user_id"], ["id"]),
    )
    use_online_forms(made)
    assert names(made.upgrade_ops) == [
        "CreateTableOp",
        "CreateIndexOp",  # of the table the revision creates: no rows, no readers
        "invoices: CreateIndexOnlineOp",
        "invoices: DropIndexOnlineOp",
        "invoices: CreateUniqueConstraintOnlineOp",
        "CreateForeignKeyOnlineOp",
        "CreateForeignKeyOp",
    ]
    online = made.upgrade_ops.ops[2].ops[0]  # type: ignore[attr-defined]
    assert (online.index_name, online.table_name, online.columns) == (
        "ix_inv_total",
        "invoices",
        ["total"],
    )


def test_not_null_is_split_from_a_type_change_and_a_rewriting_type_change_is_flagged():
    made = script(
        ops.AlterColumnOp(
            "users",
            "email",
            existing_type=sa.String(100),
            modify_type=sa.Integer(),
            existing_nullable=True,
            modify_nullable=False,
            existing_server_default="x",
        ),
        ops.AlterColumnOp(
            "users", "name", existing_type=sa.String(100), modify_type=sa.String(200)
        ),
        ops.AlterColumnOp(
            "users",
            "nick",
            existing_type=sa.String(30),
            existing_nullable=True,
            modify_nullable=False,
        ),
    )
    use_online_forms(made)
    assert names(made.upgrade_ops) == [
        "RewritingAlterColumnOp",  # String -> Integer: the table is written again
        "SetNotNullOnlineOp",
        "AlterColumnOp",  # a VARCHAR widened: the catalog only
        "SetNotNullOnlineOp",
    ]
    first, not_null = made.upgrade_ops.ops[:2]
    assert first.modify_nullable is None and first.modify_type is not None  # type: ignore[attr-defined]
    assert isinstance(not_null.existing_type, sa.Integer)  # type: ignore[attr-defined]
    assert not_null.existing_server_default == "x"  # type: ignore[attr-defined]

    code = render_python_code(made.upgrade_ops)
    assert "# schemactl: this type change rewrites users" in code
    assert (
        "    op.set_not_null_online('users', 'email',\n"
        "               existing_type=sa.Integer(),\n"
        "               existing_server_default='x')\n"
    ) in code, code
