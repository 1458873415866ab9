"""`schemactl sql ... --stdout` answered by the entry point (tools.entry), without Typer: the
CLI's very script, byte for byte, for every plain form of its options; everything else (other
options, a value Click may read otherwise, an empty range, an error) goes to the CLI, which
prints and exits as it always does."""

from __future__ import annotations

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
