"""The repo-reading tests: this repo's own project (schema/, versions/, reporting/, sql_out/),
whatever its history is today. They assert what must hold for any history the team writes
(every revision runs both ways with rows, head matches the models, plain Alembic works, the
app runs on the models) and name no revision: CI runs them again on a copy of the repo grown
by a branch, a merge and a release (tests/test_grown_repo.py).
"""

from __future__ import annotations

import pytest

from tests.conftest import REPO
from tools.config import Project, load_project


@pytest.fixture
def project() -> Project:
    return load_project(REPO / "alembic.ini")


@pytest.fixture
def repo_metadata():
    """The repo's billing models (schema.metadata)."""
    import schema

    return schema.metadata
