"""A database's status as `schemactl status` shows it: every revision in apply order, marked
applied or not, with its labels and its place in the graph (branch point, merge, head).

Made from a graph and the revisions a database has, and written for people, with nothing
heavier than the graph: the CLI and the warm path (tools.entry) print the same text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tools.core.text import labels_text

if TYPE_CHECKING:
    from collections.abc import Set

    from tools.config import Environment
    from tools.history.graph import Graph, RevisionId


@dataclass(frozen=True)
class StatusRow:
    revision: RevisionId
    depth: int
    applied: bool
    # Every branch label Alembic gives it, its line's first (Graph.labels_shown).
    labels: tuple[str, ...]
    message: str
    markers: tuple[str, ...]


@dataclass(frozen=True)
class Status:
    environment: Environment
    url: str  # redacted
    current: tuple[RevisionId, ...]
    rows: tuple[StatusRow, ...]
    # The history's heads: more than one is work nobody has merged yet.
    heads: tuple[RevisionId, ...] = ()

    @property
    def applied_count(self) -> int:
        return sum(row.applied for row in self.rows)

    def as_json(self) -> dict[str, object]:
        return {
            **self.environment.as_json(),
            "url": self.url,
            "current": list(self.current),
            "heads": list(self.heads),
            "pending": self.pending,
            "revisions": [
                {
                    "revision": row.revision,
                    "applied": row.applied,
                    "labels": list(row.labels),
                    "message": row.message,
                    "markers": list(row.markers),
                }
                for row in self.rows
            ],
        }

    @property
    def pending(self) -> int:
        return len(self.rows) - self.applied_count


def status_rows(graph: Graph, have: Set[RevisionId]) -> tuple[StatusRow, ...]:
    """Every revision of ``graph`` in apply order, applied where it is in ``have``."""
    return tuple(
        StatusRow(
            revision=rev,
            depth=graph[rev].depth,
            applied=rev in have,
            labels=graph.labels_shown(rev),
            message=graph[rev].message.splitlines()[0] if graph[rev].message else "",
            markers=_markers(graph, rev),
        )
        for rev in graph.order
    )


def _markers(graph: Graph, rev: RevisionId) -> tuple[str, ...]:
    revision = graph[rev]
    flags = (
        ("branchpoint", revision.is_branch_point),
        ("merge", revision.is_merge),
        ("head", revision.is_head),
    )
    return tuple(name for name, on in flags if on)


def titled(env: Environment) -> str:
    """An environment as output names it: 'dev (sqlite)', and the database when it is not the
    project's first: 'dev (sqlite), database reporting'."""
    return f"{env.name} ({env.dialect})" + (f", database {env.database}" if env.database else "")


def format_status(report: Status) -> str:
    env = report.environment
    lines = [
        f"Environment {titled(env)}: {report.url}",
        f"Database at {', '.join(report.current) or 'base (empty)'}; "
        f"{report.applied_count} of {len(report.rows)} revisions applied",
    ]
    labels = [labels_text(row.labels) for row in report.rows]
    width = max(map(len, labels), default=0)
    for row, shown in zip(report.rows, labels, strict=True):
        mark = "[X]" if row.applied else "[ ]"
        branch = f"{shown.ljust(width)}  " if width else ""
        markers = f"  ({', '.join(row.markers)})" if row.markers else ""
        lines.append(f"{mark} {row.depth:04d} {row.revision}  {branch}{row.message}{markers}")
    return "\n".join(lines)
