"""The revision graph: which revisions exist, in what order they apply, where it branches.

Pure: built from revision headers (id, parents, labels, message, file name), it touches no
file and no database. Loading the files is tools.history's job.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TypeAlias

from tools.errors import SchemactlError
from tools.text import comment, mermaid_label

RevisionId: TypeAlias = str


class HistoryError(SchemactlError):
    """The revision files do not form a usable history (unloadable file, cycle, lost parent)."""


@dataclass(frozen=True)
class Revision:
    id: RevisionId
    parents: tuple[RevisionId, ...]
    children: tuple[RevisionId, ...]
    message: str
    # The labels this revision declares itself (Alembic also lends them to descendants).
    labels: tuple[str, ...]
    path: Path
    depth: int

    @property
    def is_head(self) -> bool:
        return not self.children

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    @property
    def is_branch_point(self) -> bool:
        return len(self.children) > 1


@dataclass(frozen=True)
class Graph:
    revisions: dict[RevisionId, Revision]
    # Every revision after all of its parents; a feature branch stays contiguous.
    order: tuple[RevisionId, ...]
    _lines: dict[RevisionId, str | None] = field(default_factory=dict, repr=False, compare=False)

    def __getitem__(self, revision: RevisionId) -> Revision:
        return self.revisions[revision]

    @property
    def heads(self) -> tuple[RevisionId, ...]:
        return tuple(r for r in self.order if self.revisions[r].is_head)

    @cached_property
    def labels(self) -> dict[str, RevisionId]:
        """Each branch label and the revision that declares it."""
        return {label: r for r in self.order for label in self.revisions[r].labels}

    def ancestors(self, revisions: Iterable[RevisionId]) -> set[RevisionId]:
        """The given revisions and everything they stand on."""
        seen: set[RevisionId] = set()
        stack = list(revisions)
        while stack:
            rev = stack.pop()
            if rev not in seen:
                seen.add(rev)
                stack.extend(self.revisions[rev].parents)
        return seen

    def line_of(self, revision: RevisionId) -> str | None:
        """The line of history a revision belongs to: None for the trunk, else the branch label
        its line started with (or, for a line nobody labelled, the id of its first revision).

        At a branch point, the one unlabelled child (if there is exactly one) carries the trunk
        on; labelled children start branches. A merge brings its lines back to the trunk.
        """
        walked: list[RevisionId] = []
        current = revision
        while current not in self._lines:
            here = self.revisions[current]
            if here.labels:
                self._lines[current] = here.labels[0]
            elif len(here.parents) != 1:
                self._lines[current] = None
            elif self.revisions[here.parents[0]].is_branch_point:
                siblings = self.revisions[here.parents[0]].children
                unlabelled = [c for c in siblings if not self.revisions[c].labels]
                self._lines[current] = None if len(unlabelled) == 1 else current
            else:
                # Same line as the parent: remembered for the whole walk, so a long history
                # is walked once, not once per revision.
                walked.append(current)
                current = here.parents[0]
        for rev in walked:
            self._lines[rev] = self._lines[current]
        return self._lines[revision]

    def branch_of(self, revision: RevisionId) -> str | None:
        """The branch label of a revision's line (None on the trunk or an unlabelled line)."""
        line = self.line_of(revision)
        return line if line in self.labels else None

    def trunk_tips(self) -> tuple[RevisionId, ...]:
        """Trunk revisions that no later trunk revision builds on (branches may)."""
        trunk = [rev for rev in self.order if self.line_of(rev) is None]
        below = self.ancestors(p for rev in trunk for p in self.revisions[rev].parents)
        return tuple(rev for rev in trunk if rev not in below)

    def trunk_tip(self) -> RevisionId:
        """Where trunk work and new branches go; an error when the trunk has split."""
        tips = self.trunk_tips()
        if len(tips) != 1:
            raise HistoryError(
                f"the trunk has {len(tips)} ends ({', '.join(tips) or 'none'}): a trunk "
                "revision is one that belongs to no branch label; merge them first "
                "(`schemactl merge`)"
            )
        return tips[0]

    @cached_property
    def _members(self) -> dict[str | None, tuple[RevisionId, ...]]:
        grouped: dict[str | None, list[RevisionId]] = {}
        for rev in self.order:
            grouped.setdefault(self.line_of(rev), []).append(rev)
        return {line: tuple(revs) for line, revs in grouped.items()}

    def line_revisions(self, line: str) -> tuple[RevisionId, ...]:
        """The revisions on a line, in apply order (grouped once for all lines)."""
        return self._members.get(line, ())

    def is_merged(self, line: str) -> bool:
        """Whether a line has been joined into another: some revision outside it builds on it."""
        members = set(self.line_revisions(line))
        return any(
            child not in members for rev in members for child in self.revisions[rev].children
        )


