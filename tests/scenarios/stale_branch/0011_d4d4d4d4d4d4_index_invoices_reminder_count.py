"""Index invoices.reminder_count"""

from alembic import op

revision = "d4d4d4d4d4d4"
down_revision = "c4c4c4c4c4c4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_invoices_reminder_count", "invoices", ["reminder_count"])


def downgrade():
    op.drop_index("ix_invoices_reminder_count", table_name="invoices")
