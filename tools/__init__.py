"""schemactl: a small library over Alembic, and the CLI on top of it (tools.cli)."""
