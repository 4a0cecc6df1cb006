"""Processing stored events: arrival order does not matter, and one object costs one read.

The emulator's own events (old API version payloads) are stored as the webhook would store them,
then processed in-process (eager tasks) so the Stripe requests of this process can be counted.
"""

import pytest
from sqlalchemy import select

from app.billing.models import CachedCustomer, CachedSubscription, UpcomingInvoice
from app.billing.models.events import EventStatus
from app.billing.tasks import process_stripe_event, refresh_next_charges
from app.demo.stripe_data import create_paying_customer, create_price
from app.extensions import db
from tenants.context import tenant_context
from tenants.stripe_client import stripe_request_count
from tests.support.cache_helpers import one


@pytest.fixture
def acme(db_session, connect_shop):
    return connect_shop("acme")


def process(shop, event_id: int) -> str:
    return process_stripe_event.delay(shop.tenant_id, event_id).get()


def cached(shop, model, stripe_id):
    db.session.expire_all()
    with tenant_context(shop.tenant_id):
        return one(model, stripe_id)


@pytest.mark.parametrize("arrival", ["in order", "updated first"])
def test_updated_processed_before_created_ends_with_the_current_state(acme, arrival):
    customer = acme.merchant.v1.customers.create(params={"email": "a@x.io", "name": "Old"})
    acme.merchant.v1.customers.update(customer.id, params={"name": "New"})
    created, updated = acme.stripe_events(customer.id)
    assert (created["type"], updated["type"]) == ("customer.created", "customer.updated")
    assert created["data"]["object"]["name"] == "Old"  # a stale payload, if it were trusted

    if arrival == "in order":
        created_row, updated_row = acme.store(created), acme.store(updated)
        process(acme, updated_row)
        process(acme, created_row)
    else:  # the created event arrives (is stored) only after the updated one was processed
        updated_row = acme.store(updated)
        process(acme, updated_row)
        created_row = acme.store(created)
        process(acme, created_row)

    row = cached(acme, CachedCustomer, customer.id)
    assert (row.name, row.email, row.deleted) == ("New", "a@x.io", False)
    for event_id in (created_row, updated_row):
        assert acme.event(event_id).status == EventStatus.PROCESSED


def test_a_late_event_never_resurrects_a_canceled_subscription(acme):
    price = create_price(acme.merchant)
    customer, _ = create_paying_customer(acme.merchant, "late@x.io")
    sub = acme.merchant.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )
    created = acme.store(acme.stripe_events(sub.id)[0])
    process(acme, created)
    assert cached(acme, CachedSubscription, sub.id).status == "active"
    refresh_next_charges.delay(acme.tenant_id, [customer.id]).get()  # the customer signed in
    assert cached(acme, UpcomingInvoice, sub.id) is not None

    acme.merchant.v1.subscriptions.cancel(sub.id)
    deleted = acme.store(acme.stripe_events(sub.id)[-1])
    assert acme.event(deleted).type == "customer.subscription.deleted"
    process(acme, deleted)
    # The creation is delivered again (Stripe retries for days) after the cancellation.
    redelivered_created = dict(acme.stripe_events(sub.id)[0], id="evt_redelivery_of_created")
    process(acme, acme.store(redelivered_created))

    row = cached(acme, CachedSubscription, sub.id)
    assert row.status == "canceled"
    assert cached(acme, UpcomingInvoice, sub.id) is None  # no next charge for a canceled one


def test_several_stored_events_about_one_object_cost_one_stripe_read(acme):
    customer = acme.merchant.v1.customers.create(params={"email": "c@x.io", "name": "v0"})
    for version in ("v1", "v2", "v3"):
        acme.merchant.v1.customers.update(customer.id, params={"name": version})
    rows = [acme.store(event) for event in acme.stripe_events(customer.id)]
    assert len(rows) == 4

    before = stripe_request_count()
    notes = [process(acme, row) for row in rows]
    assert stripe_request_count() - before == 1
    assert notes[0] == f"fetched customer {customer.id}"
    assert notes[1:] == [f"coalesced customer {customer.id}"] * 3
    assert cached(acme, CachedCustomer, customer.id).name == "v3"

    # A change stored after that read is not covered by it: it costs one more read.
    acme.merchant.v1.customers.update(customer.id, params={"name": "v4"})
    later = acme.store(acme.stripe_events(customer.id)[-1])
    assert process(acme, later) == f"fetched customer {customer.id}"
    assert stripe_request_count() - before == 2
    assert cached(acme, CachedCustomer, customer.id).name == "v4"


def test_an_event_naming_another_accounts_object_touches_no_ones_rows(db_session, connect_shop):
    acme, beta = connect_shop("acme"), connect_shop("beta")
    beta_customer = beta.merchant.v1.customers.create(params={"email": "b@x.io", "name": "Beta"})
    process(beta, beta.store(beta.stripe_events(beta_customer.id)[0]))
    before = cached(beta, CachedCustomer, beta_customer.id)
    beta_synced_at = before.synced_at

    # An event for acme (its account) that names beta's customer: acme's credentials are used
    # for the re-fetch, and acme's account has no such customer.
    forged = dict(beta.stripe_events(beta_customer.id)[0], id="evt_forged", account=acme.account)
    row = acme.store(forged)
    process(acme, row)

    assert acme.event(row).status == EventStatus.PROCESSED
    with tenant_context(acme.tenant_id):
        assert db.session.scalars(select(CachedCustomer)).all() == []
    after = cached(beta, CachedCustomer, beta_customer.id)
    assert (after.name, after.deleted, after.synced_at) == ("Beta", False, beta_synced_at)
