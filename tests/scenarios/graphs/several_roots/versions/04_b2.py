"""b2"""

from alembic import op

revision = "b2b2b2b2b2b2"
down_revision = "b1b1b1b1b1b1"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SELECT 1")


def downgrade():
    op.execute("SELECT 1")
