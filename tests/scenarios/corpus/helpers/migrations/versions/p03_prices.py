"""Start pricing: price lists"""

import migration_utils
import sqlalchemy as sa

revision = "p3p3p3p3p3p3"
down_revision = "p2p2p2p2p2p2"
branch_labels = ("pricing",)
depends_on = None


def upgrade():
    migration_utils.indexed_table(
        "prices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=False),
        sa.Column("amount", sa.Numeric(10, 2), nullable=False),
        index_on="item_id",
    )


def downgrade():
    from alembic import op

    op.drop_table("prices")
