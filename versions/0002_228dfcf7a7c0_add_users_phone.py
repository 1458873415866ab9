"""Add users.phone

Revision ID: 228dfcf7a7c0
Revises: ab251de0ab93
Create Date: 2026-01-26 09:00:00+00:00

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "228dfcf7a7c0"
down_revision: str | Sequence[str] | None = "ab251de0ab93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("phone", sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "phone")
