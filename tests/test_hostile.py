"""Property-based tests with hostile input: whatever a developer writes in a message, a branch
label or an output folder name, the script runs exactly the statements it would run with
harmless ones; whatever a password holds, no message shows it."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools.config import Environment, load_project, redact
from tools.core.errors import ConfigError
from tools.core.text import comment
from tools.dialects import UnsafeRevisionId, safe_revision
from tools.release import ranges

REVISION = """{doc!r}

import sqlalchemy as sa
from alembic import op

revision = "0123456789ab"
down_revision = "68cfa590ad28"
branch_labels = {labels!r}
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("nickname", sa.String(30)))


def downgrade():
    op.drop_column("users", "nickname")
"""
# Text a developer could type, with the characters that end lines or hide text weighted in.
HOSTILE = st.lists(
    st.one_of(
        st.characters(),
        st.sampled_from(["\n", "\r", "\u2028", "\u2029", "\x00", "--", "*/", ";", "'", '"', "\\"]),
        st.just("\nDROP TABLE users; --"),
    ),
    max_size=20,
).map("".join)
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def statements(text: str) -> list[str]:
    """What a client would run: every line that is not a comment, sha256 values masked."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("--")]
    return [re.sub(r"[0-9a-f]{64}", "<sha256>", line) for line in lines]


def render(repo, doc: str, labels: tuple[str, ...] | None, out_name: str = "out") -> str:
    (repo / "versions" / "0011_0123456789ab_case.py").write_text(
        REVISION.format(doc=doc, labels=labels)
    )
    project = load_project(repo / "alembic.ini")
    out = repo / "var" / out_name
    shutil.rmtree(out, ignore_errors=True)
    ranges.sql(project, project.environment("prod"), start="68cfa590ad28", out=out)
    return (out / "upgrade.sql").read_text() + (out / "rollback.sql").read_text()


@SETTINGS
@given(message=HOSTILE, label=HOSTILE)
def test_messages_and_labels_never_become_sql(repo_copy, message, label):
    baseline = render(repo_copy, "Add users.nickname", None)
    hostile = render(repo_copy, message, (label,) if label else None)
    assert statements(hostile) == statements(baseline)


@SETTINGS
@given(name=HOSTILE.filter(lambda n: n.strip(". ") and "/" not in n and "\x00" not in n))
def test_an_output_folder_name_never_becomes_sql(repo_copy, name):
    baseline = render(repo_copy, "Add users.nickname", None)
    assert statements(render(repo_copy, "Add users.nickname", None, name)) == statements(baseline)


@given(text=HOSTILE)
def test_a_comment_is_one_line(text):
    shown = comment(text)
    assert "\n" not in shown and "\r" not in shown and "\u2028" not in shown
    assert len(shown) <= 120


@given(revision=st.text(max_size=40))
def test_a_revision_id_that_passes_is_plain(revision):
    try:
        assert safe_revision(revision) == revision
    except UnsafeRevisionId:
        assert not re.fullmatch(r"[A-Za-z0-9_\-]{1,32}", revision)
    else:
        assert re.fullmatch(r"[A-Za-z0-9_\-]{1,32}", revision)


@given(password=st.text(min_size=1, max_size=30).filter(lambda p: p.strip()))
def test_no_message_shows_a_password(password):
    """Raw or percent-encoded, valid or not: the URL is accepted and shown redacted, or
    refused in words that do not quote it."""
    from urllib.parse import quote

    for written in (password, quote(password, safe="")):
        environment = Environment("prod", "postgresql", url_env="URL")
        raw = f"postgresql://admin:{written}@db.example:5432/billing"
        try:
            shown = redact(environment.url({"URL": raw}))
        except ConfigError as err:
            shown = str(err)
        if len(password) >= 4:
            assert password not in shown and written not in shown
        assert "\n" not in shown


@given(password=st.text(min_size=1, max_size=30))
def test_a_percent_encoded_password_is_taken_as_it_is(password):
    """Whatever a password holds (%, @, /, :), percent-encoded it is accepted and reaches the
    driver and the client unchanged."""
    from urllib.parse import quote

    from tools.config import parse_url
    from tools.dialects import script_dialect

    raw = f"mariadb://sc:{quote(password, safe='')}@127.0.0.1:3306"
    kind = script_dialect("mariadb")
    url = parse_url(raw, kind, "the scratch URL", "not {backend}")
    assert url.password == password and url.host == "127.0.0.1"
    assert kind.client_command(url, Path("x.sql")).env == {"MYSQL_PWD": password}


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(message=HOSTILE, label=HOSTILE)
def test_applied_by_sqlite3_a_hostile_script_does_only_its_work(
    repo_copy, tmp_path, message, label
):
    """The script with a hostile message and label, applied with sqlite3, leaves exactly the
    tables, columns and rows the harmless one leaves."""
    import sqlite3
    import subprocess
    import uuid

    def apply(doc: str, labels: tuple[str, ...] | None) -> list[tuple[object, ...]]:
        render(repo_copy, doc, labels)
        project = load_project(repo_copy / "alembic.ini")
        script = ranges.sql_one(project, project.environment("dev"), "upgrade", start="base")
        database = tmp_path / f"{uuid.uuid4().hex}.db"
        result = subprocess.run(
            ["sqlite3", str(database)], input=script.text, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        with sqlite3.connect(database) as connection:
            objects = connection.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"
            ).fetchall()
            rows = connection.execute("SELECT count(*) FROM tax_rates").fetchall()
            audit = connection.execute(
                "SELECT revision, direction FROM schemactl_audit ORDER BY id"
            ).fetchall()
        return [*objects, *rows, *audit]

    assert apply(message, (label,) if label else None) == apply("Add users.nickname", None)


