"""Add users.nickname"""

import sqlalchemy as sa
from alembic import op

revision = "b3b3b3b3b3b3"
down_revision = "68cfa590ad28"
branch_labels = ("nickname",)
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("nickname", sa.String(30)))


def downgrade():
    op.drop_column("users", "nickname")
