"""A Stripe customer of a tenant; portal users see every customer whose email matches theirs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.billing.models.base import StripeCached, cached_table_args
from app.extensions import db


class CachedCustomer(StripeCached, db.Model):
    __tablename__ = "billing_customers"
    __table_args__ = cached_table_args(
        Index(None, "tenant_id", "email_normalized"),
        # Counting each tenant's customers (the operators' tenants list) reads this index
        # alone, not the table.
        Index(
            "ix_billing_customers_tenant_kept",
            "tenant_id",
            postgresql_where=text("deleted IS false"),
            sqlite_where=text("deleted IS false"),
        ),
    )

    email: Mapped[str | None] = mapped_column(String(254))
    # Lower-cased email: matched case-insensitively with a plain index on every database.
    email_normalized: Mapped[str | None] = mapped_column(String(254))
    name: Mapped[str | None] = mapped_column(String(255))
    currency: Mapped[str | None] = mapped_column(String(3))
    default_payment_method_id: Mapped[str | None] = mapped_column(String(255))
    # A customer-level discount applies to every subscription's invoices.
    has_discount: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # When the customer's whole invoice history was known to be in the cache: read from Stripe
    # when the customer first asked to sign in (a backfill copies only the invoices still to
    # pay), or judged complete without a read (app.billing.invoice_history). None: not yet.
    invoice_history_read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
