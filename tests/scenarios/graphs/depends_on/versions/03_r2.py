"""r2"""

from alembic import op

revision = "r2r2r2r2r2r2"
down_revision = "r1r1r1r1r1r1"
branch_labels = None
depends_on = ("networking",)


def upgrade():
    op.execute("SELECT 1")


def downgrade():
    op.execute("SELECT 1")
