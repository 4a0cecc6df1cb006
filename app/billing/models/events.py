"""A Stripe event as delivered: kept before anything else, processed later by a worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db
from tenants.scoping import TenantScoped


class EventStatus:
    PENDING = "pending"  # stored, waiting for (or between) processing attempts
    PROCESSED = "processed"
    FAILED = "failed"  # out of retries; visible to operators and replayable (back to pending)
    IGNORED = "ignored"  # stored for the record, deliberately not processed (wrong mode, ...)
    # What a processing task works on. Not FAILED: a stray older retry chain must not take up
    # an event that ran out of retries; an operator's replay makes it pending first.
    OPEN = (PENDING,)


KEPT_PAYLOAD = "payload IS NOT NULL AND status IN ('processed', 'ignored')"
PROCESSED_ONLY = "processed_at IS NOT NULL"


class StripeEvent(TenantScoped, db.Model):
    __tablename__ = "stripe_events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "stripe_id"),
        Index(None, "status", "received_at"),
        Index(None, "tenant_id", "status", "received_at"),
        Index(None, "tenant_id", "object_id"),
        # The settled events whose payload is still kept, oldest first: what pruning reads.
        Index(
            "ix_stripe_events_payload_kept",
            "received_at",
            postgresql_where=text(KEPT_PAYLOAD),
            sqlite_where=text(KEPT_PAYLOAD),
        ),
        # A tenant's newest event, and its latest processed one, are one index probe each,
        # not a read of every event it ever had (the operators' figures).
        Index(None, "tenant_id", "received_at"),
        Index(
            "ix_stripe_events_tenant_processed",
            "tenant_id",
            "processed_at",
            postgresql_where=text(PROCESSED_ONLY),
            sqlite_where=text(PROCESSED_ONLY),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_id: Mapped[str] = mapped_column(String(255), nullable=False)
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    account: Mapped[str | None] = mapped_column(String(255))
    livemode: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    api_version: Mapped[str | None] = mapped_column(String(40))
    object_type: Mapped[str | None] = mapped_column(String(60))
    object_id: Mapped[str | None] = mapped_column(String(255))
    stripe_created: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Stripe's event as delivered; None once pruned (app/billing/event_retention.py): the row
    # stays for the figures, the body goes when Stripe itself no longer keeps the event.
    payload: Mapped[dict | None] = mapped_column(JSON)
    # How it reached us: "webhook" or "reconcile" (found in Stripe's event list).
    source: Mapped[str] = mapped_column(String(20), nullable=False, default="webhook")

    status: Mapped[str] = mapped_column(String(20), nullable=False, default=EventStatus.PENDING)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When a task for it was last queued (a retry after a failure, the stuck-event sweep, a
    # replay); None: only when it was stored. The sweep looks at whichever is later, so an
    # event waiting between retries is not queued a second time.
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    processing_ms: Mapped[float | None] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(String(200))
