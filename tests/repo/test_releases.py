"""The repo's gate, whatever history and releases the team has: `check --strict` (one head,
models match, everything renders, unreleased revisions run with rows, sql_out/ current) and
`release --check` (every recorded file as recorded, current scripts re-rendered byte for
byte)."""

from __future__ import annotations

import pytest

from tests.conftest import REPO, schemactl, scratch_env


def test_release_check_passes():
    checked = schemactl(REPO, "release", "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.endswith(": all current\n")


@pytest.mark.postgresql
@pytest.mark.mariadb
def test_check_passes():
    checked = schemactl(REPO, "check", "--strict", env=scratch_env("postgresql", "mariadb"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
