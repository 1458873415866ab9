"""Count hits per customer"""

import migration_utils
import sqlalchemy as sa
from alembic import op

revision = "p7p7p7p7p7p7"
down_revision = "p6p6p6p6p6p6"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("search_terms", sa.Column("customer_id", sa.Integer))
    migration_utils.changed_rows("UPDATE search_terms SET hits = 0 WHERE hits < 0")


def downgrade():
    op.drop_column("search_terms", "customer_id")
