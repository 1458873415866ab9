"""Start the taxes branch

Revision ID: 1d8ade1065a3
Revises: 3a6f3886a7e3
Create Date: 2026-11-29 12:03:39.566460

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1d8ade1065a3"
down_revision: str | Sequence[str] | None = "3a6f3886a7e3"
branch_labels: str | Sequence[str] | None = ("taxes",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
