"""The history in versions/ as the tool and the team rely on it, whatever it holds."""

from __future__ import annotations

import ast
import re

from tools.history.load import load_graph

FILE_NAME = re.compile(r"^(\d{4})_([0-9a-f]{12})_([a-z0-9_]+)\.py$")


def test_file_names_sort_in_apply_order(project):
    """NNNN_<rev>_<slug>.py with NNNN the depth: sorting the folder gives a valid apply order."""
    graph = load_graph(project.alembic_config())
    for rev in graph.order:
        match = FILE_NAME.match(graph[rev].path.name)
        assert match, graph[rev].path.name
        assert int(match.group(1)) == graph[rev].depth
        assert match.group(2) == rev
    by_name = sorted(graph.order, key=lambda r: graph[r].path.name)
    position = {rev: i for i, rev in enumerate(by_name)}
    for rev in graph.order:
        assert all(position[p] < position[rev] for p in graph[rev].parents)


def _body(path, name: str) -> list[ast.stmt]:
    tree = ast.parse(path.read_text())
    (func,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    return [n for n in func.body if not isinstance(n, ast.Pass | ast.Expr) or _is_call(n)]


def _is_call(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)


def test_every_revision_has_a_real_downgrade(project):
    """Each revision that changes something undoes it; only a merge or a branch's start may
    have empty bodies."""
    graph = load_graph(project.alembic_config())
    for rev in graph.order:
        revision = graph[rev]
        up, down = _body(revision.path, "upgrade"), _body(revision.path, "downgrade")
        assert revision.message, f"{rev} has no message"
        if revision.is_merge or (revision.labels and not up and not down):
            # A merge, or the empty revision `schemactl branch start` writes for a label.
            assert not up and not down
        else:
            assert up and down, f"{revision.path.name} has an empty upgrade or downgrade"
