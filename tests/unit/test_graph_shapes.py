"""Every shape of history Alembic allows, drawn by us as Alembic sees it: heads, branch points
and label membership agree with Alembic's own revision map, built from the same headers."""

from __future__ import annotations

import re

import pytest
from alembic.script.revision import Revision as AlembicRevision
from alembic.script.revision import RevisionMap
from hypothesis import given, settings
from hypothesis import strategies as st

from tools.history.graph import Graph, Header, text_tree
from tools.history.load import History, plan_range

from .helpers import graph_of, header


def alembic_map(headers: tuple[Header, ...]) -> RevisionMap:
    return RevisionMap(
        lambda: [
            AlembicRevision(
                h.revision,
                h.down_revision or None,
                branch_labels=h.branch_labels or None,
                dependencies=h.depends_on or None,
            )
            for h in headers
        ]
    )


def agree(graph: Graph, headers: tuple[Header, ...]) -> None:
    """Heads, branch points, merges and every label shown agree with Alembic."""
    alembic = alembic_map(headers)
    assert set(graph.heads) == set(alembic.heads)
    for rev in graph.order:
        theirs = alembic.get_revision(rev)
        mine = graph[rev]
        assert mine.is_branch_point == theirs.is_branch_point, rev
        assert mine.is_merge == theirs.is_merge_point, rev
        shown = graph.branch_of(rev)
        assert shown is None or shown in theirs.branch_labels, (rev, shown)
        assert graph.labels_of(rev) == theirs.branch_labels, rev
    for label in graph.labels:
        members = {r for r in graph.order if label in alembic.get_revision(r).branch_labels}
        assert graph.label_members(label) == members, label
        assert set(graph.line_revisions(label)) <= members, label
        # label@head means the same to both
        (head,) = History(graph).find(f"{label}@head")
        assert head in members and graph[head].is_head
    # Every revision is drawn exactly once.
    drawn = [
        re.search(r"\bo (\S+)", line).group(1) for line in text_tree(graph) if " o " in f" {line}"
    ]
    assert sorted(drawn) == sorted(graph.order)


PARALLEL_MERGES = (
    header("r1"),
    header("a", "r1", name="2a.py"),
    header("b", "r1", name="2b.py"),
    header("m1", "a", "b", name="3a.py"),
    header("m2", "a", "b", name="3b.py"),
    header("x", "m1", name="4a.py"),
    header("y", "m2", name="4b.py"),
)


def test_parallel_merges_of_the_same_parents_are_two_lines():
    """
    r1 ─┬─ a ─┬─ m1 ── x
        └─ b ─┴─ m2 ── y      (m1 and m2 both merge a and b)
    """
    graph = graph_of(*PARALLEL_MERGES)
    agree(graph, PARALLEL_MERGES)
    assert graph.heads == ("x", "y")
    assert graph.line_of("m1") is None and graph.line_of("x") is None
    assert graph.line_of("m2") == "m2" and graph.line_of("y") == "m2"
    assert graph.trunk_tip() == "x"
    assert "o y  revision y  (head)" in "\n".join(text_tree(graph))


MERGES_OF_MERGES = (
    header("r1"),
    header("p1", "r1", labels=("pay",), name="2a.py"),
    header("d1", "r1", labels=("disc",), name="2b.py"),
    header("t1", "r1", labels=("tax",), name="2c.py"),
    header("m1", "p1", "d1", name="3.py"),
    header("m2", "m1", "t1", name="4.py"),
    header("r5", "m2", name="5.py"),
)


def test_a_merge_of_a_merge_returns_to_the_trunk():
    """
    r1 ─┬─ p1 (pay) ──┬─ m1 ──┐
        ├─ d1 (disc) ─┘       ├─ m2 ── r5
        └─ t1 (tax) ──────────┘
    """
    graph = graph_of(*MERGES_OF_MERGES)
    agree(graph, MERGES_OF_MERGES)
    assert [graph.line_of(r) for r in ("m1", "m2", "r5")] == [None, None, None]
    assert all(graph.is_merged(label) for label in ("pay", "disc", "tax"))
    assert plan_range(graph, ("p1", "d1", "t1"), ("r5",)).revisions == ("m1", "m2", "r5")


