"""Fixtures: the repo's project, and a fresh throwaway database per test on a real server.

PostgreSQL and MariaDB are reached through admin URLs (override with SCHEMACTL_TEST_PG_URL /
SCHEMACTL_TEST_MARIADB_URL, else the SCHEMACTL_SCRATCH_*_URL that .ci/run exports). When a
server is missing the test skips with the reason, except in CI (CI=true), where it fails: CI
must never go green by skipping the real databases."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import subprocess
import sys
import warnings
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer.testing
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from tools.config import Project, load_project
from tools.dialects import ScriptDialect, dialect_of_url, is_tool_table, script_dialect
from tools.proof.scratch import schema_of, scratch_database
from tools.proof.snapshot import Schema

# Typer's CliRunner builds the click command from the app at every invoke (half the time of
# an in-process command: the fuzz runs thousands); the app does not change, so once is enough.
typer.testing._get_command = functools.cache(typer.testing._get_command)  # type: ignore[attr-defined]

# The repo: its tools/ (the tool under test), and the repo-reading tests (tests/repo/) read
# its project. The tool's own tests use the billing fixture instead (tests/fixture/): a frozen
# copy of the project, so a schema change of the app's never breaks them.
REPO = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).resolve().parent / "fixture"
MODELS = "fixture_schema"  # the fixture's models package (schema/ in the repo)
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
if str(FIXTURE) not in sys.path:
    sys.path.append(str(FIXTURE))  # fixture_schema, for the tests that read its models

ADMIN_URLS = {
    "postgresql": os.environ.get("SCHEMACTL_TEST_PG_URL")
    or os.environ.get("SCHEMACTL_SCRATCH_POSTGRESQL_URL")
    or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    "mariadb": os.environ.get("SCHEMACTL_TEST_MARIADB_URL")
    or os.environ.get("SCHEMACTL_SCRATCH_MARIADB_URL")
    or "mariadb+pymysql://root@127.0.0.1:3306",
}
# schemactl finds its scratch servers in the copied alembic.ini, or where a test puts them
# (the scratch_servers fixture): never in the variables CI happens to export.
for _variable in [name for name in os.environ if name.startswith("SCHEMACTL_SCRATCH_")]:
    del os.environ[_variable]
# Which of the repo's environments tests each dialect, and the variable holding its URL.
ENV_FOR_DIALECT = {
    "sqlite": ("dev", "BILLGEN_DEV_URL"),
    "postgresql": ("staging", "BILLGEN_STAGING_URL"),
    "mariadb": ("mariadb", "BILLGEN_MARIADB_URL"),
}
DIALECTS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    pytest.param("mariadb", id="mariadb", marks=pytest.mark.mariadb),
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow stories first, longest first (``slow(SECONDS)``, about what one takes; the
    rest in collection order): started last, one of them would end the run alone while the
    other workers wait."""

    def seconds(item: pytest.Item) -> float:
        slow = item.get_closest_marker("slow")
        return 0 if slow is None else (slow.args[0] if slow.args else 10)

    items.sort(key=seconds, reverse=True)


@dataclass(frozen=True)
class Database:
    dialect: str
    url: URL
    env: str  # the repo environment pointed at this database
    url_var: str

    @property
    def kind(self) -> ScriptDialect:
        return script_dialect(self.dialect)

    def engine(self):
        return self.kind.engine(self.url)

    def tables(self) -> set[str]:
        """The names of the tables the database holds now."""
        from sqlalchemy import inspect

        engine = self.engine()
        try:
            with engine.connect() as connection:
                return set(inspect(connection).get_table_names())
        finally:
            engine.dispose()


def server_unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI requires every database server)", pytrace=False)
    pytest.skip(reason)


def admin_url(dialect: str) -> URL:
    """The server URL tests make their databases on; skip (fail in CI) when it is down."""
    url = make_url(ADMIN_URLS[dialect])
    engine = script_dialect(dialect).engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as err:  # any driver error means the same: no usable server
        first = str(getattr(err, "orig", err)).strip().splitlines()[0]
        server_unavailable(
            f"{dialect} server not reachable at {url.render_as_string(hide_password=True)}: {first}"
        )
    finally:
        engine.dispose()
    return url


