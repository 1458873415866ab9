"""Add the shipped status and index orders.placed_at, outside a transaction on PostgreSQL"""

from alembic import op

revision = "f2f2f2f2f2f2"
down_revision = "e1e1e1e1e1e1"
branch_labels = ("shipping",)
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.execute("ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'shipped'")
            op.create_index(
                "ix_orders_placed_at", "orders", ["placed_at"], postgresql_concurrently=True
            )
    else:
        op.create_index("ix_orders_placed_at", "orders", ["placed_at"])


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.drop_index("ix_orders_placed_at", table_name="orders", postgresql_concurrently=True)
    else:
        op.drop_index("ix_orders_placed_at", table_name="orders")
