"""Create accounts"""

import sqlalchemy as sa
from alembic import op
from migrations.utils import json_type

revision = "a1a1a1a1a1a1"
down_revision = None
branch_labels = ("core",)
depends_on = None


def upgrade():
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(120), nullable=False),
        sa.Column("settings", json_type()),
    )
    op.create_index("ix_accounts_email", "accounts", ["email"], unique=True)


def downgrade():
    op.drop_index("ix_accounts_email", table_name="accounts")
    op.drop_table("accounts")
