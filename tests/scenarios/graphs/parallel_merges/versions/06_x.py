"""x"""

from alembic import op

revision = "xxxxxxxxxxxx"
down_revision = "m1m1m1m1m1m1"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SELECT 1")


def downgrade():
    op.execute("SELECT 1")
