"""The reporting database's models: monthly revenue and tax summaries, computed from billing.

A database of its own (the [reporting] section of alembic.ini: `alembic -n reporting`,
`schemactl -n reporting`), so a declarative base and metadata of its own: nothing here is
created in the billing database, and nothing here refers to a billing table.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, MetaData, Numeric, String, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schema.base import NAMING_CONVENTION, Base


class ReportingBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # The same types as billing: aware timestamps, money as Numeric(12, 2).
    type_annotation_map = Base.type_annotation_map


class MonthlyRevenue(ReportingBase):
    """Invoiced revenue of one month in one currency."""

    __tablename__ = "monthly_revenue"
    __table_args__ = (UniqueConstraint("month", "currency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The first day of the month.
    month: Mapped[dt.date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    invoice_count: Mapped[int] = mapped_column(server_default="0")
    net_amount: Mapped[Decimal]
    tax_amount: Mapped[Decimal]
    gross_amount: Mapped[Decimal]
    # Credit notes and refunds of the month, kept apart from what was invoiced.
    refunded_amount: Mapped[Decimal] = mapped_column(server_default="0")
    computed_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class TaxSummary(ReportingBase):
    """Tax collected in one month at one tax rate (tax_rates.code in billing)."""

    __tablename__ = "tax_summaries"
    __table_args__ = (UniqueConstraint("month", "tax_rate_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date)
    # A copy of the billing code, not a foreign key: billing is another database.
    tax_rate_code: Mapped[str] = mapped_column(String(16))
    # A percentage such as 19.00, as in billing's tax_rates.
    rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    taxable_amount: Mapped[Decimal]
    tax_amount: Mapped[Decimal]


metadata = ReportingBase.metadata

__all__ = ["MonthlyRevenue", "ReportingBase", "TaxSummary", "metadata"]
