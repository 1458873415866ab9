"""c1"""

from alembic import op

revision = "c1c1c1c1c1c1"
down_revision = None
branch_labels = ("core",)
depends_on = None


def upgrade():
    op.execute("SELECT 1")


def downgrade():
    op.execute("SELECT 1")
