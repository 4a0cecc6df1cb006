"""Backfill task: copy a newly connected account into the cache on the slow `backfill` queue."""

from __future__ import annotations

import stripe

from app.billing.backfill import BackfillSuperseded, backfill, sync_state
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


# Finding the lock held, wait this many times (a lock's lifetime each) before concluding that
# a live run holds it (it keeps renewing it) rather than a dead one (it would have expired).
BUSY_WAITS = 2
BUSY = "already running"
SUPERSEDED = "superseded"


@tenant_task(retry_on=RETRY_ON, max_retries=3)
def backfill_tenant(self, tenant_id: int, busy_waits: int = 0) -> str:
    with held_lock(f"backfill:{tenant_id}", ttl=LOCK_TTL_SECONDS) as lock:
        if lock is None:
            return _wait_for_lock(tenant_id, busy_waits)
        tenant = db.session.get(Tenant, tenant_id)
        try:
            client = stripe_client_for(tenant)
        except StripeNotConnected as exc:
            state = sync_state()
            state.backfill_status = BackfillStatus.FAILED
            state.backfill_error = str(exc)
            db.session.commit()
            return BackfillStatus.FAILED
        try:
            return backfill(
                client,
                on_progress=lambda _phase, _done: lock.renew(),
                connection_at=tenant.stripe_connected_at,
            ).backfill_status
        except BackfillSuperseded:
            pass  # the tenant connected another account: copy that one, once the lock is free
    # The lock is released: the new connection's copy starts now, not a lock's lifetime later
    # (its own queued task may then find nothing left to do but a second, harmless pass).
    backfill_tenant.apply_async(args=[tenant_id])
    return SUPERSEDED


def _wait_for_lock(tenant_id: int, busy_waits: int) -> str:
    """Another run holds the lock. This message may be the redelivery of a run whose worker
    died (its lock expires within LOCK_TTL_SECONDS), or a second copy while the first still
    works (Redis redelivers unacknowledged messages after its visibility timeout): come back
    after the lock's lifetime, and after BUSY_WAITS such waits leave it to the live run. (A run
    superseded by a new connection queues the new copy itself when it stops.)

    Queued anew rather than retried, so the waits never use up the retries for Stripe errors.
    """
    if busy_waits >= BUSY_WAITS:
        return BUSY
    backfill_tenant.apply_async(
        args=[tenant_id], kwargs={"busy_waits": busy_waits + 1}, countdown=LOCK_TTL_SECONDS + 30
    )
    return f"waiting for the running backfill (wait {busy_waits + 1})"


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
