"""A renewal's events, however they arrive, cost at most two Stripe reads and leave the cache
equal to Stripe: one read of the invoice, one of the subscription. A next-charge preview is read
again only for a customer who has one cached (someone who signed in).

The emulator renews as Stripe does at a period's end (stripe_emulator/renewals.py); its events
are stored as the webhook endpoint stores them and processed by the tenant's drain. Reads are
counted by the emulator, per account.
"""

from __future__ import annotations

import random

import pytest

from app.billing.models import CachedInvoice, CachedSubscription, UpcomingInvoice
from app.billing.models.events import EventStatus
from app.billing.tasks import process_stripe_event, queue_tenant_events, refresh_next_charges
from app.clock import as_utc
from app.demo.stripe_data import CARD_DETAILS, create_paying_customer, create_price
from app.extensions import db
from tenants.context import tenant_context
from tests.support.cache_helpers import one

RENEWAL_EVENTS = 7  # stripe_emulator/renewals.py: a paid renewal


@pytest.fixture
def shop(db_session, connect_shop):
    return connect_shop("acme")


def subscribed(shop, amount: int = 1500):
    """A paying customer's subscription, cached from its own events as a webhook would."""
    price = create_price(shop.merchant, amount=amount)
    customer, _ = create_paying_customer(shop.merchant, "renew@x.io")
    subscription = shop.merchant.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )
    deliver(shop, shop.stripe_events())
    return subscription


def deliver(shop, events: list[dict]) -> list[int]:
    """Store the events as the webhook endpoint does and let the tenant's drain take them."""
    ids = [shop.store(event) for event in events]
    queue_tenant_events(shop.tenant_id)
    return ids


def renew(shop, stripe_emulator) -> list[dict]:
    """Renew the account's subscriptions; the renewal's events, oldest first."""
    known = {event["id"] for event in shop.stripe_events()}
    stripe_emulator.renew(shop.account)
    return [event for event in shop.stripe_events() if event["id"] not in known]


def cache_matches_stripe(shop, subscription_id: str) -> None:
    stripe_sub = shop.merchant.v1.subscriptions.retrieve(subscription_id)
    invoice = shop.merchant.v1.invoices.retrieve(stripe_sub.latest_invoice)
    db.session.expire_all()
    with tenant_context(shop.tenant_id):
        row = one(CachedSubscription, subscription_id)
        cached_invoice = one(CachedInvoice, invoice.id)
        assert row.status == stripe_sub.status
        assert row.data["latest_invoice"] == invoice.id
        end = stripe_sub["items"].data[0].current_period_end
        assert int(as_utc(row.current_period_end).timestamp()) == end
        assert (cached_invoice.status, cached_invoice.total, cached_invoice.amount_paid) == (
            invoice.status,
            invoice.total,
            invoice.amount_paid,
        )


def test_a_renewal_without_a_cached_preview_costs_two_reads(shop, stripe_emulator):
    subscription = subscribed(shop)
    events = renew(shop, stripe_emulator)
    assert len(events) == RENEWAL_EVENTS
    before = stripe_emulator.api_request_count(shop.account)

    ids = deliver(shop, events)

    assert stripe_emulator.api_request_count(shop.account) - before == 2
    assert {shop.event(event_id).status for event_id in ids} == {EventStatus.PROCESSED}
    cache_matches_stripe(shop, subscription.id)
    with tenant_context(shop.tenant_id):
        assert one(UpcomingInvoice, subscription.id) is None


def test_a_renewal_refreshes_a_cached_preview(shop, stripe_emulator):
    subscription = subscribed(shop)
    refresh_next_charges.delay(shop.tenant_id, [subscription.customer]).get()  # signed in
    with tenant_context(shop.tenant_id):
        before_renewal = as_utc(one(UpcomingInvoice, subscription.id).next_payment_at)
    events = renew(shop, stripe_emulator)
    before = stripe_emulator.api_request_count(shop.account)

    deliver(shop, events)

    # The invoice, its subscription's preview, the subscription: a preview read after the
    # subscription's event arrived already shows what it changed.
    assert stripe_emulator.api_request_count(shop.account) - before == 3
    cache_matches_stripe(shop, subscription.id)
    db.session.expire_all()
    with tenant_context(shop.tenant_id):
        preview = one(UpcomingInvoice, subscription.id)
        assert as_utc(preview.next_payment_at) > before_renewal
        assert preview.amount_due == 1500


ORDERS = {
    "as sent": lambda events: events,
    "reversed": lambda events: events[::-1],
    "shuffled": lambda events: random.Random(7).sample(events, len(events)),
}


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("arrival", ["all stored first", "each processed as it arrives"])
def test_any_order_of_a_renewals_events_ends_with_stripes_state(
    shop, stripe_emulator, order, arrival
):
    subscription = subscribed(shop)
    events = ORDERS[order](renew(shop, stripe_emulator))

    if arrival == "all stored first":
        deliver(shop, events)
    else:
        for event in events:
            process_stripe_event.delay(shop.tenant_id, shop.store(event)).get()
    # Stripe retries deliveries: every event again changes nothing.
    for event in events:
        process_stripe_event.delay(shop.tenant_id, shop.store(event)).get()

    cache_matches_stripe(shop, subscription.id)


def test_a_declined_renewal_is_cached_past_due_with_its_open_invoice(shop, stripe_emulator):
    subscription = subscribed(shop)
    declining = shop.merchant.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4000000000000341", **CARD_DETAILS},
        }
    )
    shop.merchant.v1.payment_methods.attach(
        declining.id, params={"customer": subscription.customer}
    )
    shop.merchant.v1.subscriptions.update(
        subscription.id, params={"default_payment_method": declining.id}
    )
    deliver(shop, renew(shop, stripe_emulator)[::-1])

    cache_matches_stripe(shop, subscription.id)
    with tenant_context(shop.tenant_id):
        assert one(CachedSubscription, subscription.id).status == "past_due"
