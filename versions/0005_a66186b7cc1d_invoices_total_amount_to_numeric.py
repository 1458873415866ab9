"""Store invoices.total_amount as Numeric(12, 2), not Float

Floats cannot hold cents exactly. PostgreSQL needs an explicit USING to convert the column;
SQLite cannot alter a column type at all, so there the table is rebuilt from the definition
below (given, not reflected, so the change renders offline too).

Revision ID: a66186b7cc1d
Revises: 45c580e85327
Create Date: 2026-03-09 09:00:00+00:00

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a66186b7cc1d"
down_revision: str | Sequence[str] | None = "45c580e85327"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _invoices(total_amount: sa.types.TypeEngine[object]) -> sa.Table:
    """invoices as this revision finds it, for SQLite's table rebuild."""
    return sa.Table(
        "invoices",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "sent", "paid", "void", name="invoice_status"),
            server_default="draft",
            nullable=False,
        ),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(length=3), server_default="EUR", nullable=False),
        sa.Column("total_amount", total_amount, nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_invoices_customer_id_customers"
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"], ["users.id"], name="fk_invoices_issued_by_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_invoices"),
        sa.UniqueConstraint("number", name="uq_invoices_number"),
        sa.Index("ix_invoices_customer_id", "customer_id"),
        sa.Index("ix_invoices_issued_by_id", "issued_by_id"),
    )


def upgrade() -> None:
    with op.batch_alter_table("invoices", copy_from=_invoices(sa.Float())) as batch_op:
        batch_op.alter_column(
            "total_amount",
            existing_type=sa.Float(),
            type_=sa.Numeric(precision=12, scale=2),
            existing_nullable=False,
            postgresql_using="round(total_amount::numeric, 2)",
        )


def downgrade() -> None:
    with op.batch_alter_table(
        "invoices", copy_from=_invoices(sa.Numeric(precision=12, scale=2))
    ) as batch_op:
        batch_op.alter_column(
            "total_amount",
            existing_type=sa.Numeric(precision=12, scale=2),
            type_=sa.Float(),
            existing_nullable=False,
            postgresql_using="total_amount::double precision",
        )
