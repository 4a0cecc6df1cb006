"""Payment methods on file: what a page needs to name each kind (a card's brand, last 4 and
expiry, a bank account's bank and last 4, a Link account's email)."""

from __future__ import annotations

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.billing.models.base import StripeCached, cached_table_args
from app.extensions import db


class CachedPaymentMethod(StripeCached, db.Model):
    __tablename__ = "billing_payment_methods"
    __table_args__ = cached_table_args(Index(None, "tenant_id", "customer_id"))

    customer_id: Mapped[str | None] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(30), nullable=False, default="card")
    brand: Mapped[str | None] = mapped_column(String(30))
    last4: Mapped[str | None] = mapped_column(String(4))
    exp_month: Mapped[int | None] = mapped_column(Integer)
    exp_year: Mapped[int | None] = mapped_column(Integer)
    bank_name: Mapped[str | None] = mapped_column(String(100))  # us_bank_account
    email: Mapped[str | None] = mapped_column(String(254))  # link
