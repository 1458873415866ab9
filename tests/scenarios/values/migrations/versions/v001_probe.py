"""A table of every kind of value

Revision ID: v001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "v001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "probe",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("label", sa.Text),
        sa.Column("amount", sa.Numeric(30, 10)),
        sa.Column("ratio", sa.Double),
        sa.Column("tally", sa.BigInteger),
        sa.Column("payload", sa.LargeBinary),
    )


def downgrade():
    op.drop_table("probe")
