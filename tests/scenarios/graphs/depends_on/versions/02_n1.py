"""n1"""

from alembic import op

revision = "n1n1n1n1n1n1"
down_revision = None
branch_labels = ("networking",)
depends_on = None


def upgrade():
    op.execute("SELECT 1")


def downgrade():
    op.execute("SELECT 1")
