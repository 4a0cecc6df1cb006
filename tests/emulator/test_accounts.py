"""Data kept apart per Stripe-Account, `account` on events, account endpoints."""

from __future__ import annotations

import pytest
import stripe


def test_connected_accounts_see_only_their_own_objects(
    stripe_client, connected_client, new_account_id
):
    tenant_a, tenant_b = connected_client(new_account_id()), connected_client(new_account_id())
    customer_a = tenant_a.v1.customers.create(params={"email": "a@tenant.example"})
    customer_b = tenant_b.v1.customers.create(params={"email": "b@tenant.example"})
    platform_customer = stripe_client.v1.customers.create(params={"email": "p@platform.example"})

    assert tenant_a.v1.customers.retrieve(customer_a.id).id == customer_a.id
    assert [c.id for c in tenant_a.v1.customers.list().data] == [customer_a.id]
    assert [c.id for c in tenant_b.v1.customers.list().data] == [customer_b.id]
    for outsider, foreign_id in (
        (tenant_b, customer_a.id),
        (tenant_a, platform_customer.id),
        (stripe_client, customer_a.id),
    ):
        with pytest.raises(stripe.InvalidRequestError) as missing:
            outsider.v1.customers.retrieve(foreign_id)
        assert missing.value.http_status == 404
        assert missing.value.code == "resource_missing"


def test_search_and_prices_stay_within_the_account(connected_client, new_account_id):
    tenant_a, tenant_b = connected_client(new_account_id()), connected_client(new_account_id())
    tenant_a.v1.customers.create(params={"email": "same@shared.example"})
    price = tenant_a.v1.prices.create(
        params={"currency": "usd", "unit_amount": 100, "product_data": {"name": "A only"}}
    )

    found = tenant_b.v1.customers.search(params={"query": "email:'same@shared.example'"})
    assert found.data == []
    assert tenant_b.v1.prices.list().data == []
    assert [p.id for p in tenant_a.v1.prices.list().data] == [price.id]


def test_events_carry_the_connected_account(stripe_client, connected_client, new_account_id):
    account = new_account_id()
    tenant = connected_client(account)
    tenant_customer = tenant.v1.customers.create(params={"email": "evt@tenant.example"})
    platform_customer = stripe_client.v1.customers.create(params={"email": "evt@platform.example"})

    tenant_events = tenant.v1.events.list(params={"type": "customer.created"}).data
    assert [e.data.object.id for e in tenant_events] == [tenant_customer.id]
    assert tenant_events[0].account == account

    platform_events = [
        e.to_dict()
        for e in stripe_client.v1.events.list(params={"type": "customer.created", "limit": 100})
    ]
    mine = [e for e in platform_events if e["data"]["object"]["id"] == platform_customer.id]
    assert len(mine) == 1
    assert "account" not in mine[0]
    assert all(e["data"]["object"]["id"] != tenant_customer.id for e in platform_events)


def test_account_endpoints(stripe_client, connected_client, new_account_id):
    account = new_account_id()

    retrieved = stripe_client.v1.accounts.retrieve(account)
    assert (retrieved.id, retrieved.object) == (account, "account")
    assert retrieved.charges_enabled is True

    assert connected_client(account).v1.accounts.retrieve_current().id == account
    platform = stripe_client.v1.accounts.retrieve_current()
    assert platform.id.startswith("acct_") and platform.id != account

    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.accounts.retrieve("cus_not_an_account")


def test_malformed_stripe_account_header_is_refused(connected_client):
    with pytest.raises(stripe.InvalidRequestError, match="Stripe-Account"):
        connected_client("tenant-42").v1.customers.list()


def test_an_account_reports_the_country_and_timezone_its_owner_chose(
    stripe_emulator, connected_client, new_account_id
):
    """https://docs.stripe.com/api/accounts/object (country, settings.dashboard.timezone)."""
    account = new_account_id()
    assert connected_client(account).v1.accounts.retrieve_current().country == "US"

    stripe_emulator.set_account_settings(account, country="NZ", timezone="Pacific/Auckland")

    read = connected_client(account).v1.accounts.retrieve_current()
    assert (read.country, read.settings.dashboard.timezone) == ("NZ", "Pacific/Auckland")