def scratch_env(*dialects: str) -> dict[str, str]:
    """The variables that give schemactl its scratch servers (for proving releases and
    running the stairway) on the test servers; skip (fail in CI) when one is down."""
    from tools.config import scratch_variable

    return {
        scratch_variable(script_dialect(d)): admin_url(d).render_as_string(hide_password=False)
        for d in dialects
        if script_dialect(d).needs_server
    }


@pytest.fixture
def scratch_servers(monkeypatch: pytest.MonkeyPatch):
    """A factory: scratch_servers(*dialects) points schemactl (in this process too) at the
    test servers for its scratch databases, and returns the variables for a subprocess."""

    def point(*dialects: str) -> dict[str, str]:
        found = scratch_env(*dialects)
        for key, value in found.items():
            monkeypatch.setenv(key, value)
        return found

    return point


def schema_snapshot(url: URL, ignore: Collection[str] = ()) -> Schema:
    """The reflected schema as typed data, so two databases can be compared with ==."""
    return schema_of(url, ignore)


def model_diff(url: URL, metadata: object = None) -> list[object]:
    """What autogenerate would change to make the database match the models ([] = nothing):
    ``metadata``, by default the billing fixture's (fixture_schema.metadata)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    if metadata is None:
        import fixture_schema

        metadata = fixture_schema.metadata
    engine = dialect_of_url(make_url(url)).engine(make_url(url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    # schemactl's own tables (audit, backups) are not the models'.
                    "include_name": lambda name, kind, _: (
                        not (kind == "table" and is_tool_table(name))
                    ),
                },
            )
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


@pytest.fixture
def throwaway_database() -> Iterator[object]:
    """A factory: throwaway_database(dialect) -> Database, dropped after the test.

    The databases are made the way schemactl makes its own (tools.proof.scratch).
    """
    with contextlib.ExitStack() as stack:

        def make(dialect: str) -> Database:
            env, var = ENV_FOR_DIALECT[dialect]
            kind = script_dialect(dialect)
            server = admin_url(dialect) if kind.needs_server else None
            url = stack.enter_context(scratch_database(kind, server, prefix="schemactl_t"))
            return Database(dialect, url, env, var)

        yield make


@pytest.fixture(params=DIALECTS)
def database(
    request: pytest.FixtureRequest, throwaway_database, monkeypatch: pytest.MonkeyPatch
) -> Database:
    """A fresh empty database of each dialect, with its repo environment pointed at it."""
    db = throwaway_database(request.param)
    monkeypatch.setenv(db.url_var, db.url.render_as_string(hide_password=False))
    return db


@pytest.fixture
def project() -> Project:
    """The billing fixture's project, read in place (tests that write use repo_copy)."""
    return load_project(FIXTURE / "alembic.ini")


def copy_fixture(dest: Path) -> Path:
    """A throwaway copy of the billing fixture's project (config, models, both histories,
    sql_out) with the repo's tools/ and pyproject.toml beside it, as a repo of its own."""
    dest.mkdir(parents=True)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in (MODELS, "versions", "reporting", "sql_out"):
        shutil.copytree(FIXTURE / folder, dest / folder, ignore=skip)
    shutil.copytree(REPO / "tools", dest / "tools", ignore=skip)
    shutil.copy(REPO / "pyproject.toml", dest / "pyproject.toml")
    ini = (FIXTURE / "alembic.ini").read_text()
    (dest / "alembic.ini").write_text(ini.replace("%(here)s/../../tools/", "%(here)s/tools/"))
    return dest


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """A throwaway copy of the billing fixture's project, tools included (copy_fixture)."""
    return copy_fixture(tmp_path / "repo")


