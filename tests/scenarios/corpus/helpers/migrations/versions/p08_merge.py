"""Merge pricing and search"""

revision = "p8p8p8p8p8p8"
down_revision = ("p5p5p5p5p5p5", "p7p7p7p7p7p7")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
