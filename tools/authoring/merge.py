"""`schemactl merge`: analyse the heads for conflicts, then write the merge revision.

The analysis (authoring.conflicts) only reports and the writing (authoring.revisions) only writes;
this module decides between them, so neither needs the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tools.authoring.conflicts import Analysis, analyse
from tools.authoring.revisions import BranchError, Written, write_merge
from tools.history.load import load_history, resolve_heads

if TYPE_CHECKING:
    from tools.config import Project


@dataclass(frozen=True)
class MergeResult:
    analysis: Analysis
    written: Written | None  # None: conflicts stopped it


def merge_heads(
    project: Project,
    heads: list[str] | None = None,
    *,
    message: str | None = None,
    force: bool = False,
    check_order: bool = True,
) -> MergeResult:
    """Analyse the heads for conflicts; write the merge revision if there are none (or force)."""
    history = load_history(project)
    graph = history.graph
    chosen = resolve_heads(history, heads) if heads else graph.heads
    not_heads = [rev for rev in chosen if not graph[rev].is_head]
    if not_heads:
        raise BranchError(
            f"{', '.join(not_heads)} is not a head; merge heads only (see `schemactl graph`)"
        )
    if len(chosen) < 2:
        what = f"one head ({chosen[0]})" if chosen else "no head (base)"
        verb = "that names" if heads else "there is"
        raise BranchError(f"nothing to merge: {verb} {what}; a merge joins two or more")
    analysis = analyse(project, tuple(chosen), check_order=check_order)
    if not analysis.ok and not force:
        return MergeResult(analysis, None)
    return MergeResult(analysis, write_merge(project, tuple(chosen), message))
