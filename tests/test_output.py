"""What schemactl writes: whole files with ordinary modes, an upgrade and its rollback replaced
together even when the process dies between two writes, and nothing but releases in sql_out/."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tools.cli import app
from tools.core import files

from .conftest import FIXTURE

runner = CliRunner()


def render(out, *range_):
    config = str(FIXTURE / "alembic.ini")
    return runner.invoke(app, ["-c", config, "sql", "--env", "prod", *range_, "--out", str(out)])


def pair(out):
    return (out / "upgrade.sql").read_text(), (out / "rollback.sql").read_text()


@pytest.mark.parametrize("dies_at", [1, 2, 3, 4, 5])
def test_a_kill_at_any_write_leaves_the_old_pair_or_the_new(tmp_path, monkeypatch, dies_at):
    """The process dies at the Nth rename (each file, then the folders): the folder holds the
    old upgrade and rollback, or the new ones, never one of each."""
    out = tmp_path / "scripts"
    assert render(out, "--from", "base", "--to", "9ecdc98b5e8a").exit_code == 0
    old = pair(out)
    calls = {"n": 0}
    real_replace = os.replace

    def dying_replace(src, dst):
        calls["n"] += 1
        if calls["n"] == dies_at:
            raise KeyboardInterrupt  # as a kill would: nothing after this runs
        return real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", dying_replace)
    died = render(out, "--from", "9ecdc98b5e8a", "--to", "heads")
    monkeypatch.setattr(files.os, "replace", real_replace)
    if died.exit_code == 0:  # fewer renames than dies_at: it finished
        assert dies_at > 4
    if out.exists():
        upgrade, rollback = pair(out)
        new = "To:   68cfa590ad28" in upgrade and "From: 68cfa590ad28" in rollback
        assert (upgrade, rollback) == old or new
        assert sorted(p.name for p in out.iterdir()) == ["rollback.sql", "upgrade.sql"]
    # The next run cleans up whatever was left and writes the new pair.
    assert render(out, "--from", "9ecdc98b5e8a", "--to", "heads").exit_code == 0
    upgrade, rollback = pair(out)
    assert "To:   68cfa590ad28" in upgrade and "From: 68cfa590ad28" in rollback
    assert [p.name for p in tmp_path.iterdir()] == ["scripts"]


def test_files_get_ordinary_permissions(tmp_path):
    previous = os.umask(0o022)
    try:
        assert render(tmp_path / "out", "--from", "base").exit_code == 0
    finally:
        os.umask(previous)
    for path in (tmp_path / "out", tmp_path / "out" / "upgrade.sql"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o755 if path.is_dir() else 0o644), (path, oct(mode))


@pytest.mark.parametrize(
    ("target", "error"),
    [
        ("a-file", "is not a folder; choose a folder for the scripts"),
        ("/dev/null", "/dev/null is not a folder; choose a folder for the scripts"),
        ("busy", "holds other files (notes.txt); choose a folder of its own for the scripts"),
    ],
)
def test_an_out_that_is_no_folder_of_its_own_is_one_line(tmp_path, target, error):
    (tmp_path / "a-file").write_text("keep me")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("keep me too")
    out = tmp_path / target if not target.startswith("/") else target
    result = render(out, "--from", "base")
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and result.output.endswith(f"{error}\n")
    assert result.output.count("\n") == 1
    assert (tmp_path / "a-file").read_text() == "keep me"
    assert (tmp_path / "busy" / "notes.txt").read_text() == "keep me too"


def test_release_check_flags_files_the_manifest_does_not_list(repo_copy):
    env = repo_copy / "sql_out" / "prod"
    (env / "hotfix.sql").write_text("DROP TABLE users;\n")
    (env / "0001_9ecdc98b5e8a" / ".upgrade.sql.abc.tmp").write_text("")
    result = runner.invoke(app, ["-c", str(repo_copy / "alembic.ini"), "release", "--check"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "FAIL sql_out/prod/hotfix.sql: not listed in manifest.json: nothing but recorded "
        "releases belongs here; remove it, or render releases with `schemactl release`",
        "FAIL sql_out/prod/0001_9ecdc98b5e8a/.upgrade.sql.abc.tmp: not part of release "
        "0001_9ecdc98b5e8a (upgrade.sql, rollback.sql, review.md); remove it",
        "2 problem(s) in 3 release(s)",
    ]


@pytest.mark.parametrize("kind", ["symlink", "fifo", "device"])
def test_a_path_that_is_no_regular_file_is_never_replaced(tmp_path, kind):
    """--out names a link, a pipe or a device: refused in one line, the path left as it was."""
    from tools.core.files import OutputError, write_files

    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "purge.sql"
    if kind == "symlink":
        (tmp_path / "elsewhere.sql").write_text("theirs\n")
        target.symlink_to(tmp_path / "elsewhere.sql")
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        folder, target = Path("/dev"), Path("/dev/null")
    before = os.lstat(target)
    with pytest.raises(OutputError, match="is not a regular file"):
        write_files(folder, {target.name: "DROP TABLE x;\n"})
    after = os.lstat(target)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)
    if kind == "symlink":
        assert (tmp_path / "elsewhere.sql").read_text() == "theirs\n"
