"""Merge taxes and e0a6168bbe2e

Revision ID: 6f90ca6efb5f
Revises: 5ed95bbd56e2, e0a6168bbe2e
Create Date: 2026-11-29 12:03:50.404653

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6f90ca6efb5f"
down_revision: str | Sequence[str] | None = ("5ed95bbd56e2", "e0a6168bbe2e")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
