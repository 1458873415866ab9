"""Feature branches and merges, Django-style, on throwaway copies of this repo.

Each scenario in tests/scenarios/<name>/ holds revision files added to a copy of the repo;
its graph is drawn in the test's docstring.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tools.cli import app

from .conftest import MODELS, SCENARIOS, schemactl

runner = CliRunner()
HEAD = "68cfa590ad28"


def with_scenario(repo, name):
    for path in sorted((SCENARIOS / name).glob("*.py")):
        shutil.copy(path, repo / "versions" / path.name)
    return repo


def cli(repo, *args):
    return runner.invoke(app, ["-c", str(repo / "alembic.ini"), *args])


def versions(repo):
    return sorted(p.name for p in (repo / "versions").glob("*.py"))


def test_merge_of_independent_features(repo_copy):
    """Two features that touch different tables merge cleanly.

    0010 (68cf) ─┬─ 0011 a1a1 (invoicing: invoices.reminder_count) ─┐
                 └─ 0011 b1b1 (loyalty: loyalty_points table) ──────┴─ 0012 merge
    """
    with_scenario(repo_copy, "two_features")
    result = cli(repo_copy, "merge")
    assert result.exit_code == 0, result.output
    (merge_file,) = [n for n in versions(repo_copy) if n.startswith("0012_")]
    # It says what it checked, then what it wrote.
    assert result.stdout.splitlines() == [
        f"Merging a1a1a1a1a1a1, b1b1b1b1b1b1 (common ancestor: {HEAD})",
        "  invoicing: 1 revision",
        "  loyalty: 1 revision",
        "Checked: no table, column, index, constraint, enum or table data is changed by more "
        "than one branch.",
        "Checked: invoicing then loyalty, and loyalty then invoicing give the same schema "
        "(scratch SQLite).",
        f"versions/{merge_file}",
        "  Merge invoicing and loyalty",
    ]
    assert merge_file.endswith("_merge_invoicing_and_loyalty.py")
    text = (repo_copy / "versions" / merge_file).read_text()
    assert text.startswith('"""Merge invoicing and loyalty\n')
    # ruff (Alembic's post-write hook) turned the template's repr() quotes into its own
    assert 'down_revision: str | Sequence[str] | None = ("a1a1a1a1a1a1", "b1b1b1b1b1b1")' in text
    graph = cli(repo_copy, "graph")
    assert graph.stdout.splitlines()[-1].endswith(
        "Merge invoicing and loyalty  (merge of invoicing, loyalty; head; "
        "labels discounts, invoicing, loyalty +1)"
    )


def test_two_branches_altering_one_column_conflict(repo_copy):
    """Both branches alter customers.email: reported, exit 1, nothing written.

    0010 (68cf) ─┬─ 0011 a2a2 (widen_email: customers.email String(320))
                 └─ 0011 b2b2 (require_email: customers.email NOT NULL)
    """
    with_scenario(repo_copy, "same_column")
    before = versions(repo_copy)
    result = cli(repo_copy, "merge")
    assert result.exit_code == 1
    # The conflict, which files to edit, and what to run then.
    assert result.stderr.splitlines() == [
        "CONFLICT column customers.email is changed by require_email: b2b2b2b2b2b2; "
        "widen_email: a2a2a2a2a2a2",
        "  to resolve: edit or drop the change to column customers.email in one of "
        "versions/0011_b2b2b2b2b2b2_require_customers_email.py (require_email), "
        "versions/0011_a2a2a2a2a2a2_widen_customers_email.py (widen_email), so that one branch "
        "makes it or both changes agree; then run `schemactl merge` again",
        "Nothing written: resolve the conflicts (or merge anyway with --force).",
    ]
    assert versions(repo_copy) == before
    # Plain ALTER COLUMN does not run on SQLite: the order check says so, once, instead of
    # guessing.
    assert result.stdout.splitlines()[-1] == (
        "Order check skipped: SQLite cannot apply the branches "
        '(0011_a2a2a2a2a2a2_widen_customers_email.py:13: near "ALTER": syntax error), so '
        "their orders were not compared."
    )

    forced = cli(repo_copy, "merge", "--force", "-m", "email rules")
    assert forced.exit_code == 0, forced.output
    assert forced.stderr.startswith("CONFLICT column customers.email")  # still said
    (written,) = set(versions(repo_copy)) - set(before)
    assert written.endswith("_merge_widen_email_and_require_email.py")
    assert (
        (repo_copy / "versions" / written)
        .read_text()
        .startswith('"""Merge widen_email and require_email: email rules\n')
    )


