"""Add invoices.discount_total

Existing invoices get 0 through the server default, so the NOT NULL column needs no backfill.

Revision ID: fa4621c62bf9
Revises: 466a3e31682b
Create Date: 2026-04-22 09:00:00+00:00

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "fa4621c62bf9"
down_revision: str | Sequence[str] | None = "466a3e31682b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "invoices",
        sa.Column(
            "discount_total",
            sa.Numeric(precision=12, scale=2),
            server_default=sa.text("0"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("invoices", "discount_total")
