"""Check customers' e-mail addresses (trunk work a labelled line then starts from)"""

import sqlalchemy as sa
from alembic import op

revision = "s1s1s1s1s1s1"
down_revision = "r1r1r1r1r1r1"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "customers", sa.Column("checked", sa.Boolean, nullable=False, server_default=sa.false())
    )


def downgrade():
    op.drop_column("customers", "checked")
