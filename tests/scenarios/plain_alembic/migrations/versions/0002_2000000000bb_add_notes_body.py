"""Add notes.body"""

import sqlalchemy as sa
from alembic import op

revision = "2000000000bb"
down_revision = "1000000000aa"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("notes", sa.Column("body", sa.Text))


def downgrade():
    op.drop_column("notes", "body")
