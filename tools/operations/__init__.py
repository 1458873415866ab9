"""Alembic operations of schemactl's own, for revisions to call as ``op.NAME(...)``.

Importing this package registers them (tools/alembic/env.py does, so plain ``alembic`` runs
them too). ``online``: the safe forms of changes that would stop the application's writes
(``op.create_index_online`` and the rest), written per kind of database by
tools.dialects (its online role).
"""

from tools.operations import online

__all__ = ["online"]
