"""Seed the standard tax rates

A data migration that renders as plain SQL: it writes fixed rows and reads nothing.

Revision ID: 9ecdc98b5e8a
Revises: a66186b7cc1d
Create Date: 2026-03-23 09:00:00+00:00

"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "9ecdc98b5e8a"
down_revision: str | Sequence[str] | None = "a66186b7cc1d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

tax_rates = sa.table(
    "tax_rates",
    sa.column("code", sa.String()),
    sa.column("name", sa.String()),
    sa.column("rate", sa.Numeric(5, 2)),
)
RATES = [
    {"code": "STD", "name": "Standard rate", "rate": Decimal("19.00")},
    {"code": "RED", "name": "Reduced rate", "rate": Decimal("7.00")},
    {"code": "ZERO", "name": "Zero rate", "rate": Decimal("0.00")},
]


def upgrade() -> None:
    op.bulk_insert(tax_rates, RATES)


def downgrade() -> None:
    op.execute(tax_rates.delete().where(tax_rates.c.code.in_([r["code"] for r in RATES])))
