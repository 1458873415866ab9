"""Create tax_rates

Revision ID: cc474e29ad24
Revises: 228dfcf7a7c0
Create Date: 2026-02-09 09:00:00+00:00

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cc474e29ad24"
down_revision: str | Sequence[str] | None = "228dfcf7a7c0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tax_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("rate", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_rates")),
        sa.UniqueConstraint("code", name=op.f("uq_tax_rates_code")),
    )


def downgrade() -> None:
    op.drop_table("tax_rates")
