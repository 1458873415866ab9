"""The review report of a release: what a DBA reads before signing off on the scripts."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from tools.render import comment

if TYPE_CHECKING:
    from tools.graph import Graph
    from tools.render import Range, Script

TEMPLATE = Path(__file__).parent / "templates" / "review.md.j2"


def markdown_cell(value: object) -> str:
    """One line of text that cannot break a Markdown table or smuggle in HTML."""
    text = comment(value, limit=200)
    for char, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|")):
        text = text.replace(char, escaped)
    return text.replace("`", "'")


def mermaid_label(value: object) -> str:
    """Text for a quoted Mermaid node label."""
    return re.sub(r"[\"<>{}\[\]|`#;]", " ", comment(value, limit=60)).strip()


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
    jinja.filters["label"] = mermaid_label
    text = jinja.get_template(TEMPLATE.name).render(
        name=name,
        span=span,
        upgrade=upgrade,
        rollback=rollback,
        tables=_per_table(upgrade),
        rollback_tables=_per_table(rollback),
        graph=graph,
        nodes=_nodes(span, graph),
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


def _nodes(span: Range, graph: Graph) -> list[tuple[str, str, list[str], bool]]:
    """(revision, message, parents shown, in this release) for the Mermaid picture."""
    shown = set(span.revisions) | set(span.start)
    return [
        (
            rev,
            graph[rev].message,
            [p for p in graph[rev].parents if p in shown],
            rev in span.revisions,
        )
        for rev in graph.order
        if rev in shown
    ]
