"""Add items.note, filled in"""

import migration_utils
import sqlalchemy as sa
from alembic import op

revision = "p2p2p2p2p2p2"
down_revision = "p1p1p1p1p1p1"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("items", sa.Column("note", sa.String(40)))
    filled = migration_utils.changed_rows("UPDATE items SET note = 'none' WHERE note IS NULL")
    print(f"filled {filled} notes")


def downgrade():
    op.drop_column("items", "note")
