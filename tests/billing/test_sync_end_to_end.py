"""The emulator posts real webhooks to gunicorn; a real worker re-fetches and fills the cache."""

import pytest
from sqlalchemy import func, select

from app.billing.models import (
    CachedCustomer,
    CachedInvoice,
    CachedPaymentMethod,
    CachedPrice,
    CachedSubscription,
    CachedSubscriptionItem,
    UpcomingInvoice,
)
from app.billing.models.events import EventStatus, StripeEvent
from app.billing.tasks import refresh_next_charges
from app.demo.stripe_data import create_paying_customer, create_price
from app.extensions import db
from tenants.context import tenant_context
from tests.conftest import PLATFORM_STRIPE_KEY
from tests.support.stripe_helpers import merchant_client, new_account_id, wait_for

pytestmark = pytest.mark.worker


@pytest.fixture
def connected_pair(live_server, real_worker, make_tenant, stripe_emulator):
    """Two tenants, each connected to its own emulated Stripe account."""
    made = []
    for subdomain in ("acme", "beta"):
        account = new_account_id()
        tenant = make_tenant(subdomain, stripe_account=account)
        made.append((tenant.id, merchant_client(stripe_emulator.url, PLATFORM_STRIPE_KEY, account)))
    return made


def one(model, stripe_id):
    return db.session.scalars(select(model).where(model.stripe_id == stripe_id)).one_or_none()


def test_customers_cards_subscriptions_invoices_reach_the_cache(connected_pair):
    (acme_id, acme), (beta_id, beta) = connected_pair
    price = create_price(acme, amount=2500, name="Rocket fuel")
    first, card = create_paying_customer(acme, "Ada@Example.com", "Ada One")
    second, _ = create_paying_customer(acme, "ada@example.com", "Ada Two")
    subscription = acme.v1.subscriptions.create(
        params={"customer": first.id, "items": [{"price": price.id, "quantity": 2}]}
    )

    def synced():
        customers = db.session.scalars(
            select(CachedCustomer).where(CachedCustomer.email_normalized == "ada@example.com")
        ).all()
        sub = one(CachedSubscription, subscription.id)
        items = db.session.scalars(select(CachedSubscriptionItem)).all()
        invoices = db.session.scalars(
            select(CachedInvoice).where(CachedInvoice.customer_id == first.id)
        ).all()
        pm = one(CachedPaymentMethod, card.id)
        ready = len(customers) == 2 and sub and items and invoices and pm
        return (customers, sub, items, invoices, pm) if ready else None

    customers, sub, items, invoices, pm = wait_for(acme_id, synced, what="acme cache")
    assert {c.stripe_id for c in customers} == {first.id, second.id}
    assert sub.status == "active" and sub.customer_id == first.id
    assert sub.current_period_end is not None
    assert [(i.price_id, i.quantity) for i in items] == [(price.id, 2)]
    assert items[0].current_period_end == sub.current_period_end
    assert invoices[0].total == 5000 and invoices[0].status == "paid"
    # No one has looked at the next charge: its preview is read when the customer signs in.
    assert refresh_next_charges.apply(args=[acme_id, [first.id]]).get() == 1
    with tenant_context(acme_id):
        upcoming = one(UpcomingInvoice, subscription.id)
        assert upcoming.amount_due == 5000 and upcoming.next_payment_at is not None
    assert (pm.brand, pm.last4, pm.customer_id) == ("visa", "4242", first.id)
    with tenant_context(acme_id):
        assert one(CachedPrice, price.id).unit_amount == 2500

    # Nothing of acme's reached beta, whose account has data of its own.
    create_paying_customer(beta, "ada@example.com", "Beta Ada")
    wait_for(beta_id, lambda: db.session.scalar(select(func.count(CachedCustomer.id))) == 1)
    with tenant_context(beta_id):
        assert db.session.scalar(select(func.count(CachedSubscription.id))) == 0
        assert db.session.scalar(select(CachedCustomer.name)) == "Beta Ada"


def test_cancel_at_period_end_reactivate_and_delete(connected_pair):
    (acme_id, acme), _ = connected_pair
    price = create_price(acme)
    customer, _ = create_paying_customer(acme, "grace@example.com")
    subscription = acme.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )
    wait_for(acme_id, lambda: one(CachedSubscription, subscription.id), what="subscription")
    refresh_next_charges.apply(args=[acme_id, [customer.id]])  # the customer signed in
    with tenant_context(acme_id):
        assert one(UpcomingInvoice, subscription.id) is not None

    acme.v1.subscriptions.update(subscription.id, params={"cancel_at_period_end": True})
    sub = wait_for(
        acme_id,
        lambda: (s := one(CachedSubscription, subscription.id)) and s.cancel_at_period_end and s,
        what="cancel at period end",
    )
    assert sub.status == "active"
    with tenant_context(acme_id):
        assert one(UpcomingInvoice, subscription.id) is None  # no next charge once cancelling

    acme.v1.subscriptions.update(subscription.id, params={"cancel_at_period_end": False})
    wait_for(
        acme_id,
        lambda: (s := one(CachedSubscription, subscription.id)) and not s.cancel_at_period_end,
        what="reactivated",
    )
    # The preview went with the cancellation; the next sign-in reads it again.
    refresh_next_charges.apply(args=[acme_id, [customer.id]])
    with tenant_context(acme_id):
        assert one(UpcomingInvoice, subscription.id).amount_due == 1500

    acme.v1.customers.delete(customer.id)
    wait_for(acme_id, lambda: (c := one(CachedCustomer, customer.id)) and c.deleted, what="deleted")
    with tenant_context(acme_id):
        failed = db.session.scalar(
            select(func.count(StripeEvent.id)).where(StripeEvent.status == EventStatus.FAILED)
        )
        assert failed == 0
