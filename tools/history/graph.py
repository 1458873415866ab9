"""The revision graph: which revisions exist, in what order they apply, where it branches.

Pure: built from revision headers (id, parents, labels, message, file name), it touches no
file and no database. Loading the files is tools.history.load's job.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TypeAlias

from tools.core.directions import BOTH_WAYS, AuditedStep, Direction
from tools.core.errors import SchemactlError
from tools.core.text import comment, labels_text, mermaid_label

RevisionId: TypeAlias = str
# The history's vocabulary: the directions are the ground floor's, named here too.
__all__ = ["BOTH_WAYS", "AuditedStep", "Direction"]


class HistoryError(SchemactlError):
    """The revision files do not form a usable history (unloadable file, cycle, lost parent)."""


@dataclass(frozen=True, slots=True)
class Revision:
    id: RevisionId
    parents: tuple[RevisionId, ...]
    children: tuple[RevisionId, ...]
    message: str
    # The labels this revision declares itself (Alembic also lends them to descendants).
    labels: tuple[str, ...]
    file: str  # its path, as text: a Path kept for every revision costs about 450 bytes each
    depth: int
    # depends_on, resolved to revision ids: applied before this one, but not its parents.
    dependencies: tuple[RevisionId, ...] = ()

    @property
    def path(self) -> Path:
        """The revision file."""
        return Path(self.file)

    @property
    def filename(self) -> str:
        """The revision file's name (``path.name``, without making a Path)."""
        return os.path.basename(self.file)

    @property
    def is_head(self) -> bool:
        return not self.children

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    @property
    def is_branch_point(self) -> bool:
        return len(self.children) > 1


Line: TypeAlias = "str | None"  # None: the trunk; else a branch label or a first revision's id


@dataclass(frozen=True)
class Lines:
    """Which line of history each revision is drawn on, and which line each line forked from."""

    of: dict[RevisionId, Line]
    enclosing: dict[Line, Line]
    members: dict[Line, tuple[RevisionId, ...]]


