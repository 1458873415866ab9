"""A day on the embedded database, in this process: the online commands and their reports on
the fixture's dev environment (an SQLite file in the copy's var/), no server. The same
commands on PostgreSQL and MariaDB are proven in the tests beside tests/unit/."""

from __future__ import annotations

import sqlite3

from tests.conftest import schemactl

HEAD = "68cfa590ad28"
MERGE = "e58b81ed3f5b"  # the revision before HEAD


def run(repo, *args):
    done = schemactl(repo, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done


def test_upgrade_status_audit_verify_downgrade_and_stamp(repo_copy):
    up = run(repo_copy, "upgrade")
    assert up.stderr.count("... done") == up.stderr.count("Running upgrade")
    assert up.stderr.count("Running upgrade") >= 10

    assert up.stdout == f"dev (sqlite) is now at {HEAD}\n"
    status = run(repo_copy, "status").stdout.splitlines()
    assert [line[:3] for line in status if line.startswith("[")] == ["[X]"] * 12
    assert status[-1].startswith(f"[X] 0010 {HEAD}") and status[-1].endswith("(head)")

    audit = run(repo_copy, "audit")
    lines = audit.stdout.splitlines()
    assert lines[0].startswith("Audit of") and "Time per release:" in lines
    assert sum(" upgrade " in line for line in lines) >= 10
    assert "EDITED" not in audit.stdout

    verify = run(repo_copy, "-n", "alembic", "verify")
    assert "No drift: the database matches its revision exactly." in verify.stdout

    plan = run(repo_copy, "downgrade", "-1", "--plan")
    assert f"downgrade {HEAD}" in plan.stdout
    with sqlite3.connect(repo_copy / "var" / "dev.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]

    run(repo_copy, "downgrade", "-1")
    with sqlite3.connect(repo_copy / "var" / "dev.db") as db:
        (now,) = db.execute("SELECT version_num FROM alembic_version").fetchall()
        directions = [d for (d,) in db.execute("SELECT direction FROM schemactl_audit")]
    assert now == (MERGE,) and directions[-1] == "downgrade"
    status = run(repo_copy, "status").stdout.splitlines()
    assert status[-1].startswith(f"[ ] 0010 {HEAD}")

    run(repo_copy, "stamp", HEAD)
    with sqlite3.connect(repo_copy / "var" / "dev.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
        assert [d for (d,) in db.execute("SELECT direction FROM schemactl_audit")][-1] == "stamp"

    backups = run(repo_copy, "backups").stdout.splitlines()
    assert backups[0].startswith("Backups in dev (sqlite)") and backups[1].startswith("None")


def test_verify_finds_a_column_added_by_hand(repo_copy):
    run(repo_copy, "upgrade")
    with sqlite3.connect(repo_copy / "var" / "dev.db") as db:
        db.execute("ALTER TABLE users ADD COLUMN fax VARCHAR(20)")
    drift = schemactl(repo_copy, "-n", "alembic", "verify")
    assert drift.returncode == 1 and "fax" in drift.stdout + drift.stderr


def test_the_graph_and_the_branches_are_read_without_a_database(repo_copy):
    graph = run(repo_copy, "graph")
    assert HEAD in graph.stdout
    mermaid = run(repo_copy, "graph", "--format", "mermaid")
    assert mermaid.stdout.startswith(("graph", "flowchart", "```"))
    listed = run(repo_copy, "branch", "list")
    assert "payments" in listed.stdout
    assert not (repo_copy / "var" / "dev.db").exists()


def test_what_the_projects_code_prints_goes_to_stderr_on_every_command(tmp_path):
    """env.py and a revision file print when imported, the revision when it runs: on every
    command that runs or reads them, stdout holds only schemactl's own output."""
    from tests.conftest import SCENARIOS, scenario_copy

    project = scenario_copy(tmp_path, SCENARIOS / "data")
    env = project / "migrations" / "env.py"
    env.write_text('print("PRINTED by env.py")\n' + env.read_text())
    (first,) = (project / "migrations" / "versions").glob("d001_*.py")
    first.write_text(
        first.read_text().replace(
            "def upgrade():",
            'print("PRINTED at import")\n\n\ndef upgrade():\n    print("PRINTED by upgrade")',
            1,
        )
    )
    config = ["-c", str(project / "alembic.ini")]
    commands = [
        ["upgrade", "--plan"], ["upgrade"], ["status"], ["graph"], ["branch", "list"],
        ["sql", "--stdout", "--from", "base"], ["lint", "--json"], ["audit"], ["verify"],
        ["downgrade", "base", "--plan"], ["downgrade", "base"], ["stamp", "heads"],
    ]  # fmt: skip
    printed = ""
    for command in commands:
        done = schemactl(project, *config, *command)
        assert done.returncode == 0, (command, done.stdout + done.stderr)
        assert "PRINTED" not in done.stdout, (command, done.stdout)
        printed += done.stderr
    assert {"PRINTED by env.py", "PRINTED at import", "PRINTED by upgrade"} <= set(
        printed.splitlines()
    )
