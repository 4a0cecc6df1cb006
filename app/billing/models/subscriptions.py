"""Subscriptions and their items; today's API keeps the billing period on each item."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.billing.models.base import StripeCached, cached_table_args
from app.billing.statuses import RENEWING_STATUSES
from app.extensions import db

# The subscriptions that renew by themselves and are not deleted, as SQL.
RENEWING_KEPT = "deleted IS false AND status IN ({})".format(
    ", ".join(f"'{status}'" for status in sorted(RENEWING_STATUSES))
)


class CachedSubscription(StripeCached, db.Model):
    __tablename__ = "billing_subscriptions"
    __table_args__ = cached_table_args(
        Index(None, "tenant_id", "customer_id"),
        # Renewing subscriptions by period end: the overdue ones are found without reading
        # every subscription of every tenant (the operators' tenants list).
        Index(
            "ix_billing_subscriptions_renewing_period_end",
            "current_period_end",
            postgresql_where=text(RENEWING_KEPT),
            sqlite_where=text(RENEWING_KEPT),
        ),
    )

    customer_id: Mapped[str] = mapped_column(String(255), nullable=False)
    status: Mapped[str] = mapped_column(String(30), nullable=False)
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    cancel_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    canceled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    trial_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The earliest period end among the items: when the next renewal happens.
    current_period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    default_payment_method_id: Mapped[str | None] = mapped_column(String(255))
    currency: Mapped[str | None] = mapped_column(String(3))
    # pause_collection: Stripe keeps the subscription active but collects nothing (keep_as_draft,
    # mark_uncollectible or void) until resumes_at, or until the merchant resumes it.
    pause_behavior: Mapped[str | None] = mapped_column(String(20))
    pause_resumes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What makes an invoice differ from the sum of its prices: a discount (coupon or promotion
    # code, on the subscription or an item) and tax (automatic tax or tax rates).
    has_discount: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    adds_tax: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # The subscription schedule managing it: Stripe then refuses direct cancellation.
    schedule_id: Mapped[str | None] = mapped_column(String(255))
    # charge_automatically (a card is charged) or send_invoice (Stripe emails each invoice, to be
    # paid within days_until_due): the account page says which, for every subscription it lists.
    collection_method: Mapped[str | None] = mapped_column(String(30))
    days_until_due: Mapped[int | None] = mapped_column(Integer)
    # Set by the portal when a customer cancels; shown to the merchant.
    cancellation_reason: Mapped[str | None] = mapped_column(String(500))


class CachedSubscriptionItem(StripeCached, db.Model):
    __tablename__ = "billing_subscription_items"
    __table_args__ = cached_table_args(Index(None, "tenant_id", "subscription_id"))

    subscription_id: Mapped[str] = mapped_column(String(255), nullable=False)
    price_id: Mapped[str | None] = mapped_column(String(255))
    product_id: Mapped[str | None] = mapped_column(String(255))
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    current_period_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    current_period_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CachedSubscriptionSchedule(StripeCached, db.Model):
    """Planned phases of a subscription (price or quantity changes on set dates)."""

    __tablename__ = "billing_subscription_schedules"
    __table_args__ = cached_table_args()

    subscription_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(30), nullable=False)
    # release: the subscription carries on after the last phase; cancel: it ends then.
    end_behavior: Mapped[str] = mapped_column(String(20), nullable=False, default="release")
    last_phase_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Each phase's dates and items, their prices and product names resolved when written, so a
    # page reads them without joining the catalog once per phase.
    phases: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
