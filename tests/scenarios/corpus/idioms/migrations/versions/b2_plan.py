"""Add accounts.plan, filled offline with SQL that reads nothing"""

import sqlalchemy as sa
from alembic import context, op

revision = "b2b2b2b2b2b2"
down_revision = "a1a1a1a1a1a1"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("accounts", sa.Column("plan", sa.String(20)))
    if context.is_offline_mode():
        op.execute("UPDATE accounts SET plan = 'free' WHERE plan IS NULL")
    else:
        op.get_bind().execute(sa.text("UPDATE accounts SET plan = 'free' WHERE plan IS NULL"))


def downgrade():
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("plan")
