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
