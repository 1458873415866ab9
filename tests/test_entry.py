"""`schemactl sql ... --stdout` answered by the entry point (tools.entry), without Typer: the
CLI's very script, byte for byte, for every plain form of its options; everything else (other
options, a value Click may read otherwise, an empty range, an error) goes to the CLI, which
prints and exits as it always does."""

from __future__ import annotations

import functools
import os
import sys

import pytest

from tests.conftest import copy_fixture, fresh_run, schemactl
from tools.entry import sql_options

# Each plain form, as a user types it; all render from the fixture's history.
FORMS = [
    ("sql", "--stdout"),
    ("sql", "--stdout", "--from", "base"),
    ("sql", "--from=base", "--to=68cfa590ad28", "--stdout"),
    ("sql", "-e", "mariadb", "--from", "base", "--stdout"),
    ("sql", "--env=prod", "--from", "base", "--stdout", "--rollback"),
    ("sql", "--env", "staging", "--client", "plain", "--from", "base", "--stdout"),
    ("sql", "-n", "reporting", "--from", "base", "--to", "heads", "--stdout"),
    ("sql", "--stdout", "--from", "heads", "--to", "base"),  # backwards: the rollback
]


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return copy_fixture(tmp_path_factory.mktemp("entry") / "repo")


@pytest.mark.parametrize("args", FORMS, ids=" ".join)
def test_the_entry_point_prints_the_clis_script_without_typer(repo, args):
    done, loaded = fresh_run(repo, *args)
    assert done.returncode == 0, done.stderr
    assert "typer" not in loaded, loaded
    cli = schemactl(repo, *args)
    assert cli.returncode == 0, cli.stderr
    assert done.stdout == cli.stdout and done.stdout.startswith("-- ")
    assert done.stderr == cli.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("sql",),  # writes files: the CLI's
        ("sql", "--stdout", "--out", "x"),
        ("sql", "--stdout", "--from", "base", "--from", "base"),  # twice
        ("sql", "--stdout", "--from"),  # no value
        ("sql", "--stdout", "--to", "-1"),  # a value that looks like an option
        ("sql", "--stdout", "--help"),
        ("sql", "--stdout=yes"),
        ("sql", "--stdout", "-ex"),
    ],
    ids=" ".join,
)
def test_what_it_does_not_read_goes_to_the_cli(args):
    assert sql_options(list(args[1:])) is None or "stdout" not in sql_options(list(args[1:]))


@pytest.mark.parametrize(
    "args",
    [
        ("sql", "--stdout", "--from", "nosuchrevision"),  # an error: one line, exit 1
        ("sql", "--stdout", "--env", "nosuchenv"),
        ("sql", "--stdout", "--from", "heads"),  # nothing to render: a message, exit 0
        ("sql", "--stdout", "--client", "nosuchclient", "--env", "prod"),
        ("sql", "--stdout", "--from", "base", "--to", "68cfa590ad28", "--name", "nosuchdb"),
    ],
    ids=" ".join,
)
def test_a_failure_is_reported_by_the_cli_as_always(repo, args):
    done, loaded = fresh_run(repo, *args)
    cli = schemactl(repo, *args)
    assert "typer" in loaded  # the CLI ran the command and said what went wrong
    assert (done.returncode, done.stdout, done.stderr) == (cli.returncode, cli.stdout, cli.stderr)
    assert "Traceback" not in done.stderr and done.stderr.strip()


def test_a_warm_branch_list_is_kept_while_what_it_ran_is_the_same(tmp_path):
    """`schemactl branch list` runs each branch's revisions offline for its tables, then keeps
    its table (tools.history.kept): the next run prints the CLI's very table with none of
    Typer, Alembic or SQLAlchemy. A revision edited, a model module changed, env.py edited:
    listed again."""
    import shutil
    import time

    from tests.conftest import MODELS, SCENARIOS

    repo = copy_fixture(tmp_path / "repo")
    for path in sorted((SCENARIOS / "two_features").glob("*.py")):
        shutil.copy(path, repo / "versions" / path.name)

    def cli() -> str:
        done = schemactl(repo, "branch", "list")
        assert done.returncode == 0, done.stderr
        return done.stdout

    def run() -> tuple[str, str]:
        done, loaded = fresh_run(repo, "branch", "list")
        assert done.returncode == 0, done.stderr
        return done.stdout, loaded

    expected = cli()
    assert "feature" in expected or "branch" in expected.splitlines()[0]
    time.sleep(2.1)  # the files settled: only then is anything kept
    listed, loaded = run()
    assert listed == expected
    kept, loaded = run()
    assert kept == expected and loaded == "[]", loaded

    models = next(p for p in (repo / MODELS).glob("*.py") if p.name != "__init__.py")
    models.write_text(models.read_text() + "\n# an edit\n")
    again, loaded = run()
    assert again == expected and "alembic" in loaded  # listed again: a model changed

    time.sleep(2.1)
    run()  # kept anew, the model settled
    assert run() == (expected, "[]")
    env_py = repo / "tools" / "alembic" / "env.py"  # the copy's, as its alembic.ini names it
    env_py.write_text(env_py.read_text() + "\n# an edit\n")
    again, loaded = run()
    assert again == expected and "alembic" in loaded


