"""Settings default from the config"""

import sqlalchemy as sa
from alembic import op
from migrations.utils import settings_default

revision = "d4d4d4d4d4d4"
down_revision = "c3c3c3c3c3c3"
branch_labels = None
depends_on = None


def upgrade():
    accounts = sa.table("accounts", sa.column("settings", sa.Text))
    op.execute(
        accounts.update().where(accounts.c.settings.is_(None)).values(settings=settings_default())
    )
    op.bulk_insert(
        sa.table("audit", sa.column("account_id", sa.Integer)),
        [{"account_id": None}, {"account_id": None}],
    )


def downgrade():
    op.execute("DELETE FROM audit WHERE account_id IS NULL")
