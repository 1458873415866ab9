"""The declarative base every BillGenerator model derives from."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import DateTime, MetaData, Numeric
from sqlalchemy.orm import DeclarativeBase

# Every constraint gets a predictable name, so a downgrade can always drop what its upgrade
# created (SQLite and MariaDB would otherwise invent names no revision script can know).
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Money is exact: 12 digits with 2 decimals covers any invoice this product will see.
Money = Numeric(12, 2)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute as is
        # A naive timestamp is a bug waiting for the first customer in another time zone.
        dt.datetime: DateTime(timezone=True),
        Decimal: Money,
    }
