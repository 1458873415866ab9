"""Errors of an online run, as one line a person can act on.

An online command talks to a database through a driver and runs the project's own code
(env.py, its revisions); what any of them raises is translated here, once, into a
SchemactlError: Alembic's CommandError, a driver's error (its first line, the URL without its
password), a missing driver, a revision without upgrade(), or the project's code stopping at a
line (named). An error that never passed through the project's code is schemactl's own, and
keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tools.config import redact
from tools.core.errors import DatabaseError, RevisionError, SchemactlError, first_line, source_of
from tools.core.text import shown_file
from tools.dialects import dialect_of_url, driver_hint

if TYPE_CHECKING:
    from sqlalchemy.engine import URL


@contextmanager
def translate_errors(url: URL) -> Iterator[None]:
    from alembic.util import CommandError
    from sqlalchemy.exc import DBAPIError, NoSuchModuleError

    try:
        yield
    except CommandError as err:
        if isinstance(err.__cause__, SchemactlError):
            raise err.__cause__ from err
        raise RevisionError(
            f"{err}; run `schemactl status` to see the revisions and branch labels"
        ) from err
    except DBAPIError as err:
        # str(err) holds the statement and parameters; the driver's own first line is enough,
        # and the URL is shown without its password.
        kind = dialect_of_url(url)
        reason = kind.describe_error(err.orig) if err.orig else type(err).__name__
        raise DatabaseError(f"{redact(url)}: {reason}") from err
    except NoSuchModuleError as err:
        raise DatabaseError(
            f"no driver for {url.drivername}; use a URL with {driver_hint()}"
        ) from err
    except SchemactlError:
        raise
    except Exception as err:
        # Alembic calls a revision module's upgrade()/downgrade(): a file without one.
        module = getattr(err, "obj", None) if isinstance(err, AttributeError) else None
        where = getattr(module, "__file__", None)
        if isinstance(err, AttributeError) and err.name in ("upgrade", "downgrade") and where:
            raise RevisionError(
                f"{shown_file(Path(where))} has no {err.name}() function; define it (a "
                "revision needs both upgrade() and downgrade())"
            ) from err
        # The project's own code (a revision, env.py) raised: where, in one line. An error
        # that never passed through the project's code is schemactl's: its traceback stays.
        found = source_of(err)
        if found is None:
            raise
        raise RevisionError(
            f"the migration stopped at {shown_file(Path(found[0]))}:{found[1]} with "
            f"{type(err).__name__}: {first_line(err)}; fix it there, then run the command "
            "again (`schemactl status` shows where the database is)"
        ) from err
