"""Create items and customers; set up the history's helpers"""

import os
import sys

import sqlalchemy as sa
from alembic import op

# As long histories do: put the helper folder on sys.path once, in the first file Alembic
# imports; later files import the helpers without doing so (Alembic imports every file
# before it runs any).
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "helpers"))
import migration_kit.batches
import migration_utils

print("migration helpers loaded")

revision = "p1p1p1p1p1p1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    migration_utils.indexed_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sku", sa.String(20), nullable=False),
        sa.Column("price", sa.Numeric(10, 2)),
        index_on="sku",
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("email", sa.String(120)),
        sa.Index("ix_customers_email", "email", unique=True),
    )


def downgrade():
    op.drop_table("customers")
    op.drop_table("items")
