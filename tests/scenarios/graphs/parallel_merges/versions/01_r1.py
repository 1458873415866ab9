"""r1"""

from alembic import op

revision = "r1r1r1r1r1r1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SELECT 1")


def downgrade():
    op.execute("SELECT 1")
