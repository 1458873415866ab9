"""The graph from revision headers (ast, cached: tools.history.headers) against the graph from
importing every file (Alembic's way): the same on every scenario folder, cold and warm; the
cache changes file by file; what is not literal is imported and reported once; status and
graph import no revision file."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import REPO, SCENARIOS, copy_fixture, counting_imports, schemactl
from tools.config import for_database, load_project
from tools.history import headers
from tools.history.graph import build_graph
from tools.history.load import (
    graph_of,
    load_graph,
    load_scripts,
    project_graph,
    script_directory,
)

sys.path.insert(0, str(REPO / "benchmarks"))
from generate import generate

GRAPHS = SCENARIOS / "graphs"


def _shape(name: str, tmp_path):
    project = tmp_path / name
    shutil.copytree(GRAPHS / "_project", project)
    shutil.copy(SCENARIOS / "plain_alembic" / "migrations" / "env.py", project / "env.py")
    shutil.copytree(GRAPHS / name / "versions", project / "versions")
    return project / "alembic.ini"


def _copy(folder, tmp_path):
    shutil.copytree(folder, tmp_path / folder.name, ignore=shutil.ignore_patterns(".schemactl*"))
    return tmp_path / folder.name / "alembic.ini"


def _repo(tmp_path, scenario: str | None = None):
    dest = copy_fixture(tmp_path / "repo")
    for path in sorted((SCENARIOS / scenario).glob("*.py")) if scenario else ():
        shutil.copy(path, dest / "versions" / path.name)
    return dest / "alembic.ini"


def _same_size_edit(path: Path) -> None:
    """The fixture's revision 0010 retitled in place: the same size, inode and mtime (put
    back, as `touch -r` would); only its ctime moves."""
    before = path.stat()
    with open(path, "r+", encoding="utf-8") as stream:
        text = stream.read()
        stream.seek(0)
        stream.write(text.replace("Add customers.tax_id", "Add customers.vat_id"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_ino == before.st_ino


def _generated(tmp_path, size: int, **options):
    generate(size, tmp_path / f"history-{size}", **options)
    return tmp_path / f"history-{size}" / "alembic.ini"


PROJECTS = {
    **{
        f"graphs/{p.name}": (lambda tmp, name=p.name: _shape(name, tmp))
        for p in sorted(GRAPHS.iterdir())
        if p.is_dir() and not p.name.startswith("_")
    },
    **{
        f"corpus/{p.name}": (lambda tmp, folder=p: _copy(folder, tmp))
        for p in sorted((SCENARIOS / "corpus").iterdir())
        if (p / "alembic.ini").is_file()
    },
    "plain_alembic": lambda tmp: _copy(SCENARIOS / "plain_alembic", tmp),
    "repo": _repo,
    "repo+two_features": lambda tmp: _repo(tmp, "two_features"),
    "repo+stale_branch": lambda tmp: _repo(tmp, "stale_branch"),
    "generated-300": lambda tmp: _generated(tmp, 300),
    "generated-importing": lambda tmp: _generated(tmp, 120, import_cost_ms=1),
}


def _configs(ini):
    """An Alembic Config per database of the project."""
    project = load_project(ini)
    return [for_database(project, name).alembic_config() for name in project.databases]


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_the_header_graph_is_the_import_graph(name, tmp_path):
    for cfg in _configs(PROJECTS[name](tmp_path)):
        imported = graph_of(load_scripts(script_directory(cfg)))
        assert imported.order, name
        cold = load_graph(cfg)
        warm = load_graph(cfg)
        assert cold == imported
        assert warm == imported
        assert [cold[r].message for r in cold.order] == [imported[r].message for r in cold.order]
        # From the cache alone (no Alembic), where every file is literal: the same graph.
        alone = headers.read_warm(Path(str(cfg.config_file_name)), cfg.config_ini_section)
        if alone is not None:
            assert build_graph(alone) == imported
        else:  # a file read by importing it, or a listing the cache cannot vouch for
            assert name in ("generated-importing", "corpus/helpers"), name


@pytest.fixture
def parses(monkeypatch):
    """The files read from source (not from the cache), in order."""
    seen: list[str] = []
    real = headers.literal_header

    def spy(source: bytes, path: str):
        seen.append(path.rsplit("/", 1)[-1])
        return real(source, path)

    monkeypatch.setattr(headers, "literal_header", spy)
    return seen


def test_editing_adding_or_removing_a_file_changes_just_its_entry(tmp_path, parses):
    ini = _repo(tmp_path)
    cfg = _configs(ini)[0]
    versions = tmp_path / "repo" / "versions"
    load_graph(cfg)
    assert len(parses) == 12  # cold: every file
    parses.clear()
    load_graph(cfg)
    assert parses == []  # warm: none
    cache = json.loads(next((tmp_path / "repo" / ".schemactl_cache").glob("headers-*")).read_text())
    before = cache["entries"]

    edited = versions / "0010_68cfa590ad28_add_customers_tax_id.py"
    edited.write_text(edited.read_text().replace('"""Add customers.tax_id', '"""Tax ids'))
    graph = load_graph(cfg)
    assert parses == [edited.name]
    assert graph["68cfa590ad28"].message.startswith("Tax ids")

    parses.clear()
    for path in sorted((SCENARIOS / "two_features").glob("*.py"))[:1]:
        shutil.copy(path, versions / path.name)
        added = path.name
    graph = load_graph(cfg)
    assert parses == [added] and "a1a1a1a1a1a1" in graph.revisions

    parses.clear()
    (versions / added).unlink()
    graph = load_graph(cfg)
    assert parses == [] and "a1a1a1a1a1a1" not in graph.revisions
    after = json.loads(
        next((tmp_path / "repo" / ".schemactl_cache").glob("headers-*")).read_text()
    )["entries"]
    assert set(after) == set(before)
    changed = {path for path in after if after[path]["sha256"] != before[path]["sha256"]}
    assert changed == {str(edited.resolve())}


NOT_LITERAL = '''"""Built, not written"""
from alembic import op

PARENTS = ["{parent}"]
revision = "{rev}"
down_revision = PARENTS[0]


def upgrade():
    op.execute("SELECT 1")


def downgrade():
    op.execute("SELECT 1")
'''


def test_a_header_that_is_not_literal_is_imported_and_said_once(tmp_path, caplog, parses):
    ini = _repo(tmp_path)
    odd = tmp_path / "repo" / "versions" / "0011_0dd000000001_built.py"
    odd.write_text(NOT_LITERAL.format(parent="68cfa590ad28", rev="0dd000000001"))
    cfg = _configs(ini)[0]
    with caplog.at_level(logging.WARNING, logger="schemactl"):
        graph = load_graph(cfg)
        assert graph["0dd000000001"].parents == ("68cfa590ad28",)
        assert graph == graph_of(load_scripts(script_directory(cfg)))
        assert [r.getMessage() for r in caplog.records] == [
            "1 revision file(s) read by importing them (their header is not literal strings): "
            "0011_0dd000000001_built.py"
        ]
        caplog.clear()
        again = load_graph(cfg)  # imported again (what it imports may change), not said again
        assert again == graph and caplog.records == []
    # Through the command line: a note on stderr, the first time only.
    (tmp_path / "repo" / ".schemactl_cache").rename(tmp_path / "old-cache")
    first = schemactl(tmp_path / "repo", "graph")
    second = schemactl(tmp_path / "repo", "graph")
    assert first.returncode == second.returncode == 0, first.stderr
    assert first.stderr == (
        "Note: 1 revision file(s) read by importing them (their header is not literal "
        "strings): 0011_0dd000000001_built.py\n"
    )
    assert second.stderr == "" and first.stdout == second.stdout


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_text("{not json"),
        lambda path: path.write_text('{"schemactl_headers": 99, "entries": {}}'),
        lambda path: path.write_text('{"other_tool": true}'),
        lambda path: path.write_text(
            path.read_text().replace('"down_revision": [', '"down_revision": 7, "x": [', 1)
        ),
        lambda path: path.write_bytes(b"\xff\xfe\x00garbage"),
    ],
    ids=["corrupt", "another-format", "foreign", "wrong-shape", "not-text"],
)
def test_a_damaged_cache_is_rebuilt_silently(tmp_path, caplog, damage):
    ini = _repo(tmp_path)
    cfg = _configs(ini)[0]
    truth = load_graph(cfg)
    [cache] = (tmp_path / "repo" / ".schemactl_cache").glob("headers-*")
    damage(cache)
    with caplog.at_level(logging.DEBUG):
        assert load_graph(cfg) == truth
    assert caplog.records == []
    assert json.loads(cache.read_text())["schemactl_headers"] == headers.CACHE_FORMAT


def test_a_cache_that_cannot_be_written_is_done_without(tmp_path):
    ini = _repo(tmp_path)
    (tmp_path / "repo" / ".schemactl_cache").write_text("a file where the folder would be")
    cfg = _configs(ini)[0]
    assert load_graph(cfg) == graph_of(load_scripts(script_directory(cfg)))


def test_the_cache_ignores_itself_in_git(tmp_path):
    load_graph(_configs(_repo(tmp_path))[0])
    assert (tmp_path / "repo" / ".schemactl_cache" / ".gitignore").read_text().endswith("*\n")


MARKER = """
import pathlib as _marker
_marker.Path(__file__).with_suffix(".imported").touch()
"""


def test_status_and_graph_import_no_file_commands_that_run_revisions_import_all(tmp_path):
    """Each revision file leaves a mark when it is imported: status and graph leave none;
    a command that runs revisions (branch list captures its branches, sql renders a range)
    imports every file first, as Alembic does, so a revision may lean on what an earlier
    file imported."""
    ini = _repo(tmp_path)
    versions = tmp_path / "repo" / "versions"
    for path in versions.glob("*.py"):
        text = path.read_text()
        head, sep, rest = text.partition("\ndef upgrade")
        path.write_text(head + MARKER + sep + rest)

    def marked():
        found = sorted(p.stem.split("_")[1] for p in versions.glob("*.imported"))
        for p in versions.glob("*.imported"):
            p.unlink()
        return found

    env = {"BILLGEN_DEV_URL": f"sqlite:///{tmp_path}/dev.db"}
    for command in (("status",), ("graph",), ("status",), ("-n", "alembic", "graph")):
        done = schemactl(ini.parent, *command, env=env)
        assert done.returncode == 0, done.stderr
        assert marked() == [], command
    listed = schemactl(ini.parent, "branch", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    every = sorted(p.stem.split("_")[1] for p in versions.glob("*.py"))
    assert marked() == every
    assert "payments" in listed.stdout and "discounts, invoices" in listed.stdout
    rendered = schemactl(ini.parent, "sql", "--env", "prod", "--from", "e58b81ed3f5b", "--stdout")
    assert rendered.returncode == 0, rendered.stderr
    assert marked() == every


def test_an_edit_that_keeps_size_and_mtime_is_still_seen(tmp_path):
    """The cache cannot be made to lie: an edit in place of the same size with its mtime put
    back (touch -r) changes what status and the rendered scripts see."""
    import os
    import time

    ini = _repo(tmp_path)
    versions = tmp_path / "repo" / "versions"
    path = versions / "0010_68cfa590ad28_add_customers_tax_id.py"
    an_hour_ago = time.time_ns() - 3600 * 10**9  # long before the cache is written
    os.utime(path, ns=(an_hour_ago, an_hour_ago))
    assert schemactl(tmp_path / "repo", "status").returncode == 0  # the cache is written
    assert "Add customers.tax_id" in path.read_text()
    _same_size_edit(path)
    status = schemactl(tmp_path / "repo", "status")
    assert "Add customers.vat_id" in status.stdout, status.stdout
    assert ini.is_file()


def test_the_warm_read_trusts_a_settled_stat_and_reads_a_file_whose_stat_moved(
    tmp_path, monkeypatch
):
    """A file whose size, mtime, ctime and inode are those it had when hashed, its ctime
    settled by then, is not read again; an edit moves its ctime (setting the mtime back
    does not set the ctime back), and the warm read then hashes it and declines."""
    import builtins

    ini = _repo(tmp_path)
    project = load_project(ini)
    monkeypatch.setattr(headers, "_SETTLED_NS", 0)  # the files here were written just now
    project_graph(project)
    versions = tmp_path / "repo" / "versions"
    opened: list[str] = []
    real_open = builtins.open

    def counting(file, *args, **kw):
        if str(file).startswith(str(versions)):
            opened.append(str(file))
        return real_open(file, *args, **kw)

    monkeypatch.setattr(builtins, "open", counting)
    assert headers.read_warm(ini, "alembic") is not None and opened == []
    edited = versions / "0010_68cfa590ad28_add_customers_tax_id.py"
    monkeypatch.setattr(builtins, "open", real_open)
    _same_size_edit(edited)
    monkeypatch.setattr(builtins, "open", counting)
    assert headers.read_warm(ini, "alembic") is None and opened == [str(edited)]
    # Not settled when hashed (its ctime as new as the hash): read each time.
    monkeypatch.setattr(headers, "_SETTLED_NS", 2_000_000_000)
    project_graph(project)
    opened.clear()
    assert headers.read_warm(ini, "alembic") is not None and str(edited) in opened


def test_the_warm_read_takes_the_cache_only_where_nothing_it_came_from_changed(tmp_path):
    """headers.read_warm (Alembic not imported) answers from the cache, or declines and the
    full read runs: a file edited in place with its size and mtime kept, a file added, the
    ini edited, the project copied elsewhere with its cache, a symlink in a location."""
    ini = _repo(tmp_path)
    project = load_project(ini)
    versions = tmp_path / "repo" / "versions"
    assert headers.read_warm(ini, "alembic") is None  # no cache yet
    full = project_graph(project)  # the full read writes the cache
    warm = headers.read_warm(ini, "alembic")
    assert warm is not None and build_graph(warm) == full

    edited = versions / "0010_68cfa590ad28_add_customers_tax_id.py"
    before = edited.stat()
    edited.write_text(edited.read_text().replace("Add customers.tax_id", "Add customers.vat_id"))
    os.utime(edited, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert edited.stat().st_size == before.st_size
    assert headers.read_warm(ini, "alembic") is None
    assert project_graph(project)["68cfa590ad28"].message.startswith("Add customers.vat_id")
    assert headers.read_warm(ini, "alembic") is not None  # written again by the full read

    added = versions / "0011_a1a1a1a1a1a1_added.py"
    shutil.copy(next((SCENARIOS / "two_features").glob("*.py")), added)
    assert headers.read_warm(ini, "alembic") is None
    assert "a1a1a1a1a1a1" in project_graph(project).revisions
    added.unlink()
    assert headers.read_warm(ini, "alembic") is None
    project_graph(project)

    ini.write_text(ini.read_text() + "\n# an edit\n")
    assert headers.read_warm(ini, "alembic") is None
    project_graph(load_project(ini))
    assert headers.read_warm(ini, "alembic") is not None

    copy = tmp_path / "copy"
    shutil.copytree(tmp_path / "repo", copy)  # the cache too, naming the original's files
    assert headers.read_warm(copy / "alembic.ini", "alembic") is None
    assert project_graph(load_project(copy / "alembic.ini"))  # its own, read in full

    # A history listed from elsewhere (a release's, rebuilt: Project.version_locations) is
    # never recorded for the warm read, nor taken from it.
    project_graph(load_project(ini))
    assert headers.read_warm(ini, "alembic") is not None
    released = tmp_path / "released"
    shutil.copytree(versions, released)
    (released / "0010_68cfa590ad28_add_customers_tax_id.py").unlink()
    elsewhere = replace(load_project(ini), version_locations=str(released))
    assert "68cfa590ad28" not in project_graph(elsewhere).revisions
    assert headers.read_warm(ini, "alembic") is None
    assert "68cfa590ad28" in project_graph(load_project(ini)).revisions

    outside = tmp_path / "elsewhere.py"
    shutil.copy(next((SCENARIOS / "two_features").glob("*.py")), outside)
    (versions / "0011_a1a1a1a1a1a1_linked.py").symlink_to(outside)
    assert "a1a1a1a1a1a1" in project_graph(load_project(ini)).revisions
    assert headers.read_warm(ini, "alembic") is None  # a symlink: never vouched for


def test_a_warm_graph_is_answered_without_typer_alembic_or_sqlalchemy(tmp_path):
    """`schemactl graph` from a warm cache (tools.entry): the CLI's very output, with none of
    Typer, Alembic or SQLAlchemy imported; whatever the cache cannot vouch for (a cold
    cache, an environment to mark, another option) goes to the CLI."""
    repo = _repo(tmp_path).parent

    def run(*args: str, **env: str) -> tuple[str, str]:
        printed, loaded, code = counting_imports(repo, *args, **env)
        assert code == 0, printed
        return printed, loaded

    cold, loaded = run("graph")  # the CLI reads in full, and writes the cache
    assert loaded == "['alembic', 'sqlalchemy', 'typer']"
    warm, loaded = run("graph")
    assert loaded == "[]" and warm == cold
    assert warm.splitlines()[-1].startswith("o 68cfa590ad28")
    assert schemactl(repo, "graph").stdout.rstrip("\n") == warm  # the CLI's own output
    # Not answered from the cache: an environment's database to mark, another option.
    dev = f"sqlite:///{tmp_path}/dev.db"
    _, loaded = run("graph", SCHEMACTL_ENV="dev", BILLGEN_DEV_URL=dev)
    assert "typer" in loaded
    _, loaded = run("graph", "--format", "json")
    assert "typer" in loaded
    edited = repo / "versions" / "0010_68cfa590ad28_add_customers_tax_id.py"
    edited.write_text(edited.read_text().replace("Add customers.tax_id", "Tax ids"))
    again, loaded = run("graph")  # changed since the cache: the CLI, which sees the edit
    assert "typer" in loaded and "Tax ids" in again


def test_a_warm_status_is_answered_without_typer_alembic_or_sqlalchemy(tmp_path):
    """`schemactl status` of the default (SQLite) environment from the caches (tools.entry):
    the CLI's very output as the database moves, with none of Typer, Alembic or SQLAlchemy
    imported; what the caches cannot vouch for goes to the CLI: another URL, an ini that
    changed (its version table), a URL with a query, a database at a revision this checkout
    does not have."""
    import sqlite3

    repo = _repo(tmp_path).parent

    def run(*args: str, **env: str) -> tuple[str, str]:
        printed, loaded, _ = counting_imports(repo, *args, **env)
        return printed, loaded

    def cli(**env: str) -> str:
        return schemactl(repo, "status", env=env).stdout.rstrip("\n")

    assert schemactl(repo, "upgrade").returncode == 0
    cold, loaded = run("status")
    assert "typer" not in loaded or cold == cli()  # the upgrade may have warmed it already
    warm, loaded = run("status")
    assert loaded == "[]" and warm == cli(), (loaded, warm)
    assert "12 of 12 revisions applied" in warm
    assert schemactl(repo, "downgrade", "-1").returncode == 0
    warm, loaded = run("status")  # the database moved: read again, still without them
    assert loaded == "[]" and warm == cli() and "11 of 12 revisions applied" in warm

    other = f"sqlite:///{tmp_path}/other.db"
    warm, loaded = run("status", BILLGEN_DEV_URL=other)  # no file yet: nothing to read
    assert loaded == "[]" and warm == cli(BILLGEN_DEV_URL=other) and "base (empty)" in warm
    # Upgraded by the CLI, which asked env.py of this URL and kept its answer.
    assert schemactl(repo, "upgrade", env={"BILLGEN_DEV_URL": other}).returncode == 0
    warm, loaded = run("status", BILLGEN_DEV_URL=other)
    assert loaded == "[]" and warm == cli(BILLGEN_DEV_URL=other) and "12 of 12" in warm
    _, loaded = run("status", BILLGEN_DEV_URL=other + "?timeout=5")
    assert "typer" in loaded  # a query: SQLAlchemy reads it

    # The database holds a revision this checkout does not have: the CLI's error, not a lane.
    with sqlite3.connect(tmp_path / "other.db") as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS alembic_version (version_num TEXT)")
        connection.execute("DELETE FROM alembic_version")
        connection.execute("INSERT INTO alembic_version VALUES ('feedfacefeed')")
    said, loaded = run("status", BILLGEN_DEV_URL=other)
    assert (
        "typer" in loaded
        and "feedfacefeed"
        in said + schemactl(repo, "status", env={"BILLGEN_DEV_URL": other}).stderr
    )

    # A kept answer that is corrupt, or not ours: asked of env.py again, and kept anew.
    for kept in (repo / ".schemactl_cache").glob("env-*.json"):
        kept.write_text('{"key": 1, "answer": "alembic_version"')
    said, loaded = run("status")
    assert "typer" in loaded and said == cli()

    # The ini names another version table: asked of env.py again, which reads it.
    ini = repo / "alembic.ini"
    ini.write_text(ini.read_text().replace("[alembic]\n", "[alembic]\nversion_table = ours\n", 1))
    said, loaded = run("status")
    assert "typer" in loaded and "Database at base (empty)" in said, said
    warm, loaded = run("status")
    assert loaded == "[]" and warm == cli()


def test_a_warm_status_keeps_its_rows_while_the_files_stay_the_same(tmp_path):
    """The rows a warm status worked out, and the graph a warm graph drew, are kept (tools.history.kept) and taken back while
    every file's stat, each location's names and the ini are what they were: even with the
    header cache gone. An edit of the same size with its mtime put back, or a new file, is
    seen; the marks follow the database."""
    import time

    repo = _repo(tmp_path).parent

    def run() -> tuple[str, str]:
        printed, loaded, code = counting_imports(repo, "status")
        assert code == 0, printed
        return printed, loaded

    def cli() -> str:
        return schemactl(repo, "status").stdout.rstrip("\n")

    assert schemactl(repo, "upgrade").returncode == 0
    time.sleep(2.1)  # until the files' ctimes are settled: only then is anything kept
    first, _ = run()
    assert first == cli() and list((repo / ".schemactl_cache").glob("kept-status-*.json"))
    drawn, _, _ = counting_imports(repo, "graph")  # the graph is kept the same way
    for cache in (repo / ".schemactl_cache").glob("headers-*.json"):
        cache.write_text("{}")  # not read again while the files are the same
    kept, loaded = run()
    assert loaded == "[]" and kept == first
    assert counting_imports(repo, "graph")[:2] == (drawn, "[]")
    assert schemactl(repo, "downgrade", "-1").returncode == 0
    moved, loaded = run()
    assert loaded == "[]" and moved == cli() and "11 of 12 revisions applied" in moved

    _same_size_edit(repo / "versions" / "0010_68cfa590ad28_add_customers_tax_id.py")
    seen, _ = run()
    assert "Add customers.vat_id" in seen and seen == cli()

    time.sleep(2.1)
    run()  # kept anew
    shutil.copy(next((SCENARIOS / "two_features").glob("*.py")), repo / "versions" / "x.py")
    added, _ = run()
    assert added == cli() and "13 revisions" in added
