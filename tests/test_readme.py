"""The README and docs/ stay true: the README is short, every link resolves, every schemactl
command they show is one the CLI accepts, and the README's five-minute quickstart runs word
for word on a copy of this repository (SQLite, no server)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def _slug(heading: str) -> str:
    """A heading's anchor, as GitHub makes it."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text())
    return {_slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def test_the_readme_is_short_and_says_where_the_rest_is():
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 250, len(lines)
    assert "## Contents" in lines
    for page in PAGES[1:]:
        assert f"(docs/{page.name})" in "\n".join(lines), page.name


def test_every_link_resolves():
    broken = []
    for page in PAGES:
        for target in LINK.findall(FENCE.sub("", page.read_text())):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            path, _, anchor = target.partition("#")
            where = (page.parent / path).resolve() if path else page
            if not where.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif anchor and where.suffix == ".md" and anchor not in _anchors(where):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def _shown_commands() -> list[tuple[str, list[str]]]:
    """Every schemactl command line in the pages' shell blocks, as its arguments."""
    found = []
    for page in PAGES:
        for language, block in FENCE.findall(page.read_text()):
            if language not in ("sh", "bash", "console"):
                continue
            for line in block.splitlines():
                code = line.split(" #", 1)[0].strip()
                if code.startswith("#"):
                    continue
                # Each command of a line (a && b, a | b), without its redirections.
                for part in re.split(r"&&|\|\||;|\|", code):
                    match = re.search(r"(?:^|\s|/)schemactl(\s.*)?$", part.strip())
                    if match is None:
                        continue
                    words = shlex.split(match.group(1) or "")
                    cut = [i for i, w in enumerate(words) if w[:1] in "<>" or w[:2] == "2>"]
                    args = words[: cut[0]] if cut else words
                    found.append((f"{page.name}: {line.strip()}", args))
    return found


EAGER = {"--help", "--version", "--install-completion", "--show-completion"}


@pytest.mark.parametrize(("where", "args"), _shown_commands(), ids=lambda v: str(v)[:60])
def test_every_command_shown_is_one_the_cli_accepts(where, args):
    """Parsed by the CLI itself (commands, options and their values), not run."""
    assert _parse_error(args) is None, where


def _parse_error(args: list[str]) -> str | None:
    """What the CLI says of these arguments (None: it takes them). Typer ships its own Click:
    its classes are recognised by what they do, not imported."""
    import typer.main

    from tools.cli import app

    if EAGER & set(args):
        return None  # these print and exit: --help and the like are tested on their own
    command: Any = typer.main.get_command(app)
    try:
        context = command.make_context("schemactl", list(args))
        while hasattr(command, "resolve_command"):  # a group: on to its command
            rest = [*context._protected_args, *context.args]
            if not rest:
                break
            name, command, rest = command.resolve_command(context, rest)
            context = command.make_context(name, rest, parent=context)
    except Exception as err:
        if any(kind.__name__ == "UsageError" for kind in type(err).__mro__):
            return str(err.format_message())  # type: ignore[attr-defined]
        raise
    return None


def test_the_command_check_itself_catches_a_wrong_command():
    assert _parse_error(["statuz"]) is not None
    assert _parse_error(["lint", "--bogus"]) is not None
    assert _parse_error(["--env", "prod", "upgrade", "--plan", "--json"]) is None


def _quickstart() -> tuple[str, list[str]]:
    """The model line to add and the shell lines to run, from the README's quickstart."""
    text = (REPO / "README.md").read_text()
    section = text.split("## Five minutes", 1)[1].split("\n## ", 1)[0]
    blocks = FENCE.findall(section)
    (model,) = [block for language, block in blocks if language == "python"]
    (shell,) = [block for language, block in blocks if language == "sh"]
    return model, [line for line in shell.splitlines() if line.strip()]


@pytest.mark.slow(20)
def test_the_quickstart_runs_word_for_word(tmp_path):
    """On a copy of this repository (its models, history, tools and sql_out), with `make run`
    done and the model changed as the README says, each shell line of the quickstart runs as
    written and exits 0; the DBA's copy ends at the new head with its audit."""
    if shutil.which("sqlite3") is None:
        pytest.skip("the sqlite3 client is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    for folder in ("schema", "versions", "reporting", "tools", "sql_out"):
        shutil.copytree(REPO / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("alembic.ini", "pyproject.toml", "constraints.txt", "Makefile"):
        shutil.copy2(REPO / name, repo / name)  # times kept: make sees .venv as up to date
    (repo / ".venv").symlink_to(REPO / ".venv")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("BILLGEN_", "SCHEMACTL_"))}
    made = subprocess.run(["make", "run"], cwd=repo, env=environ, capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr
    model, lines = _quickstart()
    customers = repo / "schema" / "customers.py"
    text = customers.read_text()
    anchor = re.search(r"^class Customer\(.*\n(?:(?:    .*)?\n)*?(?=    \w+: Mapped)", text, re.M)
    assert anchor is not None
    customers.write_text(text[: anchor.end()] + model.rstrip("\n") + "\n" + text[anchor.end() :])
    outputs = []
    for line in lines:
        done = subprocess.run(
            ["bash", "-c", line], cwd=repo, env=environ, capture_output=True, text=True
        )
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout)
    made_file = outputs[0].splitlines()[0]
    assert re.fullmatch(r"versions/\d{4}_[0-9a-f]{12}_add_customers_nickname\.py", made_file)
    head = made_file.split("_")[1]
    assert f"is now at {head}" in outputs[1]
    audit = outputs[-1]
    assert head in audit and "upgrade" in audit