def test_branches_whose_order_changes_the_schema(repo_copy):
    """users_archive copies the columns users has when it runs: before or after nickname.

    0010 (68cf) ─┬─ 0011 a3a3 (archive: CREATE TABLE users_archive AS SELECT * FROM users)
                 └─ 0011 b3b3 (nickname: users.nickname)
    """
    with_scenario(repo_copy, "order_dependent")
    result = cli(repo_copy, "merge")
    assert result.exit_code == 1
    assert "Raw SQL not analysed (the order check covers it): a3a3a3a3a3a3" in result.stdout
    (order,) = [line for line in result.stderr.splitlines() if line.startswith("ORDER ")]
    # Only the difference is shown: the second order's archive has the column too.
    assert order == (
        "ORDER archive then nickname and nickname then archive give different schemas: "
        "extra column users_archive.nickname (TEXT, nullable)"
    )
    assert result.stderr.splitlines()[-2] == (
        "  to resolve: change the revision whose result depends on the other branch so that "
        "it no longer does (raw SQL, as in a3a3a3a3a3a3, is the usual cause); then run "
        "`schemactl merge` again"
    )
    assert (
        "Checked: no table, column, index, constraint, enum or table data is changed by more "
        "than one branch (raw SQL aside)." in result.stdout.splitlines()
    )
    assert not any(n.startswith("0012_") for n in versions(repo_copy))


def test_rebase_moves_an_open_branch_onto_the_trunk_head(repo_copy):
    """invoicing started before customers.tax_id landed; rebase moves it on top.

    before:  0009 (e58b) ─┬─ 0010 68cf (trunk head)
                          └─ 0010 c4c4 ── 0011 d4d4 (invoicing)
    after:   0009 ── 0010 68cf ── 0011 c4c4 ── 0012 d4d4 (invoicing)
    """
    with_scenario(repo_copy, "stale_branch")
    result = cli(repo_copy, "rebase", "invoicing")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Rebased invoicing onto the trunk head:",
        "  versions/0011_c4c4c4c4c4c4_add_invoices_reminder_count.py",
        "  versions/0012_d4d4d4d4d4d4_index_invoices_reminder_count.py",
    ]
    moved = (
        repo_copy / "versions" / "0011_c4c4c4c4c4c4_add_invoices_reminder_count.py"
    ).read_text()
    assert 'down_revision = "68cfa590ad28"' in moved
    heads = cli(repo_copy, "graph").stdout.splitlines()
    assert heads[-1].startswith("│   o d4d4d4d4d4d4")
    assert heads[-1].endswith("(head; labels discounts, payments)")  # as Alembic labels it
    again = cli(repo_copy, "rebase", "invoicing")
    assert again.exit_code == 1
    assert again.output == f"Error: branch 'invoicing' already starts on the trunk head {HEAD}\n"


def test_rebase_refuses_merged_and_released_work(repo_copy):
    merged = cli(repo_copy, "rebase", "payments")
    assert merged.exit_code == 1
    assert merged.output == (
        "Error: branch 'payments' is merged: merged history is never rewritten\n"
    )
    with_scenario(repo_copy, "stale_branch")
    # The branch's line alone (a release of both unmerged heads is refused).
    released = cli(repo_copy, "release", "--env", "dev", "--to", "d4d4d4d4d4d4")
    assert released.exit_code == 0, released.output
    refused = cli(repo_copy, "rebase", "invoicing")
    assert refused.exit_code == 1
    assert refused.output == (
        "Error: branch 'invoicing' has revision c4c4c4c4c4c4 in release "
        "sql_out/dev/0001_d4d4d4d4d4d4: released history is never rewritten\n"
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Invoicing", "Error: 'Invoicing' is not a branch name; use a lowercase identifier"),
        ("../x", "Error: '../x' is not a branch name; use a lowercase identifier"),
        ("payments", "Error: branch 'payments' exists already (see `schemactl branch list`)"),
    ],
)
def test_branch_names_are_checked(repo_copy, name, message):
    result = cli(repo_copy, "branch", "start", name)
    assert result.exit_code == 1
    assert result.output.startswith(message)
    assert not any(n.startswith("0011_") for n in versions(repo_copy))


