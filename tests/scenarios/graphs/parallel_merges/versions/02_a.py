"""a"""

from alembic import op

revision = "aaaaaaaaaaaa"
down_revision = "r1r1r1r1r1r1"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SELECT 1")


def downgrade():
    op.execute("SELECT 1")
