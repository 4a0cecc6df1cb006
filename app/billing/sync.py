"""Bring one cached object up to date with Stripe: lock, skip if already fresh, re-fetch, upsert.

Re-fetching (instead of trusting an event's payload) makes arrival order irrelevant: whatever order
events come in, the last write is Stripe's current state. Several events about one object cost one
read: an event stored before our last read of the object began is already reflected in the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import stripe
from sqlalchemy import select

from app.billing.fetch import GONE, fetch_object
from app.billing.kinds import BY_OBJECT
from app.billing.mapping import stripe_id_of
from app.billing.models import CachedSubscription
from app.billing.statuses import RENEWING_STATUSES
from app.billing.upcoming import (
    drop_upcoming_invoice,
    refresh_cached_preview,
    refresh_upcoming_invoice,
)
from app.billing.upsert import apply_stripe_object, locked_cached_row, mark_deleted
from app.clock import as_utc
from app.extensions import db


@dataclass
class SyncOutcome:
    kind: str
    stripe_id: str
    fetched: bool  # False when the cache was already newer than the event
    gone: bool = False
    previous: dict | None = None  # the cached copy this read replaced (None: first read)
    current: dict | None = None  # what Stripe returned


def sync_object(
    client: stripe.StripeClient, kind: str, stripe_id: str, *, known_since: datetime | None = None
) -> SyncOutcome:
    """Make the cached copy of (kind, stripe_id) current, within the caller's transaction.

    `known_since`: when we learnt the object changed (an event's received_at). If our last read of
    the object started after that moment, the cache already reflects the change: no read needed.
    """
    row = locked_cached_row(BY_OBJECT[kind].model, stripe_id)
    if known_since is not None and row is not None and as_utc(row.synced_at) >= known_since:
        return SyncOutcome(kind, stripe_id, fetched=False)

    started = datetime.now(UTC)
    obj = fetch_object(client, kind, stripe_id)
    if obj is GONE:
        mark_deleted(kind, stripe_id, started)
        if kind == "subscription":
            drop_upcoming_invoice(stripe_id)
        return SyncOutcome(kind, stripe_id, fetched=True, gone=True)

    previous = row.data if row is not None else None
    apply_stripe_object(obj, started, row)
    if kind == "subscription":
        refresh_cached_preview(client, obj, started, known_since=known_since)
    return SyncOutcome(kind, stripe_id, fetched=True, previous=previous, current=obj)


def refresh_subscription_preview(
    client: stripe.StripeClient,
    subscription_id: str,
    *,
    only_cached: bool = False,
    known_since: datetime | None = None,
) -> None:
    """An invoice changed: the subscription's next charge may have too (proration, credit).
    `only_cached`: refresh it only if a preview is cached, and not if that preview was read
    after `known_since` (see refresh_cached_preview).

    Under the subscription's lock, so it never interleaves with a sync of the subscription.
    """
    row = locked_cached_row(CachedSubscription, subscription_id)
    if row is not None and not row.deleted:
        if only_cached:
            refresh_cached_preview(client, row.data, datetime.now(UTC), known_since=known_since)
        else:
            refresh_upcoming_invoice(client, row.data, datetime.now(UTC))


# The customer's own fields that Stripe computes a next invoice from: its credit balance, a
# customer-level coupon, and what automatic tax reads (address, shipping, exemption, location).
NEXT_CHARGE_INPUTS = (
    "balance",
    "invoice_credit_balance",
    "discount",
    "address",
    "shipping",
    "tax_exempt",
    "tax",
    "currency",
)


def customer_next_charge_may_differ(event_object_type: str | None, outcome: SyncOutcome) -> bool:
    """Whether a customer's re-read can have changed its subscriptions' next charge.

    Most customer.updated events change nothing an invoice reads (a name, metadata, the
    default card): re-reading every preview on each would cost the merchant a Stripe request per
    renewing subscription for nothing. Events about the customer's tax ids, balance transactions
    or discounts are about those inputs themselves (a tax id is not even on the customer
    object), so they always count.
    """
    if event_object_type != "customer" or outcome.previous is None or outcome.current is None:
        return True
    return any(
        outcome.previous.get(field) != outcome.current.get(field) for field in NEXT_CHARGE_INPUTS
    )


def refresh_customer_previews(
    client: stripe.StripeClient, customer_id: str, *, only_cached: bool = False
) -> int:
    """The customer changed (balance, address or tax ids under automatic tax, a coupon): each
    of its renewing subscriptions' next charge may have too. Returns how many were looked at."""
    subscription_ids = db.session.scalars(
        select(CachedSubscription.stripe_id).where(
            CachedSubscription.customer_id == customer_id,
            CachedSubscription.status.in_(RENEWING_STATUSES),
            CachedSubscription.deleted.is_(False),
        )
    ).all()
    for subscription_id in subscription_ids:
        refresh_subscription_preview(client, subscription_id, only_cached=only_cached)
    return len(subscription_ids)


def event_object_type(payload: dict) -> str | None:
    """The type of the object an event carries (customer, tax_id, discount, ...)."""
    return ((payload.get("data") or {}).get("object") or {}).get("object")


def event_target(payload: dict) -> tuple[str, str] | None:
    """Which cached object an event is about, from its data.object's type and id only."""
    obj = (payload.get("data") or {}).get("object") or {}
    kind, object_id = obj.get("object"), obj.get("id")
    if kind == "invoice" and not object_id:
        # invoice.upcoming: the subscription's next invoice, which has no id yet.
        parent = (obj.get("parent") or {}).get("subscription_details") or {}
        subscription = stripe_id_of(parent.get("subscription")) or stripe_id_of(
            obj.get("subscription")
        )
        return ("subscription", subscription) if subscription else None
    if kind in BY_OBJECT and object_id:
        return ("price" if kind == "plan" else kind), object_id
    related = {
        # A legacy card or source (customer.source.*): the PaymentMethods API serves it by id.
        "card": ("payment_method", object_id),
        "source": ("payment_method", object_id),
        "setup_intent": ("payment_method", obj.get("payment_method")),
        # What the next invoice depends on: a customer's tax ids (automatic tax) and balance.
        "tax_id": ("customer", obj.get("customer")),
        "customer_balance_transaction": ("customer", obj.get("customer")),
        "invoiceitem": ("invoice", obj.get("invoice")),
        "charge": ("invoice", obj.get("invoice")),
        "payment_intent": ("invoice", obj.get("invoice")),
        "discount": (
            ("subscription", obj.get("subscription"))
            if obj.get("subscription")
            else ("customer", obj.get("customer"))
        ),
    }.get(kind)
    if related and related[1]:
        return related[0], stripe_id_of(related[1])
    return None
