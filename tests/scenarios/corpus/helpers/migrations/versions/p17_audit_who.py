"""Record who"""

import sqlalchemy as sa
from alembic import op

revision = "s3s3s3s3s3s3"
down_revision = "s2s2s2s2s2s2"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("audit_trail", sa.Column("who", sa.String(80)))


def downgrade():
    op.drop_column("audit_trail", "who")
