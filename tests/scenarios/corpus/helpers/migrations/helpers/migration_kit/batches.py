"""SQLite work grouped in a transaction of its own."""

from contextlib import contextmanager

from alembic import op


@contextmanager
def sqlite_transaction():
    sqlite = op.get_context().dialect.name == "sqlite"
    if sqlite:
        op.execute("BEGIN")
    yield
    if sqlite:
        op.execute("END")
