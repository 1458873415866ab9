"""d1"""

from alembic import op

revision = "d1d1d1d1d1d1"
down_revision = "r1r1r1r1r1r1"
branch_labels = ("disc",)
depends_on = None


def upgrade():
    op.execute("SELECT 1")


def downgrade():
    op.execute("SELECT 1")
