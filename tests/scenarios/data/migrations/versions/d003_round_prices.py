"""Store prices.amount as NUMERIC(12, 2), rounded; relabel a price (pricing)

Revision ID: d003
Revises: d002
"""

import sqlalchemy as sa
from alembic import op

revision = "d003"
down_revision = "d002"
branch_labels = ("pricing",)
depends_on = None


def _prices(amount):
    # SQLite rebuilds the table offline from this (batch "move and copy").
    return sa.Table(
        "prices",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("label", sa.String(60), nullable=False),
        sa.Column("amount", amount, nullable=False),
    )


def _alter(old, new, using=None):
    if op.get_context().dialect.name == "sqlite":
        with op.batch_alter_table("prices", copy_from=_prices(old)) as batch:
            batch.alter_column("amount", type_=new, existing_type=old, existing_nullable=False)
    else:
        op.alter_column(
            "prices",
            "amount",
            type_=new,
            existing_type=old,
            existing_nullable=False,
            postgresql_using=using,
        )


def upgrade():
    _alter(sa.Float(), sa.Numeric(12, 2), "round(amount::numeric, 2)")
    op.execute("UPDATE prices SET label = 'rounded: 50% off' WHERE id = 901")


def downgrade():
    op.execute("UPDATE prices SET label = 'ten and a half-cent' WHERE id = 901")
    _alter(sa.Numeric(12, 2), sa.Float(), "amount::double precision")
