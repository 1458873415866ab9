"""Jinja2 templates of schemactl's own pages (review.md, the envs page): one way to load
them, strict about undefined names, with whitespace control for readable templates."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tools.core.text import markdown_cell, markdown_code

if TYPE_CHECKING:
    from jinja2 import Template


def template(path: Path, *, html: bool) -> Template:
    """The template at ``path``: ``html`` escapes every value (an HTML page); otherwise the
    template escapes what it writes itself (Markdown: review.md's cell filter)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    jinja = Environment(
        loader=FileSystemLoader(path.parent),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=html,
    )
    jinja.filters["cell"] = markdown_cell
    jinja.filters["code"] = markdown_code
    return jinja.get_template(path.name)
