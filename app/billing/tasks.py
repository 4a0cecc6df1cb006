"""Billing's Celery tasks: process a stored Stripe event, sweep stuck events, reconcile with
Stripe's event list, and copy a newly connected account into the cache (the backfill).

Thin on purpose: each parses ids, calls a service of this package and decides retries; each
commits its own work (services only flush).
"""

from __future__ import annotations

import logging
import time

import stripe
from celery import shared_task
from flask import current_app

from app.billing.backfill import BackfillSuperseded, backfill, sync_state
from app.billing.event_queue import claim_drain, end_drain, keep_drain, waiting_event_ids
from app.billing.event_retention import prune_events
from app.billing.events import BatchOutcome, BatchStripe, process_event, process_own_event
from app.billing.models.events import EventStatus, StripeEvent
from app.billing.models.sync_state import BackfillStatus
from app.billing.reconcile import missed_events, stuck_event_ids
from app.billing.sign_in_reads import read_for_sign_in
from app.billing.sync import refresh_customer_previews
from app.clock import utcnow
from app.extensions import db
from app.metrics import EVENT_DURATION, EVENTS_PROCESSED, bounded
from tenants.context import tenant_context, unscoped
from tenants.models import StripeConnectionStatus, Tenant, TenantStatus
from tenants.stripe_client import StripeNotConnected, stripe_client_for
from worker.base import backoff_seconds, tenant_task
from worker.dispatch import enqueue_after_commit
from worker.locks import held_lock, single_run

log = logging.getLogger(__name__)

EVENT_OUTCOMES = frozenset({"fetched", "coalesced", "ignored", "missing", "tenant", "held"})


@tenant_task()
def process_stripe_event(self, tenant_id: int, event_id: int) -> str:
    """Bring the cache up to date with one stored event, retried with backoff on failure.

    STRIPE_EVENT_MAX_RETRIES and STRIPE_EVENT_RETRY_BASE_MS set the policy; after the last
    retry the event stays `failed` with its error, for operators to see and replay.
    """
    max_retries = current_app.config["STRIPE_EVENT_MAX_RETRIES"]
    final_attempt = self.request.retries >= max_retries
    started = time.perf_counter()
    try:
        note = process_event(event_id, final_attempt=final_attempt)
        db.session.commit()
    except Exception as exc:
        EVENTS_PROCESSED.labels("failed" if final_attempt else "retried").inc()
        if final_attempt:
            raise
        base = current_app.config["STRIPE_EVENT_RETRY_BASE_MS"] / 1000
        countdown = backoff_seconds(self.request.retries, base)
        raise self.retry(exc=exc, countdown=countdown, max_retries=max_retries) from exc
    EVENT_DURATION.observe(time.perf_counter() - started)
    outcome = note.split(" ", 1)[0].split(":", 1)[0]  # "fetched customer cus_..." -> fetched
    EVENTS_PROCESSED.labels(bounded(outcome, EVENT_OUTCOMES)).inc()
    return note


DRAIN_BATCH = 50  # events of one tenant per turn: ~0.2 s of work, then the next tenant's turn


def queue_tenant_events(tenant_id: int) -> None:
    """Make sure a drain of this tenant's waiting events is on its way (see event_queue.py).
    Called once the events are committed."""
    if not claim_drain(tenant_id):
        return  # one is queued or running: it takes this event too
    if drain_tenant_events.app.conf.task_always_eager:
        drain_tenant_events.apply(args=[tenant_id], throw=False)  # the demo, most tests
    else:
        drain_tenant_events.apply_async(args=[tenant_id])


# After Stripe could not be reached, a drain waits this long before its next batch.
STRIPE_PAUSE_SECONDS = 30


@tenant_task()
def drain_tenant_events(self, tenant_id: int) -> int:
    """Process a batch of the tenant's waiting events, each in its own transaction (a failure
    stays with its event), then give other tenants their turn. Returns how many were
    processed or tried."""
    try:
        return _drain(self, tenant_id)
    except BaseException:
        end_drain(tenant_id)  # a drain that broke must not keep the next one out
        raise


