"""r5"""

from alembic import op

revision = "r5r5r5r5r5r5"
down_revision = "m2m2m2m2m2m2"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SELECT 1")


def downgrade():
    op.execute("SELECT 1")
