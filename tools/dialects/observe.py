"""A kind of database as a witness: what the server did running one statement, asked of the
server itself (a table rewritten, the locks held, the cheapest algorithm it accepts), where a
static rule can only guess. postgresql.py and mariadb.py hold each server's questions; a kind
that has none (SQLite) runs the statement and observes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from tools.dialects.backups import BackupSQL

if TYPE_CHECKING:
    from collections.abc import Collection

    from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class Observation:
    """What one statement did, as its server showed it."""

    # Whether anything was observed (False: a kind that measures nothing, or a statement it
    # could not watch).
    measured: bool = False
    # Tables whose storage the statement replaced: every row written again (PostgreSQL).
    rewritten: tuple[str, ...] = ()
    # Tables whose rows it read through (a scan: building an index, validating a
    # constraint), each row under the lock it held (PostgreSQL).
    scanned: tuple[str, ...] = ()
    # (table, the strongest lock mode the statement held on it before commit) (PostgreSQL).
    locks: tuple[tuple[str, str], ...] = ()
    # Whether the locks could be read (False: a statement run outside a transaction, whose
    # locks are gone when it returns).
    locks_read: bool = True
    # The cheapest ALGORITHM and LOCK the server accepted for it (MariaDB, MySQL), and its
    # reasons for refusing the cheaper ones, in its own words.
    algorithm: str | None = None
    lock: str | None = None
    refused: tuple[str, ...] = ()
    # The verdicts, as the kind of database reads what it saw: every row written again (a
    # table rewritten or copied), and other sessions' writes stopped while it went through
    # a table's rows (a lock held only for a catalog change is not counted: it is brief).
    rewrites: bool = False
    blocks_writes: bool = False
    # Tables the statement worked on that its own transaction made: no rows, no readers yet
    # (not counted in the verdicts).
    fresh: tuple[str, ...] = ()


class ObservingDialect(BackupSQL):
    """Runs a statement on a scratch database and says what the server did."""

    def unchecked_constraints(self, connection: Connection) -> set[tuple[str, str]]:
        """(table, constraint) of each constraint of the connection's schema whose rows the
        server has not checked (PostgreSQL's NOT VALID); none where there is no such state."""
        return set()

    # Whether the server can be asked what a statement did (False: nothing to measure).
    observes: ClassVar[bool] = False

    def observe(
        self,
        connection: Connection,
        sql: str,
        *,
        autocommit: bool = False,
        fresh: Collection[str] = (),
    ) -> Observation:
        """Run ``sql`` in the connection's transaction (the caller commits; ``autocommit``:
        what came before is committed and it runs outside a transaction) and observe it;
        ``fresh``: tables made since the revision began (what is done to them costs
        nothing)."""
        run(connection, sql, autocommit=autocommit)
        return Observation()

    def table_names(self, connection: Connection) -> set[str]:
        """The tables of the connection's schema, as its transaction sees them."""
        from sqlalchemy import inspect

        return set(inspect(connection).get_table_names())


def run(connection: Connection, sql: str, *, autocommit: bool = False) -> None:
    """Run one statement as written (a % is a %) in the connection's transaction;
    ``autocommit``: commit that first, and run it on a connection of its own outside any
    transaction."""
    if autocommit:
        connection.commit()
        with connection.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as outside:
            outside.exec_driver_sql(as_written(outside, sql))
        return
    connection.exec_driver_sql(as_written(connection, sql))


def as_written(connection: Connection, sql: str) -> str:
    """``sql`` as the driver must be given it to run it as written: a driver with % markers
    (PyMySQL, psycopg) reads a % as one even without parameters, so each is doubled."""
    marked = connection.dialect.paramstyle in ("format", "pyformat")
    return sql.replace("%", "%%") if marked else sql
