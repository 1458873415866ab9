"""Measured verdicts: what a revision's statements do on the server itself.

The revision's upgrade statements, as its script runs them, are run one by one on a scratch
database brought to the revision's starting schema, with rows in every table, and each
server is asked what it did (tools.dialects.observe): on PostgreSQL, which tables were
rewritten and which locks the statement held; on MariaDB, the cheapest algorithm and lock
it accepts. Lint's rules guess these offline; this is what they are checked against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tools.config import Environment
from tools.proof import rows, scratch
from tools.proof.prove import server_version
from tools.scripts.capture import capture_session

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from tools.config import Project
    from tools.dialects import ScriptDialect
    from tools.dialects.observe import Observation
    from tools.history.graph import RevisionId
    from tools.history.load import History

# PostgreSQL's lock modes that stop other sessions writing to the table while held.
BLOCKS_WRITES = frozenset({"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"})


@dataclass(frozen=True)
class Measured:
    """One statement of a revision, and what its server did running it."""

    sql: str
    line: int | None  # the line of the revision file it came from
    server: str  # 'PostgreSQL 15.10 …', as the server says its version
    observed: Observation

    @property
    def rewrites(self) -> bool:
        """Whether every row of a table was written again (PostgreSQL) or the table copied
        (MariaDB's ALGORITHM=COPY)."""
        return bool(self.observed.rewritten) or self.observed.algorithm == "COPY"

    @property
    def blocks_writes(self) -> bool:
        """Whether the statement stops other sessions writing to a table while it runs."""
        held = {mode for _, mode in self.observed.locks}
        return bool(held & BLOCKS_WRITES) or self.observed.lock in ("SHARED", "EXCLUSIVE")

    def words(self) -> str:
        """What was observed, as a finding says it."""
        seen = self.observed
        if not seen.measured:
            return f"{self.server}: not measured"
        said = []
        if seen.rewritten:
            said.append(f"rewrote {', '.join(seen.rewritten)}")
        if seen.locks:
            said.append("held " + ", ".join(f"{mode} on {table}" for table, mode in seen.locks))
        elif not seen.locks_read:
            said.append("ran outside a transaction (its locks are not read)")
        if seen.algorithm:
            said.append(f"took ALGORITHM={seen.algorithm}, LOCK={seen.lock}")
        return f"{self.server} " + ("; ".join(said) or "changed nothing it could see")


def measure_revision(
    project: Project,
    history: History,
    kind: ScriptDialect,
    server: URL | None,
    revision: RevisionId,
    *,
    rows_per_table: int = 3,
) -> tuple[Measured, ...]:
    """Each statement of ``revision``'s upgrade, run on a scratch database of ``kind`` at the
    revision's starting schema with ``rows_per_table`` rows in every table, and what the
    server did."""
    environment = Environment(name="scratch", dialect=kind.name, settings=kind.settings)
    session = capture_session(history, kind.name, [(revision, "upgrade")], environment=environment)
    statements = session.get(revision, "upgrade").statements
    with scratch.scratch_database(kind, server, prefix="schemactl_measure") as url:
        scratch.run_statements(url, kind.scratch_setup())
        cfg = scratch.scratch_config(project, kind, url)
        for parent in history.graph[revision].parents:
            scratch.upgrade(cfg, parent)
        version = server_version(kind, url)
        engine = kind.engine(kind.session_url(url))
        try:
            with engine.connect() as connection:
                tables = rows.data_tables(connection, scratch.IGNORED)
                rows.seed(
                    connection,
                    list(tables.values()),
                    rows=rows_per_table,
                    text_holds_nul=kind.text_holds_nul,
                )
                connection.commit()
                return tuple(
                    Measured(
                        s.sql,
                        s.line,
                        version,
                        kind.observe(connection, s.sql, autocommit=s.autocommit),
                    )
                    for s in statements
                )
        finally:
            engine.dispose()
