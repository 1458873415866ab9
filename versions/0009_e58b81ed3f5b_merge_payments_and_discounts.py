"""Merge the payments and discounts branches

Revision ID: e58b81ed3f5b
Revises: fcac57c435d7, fa4621c62bf9
Create Date: 2026-05-04 09:00:00+00:00

"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "e58b81ed3f5b"
down_revision: str | Sequence[str] | None = ("fcac57c435d7", "fa4621c62bf9")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A merge joins two lines of history; it changes no schema of its own.
    pass


def downgrade() -> None:
    pass
