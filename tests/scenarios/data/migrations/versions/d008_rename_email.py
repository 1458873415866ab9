"""Rename users.email to users.email_address

Revision ID: d008
Revises: d007
"""

import sqlalchemy as sa
from alembic import op

revision = "d008"
down_revision = "d007"
branch_labels = None
depends_on = None

# schemactl: allow rename: the application reads both names until it is redeployed


def upgrade():
    op.alter_column(
        "users",
        "email",
        new_column_name="email_address",
        existing_type=sa.String(120),
        existing_nullable=False,
    )


def downgrade():
    op.alter_column(
        "users",
        "email_address",
        new_column_name="email",
        existing_type=sa.String(120),
        existing_nullable=False,
    )
