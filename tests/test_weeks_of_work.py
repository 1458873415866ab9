"""A team's ordinary weeks of schema work, done with the CLI as a user would, on a copy of the
billing fixture: every move must hold, and the next one must still work after it.

    trunk: a column with a server default, a new table with foreign keys and three indexes
    branch widen: a type change          branch lookup: an index
    merge; releases for prod and mariadb, proven; an edited released file refused; a git
    conflict left in a model; a squash of everything released and a new branch after it;
    PostgreSQL and MariaDB online up/down/up of the squashed history.
"""

from __future__ import annotations

import json

import pytest

from .conftest import MODELS, schemactl, scratch_env
from .test_audit import str_url

pytestmark = [pytest.mark.postgresql, pytest.mark.mariadb]


def edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def run(repo, *args: str, env: dict[str, str] | None = None, ok: bool = True):
    done = schemactl(repo, *args, env=env)
    if ok:
        assert done.returncode == 0, f"schemactl {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done


def heads(repo) -> list[str]:
    from tools.config import load_project
    from tools.history.load import load_graph

    return list(load_graph(load_project(repo / "alembic.ini").alembic_config()).heads)


def last_release_end(repo, env: str) -> list[str]:
    manifest = json.loads((repo / "sql_out" / env / "manifest.json").read_text())
    return manifest["releases"][-1]["to"]


