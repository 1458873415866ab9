"""Lint where a server is part of the story: a silenced rule's reason reaches the review of a
release proven on PostgreSQL. The rules themselves are tested offline, in
tests/unit/test_lint_rules.py."""

from __future__ import annotations

from tests.unit.test_lint_rules import add_case, findings, runner
from tools.cli import app


def test_a_silenced_rule_keeps_its_reason_and_does_not_block(repo_copy, scratch_servers):
    scratch_servers("postgresql")
    add_case(
        repo_copy,
        '    op.drop_column("users", "phone")',
        '    op.add_column("users", sa.Column("phone", sa.String(20)))',
        header="# schemactl: allow destructive: phone was never read; backed up in TICKET-12\n",
    )
    result, found = findings(repo_copy)
    assert result.exit_code == 0
    (drop,) = [f for f in found if f["rule"] == "destructive"]
    assert drop["silenced"] == "phone was never read; backed up in TICKET-12"
    released = runner.invoke(
        app, ["-c", str(repo_copy / "alembic.ini"), "release", "--env", "prod"]
    )
    assert released.exit_code == 0, released.output
    review = next((repo_copy / "sql_out" / "prod").glob("0003_*/review.md")).read_text()
    assert "phone was never read; backed up in TICKET-12" in review