@dataclass(frozen=True)
class Graph:
    revisions: dict[RevisionId, Revision]
    # Every revision after all of its parents and dependencies; a branch stays contiguous.
    order: tuple[RevisionId, ...]

    def __getitem__(self, revision: RevisionId) -> Revision:
        return self.revisions[revision]

    @property
    def heads(self) -> tuple[RevisionId, ...]:
        return tuple(r for r in self.order if self.revisions[r].is_head)

    @cached_property
    def labels(self) -> dict[str, RevisionId]:
        """Each branch label and the revision that declares it."""
        return {label: r for r in self.order for label in self.revisions[r].labels}

    def ancestors(
        self, revisions: Iterable[RevisionId], *, dependencies: bool = True
    ) -> set[RevisionId]:
        """The given revisions and everything they stand on (their dependencies too: a
        database that has a revision has what it depends on)."""
        seen: set[RevisionId] = set()
        stack = list(revisions)
        while stack:
            rev = stack.pop()
            if rev not in seen:
                seen.add(rev)
                here = self.revisions[rev]
                stack.extend(here.parents)
                if dependencies:
                    stack.extend(here.dependencies)
        return seen

    def label_members(self, label: str) -> set[RevisionId]:
        """The revisions Alembic gives a branch label (what `LABEL@head` and `LABEL@-1` are
        resolved among): the declaring revision, everything descending from it (through
        down_revision, not depends_on), and, when what descends from it is one line, the
        revisions below it back to the nearest branch point or merge (_labels_below)."""
        first = self.labels[label]
        members = {first}
        stack = [first]
        while stack:
            for child in self.revisions[stack.pop()].children:
                if child not in members:
                    members.add(child)
                    stack.append(child)
        return members | set(self._labels_below[label])

    def labels_of(self, revision: RevisionId) -> frozenset[str]:
        """Every branch label Alembic gives a revision (label_members, seen from the
        revision): its own, those of every revision it descends from, and those it gets as
        the start of a labelled line. All revisions at once, in one pass."""
        found = self._spread_labels[revision]
        below = self._below_labels.get(revision)
        return found | below if below else found

    def labels_shown(self, revision: RevisionId) -> tuple[str, ...]:
        """labels_of in the order output shows them: the label of the line the revision is
        drawn on first, then the others by name."""
        own = self.branch_of(revision)
        labels = self.labels_of(revision)
        # Revisions of one line share their set (hundreds of labels after many merges):
        # each set and line is put in order once.
        key = (labels, own)
        shown = self._shown_labels.get(key)
        if shown is None:
            others = sorted(labels - {own})
            shown = self._shown_labels[key] = (own, *others) if own is not None else tuple(others)
        return shown

    @cached_property
    def _shown_labels(self) -> dict[tuple[frozenset[str], str | None], tuple[str, ...]]:
        return {}

    @cached_property
    def _spread_labels(self) -> dict[RevisionId, frozenset[str]]:
        """The labels of each revision and of every revision it descends from (a revision
        on one line shares its parent's set)."""
        spread: dict[RevisionId, frozenset[str]] = {}
        for rev in self.order:
            here = self.revisions[rev]
            sets = [spread[parent] for parent in here.parents]
            if here.labels:
                sets.append(frozenset(here.labels))
            spread[rev] = sets[0] if len(sets) == 1 else frozenset().union(*sets)
        return spread

    @cached_property
    def _labels_below(self) -> dict[str, tuple[RevisionId, ...]]:
        """What Alembic lends a label below its revision. Having labelled the descendants,
        it walks down from the last one it visited while it meets neither a branch point
        (a revision two others build on or depend on) nor a merge. That walk gets below
        the labelled revision only when it and everything after it are one line without
        either; it then goes on to the nearest branch point or merge (or the root)."""
        one_line: dict[RevisionId, bool] = {}
        for rev in reversed(self.order):
            here = self.revisions[rev]
            one_line[rev] = (
                not here.is_merge
                and not self._forks(rev)
                and all(one_line[child] for child in here.children)
            )
        below: dict[str, tuple[RevisionId, ...]] = {}
        for label, first in self.labels.items():
            found: list[RevisionId] = []
            here = self.revisions[first]
            while one_line[first] and len(here.parents) == 1:
                here = self.revisions[here.parents[0]]
                if here.is_merge or self._forks(here.id):
                    break
                found.append(here.id)
            below[label] = tuple(found)
        return below

    @cached_property
    def _below_labels(self) -> dict[RevisionId, frozenset[str]]:
        found: dict[RevisionId, set[str]] = {}
        for label, revisions in self._labels_below.items():
            for rev in revisions:
                found.setdefault(rev, set()).add(label)
        return {rev: frozenset(labels) for rev, labels in found.items()}

    def _forks(self, revision: RevisionId) -> bool:
        """Whether more than one revision builds on ``revision`` or depends on it (Alembic's
        "real" branch point)."""
        return len(self.revisions[revision].children) + self._dependents.get(revision, 0) > 1

    @cached_property
    def _dependents(self) -> dict[RevisionId, int]:
        count: dict[RevisionId, int] = {}
        for rev in self.order:
            for dependency in self.revisions[rev].dependencies:
                count[dependency] = count.get(dependency, 0) + 1
        return count

    @cached_property
    def lines(self) -> Lines:
        """Lines of history, assigned in one pass in apply order.

        A labelled revision starts a line named by its label. At a branch point, the one
        unlabelled child (if there is exactly one) carries its parent's line on; otherwise
        each child starts a line of its own (named by its id) inside the parent's line. A
        merge resumes the innermost line that all its parents' lines lie in, unless that
        line has moved on since (a second merge of the same parents): then it starts a line.
        The first root is the trunk; another root starts a line of its own.
        """
        of: dict[RevisionId, Line] = {}
        enclosing: dict[Line, Line] = {None: None}
        tip: dict[Line, RevisionId] = {}

        def put(rev: RevisionId, line: Line, inside: Line) -> None:
            of[rev] = line
            enclosing.setdefault(line, inside)
            tip[line] = rev

        for rev in self.order:
            here = self.revisions[rev]
            if here.labels:
                inside = self._innermost([of[p] for p in here.parents], enclosing)
                put(rev, here.labels[0], inside)
            elif not here.parents:
                if None in tip:
                    put(rev, rev, None)
                else:
                    put(rev, None, None)
            elif len(here.parents) == 1:
                parent = self.revisions[here.parents[0]]
                line = of[parent.id]
                unlabelled = [c for c in parent.children if not self.revisions[c].labels]
                if len(unlabelled) == 1 and tip.get(line) == parent.id:
                    put(rev, line, enclosing[line])
                else:
                    put(rev, rev, line)
            else:
                line = self._innermost([of[p] for p in here.parents], enclosing)
                if line not in tip or self._is_ancestor(tip[line], rev):
                    put(rev, line, enclosing.get(line))
                else:
                    put(rev, rev, line)
        members: dict[Line, list[RevisionId]] = {}
        for rev in self.order:
            members.setdefault(of[rev], []).append(rev)
        return Lines(of, enclosing, {line: tuple(revs) for line, revs in members.items()})

    @staticmethod
    def _innermost(lines: list[Line], enclosing: dict[Line, Line]) -> Line:
        """The innermost line that every one of ``lines`` lies in (itself included)."""

        def chain(line: Line) -> list[Line]:
            found = [line]
            while found[-1] is not None:
                found.append(enclosing[found[-1]])
            return found

        if not lines:
            return None
        others = [set(chain(line)) for line in lines[1:]]
        return next(line for line in chain(lines[0]) if all(line in o for o in others))

    def _is_ancestor(self, older: RevisionId, newer: RevisionId) -> bool:
        """Whether ``older`` is below ``newer`` (parents only; pruned by depth)."""
        floor = self.revisions[older].depth
        seen: set[RevisionId] = set()
        stack = list(self.revisions[newer].parents)
        while stack:
            rev = stack.pop()
            if rev == older:
                return True
            if rev in seen or self.revisions[rev].depth <= floor:
                continue
            seen.add(rev)
            stack.extend(self.revisions[rev].parents)
        return False

    def line_of(self, revision: RevisionId) -> Line:
        """The line of history a revision is drawn on: None for the trunk, else the branch
        label its line started with (or, for a line nobody labelled, its first revision)."""
        return self.lines.of[revision]

    def branch_of(self, revision: RevisionId) -> str | None:
        """The branch label of a revision's line, or of the labelled line it lies in (None on
        the trunk). Alembic gives that label to the revision too."""
        line = self.line_of(revision)
        while line is not None and line not in self.labels:
            line = self.lines.enclosing[line]
        return line

    def trunk_tips(self) -> tuple[RevisionId, ...]:
        """Trunk revisions that no later trunk revision builds on (branches may)."""
        trunk = [rev for rev in self.order if self.line_of(rev) is None]
        below = self.ancestors(
            (p for rev in trunk for p in self.revisions[rev].parents), dependencies=False
        )
        return tuple(rev for rev in trunk if rev not in below)

    def trunk_tip(self) -> RevisionId:
        """Where trunk work and new branches go; an error when the trunk has split."""
        tips = list(self.trunk_tips())
        if len(tips) == 1:
            # Unlabelled lines that split off the tip are ends of the trunk too.
            split = [c for c in self.revisions[tips[0]].children if not self.revisions[c].labels]
            tips = split if len(split) > 1 else tips
        if len(tips) != 1:
            raise HistoryError(
                f"the trunk has {len(tips)} ends ({', '.join(tips) or 'none'}): a trunk "
                "revision is one that belongs to no branch label; merge them first "
                "(`schemactl merge`)"
            )
        return tips[0]

    def line_revisions(self, line: str) -> tuple[RevisionId, ...]:
        """The revisions on a line, in apply order."""
        return self.lines.members.get(line, ())

    def is_merged(self, line: str, _within: frozenset[str] = frozenset()) -> bool:
        """Whether a line has been joined into another: none of it is a head, a merge
        revision outside it builds on it or on a line that goes on from it, and every line
        that goes on from it is merged too (a line merged through its sub-lines)."""
        members = set(self.line_revisions(line))
        if any(self.revisions[rev].is_head for rev in members):
            return False
        joined = False
        for rev in members:
            for child in self.revisions[rev].children:
                if child in members:
                    continue
                if self.revisions[child].is_merge:
                    joined = True
                    continue
                further = self.line_of(child)
                if further is None or further in _within:
                    continue
                if not self.is_merged(further, _within | {line}):
                    return False
                joined = True
        return joined


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
        # The labels Alembic also gives it, beyond the one its line is drawn under.
        others = [label for label in graph.labels_shown(rev) if label != line]
        if others:
            notes.append(f"label{'s' if len(others) > 1 else ''} {labels_text(others)}")
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
    depends_on: tuple[str, ...] = ()  # revision ids, prefixes or branch labels


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
    dependencies = _resolve_dependencies(found)
    order = _apply_order(found, children, dependencies)
    depth: dict[RevisionId, int] = {}
    revisions: dict[RevisionId, Revision] = {}
    # Every edge names a revision by the one string of its id, not the copy a header read;
    # and a lone parent or child by one tuple (most edges of a long history are such).
    alone = {rev: (rev,) for rev in found}
    for rev in order:
        header = found[rev]
        depth[rev] = 1 + max((depth[p] for p in header.down_revision), default=0)
        parents = tuple(revisions[p].id for p in header.down_revision)
        kids = tuple(sorted(children[rev], key=lambda c: _sort_key(found[c])))
        revisions[rev] = Revision(
            id=rev,
            parents=alone[parents[0]] if len(parents) == 1 else parents,
            children=alone[kids[0]] if len(kids) == 1 else kids,
            message=header.message,
            labels=header.branch_labels,
            file=header.path,
            depth=depth[rev],
            dependencies=dependencies.get(rev, ()),
        )
    return Graph(revisions, tuple(order))


