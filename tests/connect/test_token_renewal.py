"""A Stripe App's access token is renewed under every Stripe call of its tenant."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.clock import utcnow
from app.extensions import db
from app.stripe_connection import oauth
from tenants.app_token_renewal import REFUSED_REASON, AppAccessRefused, renew_app_tokens
from tenants.app_tokens import StripeAppTokens
from tenants.context import tenant_context
from tenants.models import StripeConnectionStatus, Tenant
from tenants.stripe_client import refresh_app_token, stripe_client_for, stripe_request_count
from tests.connect.conftest import REDIRECT, SESSION, consent


@pytest.fixture
def app_tenant(committed, make_tenant):
    """A tenant connected through the Stripe App, committed (renewals commit on their own)."""
    tenant = make_tenant()
    args = consent(oauth.authorize_url(oauth.STRIPE_APP, tenant, SESSION, REDIRECT))
    oauth.connect_with_callback(oauth.STRIPE_APP, tenant, args, SESSION)
    db.session.commit()
    return tenant


def tokens_of(tenant_id: int) -> StripeAppTokens | None:
    db.session.expire_all()
    with tenant_context(tenant_id):
        return db.session.scalars(db.select(StripeAppTokens)).one_or_none()


def test_token_known_expired_is_renewed_before_the_call(app_tenant, stripe_emulator):
    old = tokens_of(app_tenant.id)
    stale_access, stale_refresh = old.access_token, old.refresh_token
    with tenant_context(app_tenant.id):
        old.access_token_expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    stripe_emulator.expire_key(stale_access)  # sent anyway, it would cost a 401 and a retry

    before = stripe_request_count()
    customers = stripe_client_for(db.session.get(Tenant, app_tenant.id)).v1.customers.list()
    assert len(customers.data) == 2
    assert stripe_request_count() - before == 2  # the renewal, then the call itself
    renewed = tokens_of(app_tenant.id)
    assert renewed.access_token != stale_access and renewed.refresh_token != stale_refresh
    assert renewed.access_token_expires_at > utcnow() + timedelta(minutes=59)


def test_401_renews_once_and_the_call_succeeds(app_tenant, stripe_emulator):
    stale = tokens_of(app_tenant.id).access_token
    stripe_emulator.expire_key(stale)  # expired at Stripe sooner than we knew

    client = stripe_client_for(db.session.get(Tenant, app_tenant.id))
    before = stripe_request_count()
    assert len(client.v1.subscriptions.list().data) == 1
    assert stripe_request_count() - before == 3  # 401, renewal, the call again
    assert tokens_of(app_tenant.id).access_token != stale
    before = stripe_request_count()
    client.v1.customers.list()  # the same client keeps the renewed token
    assert stripe_request_count() - before == 1


def test_refused_renewal_disconnects_the_tenant_with_a_reason(app_tenant, stripe_emulator):
    account = app_tenant.stripe_account_id
    stripe_emulator.merchant_deauthorizes(account)  # the merchant removed the app: tokens revoked

    client = stripe_client_for(db.session.get(Tenant, app_tenant.id))
    before = stripe_request_count()
    with pytest.raises(AppAccessRefused):
        client.v1.customers.list()
    assert stripe_request_count() - before == 2  # 401, refused renewal: no loop
    db.session.rollback()  # the caller's work fails; the disconnection stays
    tenant = db.session.get(Tenant, app_tenant.id)
    assert tenant.stripe_status == StripeConnectionStatus.DISCONNECTED
    assert tenant.stripe_disconnected_reason == REFUSED_REASON
    assert tokens_of(app_tenant.id) is None


def test_a_second_renewal_of_the_same_stale_token_takes_the_first_ones_result(app_tenant):
    stale = tokens_of(app_tenant.id).access_token
    before = stripe_request_count()
    first, _ = renew_app_tokens(app_tenant.id, stale, refresh_app_token)
    second, _ = renew_app_tokens(app_tenant.id, stale, refresh_app_token)
    assert first == second != stale
    assert stripe_request_count() - before == 1  # a spent refresh token is never sent again
