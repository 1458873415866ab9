"""The revision graph, built in memory: order, heads, lines, trunk tips, labels, drawings."""

from __future__ import annotations

import pytest

from tools.core.text import labels_text
from tools.history.graph import HistoryError, mermaid, text_tree

from .helpers import graph_of, header


def features():
    """
    base ── 0002 ── 0003 ─┬─ 0004a (payments) ── 0005a ──┐
                          └─ 0004b (discounts) ──────────┴─ 0006 merge ── 0007
    """
    return graph_of(
        header("r1"),
        header("r2", "r1"),
        header("r3", "r2"),
        header("p1", "r3", labels=("payments",), name="4a.py"),
        header("p2", "p1", name="5a.py"),
        header("d1", "r3", labels=("discounts",), name="4b.py"),
        header("m", "p2", "d1", name="6.py"),
        header("r7", "m", name="7.py"),
    )


def test_apply_order_follows_a_branch_to_its_end_before_its_sibling():
    graph = features()
    assert graph.order == ("r1", "r2", "r3", "p1", "p2", "d1", "m", "r7")
    assert graph.heads == ("r7",)
    assert [graph[r].depth for r in graph.order] == [1, 2, 3, 4, 5, 4, 6, 7]


def test_marks_branch_points_merges_and_heads():
    graph = features()
    assert graph["r3"].is_branch_point and graph["r3"].children == ("p1", "d1")
    assert graph["m"].is_merge and graph["m"].parents == ("p2", "d1")
    assert graph["r7"].is_head and not graph["m"].is_head


def test_lines_labels_and_merged_state():
    graph = features()
    assert graph.labels == {"payments": "p1", "discounts": "d1"}
    assert [graph.line_of(r) for r in graph.order] == [
        None, None, None, "payments", "payments", "discounts", None, None,
    ]  # fmt: skip
    assert graph.line_revisions("payments") == ("p1", "p2")
    assert graph.branch_of("p2") == "payments" and graph.branch_of("r7") is None
    assert graph.is_merged("payments") and graph.is_merged("discounts")
    assert graph.trunk_tips() == ("r7",) and graph.trunk_tip() == "r7"


def test_an_open_branch_keeps_the_trunk_tip_where_the_trunk_goes_on():
    """
    r1 ─┬─ r2 (trunk)
        └─ f1 (feature) ── f2
    """
    graph = graph_of(
        header("r1"),
        header("r2", "r1"),
        header("f1", "r1", labels=("feature",)),
        header("f2", "f1"),
    )
    assert graph.heads == ("f2", "r2")  # ties break on file name
    assert not graph.is_merged("feature")
    assert graph.trunk_tip() == "r2"
    assert graph.ancestors(["f2"]) == {"r1", "f1", "f2"}


def test_two_unlabelled_children_are_two_lines_and_the_trunk_has_no_single_tip():
    """
    r1 ─┬─ a
        └─ b
    """
    graph = graph_of(header("r1"), header("a", "r1"), header("b", "r1"))
    assert graph.line_of("a") == "a" and graph.line_of("b") == "b"
    assert graph.branch_of("a") is None  # a line nobody labelled is no branch
    assert graph.trunk_tips() == ("r1",)
    with pytest.raises(HistoryError, match=r"the trunk has 2 ends \(a, b\)"):
        graph.trunk_tip()


def test_several_roots_are_all_in_the_order():
    """
    a ──┐
    b ──┴─ c
    """
    graph = graph_of(header("a"), header("b"), header("c", "a", "b"))
    assert graph.order == ("a", "b", "c")
    assert graph["c"].depth == 2
    assert [graph.line_of(r) for r in graph.order] == [None, "b", None]
    assert graph.trunk_tip() == "c" and graph.is_merged("b")


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ((header("a"), header("a", name="copy.py")), "revision a is defined twice"),
        ((header("a", "gone"),), "Revision gone referenced from a.py"),
        ((header("a", "b"), header("b", "a")), "revisions a, b depend on each other in a cycle"),
    ],
    ids=["duplicate", "lost-parent", "cycle"],
)
def test_broken_histories_are_refused_with_the_fix(headers, error):
    with pytest.raises(HistoryError, match=error):
        graph_of(*headers)


def test_text_tree_draws_lines_under_headers_and_marks_applied():
    graph = features()
    assert text_tree(graph) == [
        "o r1  revision r1",
        "o r2  revision r2",
        "o r3  revision r3  (branchpoint)",
        "├── payments: from r3, merged",
        "│   o p1  revision p1",
        "│   o p2  revision p2",
        "├── discounts: from r3, merged",
        "│   o d1  revision d1",
        # Alembic gives a merge, and what follows it, the labels of the lines it joins.
        "o m  revision m  (merge of discounts, payments; labels discounts, payments)",
        "o r7  revision r7  (head; labels discounts, payments)",
    ]
    marked = text_tree(graph, applied={"r1", "r2"})
    assert marked[0].startswith("[X] r1") and marked[2].startswith("[ ] r3")


def test_messages_cannot_break_a_drawing():
    graph = graph_of(header("a", message='evil"] --> x["<script>\u202e\nsecond line'))
    assert text_tree(graph) == ['o a  evil"] --> x["<script>  (head)']
    assert mermaid(graph, graph.order, applied=["a"]) == [
        "flowchart BT",
        '    ra["a<br/>evil   --  x   script"]',
        "    class ra applied",
        "    classDef applied fill:#eee,stroke:#999,color:#666",
    ]


def test_a_line_merged_through_its_sub_lines_is_merged_and_one_still_open_keeps_it_open():
    """
    r1 ─┬─ r2 ──────────────────────────┬─ m      one head, as `alembic heads` says
        └─ f1 (feature) ─┬─ s1 (sub1) ──┤
                         └─ t1 (sub2) ──┘

    and, before the merge: sub2 still open keeps feature open.
    """
    before = [
        header("r1"),
        header("r2", "r1", name="1.py"),
        header("f1", "r1", labels=("feature",), name="2.py"),
        header("s1", "f1", labels=("sub1",), name="3a.py"),
        header("t1", "f1", labels=("sub2",), name="3b.py"),
    ]
    open_graph = graph_of(*before)
    assert not open_graph.is_merged("feature") and not open_graph.is_merged("sub2")
    graph = graph_of(*before, header("m", "r2", "s1", "t1", name="4.py"))
    assert graph.heads == ("m",)
    assert graph.line_revisions("feature") == ("f1",)
    assert graph.is_merged("sub1") and graph.is_merged("sub2") and graph.is_merged("feature")
    assert "├── feature: from r1, merged" in text_tree(graph)


def test_a_revision_after_many_merges_shows_its_labels_counted():
    """Every merged feature's label reaches the trunk after its merge, as Alembic has it:
    the column shows three and counts the rest."""
    headers = [header("t0")]
    parent = "t0"
    for n in range(5):
        headers += [header(f"f{n}", parent, labels=(f"feat{n}",)), header(f"m{n}", parent, f"f{n}")]
        parent = f"m{n}"
    graph = graph_of(*headers)
    assert graph.labels_shown("m4") == ("feat0", "feat1", "feat2", "feat3", "feat4")
    assert labels_text(graph.labels_shown("m4")) == "feat0, feat1, feat2 +2"
    assert graph.labels_shown("f3")[0] == "feat3"  # its own line's first
    assert (
        text_tree(graph)[-1]
        == "o m4  revision m4  (merge of feat4, trunk; head; labels feat0, feat1, feat2 +2)"
    )
