"""Invoices, their lines, the payments against them and discount codes."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import Enum, ForeignKey, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column

from schema.base import Base


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    PAID = "paid"
    VOID = "void"


class PaymentMethod(enum.StrEnum):
    CASH = "cash"
    CARD = "card"
    BANK_TRANSFER = "bank_transfer"


def _named_enum(cls: type[enum.Enum], name: str) -> Enum:
    # Store the values ("draft"), not the member names ("DRAFT"): they are what SQL sees.
    return Enum(cls, name=name, values_callable=lambda members: [m.value for m in members])


class Invoice(Base):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[InvoiceStatus] = mapped_column(
        _named_enum(InvoiceStatus, "invoice_status"), server_default=InvoiceStatus.DRAFT.value
    )
    issue_date: Mapped[dt.date]
    due_date: Mapped[dt.date | None]
    currency: Mapped[str] = mapped_column(String(3), server_default="EUR")
    total_amount: Mapped[Decimal]
    discount_total: Mapped[Decimal] = mapped_column(server_default=text("0"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=text("CURRENT_TIMESTAMP"))


class InvoiceItem(Base):
    __tablename__ = "invoice_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(String(255))
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    unit_price: Mapped[Decimal]
    line_total: Mapped[Decimal]


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount: Mapped[Decimal]
    method: Mapped[PaymentMethod] = mapped_column(_named_enum(PaymentMethod, "payment_method"))
    paid_at: Mapped[dt.datetime] = mapped_column(index=True)
    reference: Mapped[str | None] = mapped_column(String(64))


class Discount(Base):
    __tablename__ = "discounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    percent_off: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    valid_from: Mapped[dt.date]
    valid_until: Mapped[dt.date | None]
