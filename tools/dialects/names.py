"""The names and limits every kind of database shares: schemactl's own tables, the script
format, and which revision ids and names may be written into SQL."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tools.core.errors import SchemactlError

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect


# The layout of DBA scripts. schemactl renders only the current one; a recorded release keeps
# the format it was rendered with in its manifest, and one of an earlier format is verified by
# the sha256 of its files and of its revision files, never rendered again (releases are data).
# 7: literals written exactly (no doubled %, TABs kept, CR and control characters escaped);
#    backups named per object and per schema, restored in foreign-key order, enums as text,
#    lossy type changes kept.
# 8: statements outside a transaction (autocommit_block, CONCURRENTLY) run under the
#    environment's timeouts set for the session (PostgreSQL); SQLite keeps such a block
#    inside its transaction, which is its lock.
# 9: SQLite and MariaDB scripts stop psql, given one by mistake, before their first statement.
# 10: PostgreSQL scripts' own tables carry squawk's ignore comments on the lines its style
#     rules would flag, so squawk over a script judges only the revisions' statements;
#     MariaDB scripts' sql_mode no longer names NO_AUTO_CREATE_USER (MySQL 8 refuses it).
# 11: every script's header says which clients it is for ("-- For: ..."); PostgreSQL scripts
#     rendered with client = plain have no psql meta-commands (for GUI clients).
# 12: scripts that can stop midway name `schemactl recover`; a release written with
#     --no-prove says NOT PROVEN in its scripts' headers; MariaDB scripts first ask the
#     server whether it is MariaDB (a MySQL server refuses them there, nothing changed).
# 13: the online operations' forms (tools.operations.online); MariaDB compound statements
#     (BEGIN NOT ATOMIC ...) written between DELIMITER lines; a statement that copies its
#     table (ALGORITHM=COPY stated) named in the header, with the pt-online-schema-change
#     and gh-ost commands that make the change while writes go on.
FORMAT = 13
FORMATS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)
VERSION_TABLE = "alembic_version"
# Tables schemactl itself owns in a managed database; never part of the models.
AUDIT_TABLE = "schemactl_audit"
# SQLite keeps the audit's step timings in a table of their own: a script cannot
# add a column only where it is missing there (see SQLite._upgrade_audit).
AUDIT_TIMING_TABLE = "schemactl_audit_timing"
# Each op.backfill_online run's progress: how far its batches went (it goes on from there).
BACKFILL_TABLE = "schemactl_backfill"
TOOL_TABLES = frozenset({AUDIT_TABLE, AUDIT_TIMING_TABLE, BACKFILL_TABLE})
# Backup tables where a database has no schema of their own for them.
BACKUP_PREFIX = "schemactl_backup_"


def is_tool_table(name: str) -> bool:
    """Whether a table is schemactl's own (audit, backups): never part of the models."""
    return name in TOOL_TABLES or name.startswith(BACKUP_PREFIX)


# The audit's release_name for a step run by an online command rather than a script.
ONLINE = "online"
# Set in an Alembic Config's attributes by a run that writes its own audit rows (schemactl's
# online commands), or wants none (scratch databases): env.py then adds no plain-Alembic
# audit (tools.live.online.plain_alembic_audit).
AUDITED = "schemactl.audited"
# The audit table's layouts, each the one before plus what its upgrade adds; never a column
# renamed or dropped, so a database holding any layout is brought up to date in place and a
# script of an earlier format still writes its rows into a later layout.
#   1 (formats 1-3): id, revision, direction, revision_sha256, applied_at, applied_by
#   2 (format 4):    + started_at, finished_at, duration_ms, release_name
TIMING_COLUMNS = ("started_at", "finished_at", "duration_ms", "release_name")
TIMED_AUDIT_TABLE = f"{AUDIT_TABLE} (layout 2)"  # a key of _tables(), not a name in SQL
# What a revision id may look like to be written into SQL (Alembic's are hex; others are
# identifiers): anything else could close a string literal.
_SAFE_REVISION = re.compile(r"[A-Za-z0-9_\-]{1,32}")
_PARAMETER = re.compile(r":(old|new|revision|direction|sha|release)\b")
# Characters a string value may hold that a script cannot carry raw: the clients drop a CR
# before a LF (mariadb, sqlite3), NUL ends a C string, and the others can hide text from a
# DBA reading the script in a terminal. TAB and LF travel as they are.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def _named(dialect_class: type[Dialect]) -> Dialect:
    """A dialect of ``dialect_class`` with named parameters (its constructor takes
    paramstyle; the Dialect interface does not declare it)."""
    make: Any = dialect_class
    return make(paramstyle="named")  # type: ignore[no-any-return]


class UnwritableValue(SchemactlError):
    """A value this kind of database cannot hold, so no script can write it."""


class UnsafeRevisionId(SchemactlError):
    def __init__(self, revision: str) -> None:
        self.revision = revision
        super().__init__(
            f"revision id {revision!r} cannot be written into SQL safely; revision ids may hold "
            "only letters, digits, '_' and '-' (at most 32 characters)"
        )


_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def is_plain_name(name: str) -> bool:
    """Whether a name from a config (a version table, a schema) is a plain SQL name: SQL
    writes it as it is, and it cannot end a comment, a literal or a statement."""
    return bool(_PLAIN_NAME.fullmatch(name))


def _identifier(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return name


def safe_revision(revision: str) -> str:
    # fullmatch: `$` would also match before a trailing newline.
    if not isinstance(revision, str) or not _SAFE_REVISION.fullmatch(revision):
        raise UnsafeRevisionId(revision)
    return revision


def _shell(word: str) -> str:
    # A table name in a shell command a DBA may paste: one word, whatever it holds.
    import shlex

    return shlex.quote(word)


def _dump_file(table: str) -> str:
    # The file a dump command writes: the table's name, made a plain file name.
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", table).lstrip(".") + ".before.sql"


def _release(name: str | None) -> str | None:
    # What the audit's release_name column (VARCHAR(100)) holds.
    return None if name is None else name[:100]


def _guard_message(expected: Sequence[str]) -> str:
    return ",".join(expected) or "base (no revision)"