def test_a_hostile_message_is_shown_inert_and_the_same_on_every_path(tmp_path):
    """A revision message holding a terminal's escape sequences (colours, a window title) and
    control characters: status and graph print it with spaces in their place, the entry
    point's answer (kept or not) byte for byte as the CLI's."""
    import time

    repo = copy_fixture(tmp_path / "repo")
    path = repo / "versions" / "0010_68cfa590ad28_add_customers_tax_id.py"
    hostile = "Add \x1b[31mred\x1b[0m \x1b]0;pwned\x07 \x08customers.tax_id"
    path.write_text(path.read_text().replace("Add customers.tax_id", hostile, 1))
    assert schemactl(repo, "upgrade").returncode == 0
    time.sleep(2.1)  # settled: the second run of each takes what the first kept
    for command in ("status", "graph"):
        cli = schemactl(repo, command)
        assert cli.returncode == 0, cli.stderr
        assert "red" in cli.stdout and "pwned" in cli.stdout
        assert not any(c in cli.stdout for c in "\x1b\x07\x08"), repr(cli.stdout)
        for _ in range(2):
            done, loaded = fresh_run(repo, command)
            assert (done.stdout, loaded) == (cli.stdout, "[]")


@pytest.fixture(scope="module")
def long_history(tmp_path_factory):
    """1,000 generated revisions: a script, a status and a graph longer than a pipe holds."""
    from tests.conftest import REPO

    sys.path.insert(0, str(REPO / "benchmarks"))
    from generate import generate

    return generate(1000, tmp_path_factory.mktemp("long") / "history")


@pytest.mark.parametrize(
    "args", [("sql", "--env", "prod", "--from", "base", "--stdout"), ("status",), ("graph",)]
)
def test_a_reader_that_stops_reading_ends_the_output_quietly(long_history, args):
    """`schemactl sql --stdout | head -1`: the output is longer than a pipe holds, the
    reader goes away, and schemactl stops as the CLI does: exit 0, no traceback."""
    import subprocess

    from tests.conftest import REPO

    done, _ = fresh_run(long_history, *args)  # the caches, warm
    assert done.returncode == 0 and len(done.stdout) > 1 << 16
    process = subprocess.Popen(
        [sys.executable, "-m", "tools", *args],
        cwd=long_history,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    with process.stdout:
        assert process.stdout.readline()
    with process.stderr:
        error = process.stderr.read().decode()
    assert process.wait() == 0 and "Traceback" not in error, error


@pytest.mark.parametrize(
    "args",
    [
        ("sql", "--env", "prod", "--from", "base", "--stdout"),
        ("graph",),  # the entry point's answers
        ("graph", "--format", "json"),  # the CLI's
    ],
)
def test_output_that_cannot_be_written_is_one_line_and_a_closed_stdout_is_no_error(
    long_history, args
):
    """Printing to a full disk (/dev/full) is a one-line error and exit 1, never a traceback;
    with stdout closed (>&-) there is nowhere to print, and nothing fails."""
    import subprocess

    from tests.conftest import REPO

    run = functools.partial(
        subprocess.run,
        [sys.executable, "-m", "tools", *args],
        cwd=long_history,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stderr=subprocess.PIPE,
        text=True,
    )
    with open("/dev/full", "w") as full:
        done = run(stdout=full)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("Error: cannot write the output (No space left on device)")
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    closed = run(preexec_fn=lambda: os.close(1))
    assert closed.returncode == 0 and "Traceback" not in closed.stderr, closed.stderr


def test_a_template_that_fails_midway_prints_nothing_but_its_error(tmp_path):
    """The entry point writes the script to a temporary file as the template renders it and
    prints it only once whole: a template failing after many lines prints none of them, on
    its first run (compiled) as on the next (its code kept), as the CLI does."""
    repo = copy_fixture(tmp_path / "repo")
    (repo / "own.sql.mako").write_text(
        "% for step in script.steps:\n-- ${step.revision.id}\n% endfor\n${script.no_such}\n"
    )
    ini = repo / "alembic.ini"
    ini.write_text(
        ini.read_text().replace("[schemactl]\n", "[schemactl]\ntemplate = %(here)s/own.sql.mako\n")
    )
    args = ("sql", "--env", "prod", "--from", "base", "--stdout")
    said = (
        "Error: template own.sql.mako failed at line 4: AttributeError: 'Script' object has no "
        "attribute 'no_such'; fix the template (or the [schemactl] template setting)\n"
    )
    for _ in range(2):
        done, _ = fresh_run(repo, *args)
        assert (done.returncode, done.stdout, done.stderr) == (1, "", said)
    cli = schemactl(repo, *args)
    assert (cli.returncode, cli.stdout, cli.stderr) == (1, "", said)
