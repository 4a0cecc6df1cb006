"""What every cached Stripe object has: its id, the whole object as JSON, and when we fetched it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tenants.scoping import TenantScoped


class StripeCached(TenantScoped):
    """Mixin: tenant-scoped, unique per (tenant_id, stripe_id), the raw object kept as JSON."""

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_id: Mapped[str] = mapped_column(String(255), nullable=False)
    data: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    livemode: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    stripe_created: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the Stripe read that produced this row *started*: an event stored before this moment is
    # already reflected, so processing it needs no second read (see app.billing.sync).
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


def cached_table_args(*extra) -> tuple:
    """Table arguments of a cached object: one row per Stripe id per tenant, plus `extra`."""
    return (UniqueConstraint("tenant_id", "stripe_id"), *extra)
