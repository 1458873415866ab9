"""What BillGenerator sells: products and the tax rates applied to them."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from schema.base import Base


class TaxRate(Base):
    __tablename__ = "tax_rates"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # A percentage such as 19.00, not a money amount.
    rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    unit_price: Mapped[Decimal]
    tax_rate_id: Mapped[int | None] = mapped_column(ForeignKey("tax_rates.id"), index=True)
    is_active: Mapped[bool] = mapped_column(server_default=true())
