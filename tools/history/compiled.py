"""Compiled code kept between runs beside the header cache: revision files', and (kept) the
script template's (tools.scripts.template_code).

Python keeps a module's bytecode in ``__pycache__`` unless told not to
(``PYTHONDONTWRITEBYTECODE``, as container images and CI machines often set), and then every
command that runs revisions compiles every revision file again: at 1,000 revisions about a
tenth of a second, as much as everything schemactl adds to a render. schemactl keeps the code
of the files it imports in ``.schemactl_cache/code/`` instead, one entry per file (its path
hashed), holding the sha256 of the source it was compiled from and the marshalled code.

An entry is used only for the very bytes it was compiled from (the source is read and hashed
each time, not trusted by its mtime), by the same Python (magic number and cache tag), at
the same optimisation level, and for the same path (a code object names its file: tracebacks
and the lines schemactl reports come from it). Anything else, an unreadable or corrupt
entry included, is compiled again and the entry replaced; a folder that cannot be written
is done without. Files are imported exactly as Alembic imports them (same module name,
same loader otherwise): only where the code comes from differs. An entry outlives a file
that is removed (about a kilobyte each); deleting the folder is always safe.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import sys
from collections.abc import Callable, Mapping
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any, cast

from tools.history.headers import CACHE_DIR, write_cache

FOLDER = "code"
# What an entry's code depends on besides the source: the interpreter's bytecode format.
_STAMP = importlib.util.MAGIC_NUMBER + bytes([sys.flags.optimize])


def entry_name(path: str) -> str:
    """The file one revision file's code is kept in, named after its path."""
    digest = hashlib.sha256(os.fsencode(path)).hexdigest()[:32]
    return f"{digest}.{sys.implementation.cache_tag}"


class KeptCodeLoader(SourceFileLoader):
    """Python's source loader, taking the code from the folder when it was compiled from
    the same bytes, and keeping it there when it was not."""

    def __init__(self, fullname: str, path: str, root: Path) -> None:
        super().__init__(fullname, path)
        self.root = root
        # The sha256 of what ran, for the script's audit row (bytes: half a hex string's size).
        self.digest: bytes | None = None

    def get_code(self, fullname: str) -> CodeType:
        source = self.get_data(self.path)
        self.digest = hashlib.sha256(source).digest()
        code = kept(
            self.root,
            self.path,
            self.digest,
            lambda: self.source_to_code(source, self.path),
            lambda code: isinstance(code, CodeType) and code.co_filename == self.path,
        )
        return cast(CodeType, code)


def kept(
    root: Path,
    path: str,
    key: bytes,
    make: Callable[[], Any],
    valid: Callable[[Any], bool],
) -> Any:
    """What ``make`` compiles from the file at ``path`` (a value marshal can keep: code, or
    a tuple holding code), kept in the cache of the project in folder ``root``: the kept
    value when it was made under the same ``key`` (a digest of everything it depends on,
    the source's bytes first) by the same Python, and ``valid`` finds it whole; else made
    again and kept (a folder that cannot be written is done without)."""
    stamp = _STAMP + key
    entry = root / CACHE_DIR / FOLDER / entry_name(path)
    try:
        found = entry.read_bytes()
        if found.startswith(stamp):
            value = marshal.loads(found[len(stamp) :])
            if valid(value):
                return value
    except (OSError, ValueError, EOFError, TypeError):
        pass  # none yet, or unreadable: made again below
    value = make()
    write_cache(root, f"{FOLDER}/{entry.name}", stamp + marshal.dumps(value))
    return value


def load_module(
    module_id: str,
    path: str | os.PathLike[str],
    root: Path,
    named: Mapping[str, str] | None = None,
) -> ModuleType | None:
    """A revision file imported as Alembic's loader imports it (alembic.util.pyfiles
    load_module_py), its code kept in the cache of the project in folder ``root``; None for
    a compiled-only (.pyc) file, which Alembic loads itself. ``named``: the file paths the
    caller holds already, by themselves; the module names its file with that very string
    (one string per file, not one more per import)."""
    where = os.fspath(path)
    where = named.get(where, where) if named is not None else where
    if not where.endswith(".py"):
        return None
    loader = KeptCodeLoader(module_id, where, root)
    spec = importlib.util.spec_from_file_location(module_id, where, loader=loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module
