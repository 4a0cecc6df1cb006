"""Process one stored Stripe event: lock it, sync the object it is about, mark it processed."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import stripe
from sqlalchemy import bindparam, select
from sqlalchemy.orm import load_only

from app.billing.forget import forget_connection
from app.billing.models import CachedInvoice, CachedSubscriptionSchedule
from app.billing.models.events import EventStatus, StripeEvent
from app.billing.stripe_health import (
    STRIPE_UNREACHABLE,
    note_stripe_answered,
    note_stripe_unreachable,
)
from app.billing.sync import (
    customer_next_charge_may_differ,
    event_object_type,
    event_target,
    refresh_customer_previews,
    refresh_subscription_preview,
    sync_object,
)
from app.billing.upsert import cached_row
from app.clock import as_utc
from app.commits import save_progress
from app.extensions import db
from tenants.models import StripeConnectionStatus, Tenant, TenantStatus
from tenants.stripe_client import stripe_client_for

log = logging.getLogger(__name__)

DEAUTHORIZED = "account.application.deauthorized"
DEAUTHORIZED_REASON = (
    "Billfold's access to your Stripe account was removed from Stripe. Connect your account "
    "again to resume syncing."
)

HELD = "held: tenant suspended"

# The event, locked, with what processing reads of it and of its tenant, in one query: the
# event's few columns that processing reads or counts on, and the tenant's as columns. Not whole
# rows: a tenant's row is wide, three of its columns are decrypted at every load, and every event
# of a drain would load it again (each commit expires it). The tenant's connection columns say
# which Stripe client serves it (BatchStripe); its credentials are read only to build one.
EVENT_LOCKED = (
    select(
        StripeEvent,
        Tenant.id.label("tenant_id"),
        Tenant.status.label("tenant_status"),
        Tenant.stripe_status,
        Tenant.stripe_connected_at,
        Tenant.stripe_connection_method,
        Tenant.stripe_account_lookup,
        Tenant.stripe_api_key_lookup,
    )
    .join(Tenant, Tenant.id == StripeEvent.tenant_id)
    .where(StripeEvent.id == bindparam("event_id"))
    .options(
        load_only(
            StripeEvent.status,
            StripeEvent.type,
            StripeEvent.payload,
            StripeEvent.received_at,
            StripeEvent.attempts,
            StripeEvent.tenant_id,  # checked by the flush (tenants.scoping)
        )
    )
    .with_for_update(of=StripeEvent)
)


@dataclass
class BatchStripe:
    """What the events of one batch share at Stripe: the tenant's client, built once rather
    than per event (a StripeClient and its request budget cost more to build than a request
    costs to send), and whether Stripe's answer was already noted (a Redis round trip per
    event otherwise; within a batch an unreachable Stripe stops the batch, so a later answer
    never hides an earlier failure)."""

    clients: dict[tuple, stripe.StripeClient] = field(default_factory=dict)
    answered: set[int] = field(default_factory=set)

    def client(self, locked) -> stripe.StripeClient:
        """The client of the tenant's connection as `locked` (an EVENT_LOCKED row) has it."""
        # Keyed by the connection itself: a tenant connected again mid-batch gets a new client.
        key = (
            locked.tenant_id,
            locked.stripe_connection_method,
            locked.stripe_connected_at,
            locked.stripe_account_lookup,
            locked.stripe_api_key_lookup,
        )
        if key not in self.clients:
            tenant = db.session.get(Tenant, locked.tenant_id)
            self.clients[key] = stripe_client_for(tenant, bulk=True)
        return self.clients[key]

    def note_answered(self, tenant_id: int) -> None:
        if tenant_id not in self.answered:
            note_stripe_answered(tenant_id)
            self.answered.add(tenant_id)


def process_event(event_id: int, *, final_attempt: bool = False) -> str:
    """Process a stored event in the current tenant's context; returns what happened.

    Runs in one transaction, which the caller commits: the event row stays locked while its
    object is re-fetched and written, so a duplicate task waits and then finds it processed. On
    failure the transaction rolls back (nothing half-written), the failed attempt is saved, and
    the exception propagates for a retry.
    """
    try:
        note = _process_locked(event_id, BatchStripe())
    except Exception as exc:
        db.session.rollback()
        _record_failure(event_id, exc, final_attempt)
        raise
    if note == HELD or note.startswith("already-"):
        db.session.rollback()  # nothing to write: release the event's row at once
    return note


@dataclass
class BatchOutcome:
    notes: dict[int, str] = field(default_factory=dict)
    failed: dict[int, Exception] = field(default_factory=dict)
    seconds: dict[int, float] = field(default_factory=dict)  # each processed event's time
    # Stripe could not be reached: the batch stopped at this event, the rest were not tried.
    stopped_at: int | None = None

    def add(self, other: BatchOutcome) -> None:
        self.notes.update(other.notes)
        self.failed.update(other.failed)
        self.seconds.update(other.seconds)
        self.stopped_at = other.stopped_at if other.stopped_at is not None else self.stopped_at


