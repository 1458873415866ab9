"""Create orders with a status enum, and refunds"""

import sqlalchemy as sa
from alembic import op

revision = "e1e1e1e1e1e1"
down_revision = None
branch_labels = None
depends_on = None

status = sa.Enum("new", "paid", name="order_status")


def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("status", status, nullable=False, server_default="new"),
        sa.Column("total", sa.Float, nullable=False),
        sa.Column("placed_at", sa.DateTime),
    )
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("amount", sa.Float, nullable=False),
    )


def downgrade():
    op.drop_table("refunds")
    op.drop_table("orders")
    status.drop(op.get_bind(), checkfirst=False)
