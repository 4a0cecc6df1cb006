"""Backfill task: copy a newly connected account into the cache on the slow `backfill` queue."""

from __future__ import annotations

import stripe

from app.billing.backfill import backfill, sync_state
from app.billing.models.sync_state import BackfillStatus
from app.extensions import db
from tenants.context import tenant_context
from tenants.models import Tenant
from tenants.stripe_client import StripeNotConnected, stripe_client_for
from worker.base import tenant_task
from worker.dispatch import enqueue_after_commit
from worker.locks import single_run

# Stripe down, rate-limiting past our own backoff, or failing inside: try again later.
RETRY_ON = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


@tenant_task(retry_on=RETRY_ON, max_retries=3)
def backfill_tenant(self, tenant_id: int) -> str:
    with single_run(f"backfill:{tenant_id}", ttl=6 * 3600) as acquired:
        if not acquired:
            return "already running"
        tenant = db.session.get(Tenant, tenant_id)
        try:
            client = stripe_client_for(tenant)
        except StripeNotConnected as exc:
            state = sync_state()
            state.backfill_status = BackfillStatus.FAILED
            state.backfill_error = str(exc)
            db.session.commit()
            return BackfillStatus.FAILED
        return backfill(client).backfill_status


def queue_backfill(tenant_id: int) -> None:
    """Mark the tenant's backfill queued, and send the task once the caller's transaction commits.

    Call it when a tenant gets connected to a Stripe account (CLI, dashboard, Connect OAuth).
    """
    with tenant_context(tenant_id):
        state = sync_state()
        state.backfill_status = BackfillStatus.QUEUED
        state.backfill_error = None
        db.session.flush()
    enqueue_after_commit(backfill_tenant, tenant_id)