def process_own_event(event_id: int, shared: BatchStripe) -> BatchOutcome:
    """Process one stored event of the current tenant in a transaction that holds nothing
    else, for the caller to commit (a drain's batch: tasks.process_event_batch): a failure rolls
    the whole transaction back (no savepoint needed: nothing else is in it) and leaves the failed
    attempt in its place. When Stripe cannot be reached the outcome says so (stopped_at): the
    batch's next events would only wait for the same timeout."""
    outcome = BatchOutcome()
    started = time.perf_counter()
    try:
        outcome.notes[event_id] = _process_locked(event_id, shared)
    except Exception as exc:  # noqa: BLE001 - recorded on its event, the drain goes on
        db.session.rollback()
        _note_failed_attempt(event_id, exc, final_attempt=False)
        outcome.failed[event_id] = exc
        if isinstance(exc, STRIPE_UNREACHABLE):
            outcome.stopped_at = event_id
        return outcome
    outcome.seconds[event_id] = time.perf_counter() - started
    return outcome


def _process_locked(event_id: int, shared: BatchStripe) -> str:
    """Lock the event, sync its object, mark it processed (flushed, not committed); or say why
    not: "missing", "already-<status>", HELD."""
    started = time.perf_counter()
    locked = db.session.execute(EVENT_LOCKED, {"event_id": event_id}).one_or_none()
    if locked is None:
        return "missing"
    event = locked.StripeEvent
    if event.status not in EventStatus.OPEN:
        return "already-" + event.status
    if locked.tenant_status == TenantStatus.SUSPENDED:
        return HELD  # kept pending, untouched: resuming queues the waiting events in order
    note = _apply(event, locked, shared)
    event.status = EventStatus.PROCESSED
    event.note = note
    event.attempts += 1
    event.last_error = None
    event.processed_at = datetime.now(UTC)
    event.processing_ms = round((time.perf_counter() - started) * 1000, 2)
    db.session.flush()  # with the cache's writes: one flush
    return note


def _apply(event: StripeEvent, locked, shared: BatchStripe) -> str:
    """What the event asks of the cache; `locked`: its EVENT_LOCKED row (the tenant's columns)."""
    payload = event.payload or {}
    if event.type == DEAUTHORIZED:
        if locked.stripe_status != StripeConnectionStatus.CONNECTED:
            return "ignored: tenant not connected"
        connected_at = locked.stripe_connected_at
        created = payload.get("created")
        # Stripe's times are whole seconds: only an event of an earlier second is older.
        if (
            isinstance(created, int)
            and connected_at
            and created < int(as_utc(connected_at).timestamp())
        ):
            return "ignored: about an earlier connection"  # connected again since
        # Access is already gone at Stripe: forget the account here (tokens, cache), stop syncing.
        forget_connection(db.session.get(Tenant, locked.tenant_id), DEAUTHORIZED_REASON)
        return "tenant disconnected"
    if locked.stripe_status != StripeConnectionStatus.CONNECTED:
        return "ignored: tenant not connected"
    target = event_target(payload)
    if target is None:
        return "ignored: no cached object"
    kind, object_id = target
    client = shared.client(locked)
    known_since = as_utc(event.received_at)
    try:
        outcome = sync_object(client, kind, object_id, known_since=known_since)
        read_now = outcome.fetched and not outcome.gone  # a fresh copy of a live object
        if kind == "invoice" and read_now:
            invoice = cached_row(CachedInvoice, object_id)
            if invoice.subscription_id:
                refresh_subscription_preview(
                    client, invoice.subscription_id, only_cached=True, known_since=known_since
                )
        if (
            kind == "customer"
            and read_now
            and customer_next_charge_may_differ(event_object_type(payload), outcome)
        ):
            refresh_customer_previews(client, object_id, only_cached=True)
        if kind == "subscription_schedule" and read_now:
            # Attached, released or canceled: the subscription says which schedule (if any)
            # manages it, and its cancellation and next charge follow the schedule.
            subscription_id = scheduled_subscription(cached_row(CachedSubscriptionSchedule,
                                                                object_id))  # fmt: skip
            if subscription_id:
                sync_object(client, "subscription", subscription_id)
    except STRIPE_UNREACHABLE:
        note_stripe_unreachable(locked.tenant_id)
        raise
    if outcome.fetched:  # a coalesced event asked Stripe nothing
        shared.note_answered(locked.tenant_id)
    return f"{'fetched' if outcome.fetched else 'coalesced'} {kind} {object_id}"


def scheduled_subscription(schedule) -> str | None:
    """The subscription a schedule manages, or managed until it was released."""
    data = schedule.data or {}
    return schedule.subscription_id or data.get("released_subscription")


def _note_failed_attempt(event_id: int, exc: Exception, final_attempt: bool) -> None:
    event = db.session.get(StripeEvent, event_id)
    if event is None:
        return
    event.attempts += 1
    event.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    event.status = EventStatus.FAILED if final_attempt else EventStatus.PENDING
    if not final_attempt:
        event.queued_at = datetime.now(UTC)  # its retry is on the way: not stuck
    db.session.flush()
    log.warning("stripe event %s attempt %s failed: %s", event.stripe_id, event.attempts, exc)


def _record_failure(event_id: int, exc: Exception, final_attempt: bool) -> None:
    _note_failed_attempt(event_id, exc, final_attempt)
    save_progress()  # the attempt and its error outlive the exception
