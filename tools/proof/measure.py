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
from tools.core.errors import SchemactlError, first_line
from tools.dialects.observe import Observation
from tools.history.load import Range, load_history
from tools.proof import rows, scratch
from tools.proof.prove import server_version
from tools.scripts.capture import capture_session

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import URL, Connection

    from tools.config import Project
    from tools.dialects import ScriptDialect
    from tools.history.graph import RevisionId
    from tools.history.load import History
    from tools.scripts.capture import Statement


@dataclass(frozen=True)
class Measured:
    """One statement of a revision, and what its server did running it."""

    sql: str
    line: int | None  # the line of the revision file it came from
    server: str  # 'PostgreSQL 15.10 …', as the server says its version
    observed: Observation
    # What the server said refusing it (with rows in every table); nothing after it in the
    # range is measured.
    failed: str | None = None

    @property
    def notable(self) -> bool:
        """Whether a DBA must weigh it: it rewrites or copies a table, stops writes while
        it runs, or fails."""
        return self.failed is not None or self.rewrites or self.blocks_writes

    def as_json(self) -> dict[str, object]:
        seen = self.observed
        return {
            "line": self.line,
            "sql": self.sql,
            "measured": seen.measured,
            "rewritten": list(seen.rewritten),
            "locks": {table: mode for table, mode in seen.locks},
            "algorithm": seen.algorithm,
            "lock": seen.lock,
            "refused": list(seen.refused),
            "failed": self.failed,
            "says": self.words(),
        }

    @property
    def rewrites(self) -> bool:
        """Whether every row of a table was written again (rewritten or copied)."""
        return self.observed.rewrites

    @property
    def blocks_writes(self) -> bool:
        """Whether the statement stops other sessions writing to a table while it runs."""
        return self.observed.blocks_writes

    def words(self) -> str:
        """What was observed, as a finding says it."""
        return f"{self.server}: {self.seen()}"

    @property
    def verdict(self) -> str:
        """In a word or three: refused, rewrites, stops writes, or brief."""
        if self.failed is not None:
            return "refused"
        stops = "stops reads and writes" if self._exclusive() else "stops writes"
        if self.rewrites:
            return "rewrites the table" + (f", {stops}" if self.blocks_writes else "")
        if self.blocks_writes:
            return stops
        return "brief" if self.observed.measured else "not measured"

    def _exclusive(self) -> bool:
        """Whether it went through a table's rows under ACCESS EXCLUSIVE (PostgreSQL) or
        LOCK=EXCLUSIVE (MariaDB): reads wait too."""
        seen = self.observed
        worked = set(seen.rewritten) | set(seen.scanned)
        held = any(mode == "ACCESS EXCLUSIVE" and t in worked for t, mode in seen.locks)
        return held or seen.lock == "EXCLUSIVE"

    def seen(self) -> str:
        """What was observed, without the server's name."""
        seen = self.observed
        if self.failed is not None:
            return f"refused it with rows in every table: {self.failed}"
        if not seen.measured and not seen.fresh:
            return "not measured"
        said = []
        if seen.rewritten:
            said.append(f"rewrote {', '.join(seen.rewritten)}")
        if seen.scanned:
            said.append(f"read every row of {', '.join(seen.scanned)}")
        if seen.locks:
            said.append("held " + ", ".join(f"{mode} on {table}" for table, mode in seen.locks))
        elif not seen.locks_read:
            said.append("ran outside a transaction (its locks are not read)")
        if seen.algorithm:
            said.append(f"took ALGORITHM={seen.algorithm}, LOCK={seen.lock}")
        if seen.fresh:
            said.append(f"worked on {', '.join(seen.fresh)}, made by this revision (no rows)")
        return "; ".join(said) or "changed nothing it could see"


# What a range's revisions did on the server, statement by statement, per revision.
Measurements = dict["RevisionId", tuple[Measured, ...]]


def measure_environment(
    project: Project, environment: Environment, span: Range, history: History | None = None
) -> Measurements:
    """``span`` measured on the scratch server of ``environment``'s dialect (one line when
    none is configured)."""
    kind = environment.kind
    server = project.require_scratch_server(kind)
    return measure_range(project, history or load_history(project), kind, server, span)


