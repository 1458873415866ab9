"""m1"""

from alembic import op

revision = "m1m1m1m1m1m1"
down_revision = ("aaaaaaaaaaaa", "bbbbbbbbbbbb")
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SELECT 1")


def downgrade():
    op.execute("SELECT 1")
