"""Merge the two merges"""

revision = "i5i5i5i5i5i5"
down_revision = ("h3h3h3h3h3h3", "h4h4h4h4h4h4")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
