"""Archive users into users_archive"""

from alembic import op

revision = "a3a3a3a3a3a3"
down_revision = "68cfa590ad28"
branch_labels = ("archive",)
depends_on = None


def upgrade():
    op.execute("CREATE TABLE users_archive AS SELECT * FROM users")


def downgrade():
    op.execute("DROP TABLE users_archive")
