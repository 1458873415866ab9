"""Every shell example in the README and docs/ runs, as written, on a copy of this repository.

The copy is this repository's (models, history, releases, tools, the example app) after
`make run`, as a reader's checkout is after the README's first command. Each page's shell
blocks run in order, line by line, in the copy's root (a line's own `export` carries over to
the lines after it; each block on a fresh copy), and each line must exit 0 (or 1, where its comment says when it exits 1),
without a traceback: an example that went stale fails here. The
databases the examples name get throwaway ones on the test servers: the environments'
URL variables (BILLGEN_*_URL) point at them, and a URL a page exports for a reader is replaced
by the throwaway one of the same variable. Two blocks of the README are run elsewhere: the
two commands (`make run` made the copy; `make test` is this suite) and the five-minute
quickstart (tests/test_readme.py runs it word for word and checks what it printed); and a line
`make test` runs itself on this repository in the same state (`release --prove --env prod`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import REPO

FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# The README's blocks run elsewhere, each found by a line it holds.
RUN_ELSEWHERE = {
    "make test": "the two commands: `make run` made the copy, `make test` is this suite",
    "schemactl makemigrations -m": "the quickstart: tests/test_readme.py runs it word for word",
}
# Lines `make test` itself runs on this repository, in the same state (before this suite):
# proven there, not run twice.
RUN_BY_MAKE_TEST = {
    ".venv/bin/schemactl release --prove --env prod": "make test proves the prod releases",
}
# Each environment's URL variables, and the kind of database each gets.
DATABASES = {
    "BILLGEN_STAGING_URL": "postgresql",
    "BILLGEN_STAGING_REPORTING_URL": "postgresql",
    "BILLGEN_PROD_URL": "postgresql",
    "BILLGEN_PROD_REPORTING_URL": "postgresql",
    "BILLGEN_MARIADB_URL": "mariadb",
    "BILLGEN_MARIADB_REPORTING_URL": "mariadb",
}


def blocks(page: Path) -> list[list[str]]:
    """The page's shell blocks, each as its command lines (comments and blank lines left out;
    a block another test runs left out too)."""
    found = []
    for language, block in FENCE.findall(page.read_text()):
        if language not in ("sh", "bash"):
            continue
        if any(marker in block for marker in RUN_ELSEWHERE):
            continue
        lines = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
        if lines:
            found.append(lines)
    return found


def test_the_pages_have_examples_and_the_ones_run_elsewhere_are_found():
    shown = {page.name: blocks(page) for page in PAGES}
    assert sum(len(b) for b in shown.values()) >= 8, shown
    readme = (REPO / "README.md").read_text()
    for marker in RUN_ELSEWHERE:
        assert marker in readme, marker  # a block moved or reworded: this list must follow
    lines = {line.partition(" #")[0].strip() for b in shown.values() for x in b for line in x}
    assert set(RUN_BY_MAKE_TEST) <= lines  # each still shown somewhere
    makefile = (REPO / "Makefile").read_text()
    for line in RUN_BY_MAKE_TEST:  # and still run by make test, as written
        assert line.replace(".venv/bin/", "$(BIN)/") in makefile, line


@pytest.fixture(scope="session")
def after_make_run(tmp_path_factory) -> Path:
    """This repository after `make run`, made once per test run (the pytest-xdist workers
    share it: the first to come makes it, the others wait) and copied per block."""
    if shutil.which("sqlite3") is None:
        pytest.skip("the sqlite3 client is not installed")
    base = tmp_path_factory.getbasetemp()
    # Under pytest-xdist each worker's base is one folder of this run's: share their parent.
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    repo, lock = shared / "docs-after-make-run", shared / "docs-after-make-run.lock"
    failed = shared / "docs-after-make-run.failed"
    try:
        lock.mkdir()
    except FileExistsError:
        for _ in range(1200):  # another worker makes it: up to 10 minutes
            if (repo / ".made").exists():
                return repo
            if failed.exists():
                pytest.fail(f"`make run` failed for the docs' copy: {failed.read_text()}")
            time.sleep(0.5)
        pytest.fail("the copy after `make run` was never made by the worker making it")
    building = shared / "docs-after-make-run.building"
    building.mkdir()
    skip = shutil.ignore_patterns("__pycache__", "*.db", ".schemactl_cache")
    for folder in ("schema", "versions", "reporting", "tools", "sql_out", "example_app"):
        shutil.copytree(REPO / folder, building / folder, ignore=skip)
    # The plain Alembic project docs/commands.md points `-c` at.
    plain = Path("tests", "scenarios", "plain_alembic")
    shutil.copytree(REPO / plain, building / plain, ignore=skip)
    for name in ("alembic.ini", "pyproject.toml", "constraints.txt", "Makefile"):
        shutil.copy2(REPO / name, building / name)  # times kept: make sees .venv as up to date
    (building / ".venv").symlink_to(REPO / ".venv")
    made = subprocess.run(
        ["make", "run"], cwd=building, env=_reader_environ(), capture_output=True, text=True
    )
    if made.returncode != 0:
        failed.write_text(made.stdout + made.stderr)
    assert made.returncode == 0, made.stdout + made.stderr
    building.rename(repo)
    (repo / ".made").touch()
    return repo


def _reader_environ() -> dict[str, str]:
    """The environment of a reader's shell: none of this run's BILLGEN_ or SCHEMACTL_."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("BILLGEN_", "SCHEMACTL_"))}


