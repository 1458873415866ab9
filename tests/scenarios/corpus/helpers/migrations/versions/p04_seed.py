"""Seed the default customer (SQLite: in a transaction of the helper's own)"""

import migration_kit
from alembic import op

revision = "p4p4p4p4p4p4"
down_revision = "p2p2p2p2p2p2"
branch_labels = None
depends_on = None


def upgrade():
    # migration_kit.batches was imported by the first revision file: Alembic has it loaded.
    with migration_kit.batches.sqlite_transaction():
        op.execute("INSERT INTO customers (name) VALUES ('Walk-in')")
        op.execute("INSERT INTO items (sku) VALUES ('WALK-IN')")


def downgrade():
    with migration_kit.batches.sqlite_transaction():
        op.execute("DELETE FROM items WHERE sku = 'WALK-IN'")
        op.execute("DELETE FROM customers WHERE name = 'Walk-in'")
