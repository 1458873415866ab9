"""Add invoices.reminder_count"""

import sqlalchemy as sa
from alembic import op

revision = "c4c4c4c4c4c4"
down_revision = "e58b81ed3f5b"
branch_labels = ("invoicing",)
depends_on = None


def upgrade():
    op.add_column(
        "invoices",
        sa.Column("reminder_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )


def downgrade():
    op.drop_column("invoices", "reminder_count")
