"""Rewriting autogenerate's proposals so they run on every dialect, and the replayed table
shapes the MariaDB lint rule asks: pure logic on Alembic operation objects, in memory."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.operations import ops

from tools.authoring.directives import portable
from tools.proof.prove import statement_at, step_at
from tools.scripts.shapes import Shapes


def create_reminders() -> ops.CreateTableOp:
    return ops.CreateTableOp(
        "reminders",
        [
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("invoice_id", sa.Integer, nullable=False),
            sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name="fk_rem_invoice"),
        ],
    )


def names(container: ops.OpContainer) -> list[str]:
    found = []
    for op in container.ops:
        if isinstance(op, ops.ModifyTableOps):
            found += [f"{op.table_name}: {type(o).__name__}" for o in op.ops]
        else:
            found.append(type(op).__name__)
    return found


def test_a_dropped_table_takes_its_indexes_with_it():
    downgrade = ops.DowngradeOps(
        [
            ops.ModifyTableOps("reminders", [ops.DropIndexOp("ix_rem_invoice", "reminders")]),
            ops.DropIndexOp("ix_rem_other", "reminders"),
            ops.ModifyTableOps("invoices", [ops.DropIndexOp("ix_inv_total", "invoices")]),
            ops.DropTableOp("reminders"),
        ]
    )
    portable(downgrade)
    assert names(downgrade) == ["invoices: DropIndexOp", "DropTableOp"]


def test_an_index_dropped_after_its_table_is_left_alone():
    # Not a pattern autogenerate writes; the rewrite must not hide the revision's own error.
    downgrade = ops.DowngradeOps(
        [ops.DropTableOp("reminders"), ops.DropIndexOp("ix_rem_invoice", "reminders")]
    )
    portable(downgrade)
    assert names(downgrade) == ["DropTableOp", "DropIndexOp"]


def test_foreign_keys_go_before_the_indexes_of_their_table():
    downgrade = ops.DowngradeOps(
        [
            ops.ModifyTableOps(
                "payments",
                [
                    ops.DropIndexOp("ix_pay_invoice", "payments"),
                    ops.DropConstraintOp("uq_pay_ref", "payments", type_="unique"),
                    ops.DropConstraintOp("fk_pay_invoice", "payments", type_="foreignkey"),
                    ops.DropColumnOp("payments", "invoice_id"),
                ],
            )
        ]
    )
    portable(downgrade)
    assert [getattr(o, "constraint_name", None) or type(o).__name__ for o in downgrade.ops[0].ops] == [
        "fk_pay_invoice",
        "DropIndexOp",
        "uq_pay_ref",
        "DropColumnOp",
    ]  # fmt: skip


def test_replayed_shapes_know_which_index_a_foreign_key_stands_on():
    shapes = Shapes()
    shapes.apply(create_reminders())
    shapes.apply(ops.CreateIndexOp("ix_rem_invoice", "reminders", ["invoice_id"]))
    assert shapes.foreign_key_needing("reminders", "ix_rem_invoice") == "fk_rem_invoice"
    # A second index leading with the same column carries the foreign key as well.
    shapes.apply(ops.CreateIndexOp("ix_rem_invoice_id", "reminders", ["invoice_id", "id"]))
    assert shapes.foreign_key_needing("reminders", "ix_rem_invoice") is None
    shapes.apply(ops.DropIndexOp("ix_rem_invoice_id", "reminders"))
    assert shapes.foreign_key_needing("reminders", "ix_rem_invoice") == "fk_rem_invoice"
    # Without the foreign key, nothing needs the index.
    shapes.apply(ops.DropConstraintOp("fk_rem_invoice", "reminders", type_="foreignkey"))
    assert shapes.foreign_key_needing("reminders", "ix_rem_invoice") is None
    # An index whose leading column is not the foreign key's does not carry it.
    shapes.apply(ops.CreateForeignKeyOp("fk2", "reminders", "invoices", ["invoice_id"], ["id"]))
    shapes.apply(ops.CreateIndexOp("ix_rem_id_invoice", "reminders", ["id", "invoice_id"]))
    assert shapes.foreign_key_needing("reminders", "ix_rem_id_invoice") is None
    assert shapes.foreign_key_needing("reminders", "ix_rem_invoice") == "fk2"
    shapes.apply(ops.RenameTableOp("reminders", "notices"))
    assert shapes.foreign_key_needing("notices", "ix_rem_invoice") == "fk2"
    shapes.apply(ops.DropTableOp("notices"))
    assert shapes.foreign_key_needing("notices", "ix_rem_invoice") is None


def test_the_primary_key_can_carry_a_foreign_key():
    shapes = Shapes()
    shapes.apply(
        ops.CreateTableOp(
            "lines",
            [
                sa.Column("invoice_id", sa.Integer, primary_key=True),
                sa.Column("n", sa.Integer, primary_key=True),
                sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name="fk_line_inv"),
                sa.Index("ix_lines_invoice", "invoice_id"),
            ],
        )
    )
    assert shapes.foreign_key_needing("lines", "ix_lines_invoice") is None
    shapes.apply(ops.AddColumnOp("lines", sa.Column("product_id", sa.ForeignKey("products.id"))))
    shapes.apply(ops.CreateIndexOp("ix_lines_product", "lines", ["product_id"]))
    assert shapes.foreign_key_needing("lines", "ix_lines_product") == "(product_id)"


SCRIPT = """-- header
BEGIN;

-- ---------------------------------------------------------------------------
-- 2/3  downgrade 466a3e31682b  [discounts]
--   Start the discounts feature
--   0007_466a3e31682b_create_discounts.py  sha256 00
-- ---------------------------------------------------------------------------

CREATE TABLE x (
    a int,
    b nosuchtype
);

DROP TABLE discounts;
"""


def test_a_client_error_line_names_its_statement_and_step():
    lines = SCRIPT.splitlines()
    end = lines.index(");") + 1  # psql names the line a statement ends on
    start = lines.index("CREATE TABLE x (") + 1  # mariadb and sqlite3 the line it starts on
    assert statement_at(SCRIPT, end) == statement_at(SCRIPT, start) == "CREATE TABLE x ("
    drop = lines.index("DROP TABLE discounts;") + 1
    assert statement_at(SCRIPT, drop) == "DROP TABLE discounts;"
    assert step_at(SCRIPT, drop) == (
        "downgrade of 466a3e31682b (versions/0007_466a3e31682b_create_discounts.py)"
    )
    assert step_at(SCRIPT, 2) is None and statement_at(SCRIPT, None) == ""
    assert statement_at(SCRIPT, 999) == "" and step_at(SCRIPT, 0) is None
