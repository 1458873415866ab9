"""Create loyalty_points"""

import sqlalchemy as sa
from alembic import op

revision = "b1b1b1b1b1b1"
down_revision = "68cfa590ad28"
branch_labels = ("loyalty",)
depends_on = None


def upgrade():
    op.create_table(
        "loyalty_points",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("points", sa.Integer(), nullable=False),
    )


def downgrade():
    op.drop_table("loyalty_points")
