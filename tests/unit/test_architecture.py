"""The shape of tools/: packages on floors, dependencies one way (down), no cycle, and everything
a kind of database knows in tools/dialects/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tools.core.internals import SUPPORTED

TOOLS = Path(__file__).resolve().parents[2] / "tools"
# The floors of tools/, ground first: a package imports only packages on floors below its own
# (never one beside it or above it). docs/internals.md's map says why each stands where it does.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("dialects",),
    ("config", "operations"),
    ("history",),
    ("scripts",),
    ("lint", "proof"),
    ("live",),
    ("authoring", "release"),
    ("alembic", "cli"),
    ("entry",),
    ("__main__",),
)
FLOOR = {package: floor for floor, packages in enumerate(LAYERS) for package in packages}
DIALECT_NAMES = re.compile(
    r"^(postgres|postgresql|mariadb|mysql|sqlite|sqlite3|psql|psycopg|pymysql|pysqlite)$", re.I
)
DIALECT_TEXT = re.compile(
    r"(://|\+(psycopg|pymysql|pysqlite)\b|\b(CREATE|DROP)\s+DATABASE\b|\bPRAGMA\b|"
    r"\b(pg_|information_schema|sqlite_master)\w*)",
    re.I,
)


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(TOOLS.rglob("*.py")):
        parts = path.relative_to(TOOLS.parent).with_suffix("").parts
        found[".".join(p for p in parts if p != "__init__")] = path
    return found


def imports(path: Path) -> set[str]:
    """Every tools module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(n for n in names if n in modules())
    return found


def test_no_import_cycle_in_tools():
    graph = {name: imports(path) - {name} for name, path in modules().items()}
    # Depth-first search; a module seen again while still on the stack closes a cycle.
    state: dict[str, str] = {}
    cycles = []

    def visit(name: str, stack: list[str]) -> None:
        state[name] = "open"
        for other in sorted(graph[name]):
            if state.get(other) == "open":
                cycles.append(" -> ".join([*stack[stack.index(other) :], other]))
            elif other not in state:
                visit(other, [*stack, other])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def package_of(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def reaching_up(graph: dict[str, set[str]]) -> list[str]:
    """Each import of a package on the same floor or a higher one: 'from -> to'."""
    return sorted(
        f"{name} -> {other}"
        for name, imported in graph.items()
        for other in imported
        if package_of(other) != package_of(name)
        and FLOOR[package_of(other)] >= FLOOR[package_of(name)]
    )


def test_every_package_stands_on_a_floor():
    packages = {package_of(name) for name in modules() if name != "tools"}
    assert packages <= set(FLOOR), sorted(packages - set(FLOOR))


def test_no_package_reaches_above_its_floor():
    graph = {name: imports(path) - {name} for name, path in modules().items()}
    assert reaching_up(graph) == []


def test_the_floor_check_catches_an_import_upward_and_sideways():
    graph = {
        "tools.history.graph": {"tools.core.errors"},  # down: fine
        "tools.dialects.base": {"tools.config"},  # up
        "tools.lint.engine": {"tools.proof.scratch"},  # beside, on the same floor
    }
    assert reaching_up(graph) == [
        "tools.dialects.base -> tools.config",
        "tools.lint.engine -> tools.proof.scratch",
    ]


def _strings(tree: ast.AST) -> list[ast.Constant]:
    """String constants that are not docstrings: what the code compares, maps and emits."""
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                docstrings.add(id(value))
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in docstrings
    ]  # fmt: skip


def test_only_dialects_knows_dialect_names_sql_and_urls():
    """No module outside tools/dialects/ compares a dialect name, maps one, or holds
    dialect-specific SQL (CREATE DATABASE, PRAGMA, catalog tables) or URLs."""
    found = []
    for name, path in modules().items():
        if package_of(name) == "dialects":
            continue
        for node in _strings(ast.parse(path.read_text())):
            if name == "tools.core.internals" and node.value in SUPPORTED:
                continue  # a library's name, with the versions of it whose private API is used
            if DIALECT_NAMES.match(node.value) or DIALECT_TEXT.search(node.value):
                found.append(f"{path.relative_to(TOOLS.parent)}:{node.lineno}: {node.value!r}")
    assert found == []


def test_the_check_itself_catches_what_it_looks_for(tmp_path):
    sample = ast.parse(
        'def f(d):\n    """Docs may say postgresql."""\n    return d == "sqlite" or "x://y"\n'
    )
    hits = [
        n.value
        for n in _strings(sample)
        if DIALECT_NAMES.match(n.value) or DIALECT_TEXT.search(n.value)
    ]
    assert sorted(hits) == ["sqlite", "x://y"]


def test_every_engine_is_made_by_its_kind_of_database():
    """Only tools/dialects/ calls create_engine (ScriptDialect.engine): a kind prepares its
    driver there (MariaDB shares one TLS context), so an engine made elsewhere would miss it."""
    found = []
    for name, path in modules().items():
        if package_of(name) == "dialects":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            called = node.func if isinstance(node, ast.Call) else None
            named = getattr(called, "id", None) or getattr(called, "attr", None)
            if named == "create_engine":
                found.append(f"{path.relative_to(TOOLS.parent)}:{node.lineno}")
    assert found == []
