"""The history read from revision files (the fixture's copy, offline): names as Alembic's
own map resolves them, stamp targets checked before anything is touched, broken files as one
line naming the file, and the history as releases saw it after a squash."""

from __future__ import annotations

import pytest

from tools.config import load_project
from tools.core.errors import RevisionError
from tools.history.graph import HistoryError
from tools.history.load import (
    UnknownRevision,
    check_stamp_target,
    load_history,
    read_history,
    released_project,
    squashed_into,
)

HEAD = "68cfa590ad28"
BRANCHPOINT = "9ecdc98b5e8a"
PAYMENTS = ("83a14815e175", "fcac57c435d7")


@pytest.fixture
def project(repo_copy):
    return load_project(repo_copy / "alembic.ini")


def test_names_resolve_through_alembics_map_of_the_files(project):
    history = read_history(project)
    assert history.find("base") == () and history.find("heads") == (HEAD,)
    assert history.find("head") == (HEAD,) and history.find(HEAD) == (HEAD,)
    assert history.find(BRANCHPOINT[:6]) == (BRANCHPOINT,)  # a unique prefix
    # A label reaches past its merge, as Alembic spreads it: its head is the history's.
    assert history.find("payments@head") == (HEAD,)
    assert history.find("payments") == (PAYMENTS[0],)  # a label alone: its first revision
    with pytest.raises(UnknownRevision):
        history.find("nosuchlabel")
    # Every file imported now, as Alembic loads them: the same graph as from the headers.
    every = load_history(project, every_file=True)
    assert every.graph.order == history.graph.order and every.complete
    assert every.find("payments@head") == (HEAD,)
    assert every.modules("sqlite")[HEAD].revision == HEAD


def test_each_run_of_the_revisions_imports_every_file_afresh(project):
    """As one Alembic command does: every file imported before any revision runs, once per
    run (a dialect and environment), so module-level objects serve one run only."""
    history = read_history(project)
    assert not history.loaded and not history.imported  # status, graph: nothing imported
    first = history.modules(("sqlite", "dev"))
    assert set(first) == set(history.graph.order)
    assert history.modules(("sqlite", "dev")) is first  # a later capture of the same run
    second = history.modules(("postgresql", "prod"))
    assert all(second[rev] is not first[rev] for rev in first)
    every = load_history(project, every_file=True)
    assert every.modules("any")[HEAD] is every.loaded[HEAD].module  # imported once already


@pytest.mark.parametrize("target", ["heads+1", "payments@", "nosuch", "@", "a b"])
def test_a_stamp_target_alembic_cannot_resolve_is_refused_first(project, target):
    with pytest.raises(RevisionError):
        check_stamp_target(read_history(project), target)


@pytest.mark.parametrize("target", ["base", "heads", HEAD, "payments@head"])
def test_a_stamp_target_alembic_resolves_passes(project, target):
    check_stamp_target(read_history(project), target)


def test_a_revision_file_that_is_not_python_is_one_error_naming_it(project, repo_copy):
    broken = repo_copy / "versions" / "0011_0123456789ab_broken.py"
    broken.write_text('revision = "0123456789ab"\ndown_revision = "68cfa590ad28"\ndef (:\n')
    with pytest.raises(HistoryError, match=r"0011_0123456789ab_broken\.py, line 3 is not valid"):
        load_history(project, every_file=True)


def test_a_revision_file_that_raises_is_one_error_naming_its_line(project, repo_copy):
    failing = repo_copy / "versions" / "0011_0123456789ab_failing.py"
    failing.write_text(
        'revision = "0123456789ab"\ndown_revision = "68cfa590ad28"\n'
        "branch_labels = None\ndepends_on = None\nraise RuntimeError('no')\n"
    )
    with pytest.raises(HistoryError, match=r"failed to load in .*failing\.py, line 5"):
        load_history(project, every_file=True)


def test_without_a_squash_the_released_project_is_the_project(project):
    assert released_project(project) is project
    assert squashed_into(project, [HEAD]) is None