# Revision names and targets as anyone could type them: real ids and prefixes, labels,
# keywords, and the operators Alembic reads (@ + - :), with hostile characters among them.
NAME_PARTS = st.sampled_from(
    ["68cfa590ad28", "ab25", "e58b", "payments", "discounts", "head", "heads", "base", "@",
     "+", "-", "1", "99", ":", ",", " ", "", "'", "\n", "\x00", "%", "..", "/", "current"]
)  # fmt: skip
TARGETS = st.one_of(
    st.lists(NAME_PARTS, max_size=5).map("".join),
    st.text(max_size=12),
)
FUZZ = settings(
    # 500 examples per command (CI takes the default); SCHEMACTL_FUZZ_EXAMPLES=5000 for a long run.
    max_examples=int(os.environ.get("SCHEMACTL_FUZZ_EXAMPLES", "500")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TARGET_COMMANDS = {
    "upgrade": ["upgrade", "--plan"],
    "downgrade": ["downgrade", "--plan"],
    "stamp": ["stamp"],
    "sql-from": ["sql", "--stdout", "--from"],
    "sql-to": ["sql", "--stdout", "--to"],
    "squash": ["squash", "--dry-run", "--to"],
    "merge": ["merge"],
    "lint-from": ["lint", "--json"],  # FROM:TO, the target typed as FROM
}


@pytest.mark.parametrize("command", sorted(TARGET_COMMANDS))
def test_no_name_or_target_is_a_traceback(repo_copy, monkeypatch, command):
    """Whatever is typed as a revision name or target: an answer or one line, never a
    traceback, and nothing written but by a command that succeeded."""
    from typer.testing import CliRunner

    from tools.cli import app

    runner = CliRunner()
    monkeypatch.setenv("BILLGEN_DEV_URL", f"sqlite:///{repo_copy / 'dev.db'}")
    config = ["-c", str(repo_copy / "alembic.ini")]
    assert runner.invoke(app, [*config, "upgrade"]).exit_code == 0

    @FUZZ
    @given(target=TARGETS)
    def typed(target: str) -> None:
        if target.startswith("-") and target[1:].isdigit() and command == "stamp":
            return  # a relative stamp is Alembic's to interpret; nothing typed wrong
        typed_as = f"{target}:heads" if command == "lint-from" else target
        done = runner.invoke(app, [*config, *TARGET_COMMANDS[command], typed_as])
        unexpected = done.exception is not None and not isinstance(done.exception, SystemExit)
        assert not unexpected, (target, done.exception)
        assert done.exit_code in (0, 1, 2), (target, done.output)
        if done.exit_code == 1:
            assert done.stderr.startswith("Error: ") and done.stderr.count("\n") == 1, (
                target,
                done.stderr,
            )

    typed()


# alembic.ini values as a hand, a merge or an adversary could leave them.
INI_KEYS = {
    "alembic": ["version_table", "path_separator", "file_template", "target_metadata",
                "version_locations", "truncate_slug_length", "prepend_sys_path"],
    "schemactl": ["default_env", "sql_out", "template", "scratch_postgresql_url"],
    "schemactl.env.prod": ["dialect", "url_env", "lock_timeout", "statement_timeout", "schema",
                           "online", "backup"],
}  # fmt: skip
INI_VALUES = st.one_of(
    st.sampled_from(["", "%", "%(here)s", "%%", "bogus", "pg_temp", "Billing", "-1", "0",
                     "x\n  ; DROP TABLE users; --", "*/ DROP TABLE users; /*", "true", "no",
                     "postgresql", "oracle", "a:b", "../../etc", "5s", "1 hour"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
)  # fmt: skip


@pytest.mark.slow
def test_no_ini_value_is_a_traceback(repo_copy, monkeypatch):
    """Whatever a key of alembic.ini holds: status, graph and sql answer or say what is wrong
    in one line; a script never carries a DROP an ini value smuggled in."""
    from typer.testing import CliRunner

    from tools.cli import app

    runner = CliRunner()
    monkeypatch.setenv("BILLGEN_DEV_URL", f"sqlite:///{repo_copy / 'dev.db'}")
    ini = repo_copy / "alembic.ini"
    original = ini.read_text()
    config = ["-c", str(ini)]
    keys = [(section, key) for section, names in INI_KEYS.items() for key in names]

    @FUZZ
    @given(where=st.sampled_from(keys), value=INI_VALUES)
    def written(where: tuple[str, str], value: str) -> None:
        section, key = where
        lines = original.splitlines()
        start = lines.index(f"[{section}]")
        body = [i for i in range(start + 1, len(lines)) if lines[i].startswith(f"{key} =")]
        entry = f"{key} = {value}"
        if body and body[0] < next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines)
        ):
            lines[body[0]] = entry
        else:
            lines.insert(start + 1, entry)
        ini.write_text("\n".join(lines) + "\n")
        for command in (
            ["status"],
            ["graph"],
            ["sql", "--env", "prod", "--stdout", "--from", "e58b81ed3f5b"],
        ):
            done = runner.invoke(app, [*config, *command])
            unexpected = done.exception is not None and not isinstance(done.exception, SystemExit)
            assert not unexpected, (where, value, command, done.exception)
            if done.exit_code == 1:
                assert done.stderr.startswith("Error: "), (where, value, done.stderr)
                assert done.stderr.count("\n") == 1, (where, value, done.stderr)
            if command[0] == "sql" and done.exit_code == 0:
                assert "DROP TABLE users" not in done.stdout, (where, value)

    try:
        written()
    finally:
        ini.write_text(original)
