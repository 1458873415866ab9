"""Join pricing, search and reports"""

revision = "r1r1r1r1r1r1"
down_revision = ("p9p9p9p9p9p9", "q1q1q1q1q1q1", "q4q4q4q4q4q4")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
