"""Every fix lint gives, followed: the revisions it describes are written on top of head and
must run online (`schemactl upgrade`, on a fresh database) and as a script (`schemactl sql`
from base, applied with the real client to another), and the rule the fix answers no longer
fires on them.

    0010 (68cf) ── 0011 f1 ── 0012 f2 (when a fix takes two steps)
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tools.cli import app

from .conftest import apply_script, schemactl
from .test_lint import add_case

runner = CliRunner()

USERS = (
    'sa.Table("users", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True), '
    'sa.Column("email", sa.String(255), nullable=False), sa.Column("full_name", sa.String(120), '
    'nullable=False), sa.Column("password_hash", sa.String(255), nullable=False), '
    'sa.Column("phone", sa.String(20)), sa.Column("is_active", sa.Boolean, nullable=False, '
    'server_default=sa.true()), sa.Column("created_at", sa.DateTime(timezone=True), '
    'nullable=False, server_default=sa.text("CURRENT_TIMESTAMP")), '
    'sa.PrimaryKeyConstraint("id", name="pk_users"), sa.UniqueConstraint("email", '
    'name="uq_users_email"))'
)
# name -> (dialect, the rules the fix answers, [(upgrade, downgrade), ...])
FIXES = {
    "index-concurrently": (
        "postgresql",
        {"postgresql-locks", "require-concurrent-index-creation"},
        [
            (
                "    with op.get_context().autocommit_block():\n"
                '        op.create_index("ix_users_full_name", "users", ["full_name"], postgresql_concurrently=True)',
                "    with op.get_context().autocommit_block():\n"
                '        op.drop_index("ix_users_full_name", table_name="users", postgresql_concurrently=True)',
            )
        ],
    ),
    "check-not-valid-then-validate": (
        "postgresql",
        {"postgresql-locks", "constraint-missing-not-valid", "irreversible"},
        [
            (
                "    op.execute(\"ALTER TABLE users ADD CONSTRAINT ck_users_name CHECK (full_name <> '') NOT VALID\")",
                '    op.execute("ALTER TABLE users DROP CONSTRAINT ck_users_name")',
            ),
            (
                "    with op.get_context().autocommit_block():\n"
                '        op.execute("ALTER TABLE users VALIDATE CONSTRAINT ck_users_name")',
                "    pass",
            ),
        ],
    ),
    "foreign-key-not-valid-then-validate": (
        "postgresql",
        {"postgresql-locks", "adding-foreign-key-constraint", "constraint-missing-not-valid"},
        [
            (
                '    op.execute("ALTER TABLE payments ADD CONSTRAINT fk_payments_invoice FOREIGN KEY (invoice_id) REFERENCES invoices (id) NOT VALID")',
                '    op.execute("ALTER TABLE payments DROP CONSTRAINT fk_payments_invoice")',
            ),
            (
                "    with op.get_context().autocommit_block():\n"
                '        op.execute("ALTER TABLE payments VALIDATE CONSTRAINT fk_payments_invoice")',
                "    pass",
            ),
        ],
    ),
    "unique-through-an-index": (
        "postgresql",
        {"postgresql-locks", "disallowed-unique-constraint"},
        [
            (
                "    with op.get_context().autocommit_block():\n"
                '        op.create_index("uq_users_full_name", "users", ["full_name"], unique=True, postgresql_concurrently=True)',
                "    with op.get_context().autocommit_block():\n"
                '        op.drop_index("uq_users_full_name", table_name="users", postgresql_concurrently=True, if_exists=True)',
            ),
            (
                '    op.execute("ALTER TABLE users ADD CONSTRAINT uq_users_full_name UNIQUE USING INDEX uq_users_full_name")',
                '    op.execute("ALTER TABLE users DROP CONSTRAINT uq_users_full_name")',
            ),
        ],
    ),
    "volatile-default-in-steps": (
        "postgresql",
        {"postgresql-locks", "adding-field-with-default"},
        [
            (
                '    op.add_column("users", sa.Column("token", sa.String(36)))',
                '    op.drop_column("users", "token")',
            ),
            (
                '    op.execute("UPDATE users SET token = gen_random_uuid()::text WHERE token IS NULL")\n'
                '    op.alter_column("users", "token", existing_type=sa.String(36), server_default=sa.text("gen_random_uuid()::text"))',
                '    op.alter_column("users", "token", existing_type=sa.String(36), server_default=None)',
            ),
        ],
    ),
    "drop-index-concurrently": (
        "postgresql",
        {"require-concurrent-index-deletion"},
        [
            (
                "    with op.get_context().autocommit_block():\n"
                '        op.drop_index("ix_payments_paid_at", table_name="payments", postgresql_concurrently=True)',
                "    with op.get_context().autocommit_block():\n"
                '        op.create_index("ix_payments_paid_at", "payments", ["paid_at"], postgresql_concurrently=True)',
            )
        ],
    ),
    "reindex-concurrently": (
        "postgresql",
        {"require-concurrent-reindex", "irreversible"},
        [
            (
                "    with op.get_context().autocommit_block():\n"
                '        op.execute("REINDEX TABLE CONCURRENTLY users")',
                "    pass",
            )
        ],
    ),
    "mariadb-foreign-key-before-its-index": (
        "mariadb",
        {"index-needed-by-foreign-key"},
        [
            (
                '    op.drop_constraint("fk_products_tax_rate_id_tax_rates", "products", type_="foreignkey")\n'
                '    op.drop_index("ix_products_tax_rate_id", table_name="products")',
                '    op.create_index("ix_products_tax_rate_id", "products", ["tax_rate_id"])\n'
                '    op.create_foreign_key("fk_products_tax_rate_id_tax_rates", "products", "tax_rates", ["tax_rate_id"], ["id"])',
            )
        ],
    ),
    "sqlite-alter-column-in-a-batch": (
        "sqlite",
        {"alter-column-unsupported", "renders"},
        [
            (
                f"    with op.batch_alter_table('users', copy_from={USERS}) as batch_op:\n"
                '        batch_op.alter_column("phone", existing_type=sa.String(20), type_=sa.String(40))',
                f"    with op.batch_alter_table('users', copy_from={USERS}) as batch_op:\n"
                '        batch_op.alter_column("phone", existing_type=sa.String(40), type_=sa.String(20))',
            )
        ],
    ),
}
ENV = {"postgresql": "staging", "mariadb": "mariadb", "sqlite": "dev"}
MARKS = {"postgresql": [pytest.mark.postgresql], "mariadb": [pytest.mark.mariadb], "sqlite": []}


def write_fix(repo, name, steps) -> None:
    down = "68cfa590ad28"
    for n, (upgrade, downgrade) in enumerate(steps, 1):
        rev = f"f1f1f1f1f1f{n}"
        add_case(
            repo,
            upgrade,
            downgrade,
            revision=rev,
            down_revision=down,
            depth=10 + n,
            message=f"Fix {name} {n}",
        )
        down = rev


@pytest.mark.parametrize("name", [pytest.param(n, marks=MARKS[FIXES[n][0]]) for n in FIXES])
def test_a_fix_runs_online_and_as_a_script(repo_copy, throwaway_database, name):
    dialect, answered, steps = FIXES[name]
    write_fix(repo_copy, name, steps)
    env = ENV[dialect]
    linted = runner.invoke(
        app,
        [
            "-c",
            str(repo_copy / "alembic.ini"),
            "lint",
            "68cfa590ad28:heads",
            "--env",
            env,
            "--json",
        ],
    )
    rules = {f["rule"] for f in json.loads(linted.stdout)["findings"]}
    assert not rules & answered, (name, rules)

    online = throwaway_database(dialect)
    up = schemactl(
        repo_copy,
        "--env",
        env,
        "upgrade",
        env={online.url_var: online.url.render_as_string(hide_password=False)},
    )
    assert up.returncode == 0, up.stderr
    down = schemactl(
        repo_copy,
        "--env",
        env,
        "downgrade",
        "68cfa590ad28",
        env={online.url_var: online.url.render_as_string(hide_password=False)},
    )
    assert down.returncode == 0, down.stderr

    scripted = throwaway_database(dialect)
    rendered = schemactl(repo_copy, "sql", "--env", env, "--from", "base", "--out", "out")
    assert rendered.returncode == 0, rendered.stderr
    for script in ("upgrade.sql", "rollback.sql"):
        applied = apply_script(scripted, repo_copy / "out" / script)
        assert applied.returncode == 0, (script, applied.stderr)
