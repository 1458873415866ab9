"""Lint rules: each one triggered by a revision that should trip it, and not by one that
should not. Each case adds one revision on top of head in a copy of the fixture, and lints
it in this process, offline (no server: the rules judge what capture records).

    0010 (68cf) ── 0011 0123456789ab (the case)
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tools.cli import app

runner = CliRunner()

REVISION = '''"""{message}"""

import sqlalchemy as sa
from alembic import context, op

revision = "{revision}"
down_revision = "{down_revision}"
branch_labels = None
depends_on = None
{header}

def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''


def add_case(
    repo,
    upgrade,
    downgrade="    pass",
    header="",
    *,
    revision="0123456789ab",
    down_revision="68cfa590ad28",
    depth=11,
    message="Lint case",
):
    """A revision on top of head (or of ``down_revision``), its file named as schemactl
    names them."""
    path = repo / "versions" / f"{depth:04d}_{revision}_lint_case.py"
    path.write_text(
        REVISION.format(
            message=message,
            revision=revision,
            down_revision=down_revision,
            upgrade=upgrade,
            downgrade=downgrade,
            header=header,
        )
    )
    return path


def findings(repo, env="prod"):
    result = runner.invoke(
        app, ["-c", str(repo / "alembic.ini"), "lint", "68cfa590ad28:heads", "--env", env, "--json"]
    )
    return result, json.loads(result.stdout)["findings"]


CASES = {
    "destructive": (
        (
            '    op.drop_column("users", "phone")',
            '    op.add_column("users", sa.Column("phone", sa.String(20)))',
        ),
        (
            '    op.add_column("users", sa.Column("nickname", sa.String(30)))',
            '    op.drop_column("users", "nickname")',
        ),
    ),
    "not-null-without-default": (
        (
            '    op.add_column("users", sa.Column("tier", sa.Integer(), nullable=False))',
            '    op.drop_column("users", "tier")',
        ),
        (
            '    op.add_column("users", sa.Column("tier", sa.Integer(), server_default="1", nullable=False))',
            '    op.drop_column("users", "tier")',
        ),
    ),
    "unique-on-existing-table": (
        (
            '    op.create_unique_constraint("uq_users_full_name", "users", ["full_name"])',
            '    op.drop_constraint("uq_users_full_name", "users", type_="unique")',
        ),
        (
            '    op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True), sa.Column("k", sa.String(9)))\n    op.create_index("ix_notes_k", "notes", ["k"], unique=True)',
            '    op.drop_table("notes")',
        ),
    ),
    "postgresql-locks": (
        (
            '    op.create_index("ix_users_full_name", "users", ["full_name"])',
            '    op.drop_index("ix_users_full_name", table_name="users")',
        ),
        (
            "    with op.get_context().autocommit_block():\n"
            '        op.create_index("ix_users_full_name", "users", ["full_name"], postgresql_concurrently=True)',
            "    with op.get_context().autocommit_block():\n"
            '        op.drop_index("ix_users_full_name", table_name="users", postgresql_concurrently=True)',
        ),
    ),
    "postgresql-json": (
        (
            '    op.add_column("users", sa.Column("prefs", sa.JSON()))',
            '    op.drop_column("users", "prefs")',
        ),
        (
            '    op.add_column("users", sa.Column("prefs", sa.JSON().with_variant('
            'sa.dialects.postgresql.JSONB(), "postgresql")))',
            '    op.drop_column("users", "prefs")',
        ),
    ),
    "rename": (
        (
            '    op.rename_table("discounts", "coupons")',
            '    op.rename_table("coupons", "discounts")',
        ),
        (
            '    op.create_table("coupons", sa.Column("id", sa.Integer, primary_key=True))',
            '    op.drop_table("coupons")',
        ),
    ),
    "data-rewrite": (
        (
            "    op.execute(\"UPDATE invoices SET currency = 'EUR'\")",
            "    op.execute(\"UPDATE invoices SET currency = 'EUR' WHERE id < 0\")",
        ),
        (
            "    op.execute(\"UPDATE invoices SET currency = 'EUR' WHERE currency = ''\")",
            "    op.execute(\"UPDATE invoices SET currency = '' WHERE id < 0\")",
        ),
    ),
    "offline-unsafe": (
        (
            '    count = op.get_bind().execute(sa.text("SELECT count(*) FROM users")).scalar()',
            "    pass",
        ),
        (
            "    op.execute(\"UPDATE users SET phone = NULL WHERE phone = ''\")",
            "    op.execute(\"UPDATE users SET phone = '' WHERE id < 0\")",
        ),
    ),
    "renders": (
        (
            '    op.add_column("users", sa.Column("nickname", sa.String(30)))\n'
            "    raise KeyError('SETTING')",
            '    op.drop_column("users", "nickname")',
        ),
        (
            "    if context.is_offline_mode():\n"
            "        op.execute(\"UPDATE users SET phone = NULL WHERE phone = ''\")",
            "    op.execute(\"UPDATE users SET phone = '' WHERE id < 0\")",
        ),
    ),
    "irreversible": (
        (
            '    op.add_column("users", sa.Column("nickname", sa.String(30)))',
            "    raise NotImplementedError('one way only')",
        ),
        (
            '    op.add_column("users", sa.Column("nickname", sa.String(30)))',
            '    op.drop_column("users", "nickname")',
        ),
    ),
    "enum-lifecycle": (
        (
            '    op.create_table("moods", sa.Column("id", sa.Integer, primary_key=True), sa.Column("m", sa.Enum("up", "down", name="mood")))',
            '    op.drop_table("moods")',
        ),
        (
            '    op.create_table("moods", sa.Column("id", sa.Integer, primary_key=True), sa.Column("m", sa.Enum("up", "down", name="mood")))',
            '    op.drop_table("moods")\n    sa.Enum(name="mood").drop(op.get_bind(), checkfirst=False)',
        ),
    ),
}


@pytest.mark.parametrize("rule", sorted(CASES))
@pytest.mark.parametrize("triggers", [True, False], ids=["triggers", "does-not"])
def test_rule(repo_copy, rule, triggers):
    upgrade, downgrade = CASES[rule][0 if triggers else 1]
    add_case(repo_copy, upgrade, downgrade)
    _, found = findings(repo_copy)
    mine = [f for f in found if f["rule"] == rule]
    if not triggers:
        assert mine == []
        return
    (finding,) = mine
    assert finding["revision"] == "0123456789ab"
    assert finding["file"].startswith("versions/0011_0123456789ab_lint_case.py:")
    assert finding["why"] and finding["fix"]


def test_findings_name_the_line(repo_copy):
    add_case(
        repo_copy,
        '    op.add_column("users", sa.Column("n", sa.String(9)))\n    op.drop_column("users", "phone")',
    )
    _, found = findings(repo_copy)
    (drop,) = [f for f in found if f["rule"] == "destructive"]
    assert drop["file"] == "versions/0011_0123456789ab_lint_case.py:14"
    assert drop["message"] == "drops column users.phone"
    assert drop["severity"] == "error"


def test_narrowing_a_type_is_destructive(repo_copy):
    add_case(
        repo_copy,
        '    op.alter_column("customers", "name", type_=sa.String(100), existing_type=sa.String(200), existing_nullable=False)',
        '    op.alter_column("customers", "name", type_=sa.String(200), existing_type=sa.String(100), existing_nullable=False)',
    )
    _, found = findings(repo_copy)
    assert [f["message"] for f in found if f["rule"] == "destructive"] == [
        "narrows customers.name from VARCHAR(200) to VARCHAR(100)"
    ]


def test_a_revision_that_fails_offline_is_flagged_at_its_line(repo_copy):
    """offline-unsafe and renders point at the line of the revision that failed, not line 1."""
    add_case(
        repo_copy,
        '    op.add_column("users", sa.Column("n", sa.String(9)))\n'
        '    count = op.get_bind().execute(sa.text("SELECT count(*) FROM users")).scalar()',
    )
    _, found = findings(repo_copy)
    (unsafe,) = [f for f in found if f["rule"] == "offline-unsafe"]
    assert unsafe["file"] == "versions/0011_0123456789ab_lint_case.py:14"
    add_case(repo_copy, '    pass\n    raise KeyError("missing setting")')
    _, found = findings(repo_copy)
    (failed,) = [f for f in found if f["rule"] == "renders"]
    assert failed["file"] == "versions/0011_0123456789ab_lint_case.py:14"


def test_postgresql_lock_rules_only_for_postgresql(repo_copy):
    add_case(repo_copy, *CASES["postgresql-locks"][0])
    _, found = findings(repo_copy, env="dev")
    assert [f for f in found if f["rule"] == "postgresql-locks"] == []


def test_raw_sql_is_parsed(repo_copy):
    add_case(
        repo_copy,
        '    op.execute("DROP TABLE tax_rates")\n    op.execute("CREATE INDEX ix_x ON users (email)")',
    )
    _, found = findings(repo_copy)
    assert {(f["rule"], f["message"]) for f in found} >= {
        ("destructive", "raw SQL drop table: DROP TABLE tax_rates;"),
        (
            "postgresql-locks",
            "raw SQL creates an index without CONCURRENTLY: CREATE INDEX ix_x ON users (email);",
        ),
    }


def test_a_silence_needs_a_known_rule_and_a_reason(repo_copy):
    add_case(
        repo_copy,
        '    op.drop_column("users", "phone")',
        header="# schemactl: allow destructiv: typo\n# schemactl: allow rename\n",
    )
    result, found = findings(repo_copy)
    assert result.exit_code == 1
    assert sorted(f["message"] for f in found if f["rule"] == "silence") == [
        "'# schemactl: allow destructiv' names no rule",
        "'# schemactl: allow rename' gives no reason",
    ]


def test_release_stops_on_an_unsilenced_error_and_writes_nothing(repo_copy):
    add_case(
        repo_copy,
        '    op.drop_column("users", "phone")',
        '    op.add_column("users", sa.Column("phone", sa.String(20)))',
    )
    before = sorted(p.name for p in (repo_copy / "sql_out" / "prod").iterdir())
    result = runner.invoke(app, ["-c", str(repo_copy / "alembic.ini"), "release", "--env", "prod"])
    assert result.exit_code == 1
    assert result.output == (
        "Error: release stopped by 1 lint error(s), first: versions/0011_0123456789ab_lint_case.py:13: "
        "error destructive: drops column users.phone; fix them or silence them with a reason "
        "(see `schemactl lint --env prod`)\n"
    )
    assert sorted(p.name for p in (repo_copy / "sql_out" / "prod").iterdir()) == before


def test_the_committed_prod_scripts_have_every_risky_statement_flagged():
    """What an experienced PostgreSQL reviewer would flag in sql_out/prod/ (statements that
    drop, rewrite a table, or build an index on a table that existed before the release's
    script began: one it created itself has no rows yet) is flagged by lint of that release,
    or silenced."""
    import re

    import sqlglot
    from sqlglot import exp

    from tests.conftest import FIXTURE
    from tools.config import load_project
    from tools.dialects import script_dialect
    from tools.history.load import load_history, plan_range
    from tools.lint.engine import lint_range
    from tools.scripts.manifest import read_manifest

    project = load_project(FIXTURE / "alembic.ini")
    history = load_history(project)
    flagged, risky = set(), set()
    for release in read_manifest(project, project.environment("prod")).releases:
        span = plan_range(history.graph, release.start, release.end)
        flagged |= {
            f.revision for f in lint_range(history, script_dialect("postgresql"), span.revisions)
        }
        script = FIXTURE / "sql_out" / "prod" / release.name / "upgrade.sql"
        sections = re.split(
            r"^-- \d+/\d+  upgrade ([0-9a-f]{12}).*$", script.read_text(), flags=re.M
        )
        created = set()  # by this release's script so far
        for rev, body in zip(sections[1::2], sections[2::2], strict=True):
            for statement in sqlglot.parse(body, read="postgres"):
                if isinstance(statement, exp.Create) and statement.args.get("kind") == "TABLE":
                    created.add(statement.this.this.name)
                    continue
                table = statement.find(exp.Table) if statement is not None else None
                if table is None or table.name in created:
                    continue
                if isinstance(statement, exp.Create) and statement.args.get("kind") == "INDEX":
                    if not statement.args.get("concurrently"):
                        risky.add(rev)
                elif isinstance(statement, exp.Drop) or (
                    isinstance(statement, exp.Alter)
                    and any(
                        isinstance(a, exp.AlterColumn) and a.args.get("dtype")
                        for a in statement.args.get("actions") or []
                    )
                ):
                    risky.add(rev)
    assert risky == {"68cfa590ad28"}  # an index on customers, which release 0001 created
    assert risky <= flagged


# The blind spots found against squawk: each revision is risky, and lint must say so with
# the rule, the severity and the words given (a dropped constraint is not a dropped column).
BLIND_SPOTS = {
    "foreign-key-on-existing-table": (
        '    op.create_foreign_key("fk_users_id_customers", "users", "customers", ["id"], ["id"])',
        "postgresql-locks",
        "warning",
        "adds foreign key fk_users_id_customers on existing table users and validates it at once",
    ),
    "two-statements-in-one-execute": (
        '    op.execute("ALTER TABLE users ADD COLUMN x int; DROP TABLE discounts")',
        "destructive",
        "error",
        "raw SQL drop table: DROP TABLE discounts",
    ),
    "the-binds-own-execute": (
        '    op.get_bind().execute(sa.text("DROP TABLE discounts"))',
        "destructive",
        "error",
        "raw SQL drop table: DROP TABLE discounts",
    ),
    "raw-alter-type": (
        '    op.execute("ALTER TABLE users ALTER COLUMN full_name TYPE varchar(60)")',
        "postgresql-locks",
        "warning",
        "raw SQL changes a column's type",
    ),
    "raw-add-not-null": (
        '    op.execute("ALTER TABLE users ADD COLUMN tier int NOT NULL")',
        "not-null-without-default",
        "error",
        "raw SQL adds a NOT NULL column without a default",
    ),
    "concurrently-in-a-transaction": (
        '    op.create_index("ix_users_full_name", "users", ["full_name"], '
        "postgresql_concurrently=True)",
        "postgresql-locks",
        "error",
        "runs CREATE INDEX CONCURRENTLY ix_users_full_name ON users (full_name) inside the "
        "revision's transaction",
    ),
    "raw-serial-column": (
        '    op.execute("ALTER TABLE users ADD COLUMN seq bigserial")',
        "postgresql-locks",
        "warning",
        "raw SQL adds a serial column: PostgreSQL rewrites the table",
    ),
    "raw-set-unlogged": (
        '    op.execute("ALTER TABLE users SET UNLOGGED")',
        "postgresql-locks",
        "warning",
        "raw SQL sets (UN)LOGGED: PostgreSQL rewrites the table",
    ),
    "backfill-under-the-alters-lock": (
        '    op.add_column("users", sa.Column("tier", sa.Integer()))\n'
        '    op.execute("UPDATE users SET tier = 1 WHERE tier IS NULL")',
        "postgresql-locks",
        "warning",
        "changes rows of users after altering it in the same transaction",
    ),
    "raw-set-not-null": (
        '    op.execute("ALTER TABLE users ALTER COLUMN phone SET NOT NULL")',
        "not-null-without-default",
        "warning",
        "raw SQL sets NOT NULL",
    ),
    "raw-truncate": (
        '    op.execute("TRUNCATE payments CASCADE")',
        "destructive",
        "error",
        "raw SQL truncate",
    ),
    "raw-drop-database": (
        '    op.execute("DROP DATABASE billing")',
        "destructive",
        "error",
        "raw SQL drop database",
    ),
    "volatile-default": (
        '    op.add_column("users", sa.Column("token", sa.String(36), server_default=sa.text("gen_random_uuid()")))',
        "postgresql-locks",
        "warning",
        "adds users.token with a volatile default",
    ),
    "raw-volatile-default": (
        '    op.execute("ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid()")',
        "postgresql-locks",
        "warning",
        "raw SQL adds a column with a volatile default",
    ),
    "drop-primary-key": (
        '    op.drop_constraint("pk_discounts", "discounts", type_="primary")',
        "constraint-change",
        "error",
        "drops the primary key pk_discounts of discounts",
    ),
    "raw-drop-type": (
        '    op.execute("DROP TYPE payment_method")',
        "destructive",
        "warning",
        "raw SQL drop type: DROP TYPE payment_method",
    ),
}


@pytest.mark.parametrize("case", list(BLIND_SPOTS))
def test_a_blind_spot_is_seen(repo_copy, case):
    upgrade, rule, severity, message = BLIND_SPOTS[case]
    add_case(
        repo_copy,
        upgrade,
        '    op.execute("SELECT 1")\n    op.execute("UPDATE users SET id = id WHERE id < 0")',
    )
    _, found = findings(repo_copy)
    mine = [f for f in found if f["rule"] == rule and f["message"].startswith(message)]
    assert mine and mine[0]["severity"] == severity, found
    assert mine[0]["file"].startswith("versions/0011_0123456789ab_lint_case.py:")
    # A dropped constraint is not a dropped column.
    assert not any("drop column" in f["message"] for f in found if "COLUMN" not in upgrade)


# Safe forms lint called dangerous (issue 30): each is what its rule asks for, and the
# finding named is not made, at any level.
FALSE_ALARMS = {
    "raw-explicit-null": (
        '    op.execute("ALTER TABLE users ADD COLUMN nickname VARCHAR(32) NULL")',
        '    op.execute("ALTER TABLE users DROP COLUMN nickname")',
        "not-null-without-default",
    ),
    "check-added-not-valid": (
        '    op.create_check_constraint("ck_users_id", "users", "id > 0", postgresql_not_valid=True)',
        '    op.drop_constraint("ck_users_id", "users", type_="check")',
        "postgresql-locks",
    ),
    "foreign-key-added-not-valid": (
        '    op.create_foreign_key("fk_users_id", "users", "customers", ["id"], ["id"], '
        "postgresql_not_valid=True)",
        '    op.drop_constraint("fk_users_id", "users", type_="foreignkey")',
        "postgresql-locks",
    ),
    "numeric-precision-raised": (
        '    op.alter_column("discounts", "percent_off", existing_type=sa.Numeric(5, 2), '
        "type_=sa.Numeric(9, 2))",
        '    op.alter_column("discounts", "percent_off", existing_type=sa.Numeric(9, 2), '
        "type_=sa.Numeric(5, 2))",
        "postgresql-locks",
    ),
    "varchar-made-text": (
        '    op.alter_column("users", "full_name", existing_type=sa.String(200), type_=sa.Text())',
        '    op.alter_column("users", "full_name", existing_type=sa.Text(), type_=sa.String(200))',
        "postgresql-locks",
    ),
    # A raw type change lint can judge from the replayed column (String(120) -> text), and
    # what the servers measure as catalog changes (tests/test_safety_corpus.py).
    "raw-varchar-made-text": (
        '    op.execute("ALTER TABLE users ALTER COLUMN full_name TYPE text")',
        '    op.execute("ALTER TABLE users ALTER COLUMN full_name TYPE varchar(120)")',
        "postgresql-locks",
    ),
    "raw-drop-index": (
        '    op.execute("DROP INDEX ix_payments_paid_at")',
        '    op.execute("CREATE INDEX ix_payments_paid_at ON payments (paid_at)")',
        "destructive",
    ),
    "drop-not-null": (
        '    op.alter_column("users", "full_name", existing_type=sa.String(120), nullable=True, '
        "existing_nullable=False)",
        '    op.alter_column("users", "full_name", existing_type=sa.String(120), nullable=False, '
        "existing_nullable=True)",
        "constraint-change",
    ),
    "raw-drop-constraint": (
        '    op.execute("ALTER TABLE users DROP CONSTRAINT uq_users_email")',
        '    op.execute("ALTER TABLE users ADD CONSTRAINT uq_users_email UNIQUE (email)")',
        "constraint-change",
    ),
    "enum-value-added": (
        "    with op.get_context().autocommit_block():\n"
        "        op.execute(\"ALTER TYPE invoice_status ADD VALUE IF NOT EXISTS 'void'\")",
        "    pass  # PostgreSQL cannot drop an enum value",
        "irreversible",
    ),
}


@pytest.mark.parametrize("case", list(FALSE_ALARMS))
def test_a_safe_form_is_not_flagged(repo_copy, case):
    upgrade, downgrade, rule = FALSE_ALARMS[case]
    add_case(repo_copy, upgrade, downgrade)
    _, found = findings(repo_copy)
    assert [f for f in found if f["rule"] == rule] == []
    assert not [f for f in found if f["severity"] == "error"], found


@pytest.mark.parametrize(
    "check",
    [
        "op.create_check_constraint('ck_users_phone', 'users', 'phone IS NOT NULL')",
        'op.execute("ALTER TABLE users ADD CONSTRAINT ck_users_phone CHECK (phone IS NOT NULL)")',
        'op.execute("ALTER TABLE users ADD CONSTRAINT ck_users_phone CHECK (phone IS NOT NULL) '
        'NOT VALID")\n    op.execute("ALTER TABLE users VALIDATE CONSTRAINT ck_users_phone")',
    ],
)
def test_set_not_null_after_a_validated_check_is_not_flagged(repo_copy, check):
    """PostgreSQL 12+ sets NOT NULL without scanning where a validated CHECK (col IS NOT
    NULL) proves it (measured in tests/test_safety_corpus.py): the revision after the one
    that validates it is not flagged; one whose check is still NOT VALID is."""
    undo = '    op.execute("ALTER TABLE users DROP CONSTRAINT ck_users_phone")'
    add_case(repo_copy, f"    {check}", undo, revision="0123456789aa", message="Check")
    set_not_null = '    op.execute("ALTER TABLE users ALTER COLUMN phone SET NOT NULL")'
    drop_not_null = '    op.execute("ALTER TABLE users ALTER COLUMN phone DROP NOT NULL")'
    add_case(repo_copy, set_not_null, drop_not_null, down_revision="0123456789aa", depth=12)
    _, found = findings(repo_copy)
    late = [f for f in found if f["revision"] == "0123456789ab"]
    assert late == [], late
    (repo_copy / "versions" / "0011_0123456789aa_lint_case.py").write_text(
        (repo_copy / "versions" / "0011_0123456789aa_lint_case.py")
        .read_text()
        .replace("ALTER TABLE users VALIDATE CONSTRAINT ck_users_phone", "SELECT 1")
    )
    if "NOT VALID" in check:
        _, found = findings(repo_copy)
        rules = {f["rule"] for f in found if f["revision"] == "0123456789ab"}
        assert "not-null-without-default" in rules, found


def test_a_downgrade_that_only_selects_undoes_nothing(repo_copy):
    add_case(
        repo_copy,
        '    op.add_column("users", sa.Column("nick", sa.String(9)))',
        '    op.execute("SELECT 1")',
    )
    _, found = findings(repo_copy)
    assert [f["rule"] for f in found if f["severity"] == "error"] == ["irreversible"]


def test_no_advice_postgresql_rejects(repo_copy):
    """NOT VALID does not exist for UNIQUE; CONCURRENTLY cannot run in a transaction."""
    add_case(
        repo_copy,
        '    op.create_unique_constraint("uq_users_full_name", "users", ["full_name"])\n'
        '    op.create_index("ix_users_phone", "users", ["phone"])\n'
        '    op.execute("ALTER TABLE users ADD CONSTRAINT uq_users_phone UNIQUE (phone)")',
        '    op.drop_constraint("uq_users_full_name", "users", type_="unique")',
    )
    _, found = findings(repo_copy)
    locks = [f for f in found if f["rule"] == "postgresql-locks"]
    assert len(locks) == 3
    for finding in locks:
        assert "NOT VALID" not in finding["fix"]
        assert "autocommit_block" in finding["fix"]


def test_no_advice_that_cannot_be_followed(repo_copy):
    """An EXCLUDE constraint cannot be added NOT VALID, and a stored generated column has no
    default to leave out: the advice says what can be done instead (issue 30)."""
    add_case(
        repo_copy,
        '    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")\n'
        '    op.execute("ALTER TABLE payments ADD CONSTRAINT ex_payments EXCLUDE USING gist '
        '(invoice_id WITH =)")\n'
        '    op.execute("ALTER TABLE users ADD COLUMN name_len integer GENERATED ALWAYS AS '
        '(length(full_name)) STORED")',
        '    op.execute("ALTER TABLE users DROP COLUMN name_len")\n'
        '    op.execute("ALTER TABLE payments DROP CONSTRAINT ex_payments")',
    )
    _, found = findings(repo_copy)
    (exclude,) = [f for f in found if "exclusion constraint" in f["message"]]
    assert "cannot add an EXCLUDE constraint NOT VALID" in exclude["fix"]
    (generated,) = [f for f in found if "generated column" in f["message"]]
    assert "set the default" not in generated["fix"] and "fill it in batches" in generated["fix"]
    assert all(f["fix"] for f in found)


def test_squawk_judges_every_statement_on_postgresql(repo_copy):
    """What only squawk knows comes with the revision's file:line and silences like ours;
    what both know is said once; style rules wait for lint_include in alembic.ini."""
    add_case(
        repo_copy,
        '    op.execute("REINDEX TABLE users")\n'
        '    op.create_index("ix_users_full_name", "users", ["full_name"])\n'
        '    op.add_column("users", sa.Column("motto", sa.String(80)))',
        '    op.drop_column("users", "motto")\n    op.drop_index("ix_users_full_name", "users")',
    )
    _, found = findings(repo_copy)
    (reindex,) = [f for f in found if f["rule"] == "require-concurrent-reindex"]
    assert reindex["file"] == "versions/0011_0123456789ab_lint_case.py:13"
    assert reindex["message"].endswith(": REINDEX TABLE users;")
    assert "autocommit_block" in reindex["fix"] and reindex["silenced"] is None
    assert [f["rule"] for f in found if f["file"].endswith(":14")] == ["postgresql-locks"]
    assert not any(f["rule"] == "prefer-text-field" for f in found)
    assert not any(f["rule"].startswith("require-") and "timeout" in f["rule"] for f in found)
    # Not on MariaDB: squawk reads PostgreSQL.
    assert not any(
        f["rule"] == "require-concurrent-reindex" for f in findings(repo_copy, "mariadb")[1]
    )

    path = repo_copy / "versions" / "0011_0123456789ab_lint_case.py"
    path.write_text(
        "# schemactl: allow require-concurrent-reindex: the table has 12 rows\n" + path.read_text()
    )
    ini = repo_copy / "alembic.ini"
    ini.write_text(
        ini.read_text().replace("[schemactl]\n", "[schemactl]\nlint_include = prefer-text-field\n")
    )
    _, found = findings(repo_copy)
    (reindex,) = [f for f in found if f["rule"] == "require-concurrent-reindex"]
    assert reindex["silenced"] == "the table has 12 rows"
    assert [f["rule"] for f in found if f["rule"] == "prefer-text-field"] == ["prefer-text-field"]


def test_a_table_created_earlier_in_the_range_is_new(repo_copy):
    """Within a release, a table an earlier revision creates has no rows and no readers yet;
    once that revision is behind the range's start, it is an existing table."""
    add_case(
        repo_copy,
        '    op.create_table("notes", sa.Column("id", sa.BigInteger, primary_key=True), sa.Column("body", sa.Text))',
        '    op.drop_table("notes")',
    )
    add_case(
        repo_copy,
        '    op.create_index("ix_notes_body", "notes", ["body"])',
        '    op.drop_index("ix_notes_body", table_name="notes")',
        revision="0123456789ac",
        down_revision="0123456789ab",
        depth=12,
    )
    _, found = findings(repo_copy)
    assert [f for f in found if "ix_notes_body" in f["message"]] == []
    later = runner.invoke(
        app,
        [
            "-c",
            str(repo_copy / "alembic.ini"),
            "lint",
            "0123456789ab:heads",
            "--env",
            "prod",
            "--json",
        ],
    )
    rules = {f["rule"] for f in json.loads(later.stdout)["findings"]}
    assert "postgresql-locks" in rules