@pytest.mark.slow(50)
def test_weeks_of_work(repo_copy, throwaway_database):
    repo = repo_copy
    servers = scratch_env("postgresql", "mariadb")
    dev = {"BILLGEN_DEV_URL": f"sqlite:///{repo / 'var' / 'dev.db'}"}
    billing, customers = repo / MODELS / "billing.py", repo / MODELS / "customers.py"

    # Week 1, trunk: a column with a server default and a table with foreign keys and indexes.
    edit(
        billing,
        '    discount_total: Mapped[Decimal] = mapped_column(server_default=text("0"))\n',
        '    discount_total: Mapped[Decimal] = mapped_column(server_default=text("0"))\n'
        '    reminder_count: Mapped[int] = mapped_column(server_default=text("0"))\n',
    )
    edit(billing, "from sqlalchemy import ", "from sqlalchemy import Index, Text, func, ")
    billing.write_text(
        billing.read_text() + "\n\nclass InvoiceNote(Base):\n"
        '    __tablename__ = "invoice_notes"\n'
        '    __table_args__ = (Index("ix_invoice_notes_invoice_written", "invoice_id", '
        '"written_at"),)\n\n'
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        '    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)\n'
        '    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)\n'
        "    body: Mapped[str] = mapped_column(Text)\n"
        "    written_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())\n"
    )
    run(repo, "makemigrations", "-m", "Invoice notes and reminders")
    run(repo, "upgrade", env=dev)

    # Weeks 2-3: two branches, a type change on one, an index on the other.
    run(repo, "branch", "start", "widen")
    run(repo, "branch", "start", "lookup")
    edit(customers, "mapped_column(String(200))", "mapped_column(String(300))")
    run(repo, "makemigrations", "--branch", "widen", "-m", "Longer customer names")
    # (On another table: SQLite rebuilds customers from the copy the widen revision holds,
    # which cannot know of an index another branch adds; merge says so, see test_merge_*.)
    edit(
        billing,
        "    due_date: Mapped[dt.date | None]\n",
        "    due_date: Mapped[dt.date | None] = mapped_column(index=True)\n",
    )
    run(repo, "makemigrations", "--branch", "lookup", "-m", "Find invoices by due date")
    run(repo, "upgrade", "heads", env=dev)  # the dev database takes both branches
    assert len(heads(repo)) == 2
    # Not mergeable yet: no release of two heads, status --check says so.
    refused = run(repo, "release", "--env", "prod", env=servers, ok=False)
    assert refused.returncode == 1 and "schemactl merge" in refused.stderr
    assert run(repo, "status", "--check", env=dev, ok=False).returncode != 0

    # Week 4: merge, the dev database follows, check proves everything unreleased.
    run(repo, "merge", "-m", "Merge widen and lookup")
    (head,) = heads(repo)
    run(repo, "upgrade", env=dev)
    run(repo, "status", "--check", env=dev)
    run(repo, "check", env=servers)

    # Releases for prod (after its two) and mariadb (its first), each proven on a server.
    for env in ("prod", "mariadb"):
        released = run(repo, "release", "--env", env, env=servers)
        assert "proven" in released.stdout
        assert last_release_end(repo, env) == [head]
    for seed in ("0", "1", "4242"):
        check = schemactl(repo, "release", "--check", env={"PYTHONHASHSEED": seed})
        assert check.returncode == 0, check.stdout + check.stderr

    # An edited released file: the next release is refused, naming it; git restores it.
    released_file = next((repo / "versions").glob("*_longer_customer_names.py"))
    original = released_file.read_text()
    released_file.write_text(original.replace("Longer customer names", "Longer names", 1))
    edit(customers, "mapped_column(String(300))", "mapped_column(String(320))")
    refused = run(repo, "release", "--env", "prod", env=servers, ok=False)
    assert refused.returncode == 1 and released_file.name in refused.stderr
    assert len(refused.stderr.splitlines()) == 1
    released_file.write_text(original)
    edit(customers, "mapped_column(String(320))", "mapped_column(String(300))")

    # A git conflict left in a model: one line naming the file, on every command.
    clean = customers.read_text()
    edit(
        customers,
        "    tax_id: Mapped[str | None]",
        "<<<<<<< HEAD\n    vat: Mapped[str | None]\n=======\n>>>>>>> other\n    tax_id: Mapped[str | None]",
    )
    for command in (["check"], ["makemigrations"]):
        broken = run(repo, *command, env=dev, ok=False)
        said = broken.stdout + broken.stderr  # check reports on stdout, the other fails
        assert broken.returncode == 1 and "Traceback" not in said
        assert f"{MODELS}/customers.py:" in said and "conflict marker" in said
    # status loads no model: the version table env.py named was kept (tools.live.env_answers)
    shown = run(repo, "status", env=dev)
    assert "revisions applied" in shown.stdout and not shown.stderr
    customers.write_text(clean)

    # Squash everything released; then new work on a new branch carries on.
    squashed = run(repo, "squash", "--to", head)
    assert f"Squash base .. {head}" in squashed.stdout
    assert run(repo, "branch", "list").returncode == 0
    run(repo, "branch", "start", "credit")
    edit(
        billing,
        '    reminder_count: Mapped[int] = mapped_column(server_default=text("0"))\n',
        '    reminder_count: Mapped[int] = mapped_column(server_default=text("0"))\n'
        '    credit_notes: Mapped[int] = mapped_column(server_default=text("0"))\n',
    )
    run(repo, "makemigrations", "--branch", "credit", "-m", "Credit notes")
    run(repo, "check", env=servers)
    run(repo, "release", "--check")
    status = run(repo, "status", env={"BILLGEN_DEV_URL": f"sqlite:///{repo / 'fresh.db'}"})
    assert "widen" not in status.stdout and "lookup" not in status.stdout

    # The squashed history, online, up/down/up on PostgreSQL and MariaDB.
    for dialect, env, variable in (
        ("postgresql", "staging", "BILLGEN_STAGING_URL"),
        ("mariadb", "mariadb", "BILLGEN_MARIADB_URL"),
    ):
        url = {variable: str_url(throwaway_database(dialect))}
        for step in (["upgrade", "heads"], ["downgrade", "base"], ["upgrade", "heads"]):
            run(repo, "--env", env, *step, env=url)
    # The dev database built before the squash carries on through it.
    carried = run(repo, "upgrade", "heads", env=dev)
    assert "Running upgrade" in carried.stderr  # the credit branch, on top of the merge
