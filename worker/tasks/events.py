"""Stripe event tasks: process one event; sweep stuck events; reconcile against Stripe's list."""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app

from app.billing.events import process_event
from app.billing.reconcile import missed_events, stuck_event_ids
from app.clock import utcnow
from app.extensions import db
from tenants.context import tenant_context, unscoped
from tenants.models import StripeConnectionStatus, Tenant
from tenants.stripe_client import stripe_client_for
from worker.base import backoff_seconds, tenant_task
from worker.locks import single_run

log = logging.getLogger(__name__)


@tenant_task()
def process_stripe_event(self, tenant_id: int, event_id: int) -> str:
    """Bring the cache up to date with one stored event, retried with backoff on failure.

    STRIPE_EVENT_MAX_RETRIES and STRIPE_EVENT_RETRY_BASE_MS set the policy; after the last
    retry the event stays `failed` with its error, for operators to see and replay.
    """
    max_retries = current_app.config["STRIPE_EVENT_MAX_RETRIES"]
    final_attempt = self.request.retries >= max_retries
    try:
        return process_event(event_id, final_attempt=final_attempt)
    except Exception as exc:
        if final_attempt:
            raise
        base = current_app.config["STRIPE_EVENT_RETRY_BASE_MS"] / 1000
        countdown = backoff_seconds(self.request.retries, base)
        raise self.retry(exc=exc, countdown=countdown, max_retries=max_retries) from exc


@shared_task(name="worker.tasks.events.requeue_stuck_events")
def requeue_stuck_events() -> int:
    """Queue again the events still pending long after they were stored (lost task, outage)."""
    with single_run("requeue_stuck_events", ttl=300) as acquired:
        if not acquired:
            return 0
        with unscoped():
            stuck = stuck_event_ids()
            db.session.commit()  # stamped as queued before the tasks go out
        for tenant_id, event_id in stuck:
            process_stripe_event.apply_async(args=[tenant_id, event_id])
        return len(stuck)


@shared_task(name="worker.tasks.events.reconcile_tenants")
def reconcile_tenants() -> int:
    """Queue a reconciliation of every connected tenant."""
    with unscoped():
        tenant_ids = db.session.scalars(
            db.select(Tenant.id).where(Tenant.stripe_status == StripeConnectionStatus.CONNECTED)
        ).all()
    for tenant_id in tenant_ids:
        reconcile_tenant.apply_async(args=[tenant_id])
    return len(tenant_ids)


@tenant_task(name="worker.tasks.events.reconcile_tenant")
def reconcile_tenant(self, tenant_id: int) -> int:
    """Store and process any event Stripe lists that never reached our webhook."""
    with single_run(f"reconcile:{tenant_id}", ttl=900) as acquired:
        if not acquired:
            return 0
        tenant = db.session.get(Tenant, tenant_id)
        fresh = missed_events(stripe_client_for(tenant), tenant)
        for event_id in fresh:
            process_stripe_event.apply_async(args=[tenant_id, event_id])
        if fresh:
            log.info("reconcile %s: %d missed events queued", tenant.subdomain, len(fresh))
        return len(fresh)


def replay_event(tenant_id: int, event_id: int) -> None:
    """Operator action: put a failed event back in the queue."""
    from app.webhooks.models import EventStatus, StripeEvent

    with tenant_context(tenant_id):
        event = db.session.get(StripeEvent, event_id)
        event.status = EventStatus.PENDING
        event.last_error = None
        event.queued_at = utcnow()
        db.session.commit()
    process_stripe_event.apply_async(args=[tenant_id, event_id])
