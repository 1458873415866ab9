"""Start the discounts feature: create discounts

Revision ID: 466a3e31682b
Revises: 9ecdc98b5e8a
Create Date: 2026-04-08 09:00:00+00:00

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "466a3e31682b"
down_revision: str | Sequence[str] | None = "9ecdc98b5e8a"
branch_labels: str | Sequence[str] | None = ("discounts",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "discounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("percent_off", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discounts")),
        sa.UniqueConstraint("code", name=op.f("uq_discounts_code")),
    )


def downgrade() -> None:
    op.drop_table("discounts")
