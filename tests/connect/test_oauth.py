"""Connecting through Stripe Connect or Billfold's Stripe App, against the emulator over HTTP."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.stripe_connection import oauth
from app.stripe_connection.errors import ConnectionRefused
from tenants.app_tokens import StripeAppTokens
from tenants.context import tenant_context
from tenants.models import ConnectionMethod, StripeConnectionStatus, Tenant
from tenants.stripe_client import stripe_client_for, stripe_request_count
from tests.connect.conftest import REDIRECT, SESSION, consent


def connect(flow, tenant, *, decision="allow", account="", session=SESSION):
    url = oauth.authorize_url(flow, tenant, SESSION, REDIRECT)
    args = consent(url, decision=decision, account=account)
    return oauth.connect_with_callback(flow, tenant, args, session), args


def app_tokens(tenant_id):
    with tenant_context(tenant_id):
        return db.session.scalars(db.select(StripeAppTokens)).one_or_none()


def test_authorize_urls_name_the_client_redirect_and_a_state(db_session, make_tenant, app):
    tenant = make_tenant()
    connect_url = oauth.authorize_url(oauth.CONNECT, tenant, SESSION, REDIRECT)
    app_url = oauth.authorize_url(oauth.STRIPE_APP, tenant, SESSION, REDIRECT)
    base = app.config["STRIPE_API_BASE"]
    assert connect_url.startswith(f"{base}/oauth/authorize?response_type=code&scope=read_write")
    assert "client_id=ca_billfold_connect_test" in connect_url
    assert app_url.startswith(f"{base}/oauth/v2/authorize?client_id=ca_billfold_app_test")
    assert "state=" in app_url and "redirect_uri=http" in app_url


def test_stripe_app_connects_with_encrypted_tokens_and_a_backfill_has_data(db_session, make_tenant):
    tenant = make_tenant()
    before = stripe_request_count()
    account, _args = connect(oauth.STRIPE_APP, tenant)
    # The code swapped for tokens, and the account read once for its timezone.
    assert stripe_request_count() - before == 2
    assert tenant.timezone == "Etc/UTC"  # what the emulator's accounts report by default
    assert tenant.stripe_status == StripeConnectionStatus.CONNECTED
    assert tenant.stripe_connection_method == ConnectionMethod.STRIPE_APP
    assert tenant.stripe_account_id == account
    tokens = app_tokens(tenant.id)
    with tenant_context(tenant.id):  # raw SQL: row-level security still wants the tenant
        raw = db.session.execute(
            db.text("SELECT access_token, refresh_token FROM stripe_app_tokens")
        ).one()
    assert tokens.access_token.startswith("sk_test_oauth_")
    assert tokens.access_token not in raw.access_token and tokens.refresh_token not in raw[1]
    client = stripe_client_for(tenant)
    assert len(client.v1.customers.list().data) == 2  # the seeded account, reached by the token


def test_connect_oauth_stores_the_account_only(db_session, make_tenant):
    tenant = make_tenant()
    account, args = connect(oauth.CONNECT, tenant)
    assert args["scope"] == "read_write"
    assert tenant.stripe_connection_method == ConnectionMethod.CONNECT
    assert Tenant.by_stripe_account(account).id == tenant.id
    assert app_tokens(tenant.id) is None
    assert len(stripe_client_for(tenant).v1.subscriptions.list().data) == 1


@pytest.mark.parametrize("flow", [oauth.CONNECT, oauth.STRIPE_APP])
def test_deny_leaves_the_tenant_unchanged(db_session, make_tenant, flow):
    tenant = make_tenant()
    with pytest.raises(ConnectionRefused) as refused:
        connect(flow, tenant, decision="deny")
    assert refused.value.message == oauth.DENIED
    assert tenant.stripe_status == StripeConnectionStatus.NOT_CONNECTED


def test_state_is_single_use_and_bound_to_the_session_and_tenant(db_session, make_tenant):
    tenant, other = make_tenant(), make_tenant()
    url = oauth.authorize_url(oauth.STRIPE_APP, tenant, SESSION, REDIRECT)
    args = consent(url)
    for who, session in ((tenant, "another-browser"), (other, SESSION)):
        with pytest.raises(ConnectionRefused) as refused:
            oauth.connect_with_callback(oauth.STRIPE_APP, who, args, session)
        assert refused.value.message == oauth.EXPIRED_STATE
    with pytest.raises(ConnectionRefused):  # the Connect flow's callback refuses an App state
        oauth.connect_with_callback(oauth.CONNECT, tenant, args, SESSION)
    oauth.connect_with_callback(oauth.STRIPE_APP, tenant, args, SESSION)
    with pytest.raises(ConnectionRefused) as replayed:
        oauth.connect_with_callback(oauth.STRIPE_APP, tenant, args, SESSION)
    assert replayed.value.message == oauth.EXPIRED_STATE


def test_same_account_on_a_second_tenant_is_refused(db_session, make_tenant):
    first, second = make_tenant(), make_tenant()
    account, _ = connect(oauth.CONNECT, first)
    for flow in (oauth.CONNECT, oauth.STRIPE_APP):
        with pytest.raises(ConnectionRefused) as refused:
            connect(flow, second, account=account)
        assert "already connected to another Billfold account" in refused.value.message
    assert second.stripe_status == StripeConnectionStatus.NOT_CONNECTED
    assert app_tokens(second.id) is None


def test_token_endpoint_down_or_garbage_leaves_the_tenant_unchanged(
    db_session, make_tenant, stripe_emulator, app, monkeypatch
):
    tenant = make_tenant()
    stripe_emulator.answer_garbage(1)
    with pytest.raises(ConnectionRefused) as garbage:
        connect(oauth.STRIPE_APP, tenant)
    assert "could not understand" in garbage.value.message

    stripe_emulator.add_fault("token-down", status=503, path="/v1/oauth/token")
    try:
        with pytest.raises(ConnectionRefused):
            connect(oauth.STRIPE_APP, tenant)
    finally:
        stripe_emulator.remove_fault("token-down")

    monkeypatch.setitem(app.config, "STRIPE_CONNECT_OAUTH_BASE", "http://127.0.0.1:9")
    url = oauth.authorize_url(oauth.CONNECT, tenant, SESSION, REDIRECT)
    # The consent page is the emulator's; only the token endpoint is unreachable.
    url = url.replace("http://127.0.0.1:9", app.config["STRIPE_API_BASE"])
    args = consent(url)
    with pytest.raises(ConnectionRefused) as down:
        oauth.connect_with_callback(oauth.CONNECT, tenant, args, SESSION)
    assert "could not be reached" in down.value.message
    assert tenant.stripe_status == StripeConnectionStatus.NOT_CONNECTED
    assert tenant.stripe_account_id is None and app_tokens(tenant.id) is None
