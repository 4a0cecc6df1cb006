"""Invoices, and the preview of each subscription's next invoice (amount and date)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.billing.models.base import StripeCached, cached_table_args
from app.extensions import db


class CachedInvoice(StripeCached, db.Model):
    __tablename__ = "billing_invoices"
    __table_args__ = cached_table_args(
        Index(None, "tenant_id", "customer_id", "stripe_created"),
        Index(None, "tenant_id", "subscription_id"),
    )

    customer_id: Mapped[str | None] = mapped_column(String(255))
    subscription_id: Mapped[str | None] = mapped_column(String(255))
    number: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str | None] = mapped_column(String(20))
    currency: Mapped[str | None] = mapped_column(String(3))
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    amount_due: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    amount_paid: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    amount_remaining: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    due_date: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hosted_invoice_url: Mapped[str | None] = mapped_column(String(1000))
    invoice_pdf: Mapped[str | None] = mapped_column(String(1000))


class UpcomingInvoice(StripeCached, db.Model):
    """Stripe's preview of a subscription's next invoice; stripe_id is the subscription id."""

    __tablename__ = "billing_upcoming_invoices"
    __table_args__ = cached_table_args(Index(None, "tenant_id", "customer_id"))

    customer_id: Mapped[str] = mapped_column(String(255), nullable=False)
    currency: Mapped[str | None] = mapped_column(String(3))
    amount_due: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_payment_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
