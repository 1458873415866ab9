"""A table whose name needs quoting

Revision ID: v002
Revises: v001
"""

import sqlalchemy as sa
from alembic import op

revision = "v002"
down_revision = "v001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "Order Items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("select", sa.String(20)),
        sa.Column("50%", sa.Integer),
    )


def downgrade():
    op.drop_table("Order Items")
