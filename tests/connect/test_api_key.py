"""Connecting by a pasted restricted key, checked against the emulator before anything is saved."""

from __future__ import annotations

import pytest

from app.stripe_connection.api_key import NEEDED, connect_with_api_key, save_webhook_secret
from app.stripe_connection.errors import ConnectionRefused
from app.stripe_connection.webhook_endpoint import EVENTS
from tenants.models import ConnectionMethod, StripeConnectionStatus
from tenants.stripe_client import stripe_client_for, stripe_request_count
from tests.support.stripe_helpers import new_account_id

ALL = [
    "customer_write",
    "subscription_write",
    "subscription_schedule_write",
    "invoice_write",
    "payment_method_read",
    "setup_intent_write",
    "product_read",
    "price_read",
    "event_read",
]


def refused(tenant, key, secret=None) -> str:
    before = stripe_request_count()
    with pytest.raises(ConnectionRefused) as error:
        connect_with_api_key(tenant, key, secret)
    assert tenant.stripe_status == StripeConnectionStatus.NOT_CONNECTED
    assert tenant.stripe_api_key is None
    refused.requests = stripe_request_count() - before
    return error.value.message


def test_key_with_every_permission_connects_and_creates_the_webhook_endpoint(
    db_session, make_tenant, stripe_emulator
):
    tenant = make_tenant()
    account = new_account_id()
    key = stripe_emulator.create_key(account, [*ALL, "webhook_endpoint_write"])
    before = stripe_request_count()
    connected = connect_with_api_key(tenant, key)
    # The account, one probe per permission, the endpoint.
    assert stripe_request_count() - before == 1 + len(NEEDED) + 1
    assert connected.account_id == account and connected.key_last4 == key[-4:]
    assert connected.webhook.created and connected.webhook.events == EVENTS
    assert tenant.stripe_connection_method == ConnectionMethod.API_KEY
    assert tenant.stripe_api_key_last4 == key[-4:]
    assert tenant.stripe_webhook_secret.startswith("whsec_")
    assert tenant.stripe_created_webhook_endpoint.startswith("we_")
    endpoints = stripe_client_for(tenant).v1.webhook_endpoints.list().data
    assert [e.url for e in endpoints] == [connected.webhook.url]
    assert connected.webhook.url.endswith(f"/webhooks/stripe/{tenant.webhook_endpoint_id}")


def test_key_without_webhook_permission_gets_the_address_and_takes_a_pasted_secret(
    db_session, make_tenant, stripe_emulator
):
    tenant = make_tenant()
    connected = connect_with_api_key(tenant, stripe_emulator.create_key(new_account_id(), ALL))
    assert not connected.webhook.created
    assert "customer.subscription.updated" in connected.webhook.events
    assert tenant.stripe_webhook_secret is None and tenant.stripe_created_webhook_endpoint is None
    with pytest.raises(ConnectionRefused):
        save_webhook_secret(tenant, "not-a-secret")
    save_webhook_secret(tenant, "whsec_pasted_by_the_merchant")
    assert tenant.stripe_webhook_secret == "whsec_pasted_by_the_merchant"


def test_each_missing_permission_is_named(db_session, make_tenant, stripe_emulator):
    tenant = make_tenant()
    lacking = [p for p in ALL if p not in ("invoice_write", "event_read")] + ["invoice_read"]
    message = refused(tenant, stripe_emulator.create_key(new_account_id(), lacking))
    assert "Invoices: Write" in message and "Events: Read" in message
    assert "Customers" not in message


def test_wrong_keys_are_refused_in_plain_words(db_session, make_tenant, stripe_emulator):
    tenant = make_tenant()
    assert "publishable key" in refused(tenant, "pk_test_1234567890abcdef")
    assert "secret key with full access" in refused(tenant, "sk_test_1234567890abcdef")
    assert "does not look like" in refused(tenant, "hello")
    assert refused.requests == 0
    assert "live key" in refused(tenant, "rk_live_1234567890abcdef")  # platform in test mode
    assert refused.requests == 0
    assert "does not recognise" in refused(tenant, "rk_test_neverissuedbystripe")
    assert refused.requests == 1


def test_a_key_or_account_of_another_tenant_is_refused(db_session, make_tenant, stripe_emulator):
    first, second = make_tenant(), make_tenant()
    account = new_account_id()
    key = stripe_emulator.create_key(account, ALL)
    connect_with_api_key(first, key)
    assert "already used by another" in refused(second, key)
    assert refused.requests == 0
    other_key = stripe_emulator.create_key(account, ALL)
    assert "already connected to another" in refused(second, other_key)


def test_stripe_unreachable_saves_nothing(db_session, make_tenant, stripe_emulator):
    tenant = make_tenant()
    key = stripe_emulator.create_key(new_account_id(), ALL)
    stripe_emulator.add_fault("probe-down", status=503, path="/v1/events")
    try:
        assert "nothing was changed" in refused(tenant, key)
    finally:
        stripe_emulator.remove_fault("probe-down")
