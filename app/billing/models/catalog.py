"""Products and prices: the names and amounts customers see on their subscriptions."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.billing.models.base import StripeCached, cached_table_args
from app.extensions import db


class CachedProduct(StripeCached, db.Model):
    __tablename__ = "billing_products"
    __table_args__ = cached_table_args()

    name: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class CachedPrice(StripeCached, db.Model):
    __tablename__ = "billing_prices"
    __table_args__ = cached_table_args(Index(None, "tenant_id", "product_id"))

    product_id: Mapped[str | None] = mapped_column(String(255))
    nickname: Mapped[str | None] = mapped_column(String(255))
    unit_amount: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str | None] = mapped_column(String(3))
    recurring_interval: Mapped[str | None] = mapped_column(String(10))
    recurring_interval_count: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # How Stripe prices it: per unit (with unit_amount_decimal for fractions of a cent, when
    # unit_amount is null) or tiered by quantity; licensed (billed ahead) or metered (usage,
    # billed after the period).
    billing_scheme: Mapped[str] = mapped_column(String(20), nullable=False, default="per_unit")
    tiers_mode: Mapped[str | None] = mapped_column(String(20))
    usage_type: Mapped[str] = mapped_column(String(20), nullable=False, default="licensed")
    unit_amount_decimal: Mapped[Decimal | None] = mapped_column(Numeric)
