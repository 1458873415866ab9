"""Widen customers.email"""

import sqlalchemy as sa
from alembic import op

revision = "a2a2a2a2a2a2"
down_revision = "68cfa590ad28"
branch_labels = ("widen_email",)
depends_on = None


def upgrade():
    op.alter_column(
        "customers",
        "email",
        type_=sa.String(320),
        existing_type=sa.String(255),
        existing_nullable=True,
    )


def downgrade():
    op.alter_column(
        "customers",
        "email",
        type_=sa.String(255),
        existing_type=sa.String(320),
        existing_nullable=True,
    )
