"""Merge shipping and money"""

revision = "h3h3h3h3h3h3"
down_revision = ("f2f2f2f2f2f2", "g2g2g2g2g2g2")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
