"""`schemactl backups`: the backup tables a database holds, and the script that drops old ones.

Listing reads the live database (each backup's rows and size, and the release whose revision
took it, from the environment's manifest). Purging is rendered offline, like every script a
DBA applies: the backups the releases before a given one take (scripts.backup_plan plans them again
from the history), each dropped if it is there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tools.config import redact
from tools.core.errors import SchemactlError
from tools.core.files import OutputError, write_files
from tools.core.text import comment
from tools.history.load import load_history, plan_range
from tools.live.database_errors import translate_errors
from tools.scripts.backup_plan import plan_backups, revision_of
from tools.scripts.manifest import BACKUPS_FROM_FORMAT, read_manifest

if TYPE_CHECKING:
    from pathlib import Path

    from tools.config import Environment, Project


@dataclass(frozen=True)
class Kept:
    name: str  # as the dialect names it (tools.scripts.backup_plan.backup_name)
    table: str  # as SQL writes it
    revision: str | None  # the revision (its first 12 characters) that took it
    release: str | None  # the recorded release holding that revision
    rows: int
    size: int | None  # bytes, where the database says

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "table": self.table,
            "revision": self.revision,
            "release": self.release,
            "rows": self.rows,
            "bytes": self.size,
        }


@dataclass(frozen=True)
class Listing:
    environment: Environment
    url: str  # redacted
    backups: tuple[Kept, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "environment": self.environment.name,
            "backups": [b.as_json() for b in self.backups],
        }


def list_backups(project: Project, environment: Environment) -> Listing:
    """The backup tables of the environment's database, by name."""
    from sqlalchemy import text

    kind = environment.kind
    url = environment.url()
    if not kind.exists(url):
        return Listing(environment, redact(url), ())
    releases = read_manifest(project, environment).releases
    engine = kind.engine(url)
    found = []
    try:
        with translate_errors(url), engine.connect() as connection:
            for name, size in connection.execute(text(kind.backups_sql())).all():
                logical = str(name).removeprefix(kind.backup_prefix)
                table = kind.backup_table(logical)
                rows = connection.exec_driver_sql(kind.count_backup(logical).rstrip(";")).scalar()
                revision = revision_of(logical)
                release = next(
                    (
                        r.name
                        for r in releases
                        if revision and any(rev.startswith(revision) for rev in r.revisions)
                    ),
                    None,
                )
                found.append(Kept(logical, table, revision, release, int(rows or 0), _int(size)))
    finally:
        engine.dispose()
    return Listing(environment, redact(url), tuple(found))


def _int(value: object) -> int | None:
    return None if value is None else int(str(value))


class NoSuchRelease(SchemactlError):
    pass


def purge_script(project: Project, environment: Environment, before: int) -> tuple[str, list[str]]:
    """The script that drops the backups the environment's releases numbered below
    ``before`` take, and those backups' names. Rendered offline; applied by the DBA."""

    releases = read_manifest(project, environment).releases
    if not releases:
        raise NoSuchRelease(
            f"{environment.name} has no recorded releases, so no backups to purge; releases "
            f"are rendered with `schemactl release --env {environment.name}`"
        )
    if before < 1 or before > len(releases) + 1:
        raise NoSuchRelease(
            f"--purge-before {before}: {environment.name} has releases 1 to {len(releases)}; "
            "give the number of the oldest release whose backups to keep"
        )
    history = load_history(project)
    kind = environment.kind
    older = [r for r in releases[: before - 1] if r.format >= BACKUPS_FROM_FORMAT]
    names: list[tuple[str, str]] = []  # (release, backup name)
    for rel in older:
        span = plan_range(history.graph, rel.start, rel.end)
        for backups in plan_backups(
            history, environment.dialect, span.revisions, environment=environment
        ).values():
            names += [(rel.name, b.name) for b in backups]
    lines = [
        "-- " + "=" * 77,
        f"-- schemactl: drop the backups of {environment.name}'s releases before "
        f"{before:04d} ({kind.name})",
        "-- " + "=" * 77,
        "-- What the destructive steps of these releases kept for their rollback scripts; once",
        "-- dropped, rolling those releases back brings their structure back, empty.",
        f"-- Apply with ({kind.client}):",
        f"--   {comment(kind.apply_command('purge.sql'), limit=10_000)}",
        "-- Each table is dropped if it is there (a rollback applied already dropped its own).",
    ]
    lines += [f"--   {comment(rel)}  {comment(kind.backup_table(n))}" for rel, n in names]
    if not names:
        lines.append("--   (none: these releases destroy nothing, or predate backups)")
    lines += ["-- " + "=" * 77, ""]
    body = [*kind.preamble(), *kind.begin(), *kind.lock()]
    body += [line for _, n in names for line in kind.drop_backup(n, if_exists=True)]
    body += [*kind.commit(), *kind.unlock()]
    return "\n".join(lines + body) + "\n", [n for _, n in names]


def write_purge(path: Path, script: str) -> None:
    """Write a purge script whole (a reader sees the old file or the new)."""

    if path.is_dir():
        raise OutputError(f"{path} is a folder; give --out the purge script's file name")
    write_files(path.parent, {path.name: script})
