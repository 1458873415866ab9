"""refunds.amount as Numeric: a table rebuild on SQLite"""

import sqlalchemy as sa
from alembic import op

revision = "g2g2g2g2g2g2"
down_revision = "e1e1e1e1e1e1"
branch_labels = ("money",)
depends_on = None

refunds = sa.Table(
    "refunds",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("amount", sa.Float, nullable=False),
)


def upgrade():
    with op.batch_alter_table("refunds", copy_from=refunds) as batch:
        batch.alter_column(
            "amount", type_=sa.Numeric(12, 2), existing_type=sa.Float, existing_nullable=False
        )


def downgrade():
    rebuilt = refunds.to_metadata(sa.MetaData())
    rebuilt.c.amount.type = sa.Numeric(12, 2)
    with op.batch_alter_table("refunds", copy_from=rebuilt) as batch:
        batch.alter_column(
            "amount", type_=sa.Float, existing_type=sa.Numeric(12, 2), existing_nullable=False
        )
