"""Names and plans on in-memory histories: what --from/--to and targets resolve to."""

from __future__ import annotations

import pytest

from tools.history.load import (
    NothingToRender,
    OverlappingHeads,
    UnknownRevision,
    check_target,
    plan_range,
    resolve_heads,
    version_moves,
)

from .helpers import header, history_of


def two_features(merged: bool = True):
    """
    aaa1 ── aaa2 ─┬─ bbb1 (payments) ── bbb2 ──┐
                  └─ ccc1 (discounts) ─────────┴─ ddd1 merge ── ddd2
    """
    headers = [
        header("aaa1"),
        header("aaa2", "aaa1"),
        header("bbb1", "aaa2", labels=("payments",), name="3a.py"),
        header("bbb2", "bbb1", name="4a.py"),
        header("ccc1", "aaa2", labels=("discounts",), name="3b.py"),
    ]
    if merged:
        headers += [
            header("ddd1", "bbb2", "ccc1", name="5.py"),
            header("ddd2", "ddd1", name="6.py"),
        ]
    return history_of(*headers)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, ()),
        ("base", ()),
        ("heads", ("ddd2",)),
        ("head", ("ddd2",)),
        ("bbb2", ("bbb2",)),
        ("dd", None),  # a prefix must be unique
        ("ccc", ("ccc1",)),
        ("payments", ("bbb1",)),
        ("discounts@head", ("ddd2",)),  # Alembic's meaning: labels reach the descendants
        ("payments@base", ()),  # where the branch starts: an upgrade to it runs nothing
        ("bbb2,ccc1", ("bbb2", "ccc1")),
        (["ccc1", " bbb2 "], ("bbb2", "ccc1")),
    ],
)
def test_names_resolve_as_alembic_resolves_them(spec, expected):
    history = two_features()
    if expected is None:
        with pytest.raises(UnknownRevision, match="Multiple revisions start with 'dd'"):
            resolve_heads(history, spec)
    else:
        assert resolve_heads(history, spec) == expected


@pytest.mark.parametrize("spec", ["", " ", "@", "payments@", "@head", "bbb2,,ccc1"])
def test_a_name_with_nothing_in_it_is_refused(spec):
    from tools.core.errors import RevisionError

    with pytest.raises(RevisionError, match="empty revision name"):
        resolve_heads(two_features(), spec)


def test_head_with_two_heads_and_unknown_names_are_one_error_with_the_fix():
    history = two_features(merged=False)
    assert resolve_heads(history, "heads") == ("bbb2", "ccc1")
    assert resolve_heads(history, "payments@head") == ("bbb2",)
    with pytest.raises(UnknownRevision) as err:
        resolve_heads(history, "head")
    assert str(err.value).endswith("run `schemactl status` to see the revisions and branch labels")
    with pytest.raises(UnknownRevision) as err:
        resolve_heads(history, "nosuch")
    assert err.value.name == "nosuch"
    assert "run `schemactl status`" in str(err.value)


@pytest.mark.parametrize(
    "target", ["heads", "-1", "base", "bbb1+1", "payments@-1", "payments@base", "ccc", "ddd2"]
)
def test_targets_alembic_accepts_pass(target):
    check_target(two_features(), target)


@pytest.mark.parametrize("target", ["nosuch", "nosuch@-1", "zz+2", "nosuch@base"])
def test_targets_naming_nothing_are_refused(target):
    with pytest.raises(UnknownRevision):
        check_target(two_features(), target)
    if target.endswith("@base"):  # as a --from/--to too
        with pytest.raises(UnknownRevision):
            resolve_heads(two_features(), target)


def test_plan_from_base_to_head_is_the_whole_history_in_apply_order():
    graph = two_features().graph
    span = plan_range(graph, (), ("ddd2",))
    assert span.revisions == ("aaa1", "aaa2", "bbb1", "bbb2", "ccc1", "ddd1", "ddd2")
    assert (span.start_label, span.end_label) == ("base", "ddd2")


def test_plan_from_two_feature_heads_runs_only_the_merge_onwards():
    graph = two_features().graph
    span = plan_range(graph, ("ccc1", "bbb2"), ("ddd2",))
    assert span.start == ("bbb2", "ccc1") and span.revisions == ("ddd1", "ddd2")
    moves = version_moves(graph, span)
    assert moves == {"ddd1": (("bbb2", "ccc1"), ("ddd1",)), "ddd2": (("ddd1",), ("ddd2",))}


def test_plan_to_one_feature_ends_on_both_lines_the_database_has():
    graph = two_features().graph
    span = plan_range(graph, ("ccc1",), ("bbb2",))
    assert span.revisions == ("bbb1", "bbb2")
    assert span.end == ("bbb2", "ccc1")  # the database keeps its discounts head


def test_plan_that_renders_nothing_says_so_with_its_data():
    graph = two_features().graph
    with pytest.raises(NothingToRender) as err:
        plan_range(graph, ("ddd2",), ("bbb2",))
    assert (err.value.start, err.value.target) == (("ddd2",), ("bbb2",))
    assert "choose a later --to" in str(err.value)


def test_a_set_of_heads_may_not_name_a_revision_and_one_built_on_it():
    graph = two_features().graph
    with pytest.raises(OverlappingHeads) as err:
        plan_range(graph, ("bbb1", "bbb2"), ("ddd2",))
    assert (err.value.option, err.value.inner) == ("--from", ("bbb1",))


def test_counting_back_through_a_merge_names_the_revisions_to_use():
    """A count back from ddd2 crosses the merge ddd1 at its second step."""
    from tools.live.migrate import AmbiguousDowngrade, check_steps_back

    graph = two_features().graph
    check_steps_back(graph, ("ddd2",), "-1")
    check_steps_back(graph, ("ddd2",), "ccc1")  # a name, not a count: Alembic's to walk
    check_steps_back(graph, ("bbb2", "ccc1"), "-1")  # two heads: Alembic explains itself
    with pytest.raises(AmbiguousDowngrade) as err:
        check_steps_back(graph, ("ddd2",), "-2")
    assert (err.value.merge, err.value.parents) == ("ddd1", ("bbb2", "ccc1"))
    assert str(err.value).endswith(
        "`schemactl downgrade bbb2` undoes just the merge and leaves the database on bbb2 and ccc1"
    )
    check_steps_back(two_features(merged=False).graph, ("bbb2",), "-5")  # runs out at base
