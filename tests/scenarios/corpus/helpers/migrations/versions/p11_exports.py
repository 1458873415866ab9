"""Exports: a line off the trunk whose first revision has no label"""

import sqlalchemy as sa
from alembic import op

revision = "q2q2q2q2q2q2"
down_revision = "p2p2p2p2p2p2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "exports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
    )


def downgrade():
    op.drop_table("exports")
