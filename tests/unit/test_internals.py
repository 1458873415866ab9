"""The private API schemactl uses (tools/core/internals.py) still exists, in the versions it
names; and pyproject.toml's ranges are what CI tests: each holds the version constraints.txt
pins, from that version's minor, and Alembic's and SQLAlchemy's no wider than SUPPORTED."""

from __future__ import annotations

import ast
import inspect
import re
import tomllib
from importlib.metadata import version

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tests.conftest import REPO
from tools.core import internals


def requirements() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [
        Requirement(line)
        for line in [*project["dependencies"], *project["optional-dependencies"]["test"]]
    ]


def pins() -> dict[str, Version]:
    found = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, _, pinned = line.partition("==")
            found[_normal(name)] = Version(pinned.strip())
    return found


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.mark.parametrize("requirement", requirements(), ids=lambda r: r.name)
def test_each_range_holds_the_pinned_version_from_its_minor(requirement):
    pinned = pins()[_normal(requirement.name)]
    assert requirement.specifier.contains(pinned), (requirement, pinned)
    (lowest,) = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
    # No version below the pinned one's minor is claimed: CI never installs it.
    assert lowest.release[:2] == pinned.release[:2], (requirement, pinned)


@pytest.mark.parametrize("package", sorted(internals.SUPPORTED))
def test_private_api_is_used_only_in_the_versions_it_names(package):
    lowest, below = internals.SUPPORTED[package]
    supported = SpecifierSet(f">={lowest},<{below}")
    assert Version(version(package)) in supported
    (requirement,) = [r for r in requirements() if _normal(r.name) == package]
    assert requirement.specifier == supported
    assert pins()[package] in supported


def test_every_private_name_used_still_exists():
    from alembic.autogenerate import render
    from alembic.operations import Operations
    from alembic.runtime.migration import HeadMaintainer, MigrationContext
    from alembic.script import Script, ScriptDirectory
    from sqlalchemy import Column, Integer, MetaData, Table, inspection

    for name in ("_upgrade_revs", "_downgrade_revs", "_stamp_revs", "_load_revisions"):
        assert callable(getattr(ScriptDirectory, name)), name
    assert callable(Script._from_path)
    # Called by name from load_python_file, so modules_loaded_by can stand in for it.
    from alembic.util import pyfiles

    assert callable(pyfiles.load_module_py)
    assert "load_module_py(" in inspect.getsource(pyfiles.load_python_file)
    assert callable(Operations._install_proxy) and callable(Operations._remove_proxy)
    for name in (
        "_add_table",
        "_alembic_autogenerate_prefix",
        "_get_index_rendered_expressions",
        "_render_gen_name",
    ):
        assert callable(getattr(render, name)), name
    assert "_per_migration" in inspect.signature(MigrationContext.begin_transaction).parameters
    context = MigrationContext.configure(dialect_name="sqlite", opts={"as_sql": True})
    assert isinstance(context._version, Table)
    assert callable(HeadMaintainer.update_to_step)
    assert isinstance(inspection._registrars, dict) and callable(inspection._inspects)
    table = Table("t", MetaData(), Column("a", Integer), Column("b", Integer))
    copy = internals.copied_column(table.c.a)
    assert copy.name == "a" and copy.table is None
    internals.remove_column(table, table.c.b)
    assert [c.name for c in table.columns] == ["a"]
    from pymysql.connections import Connection

    assert callable(Connection._create_ssl_ctx)
    from alembic.config import Config
    from sqlalchemy import bindparam, text
    from sqlalchemy.dialects import sqlite

    cfg = Config()
    cfg.set_main_option("script_location", str(REPO / "tools" / "alembic"))
    scripts = ScriptDirectory.from_config(cfg)
    (location,) = internals.version_locations(scripts)
    assert location == REPO / "tools" / "alembic" / "versions"
    assert REPO / "tools" / "alembic" / "env.py" in internals.listed_python_files(
        scripts, REPO / "tools" / "alembic"
    )
    assert internals.is_revision_file_name("ab12_add.py")
    assert not internals.is_revision_file_name("__init__.py")
    dialect = sqlite.dialect()
    internals.forget_type_memos(dialect)
    assert len(dialect._type_memos) == 0
    clause = text("SELECT :a").bindparams(bindparam("a", 5))
    assert internals.bound_parameters(clause)["a"].value == 5
    # A batch block's queue, run in order by an online operation inside the block.
    run = []
    offline = MigrationContext.configure(dialect_name="postgresql", opts={"as_sql": True})
    offline.impl.static_output = run.append
    with Operations(offline).batch_alter_table("t") as batch_op:
        batch = internals.in_batch(batch_op)
        assert batch is not None and not internals.batch_rebuilds(batch, offline.impl)
        batch_op.add_column(Column("c", Integer))
        assert run == []  # queued
        internals.run_batch_queue(batch, offline.impl)
        assert run == ["ALTER TABLE t ADD COLUMN c INTEGER;"] and batch.batch == []
    assert internals.in_batch(Operations(offline)) is None


def test_pymysql_connections_share_one_tls_context_and_keep_their_tls_mode(tmp_path):
    """Connections that name no TLS option share one context, still in PyMySQL's PREFERRED
    mode (TLS only if the server offers it); one with a TLS option gets its own, required.
    (defer_connect: PyMySQL builds the context in the constructor, no server is reached.)"""
    import ssl

    from pymysql.connections import Connection

    internals.share_pymysql_tls_context()
    internals.share_pymysql_tls_context()  # twice: still one wrapper
    assert Connection._create_ssl_ctx.shared_by_schemactl
    first, second = (Connection(host="127.0.0.1", defer_connect=True) for _ in range(2))
    assert first.ctx is second.ctx
    assert first.ssl and not first._ssl_required  # PREFERRED, as PyMySQL makes it
    assert first.ctx.verify_mode == ssl.CERT_NONE and not first.ctx.check_hostname
    own = Connection(host="127.0.0.1", defer_connect=True, ssl_verify_cert=True)
    assert own.ctx is not first.ctx and own._ssl_required
    off = Connection(host="127.0.0.1", defer_connect=True, ssl_disabled=True)
    assert not off.ssl


def test_nothing_outside_internals_reaches_into_alembic_or_sqlalchemy():
    """A name with a leading underscore taken from an Alembic or SQLAlchemy object is in
    tools/core/internals.py, nowhere else."""
    private = re.compile(
        r"\b(_upgrade_revs|_downgrade_revs|_stamp_revs|_load_revisions|_from_path|"
        r"_install_proxy|_remove_proxy|_proxy|_per_migration|_version|HeadMaintainer|"
        r"_add_table|_render_gen_name|_get_index_rendered_expressions|"
        r"_alembic_autogenerate_prefix|_registrars|_inspects|_copy|_columns|_create_ssl_ctx|"
        r"_version_locations|_list_py_dir|_only_source_rev_file|_type_memos|_bindparams|"
        r"requires_recreate_in_batch|recreate|BatchOperationsImpl)\b"
    )
    found = []
    for path in sorted((REPO / "tools").rglob("*.py")):
        if path.name == "internals.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            # An attribute taken from an object, or the one private class imported by name.
            name = node.attr if isinstance(node, ast.Attribute) else None
            if isinstance(node, ast.alias) and node.name in (
                "HeadMaintainer",
                "_only_source_rev_file",
            ):
                name = node.name
            if name and private.fullmatch(name):
                found.append(f"{path.relative_to(REPO)}:{getattr(node, 'lineno', 0)}: {name}")
    assert found == []
