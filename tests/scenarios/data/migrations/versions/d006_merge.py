"""Merge pricing and cleanup

Revision ID: d006
Revises: d003, d005
"""

revision = "d006"
down_revision = ("d003", "d005")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
