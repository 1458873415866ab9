"""Audit trail, per dialect"""

import sqlalchemy as sa
from alembic import op

revision = "c3c3c3c3c3c3"
down_revision = "b2b2b2b2b2b2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", name="fk_audit_account")),
        sa.Column("at", sa.DateTime, server_default=sa.func.current_timestamp(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("COMMENT ON TABLE audit IS 'who did what'")
    op.execute(
        sa.text(
            "INSERT INTO audit (account_id) SELECT id FROM accounts WHERE plan = :plan"
        ).bindparams(plan="free")
    )


def downgrade():
    op.drop_table("audit")
