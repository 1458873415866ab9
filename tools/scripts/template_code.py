"""The script template, compiled once and its code kept beside the revision files' code.

Mako compiles a template by lexing it and generating a Python module: about 25 ms and
1.5 MiB of memory for schemactl's, every run (a tenth of what a render at 1,000 revisions
adds to Alembic's own memory). The generated module's code is kept in the project's cache
(tools.history.compiled), under the sha256 of the template's bytes, Mako's version and the
options it is compiled with; a run that finds it builds the template from it. What the
template does is the same either way: the code is what Mako generated, and errors are
reported by the template's lines as Mako reports them (the generated source is kept too).
"""

from __future__ import annotations

import hashlib
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.history import compiled

if TYPE_CHECKING:
    from mako.template import Template

# Template options, part of what the generated code depends on.
_OPTIONS = {"strict_undefined": True}


def template(path: str, root: Path) -> Template:
    """The Mako template in file ``path``, its code kept in the cache of the project in
    folder ``root``."""
    import mako
    from mako.template import ModuleTemplate

    source = Path(path).read_bytes()
    key = hashlib.sha256(source + f"\0{mako.__version__}\0{_OPTIONS}".encode()).digest()
    module_id, code, generated = compiled.kept(root, path, key, lambda: _compiled(path), _whole)
    module = types.ModuleType(module_id)
    exec(code, module.__dict__)  # as Mako runs the module it generated
    return ModuleTemplate(module, template_filename=path, module_source=generated)


def _compiled(path: str) -> tuple[str, types.CodeType, str]:
    """The template's module name, code and generated source, as Mako makes them."""
    from mako.template import Template

    made = Template(filename=path, **_OPTIONS)
    return made.module_id, compile(made.code, made.module_id, "exec"), made.code


def _whole(kept: Any) -> bool:
    return (
        isinstance(kept, tuple)
        and len(kept) == 3
        and isinstance(kept[0], str)
        and isinstance(kept[1], types.CodeType)
        and kept[1].co_filename == kept[0]
        and isinstance(kept[2], str)
    )