@pytest.fixture
def embedded_copy(repo_copy: Path) -> Path:
    """The fixture's copy with its scratch servers forgotten: only SQLite is at hand, so a
    test whose subject is not a server proves on the embedded database alone (check says
    which dialects it skipped)."""
    ini = repo_copy / "alembic.ini"
    ini.write_text(re.sub(r"^scratch_\w+_url = .*\n", "", ini.read_text(), flags=re.M))
    return repo_copy


# A URL of each dialect for a foreign scenario project's sqlalchemy.url: offline rendering
# needs only its dialect (an SQLite one names a file in the project's folder).
SCENARIO_URLS = {
    "postgresql": "postgresql+psycopg://u@h/db",
    "mariadb": "mariadb+pymysql://u@h/db",
    "sqlite": "sqlite:///app.db",
}


def scenario_copy(tmp_path: Path, source: Path, dialect: str = "sqlite") -> Path:
    """A copy of a foreign scenario project (tests/scenarios/NAME) whose sqlalchemy.url
    names ``dialect``."""
    dest = tmp_path / source.name
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", "*.db"))
    ini = dest / "alembic.ini"
    url = SCENARIO_URLS[dialect].replace("app.db", str(dest / "app.db"))
    ini.write_text(
        "\n".join(
            f"sqlalchemy.url = {url}" if line.startswith("sqlalchemy.url") else line
            for line in ini.read_text().splitlines()
        )
        + "\n"
    )
    return dest


def schemactl(
    repo: Path, *args: str, env: dict[str, str] | None = None, fresh: bool = False
) -> subprocess.CompletedProcess[str]:
    """schemactl run inside ``repo`` as a user runs it there: that copy's models, its
    alembic.ini, ``env`` added to an environment without this one's BILLGEN_/SCHEMACTL_
    variables. In this process (a fresh interpreter costs more than most commands), set up
    as a fresh interpreter would be: the copy's own modules imported afresh, sys.path, the
    working directory and the environment given back afterwards, an exception shown as the
    traceback a real run prints. ``fresh``: in a new interpreter, where that is the subject."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("BILLGEN_", "SCHEMACTL_"))}
    environ.update(env or {})
    if fresh:
        return subprocess.run(
            [sys.executable, "-m", "tools", *args],
            cwd=repo,
            env=environ,
            capture_output=True,
            text=True,
        )
    return _in_process(Path(repo), list(args), environ)


# Names a project's own folder provides (its models, its env.py's helpers) that must never be
# taken from another copy's run: everything but the tool under test and the test suite.
_NOT_THE_PROJECTS = frozenset({"tools", "tests"})


def _projects_modules(repo: Path) -> set[str]:
    names = {
        entry.stem if entry.suffix == ".py" else entry.name
        for entry in repo.iterdir()
        if entry.suffix == ".py" or (entry / "__init__.py").is_file()
    }
    return names - _NOT_THE_PROJECTS


@contextlib.contextmanager
def _as_a_fresh_interpreter(repo: Path, environ: dict[str, str]) -> Iterator[None]:
    from tools.cli import show_notes

    mine = _projects_modules(repo)
    kept = {name: module for name, module in sys.modules.items() if name.partition(".")[0] in mine}
    for name in kept:
        del sys.modules[name]
    path, cwd, old_environ = list(sys.path), os.getcwd(), dict(os.environ)
    os.chdir(repo)
    os.environ.clear()
    os.environ.update(environ)
    show_notes()
    try:
        yield
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(old_environ)
        sys.path[:] = path
        for name in [n for n in sys.modules if n.partition(".")[0] in mine]:
            del sys.modules[name]
        sys.modules.update(kept)


# Runs schemactl as `python -m tools` in a fresh interpreter, and says on stderr's last line
# which of Typer, SQLAlchemy and Alembic it imported (the entry point's answers import fewer).
_COUNTING = (
    "import runpy, sys\n"
    "sys.argv = ['schemactl', *sys.argv[1:]]\n"
    "code = 0\n"
    "try:\n    runpy.run_module('tools', run_name='__main__')\n"
    "except SystemExit as exit:\n    code = exit.code\n"
    "sys.stdout.flush()\n"
    "print(sorted(m for m in ('typer', 'sqlalchemy', 'alembic') if m in sys.modules), "
    "file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def fresh_run(repo: Path, *args: str, **env: str) -> tuple[subprocess.CompletedProcess[str], str]:
    """`schemactl ARGS` in a fresh interpreter in ``repo`` (its stderr without the last
    line), and which of Typer, SQLAlchemy and Alembic it imported."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SCHEMACTL_", "BILLGEN_"))}
    done = subprocess.run(
        [sys.executable, "-c", _COUNTING, *args],
        capture_output=True,
        text=True,
        cwd=repo,
        env={**environ, "PYTHONPATH": str(REPO), **env},
    )
    *said, loaded = done.stderr.splitlines()
    done.stderr = "".join(f"{line}\n" for line in said)
    return done, loaded


