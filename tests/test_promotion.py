"""Promotion: `requires = staging` in [schemactl.env.prod] makes `release --env prod` take only
what staging's audit shows it ran, on the real servers; --force-unstaged records why not."""

from __future__ import annotations

import json

import pytest

from .conftest import schemactl

HEAD = "68cfa590ad28"
BRANCH_POINT = "9ecdc98b5e8a"
NEW = '''"""Customers: a nickname

Revision ID: 7e57ab1e0003
Revises: 68cfa590ad28
Create Date: 2026-12-01 09:00:00+00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "7e57ab1e0003"
down_revision = "68cfa590ad28"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("nickname", sa.String(length=40), nullable=True))


def downgrade() -> None:
    op.drop_column("customers", "nickname")
'''
FILE = "0011_7e57ab1e0003_customers_nickname.py"


def requiring(repo, env: str, required: str) -> None:
    ini = repo / "alembic.ini"
    section = f"[schemactl.env.{env}]\n"
    ini.write_text(ini.read_text().replace(section, f"{section}requires = {required}\n", 1))


def releases(repo, env: str) -> list[str]:
    manifest = repo / "sql_out" / env / "manifest.json"
    if not manifest.exists():
        return []
    return [r["name"] for r in json.loads(manifest.read_text())["releases"]]


@pytest.mark.postgresql
def test_prod_takes_only_what_staging_ran(repo_copy, throwaway_database, scratch_servers):
    staging = throwaway_database("postgresql")
    environ = {
        "BILLGEN_STAGING_URL": staging.url.render_as_string(hide_password=False),
        **scratch_servers("postgresql"),
    }
    requiring(repo_copy, "prod", "staging")
    (repo_copy / "versions" / FILE).write_text(NEW)
    assert schemactl(repo_copy, "--env", "staging", "upgrade", HEAD, env=environ).returncode == 0
    before = releases(repo_copy, "prod")

    refused = schemactl(repo_copy, "release", "--env", "prod", env=environ)
    assert refused.returncode == 1, refused.stdout
    assert "staging has not run revision 7e57ab1e0003 (" + FILE in refused.stderr, refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    assert releases(repo_copy, "prod") == before  # nothing written

    # Staging runs it; then the file is edited: what staging ran is not this file any more.
    assert schemactl(repo_copy, "--env", "staging", "upgrade", env=environ).returncode == 0
    path = repo_copy / "versions" / FILE
    path.write_text(NEW.replace("length=40", "length=50"))
    edited = schemactl(repo_copy, "release", "--env", "prod", env=environ)
    assert edited.returncode == 1 and "7e57ab1e0003" in edited.stderr, edited.stderr
    path.write_text(NEW)

    accepted = schemactl(repo_copy, "release", "--env", "prod", env=environ)
    assert accepted.returncode == 0, accepted.stderr
    assert releases(repo_copy, "prod") == [*before, "0003_7e57ab1e0003"]
    # Unreachable staging: refused, saying how to go on.
    gone = {**environ, "BILLGEN_STAGING_URL": "postgresql://postgres@127.0.0.1:1/x"}
    (repo_copy / "versions" / "0012_7e57ab1e0004_more.py").write_text(
        NEW.replace("7e57ab1e0003", "7e57ab1e0004")
        .replace('down_revision = "68cfa590ad28"', 'down_revision = "7e57ab1e0003"')
        .replace("nickname", "alias")
    )
    unread = schemactl(repo_copy, "release", "--env", "prod", env=gone)
    assert unread.returncode == 1
    assert "requires staging, whose audit cannot be read" in unread.stderr, unread.stderr
    assert "--force-unstaged" in unread.stderr and "postgres@127.0.0.1:1" in unread.stderr


def test_force_unstaged_is_recorded_with_its_reason(repo_copy, tmp_path):
    """SQLite: qa requires dev, which stands at the branch point: refused; --force-unstaged
    needs a reason, and writes it (one line, whatever was typed) into the manifest and the
    review with the revisions dev had not run."""
    ini = repo_copy / "alembic.ini"
    ini.write_text(
        ini.read_text()
        + f"\n[schemactl.env.qa]\ndialect = sqlite\ndefault_url = sqlite:///{tmp_path}/qa.db\n"
        f"reporting.default_url = sqlite:///{tmp_path}/qa_reporting.db\nrequires = dev\n"
    )
    environ = {"BILLGEN_DEV_URL": f"sqlite:///{tmp_path}/dev.db"}
    assert schemactl(repo_copy, "upgrade", BRANCH_POINT, env=environ).returncode == 0
    refused = schemactl(repo_copy, "release", "--env", "qa", env=environ)
    assert refused.returncode == 1 and "dev has not run revision 466a3e31682b" in refused.stderr
    empty = schemactl(repo_copy, "release", "--env", "qa", "--force-unstaged", " ", env=environ)
    assert empty.returncode == 1 and "needs a reason" in empty.stderr
    assert releases(repo_copy, "qa") == []
    reason = "hotfix OPS-1 | approved\n## by the CTO"
    forced = schemactl(repo_copy, "release", "--env", "qa", "--force-unstaged", reason, env=environ)
    assert forced.returncode == 0, forced.stderr
    assert "NOT staged: dev had not run" in forced.stdout
    (made,) = json.loads((repo_copy / "sql_out" / "qa" / "manifest.json").read_text())["releases"]
    unstaged = made["unstaged"]
    assert (
        unstaged["required"] == "dev"
        and unstaged["reason"] == "hotfix OPS-1 | approved ## by the CTO"
    )
    assert unstaged["missing"][0] == "466a3e31682b" and len(unstaged["missing"]) == 6
    review = (repo_copy / "sql_out" / "qa" / made["name"] / "review.md").read_text()
    banner = next(line for line in review.splitlines() if line.startswith("**NOT STAGED.**"))
    assert "requires dev" in banner and "`466a3e31682b`" in banner
    assert "\n## by the CTO" not in review  # the reason cannot make a heading
    assert schemactl(repo_copy, "release", "--check").returncode == 0
    # On an environment that requires nothing, --force-unstaged is a mistake, said so.
    alone = schemactl(repo_copy, "release", "--env", "dev", "--force-unstaged", "x", env=environ)
    assert alone.returncode == 1 and "requires no other environment" in alone.stderr


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("requires = nowhere", "requires = nowhere, which is no environment"),
        ("requires = prod", "requires goes round in a circle (prod -> prod)"),
    ],
)
def test_a_bad_requires_is_one_line(repo_copy, setting, said):
    ini = repo_copy / "alembic.ini"
    ini.write_text(
        ini.read_text().replace("[schemactl.env.prod]\n", f"[schemactl.env.prod]\n{setting}\n")
    )
    done = schemactl(repo_copy, "status")
    assert done.returncode == 1 and said in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
