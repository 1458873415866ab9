"""Throwaway databases: make one, migrate it, read its schema, drop it.

makemigrations compares the models with a scratch database at every head; merge analysis
applies branches in each order to scratch databases; check compares models and migrations in
one; verify builds the expected schema in one next to the live database; the tests make
theirs here too. The kind of database decides how (tools.dialects): a file in a temporary
folder for SQLite, CREATE DATABASE on a server for the others.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tools.config import Environment, redact
from tools.dialects import TOOL_TABLES, VERSION_TABLE
from tools.errors import DatabaseError
from tools.graph import HistoryError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import URL

    from tools.config import Project
    from tools.dialects import ScriptDialect
    from tools.snapshot import Schema


# What a schema comparison leaves out: the version table and schemactl's own tables.
IGNORED = frozenset({VERSION_TABLE, *TOOL_TABLES})


class ScratchUpgradeFailed(HistoryError):
    """The history does not apply to a scratch database."""

    def __init__(self, dialect: str, target: str, reason: str) -> None:
        self.dialect = dialect
        self.target = target
        self.reason = reason
        super().__init__(
            f"the history does not apply to a scratch {dialect} database ({reason}); "
            "fix the failing revision first"
        )


@contextmanager
def scratch_database(
    kind: ScriptDialect, server: URL | None = None, *, prefix: str = "schemactl"
) -> Iterator[URL]:
    """An empty database of ``kind`` (on ``server`` when it needs one), dropped afterwards."""
    from sqlalchemy import create_engine, pool, text
    from sqlalchemy.exc import SQLAlchemyError

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as folder:
        url = kind.scratch_url(server, name, Path(folder))
        create, drop = kind.create_database(name), kind.drop_database(name)
        if create is None or drop is None or server is None:
            yield url
            return
        engine = create_engine(
            kind.complete(server), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
        )
        try:
            with engine.connect() as connection:
                connection.execute(text(create))
        except SQLAlchemyError as err:
            engine.dispose()
            reason = str(getattr(err, "orig", None) or err).strip().splitlines()[0]
            raise DatabaseError(
                f"cannot create a scratch database on {redact(server)} ({reason}); schemactl "
                "needs the privilege to create databases there"
            ) from err
        try:
            yield url
        finally:
            with engine.connect() as connection:
                connection.execute(text(drop))
            engine.dispose()


def scratch_config(
    project: Project, kind: ScriptDialect, url: URL, *, plain: bool = False
) -> Config:
    """The project's Alembic config pointed at a scratch database (``plain``: autogenerate
    writes plain operations, which render offline on every dialect)."""
    scratch = Environment(name="scratch", dialect=kind.name)
    return project.alembic_config(scratch, url=url, quiet=True, plain_operations=plain)


def upgrade(cfg: Config, target: str) -> None:
    """Upgrade the scratch database ``cfg`` points at to ``target``."""
    from alembic import command
    from alembic.util import CommandError
    from sqlalchemy.exc import DBAPIError

    try:
        command.upgrade(cfg, target)
    except (CommandError, DBAPIError) as err:
        kind = cfg.attributes["schemactl.environment"].kind
        raise ScratchUpgradeFailed(kind.title, target, _first_line(err)) from err


def schema_of(url: URL, ignore: Collection[str] = IGNORED) -> Schema:
    """The reflected schema of the database at ``url`` (version and tool tables left out)."""
    from sqlalchemy import create_engine, pool

    from tools.snapshot import snapshot

    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return snapshot(connection, ignore)
    finally:
        engine.dispose()


def _first_line(err: BaseException) -> str:
    text = str(getattr(err, "orig", None) or err).strip()
    return text.splitlines()[0] if text else type(err).__name__