def _resolve_dependencies(
    found: dict[RevisionId, Header],
) -> dict[RevisionId, tuple[RevisionId, ...]]:
    """depends_on names resolved as Alembic resolves them: an id, a branch label (the revision
    that declares it), or a unique prefix of an id."""
    labels = {label: rev for rev, header in found.items() for label in header.branch_labels}
    resolved: dict[RevisionId, tuple[RevisionId, ...]] = {}
    for rev, header in found.items():
        if not header.depends_on:
            continue
        ids = []
        for name in header.depends_on:
            if name in found:
                ids.append(name)
            elif name in labels:
                ids.append(labels[name])
            else:
                matches = [other for other in found if other.startswith(name)]
                if len(matches) != 1:
                    raise HistoryError(
                        f"depends_on {name!r} in {os.path.basename(header.path)} ({rev}) names "
                        + ("no revision or branch label" if not matches else "several revisions")
                        + "; fix depends_on"
                    )
                ids.append(matches[0])
        resolved[rev] = tuple(dict.fromkeys(ids))
    return resolved


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
    headers: dict[RevisionId, Header],
    children: dict[RevisionId, list[RevisionId]],
    dependencies: dict[RevisionId, tuple[RevisionId, ...]],
) -> list[RevisionId]:
    # Kahn's algorithm with a stack: once a branch starts it is followed to its end before
    # its sibling, and ties break on file name, so the order is stable and reads naturally.
    # A revision also waits for what it depends on.
    after = {rev: list(kids) for rev, kids in children.items()}
    for rev, needed in dependencies.items():
        for dependency in needed:
            after[dependency].append(rev)
    waiting = {
        rev: len(h.down_revision) + len(dependencies.get(rev, ())) for rev, h in headers.items()
    }
    ready = sorted((r for r, n in waiting.items() if n == 0), key=lambda r: _sort_key(headers[r]))
    ready.reverse()
    order: list[RevisionId] = []
    while ready:
        rev = ready.pop()
        order.append(rev)
        freed = [c for c in after[rev] if _release(waiting, c)]
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


def as_json(graph: Graph, applied: Collection[RevisionId] | None = None) -> dict[str, object]:
    """The graph for programs: every revision in apply order with its parents, the labels
    Alembic gives it, and (``applied`` given) whether the database has it."""
    return {
        "heads": list(graph.heads),
        "revisions": [
            {
                "revision": rev,
                "parents": list(graph[rev].parents),
                "depends_on": list(graph[rev].dependencies),
                "labels": list(graph.labels_shown(rev)),
                "message": graph[rev].message,
                "head": graph[rev].is_head,
                "merge": graph[rev].is_merge,
                **({"applied": rev in applied} if applied is not None else {}),
            }
            for rev in graph.order
        ],
    }
