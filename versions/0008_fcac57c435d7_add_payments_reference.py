"""Add payments.reference and index payments.paid_at

Revision ID: fcac57c435d7
Revises: 83a14815e175
Create Date: 2026-04-20 09:00:00+00:00

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "fcac57c435d7"
down_revision: str | Sequence[str] | None = "83a14815e175"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("payments", sa.Column("reference", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_payments_paid_at"), "payments", ["paid_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_payments_paid_at"), table_name="payments")
    op.drop_column("payments", "reference")
