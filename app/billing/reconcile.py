"""Heal what webhooks missed: re-queue stuck events, and replay Stripe's own event list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import stripe
from sqlalchemy import func, select, update

from app.billing.backfill import sync_state, with_rate_limit_backoff
from app.billing.event_log import store_event
from app.billing.fetch import list_page
from app.billing.models.events import EventStatus, StripeEvent
from app.billing.stripe_health import stripe_health_noted
from app.clock import as_utc
from app.extensions import db
from tenants.models import Tenant, TenantStatus

STUCK_AFTER = timedelta(minutes=15)
# Stripe keeps events for 30 days; a first reconciliation looks back a day at most.
FIRST_LOOKBACK = timedelta(days=1)
# Each run looks again at the last few minutes before its cursor: Stripe's event list is
# eventually consistent, and an event may appear there a little after its `created` time.
# Events seen twice cost nothing (stored once, by id).
OVERLAP_SECONDS = 300


def stuck_event_ids(now: datetime | None = None) -> list[tuple[int, int]]:
    """(tenant_id, event_id) of events pending long after they were last queued (unscoped).

    An event waiting between retries was queued again by its failure (see events.py), so it
    is not stuck; one whose task was lost is; a suspended tenant's wait on purpose. Those
    returned are stamped as queued now, so the next sweep leaves them alone while their new
    task runs.
    """
    now = now or datetime.now(UTC)
    cutoff = now - STUCK_AFTER
    last_queued = func.coalesce(StripeEvent.queued_at, StripeEvent.received_at)
    rows = db.session.execute(
        select(StripeEvent.tenant_id, StripeEvent.id)
        .join(Tenant, Tenant.id == StripeEvent.tenant_id)
        .where(
            StripeEvent.status == EventStatus.PENDING,
            # An event is queued only after it was received, so one last queued before the
            # cutoff was received before it too. That bound is what the index on (status,
            # received_at) reads: only the long-pending events, never every pending one.
            # (Under row-level security, coalesce() is never an index condition.)
            StripeEvent.received_at < cutoff,
            last_queued < cutoff,
            Tenant.status != TenantStatus.SUSPENDED,
        )
        .order_by(last_queued)
        .limit(1000)
        .with_for_update(
            of=StripeEvent, skip_locked=True
        )  # one being processed right now is not stuck
    ).all()
    if rows:
        db.session.execute(
            update(StripeEvent)
            .where(StripeEvent.id.in_([event_id for _, event_id in rows]))
            .values(queued_at=now)
            .execution_options(synchronize_session=False)
        )
    return [(tenant_id, event_id) for tenant_id, event_id in rows]


def missed_events(client: stripe.StripeClient, tenant: Tenant) -> list[int]:
    """Store every event Stripe lists since our cursor; returns the ids of new pending ones."""
    state = sync_state()
    if state.reconciled_until is None:
        start = tenant.stripe_connected_at or (datetime.now(UTC) - FIRST_LOOKBACK)
        since = int(max(start, datetime.now(UTC) - FIRST_LOOKBACK).timestamp())
    else:
        since = state.reconciled_until - OVERLAP_SECONDS
    query = {"limit": 100, "created": {"gte": since}}
    newest = state.reconciled_until or since
    fresh: list[int] = []
    while True:
        with stripe_health_noted(tenant.id):
            events, has_more = with_rate_limit_backoff(
                lambda q=dict(query): list_page(client, "/v1/events", q)
            )
        for event in events:
            stored = store_event(tenant, event, source="reconcile")
            newest = max(newest, int(event.get("created") or 0))
            if stored.inserted and stored.status == EventStatus.PENDING:
                fresh.append(stored.id)
        if not has_more or not events:
            break
        query["starting_after"] = events[-1]["id"]
    state.reconciled_until = newest
    state.last_reconciled_at = datetime.now(UTC)
    db.session.flush()
    return fresh


def tenant_event_figures() -> dict:
    """Operator figures for the current tenant, derived from the stored events in one query.

    Each figure is its own subquery, so each is an index probe (the newest received, the
    latest processed) or a read of the few unsettled events: never of every event the tenant
    ever had.
    """

    def of_events(figure, *where):
        return select(figure).select_from(StripeEvent).where(*where).scalar_subquery()

    pending = StripeEvent.status == EventStatus.PENDING
    row = db.session.execute(
        select(
            of_events(func.max(StripeEvent.received_at)),
            of_events(func.max(StripeEvent.processed_at), StripeEvent.processed_at.is_not(None)),
            of_events(func.count(), pending),
            of_events(func.count(), StripeEvent.status == EventStatus.FAILED),
            of_events(func.min(StripeEvent.received_at), pending),
        )
    ).one()
    last_received, last_processed, pending_count, failed_count, oldest_pending = row
    lag = (datetime.now(UTC) - as_utc(oldest_pending)).total_seconds() if oldest_pending else 0.0
    return {
        "last_event_received_at": last_received,
        "last_event_processed_at": last_processed,
        "pending": pending_count,
        "failed": failed_count,
        "lag_seconds": lag,
    }
