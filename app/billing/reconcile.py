"""Heal what webhooks missed: re-queue stuck events, and replay Stripe's own event list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import stripe
from sqlalchemy import func, select

from app.billing.backfill import sync_state, with_rate_limit_backoff
from app.billing.fetch import plain_dict
from app.billing.models.base import as_utc
from app.extensions import db
from app.webhooks.ingest import store_event
from app.webhooks.models import EventStatus, StripeEvent
from tenants.models import Tenant

STUCK_AFTER = timedelta(minutes=15)
# Stripe keeps events for 30 days; a first reconciliation looks back a day at most.
FIRST_LOOKBACK = timedelta(days=1)


def stuck_event_ids(now: datetime | None = None) -> list[tuple[int, int]]:
    """(tenant_id, event_id) of events still pending long after they were stored (unscoped)."""
    cutoff = (now or datetime.now(UTC)) - STUCK_AFTER
    rows = db.session.execute(
        select(StripeEvent.tenant_id, StripeEvent.id)
        .where(StripeEvent.status == EventStatus.PENDING, StripeEvent.received_at < cutoff)
        .order_by(StripeEvent.received_at)
        .limit(1000)
    ).all()
    return [(tenant_id, event_id) for tenant_id, event_id in rows]


def missed_events(client: stripe.StripeClient, tenant: Tenant) -> list[StripeEvent]:
    """Store every event Stripe lists since our cursor; returns the newly stored pending ones."""
    state = sync_state()
    since = state.reconciled_until
    if since is None:
        start = tenant.stripe_connected_at or (datetime.now(UTC) - FIRST_LOOKBACK)
        since = int(max(start, datetime.now(UTC) - FIRST_LOOKBACK).timestamp())
    query = {"limit": 100, "created": {"gte": since}}
    newest = since
    fresh: list[StripeEvent] = []
    while True:
        page = with_rate_limit_backoff(lambda q=dict(query): client.v1.events.list(params=q))
        events = [plain_dict(item) for item in page.data]
        for event in events:
            row, inserted = store_event(tenant, event, source="reconcile")
            newest = max(newest, int(event.get("created") or 0))
            if inserted and row.status == EventStatus.PENDING:
                fresh.append(row)
        if not page.has_more or not events:
            break
        query["starting_after"] = events[-1]["id"]
    state.reconciled_until = newest
    state.last_reconciled_at = datetime.now(UTC)
    db.session.commit()
    return fresh


def tenant_event_figures() -> dict:
    """Operator figures for the current tenant, derived from the stored events."""
    base = select(func.count(StripeEvent.id))
    oldest_pending = db.session.scalar(
        select(func.min(StripeEvent.received_at)).where(StripeEvent.status == EventStatus.PENDING)
    )
    now = datetime.now(UTC)
    return {
        "last_event_received_at": db.session.scalar(select(func.max(StripeEvent.received_at))),
        "last_event_processed_at": db.session.scalar(select(func.max(StripeEvent.processed_at))),
        "pending": db.session.scalar(base.where(StripeEvent.status == EventStatus.PENDING)),
        "failed": db.session.scalar(base.where(StripeEvent.status == EventStatus.FAILED)),
        "lag_seconds": (now - as_utc(oldest_pending)).total_seconds() if oldest_pending else 0.0,
    }
