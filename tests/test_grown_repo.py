"""The repo-reading tests (tests/repo/) must hold on any history the team writes: a copy of
this repo is grown as a team grows it — a branch with a new table (a foreign key, indexes), a
trunk revision beside it, their merge, a release for prod, proven — and tests/repo/ runs on
the grown copy, in a pytest of its own. The growth is self-contained (new tables of its own),
so it fits whatever the app's models hold today.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from .conftest import REPO, schemactl, scratch_env

pytestmark = [pytest.mark.postgresql, pytest.mark.mariadb]

GROWTH_BRANCH = """

# -- grown by tests/test_grown_repo.py ------------------------------------------------------
from sqlalchemy import ForeignKey as _ForeignKey  # noqa: E402
from sqlalchemy import Index as _Index  # noqa: E402
from sqlalchemy import String as _String  # noqa: E402
from sqlalchemy import text as _text  # noqa: E402
from sqlalchemy.orm import Mapped as _Mapped  # noqa: E402
from sqlalchemy.orm import mapped_column as _column  # noqa: E402


class GrowthTopic(Base):
    __tablename__ = "growth_topics"

    id: _Mapped[int] = _column(primary_key=True)
    title: _Mapped[str] = _column(_String(80), unique=True)


class GrowthNote(Base):
    __tablename__ = "growth_notes"
    __table_args__ = (_Index("ix_growth_notes_topic_rank", "topic_id", "rank"),)

    id: _Mapped[int] = _column(primary_key=True)
    topic_id: _Mapped[int] = _column(_ForeignKey("growth_topics.id"), index=True)
    rank: _Mapped[int] = _column(server_default=_text("0"))
    body: _Mapped[str | None] = _column(_String(200), index=True)
"""

GROWTH_TRUNK = """

class GrowthTag(Base):
    __tablename__ = "growth_tags"

    id: _Mapped[int] = _column(primary_key=True)
    label: _Mapped[str] = _column(_String(40), server_default="new")
"""


def _copy_repo(dest):
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".schemactl_cache", "var")
    dest.mkdir()
    for name in ("alembic.ini", "pyproject.toml"):
        shutil.copy(REPO / name, dest / name)
    for folder in ("tools", "schema", "versions", "reporting", "sql_out", "example_app"):
        shutil.copytree(REPO / folder, dest / folder, ignore=skip)
    (dest / "tests").mkdir()
    for name in ("__init__.py", "conftest.py"):
        shutil.copy(REPO / "tests" / name, dest / "tests" / name)
    shutil.copytree(REPO / "tests" / "repo", dest / "tests" / "repo", ignore=skip)
    return dest


def run(repo, *args, env=None):
    done = schemactl(repo, *args, env=env)
    assert done.returncode == 0, f"schemactl {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done


@pytest.mark.slow(90)
def test_the_repo_tests_hold_on_a_grown_copy(tmp_path):
    servers = scratch_env("postgresql", "mariadb")
    repo = _copy_repo(tmp_path / "grown")
    models = repo / "schema" / "__init__.py"

    run(repo, "branch", "start", "growth")
    models.write_text(models.read_text() + GROWTH_BRANCH)
    run(repo, "makemigrations", "--branch", "growth", "-m", "Growth topics and notes")
    models.write_text(models.read_text() + GROWTH_TRUNK)
    run(repo, "makemigrations", "--branch", "trunk", "-m", "Growth tags")
    run(repo, "merge")
    run(repo, "release", "--env", "prod", env=servers)

    environ = {k: v for k, v in os.environ.items() if not k.startswith(("BILLGEN_", "SCHEMACTL_"))}
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/repo"],
        cwd=repo,
        env={**environ, **servers},
        capture_output=True,
        text=True,
    )
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout and " skipped" not in tests.stdout
