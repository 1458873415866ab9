"""A developer's and a release manager's work on the embedded database, in this process:
branches, makemigrations, merge, check, a release for dev proven on SQLite, rebase and
squash, on a copy of the fixture whose alembic.ini names no scratch server (so nothing here
reaches one: PostgreSQL and MariaDB are proven by the tests beside tests/unit/)."""

from __future__ import annotations

import json
import re

from tests.conftest import MODELS, schemactl

HEAD = "68cfa590ad28"
REMINDER = '    reminder_count: Mapped[int] = mapped_column(server_default=text("0"))\n'
DISCOUNT = '    discount_total: Mapped[Decimal] = mapped_column(server_default=text("0"))\n'


def run(repo, *args):
    done = schemactl(repo, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def versions(repo):
    return sorted(p.name for p in (repo / "versions").glob("*.py"))


def test_a_feature_from_branch_to_release_on_sqlite(embedded_copy):
    repo = embedded_copy
    run(repo, "branch", "start", "invoicing")
    billing = repo / MODELS / "billing.py"
    billing.write_text(billing.read_text().replace(DISCOUNT, DISCOUNT + REMINDER))
    made = run(repo, "makemigrations", "--branch", "invoicing").stdout.splitlines()
    assert made[1:] == [
        "  Add invoices.reminder_count",
        "    + Add column reminder_count to invoices",
    ]
    assert run(repo, "makemigrations", "--branch", "invoicing").stdout == "No changes detected\n"

    checked = run(repo, "check").stdout.splitlines()
    assert "ok   alembic/migrations-run:sqlite" in checked  # up, down, up with rows
    assert "ok   alembic/models-match-migrations" in checked
    skipped = [line.split(":")[1] for line in checked if line.startswith("skip")]
    assert skipped == ["mariadb", "postgresql"]  # no scratch server: said, not hidden
    report = json.loads(run(repo, "check", "--json").stdout)
    assert report["ok"] and len(report["skipped"]) == 2

    released = run(repo, "release", "--env", "dev").stdout.splitlines()
    assert released[0].startswith("sql_out/dev/0001_") and released[-1].startswith("proven on ")
    folder = repo / released[0].split()[0]
    review = (folder / "review.md").read_text()
    assert "reminder_count" in (folder / "upgrade.sql").read_text() and "invoicing" in review
    assert run(repo, "release", "--check", "--env", "dev").stdout.startswith("1 release(s)")
    again = run(repo, "release", "--env", "dev").stdout
    assert again.startswith("Nothing to release")


def test_merge_rebase_and_squash_on_sqlite(embedded_copy):
    repo = embedded_copy
    run(repo, "branch", "start", "invoicing")
    run(repo, "branch", "start", "loyalty")
    billing = repo / MODELS / "billing.py"
    billing.write_text(billing.read_text().replace(DISCOUNT, DISCOUNT + REMINDER))
    run(repo, "makemigrations", "-b", "invoicing", "-m", "Add the reminder count")
    billing.write_text(
        billing.read_text() + "\n\nclass LoyaltyPoints(Base):\n"
        '    __tablename__ = "loyalty_points"\n\n'
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "    points: Mapped[int]\n"
    )
    run(repo, "makemigrations", "-b", "loyalty", "-m", "Create loyalty points")
    assert schemactl(repo, "check").returncode == 1  # two heads

    merged = run(repo, "merge", "-m", "Release 2.3").stdout.splitlines()
    assert merged[0].startswith("Merging ") and merged[-1].endswith(": Release 2.3")
    assert any(" give the same schema (scratch SQLite)." in line for line in merged), merged
    assert [n for n in versions(repo) if n.startswith("0013_")]

    run(repo, "branch", "start", "late")
    points = "    points: Mapped[int]\n"
    billing.write_text(
        billing.read_text().replace(points, points + "    tier: Mapped[str | None]\n")
    )
    late = run(repo, "makemigrations", "-b", "late", "-m", "Add the loyalty tier").stdout
    late_file = repo / late.splitlines()[0]
    billing.write_text(
        billing.read_text().replace(
            REMINDER, REMINDER + REMINDER.replace("reminder_count", "dunning_level")
        )
    )
    trunk = run(repo, "makemigrations", "--branch", "trunk", "-m", "Add the dunning level")
    trunk_rev = trunk.stdout.splitlines()[0].split("_")[1]
    rebased = run(repo, "rebase", "late").stdout.splitlines()
    assert rebased[0] == "Rebased late onto the trunk head:"
    start = (repo / rebased[1].strip()).read_text()
    assert re.search(rf"^down_revision\b.* = \"{trunk_rev}\"$", start, re.M), start
    assert not late_file.exists() and (repo / rebased[2].strip()).name.endswith("_tier.py")

    squashed = run(repo, "squash", "--to", HEAD).stdout
    assert HEAD in squashed
    files = [p for p in (repo / "versions").glob("*.py") if HEAD in p.name]
    assert len(files) == 1 and "Squash of" in files[0].read_text()
    graph = run(repo, "graph").stdout
    assert graph.splitlines()[0].startswith(f"o {HEAD}")
