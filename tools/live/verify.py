"""`schemactl verify`: does a live database hold exactly the schema its revision promises?

The expected schema is built for real: a scratch database on the same server (dropped
afterwards) is upgraded to the revisions the live database's version table names, and both
are reflected and compared. The audit table tells which revision files were applied with
which sha256, so a file edited since is found too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tools.config import Environment, redact
from tools.core.errors import DatabaseError, MissingDatabaseUrl, SchemactlError
from tools.core.text import naming_database, shown_file
from tools.dialects import VERSION_TABLE
from tools.history.load import load_graph, sha256_of
from tools.live import migrate
from tools.live.audit import read as read_audit
from tools.live.database_errors import translate_errors
from tools.proof import scratch
from tools.proof.snapshot import compare, snapshot

if TYPE_CHECKING:
    from tools.config import Project
    from tools.history.graph import RevisionId
    from tools.live.audit import AuditRow


@dataclass
class Verification:
    environment: Environment
    url: str  # redacted
    current: tuple[RevisionId, ...]
    drift: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    # Where the audit's record and alembic_version disagree (a script's rollback, then a
    # version moved by hand: the schema may match a revision the audit says was undone).
    disagree: list[str] = field(default_factory=list)
    audit_rows: int | None = None  # None: no audit table (migrated online, not by scripts)

    @property
    def ok(self) -> bool:
        return not self.drift and not self.edited and not self.disagree

    @property
    def problems(self) -> int:
        return len(self.drift) + len(self.edited) + len(self.disagree)

    def as_json(self) -> dict[str, object]:
        return {
            "environment": self.environment.name,
            "revisions": list(self.current),
            "ok": self.ok,
            "drift": self.drift,
            "edited": self.edited,
            "audit_disagrees": self.disagree,
            "audit_rows": self.audit_rows,
        }


@dataclass(frozen=True)
class Outcome:
    """One database's verification, or why it could not be verified."""

    database: str
    report: Verification | None
    error: str | None = None  # one line, its advice naming the database
    # Not verified because this environment gives it no URL (its variable unset): skipped,
    # not failed, when the others are verified.
    skipped: bool = False


def verify_each(projects: list[Project], env: str | None = None) -> list[Outcome]:
    """``verify`` for each database of a project (``projects``: one per database); one that
    cannot be verified (no URL, no database there) does not hide the others."""

    outcomes = []
    for project in projects:
        named = None if project.default_database else project.display_name
        shown = project.display_name
        try:
            outcomes.append(Outcome(shown, verify(project, project.environment(env))))
        except MissingDatabaseUrl as err:
            said = naming_database(str(err), named)
            outcomes.append(Outcome(shown, None, said, skipped=True))
        except SchemactlError as err:
            outcomes.append(Outcome(shown, None, naming_database(str(err), named)))
    return outcomes


def verify(project: Project, environment: Environment) -> Verification:
    url = environment.url()
    if not environment.kind.exists(url):
        raise DatabaseError(
            f"{redact(url)}: no database there (the file does not exist); check the URL, or "
            f"create it with `schemactl --env {environment.name} upgrade`"
        )
    graph = load_graph(project.alembic_config())
    have = migrate.applied(project, environment)  # refuses revisions it does not know
    current = migrate.current_heads(url, project, environment)
    report = Verification(environment, redact(url), current)
    engine = environment.kind.engine(url)
    try:
        with translate_errors(url), engine.connect() as connection:
            live = snapshot(connection, scratch.IGNORED)
            rows = read_audit(connection, environment.kind)
    finally:
        engine.dispose()
    kind = environment.kind
    with scratch.scratch_database(kind, url, prefix="schemactl_verify") as scratch_url:
        cfg = scratch.scratch_config(project, kind, scratch_url)
        for head in current:
            scratch.upgrade(cfg, head)
        expected = scratch.schema_of(scratch_url)
    report.drift = [str(difference) for difference in compare(expected, live)]
    if rows is not None:
        report.audit_rows = len(rows)
        applied = {row.revision: row for row in rows if row.direction == "upgrade"}
        report.disagree = _disagreements(graph, have, rows)
        for rev in graph.order:
            if rev in have and rev in applied:
                row = applied[rev]
                now = sha256_of(graph[rev].path)
                if now != row.sha256:
                    report.edited.append(
                        f"{shown_file(graph[rev].path)} changed after it was applied "
                        f"(applied {row.when}: sha256 {row.sha256[:12]}..., now {now[:12]}...)"
                    )
    return report


def _disagreements(graph: Any, have: set[RevisionId], rows: list[AuditRow]) -> list[str]:
    """Each revision whose last audit row says one thing and alembic_version another. A
    revision with no audit row at all went in some other way (before the audit table, or by
    plain Alembic): nothing to compare."""
    last: dict[str, tuple[str, object]] = {}
    for row in rows:
        if row.direction == "stamp":
            last.clear()  # a stamp sets the version on purpose: what came before is settled
        last[row.revision] = (row.direction, row.when)
    found = []
    for rev in graph.order:
        if rev not in last:
            continue
        direction, when = last[rev]
        if direction == "downgrade" and rev in have:
            found.append(
                f"{rev}: the audit's last row undoes it ({when}) but {VERSION_TABLE} has it; "
                "something moved the version without a script (alembic stamp?)"
            )
        elif direction == "upgrade" and rev not in have:
            found.append(
                f"{rev}: the audit's last row applies it ({when}) but {VERSION_TABLE} does not "
                "have it; something moved the version without a script (alembic stamp?)"
            )
    return found
