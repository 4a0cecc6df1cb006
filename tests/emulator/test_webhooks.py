"""Signed deliveries, Connect vs platform routing, no delay."""

from __future__ import annotations

import time

import pytest
import stripe

PLATFORM_SECRET = "whsec_platform_test"
CONNECT_SECRET = "whsec_connect_test"


def test_platform_and_connect_endpoints_get_their_own_events(
    stripe_client, connected_client, new_account_id, webhook_endpoint
):
    platform = webhook_endpoint(PLATFORM_SECRET)
    connect = webhook_endpoint(CONNECT_SECRET, connect=True)
    account = new_account_id()

    platform_customer = stripe_client.v1.customers.create(params={"email": "hook@platform.io"})
    tenant_customer = connected_client(account).v1.customers.create(
        params={"email": "hook@tenant.io"}
    )

    def about(customer_id):
        return lambda e: e.type == "customer.created" and e.data.object.id == customer_id

    platform_event = platform.wait_for(PLATFORM_SECRET, about(platform_customer.id))
    connect_event = connect.wait_for(CONNECT_SECRET, about(tenant_customer.id))
    assert "account" not in platform_event
    assert connect_event.account == account

    # Give any misrouted delivery time to arrive, then check nothing crossed over.
    stripe_client.v1.customers.create(params={"email": "marker@platform.io"})
    platform.wait_for(PLATFORM_SECRET, lambda e: e.data.object.email == "marker@platform.io")
    assert all("account" not in e for e in platform.events(PLATFORM_SECRET))
    assert all(e.account == account for e in connect.events(CONNECT_SECRET))


def test_deliveries_are_signed_for_their_endpoint(stripe_client, webhook_endpoint):
    receiver = webhook_endpoint(PLATFORM_SECRET)
    customer = stripe_client.v1.customers.create(params={"email": "signed@platform.io"})
    receiver.wait_for(PLATFORM_SECRET, lambda e: e.data.object.id == customer.id)

    signature, body = receiver.deliveries[0]
    assert signature.startswith("t=") and ",v1=" in signature
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, signature, "whsec_someone_else")


def test_events_filter_and_no_fixed_delay(
    stripe_client, paying_customer, monthly_price, webhook_endpoint
):
    wanted = ["customer.subscription.updated"]
    receiver = webhook_endpoint(PLATFORM_SECRET, events=wanted)
    customer, _ = paying_customer(stripe_client)
    subscription = stripe_client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": monthly_price(stripe_client).id}]}
    )

    started = time.monotonic()
    stripe_client.v1.subscriptions.update(subscription.id, params={"cancel_at_period_end": True})
    event = receiver.wait_for(PLATFORM_SECRET, lambda e: e.data.object.id == subscription.id)

    assert time.monotonic() - started < 0.9  # localstripe slept 1 s before every delivery
    assert event.data.previous_attributes.cancel_at_period_end is False
    assert {e.type for e in receiver.events(PLATFORM_SECRET)} == set(wanted)


def test_connected_subscription_events_reach_connect_endpoint(
    connected_client, new_account_id, paying_customer, monthly_price, webhook_endpoint
):
    receiver = webhook_endpoint(CONNECT_SECRET, connect=True)
    account = new_account_id()
    tenant = connected_client(account)
    customer, _ = paying_customer(tenant)
    subscription = tenant.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": monthly_price(tenant).id}]}
    )
    tenant.v1.subscriptions.update(subscription.id, params={"cancel_at_period_end": True})

    event = receiver.wait_for(
        CONNECT_SECRET,
        lambda e: e.type == "customer.subscription.updated" and e.data.object.id == subscription.id,
    )
    assert event.account == account
    paid = receiver.wait_for(CONNECT_SECRET, lambda e: e.type == "invoice.paid")
    assert paid.data.object.id == subscription.latest_invoice


def test_unregistered_endpoint_gets_nothing_more(stripe_emulator, stripe_client, webhook_endpoint):
    receiver = webhook_endpoint(PLATFORM_SECRET)
    marker = webhook_endpoint(PLATFORM_SECRET)  # tells us when a later delivery happened
    first = stripe_client.v1.customers.create(params={"email": "before@platform.io"})
    receiver.wait_for(PLATFORM_SECRET, lambda e: e.data.object.id == first.id)

    stripe_emulator.unregister_webhook(receiver.endpoint_id)
    receiver.endpoint_id = None
    delivered = len(receiver.deliveries)
    later = stripe_client.v1.customers.create(params={"email": "after@platform.io"})
    marker.wait_for(PLATFORM_SECRET, lambda e: e.data.object.id == later.id)

    assert len(receiver.deliveries) == delivered
