"""A database's status as `schemactl status` shows it: every revision in apply order, marked
applied or not, with its labels and its place in the graph (branch point, merge, head).

Made from a graph and the revisions a database has, and written for people, with nothing
heavier than the graph: the CLI and the warm path (tools.entry) print the same text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tools.core.text import inline, labels_text

if TYPE_CHECKING:
    from collections.abc import Sequence, Set

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


def derived(graph: Graph) -> dict[str, Any]:
    """What status shows of a graph whatever a database has, as JSON (kept between runs by
    tools.history.kept): each revision in apply order, what it stands on (parents and
    dependencies, as row numbers), its row after the mark, and the heads."""
    index = {rev: at for at, rev in enumerate(graph.order)}
    return {
        "order": list(graph.order),
        "below": [
            [index[p] for p in (*graph[rev].parents, *graph[rev].dependencies)]
            for rev in graph.order
        ],
        "rows": "\n".join(row_bodies(status_rows(graph, set()))),
        "heads": list(graph.heads),
    }


def shown(
    kept: dict[str, Any], env: Environment, url: str, current: Sequence[RevisionId]
) -> list[str] | None:
    """format_status's lines from what ``derived`` gave, for a database at ``current``;
    None when it does not fit (a revision this history has not got)."""
    order, below, bodies = kept["order"], kept["below"], kept["rows"].split("\n")
    if not len(order) == len(below) == len(bodies):
        return None
    index = {rev: at for at, rev in enumerate(order)}
    if any(rev not in index for rev in current):
        return None
    applied = [False] * len(order)
    stack = [index[rev] for rev in current]
    while stack:  # Graph.ancestors, on row numbers
        at = stack.pop()
        if not applied[at]:
            applied[at] = True
            stack.extend(below[at])
    return heading(env, url, current, sum(applied), bodies) + marked(bodies, applied)


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
    bodies = row_bodies(report.rows)
    lines = heading(report.environment, report.url, report.current, report.applied_count, bodies)
    lines += marked(bodies, [row.applied for row in report.rows])
    return "\n".join(lines)


def heading(
    env: Environment, url: str, current: Sequence[RevisionId], applied: int, rows: Sequence[str]
) -> list[str]:
    """The two lines above the rows: the environment, and where its database is."""
    return [
        f"Environment {titled(env)}: {url}",
        f"Database at {', '.join(current) or 'base (empty)'}; "
        f"{applied} of {len(rows)} revisions applied",
    ]


def row_bodies(rows: Sequence[StatusRow]) -> list[str]:
    """Each row as shown after its [X] or [ ] mark: all that does not depend on a database
    (tools.entry keeps them between runs)."""
    # What a revision file says is shown inert: a control character or an escape sequence in a
    # message or label (a terminal's title, colours) becomes a space, as graph shows it.
    labels = [inline(labels_text(row.labels)) for row in rows]
    width = max(map(len, labels), default=0)
    bodies = []
    for row, shown in zip(rows, labels, strict=True):
        branch = f"{shown.ljust(width)}  " if width else ""
        markers = f"  ({', '.join(row.markers)})" if row.markers else ""
        message = inline(row.message)
        bodies.append(f"{row.depth:04d} {row.revision}  {branch}{message}{markers}")
    return bodies


def marked(bodies: Sequence[str], applied: Sequence[bool]) -> list[str]:
    return [f"{'[X]' if on else '[ ]'} {body}" for body, on in zip(bodies, applied, strict=True)]
