"""Bad input of every kind: one line that names the problem and the fix, exit 1, no
traceback, nothing written, and never a password."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from tools.cli import app

from .conftest import MODELS, SCENARIOS

runner = CliRunner()
PASSWORD = "s3cr%t@pw"
ENCODED = "s3cr%25t%40pw"


def one_line(result, starts: str, ends: str = "") -> None:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.count("\n") == 1, result.output
    assert result.output.startswith(f"Error: {starts}"), result.output
    assert result.output.rstrip("\n").endswith(ends), result.output
    for secret in (PASSWORD, ENCODED, "s3cr"):
        assert secret not in result.output


@pytest.mark.parametrize(
    ("content", "starts"),
    [
        (b"[other]\nx = 1\n", "alembic.ini has no [alembic] section"),
        (b"[alembic\nscript_location = x\n", "alembic.ini cannot be read (line 1 comes before"),
        (
            b"[alembic]\nscript_location = \xff\xfe\n",
            "alembic.ini cannot be read (it is not UTF-8 (byte 0xff at position 28))",
        ),
        (
            b"[alembic]\nscript_location = m\nsqlalchemy.url = postgresql://u:s3cr%t@h/db\n",
            "alembic.ini cannot be read (the value of sqlalchemy.url in [alembic] has a '%'",
        ),
        (
            b"[alembic]\nscript_location = m\nsqlalchemy.url postgresql s3cr%t@h/db\n=x\n",
            "alembic.ini cannot be read (lines 3, 4 are neither a [section] nor key = value)",
        ),
        (
            b"[alembic]\nscript_location = m\n[schemactl.env.m]\ndialect = mariadb\n"
            b"lock_wait_timeout = ten\n",
            "[schemactl.env.m]: lock_wait_timeout = 'ten' is not valid for MariaDB",
        ),
        (
            b"[alembic]\nscript_location = m\n[schemactl.env.p]\ndialect = postgresql\n"
            b"lock_timeout = 5 seconds\n",
            "[schemactl.env.p]: lock_timeout = '5 seconds' is not valid for PostgreSQL",
        ),
    ],
    ids=[
        "no-alembic-section",
        "malformed",
        "not-utf8",
        "percent-in-url",
        "not-key-value",
        "lock-wait-timeout",
        "lock-timeout",
    ],
)
def test_a_config_that_cannot_be_used(tmp_path, content, starts):
    (tmp_path / "alembic.ini").write_bytes(content)
    one_line(runner.invoke(app, ["-c", str(tmp_path / "alembic.ini"), "status"]), starts)


@pytest.mark.parametrize(
    ("url", "starts"),
    [
        (f"postgresql://u:{ENCODED}@h:port/db", "the database URL in $BILLGEN_STAGING_URL"),
        (f"postgresql://u:{PASSWORD}@h/db", "the database URL in $BILLGEN_STAGING_URL"),
        (f"postgresql+nosuch://u:{ENCODED}@h/db", "the database URL in $BILLGEN_STAGING_URL"),
        (f"postgresql+psycopg2://u:{ENCODED}@h/db", "the database URL in $BILLGEN_STAGING_URL"),
    ],
    ids=["bad-port", "raw-percent-and-at", "unknown-driver", "driver-not-installed"],
)
def test_a_url_that_cannot_be_used(monkeypatch, url, starts):
    from .conftest import FIXTURE

    monkeypatch.setenv("BILLGEN_STAGING_URL", url)
    result = runner.invoke(app, ["-c", str(FIXTURE / "alembic.ini"), "--env", "staging", "status"])
    one_line(result, starts)


@pytest.mark.postgresql
def test_a_bad_connection_option_shows_no_password(monkeypatch, throwaway_database):
    from .conftest import FIXTURE

    database = throwaway_database("postgresql")
    url = database.url.set(password=PASSWORD, query={"badopt": "1"})
    monkeypatch.setenv("BILLGEN_STAGING_URL", url.render_as_string(hide_password=False))
    result = runner.invoke(app, ["-c", str(FIXTURE / "alembic.ini"), "--env", "staging", "status"])
    one_line(result, "postgresql://postgres:***@127.0.0.1", 'invalid connection option "badopt"')


@pytest.mark.mariadb
def test_a_missing_mariadb_database_is_named(monkeypatch, throwaway_database):
    from .conftest import FIXTURE

    database = throwaway_database("mariadb")
    url = database.url.set(database="schemactl_no_such_database")
    monkeypatch.setenv("BILLGEN_MARIADB_URL", url.render_as_string(hide_password=False))
    result = runner.invoke(app, ["-c", str(FIXTURE / "alembic.ini"), "--env", "mariadb", "status"])
    one_line(result, "mariadb://", "Unknown database 'schemactl_no_such_database' (error 1049)")


REVISION = '"""Broken"""\n{body}\n\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n'


@pytest.mark.parametrize(
    ("body", "starts"),
    [
        (
            'down_revision = "2000000000bb"',
            "a revision file failed to load (CommandError: Could not determine revision id",
        ),
        (
            'revision = "3000000000cc"\ndown_revision = "3000000000cc"',
            "a revision file failed to load (LoopDetected: Self-loop",
        ),
        (
            'revision = "30-00"\ndown_revision = "2000000000bb"',
            "a revision file failed to load (RevisionError: Character(s) '-' not allowed",
        ),
        (
            'raise RuntimeError("boom")',
            "a revision file failed to load in 0003_broken.py, line 2 (RuntimeError: boom)",
        ),
        (
            'revision = "3000000000cc"\ndown_revision = "2000000000bb"\ndepends_on = "nosuch"',
            "depends_on 'nosuch' in 0003_broken.py (3000000000cc) names no revision",
        ),
        (
            'revision = "3000000000cc\\n"\ndown_revision = "2000000000bb"',
            "revision id '3000000000cc\\n' cannot be written into SQL safely",
        ),
    ],
    ids=[
        "no-revision",
        "own-parent",
        "dash-in-id",
        "raises",
        "unknown-depends-on",
        "newline-in-id",
    ],
)
@pytest.mark.parametrize("command", [["status"], ["graph"], ["sql", "--from", "base", "--stdout"]])
def test_a_broken_revision_file(tmp_path, body, starts, command):
    project = tmp_path / "p"
    shutil.copytree(SCENARIOS / "plain_alembic", project)
    (project / "migrations" / "versions" / "0003_broken.py").write_text(REVISION.format(body=body))
    one_line(runner.invoke(app, ["-c", str(project / "alembic.ini"), *command]), starts)
    checked = runner.invoke(app, ["-c", str(project / "alembic.ini"), "check"])
    assert checked.exit_code == 1 and checked.output.startswith("FAIL history\n     ")


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["graph"],
        ["sql", "--from", "base", "--stdout"],
        ["upgrade"],
        ["stamp", "head"],
        ["lint"],
        ["makemigrations", "-m", "x"],
        ["branch", "list"],
    ],
    ids=lambda c: c[0],
)
def test_a_dangling_symlink_among_revisions_is_one_line(tmp_path, command):
    """Alembic itself fails on a link to nothing with a traceback; the link is named."""
    project = tmp_path / "p"
    shutil.copytree(SCENARIOS / "plain_alembic", project)
    link = project / "migrations" / "versions" / "0003_gone.py"
    link.symlink_to(tmp_path / "moved_away.py")
    before = sorted(p.name for p in project.rglob("*"))
    result = runner.invoke(app, ["-c", str(project / "alembic.ini"), *command])
    one_line(result, f"{link} is a symlink to", "which does not exist; fix the link or remove it")
    assert sorted(p.name for p in project.rglob("*") if ".schemactl_cache" not in p.parts) == [
        name for name in before if name != ".schemactl_cache"
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda r: r.update({"to": "9ecdc98b5e8a"}),
            "is not a manifest schemactl wrote (expected a list",
        ),
        (lambda r: r.update({"to": ["0123456789ab"]}), ""),
        (
            lambda r: r.update({"name": "../../../etc"}),
            "is not a manifest schemactl wrote (release name",
        ),
        (
            lambda r: r.update({"from": ["x'; DROP TABLE users; --"]}),
            "is not a manifest schemactl wrote (revision id",
        ),
        (
            lambda r: r.update({"proven": "psql"}),
            "is not a manifest schemactl wrote ('proven' must name the client and the server)",
        ),
    ],
    ids=["to-is-a-string", "to-is-unknown", "name-is-a-path", "hostile-id", "proven-is-text"],
)
def test_a_manifest_that_cannot_be_used(repo_copy, change, expected):
    manifest = repo_copy / "sql_out" / "prod" / "manifest.json"
    data = json.loads(manifest.read_text())
    change(data["releases"][0])
    manifest.write_text(json.dumps(data))
    result = runner.invoke(app, ["-c", str(repo_copy / "alembic.ini"), "release", "--check"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    if expected:
        one_line(result, "sql_out/prod/manifest.json " + expected)
    else:
        assert "names revisions that are not in the history: 0123456789ab" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["sql", "--from", "base", "--rollback"],
            "Error: --rollback picks the script --stdout prints; without --stdout both "
            "upgrade.sql and rollback.sql are written\n",
        ),
        (
            ["release", "--check", "--prove"],
            "Error: --check and --prove are two gates; run them one after the other\n",
        ),
    ],
    ids=["rollback-without-stdout", "check-and-prove"],
)
def test_options_that_do_not_go_together(repo_copy, args, message):
    before = sorted(p.relative_to(repo_copy) for p in repo_copy.rglob("*"))
    result = runner.invoke(app, ["-c", str(repo_copy / "alembic.ini"), *args])
    assert (result.exit_code, result.output) == (2, message)
    assert sorted(p.relative_to(repo_copy) for p in repo_copy.rglob("*")) == before


BROKEN_MODELS = {
    "conflict-markers": (
        "    tax_id: Mapped[str | None] = mapped_column(String(32), index=True)\n",
        "<<<<<<< HEAD\n    tax_id: Mapped[str | None] = mapped_column(String(32), index=True)\n"
        "=======\n    vat_id: Mapped[str | None] = mapped_column(String(32), index=True)\n"
        ">>>>>>> feature\n",
        "SyntaxError: invalid syntax (a git conflict marker: finish the merge)",
    ),
    "missing-table": (
        'ForeignKey("users.id")',
        'ForeignKey("owners.id")',
        "customers.owner_id refers to owners.id, which no model defines",
    ),
}


@pytest.mark.parametrize("breakage", sorted(BROKEN_MODELS))
@pytest.mark.parametrize(
    "command",
    [
        ["makemigrations", "-m", "x"],
        ["sql", "--from", "base", "--stdout"],
        ["upgrade"],
        ["lint"],
    ],
)
def test_a_broken_model_is_one_line_on_every_command(repo_copy, monkeypatch, breakage, command):
    """A conflict marker left in a model file, or a foreign key to a table no model
    defines: every command that loads the models (env.py does, reading a database's
    version table too) says the model file and line and the problem, exit 1 — never a
    traceback. (Status of a database not yet created loads nothing, and works.)"""
    from .conftest import schemactl

    assert schemactl(repo_copy, "upgrade").returncode == 0
    old, new, problem = BROKEN_MODELS[breakage]
    model = repo_copy / MODELS / "customers.py"
    model.write_text(model.read_text().replace(old, new))
    done = schemactl(repo_copy, *command)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith(
        "Error: the models (fixture_schema:metadata) do not load: fixture_schema/customers.py:"
    )
    assert line.endswith(f"{problem}; fix the model file")


@pytest.mark.parametrize("breakage", sorted(BROKEN_MODELS))
def test_what_reads_only_the_version_table_works_with_a_broken_model(repo_copy, breakage):
    """status, and graph marking a database, read the version table env.py named, which
    was kept when env.py was last asked (tools.live.env_answers): they load no model, and
    work while one is broken."""
    from .conftest import schemactl

    assert schemactl(repo_copy, "upgrade").returncode == 0
    old, new, _ = BROKEN_MODELS[breakage]
    model = repo_copy / MODELS / "customers.py"
    model.write_text(model.read_text().replace(old, new))
    status = schemactl(repo_copy, "status")
    assert status.returncode == 0 and "revisions applied" in status.stdout, status.stderr
    graph = schemactl(repo_copy, "graph", "--env", "dev")
    assert graph.returncode == 0 and "68cfa590ad28" in graph.stdout, graph.stderr


NOT_NAMES = ["", " ", "@", "payments@", "@head", "heads+1", "base+99", "a@b@c"]
TARGET_COMMANDS = [
    ["upgrade"],
    ["downgrade"],
    ["stamp"],
    ["sql", "--stdout", "--from"],
    ["sql", "--stdout", "--to"],
    ["squash", "--dry-run", "--to"],
    ["merge"],
]


@pytest.mark.parametrize("command", TARGET_COMMANDS, ids=lambda c: "-".join(c))
def test_a_name_that_is_no_revision_is_one_line_and_changes_nothing(
    repo_copy, monkeypatch, command
):
    """Targets Alembic asserts on or walks nowhere with: one line, exit 1, and a stamp that
    refuses leaves the version table as it was (Alembic's stamp empties it first)."""
    import sqlite3

    monkeypatch.setenv("BILLGEN_DEV_URL", f"sqlite:///{repo_copy / 'dev.db'}")
    config = ["-c", str(repo_copy / "alembic.ini")]
    assert runner.invoke(app, [*config, "upgrade"]).exit_code == 0
    with sqlite3.connect(repo_copy / "dev.db") as db:
        before = db.execute("SELECT version_num FROM alembic_version").fetchall()
    for name in NOT_NAMES:
        done = runner.invoke(app, [*config, *command, name])
        assert done.exit_code == 1, (name, done.output)
        assert done.exception is None or isinstance(done.exception, SystemExit), (name, done)
        (line,) = done.stderr.splitlines()
        assert line.startswith("Error: "), (name, line)
        with sqlite3.connect(repo_copy / "dev.db") as db:
            assert db.execute("SELECT version_num FROM alembic_version").fetchall() == before


@pytest.mark.parametrize(
    "value",
    [
        "alembic_version\n    x */ DROP TABLE users; --",  # an ini continuation line
        "versions */ DROP TABLE users; /*",
        "alembic-version",
    ],
)
@pytest.mark.parametrize(
    "command", [["sql", "--env", "prod", "--from", "base", "--stdout"], ["status"], ["upgrade"]]
)
def test_a_version_table_that_is_not_a_plain_name_is_refused(repo_copy, value, command):
    """The version table is named in every script's SQL and header comments: a value that
    could end a comment or a statement is refused where it is read, in one line."""
    from .conftest import schemactl

    ini = repo_copy / "alembic.ini"
    text = ini.read_text()
    anchor = "target_metadata = fixture_schema:metadata\n"
    ini.write_text(text.replace(anchor, anchor + f"version_table = {value}\n", 1))
    done = schemactl(repo_copy, *command)
    assert done.returncode == 1, done.stdout
    assert done.stdout == "" and "DROP TABLE" not in done.stdout
    (line,) = done.stderr.splitlines()
    assert "is not a plain name" in line and "Traceback" not in done.stderr


INI_BREAKAGES = {
    "path-separator": ("path_separator = os\n", "path_separator = bogus\n", "path_separator"),
    "file-template": (
        "file_template = %%(rev)s_%%(slug)s\n",
        "file_template = %(rev)s_%%(slug)s\n",
        "write %% for each %",
    ),
}


@pytest.mark.parametrize("breakage", sorted(INI_BREAKAGES))
@pytest.mark.parametrize("command", [["status"], ["sql", "--from", "base", "--stdout"]])
def test_an_ini_value_alembic_cannot_use_is_one_line(repo_copy, breakage, command):
    from .conftest import schemactl

    old, new, said = INI_BREAKAGES[breakage]
    ini = repo_copy / "alembic.ini"
    assert old in ini.read_text()
    ini.write_text(ini.read_text().replace(old, new, 1))
    done = schemactl(repo_copy, *command)
    assert done.returncode == 1 and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("Error: ") and said in line


REVISION_BREAKAGES = {
    "branch-labels": (
        "def upgrade():\n    pass\n",
        "branch_labels = 5",
        "branch_labels = 5 is neither a string, a tuple of strings nor None",
    ),
    "no-upgrade": ("def upgradee():\n    pass\n", "branch_labels = None", "has no upgrade()"),
    "unbound-parameter": (
        "def upgrade():\n    from alembic import op\n    import sqlalchemy as sa\n"
        "    op.execute(sa.text('UPDATE users SET name = :n'))\n",
        "branch_labels = None",
        "0011_0123456789ab_x.py",
    ),
    "bytes-statement": (
        "def upgrade():\n    from alembic import op\n    op.execute(b'SELECT 1')\n",
        "branch_labels = None",
        "0011_0123456789ab_x.py",
    ),
    "recursion": (
        "def upgrade():\n    upgrade()\n",
        "branch_labels = None",
        "RecursionError",
    ),
}


@pytest.mark.parametrize("breakage", sorted(REVISION_BREAKAGES))
def test_a_revision_alembic_cannot_run_is_one_line_online(repo_copy, breakage):
    from .conftest import schemactl

    body, labels, said = REVISION_BREAKAGES[breakage]
    (repo_copy / "versions" / "0011_0123456789ab_x.py").write_text(
        f'"""x"""\nrevision = "0123456789ab"\ndown_revision = "68cfa590ad28"\n{labels}\n'
        f"depends_on = None\n\n\n{body}\n\ndef downgrade():\n    pass\n"
    )
    dev = {"BILLGEN_DEV_URL": f"sqlite:///{repo_copy / 'dev.db'}"}
    done = schemactl(repo_copy, "upgrade", env=dev)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and said in done.stderr.splitlines()[-1]


def test_audit_shows_a_duration_that_is_no_number_as_none(repo_copy):
    """The audit table is anyone's to write (SQLite keeps text in a numeric column)."""
    import sqlite3

    from .conftest import schemactl

    dev = {"BILLGEN_DEV_URL": f"sqlite:///{repo_copy / 'dev.db'}"}
    assert schemactl(repo_copy, "upgrade", env=dev).returncode == 0
    with sqlite3.connect(repo_copy / "dev.db") as db:
        db.execute("UPDATE schemactl_audit_timing SET duration_ms = 'abc' WHERE audit_id = 1")
    shown = schemactl(repo_copy, "audit", env=dev)
    assert shown.returncode == 0 and "Traceback" not in shown.stderr, shown.stderr