def _drain(self, tenant_id: int) -> int:
    eager = self.app.conf.task_always_eager
    done = 0
    while True:
        tenant = db.session.get(Tenant, tenant_id)
        if tenant is None or tenant.status == TenantStatus.SUSPENDED:
            db.session.rollback()
            end_drain(tenant_id)  # resuming queues the held events itself
            return done
        batch = waiting_event_ids(DRAIN_BATCH)
        outcome = process_event_batch(batch)
        done += len(outcome.notes) + len(outcome.failed)
        _count(outcome)
        for event_id in outcome.failed:  # each failed event retries on its own, with backoff
            base = current_app.config["STRIPE_EVENT_RETRY_BASE_MS"] / 1000
            process_stripe_event.apply_async(
                args=[tenant_id, event_id], countdown=backoff_seconds(0, base)
            )
        if outcome.stopped_at is not None and not eager:
            keep_drain(tenant_id)  # Stripe unreachable: the rest waits a little, not the queue
            self.apply_async(args=[tenant_id], countdown=STRIPE_PAUSE_SECONDS)
            return done
        if len(batch) < DRAIN_BATCH or outcome.stopped_at is not None:
            break
        if not eager:
            keep_drain(tenant_id)
            self.apply_async(args=[tenant_id])  # to the back of the queue: others' turn
            return done
    end_drain(tenant_id)
    more = bool(waiting_event_ids(1))  # stored while the flag went
    db.session.rollback()  # no transaction left open behind this look (SQLite's writers wait)
    if more and outcome.stopped_at is None:
        queue_tenant_events(tenant_id)
    return done


def process_event_batch(batch: list[int]) -> BatchOutcome:
    """Each event of the batch in a transaction of its own. One transaction for the whole batch
    would hold every object lock it took until its end, taken in the events' order: a backfill
    page (which takes its locks sorted) or a customer's action could then deadlock with it, and
    SQLite (the demo) would have its one writer held for the batch. What the events share is
    kept outside the transactions: the tenant's Stripe client, and whether Stripe answered."""
    outcome = BatchOutcome()
    shared = BatchStripe()
    for event_id in batch:
        one = process_own_event(event_id, shared)
        db.session.commit()
        outcome.add(one)
        if one.stopped_at is not None:
            break
    return outcome


def _count(outcome) -> None:
    for event_id, note in outcome.notes.items():
        EVENT_DURATION.observe(outcome.seconds.get(event_id, 0.0))
        EVENTS_PROCESSED.labels(bounded(note.split(" ", 1)[0].split(":", 1)[0],
                                        EVENT_OUTCOMES)).inc()  # fmt: skip
    for _ in outcome.failed:
        EVENTS_PROCESSED.labels("retried").inc()


@shared_task(name="app.billing.tasks.requeue_stuck_events")
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


@shared_task(name="app.billing.tasks.prune_events")
def prune_stored_events() -> dict:
    """Drop old settled events' payloads, then very old rows, in bounded batches."""
    with single_run("prune_events", ttl=3600) as acquired:
        if not acquired:
            return {"payloads": 0, "rows": 0}
        with unscoped():
            pruned = prune_events()
            db.session.commit()
        if pruned.payloads or pruned.rows:
            log.info("pruned %d event payloads, %d event rows", pruned.payloads, pruned.rows)
        return {"payloads": pruned.payloads, "rows": pruned.rows}


@shared_task(name="app.billing.tasks.reconcile_tenants")
def reconcile_tenants() -> int:
    """Queue a reconciliation of every connected tenant."""
    with unscoped():
        tenant_ids = db.session.scalars(
            db.select(Tenant.id).where(Tenant.stripe_status == StripeConnectionStatus.CONNECTED)
        ).all()
    for tenant_id in tenant_ids:
        reconcile_tenant.apply_async(args=[tenant_id])
    return len(tenant_ids)


