"""People who log in to BillGenerator and issue invoices."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, text, true
from sqlalchemy.orm import Mapped, mapped_column

from schema.base import Base


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(server_default=true())
    created_at: Mapped[dt.datetime] = mapped_column(server_default=text("CURRENT_TIMESTAMP"))
