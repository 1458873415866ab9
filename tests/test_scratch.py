"""Throwaway databases: made, migrated, compared and dropped on real servers; every failure
one line that never shows a password."""

from __future__ import annotations

import calendar
import time

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from tools.cli import app
from tools.config import load_project
from tools.core.errors import DatabaseError
from tools.dialects import script_dialect
from tools.proof import scratch
from tools.proof.scratch import scratch_database

from .conftest import DIALECTS, FIXTURE, SCENARIOS

runner = CliRunner()
SECRET = "s3cr%t@pw"


@pytest.mark.parametrize("dialect", ["postgresql", "mariadb"])
def test_a_server_that_cannot_be_reached_is_one_line_without_the_password(dialect):
    kind = script_dialect(dialect)
    server = make_url(f"{dialect}://admin:s3cr%25t%40pw@127.0.0.1:1/postgres")
    with pytest.raises(DatabaseError) as err, scratch.scratch_database(kind, server):
        pass
    message = str(err.value)
    assert message.startswith(
        f"cannot create a scratch database on {dialect}://admin:***@127.0.0.1:1/postgres ("
    )
    assert message.endswith("check that the server is up and that its user may create databases")
    assert SECRET not in message and "s3cr" not in message
    assert "\n" not in message


def test_model_differences_through_an_env_py_that_cannot_connect(tmp_path):
    project = load_project(SCENARIOS / "plain_alembic" / "alembic.ini")
    kind = script_dialect("postgresql")
    cfg = scratch.scratch_config(
        project,
        kind,
        make_url(
            f"postgresql+psycopg://u:{SECRET.replace('%', '%25').replace('@', '%40')}@127.0.0.1:1/x"
        ),
    )
    with pytest.raises(DatabaseError) as err:
        scratch.model_differences(cfg)
    assert str(err.value).startswith("env.py failed against a scratch database (OperationalError")
    assert "s3cr" not in str(err.value)


@pytest.mark.parametrize("database", DIALECTS)
def test_a_failing_revision_names_the_database_kind_and_the_error(tmp_path, database):
    """The history breaks on a scratch database: an SQL error, and a revision that raises."""
    import shutil

    project_dir = tmp_path / "p"
    shutil.copytree(SCENARIOS / "plain_alembic", project_dir)
    project = load_project(project_dir / "alembic.ini")
    kind = script_dialect(database)
    from .conftest import admin_url

    server = admin_url(database) if kind.needs_server else None
    versions = project_dir / "migrations" / "versions"
    for body, expected in (
        ('op.execute("SELEC nonsense")', "the history does not apply to a scratch"),
        ('raise KeyError("no such setting")', "KeyError: 'no such setting'"),
    ):
        (versions / "0003_3000000000cc_broken.py").write_text(
            f'"""Broken"""\nfrom alembic import op\nrevision = "3000000000cc"\n'
            f'down_revision = "2000000000bb"\nbranch_labels = None\ndepends_on = None\n\n\n'
            f"def upgrade():\n    {body}\n\n\ndef downgrade():\n    pass\n"
        )
        with scratch.scratch_database(kind, server) as url:
            cfg = scratch.scratch_config(project, kind, url)
            with pytest.raises(scratch.ScratchUpgradeFailed) as err:
                scratch.upgrade(cfg, "heads")
        assert err.value.dialect == kind.title and err.value.target == "heads"
        assert err.value.where == "0003_3000000000cc_broken.py:10"  # the body of upgrade()
        assert expected in str(err.value)
        assert str(err.value).endswith("; fix 0003_3000000000cc_broken.py:10 first")


def test_merge_refuses_what_is_not_a_set_of_heads():
    config = str(FIXTURE / "alembic.ini")
    one = runner.invoke(app, ["-c", config, "merge"])
    assert (one.exit_code, one.output) == (
        1,
        "Error: nothing to merge: there is one head (68cfa590ad28); a merge joins two or more\n",
    )
    where_it_starts = runner.invoke(app, ["-c", config, "merge", "payments@base"])
    assert (where_it_starts.exit_code, where_it_starts.output) == (
        1,
        "Error: nothing to merge: that names no head (base); a merge joins two or more\n",
    )
    not_heads = runner.invoke(app, ["-c", config, "merge", "ab251de0ab93", "68cfa590ad28"])
    assert (not_heads.exit_code, not_heads.output) == (
        1,
        "Error: ab251de0ab93 is not a head; merge heads only (see `schemactl graph`)\n",
    )


def test_stale_throwaway_names_are_those_of_killed_runs_an_hour_old():
    from tools.proof.scratch import stale

    now = calendar.timegm((2026, 12, 6, 12, 0, 0, 0, 0, 0))
    names = [
        "schemactl_prove_20261206105959_0a1b2c3d",  # an hour and a second old
        "schemactl_t_20261206113000_0a1b2c3d",  # half an hour old: may still run
        "schemactl_prove_online_20250101000000_ffffffff",
        "billing",  # not ours
        "schemactl_prove_2026120610595_0a1b2c3d",  # not our shape
        "schemactl_prove_20261399000000_0a1b2c3d",  # no such time
    ]
    assert stale(names, now) == [
        "schemactl_prove_20261206105959_0a1b2c3d",
        "schemactl_prove_online_20250101000000_ffffffff",
    ]


@pytest.mark.parametrize(
    "dialect",
    [
        pytest.param("postgresql", marks=pytest.mark.postgresql),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
def test_a_killed_runs_throwaway_database_is_swept_by_the_next(dialect):
    """A database a killed `release --prove` left (its name says when) is dropped when the
    next scratch database is made on that server; a young one and a foreign one stay."""
    from sqlalchemy import create_engine, pool, text

    from .conftest import admin_url

    kind = script_dialect(dialect)
    server = admin_url(dialect)
    left = "schemactl_prove_20200101000000_deadbeef"
    young = f"schemactl_prove_{time.strftime('%Y%m%d%H%M%S', time.gmtime())}_deadbeef"
    engine = create_engine(server, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            for name in (left, young):
                connection.execute(text(f"CREATE DATABASE {name}"))
        with scratch_database(kind, server, prefix="schemactl_t"):
            pass
        with engine.connect() as connection:
            names = {row[0] for row in connection.execute(text(kind.databases_sql))}
        assert left not in names and young in names
    finally:
        with engine.connect() as connection:
            for name in (left, young):
                connection.execute(text(kind.drop_database(name)))
        engine.dispose()
