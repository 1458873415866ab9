"""Merge the two merges"""

import sqlalchemy as sa
from alembic import op

revision = "i5i5i5i5i5i5"
down_revision = ("h3h3h3h3h3h3", "h4h4h4h4h4h4")
branch_labels = None
depends_on = None


# schemactl: allow irreversible: the data fix finds nothing to change, there is nothing to undo
def upgrade():
    # As real histories do: test what the bind answered. Offline, Alembic's bind answers
    # None, so both branches below are skipped and only the statements are written.
    bind = op.get_bind()
    changed = bind.execute(sa.text("UPDATE refunds SET amount = 0 WHERE amount IS NULL"))
    if changed:  # online: how many rows it changed
        assert changed.rowcount == 0
    rows = bind.execute(sa.text("SELECT id FROM refunds WHERE amount IS NULL"))
    for (refund,) in rows.fetchall() if rows else []:
        op.execute(sa.text(f"DELETE FROM refunds WHERE id = {int(refund)}"))


def downgrade():
    pass
