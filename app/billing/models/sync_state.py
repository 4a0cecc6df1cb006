"""Per-tenant sync state: backfill progress and the reconciliation cursor.

Event figures (last received, lag, failures) are derived from stripe_events, not copied here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from tenants.scoping import TenantScoped


class BackfillStatus:
    NEVER = "never"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class SyncState(TenantScoped, db.Model):
    __tablename__ = "billing_sync_states"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    backfill_status: Mapped[str] = mapped_column(
        String(20), nullable=False, default=BackfillStatus.NEVER
    )
    # {"customers": {"done": 120, "total": null, "finished": true}, ...}
    backfill_progress: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    backfill_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    backfill_finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    backfill_error: Mapped[str | None] = mapped_column(String(1000))
    # Created-timestamp cursor of the newest Stripe event seen by reconciliation.
    reconciled_until: Mapped[int | None] = mapped_column(BigInteger)  # Unix time: past 2038
    last_reconciled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
