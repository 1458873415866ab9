"""Schedule reports"""

import sqlalchemy as sa
from alembic import op

revision = "q4q4q4q4q4q4"
down_revision = "q3q3q3q3q3q3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("export_id", sa.Integer, sa.ForeignKey("exports.id"), nullable=False),
        sa.Column("cron", sa.String(40), nullable=False),
    )


def downgrade():
    op.drop_table("schedules")
