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
from worker.locks import held_lock

# Stripe down, rate-limiting past our own backoff, or failing inside: try again later.
RETRY_ON = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)
# The run's lock lives this long past its last progress (a page, or 50 customers' cards): a
# worker killed mid-run holds up the next run for this long at most.
LOCK_TTL_SECONDS = 600


class BackfillBusy(Exception):
    """Another run of this tenant's backfill holds the lock (or did, until its lock expires)."""


@tenant_task(retry_on=RETRY_ON, max_retries=3)
def backfill_tenant(self, tenant_id: int) -> str:
    with held_lock(f"backfill:{tenant_id}", ttl=LOCK_TTL_SECONDS) as lock:
        if lock is None:
            # Not "done": this message may be the redelivery of a run whose worker died. Wait
            # for the lock to be released or to expire, then run (a backfill is safe twice).
            raise self.retry(
                exc=BackfillBusy(f"backfill of tenant {tenant_id} is running"),
                countdown=LOCK_TTL_SECONDS,
                max_retries=12,
            )
        tenant = db.session.get(Tenant, tenant_id)
        try:
            client = stripe_client_for(tenant)
        except StripeNotConnected as exc:
            state = sync_state()
            state.backfill_status = BackfillStatus.FAILED
            state.backfill_error = str(exc)
            db.session.commit()
            return BackfillStatus.FAILED
        return backfill(client, on_progress=lambda _phase, _done: lock.renew()).backfill_status


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
