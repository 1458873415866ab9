"""squawk, the PostgreSQL migration linter, run as schemactl runs it: findings given back to
the statement they are about, style rules off unless asked for, rules about what the script
does itself left out. (squawk is one of schemactl's dependencies: a real binary, no server.)"""

from __future__ import annotations

from tools.lint import squawk

STATEMENTS = [
    "ALTER TABLE users ADD COLUMN tier integer NOT NULL",
    "CREATE TABLE notes (\n    id serial PRIMARY KEY,\n    body varchar(40)\n)",
    "CREATE INDEX ix_notes_body ON notes (body)",
    "CREATE INDEX CONCURRENTLY ix_users_tier ON users (tier)",
    "ALTER TABLE users DROP COLUMN phone",
]
TIMEOUTS = ["SET LOCAL lock_timeout = '5s';", "SET LOCAL statement_timeout = '15min';"]


def rules(hits):
    return sorted((hit.statement, hit.rule) for hit in hits)


def test_findings_come_back_to_their_statement():
    hits = squawk.run(STATEMENTS, preamble=TIMEOUTS, outside_transaction={3})
    # The index on a table created earlier in the same file is fine: that table is new.
    assert rules(hits) == [(0, "adding-required-field"), (4, "ban-drop-column")]
    for hit in hits:
        assert hit.fix and "NOT VALID" not in hit.fix and hit.level == "warning"


def test_what_the_script_does_itself_is_not_a_finding():
    # Without the script's timeouts squawk asks for them; inside a transaction, CONCURRENTLY
    # is refused unless the script runs the statement outside one (it does: autocommit_block).
    bare = rules(squawk.run(STATEMENTS))
    assert (0, "require-lock-timeout") in bare and (0, "require-statement-timeout") in bare
    assert (3, "ban-concurrent-index-creation-in-transaction") in bare
    assert (3, "ban-concurrent-index-creation-in-transaction") not in rules(
        squawk.run(STATEMENTS, preamble=TIMEOUTS, outside_transaction={3})
    )


def test_style_rules_only_when_asked():
    asked = squawk.run(STATEMENTS, preamble=TIMEOUTS, include=["prefer-text-field", "nonsense"])
    assert (1, "prefer-text-field") in rules(asked)
    assert not any(hit.rule in squawk.STYLE for hit in squawk.run(STATEMENTS, preamble=TIMEOUTS))
    assert squawk.run([]) == []


def test_a_statement_squawk_cannot_read_is_said_never_blocks():
    (hit,) = squawk.run(["CREATE TABLE x (id int", "SELECT 1"], preamble=TIMEOUTS)
    assert (hit.statement, hit.rule, hit.level) == (0, "syntax-error", "warning")
    assert hit.message.startswith("squawk could not read this statement (")


OWN_LINES = '''"""Squawk over the script"""

import sqlalchemy as sa
from alembic import op

revision = "0123456789ab"
down_revision = "68cfa590ad28"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("nick", sa.String(20)))
    op.drop_column("users", "phone")
    with op.get_context().autocommit_block():
        op.create_index("ix_users_nick", "users", ["nick"], postgresql_concurrently=True)


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("ix_users_nick", table_name="users", postgresql_concurrently=True)
    op.add_column("users", sa.Column("phone", sa.String(20)))
    op.drop_column("users", "nick")
'''


def test_squawk_over_a_script_judges_only_the_revisions_statements(repo_copy):
    """A DBA who runs squawk (every rule, style too) over the scripts gets findings on the
    revisions' own statements only: schemactl's bookkeeping (version and audit tables,
    backups, guards, audit rows, timeouts outside the transaction) carries squawk's ignore
    comments or gives it nothing to say."""
    import json
    import subprocess

    from typer.testing import CliRunner

    from tools.cli import app

    (repo_copy / "versions" / "0011_0123456789ab_squawked.py").write_text(OWN_LINES)
    ini = str(repo_copy / "alembic.ini")
    for extra in ([], ["--rollback"]):
        for start in ("base", "68cfa590ad28"):
            args = ["-c", ini, "sql", "--env", "prod", "--from", start, "--stdout", *extra]
            if extra:
                args[args.index("--from") : args.index("--from") + 2] = ["--from", "heads"]
                args += ["--to", start]
            rendered = CliRunner().invoke(app, args)
            assert rendered.exit_code == 0, rendered.output
            path = repo_copy / "script.sql"
            path.write_text(rendered.stdout)
            found = json.loads(
                subprocess.run(
                    [squawk._executable(), "--reporter", "json", str(path)],
                    capture_output=True,
                    text=True,
                ).stdout
                or "[]"
            )
            lines = rendered.stdout.splitlines()
            flagged = {f["line"]: f["rule_name"] for f in found}
            assert flagged, "squawk found nothing at all: it did not read the script"
            own = _bookkeeping_lines(lines)
            ours = {(lines[n].strip(), rule) for n, rule in flagged.items() if n in own}
            assert ours == set(), (extra, start, ours)


def _bookkeeping_lines(lines: list[str]) -> set[int]:
    """The line numbers (from 0, as squawk gives them) of schemactl's own statements: every
    line of a statement that names its tables, or sets the session up."""
    own, chunk = set(), []
    for number, line in enumerate(lines):
        if line.startswith("--") and not chunk:
            continue
        chunk.append(number)
        if line.rstrip().endswith((";", "$;")) or line.startswith("\\"):
            text = " ".join(lines[n] for n in chunk)
            if any(w in text for w in ("schemactl", "alembic_version", "SET ", "BEGIN", "COMMIT")):
                own.update(chunk)
            chunk = []
    return own
