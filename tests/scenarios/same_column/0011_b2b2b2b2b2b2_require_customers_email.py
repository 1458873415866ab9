"""Require customers.email"""

import sqlalchemy as sa
from alembic import op

revision = "b2b2b2b2b2b2"
down_revision = "68cfa590ad28"
branch_labels = ("require_email",)
depends_on = None


def upgrade():
    op.alter_column("customers", "email", nullable=False, existing_type=sa.String(255))


def downgrade():
    op.alter_column("customers", "email", nullable=True, existing_type=sa.String(255))
