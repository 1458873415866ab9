"""Errors a user of schemactl can act on.

Library code raises these (or subclasses carrying their data as fields); the CLI catches only
``SchemactlError``, prints its one-line message and exits non-zero. Everything else is a bug and
keeps its traceback.
"""

from __future__ import annotations


class SchemactlError(Exception):
    """A problem the user can fix; ``str()`` is one line naming the problem and the fix."""


class ConfigError(SchemactlError):
    """alembic.ini (or its [schemactl] sections) cannot be used as written."""


class UnknownEnvironment(SchemactlError):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        super().__init__(
            f"unknown environment {name!r}; choose one of: {', '.join(known)} "
            "(environments are the [schemactl.env.NAME] sections of alembic.ini)"
        )


class MissingDatabaseUrl(SchemactlError):
    def __init__(self, env: str, variable: str, example: str) -> None:
        self.env = env
        self.variable = variable
        super().__init__(
            f"environment {env!r} takes its database URL from ${variable}, which is not set; "
            f"export {variable}={example}"
        )


class RevisionError(SchemactlError):
    """A revision named by the user, or found in a database, is not in the history."""


class DatabaseError(SchemactlError):
    """The database could not be reached or refused a statement."""
