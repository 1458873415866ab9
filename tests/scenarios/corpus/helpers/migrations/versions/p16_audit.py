"""Start audit: an audit trail"""

import sqlalchemy as sa
from alembic import op

revision = "s2s2s2s2s2s2"
down_revision = "s1s1s1s1s1s1"
branch_labels = ("audit",)
depends_on = None


def upgrade():
    op.create_table(
        "audit_trail",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("what", sa.String(200), nullable=False),
        sa.Index("ix_audit_trail_what", "what"),
    )


def downgrade():
    op.drop_table("audit_trail")
