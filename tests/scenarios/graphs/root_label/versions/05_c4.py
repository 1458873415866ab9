"""c4"""

from alembic import op

revision = "c4c4c4c4c4c4"
down_revision = "mmmmmmmmmmmm"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SELECT 1")


def downgrade():
    op.execute("SELECT 1")
