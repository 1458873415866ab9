"""BillGenerator's database schema: SQLAlchemy 2.0 models, nothing else.

The application imports these models; this repository owns the schema and its migrations.
Importing the package registers every table on ``metadata``.
"""

from __future__ import annotations

from schema.base import NAMING_CONVENTION, Base
from schema.billing import Discount, Invoice, InvoiceItem, InvoiceStatus, Payment, PaymentMethod
from schema.catalog import Product, TaxRate
from schema.customers import Customer
from schema.users import User

metadata = Base.metadata

__all__ = [
    "NAMING_CONVENTION",
    "Base",
    "Customer",
    "Discount",
    "Invoice",
    "InvoiceItem",
    "InvoiceStatus",
    "Payment",
    "PaymentMethod",
    "Product",
    "TaxRate",
    "User",
    "metadata",
]
