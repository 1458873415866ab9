"""m2"""

from alembic import op

revision = "m2m2m2m2m2m2"
down_revision = ("aaaaaaaaaaaa", "bbbbbbbbbbbb")
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SELECT 1")


def downgrade():
    op.execute("SELECT 1")
