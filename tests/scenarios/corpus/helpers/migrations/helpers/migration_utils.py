"""The history's helpers: reached through the sys.path entry the first revision adds."""

import sqlalchemy as sa
from alembic import op


def indexed_table(name, *columns, index_on):
    """Create a table with an index, as a sa.Index object passed to create_table."""
    return op.create_table(name, *columns, sa.Index(f"ix_{name}_{index_on}", index_on))


def changed_rows(statement):
    """Run a data fix; online, how many rows it changed (offline the bind answers None)."""
    result = op.get_bind().execute(sa.text(statement))
    return result.rowcount if result else 0
