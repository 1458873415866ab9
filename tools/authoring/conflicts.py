"""Before a merge: do the branches being joined get in each other's way?

Two questions, as Django's makemigrations --merge asks one of them:
- which schema objects (tables, columns, indexes, constraints, enums, table data) more than
  one branch changed since their common ancestor, read from the operations each revision
  performs (captured offline);
- whether applying the branches in a different order gives a different schema, found by
  applying them to scratch SQLite databases in each order and comparing what is reflected.
The analysis only reports; the caller decides (merge refuses unless --force).
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tools.core.errors import SchemactlError
from tools.dialects import embedded
from tools.history.load import load_history
from tools.proof import scratch
from tools.proof.snapshot import compare
from tools.scripts.capture import capture_operations

if TYPE_CHECKING:
    from tools.config import Project
    from tools.history.graph import Graph, RevisionId
    from tools.proof.snapshot import Schema
    from tools.scripts.capture import Operation

# How many heads are compared in every order (n! scratch databases); beyond it, two orders.
REBUILT = "(rebuilt from a copy on SQLite)"
# A batch block rebuilding a table from a copy written into the revision (tools.authoring.rebuilds).
_REBUILD = re.compile(r"batch_alter_table\(\s*['\"]([^'\"]+)['\"][^\n]*copy_from=")
_ALL_ORDERS_UP_TO = 3


@dataclass(frozen=True)
class Touch:
    """One schema object an operation changes."""

    kind: str  # table, column, index, constraint, enum, data
    name: str
    table: str | None

    def __str__(self) -> str:
        if self.kind == "rebuild":
            return f"table {self.name} {REBUILT}"
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Conflict:
    object: str
    # line of history -> the revisions on it that touch the object
    lines: dict[str, tuple[RevisionId, ...]]
    # revision -> its file, for the advice
    files: dict[RevisionId, str] = field(default_factory=dict)

    def __str__(self) -> str:
        who = "; ".join(f"{line}: {', '.join(revs)}" for line, revs in sorted(self.lines.items()))
        return f"{self.object} is changed by {who}"

    @property
    def advice(self) -> str:
        """How to resolve it: which revisions to edit or drop, then what to run."""
        if REBUILT in self.object:
            return (
                "to resolve: the revision that rebuilds the table on SQLite holds a copy of it "
                "(copy_from) that cannot know what the other branch does to it: delete that "
                "revision's file, run `schemactl merge`, then write it again on top of the "
                "merge with `schemactl makemigrations`"
            )
        where = ", ".join(
            f"versions/{self.files.get(rev, rev)} ({line})"
            for line, revs in sorted(self.lines.items())
            for rev in revs
        )
        return (
            f"to resolve: edit or drop the change to {self.object} in one of {where}, so that "
            "one branch makes it or both changes agree; then run `schemactl merge` again"
        )


@dataclass
class Analysis:
    heads: tuple[RevisionId, ...]
    base: tuple[RevisionId, ...]  # the common ancestors' heads
    lines: dict[str, tuple[RevisionId, ...]]  # line name -> its revisions since the base
    conflicts: list[Conflict] = field(default_factory=list)
    order_problems: list[str] = field(default_factory=list)
    raw_sql: list[RevisionId] = field(default_factory=list)  # op.execute: not analysed
    order_skipped: str | None = None  # why the order check could not run, if it could not
    orders: list[str] = field(default_factory=list)  # the orders applied and compared

    @property
    def ok(self) -> bool:
        return not self.conflicts and not self.order_problems


def touches(operation: Operation) -> list[Touch]:
    name, table, target = operation.name, operation.table, operation.target
    found = [Touch("enum", enum, None) for enum in operation.enums]
    if name in ("create_table", "drop_table", "rename_table") and table:
        found.append(Touch("table", table, table))
        if target:  # rename_table's new name
            found.append(Touch("table", target, target))
    elif name in ("add_column", "drop_column", "alter_column") and table:
        found.append(Touch("column", f"{table}.{target}", table))
    elif "index" in name and target:
        found.append(Touch("index", target, table))
    elif ("constraint" in name or "foreign_key" in name) and target:
        found.append(Touch("constraint", target, table))
    elif name == "bulk_insert" and table:
        found.append(Touch("data", table, table))
    return found


def rebuilt(source: str) -> list[Touch]:
    """The tables a revision rebuilds on SQLite from a copy it holds: the whole table, as far
    as another branch is concerned (whatever that branch adds, the copy lacks)."""
    return [Touch("rebuild", name, name) for name in sorted(set(_REBUILD.findall(source)))]


def _overlap(a: Touch, b: Touch) -> str | None:
    """The object two touches share, if they do (a table and something in it do)."""
    if a.kind == b.kind and a.name == b.name:
        return str(a)
    for whole, part in ((a, b), (b, a)):
        if whole.kind in ("table", "rebuild") and part.table == whole.name:
            return str(whole)
    return None


def analyse(
    project: Project, heads: tuple[RevisionId, ...], *, check_order: bool = True
) -> Analysis:

    history = load_history(project)
    graph = history.graph
    common = set.intersection(*(graph.ancestors([h]) for h in heads))
    base = tuple(r for r in graph.order if r in common and not set(graph[r].children) & common)
    lines = {
        _line_name(graph, head): tuple(
            r for r in graph.order if r in graph.ancestors([head]) - common
        )
        for head in heads
    }
    analysis = Analysis(heads, base, lines)
    dialect = project.environment().dialect
    touched: dict[str, dict[RevisionId, list[Touch]]] = {}
    for line, revisions in lines.items():
        operations = capture_operations(history, dialect, revisions)
        touched[line] = {
            rev: [t for op in ops for t in touches(op)] + rebuilt(graph[rev].path.read_text())
            for rev, ops in operations.items()
        }
        analysis.raw_sql += [
            rev for rev, ops in operations.items() if any(op.name == "execute_sql" for op in ops)
        ]
    analysis.conflicts = overlapping(graph, touched)
    if check_order:
        analysis.order_problems, analysis.order_skipped, analysis.orders = _order_problems(
            project, graph, base, heads
        )
    return analysis


def overlapping(graph: Graph, touched: dict[str, dict[RevisionId, list[Touch]]]) -> list[Conflict]:
    """The objects that revisions on more than one line touch (line -> revision -> touches)."""
    conflicts: dict[str, dict[str, set[RevisionId]]] = defaultdict(lambda: defaultdict(set))
    for left, right in itertools.combinations(sorted(touched), 2):
        for left_rev, left_touches in touched[left].items():
            for right_rev, right_touches in touched[right].items():
                for a in left_touches:
                    for b in right_touches:
                        shared = _overlap(a, b)
                        if shared:
                            conflicts[shared][left].add(left_rev)
                            conflicts[shared][right].add(right_rev)
    return [
        Conflict(
            obj,
            {line: tuple(r for r in graph.order if r in revs) for line, revs in by.items()},
            {rev: graph[rev].path.name for revs in by.values() for rev in revs},
        )
        for obj, by in sorted(conflicts.items())
    ]


def _line_name(graph: Graph, head: RevisionId) -> str:
    return graph.line_of(head) or f"trunk ({head})"


def _orders(heads: tuple[RevisionId, ...]) -> list[tuple[RevisionId, ...]]:
    if len(heads) <= _ALL_ORDERS_UP_TO:
        return list(itertools.permutations(heads))
    return [heads, tuple(reversed(heads))]


def _order_problems(
    project: Project, graph: Graph, base: tuple[RevisionId, ...], heads: tuple[RevisionId, ...]
) -> tuple[list[str], str | None, list[str]]:
    """Problems found by applying the heads in each order, or why that could not be done,
    and the orders that were compared.

    The scratch databases are embedded (SQLite): when the branches fail there in every order
    alike (an ALTER SQLite lacks, say), the outcome says nothing about order, so the check
    is reported as skipped rather than as a problem.
    """

    kind = embedded()
    results: list[tuple[str, Schema]] = []
    failures: list[tuple[str, str]] = []
    for order in _orders(heads):
        described = " then ".join(_line_name(graph, h) for h in order)
        with scratch.scratch_database(kind, prefix="schemactl_order") as url:
            cfg = scratch.scratch_config(project, kind, url)
            try:
                for target in (*base, *order):
                    scratch.upgrade(cfg, target)
            except scratch.ScratchUpgradeFailed as err:
                at = f"{err.where}: " if err.where else ""
                failures.append((described, f"{at}{err.reason}"))
                continue
            except SchemactlError as err:
                failures.append((described, str(err)))
                continue
            results.append((described, scratch.schema_of(url)))
    if failures and not results:
        return (
            [],
            f"{kind.title} cannot apply the branches ({failures[0][1]}), so their orders were "
            "not compared",
            [],
        )
    return order_differences(results, failures), None, [described for described, _ in results]


def order_differences(
    results: list[tuple[str, Schema]], failures: list[tuple[str, str]]
) -> list[str]:
    """What differs between the schemas each order gave (the first order is the reference)."""

    problems = [f"applying {described} fails: {error}" for described, error in failures]
    if not results:
        return problems
    first_order, first = results[0]
    for described, other in results[1:]:
        diff = compare(first, other)
        if diff:
            problems.append(
                f"{first_order} and {described} give different schemas: "
                + "; ".join(str(d) for d in diff)
            )
    return problems
