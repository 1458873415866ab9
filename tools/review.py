"""The review report of a release: what a DBA reads before signing off on the scripts."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from tools.graph import mermaid
from tools.text import markdown_cell

if TYPE_CHECKING:
    from tools.graph import Graph
    from tools.render import Range, Script

TEMPLATE = Path(__file__).parent / "templates" / "review.md.j2"


def render_review(name: str, span: Range, upgrade: Script, rollback: Script, graph: Graph) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    jinja = Environment(
        loader=FileSystemLoader(TEMPLATE.parent),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # Markdown, not HTML: values go through the cell filter instead
    )
    jinja.filters["cell"] = markdown_cell
    text = jinja.get_template(TEMPLATE.name).render(
        name=name,
        span=span,
        upgrade=upgrade,
        rollback=rollback,
        tables=_per_table(upgrade),
        rollback_tables=_per_table(rollback),
        mermaid=mermaid(graph, (*span.start, *span.revisions), applied=span.start),
    )
    return text.rstrip("\n") + "\n"


def _per_table(script: Script) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each table the script changes, with (revision, operation) in apply order."""
    changes: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for step in script.steps:
        for operation in step.operations:
            table = operation.table or "(raw SQL: see the script)"
            changes[table].append((step.revision.id, operation.name))
    return sorted(changes.items())
