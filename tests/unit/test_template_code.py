"""The script template's compiled code kept between runs (tools.scripts.template_code): used
only for the very bytes and Mako it was compiled from, rendering and failing as Mako's own
compile does; anything else is compiled again."""

from __future__ import annotations

import io
import os

import mako.template
import pytest

from tools.history import compiled
from tools.history.headers import CACHE_DIR
from tools.scripts import template_code

TEMPLATE = "<%page args='name'/>hello ${name}\n-- ${len(name) // {divisor}}\n"


@pytest.fixture
def compiles(monkeypatch):
    """The templates Mako compiled, by path."""
    made: list[str] = []
    real = mako.template.Template

    def counting(*args, **kw):
        made.append(kw["filename"])
        return real(*args, **kw)

    monkeypatch.setattr(mako.template, "Template", counting)
    return made


def _render(path, root, name="x"):
    return template_code.template(str(path), root).render(name=name)


def test_the_code_is_kept_for_the_same_bytes_and_compiled_again_for_others(tmp_path, compiles):
    path = tmp_path / "own.sql.mako"
    path.write_text(TEMPLATE.replace("{divisor}", "1"))
    root = tmp_path / "project"
    assert _render(path, root, "abc") == "hello abc\n-- 3\n" and compiles == [str(path)]
    assert _render(path, root, "abc") == "hello abc\n-- 3\n" and compiles == [str(path)]  # kept
    # The same size, the mtime put back: the bytes differ, so the code does.
    before = path.stat()
    path.write_text(TEMPLATE.replace("{divisor}", "3"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert _render(path, root, "abc") == "hello abc\n-- 1\n" and len(compiles) == 2
    assert _render(path, root, "abc") == "hello abc\n-- 1\n" and len(compiles) == 2
    assert len(list((root / CACHE_DIR / compiled.FOLDER).iterdir())) == 1  # replaced


@pytest.mark.parametrize("damage", [b"", b"garbage", "truncated"])
def test_a_damaged_entry_is_compiled_again_and_replaced(tmp_path, compiles, damage):
    path = tmp_path / "own.sql.mako"
    path.write_text(TEMPLATE.replace("{divisor}", "1"))
    root = tmp_path / "project"
    _render(path, root)
    (entry,) = (root / CACHE_DIR / compiled.FOLDER).iterdir()
    whole = entry.read_bytes()
    entry.write_bytes(whole[: len(whole) // 2] if damage == "truncated" else damage)
    assert _render(path, root, "ab") == "hello ab\n-- 2\n" and len(compiles) == 2
    assert _render(path, root, "ab") == "hello ab\n-- 2\n" and len(compiles) == 2  # replaced


def test_a_folder_that_cannot_be_written_is_done_without(tmp_path, compiles):
    path = tmp_path / "own.sql.mako"
    path.write_text(TEMPLATE.replace("{divisor}", "1"))
    root = tmp_path / "project"
    root.write_text("a file where the cache folder would be")
    assert _render(path, root) == "hello x\n-- 1\n"
    assert _render(path, root) == "hello x\n-- 1\n" and len(compiles) == 2


def test_an_error_names_the_template_line_from_kept_code_as_from_a_fresh_compile(tmp_path):
    """A script's template failing is reported by its own line (tools.scripts.render): the
    kept code maps back to the template's lines as Mako's fresh compile does."""
    from types import SimpleNamespace

    from tools.scripts import render

    path = tmp_path / "own.sql.mako"
    path.write_text("-- ${script.kind}\n\n-- ${script.no_such_thing}\n")
    root = tmp_path / "project"
    project = SimpleNamespace(template=path, config_path=root / "alembic.ini")
    script = SimpleNamespace(kind="upgrade", dialect=None)
    for _ in range(2):  # compiled, then from the kept code
        render._template.cache_clear()
        with pytest.raises(render.TemplateError) as failed:
            render.write_text(project, script, io.StringIO())  # type: ignore[arg-type]
        assert str(failed.value).startswith(
            "template own.sql.mako failed at line 3: AttributeError: "
        )
    assert len(list((root / CACHE_DIR / compiled.FOLDER).iterdir())) == 1
