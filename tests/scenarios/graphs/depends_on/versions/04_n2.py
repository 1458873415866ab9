"""n2"""

from alembic import op

revision = "n2n2n2n2n2n2"
down_revision = "n1n1n1n1n1n1"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SELECT 1")


def downgrade():
    op.execute("SELECT 1")
