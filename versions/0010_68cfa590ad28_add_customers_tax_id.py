"""Add customers.tax_id

Revision ID: 68cfa590ad28
Revises: e58b81ed3f5b
Create Date: 2026-05-18 09:00:00+00:00

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "68cfa590ad28"
down_revision: str | Sequence[str] | None = "e58b81ed3f5b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("tax_id", sa.String(length=32), nullable=True))
    op.create_index(op.f("ix_customers_tax_id"), "customers", ["tax_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_customers_tax_id"), table_name="customers")
    op.drop_column("customers", "tax_id")
