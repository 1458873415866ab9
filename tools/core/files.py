"""Writing what schemactl renders: every file whole, a set of files together, ordinary modes.

A reader (a DBA, git, a second schemactl) sees the old bytes or the new, never a part; a
folder of files that belong together (an upgrade and its rollback) is replaced as one, so a
kill between two writes cannot leave a new upgrade beside an old rollback.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from tools.core.errors import SchemactlError


class OutputError(SchemactlError):
    """An output location that cannot be written as asked."""


def _mode(default: int) -> int:
    # What an ordinary open() would have given: the default less the process umask.
    umask = os.umask(0)
    os.umask(umask)
    return default & ~umask


def _write(folder: Path, name: str, text: str | bytes) -> None:
    target = folder / name
    if target.is_symlink() or (target.exists() and not target.is_file()):
        # Replacing it would swap a link, a pipe or a device (/dev/stdout) for a plain file.
        raise OutputError(
            f"{target} exists and is not a regular file (a link, a pipe or a device); "
            "choose a new file name"
        )
    handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    try:
        if isinstance(text, bytes):
            with os.fdopen(handle, "wb") as binary:
                binary.write(text)
        else:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
        os.chmod(temp, _mode(0o666))
        os.replace(temp, folder / name)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_files(folder: Path, files: Mapping[str, str | bytes]) -> None:
    """Write each file atomically into ``folder`` (created if missing): text as UTF-8 with
    LF line ends, bytes as they are."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            _write(folder, name, text)
    except OSError as err:
        raise OutputError(f"cannot write {folder}: {err.strerror or err}") from err


def replace_folder(folder: Path, files: dict[str, str], *, shown: str) -> None:
    """Make ``folder`` hold exactly ``files``, all old or all new at any moment.

    The files are written into a new folder beside it, which then takes its place. A folder
    that holds anything else is refused rather than swept away; ``shown`` names it in errors.
    """
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{shown} is not a folder; choose a folder for the scripts")
    if folder.is_dir():
        others = sorted(p.name for p in folder.iterdir() if p.name not in files)
        if others:
            raise OutputError(
                f"{shown} holds other files ({', '.join(others[:3])}"
                + (", ..." if len(others) > 3 else "")
                + "); choose a folder of its own for the scripts"
            )
    parent = folder.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _sweep(parent, folder.name)
        staging = Path(tempfile.mkdtemp(dir=parent, prefix=f".{folder.name}.new-"))
        try:
            for name, text in files.items():
                _write(staging, name, text)
            os.chmod(staging, _mode(0o777))
            old = None
            if folder.exists():
                old = Path(tempfile.mkdtemp(dir=parent, prefix=f".{folder.name}.old-"))
                os.replace(folder, old / folder.name)
            os.replace(staging, folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as err:
        raise OutputError(f"cannot write {shown}: {err.strerror or err}") from err


def _sweep(parent: Path, name: str) -> None:
    """Remove what an interrupted replace of ``name`` left beside it."""
    for leftover in parent.glob(f".{name}.new-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in parent.glob(f".{name}.old-*"):
        shutil.rmtree(leftover, ignore_errors=True)
