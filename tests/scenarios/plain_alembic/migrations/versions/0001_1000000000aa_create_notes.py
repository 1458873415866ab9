"""Create notes"""

import sqlalchemy as sa
from alembic import op

revision = "1000000000aa"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("notes")