def text_tree(graph: Graph, applied: set[RevisionId] | None = None) -> list[str]:
    """The graph as a tree: the trunk at the left, each branch indented under a header.

    With ``applied`` (what a database has), each revision is marked [X] or [ ].
    """
    lines: list[str] = []
    previous: str | None = None
    for rev in graph.order:
        revision = graph[rev]
        line = graph.line_of(rev)
        if line is not None and line != previous:
            start = graph.line_revisions(line)[0]
            source = ", ".join(graph[start].parents) or "base"
            state = "merged" if graph.is_merged(line) else "open"
            lines.append(f"├── {line}: from {source}, {state}")
        previous = line
        mark = "o" if applied is None else ("[X]" if rev in applied else "[ ]")
        indent = "│   " if line is not None else ""
        message = comment(revision.message.splitlines()[0] if revision.message else "", limit=80)
        notes = []
        if revision.is_branch_point:
            notes.append("branchpoint")
        if revision.is_merge:
            joined = sorted({graph.line_of(p) or "trunk" for p in revision.parents})
            notes.append(f"merge of {', '.join(joined)}")
        if revision.is_head:
            notes.append("head")
        suffix = f"  ({'; '.join(notes)})" if notes else ""
        lines.append(f"{indent}{mark} {rev}  {message}{suffix}")
    return lines


def mermaid(
    graph: Graph, revisions: Iterable[RevisionId], *, applied: Iterable[RevisionId] = ()
) -> list[str]:
    """A Mermaid flowchart of ``revisions`` (oldest at the bottom); ``applied`` in grey."""
    shown = set(revisions)
    done = set(applied)
    lines = ["flowchart BT"]
    for rev in graph.order:
        if rev not in shown:
            continue
        revision = graph[rev]
        label = mermaid_label(revision.message.splitlines()[0] if revision.message else "")
        branch = graph.branch_of(rev)
        prefix = f"{branch}: " if branch and revision.labels else ""
        lines.append(f'    r{rev}["{rev}<br/>{prefix}{label}"]')
        if rev in done:
            lines.append(f"    class r{rev} applied")
        lines.extend(f"    r{parent} --> r{rev}" for parent in revision.parents if parent in shown)
    lines.append("    classDef applied fill:#eee,stroke:#999,color:#666")
    return lines


@dataclass(frozen=True, slots=True)
class Header:
    """What the graph needs of one revision file: its header, not its code."""

    revision: RevisionId
    down_revision: tuple[RevisionId, ...]
    branch_labels: tuple[str, ...]
    message: str
    path: str  # the file; its name breaks ties in the apply order


def build_graph(headers: Iterable[Header]) -> Graph:
    """The graph of some revision headers, checked: no id twice, no lost parent, no cycle."""
    found: dict[RevisionId, Header] = {}
    for header in headers:
        if header.revision in found:
            first = os.path.basename(found[header.revision].path)
            raise HistoryError(
                f"revision {header.revision} is defined twice, in {first} and "
                f"{os.path.basename(header.path)}; give one of them a new revision id"
            )
        found[header.revision] = header
    children: dict[RevisionId, list[RevisionId]] = {rev: [] for rev in found}
    for rev, header in found.items():
        for parent in header.down_revision:
            if parent not in found:
                raise HistoryError(
                    f"Revision {parent} referenced from {os.path.basename(header.path)} "
                    f"({rev}) is not present; fix that down_revision or restore the missing file"
                )
            children[parent].append(rev)
    order = _apply_order(found, children)
    depth: dict[RevisionId, int] = {}
    revisions: dict[RevisionId, Revision] = {}
    for rev in order:
        header = found[rev]
        depth[rev] = 1 + max((depth[p] for p in header.down_revision), default=0)
        revisions[rev] = Revision(
            id=rev,
            parents=header.down_revision,
            children=tuple(sorted(children[rev], key=lambda c: _sort_key(found[c]))),
            message=header.message,
            labels=header.branch_labels,
            path=Path(header.path),
            depth=depth[rev],
        )
    return Graph(revisions, tuple(order))


def as_tuple(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Alembic's str-or-sequence-or-None fields as a tuple."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _sort_key(header: Header) -> tuple[str, str]:
    # os.path, not pathlib: this runs for every comparison of a sort over the whole history.
    return (os.path.basename(header.path), header.revision)


def _apply_order(
    headers: dict[RevisionId, Header], children: dict[RevisionId, list[RevisionId]]
) -> list[RevisionId]:
    # Kahn's algorithm with a stack: once a branch starts it is followed to its end before
    # its sibling, and ties break on file name, so the order is stable and reads naturally.
    waiting = {rev: len(h.down_revision) for rev, h in headers.items()}
    ready = sorted((r for r, n in waiting.items() if n == 0), key=lambda r: _sort_key(headers[r]))
    ready.reverse()
    order: list[RevisionId] = []
    while ready:
        rev = ready.pop()
        order.append(rev)
        freed = [c for c in children[rev] if _release(waiting, c)]
        ready.extend(sorted(freed, key=lambda r: _sort_key(headers[r]), reverse=True))
    if len(order) != len(headers):
        stuck = sorted(set(headers) - set(order))
        raise HistoryError(
            f"the revision history is broken: revisions {', '.join(stuck)} depend on each "
            "other in a cycle; fix their down_revision"
        )
    return order


def _release(waiting: dict[RevisionId, int], revision: RevisionId) -> bool:
    waiting[revision] -= 1
    return waiting[revision] == 0