ROOT_LABEL = (
    header("c1", labels=("core",)),
    header("a1", "c1", name="2a.py"),
    header("b1", "c1", name="2b.py"),
    header("m", "a1", "b1", name="3.py"),
    header("c4", "m", name="4.py"),
)


def test_a_root_label_with_forks_covers_everything_under_it():
    """
    c1 (core) ─┬─ a1 ─┐
               └─ b1 ─┴─ m ── c4
    """
    graph = graph_of(*ROOT_LABEL)
    agree(graph, ROOT_LABEL)
    assert [graph.branch_of(r) for r in graph.order] == ["core"] * 5
    assert graph.line_revisions("core") == ("c1", "m", "c4")
    assert not graph.is_merged("core")
    assert graph.label_members("core") == set(graph.order)


DEPENDS_ON = (
    header("r1"),
    header("n1", labels=("networking",), name="0n.py"),
    header("r2", "r1", depends_on=("networking",), name="2.py"),
    header("n2", "n1", name="1n.py"),
)


def test_depends_on_orders_without_joining():
    """
    r1 ── r2 ······ depends on n1
    n1 (networking) ── n2          (a second root)
    """
    graph = graph_of(*DEPENDS_ON)
    agree(graph, DEPENDS_ON)
    assert graph["r2"].dependencies == ("n1",) and graph["r2"].parents == ("r1",)
    assert graph.order.index("n1") < graph.order.index("r2")
    assert set(graph.heads) == {"r2", "n2"}  # a dependency is still a head
    span = plan_range(graph, (), ("r2",))
    assert span.revisions == ("n1", "r1", "r2") and span.end == ("n1", "r2")


def test_an_unknown_dependency_is_refused():
    from tools.history.graph import HistoryError

    with pytest.raises(HistoryError, match=r"depends_on 'nope' in b\.py \(b\) names no revision"):
        graph_of(header("a"), header("b", "a", depends_on=("nope",)))


SEVERAL_ROOTS = (
    header("a1"),
    header("b1", name="b1.py"),
    header("a2", "a1", name="a2.py"),
    header("b2", "b1", name="b2.py"),
)


def test_several_roots_are_separate_lines():
    """
    a1 ── a2
    b1 ── b2
    """
    graph = graph_of(*SEVERAL_ROOTS)
    agree(graph, SEVERAL_ROOTS)
    assert graph.line_of("a2") is None and graph.line_of("b2") == "b1"
    assert graph.trunk_tip() == "a2"


@st.composite
def histories(draw: st.DrawFn) -> tuple[Header, ...]:
    """Any history Alembic accepts: each revision on one or two earlier ones (or a root),
    some labelled, some depending on an earlier revision it does not build on."""
    count = draw(st.integers(2, 12))
    made: list[Header] = []
    for n in range(count):
        earlier = [h.revision for h in made]
        parents: list[str] = []
        if earlier and draw(st.integers(0, 9)) > 0:
            parents = sorted(set(draw(st.lists(st.sampled_from(earlier), min_size=1, max_size=2))))
        labels = (f"l{n}",) if draw(st.booleans()) else ()
        others = [r for r in earlier if r not in parents]
        depends = (
            (draw(st.sampled_from(others)),) if others and draw(st.integers(0, 5)) == 0 else ()
        )
        made.append(header(f"r{n:02d}", *parents, labels=labels, depends_on=depends))
    return tuple(made)


@settings(max_examples=300, deadline=None)
@given(histories())
def test_every_revision_carries_the_labels_alembic_gives_it(headers):
    """Label membership, per label and per revision, is Alembic's on any shape: side lines,
    merges, revisions a later one depends on, labels on a line whose start is unlabelled."""
    graph = graph_of(*headers)
    alembic = alembic_map(headers)
    for rev in graph.order:
        assert graph.labels_of(rev) == alembic.get_revision(rev).branch_labels, rev
    for label in graph.labels:
        members = {r for r in graph.order if label in alembic.get_revision(r).branch_labels}
        assert graph.label_members(label) == members, label