def test_mariadb_operations_that_copy_or_stop_writes(repo_copy):
    """A foreign key or check added to an existing table copies it (measured in
    tests/test_measure.py); a FULLTEXT index is built with writes waiting."""
    add_case(
        repo_copy,
        '    op.create_check_constraint("ck_users_id", "users", "id > 0")\n'
        '    op.create_foreign_key("fk_users_id", "users", "customers", ["id"], ["id"])\n'
        '    op.create_index("ft_users_full_name", "users", ["full_name"], mysql_prefix="FULLTEXT")',
        '    op.drop_index("ft_users_full_name", table_name="users")\n'
        '    op.drop_constraint("fk_users_id", "users", type_="foreignkey")\n'
        '    op.drop_constraint("ck_users_id", "users", type_="check")',
    )
    _, found = findings(repo_copy, env="mariadb")
    assert [f["message"] for f in found if f["rule"] == "table-copy"] == [
        "adds check constraint ck_users_id to users: MariaDB copies the table",
        "adds foreign key fk_users_id to users: MariaDB copies the table",
        "builds FULLTEXT index ft_users_full_name on users: writes to it wait",
    ]


def test_a_foreign_key_after_checks_are_back_on_copies_the_table(repo_copy):
    """On MariaDB a foreign key added while foreign_key_checks is 0 goes in place; one added
    after it is set back to 1 copies the table again, and is flagged."""
    add_case(
        repo_copy,
        '    op.execute("SET SESSION foreign_key_checks = 0")\n'
        '    op.create_foreign_key("fk_a", "payments", "invoices", ["invoice_id"], ["id"])\n'
        '    op.execute("SET SESSION foreign_key_checks = 1")\n'
        '    op.create_foreign_key("fk_b", "invoice_items", "invoices", ["invoice_id"], ["id"])',
        '    op.drop_constraint("fk_b", "invoice_items", type_="foreignkey")\n'
        '    op.drop_constraint("fk_a", "payments", type_="foreignkey")',
    )
    _, found = findings(repo_copy, "mariadb")
    copies = [f["message"] for f in found if f["rule"] == "table-copy"]
    assert copies == ["adds foreign key fk_b to invoice_items: MariaDB copies the table"], found
