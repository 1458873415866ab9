"""t1"""

from alembic import op

revision = "t1t1t1t1t1t1"
down_revision = "r1r1r1r1r1r1"
branch_labels = ("tax",)
depends_on = None


def upgrade():
    op.execute("SELECT 1")


def downgrade():
    op.execute("SELECT 1")
