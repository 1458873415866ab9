"""Start reports on the exports line"""

import sqlalchemy as sa
from alembic import op

revision = "q3q3q3q3q3q3"
down_revision = "q2q2q2q2q2q2"
branch_labels = ("reports",)
depends_on = None


def upgrade():
    op.add_column("exports", sa.Column("report", sa.String(40)))


def downgrade():
    op.drop_column("exports", "report")
