"""Merge shipping and money again, on another line"""

revision = "h4h4h4h4h4h4"
down_revision = ("f2f2f2f2f2f2", "g2g2g2g2g2g2")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