@tenant_task()
def reconcile_tenant(self, tenant_id: int) -> int:
    """Store and process any event Stripe lists that never reached our webhook."""
    with single_run(f"reconcile:{tenant_id}", ttl=900) as acquired:
        if not acquired:
            return 0
        tenant = db.session.get(Tenant, tenant_id)
        fresh = missed_events(stripe_client_for(tenant, bulk=True), tenant)
        db.session.commit()  # stored before their tasks go out
        for event_id in fresh:
            process_stripe_event.apply_async(args=[tenant_id, event_id])
        if fresh:
            log.info("reconcile %s: %d missed events queued", tenant.subdomain, len(fresh))
        return len(fresh)


def replay_event(tenant_id: int, event_id: int) -> bool:
    """Put one failed event of this tenant back in the queue, once the caller commits. False
    when the tenant has no such failed event (another tenant's id finds nothing here)."""
    with tenant_context(tenant_id):
        event = db.session.get(StripeEvent, event_id)
        if event is None or event.tenant_id != tenant_id or event.status != EventStatus.FAILED:
            return False
        event.status = EventStatus.PENDING
        event.last_error = None
        event.queued_at = utcnow()
        db.session.flush()
    enqueue_after_commit(process_stripe_event, tenant_id, event_id)
    return True


def replay_failed_events(tenant_id: int) -> int:
    """Every failed event of the tenant back in the queue, oldest first; how many."""
    with tenant_context(tenant_id):
        failed = db.session.scalars(
            db.select(StripeEvent.id)
            .where(StripeEvent.status == EventStatus.FAILED)
            .order_by(StripeEvent.received_at, StripeEvent.id)
        ).all()
    return sum(replay_event(tenant_id, event_id) for event_id in failed)


def release_held_events(tenant_id: int) -> int:
    """A resumed tenant's waiting events, queued in the order they arrived; how many."""
    with tenant_context(tenant_id):
        pending = db.session.scalars(
            db.select(StripeEvent.id)
            .where(StripeEvent.status == EventStatus.PENDING)
            .order_by(StripeEvent.received_at, StripeEvent.id)
        ).all()
        if pending:
            db.session.execute(
                db.update(StripeEvent)
                .where(StripeEvent.id.in_(pending))
                .values(queued_at=utcnow())
                .execution_options(synchronize_session=False)
            )
    for event_id in pending:
        enqueue_after_commit(process_stripe_event, tenant_id, event_id)
    return len(pending)


# The backfill.

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
            client = stripe_client_for(tenant, bulk=True)
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


@tenant_task()
def refresh_next_charges(self, tenant_id: int, customer_ids: list[str]) -> int:
    """Re-read the next-charge previews of these customers' renewing subscriptions (a customer
    is about to look at them). Best effort: an old preview still shows, with its age.

    The sign-in email now queues read_for_signing_in; this stays for messages queued before."""
    return _read_for_customers(tenant_id, customer_ids, refresh_customer_previews,
                               "next-charge previews")  # fmt: skip


@tenant_task()
def read_for_signing_in(self, tenant_id: int, customer_ids: list[str]) -> int:
    """Read what these customers' pages need and no backfill copies: all their cards, their
    subscriptions' next charges and, once, their invoice history (they asked for a sign-in
    email and will look in a minute). Best effort: until it lands the page shows the default
    card, the prices' estimate and a note that older invoices are still being loaded; a history
    not read (Stripe unreachable) is tried again at the customer's next sign-in request."""
    return _read_for_customers(tenant_id, customer_ids, read_for_sign_in, "sign-in reads")


def _read_for_customers(tenant_id: int, customer_ids: list[str], read, what: str) -> int:
    """`read(client, customer_id)` for each customer of a connected tenant, committed; how many
    objects were read. A Stripe failure is logged, not retried: the page shows what it has."""
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None or tenant.stripe_status != StripeConnectionStatus.CONNECTED:
        return 0
    try:
        client = stripe_client_for(tenant)
        done = sum(read(client, customer_id) for customer_id in customer_ids)
        db.session.commit()
    except (stripe.StripeError, StripeNotConnected) as exc:
        db.session.rollback()
        log.warning("%s of tenant %s not done: %s", what, tenant_id, exc)
        return 0
    return done
