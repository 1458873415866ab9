"""Drop archived and its enum type archive_status (cleanup)

Revision ID: d005
Revises: d004
"""

import sqlalchemy as sa
from alembic import op

revision = "d005"
down_revision = "d004"
branch_labels = None
depends_on = None

# schemactl: allow destructive: archived notes are retired; the release's backup keeps them


def upgrade():
    op.drop_table("archived")
    sa.Enum(name="archive_status").drop(op.get_bind(), checkfirst=False)


def downgrade():
    op.create_table(
        "archived",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("status", sa.Enum("open", "closed", name="archive_status"), nullable=False),
        sa.Column("note", sa.Text),
    )
