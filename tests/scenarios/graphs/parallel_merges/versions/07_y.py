"""y"""

from alembic import op

revision = "yyyyyyyyyyyy"
down_revision = "m2m2m2m2m2m2"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SELECT 1")


def downgrade():
    op.execute("SELECT 1")
