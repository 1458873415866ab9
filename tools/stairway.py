"""The stairway: every revision not yet released goes up, down and up again on a real database.

`schemactl check` runs it on a scratch database of every kind the environments name, so a
downgrade that only one server refuses (MariaDB will not drop an index a foreign key needs)
is caught before any release. Released revisions are applied once to reach the first
unreleased one; from there each revision in apply order is upgraded, its schema noted,
downgraded (the schema must be what it was before), and upgraded again (the schema must be
what it was after). Each step runs exactly that one revision, whatever other branches the
database holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools import scratch
from tools.history import heads_of
from tools.snapshot import compare
from tools.text import listing, shown_file

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from tools.config import Project
    from tools.dialects import ScriptDialect
    from tools.graph import RevisionId
    from tools.history import History


def pending(project: Project, history: History) -> list[RevisionId]:
    """The revisions no recorded release contains yet, in apply order."""
    from tools.release import released_revisions

    released = released_revisions(project)
    return [rev for rev in history.graph.order if rev not in released]


def stairway(
    project: Project, history: History, kind: ScriptDialect, server: URL | None
) -> list[str]:
    """Up, down and up again for every pending revision on a scratch database of ``kind``;
    one message per problem (the walk stops at the first revision that fails)."""
    graph = history.graph
    todo = pending(project, history)
    if not todo:
        return []
    released = set(graph.order) - set(todo)
    with scratch.scratch_database(kind, server, prefix="schemactl_stairway") as url:
        cfg = scratch.scratch_config(project, kind, url)
        ignore = scratch.ignored_tables(cfg)
        for head in heads_of(graph, released):
            scratch.upgrade(cfg, head)
        problems: list[str] = []
        for rev in todo:
            where = f"{rev} ({shown_file(graph[rev].path)})"
            try:
                before = scratch.schema_of(url, ignore)
                scratch.step(cfg, rev, "upgrade")
                after = scratch.schema_of(url, ignore)
                # Down must give the schema from before the upgrade, up again the one after.
                for direction, expected, what in (
                    ("downgrade", before, f"the downgrade of {where} does not undo its upgrade"),
                    (
                        "upgrade",
                        after,
                        f"upgrading {where} again after its downgrade gives another schema",
                    ),
                ):
                    scratch.step(cfg, rev, direction)
                    differs = compare(expected, scratch.schema_of(url, ignore))
                    if differs:
                        problems.append(
                            f"{what} on {kind.title} ({listing(differs)}); fix its downgrade"
                        )
                        break
            except scratch.ScratchStepFailed as err:
                problems.append(f"{err}; fix it in {shown_file(graph[rev].path)}")
            if problems:
                break  # what follows stands on a database in an unknown state
        return problems
