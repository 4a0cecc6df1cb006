"""Subscriptions with more than 10 items: Stripe embeds only the first 10 (`items.has_more`)."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.billing.backfill import backfill
from app.billing.fetch import plain_dict
from app.billing.models import CachedSubscriptionItem
from app.billing.sync import sync_object
from app.billing.upsert import apply_stripe_object
from app.demo.stripe_data import create_paying_customer, create_price
from app.extensions import db
from tenants.context import tenant_context
from tenants.models import Tenant
from tenants.stripe_client import stripe_client_for

ITEMS = 12


@pytest.fixture
def big_subscription(db_session, connect_shop):
    shop = connect_shop("acme")
    customer, _ = create_paying_customer(shop.merchant, "many@example.com")
    prices = [create_price(shop.merchant, amount=100 + n, name=f"Seat {n}") for n in range(ITEMS)]
    subscription = shop.merchant.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": p.id} for p in prices]}
    )
    return shop, subscription


def cached_items(shop, subscription_id: str) -> set[str]:
    with tenant_context(shop.tenant_id):
        return set(
            db.session.scalars(
                select(CachedSubscriptionItem.stripe_id).where(
                    CachedSubscriptionItem.subscription_id == subscription_id
                )
            )
        )


def every_item_at_stripe(shop, subscription_id: str) -> set[str]:
    listed = shop.merchant.v1.subscription_items.list(
        params={"subscription": subscription_id, "limit": 100}
    )
    return {item.id for item in listed.data}


def test_a_sync_caches_every_item_not_only_the_first_page(big_subscription):
    shop, subscription = big_subscription
    assert subscription["items"].has_more  # the emulator pages them as Stripe does
    with tenant_context(shop.tenant_id):
        client = stripe_client_for(db.session.get(Tenant, shop.tenant_id))
        sync_object(client, "subscription", subscription.id)
        db.session.flush()
    expected = every_item_at_stripe(shop, subscription.id)
    assert len(expected) == ITEMS
    assert cached_items(shop, subscription.id) == expected


def test_the_backfill_caches_every_item(big_subscription):
    shop, subscription = big_subscription
    with tenant_context(shop.tenant_id):
        backfill(stripe_client_for(db.session.get(Tenant, shop.tenant_id)))
    assert cached_items(shop, subscription.id) == every_item_at_stripe(shop, subscription.id)


def test_a_partial_item_list_never_deletes_the_items_it_leaves_out(big_subscription):
    shop, subscription = big_subscription
    with tenant_context(shop.tenant_id):
        client = stripe_client_for(db.session.get(Tenant, shop.tenant_id))
        sync_object(client, "subscription", subscription.id)
        db.session.flush()
        # What an update's response carries: the subscription with its first page of items.
        partial = plain_dict(shop.merchant.v1.subscriptions.retrieve(subscription.id))
        assert partial["items"]["has_more"] and len(partial["items"]["data"]) == 10
        apply_stripe_object(partial, datetime.now(UTC))
        db.session.flush()
    assert len(cached_items(shop, subscription.id)) == ITEMS
