"""The history as read: revision headers (read without running the files), the revision graph,
loading a history from disk and resolving the names users give, and the one adapter over
Alembic's private step planning."""
