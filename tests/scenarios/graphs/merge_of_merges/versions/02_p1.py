"""p1"""

from alembic import op

revision = "p1p1p1p1p1p1"
down_revision = "r1r1r1r1r1r1"
branch_labels = ("pay",)
depends_on = None


def upgrade():
    op.execute("SELECT 1")


def downgrade():
    op.execute("SELECT 1")
