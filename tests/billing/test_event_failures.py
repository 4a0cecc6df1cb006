"""Stripe failing while the real worker processes an event: backoff, `failed`, then replay."""

import time

import pytest
from sqlalchemy import select

from app.billing.models import CachedSubscription, CachedSubscriptionItem, UpcomingInvoice
from app.billing.models.events import EventStatus
from app.billing.stripe_health import stripe_health
from app.billing.tasks import process_stripe_event, refresh_next_charges, replay_event
from app.demo.stripe_data import create_paying_customer, create_price
from app.extensions import db
from tenants.context import tenant_context
from tests.support.stripe_helpers import wait_for

pytestmark = pytest.mark.worker

RETRIES = 3  # STRIPE_EVENT_MAX_RETRIES in the tests' environment
BASE = 0.2  # STRIPE_EVENT_RETRY_BASE_MS / 1000


def attempt_times(shop, event_id: int, timeout: float = 15.0) -> tuple[list[float], object]:
    """When each failed attempt was recorded, watching the event row until it is `failed`."""
    seen: dict[int, float] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = shop.event(event_id)
        seen.setdefault(event.attempts, time.monotonic())
        if event.status == EventStatus.FAILED:
            return [seen[n] for n in sorted(seen) if n > 0], event
        time.sleep(0.01)
    raise AssertionError(f"event never failed; attempts seen: {sorted(seen)}")


def quantity_and_next_charge(shop) -> tuple[int, int]:
    db.session.expire_all()
    with tenant_context(shop.tenant_id):
        item = db.session.scalars(select(CachedSubscriptionItem)).one()
        return item.quantity, db.session.scalars(select(UpcomingInvoice)).one().amount_due


def test_failing_stripe_retries_with_backoff_then_fails_whole_and_replay_heals(
    real_worker, webhooks_paused, connect_shop, stripe_faults, stripe_emulator
):
    shop = connect_shop("acme")
    price = create_price(shop.merchant)
    customer, _ = create_paying_customer(shop.merchant, "fail@x.io")
    sub = shop.merchant.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )
    [created] = [e for e in shop.stripe_events(sub.id) if e["type"].endswith("created")]
    process_stripe_event.apply(args=[shop.tenant_id, shop.store(created)]).get()
    # The customer signed in: their next charge is cached, so a change of the subscription
    # re-reads it too.
    assert refresh_next_charges.apply(args=[shop.tenant_id, [customer.id]]).get() == 1
    shop.merchant.v1.subscriptions.update(
        sub.id,
        params={
            "items": [{"id": sub["items"].data[0].id, "quantity": 2}],
            "proration_behavior": "none",
        },
    )
    updated = shop.stripe_events(sub.id)[-1]
    assert updated["type"] == "customer.subscription.updated"
    # The subscription reads fine; the preview of its next invoice, read after it, fails.
    outage = stripe_faults(status=503, path="/v1/invoices/create_preview", account=shop.account)
    event_id = shop.store(updated)
    process_stripe_event.delay(shop.tenant_id, event_id)

    times, event = attempt_times(shop, event_id)
    assert event.attempts == 1 + RETRIES
    assert "APIError" in event.last_error and "outage" in event.last_error
    assert len(times) == 1 + RETRIES  # each failed attempt was seen
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    for retry, gap in enumerate(gaps):
        # Equal jitter: retry n waits between half and all of BASE x 2^n, plus the work, give or
        # take the lag of this test's polling.
        assert BASE * 2**retry / 2 - 0.05 <= gap <= BASE * 2**retry + 2.0, gaps
    assert sum(gaps) >= BASE * (1 + 2 + 4) / 2
    # Nothing half-written: the subscription was read, but its transaction never committed.
    assert quantity_and_next_charge(shop) == (1, 1500)
    assert stripe_health(shop.tenant_id).failing  # the worker told the portal's pages

    stripe_emulator.remove_fault(outage)
    assert replay_event(shop.tenant_id, event_id)
    db.session.commit()  # the replay is queued once the caller commits
    event = wait_for(
        shop.tenant_id,
        lambda: (e := shop.event(event_id)).status == EventStatus.PROCESSED and e,
        what="replayed event processed",
    )
    assert event.last_error is None and event.attempts == 2 + RETRIES
    with tenant_context(shop.tenant_id):
        cached_sub = db.session.scalars(select(CachedSubscription)).one()
        assert (cached_sub.stripe_id, cached_sub.status) == (sub.id, "active")
    assert quantity_and_next_charge(shop) == (2, 3000)
    assert not stripe_health(shop.tenant_id).failing  # Stripe answered again