def test_check_passes_on_the_repo(repo_copy):
    result = cli(repo_copy, "check")
    assert result.exit_code == 0, result.output
    # Every database of the repo, each check named DATABASE/CHECK.
    assert result.stdout.splitlines() == [
        f"ok   {database}/{check}"
        for database in ("alembic", "reporting")
        for check in (
            "single-head",
            "models-match-migrations",
            "renders-offline",
            "downgrades",
            # Nothing unreleased: no revision to run, so no scratch server is needed.
            "migrations-run:mariadb",
            "migrations-run:postgresql",
            "migrations-run:sqlite",
            "sql-out-current",
        )
    ]


def test_check_fails_on_two_heads_and_reports_everything(embedded_copy):
    """Two open branches, and one revision that reads from the database (on the embedded
    database: what check reports is the subject, not where it runs).

    0010 (68cf) ─┬─ 0011 a1a1 (invoicing)
                 └─ 0011 b1b1 (loyalty)
    """
    with_scenario(embedded_copy, "two_features")
    reads = embedded_copy / "versions" / "0011_a1a1a1a1a1a1_add_invoices_reminder_count.py"
    reads.write_text(
        reads.read_text().replace(
            "def upgrade():\n",
            'def upgrade():\n    op.get_bind().execute(sa.text("SELECT 1")).scalar()\n',
        )
    )
    result = cli(embedded_copy, "-n", "alembic", "check", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    by_check = {}
    for problem in report["problems"]:
        by_check.setdefault(problem["check"], []).append(problem["message"])
    assert by_check["single-head"] == [
        "2 heads: a1a1a1a1a1a1, b1b1b1b1b1b1; join them with `schemactl merge`"
    ]
    assert len(by_check["renders-offline"]) == 3  # postgresql, mariadb and sqlite, upgrade
    assert all("revision a1a1a1a1a1a1" in m for m in by_check["renders-offline"])
    # The models lack reminder_count and loyalty_points: that is found too.
    (models,) = by_check["models-match-migrations"]
    assert "remove_column invoices.reminder_count" in models
    assert "remove_table loyalty_points" in models


def test_feature_cycle_start_makemigrations_merge_release(embedded_copy):
    """What a developer does, each command run as a fresh interpreter runs it (models change
    on disk), on the embedded database (the servers prove makemigrations' output in
    test_makemigrations.py and test_proven.py).

    0010 (68cf) ─┬─ 0011 start invoicing ── 0012 add_invoices_reminder_count ─┐
                 └─ 0011 start loyalty ── 0012 create_loyalty_points ─────────┴─ 0013 merge
    """
    started = schemactl(embedded_copy, "branch", "start", "invoicing")
    assert started.returncode == 0, started.stderr
    assert schemactl(embedded_copy, "branch", "start", "loyalty").returncode == 0
    billing = embedded_copy / MODELS / "billing.py"
    billing.write_text(
        billing.read_text().replace(
            '    discount_total: Mapped[Decimal] = mapped_column(server_default=text("0"))\n',
            '    discount_total: Mapped[Decimal] = mapped_column(server_default=text("0"))\n'
            '    reminder_count: Mapped[int] = mapped_column(server_default=text("0"))\n',
        )
    )
    made = schemactl(embedded_copy, "makemigrations", "--branch", "invoicing")
    assert made.returncode == 0, made.stderr
    (first,) = [n for n in versions(embedded_copy) if n.startswith("0012_")]
    assert first.endswith("_add_invoices_reminder_count.py")
    assert made.stdout.splitlines() == [
        f"versions/{first}",
        "  Add invoices.reminder_count",
        "    + Add column reminder_count to invoices",
    ]
    # Two branches open: without --branch, makemigrations asks where rather than making a
    # third head on the trunk.
    billing.write_text(billing.read_text().replace("reminder_count", "reminder_total"))
    unsaid = schemactl(embedded_copy, "makemigrations")
    assert unsaid.returncode == 1 and unsaid.stdout == ""
    assert unsaid.stderr == (
        "Error: branches invoicing, loyalty are open: say where the revision goes, --branch "
        "invoicing (or --branch trunk: the trunk then has a head of its own, to merge with "
        "theirs later)\n"
    )
    billing.write_text(billing.read_text().replace("reminder_total", "reminder_count"))
    assert schemactl(embedded_copy, "makemigrations", "--branch", "invoicing").stdout == (
        "No changes detected\n"
    )
    billing.write_text(
        billing.read_text() + "\n\nclass LoyaltyPoints(Base):\n"
        '    __tablename__ = "loyalty_points"\n\n'
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "    points: Mapped[int]\n"
    )
    loyalty = schemactl(
        embedded_copy, "makemigrations", "-b", "loyalty", "-m", "Create loyalty points"
    )
    assert loyalty.returncode == 0, loyalty.stderr
    new = embedded_copy / "versions" / loyalty.stdout.splitlines()[0].removeprefix("versions/")
    assert new.name.startswith("0012_") and new.name.endswith("_create_loyalty_points.py")
    assert schemactl(embedded_copy, "check").returncode == 1  # two heads
    merged = schemactl(embedded_copy, "merge")
    assert merged.returncode == 0, merged.stderr
    checked = schemactl(embedded_copy, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    released = schemactl(embedded_copy, "release", "--env", "dev")
    assert released.returncode == 0, released.stderr
    assert released.stdout.splitlines()[0].startswith("sql_out/dev/0001_")
    import subprocess
    import sys

    formatted = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", str(new)], capture_output=True
    )
    assert formatted.returncode == 0


GRAPH = """\
o ab251de0ab93  Baseline: users, customers, invoices and invoice items
o 228dfcf7a7c0  Add users.phone
o cc474e29ad24  Create tax_rates
o 45c580e85327  Create products
o a66186b7cc1d  Store invoices.total_amount as Numeric(12, 2), not Float
o 9ecdc98b5e8a  Seed the standard tax rates  (branchpoint)
├── discounts: from 9ecdc98b5e8a, merged
│   o 466a3e31682b  Start the discounts feature: create discounts
│   o fa4621c62bf9  Add invoices.discount_total
├── payments: from 9ecdc98b5e8a, merged
│   o 83a14815e175  Start the payments feature: create payments
│   o fcac57c435d7  Add payments.reference and index payments.paid_at
o e58b81ed3f5b  Merge the payments and discounts branches  (merge of discounts, payments; labels discounts, payments)
o 68cfa590ad28  Add customers.tax_id  (head; labels discounts, payments)
"""


def test_graph_as_a_tree_with_applied_marks(repo_copy, monkeypatch, tmp_path):
    assert cli(repo_copy, "graph").stdout == GRAPH
    monkeypatch.setenv("BILLGEN_DEV_URL", f"sqlite:///{tmp_path / 'g.db'}")
    assert cli(repo_copy, "upgrade", "fa4621c62bf9").exit_code == 0
    marked = cli(repo_copy, "graph", "--env", "dev").stdout.splitlines()
    assert marked[5] == "[X] 9ecdc98b5e8a  Seed the standard tax rates  (branchpoint)"
    assert marked[8] == "│   [X] fa4621c62bf9  Add invoices.discount_total"
    assert marked[10] == "│   [ ] 83a14815e175  Start the payments feature: create payments"
    mermaid = cli(repo_copy, "graph", "--format", "mermaid").stdout.splitlines()
    assert mermaid[0] == "flowchart BT"
    assert "    r9ecdc98b5e8a --> r83a14815e175" in mermaid
    assert "    rfcac57c435d7 --> re58b81ed3f5b" in mermaid


def test_branch_list(repo_copy):
    with_scenario(repo_copy, "two_features")
    # A label's revisions are Alembic's: a merged branch's go on through its merge and every
    # revision after it, so its heads are the two open features' (discounts@head is
    # ambiguous to Alembic too); its tables are its own line's.
    assert cli(repo_copy, "branch", "list").stdout.splitlines() == [
        "branch     first         head                        revs  state   tables",
        "discounts  466a3e31682b  a1a1a1a1a1a1, b1b1b1b1b1b1     6  merged  discounts, invoices",
        "invoicing  a1a1a1a1a1a1  a1a1a1a1a1a1                   1  open    invoices",
        "loyalty    b1b1b1b1b1b1  b1b1b1b1b1b1                   1  open    loyalty_points",
        "payments   83a14815e175  a1a1a1a1a1a1, b1b1b1b1b1b1     6  merged  payments",
    ]


def test_makemigrations_empty_and_on_an_unknown_branch(repo_copy):
    empty = cli(repo_copy, "makemigrations", "--empty", "-m", "Backfill invoice numbers")
    assert empty.exit_code == 0, empty.output
    path = repo_copy / empty.stdout.splitlines()[0]
    assert path.name.startswith("0011_") and path.name.endswith("_backfill_invoice_numbers.py")
    assert empty.stdout.splitlines()[1:] == [
        "  Backfill invoice numbers",
        "    (no operations: write its upgrade() and downgrade())",
    ]
    # The start of a data migration keeps what it will need; the formatter leaves it, and
    # ruff (as CI runs it) is content.
    assert "from alembic import op\n" in path.read_text()
    assert "import sqlalchemy as sa\n" in path.read_text()
    linted = subprocess.run(
        [sys.executable, "-m", "ruff", "check", str(path)], cwd=repo_copy, capture_output=True
    )
    assert linted.returncode == 0, linted.stdout
    body = path.read_text().split("def upgrade() -> None:\n", 1)[1].split("\n\n", 1)[0]
    assert [line.strip() for line in body.splitlines() if not line.strip().startswith("#")] == [
        "pass"
    ]
    unknown = cli(repo_copy, "makemigrations", "--branch", "nope")
    assert unknown.exit_code == 1
    assert unknown.output == (
        "Error: no branch 'nope' (branches: discounts, payments); start it with "
        "`schemactl branch start nope`\n"
    )
    merged = cli(repo_copy, "makemigrations", "--branch", "payments")
    assert merged.output == (
        "Error: branch 'payments' is merged; put new work on the trunk or start a new branch\n"
    )


def test_check_fails_on_a_model_change_without_a_revision(repo_copy):
    customers = repo_copy / MODELS / "customers.py"
    customers.write_text(
        customers.read_text().replace(
            "    tax_id:",
            "    vat_number: Mapped[str | None] = mapped_column(String(20))\n    tax_id:",
        )
    )
    result = schemactl(repo_copy, "check")
    assert result.returncode == 1
    assert result.stdout.splitlines()[:3] == [
        "ok   alembic/single-head",
        "FAIL alembic/models-match-migrations",
        "     the models differ from the migrations (add_column customers.vat_number); run "
        "`schemactl makemigrations`",
    ]


def test_check_fails_on_a_downgrade_that_undoes_nothing(repo_copy):
    phone = repo_copy / "versions" / "0002_228dfcf7a7c0_add_users_phone.py"
    phone.write_text(phone.read_text().replace('    op.drop_column("users", "phone")', "    pass"))
    result = cli(repo_copy, "-n", "alembic", "check")
    assert result.exit_code == 1
    assert (
        "     228dfcf7a7c0 (0002_228dfcf7a7c0_add_users_phone.py) changes the schema but its "
        "downgrade does nothing"
    ) in result.stdout.splitlines()


def test_a_percent_in_tmpdir_breaks_no_scratch_database(repo_copy, tmp_path):
    """Scratch databases live under $TMPDIR; their URL reaches Alembic's ini parser, where
    '%' is the escape character.

    0010 (68cf) ─┬─ 0011 a1a1 (invoicing) ─┐
                 └─ 0011 b1b1 (loyalty) ───┴─ 0012 merge (written here)
    """
    odd = tmp_path / "t%mp 50%"
    odd.mkdir()
    environ = {"TMPDIR": str(odd)}
    checked = schemactl(repo_copy, "check", env=environ)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    made = schemactl(repo_copy, "makemigrations", env=environ)
    assert (made.returncode, made.stdout, made.stderr) == (0, "No changes detected\n", "")
    with_scenario(repo_copy, "two_features")
    merged = schemactl(repo_copy, "merge", env=environ)
    assert merged.returncode == 0, merged.stderr
    assert [n for n in versions(repo_copy) if n.startswith("0012_")]
    assert list(odd.iterdir()) == []  # every scratch database is gone again


def test_graph_takes_the_environment_from_the_global_option_and_the_variable(repo_copy):
    marked = schemactl(repo_copy, "--env", "dev", "graph")
    assert marked.returncode == 0, marked.stderr
    assert marked.stdout.splitlines()[0].startswith("[ ] ab251de0ab93")
    from_variable = schemactl(repo_copy, "graph", env={"SCHEMACTL_ENV": "dev"})
    assert from_variable.stdout == marked.stdout
    plain = schemactl(repo_copy, "graph")
    assert plain.stdout.splitlines()[0].startswith("o ab251de0ab93")


def test_makemigrations_names_every_change_and_writes_server_defaults_portably(repo_copy):
    """A new table (with its index) and a new column: the message and file name name both,
    whole words only; each operation is listed as Django lists them; func.now() is written
    as sa.func.now(), so the PostgreSQL script says now(), not SQLite's (CURRENT_TIMESTAMP)."""
    billing = repo_copy / MODELS / "billing.py"
    text = billing.read_text().replace(
        '    discount_total: Mapped[Decimal] = mapped_column(server_default=text("0"))\n',
        '    discount_total: Mapped[Decimal] = mapped_column(server_default=text("0"))\n'
        '    reminder_count: Mapped[int] = mapped_column(server_default=text("0"))\n',
    )
    billing.write_text(
        text.replace("from sqlalchemy import ", "from sqlalchemy import func, ", 1)
        + "\n\nclass InvoiceReminder(Base):\n"
        '    __tablename__ = "invoice_reminders"\n\n'
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        '    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)\n'
        "    sent_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())\n"
    )
    made = schemactl(repo_copy, "makemigrations")
    assert made.returncode == 0, made.stderr
    lines = made.stdout.splitlines()
    # The slug names every change, cut between words at truncate_slug_length (40 here).
    assert re.fullmatch(
        r"versions/0011_[0-9a-f]{12}_create_invoice_reminders_and_add\.py", lines[0]
    )
    assert lines[1:] == [
        "  Create invoice_reminders and add invoices.reminder_count",
        "    + Create table invoice_reminders",
        "    + Create index ix_invoice_reminders_invoice_id on invoice_reminders",
        "    + Add column reminder_count to invoices",
    ]
    body = (repo_copy / lines[0]).read_text()
    upgrade = body.partition("def downgrade")[0]
    assert "server_default=sa.func.now()" in upgrade and "CURRENT_TIMESTAMP" not in upgrade
    script = schemactl(repo_copy, "sql", "--env", "prod", "--from", "68cfa590ad28", "--stdout")
    assert "sent_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL" in script.stdout


def test_slugs_are_cut_between_words():
    from tools.authoring.revisions import slugify

    assert slugify("Create invoice_reminders and add invoices.reminder_count") == (
        "create_invoice_reminders_and_add_invoices_reminder_count"
    )
    long = slugify("add " + "abcdefghij_" * 10)
    assert len(long) <= 80 and long.endswith("abcdefghij") and long.startswith("add_")
    assert slugify("x" * 100) == "x" * 80  # one word longer than the limit: cut, once
    assert slugify("!!!") == "revision"


def test_rebase_refuses_a_branch_a_database_it_can_see_has(repo_copy):
    """The dev database took the invoicing branch: moved, its revisions would stand on the
    trunk's tip, which never ran there, and status would mark it [X]. Refused, naming the
    database and the command that takes the branch off; after it, the rebase goes ahead
    and the branch goes on again."""
    with_scenario(repo_copy, "stale_branch")
    assert cli(repo_copy, "upgrade", "invoicing@head").exit_code == 0
    refused = cli(repo_copy, "rebase", "invoicing")
    assert refused.exit_code == 1
    assert refused.output == (
        "Error: branch 'invoicing' is applied to the dev database (at d4d4d4d4d4d4): moved, "
        "its revisions would stand on trunk revisions that never ran there; take it off first "
        "(`schemactl --env dev downgrade invoicing@base`), rebase, then upgrade again\n"
    )
    assert not any(name.startswith("0012_") for name in versions(repo_copy))
    off = cli(repo_copy, "downgrade", "invoicing@base")
    assert off.exit_code == 0, off.output
    assert cli(repo_copy, "rebase", "invoicing").exit_code == 0
    assert cli(repo_copy, "upgrade").exit_code == 0
    status = cli(repo_copy, "status").stdout
    assert "[ ]" not in status
