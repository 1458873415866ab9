"""Baseline: users, their phones, tax rates, products, prices, archived notes

Revision ID: d001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "d001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(120), nullable=False, unique=True),
        sa.Column("phone", sa.String(40)),
    )
    op.create_table(
        "users_phone",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("number", sa.String(40), nullable=False),
    )
    op.create_table(
        "tax_rates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("rate", sa.Float, nullable=False),
    )
    op.create_table(
        "products",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("price", sa.Float, nullable=False),
        sa.Column(
            "tax_rate_id",
            sa.Integer,
            sa.ForeignKey("tax_rates.id", name="fk_products_tax_rate_id"),
        ),
        sa.Column("image", sa.LargeBinary),
    )
    op.create_table(
        "prices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("label", sa.String(60), nullable=False),
        sa.Column("amount", sa.Float, nullable=False),
    )
    op.create_table(
        "archived",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("status", sa.Enum("open", "closed", name="archive_status"), nullable=False),
        sa.Column("note", sa.Text),
    )


def downgrade():
    op.drop_table("archived")
    sa.Enum(name="archive_status").drop(op.get_bind(), checkfirst=False)
    op.drop_table("prices")
    op.drop_table("products")
    op.drop_table("tax_rates")
    op.drop_table("users_phone")
    op.drop_table("users")
