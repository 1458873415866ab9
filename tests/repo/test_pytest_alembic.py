"""pytest-alembic's default tests (all but one, see below) against this repo's two databases
on PostgreSQL, with env.py unchanged.

pytest-alembic hands env.py an Engine in ``config.attributes["connection"]`` (Alembic's
cookbook hands a Connection); env.py takes either.
"""

from __future__ import annotations

import pytest
from pytest_alembic import Config
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_upgrade,
)
from sqlalchemy import create_engine, pool

from tests.conftest import REPO

pytestmark = pytest.mark.postgresql

# Not its test_up_down_consistency: every revision down and up again, schema only, is a part
# of what test_migrations.py's stairway proves with rows on all three databases (one
# up/down/up proof per dialect).
__all__ = [
    "test_model_definitions_match_ddl",
    "test_single_head_revision",
    "test_upgrade",
]


@pytest.fixture(params=["alembic", "reporting"])
def alembic_config(request) -> Config:
    """Each database of the repo: its ini section, as `alembic -n NAME` picks it."""
    from alembic.config import Config as AlembicConfig

    return Config(
        alembic_config=AlembicConfig(str(REPO / "alembic.ini"), ini_section=request.param)
    )


@pytest.fixture
def alembic_engine(throwaway_database):
    database = throwaway_database("postgresql")
    engine = create_engine(database.url, poolclass=pool.NullPool)
    yield engine
    engine.dispose()