@pytest.fixture
def copy(after_make_run, tmp_path, throwaway_database) -> tuple[Path, dict[str, str]]:
    """A fresh copy of the repository after `make run`, with a throwaway database per URL
    variable and a home of its own (`--install-completion` writes there)."""
    repo = tmp_path / "repo"
    shutil.copytree(after_make_run, repo, symlinks=True)
    (tmp_path / "home").mkdir()
    environ = _reader_environ()
    environ.update(HOME=str(tmp_path / "home"), SHELL="/bin/bash")
    for variable, dialect in DATABASES.items():
        url = throwaway_database(dialect).url
        environ[variable] = url.render_as_string(hide_password=False)
    return repo, environ


def run_line(line: str, repo: Path, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One example line, as a reader's shell runs it; an `export` of a URL variable keeps the
    throwaway database's URL."""
    exported = re.fullmatch(r"export (\w+)=(\S+)", line.strip())
    if exported is not None:
        name, value = exported.groups()
        environ[name] = environ[name] if name in DATABASES else value
        return subprocess.CompletedProcess(line, 0, "", "")
    return subprocess.run(
        ["bash", "-c", line], cwd=repo, env=environ, capture_output=True, text=True, timeout=600
    )


@pytest.mark.postgresql
@pytest.mark.mariadb
@pytest.mark.slow(60)
@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p)], ids=lambda page: page.name)
def test_every_shell_example_runs(page, copy, after_make_run, tmp_path):
    """Each block from a fresh copy: what one block's examples change (a branch started, a
    release written), another's never see; the databases are the page's."""
    repo, environ = copy
    for number, block in enumerate(blocks(page)):
        if number:
            repo = tmp_path / f"block{number}"
            shutil.copytree(after_make_run, repo, symlinks=True)
        for line in block:
            if line.partition(" #")[0].strip() in RUN_BY_MAKE_TEST:
                continue
            done = run_line(line, repo, environ)
            # A line whose comment says it exits 1 when something holds may (the sandbox's
            # throwaway databases are empty: behind); never a usage error or a traceback.
            said = line.partition(" #")[2]
            allowed = {0, 1} if re.search(r"\bexit 1 (when|while|if)\b", said) else {0}
            assert "Traceback" not in done.stderr, f"{page.name}: {line}\n{done.stderr}"
            assert done.returncode in allowed, (
                f"{page.name}: {line}\nexit {done.returncode}\n{done.stdout[-2000:]}\n"
                f"{done.stderr[-2000:]}"
            )
