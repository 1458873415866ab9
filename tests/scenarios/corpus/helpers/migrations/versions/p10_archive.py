"""Archive search terms (a side line of search)"""

import sqlalchemy as sa
from alembic import op

revision = "q1q1q1q1q1q1"
down_revision = "p6p6p6p6p6p6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "archived_terms",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("term", sa.String(60), nullable=False),
    )


def downgrade():
    op.drop_table("archived_terms")
