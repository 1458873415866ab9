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


def first_line(err: BaseException) -> str:
    """The first line of an exception's text (a driver's own, for an SQLAlchemy wrapper, whose
    text also holds the statement), or its type when it has none."""
    text = str(getattr(err, "orig", None) or err).strip()
    return text.splitlines()[0] if text else type(err).__name__


_LIBRARIES = ("/alembic/", "/sqlalchemy/", "/tools/")


def _installed() -> tuple[str, ...]:
    """Where the standard library and installed packages (drivers among them) live."""
    import sysconfig

    paths = sysconfig.get_paths()
    return tuple({paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")})


def raised_at(err: BaseException, path: str | None = None) -> tuple[str, int] | None:
    """The file name and line a project's code raised ``err`` at: the deepest frame in
    ``path`` if given and present, else source_of's; None when the error never passed
    through the project's code."""
    import os
    import traceback

    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == path]
    found = (frames[-1].filename, frames[-1].lineno) if frames else source_of(err)
    if found is None or found[1] is None:
        return None
    return os.path.basename(found[0]), found[1]


def source_of(err: BaseException) -> tuple[str, int] | None:
    """The file (as Python names it) and line of the project's code ``err`` comes from: for
    a SyntaxError the file that cannot be parsed, else the deepest frame outside Alembic,
    SQLAlchemy, schemactl, the standard library and installed packages."""
    import traceback

    if isinstance(err, SyntaxError) and err.filename and err.lineno:
        return err.filename, err.lineno
    frames = [
        f
        for f in traceback.extract_tb(err.__traceback__)
        if not any(part in f.filename for part in _LIBRARIES)
        and not f.filename.startswith(_installed())
        and not f.filename.startswith("<")  # code a library generated (Alembic's op proxies)
    ]
    if not frames or frames[-1].lineno is None:
        return None
    return frames[-1].filename, frames[-1].lineno
