"""Drop prices: items.price is enough"""

import migration_utils
import sqlalchemy as sa
from alembic import op

revision = "p9p9p9p9p9p9"
down_revision = "p8p8p8p8p8p8"
branch_labels = None
depends_on = None


# schemactl: allow destructive: items.price replaced the price lists; the rollback puts them back
def upgrade():
    op.drop_table("prices")


def downgrade():
    migration_utils.indexed_table(
        "prices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=False),
        sa.Column("amount", sa.Numeric(10, 2), nullable=False),
        index_on="item_id",
    )
