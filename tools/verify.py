"""`schemactl verify`: does a live database hold exactly the schema its revision promises?

The expected schema is built for real: a scratch database on the same server (dropped
afterwards) is upgraded to the revisions the live database's version table names, and both
are reflected and compared. The audit table tells which revision files were applied with
which sha256, so a file edited since is found too.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tools.config import AUDIT_TABLE, TOOL_TABLES, Environment, redact
from tools.errors import DatabaseError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from tools.config import Project
    from tools.graph import RevisionId


@dataclass
class Verification:
    environment: Environment
    url: str  # redacted
    current: tuple[RevisionId, ...]
    drift: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    audit_rows: int | None = None  # None: no audit table (migrated online, not by scripts)

    @property
    def ok(self) -> bool:
        return not self.drift and not self.edited

    def as_json(self) -> dict[str, object]:
        return {
            "environment": self.environment.name,
            "revisions": list(self.current),
            "ok": self.ok,
            "drift": self.drift,
            "edited": self.edited,
            "audit_rows": self.audit_rows,
        }


def verify(project: Project, env: str | None = None) -> Verification:
    from sqlalchemy import create_engine, pool

    from tools import migrate
    from tools.graph import load_graph
    from tools.render import sha256_of
    from tools.snapshot import snapshot

    environment = project.environment(env)
    url = environment.url()
    graph = load_graph(project.alembic_config())
    have = migrate.applied(project, environment.name)  # refuses revisions it does not know
    current = migrate.current_heads(url)
    report = Verification(environment, redact(url), current)
    ignore = {migrate.VERSION_TABLE, *TOOL_TABLES}
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with migrate.translate_errors(url), engine.connect() as connection:
            live = snapshot(connection, ignore)
            audit = _audit(connection)
    finally:
        engine.dispose()
    with _scratch_database(environment, url) as scratch_url:
        scratch = Environment(
            name=f"{environment.name}-scratch",
            dialect=environment.dialect,
            default_url=scratch_url.render_as_string(hide_password=False),
        )
        for head in current:
            migrate.upgrade_url(project, scratch, scratch_url, head)
        engine = create_engine(scratch_url, poolclass=pool.NullPool)
        try:
            with engine.connect() as connection:
                expected = snapshot(connection, ignore)
        finally:
            engine.dispose()
    report.drift = describe_drift(expected, live)
    if audit is not None:
        report.audit_rows = len(audit)
        applied: dict[str, tuple[str, object]] = {}
        for revision, direction, sha, applied_at in audit:
            if direction == "upgrade":
                applied[revision] = (sha, applied_at)
        for rev in graph.order:
            if rev in have and rev in applied:
                sha, when = applied[rev]
                now = sha256_of(graph[rev].path)
                if now != sha:
                    report.edited.append(
                        f"versions/{graph[rev].path.name} changed after it was applied "
                        f"(applied {when}: sha256 {sha[:12]}..., now {now[:12]}...)"
                    )
    return report


def _audit(connection: Any) -> list[tuple[str, str, str, object]] | None:
    from sqlalchemy import inspect, text

    if AUDIT_TABLE not in inspect(connection).get_table_names():
        return None
    rows = connection.execute(
        text(
            f"SELECT revision, direction, revision_sha256, applied_at FROM {AUDIT_TABLE} "
            "ORDER BY id"
        )
    )
    return [tuple(row) for row in rows]


@contextmanager
def _scratch_database(environment: Environment, url: URL) -> Iterator[URL]:
    """An empty database next to the live one, dropped again afterwards."""
    import tempfile
    from pathlib import Path

    from sqlalchemy import create_engine, pool, text

    if environment.dialect == "sqlite":
        with tempfile.TemporaryDirectory(prefix="schemactl-verify-") as folder:
            yield url.set(database=str(Path(folder) / "expected.db"))
        return
    from tools.dialects import script_dialect

    dialect = script_dialect(environment.dialect)
    name = f"schemactl_verify_{uuid.uuid4().hex[:12]}"
    engine = create_engine(url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(dialect.create_database(name)))
    except Exception as err:
        engine.dispose()
        reason = str(getattr(err, "orig", err)).strip().splitlines()[0]
        raise DatabaseError(
            f"cannot create a scratch database on {redact(url)} to build the expected schema "
            f"({reason}); verify needs the CREATE DATABASE privilege there"
        ) from err
    try:
        yield url.set(database=name)
    finally:
        with engine.connect() as connection:
            connection.execute(text(dialect.drop_database(name)))
        engine.dispose()


def describe_drift(expected: dict[str, Any], live: dict[str, Any]) -> list[str]:
    """Each way the live schema differs from the expected one, in words a DBA uses."""
    found: list[str] = []
    for table in sorted(set(expected) | set(live)):
        if table not in live:
            found.append(f"missing table {table}")
            continue
        if table not in expected:
            found.append(f"extra table {table}")
            continue
        want, have = expected[table], live[table]
        want_columns = {c[0]: c for c in want["columns"]}
        have_columns = {c[0]: c for c in have["columns"]}
        for name in sorted(set(want_columns) | set(have_columns)):
            if name not in have_columns:
                found.append(f"missing column {table}.{name}")
            elif name not in want_columns:
                _, type_, nullable = have_columns[name]
                null = "nullable" if nullable else "NOT NULL"
                found.append(f"extra column {table}.{name} ({type_}, {null})")
            elif want_columns[name] != have_columns[name]:
                _, want_type, want_null = want_columns[name]
                _, have_type, have_null = have_columns[name]
                if want_type != have_type:
                    found.append(f"column {table}.{name} is {have_type}, expected {want_type}")
                if want_null != have_null:
                    expected_null = "nullable" if want_null else "NOT NULL"
                    found.append(f"column {table}.{name} should be {expected_null}")
        if want["pk"] != have["pk"]:
            found.append(f"primary key of {table} is {have['pk']}, expected {want['pk']}")
        for aspect, word in (
            ("indexes", "index"),
            ("uniques", "unique constraint"),
            ("fks", "foreign key"),
        ):
            want_items = {item[0]: item for item in want[aspect]}
            have_items = {item[0]: item for item in have[aspect]}
            for name in sorted(set(want_items) | set(have_items)):
                if name not in have_items:
                    found.append(f"missing {word} {name} on {table}")
                elif name not in want_items:
                    found.append(f"extra {word} {name} on {table}")
                elif want_items[name] != have_items[name]:
                    found.append(f"{word} {name} on {table} differs")
    return found
