"""Drop a column and the table whose names need quoting

Revision ID: v003
Revises: v002
"""

import sqlalchemy as sa
from alembic import op

revision = "v003"
down_revision = "v002"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_column("Order Items", "50%")
    op.drop_table("Order Items")


def downgrade():
    op.create_table(
        "Order Items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("select", sa.String(20)),
        sa.Column("50%", sa.Integer),
    )
