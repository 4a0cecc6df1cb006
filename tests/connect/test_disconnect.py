"""Disconnecting: at Stripe first, then credentials, tokens and cached data forgotten."""

from __future__ import annotations

import pytest
import requests

from app.billing.models import CachedCustomer
from app.billing.tasks import queue_backfill
from app.extensions import db
from app.stripe_connection import oauth
from app.stripe_connection.api_key import connect_with_api_key
from app.stripe_connection.disconnect import disconnect
from app.stripe_connection.errors import ConnectionRefused
from tenants.app_tokens import StripeAppTokens
from tenants.context import tenant_context
from tenants.models import StripeConnectionStatus, Tenant
from tenants.stripe_client import StripeNotConnected, stripe_client_for
from tests.conftest import CONNECT_WEBHOOK_SECRET
from tests.connect.conftest import REDIRECT, SESSION, consent
from tests.connect.test_api_key import ALL
from tests.support.signing import encode, make_event, signature_header
from tests.support.stripe_helpers import new_account_id


def connected_by(flow, tenant):
    args = consent(oauth.authorize_url(flow, tenant, SESSION, REDIRECT))
    account = oauth.connect_with_callback(flow, tenant, args, SESSION)
    queue_backfill(tenant.id)  # as the callback's view does
    db.session.commit()  # the eager backfill runs now: the cache holds the seeded account
    return account


def cached_customers(tenant_id) -> int:
    with tenant_context(tenant_id):
        return db.session.query(CachedCustomer).count()


def test_connect_disconnect_deauthorizes_and_forgets(db_session, make_tenant, app):
    tenant = make_tenant()
    account = connected_by(oauth.CONNECT, tenant)
    assert cached_customers(tenant.id) == 2
    assert disconnect(tenant) == []
    assert tenant.stripe_status == StripeConnectionStatus.DISCONNECTED
    assert tenant.stripe_account_id is None and cached_customers(tenant.id) == 0
    with pytest.raises(StripeNotConnected):
        stripe_client_for(tenant)
    # Stripe let go too: a second deauthorization is refused there.
    again = requests.post(
        app.config["STRIPE_CONNECT_OAUTH_BASE"] + "/oauth/deauthorize",
        data={"client_id": app.config["STRIPE_CONNECT_CLIENT_ID"], "stripe_user_id": account},
        auth=(app.config["STRIPE_SECRET_KEY"], ""),
        timeout=10,
    )
    assert again.status_code == 400


def test_app_disconnect_forgets_its_tokens(db_session, make_tenant):
    tenant = make_tenant()
    connected_by(oauth.STRIPE_APP, tenant)
    [note] = disconnect(tenant)
    assert "Installed apps" in note
    with tenant_context(tenant.id):
        assert db.session.scalars(db.select(StripeAppTokens)).all() == []
    assert cached_customers(tenant.id) == 0


def test_key_disconnect_deletes_the_endpoint_billfold_created(
    db_session, make_tenant, stripe_emulator
):
    tenant = make_tenant()
    key = stripe_emulator.create_key(new_account_id(), [*ALL, "webhook_endpoint_write"])
    connect_with_api_key(tenant, key)
    merchant = stripe_client_for(tenant)
    assert len(merchant.v1.webhook_endpoints.list().data) == 1
    disconnect(tenant)
    assert merchant.v1.webhook_endpoints.list().data == []
    assert tenant.stripe_api_key is None and tenant.stripe_api_key_lookup is None


def test_disconnect_with_stripe_down_changes_nothing(db_session, make_tenant, stripe_emulator):
    tenant = make_tenant()
    key = stripe_emulator.create_key(new_account_id(), [*ALL, "webhook_endpoint_write"])
    connect_with_api_key(tenant, key)
    stripe_emulator.add_fault("endpoints-down", status=503, path="/v1/webhook_endpoints")
    try:
        with pytest.raises(ConnectionRefused):
            disconnect(tenant)
    finally:
        stripe_emulator.remove_fault("endpoints-down")
    assert tenant.stripe_status == StripeConnectionStatus.CONNECTED and tenant.stripe_api_key


def test_deauthorized_event_disconnects_and_forgets(db_session, make_tenant, client_for):
    tenant = make_tenant()
    account = connected_by(oauth.STRIPE_APP, tenant)
    event = make_event(
        "account.application.deauthorized",
        {"object": "application", "id": "ca_billfold_app_test"},
        account=account,
    )
    body = encode(event)
    answer = client_for(None).post(
        "/webhooks/stripe/connect",
        data=body,
        headers={"Stripe-Signature": signature_header(body, CONNECT_WEBHOOK_SECRET)},
        content_type="application/json",
    )
    assert answer.status_code == 200
    db.session.expire_all()
    tenant = db.session.get(Tenant, tenant.id)
    assert tenant.stripe_status == StripeConnectionStatus.DISCONNECTED
    assert "removed from Stripe" in tenant.stripe_disconnected_reason
    assert cached_customers(tenant.id) == 0
    with tenant_context(tenant.id):
        assert db.session.scalars(db.select(StripeAppTokens)).all() == []
