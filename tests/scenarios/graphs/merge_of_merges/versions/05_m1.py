"""m1"""

from alembic import op

revision = "m1m1m1m1m1m1"
down_revision = ("p1p1p1p1p1p1", "d1d1d1d1d1d1")
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SELECT 1")


def downgrade():
    op.execute("SELECT 1")
