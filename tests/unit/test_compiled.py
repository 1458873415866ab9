"""Revision files' compiled code kept between runs (tools.history.compiled): used only for
the very bytes, Python and path it was compiled from; anything else is compiled again;
Alembic's own loader takes the files through it (tools.core.internals.modules_loaded_by)."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import copy_fixture
from tools.config import load_project
from tools.history import compiled
from tools.history.headers import CACHE_DIR
from tools.history.load import History, load_history, script_directory

SOURCE = 'revision = "a1"\ndown_revision = None\nVALUE = "{value}"\n\ndef upgrade():\n    1 / 0\n'


@pytest.fixture
def compiles(monkeypatch):
    """The files compiled from source, by path."""
    made: list[str] = []
    real = compiled.KeptCodeLoader.source_to_code

    def counting(self, data, path, **kw):
        made.append(str(path))
        return real(self, data, path, **kw)

    monkeypatch.setattr(compiled.KeptCodeLoader, "source_to_code", counting)
    return made


def _load(path, root):
    module = compiled.load_module("m", path, root)
    assert module is not None
    return module


def _entries(root):
    return list((root / CACHE_DIR / compiled.FOLDER).iterdir())


def test_code_is_kept_for_the_same_bytes_and_compiled_again_for_others(tmp_path, compiles):
    path = tmp_path / "0001_a1_first.py"
    path.write_text(SOURCE.format(value="one"))
    folder = tmp_path / "project"
    assert _load(path, folder).VALUE == "one" and compiles == [str(path)]
    assert _load(path, folder).VALUE == "one" and compiles == [str(path)]  # kept
    # The same size, the mtime put back: the bytes differ, so the code does.
    before = path.stat()
    path.write_text(SOURCE.format(value="two"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert _load(path, folder).VALUE == "two" and len(compiles) == 2
    assert _load(path, folder).VALUE == "two" and len(compiles) == 2
    assert len(_entries(folder)) == 1  # one entry per file, replaced
    assert (folder / CACHE_DIR / ".gitignore").is_file()  # never committed


def test_a_moved_file_names_its_own_path(tmp_path, compiles):
    """A code object names its file (tracebacks, the lines schemactl reports): a copy of the
    same bytes elsewhere is compiled for its own path."""
    folder = tmp_path / "project"
    here = tmp_path / "here" / "0001_a1_first.py"
    here.parent.mkdir()
    here.write_text(SOURCE.format(value="one"))
    there = tmp_path / "there" / here.name
    shutil.copytree(here.parent, there.parent)
    for path in (here, there, here, there):
        module = _load(path, folder)
        assert module.upgrade.__code__.co_filename == str(path)
        with pytest.raises(ZeroDivisionError) as raised:
            module.upgrade()
        assert raised.traceback[-1].path == path
    assert compiles == [str(here), str(there)]


@pytest.mark.parametrize("damage", [b"", b"garbage", b"\x00" * 64])
def test_a_damaged_entry_is_compiled_again(tmp_path, compiles, damage):
    path = tmp_path / "0001_a1_first.py"
    path.write_text(SOURCE.format(value="one"))
    folder = tmp_path / "project"
    _load(path, folder)
    (entry,) = _entries(folder)
    kept = entry.read_bytes()
    entry.write_bytes(damage if damage else kept[: len(kept) // 2])
    assert _load(path, folder).VALUE == "one" and len(compiles) == 2
    assert entry.read_bytes() == kept


def test_a_folder_that_cannot_be_written_is_done_without(tmp_path, compiles):
    path = tmp_path / "0001_a1_first.py"
    path.write_text(SOURCE.format(value="one"))
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert _load(path, blocked).VALUE == "one"
    assert _load(path, blocked).VALUE == "one" and len(compiles) == 2


def test_alembic_loads_the_history_through_the_kept_code(tmp_path, compiles):
    """The project's revision files, imported as Alembic imports them (its listing, its module
    names), take their code from the cache on the next run; the modules are the same."""
    repo = copy_fixture(tmp_path / "repo")
    project = load_project(repo / "alembic.ini")
    first = load_history(project, every_file=True)
    files = sorted(str(first.graph[rev].path) for rev in first.graph.order)
    assert sorted(compiles) == files
    assert len(_entries(repo)) == len(files)
    compiles.clear()
    again = History(first.graph, script_directory(project.alembic_config()), {}, project, False)
    modules = again.modules("run")
    assert compiles == [] and set(modules) == set(first.graph.order)
    for rev, module in modules.items():
        assert module.__name__ == first.loaded[rev].module.__name__
        assert module.revision == rev