def measure_pending(project: Project, history: History, kind: ScriptDialect) -> Measurements:
    """The revisions no recorded release contains yet, measured in apply order from where
    the releases leave the database ({} for a kind with nothing to measure, or nothing
    pending; NoScratchServer when it needs a server and none is set)."""
    from tools.history.load import heads_of
    from tools.proof.stairway import applied_before, pending

    todo = pending(project, history)
    if not todo or not kind.observes:
        return {}
    server = project.require_scratch_server(kind)
    graph = history.graph
    start = heads_of(graph, applied_before(graph, todo))
    span = Range(start, heads_of(graph, set(graph.order)), tuple(todo))
    return measure_range(project, history, kind, server, span)


def observed_at(measured: Measurements) -> dict[tuple[RevisionId, int | None], str]:
    """What the server did, per (revision, line of its file): what a finding on that line
    was measured to be (several statements on one line, said together)."""
    found: dict[tuple[RevisionId, int | None], list[Measured]] = {}
    for rev, statements in measured.items():
        for m in statements:
            found.setdefault((rev, m.line), []).append(m)
    return {
        where: f"{ms[0].server}: " + "; then ".join(m.seen() for m in ms)
        for where, ms in found.items()
    }


def measurements_json(measured: Measurements) -> dict[str, list[dict[str, object]]]:
    return {rev: [m.as_json() for m in found] for rev, found in measured.items()}


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
    span = Range(history.graph[revision].parents, (revision,), (revision,))
    return measure_range(project, history, kind, server, span, rows_per_table=rows_per_table)[
        revision
    ]


def measure_range(
    project: Project,
    history: History,
    kind: ScriptDialect,
    server: URL | None,
    span: Range,
    *,
    rows_per_table: int = 3,
) -> Measurements:
    """Each revision of ``span`` measured in apply order on one scratch database of
    ``kind`` (see measure_at), dropped afterwards."""
    with scratch.scratch_database(kind, server, prefix="schemactl_measure") as url:
        return measure_at(project, history, kind, url, span, rows_per_table=rows_per_table)


def measure_at(
    project: Project,
    history: History,
    kind: ScriptDialect,
    url: URL,
    span: Range,
    *,
    rows_per_table: int = 3,
    keep_going: bool = False,
) -> Measurements:
    """Each revision of ``span`` measured in apply order on the empty database ``url``:
    brought to the span's start, ``rows_per_table`` rows put in every table, then each
    revision's upgrade statements run and observed one by one as its script runs them, in
    one transaction per revision where the database has them (a revision that does not
    render offline is measured as nothing). After a revision the server refuses, nothing
    more is measured (its schema is not the script's), unless ``keep_going``: for
    revisions known not to touch each other's tables."""
    environment = Environment(name="scratch", dialect=kind.name, settings=kind.settings)
    session = capture_session(
        history, kind.name, [(rev, "upgrade") for rev in span.revisions], environment=environment
    )
    scratch.run_statements(url, kind.scratch_setup())
    cfg = scratch.scratch_config(project, kind, url)
    for head in span.start:
        scratch.upgrade(cfg, head)
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
            measured: Measurements = {}
            for rev in span.revisions:
                try:
                    statements = session.get(rev, "upgrade").statements
                except SchemactlError:
                    statements = ()
                found = measured[rev] = _observed(connection, kind, version, statements)
                if found and found[-1].failed is not None and not keep_going:
                    break  # the schema after it is not the script's: stop here
            return measured
    finally:
        engine.dispose()


def _observed(
    connection: Connection, kind: ScriptDialect, version: str, statements: Sequence[Statement]
) -> tuple[Measured, ...]:
    """Each statement run and observed in one transaction, up to the first the server
    refuses (the transaction is then rolled back, as the script's would be)."""
    from sqlalchemy.exc import DBAPIError

    found = []
    before = kind.table_names(connection) if statements else set()
    for s in statements:
        try:
            fresh = kind.table_names(connection) - before  # made by this revision
            seen = kind.observe(connection, s.sql, autocommit=s.autocommit, fresh=fresh)
        except DBAPIError as err:
            connection.rollback()
            reason = kind.describe_error(err.orig) if err.orig is not None else first_line(err)
            found.append(Measured(s.sql, s.line, version, Observation(), failed=reason))
            return tuple(found)
        found.append(Measured(s.sql, s.line, version, seen))
    connection.commit()
    return tuple(found)