def counting_imports(repo: Path, *args: str, **env: str) -> tuple[str, str, int]:
    """What `schemactl ARGS` printed in ``repo`` (its last newline left out), what it
    imported, and its exit code."""
    done, loaded = fresh_run(repo, *args, **env)
    return done.stdout.removesuffix("\n"), loaded, done.returncode


def _in_process(
    repo: Path, args: list[str], environ: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    import traceback

    from typer.testing import CliRunner

    from tools.cli import app

    with _as_a_fresh_interpreter(repo, environ), warnings.catch_warnings():
        # A warning is printed, as Python's default filters print it, not raised (this
        # suite's filterwarnings = error is for the tests' own code).
        warnings.resetwarnings()
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        result = CliRunner().invoke(app, args, prog_name="schemactl")
    stderr = result.stderr
    error = result.exception
    if error is not None and not isinstance(error, SystemExit):
        stderr += "".join(traceback.format_exception(error))
    return subprocess.CompletedProcess(
        ["schemactl", *args], result.exit_code, result.stdout, stderr
    )


def applied_fixture(tmp_path: Path, db: Database, *revisions: tuple[str, str]) -> Path:
    """The billing fixture (copy_fixture) with ``revisions`` (file name, text) added to its
    versions, rendered from base for the database's environment and applied with its real
    client: the copy's folder."""
    from tools.config import load_project
    from tools.release import ranges

    repo = copy_fixture(tmp_path / "repo")
    for name, source in revisions:
        (repo / "versions" / name).write_text(source)
    project = load_project(repo / "alembic.ini")
    ranges.sql(project, project.environment(db.env), start="base", out=tmp_path / "base")
    applied = apply_script(db, tmp_path / "base" / "upgrade.sql")
    assert applied.returncode == 0, applied.stderr
    return repo


def apply_script(db: Database, script: Path) -> subprocess.CompletedProcess[str]:
    """Apply a rendered script with the database's real command-line client, as a DBA would."""
    command = db.kind.client_command(db.url, script)
    if shutil.which(command.args[0]) is None:
        server_unavailable(f"the {command.args[0]} client is not installed")
    env = {**os.environ, **command.env}
    if command.stdin is None:
        return subprocess.run(command.args, capture_output=True, text=True, env=env)
    with command.stdin.open() as stdin:
        return subprocess.run(command.args, stdin=stdin, capture_output=True, text=True, env=env)


def assert_agrees_with_alembic(history) -> None:
    """Heads, branch points, the labels shown and label membership agree with Alembic's own
    revision map of the same files."""
    graph, scripts = history.graph, history.scripts
    assert set(graph.heads) == set(scripts.get_heads())
    assert {r for r in graph.order if graph[r].is_branch_point} == {
        s.revision for s in scripts.walk_revisions() if s.is_branch_point
    }
    for rev in graph.order:
        shown = graph.branch_of(rev)
        assert shown is None or shown in scripts.get_revision(rev).branch_labels, rev
        assert graph.labels_of(rev) == scripts.get_revision(rev).branch_labels, rev
    for label in graph.labels:
        members = {r for r in graph.order if label in scripts.get_revision(r).branch_labels}
        assert graph.label_members(label) == members
        assert set(graph.line_revisions(label)) <= members
