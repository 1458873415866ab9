"""m"""

from alembic import op

revision = "mmmmmmmmmmmm"
down_revision = ("a1a1a1a1a1a1", "b1b1b1b1b1b1")
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SELECT 1")


def downgrade():
    op.execute("SELECT 1")
