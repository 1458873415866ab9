"""`schemactl envs --format html`: the matrix as one self-contained page.

The table of environments and databases, the revision history in apply order with each
environment's position marked (where its version table stands, and what it has), and the
last audit rows. No script, no stylesheet or font from elsewhere: the page opens from a file,
offline, and nothing in it runs. Every value is escaped (Jinja's autoescape).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tools.core.pages import template
from tools.history.load import load_graph

if TYPE_CHECKING:
    from tools.config import Project
    from tools.live.envs import Matrix

TEMPLATE = Path(__file__).parent / "templates" / "envs.html"


def envs_page(project: Project, matrix: Matrix) -> str:
    graph = load_graph(project.alembic_config())
    columns = [t for t in matrix.targets if t.database == project.display_name]
    applied = {
        (t.environment, t.database): graph.ancestors([r for r in t.current if r in graph.revisions])
        for t in columns
        if t.reachable
    }
    history = [
        {
            "id": rev,
            "depth": graph[rev].depth,
            "message": graph[rev].message.splitlines()[0] if graph[rev].message else "",
            "labels": ", ".join(graph.labels_shown(rev)),
            "marks": [
                "here"
                if rev in t.current
                else ("has" if rev in applied.get((t.environment, t.database), ()) else "")
                for t in columns
            ],
        }
        for rev in graph.order
    ]
    text = template(TEMPLATE, html=True).render(
        matrix=matrix, columns=columns, history=history, database=project.display_name
    )
    return text.rstrip("\n") + "\n"
