"""Portal fixtures: a merchant whose emulated Stripe account has customers, cards, invoices."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import stripe

from app.billing.backfill import backfill
from app.demo.stripe_data import (
    create_paying_customer,
    create_price,
    open_invoice,
    pay_by_bank_debit,
)
from app.extensions import limiter
from tenants.context import tenant_context
from tenants.stripe_client import stripe_client_for
from tests.conftest import PLATFORM_STRIPE_KEY
from tests.support.stripe_helpers import merchant_client, new_account_id


@pytest.fixture(autouse=True)
def fresh_limits_and_mailbox(request, app):
    """Each test starts with empty rate-limit counters (in Redis) and, if it reads mail, an
    empty SMTP sink (a test that sends none does not start one)."""
    with app.app_context():
        limiter.reset()
    if "smtp_sink" in request.fixturenames:
        request.getfixturevalue("smtp_sink").clear()


@dataclass
class Merchant:
    tenant: object
    stripe: stripe.StripeClient
    ada_first: object  # customer with a subscription (ada@example.com)
    ada_second: object  # second customer with the same email, with an open invoice
    subscription: object
    open_invoice: object
    price: object


def euro_invoice_paid_by_debit(merchant, iban: str):
    """Ada's workshop pays by SEPA debit from `iban`; a new €25.00 invoice of hers is cached."""
    pay_by_bank_debit(merchant.stripe, merchant.ada_second.id, iban)
    invoice = open_invoice(merchant.stripe, merchant.ada_second.id, 2500, currency="eur")
    with tenant_context(merchant.tenant.id):
        backfill(stripe_client_for(merchant.tenant))
    return invoice


def build_merchant(make_tenant, stripe_emulator, subdomain: str = "acme", **tenant_fields):
    account = new_account_id()
    tenant = make_tenant(subdomain, name=tenant_fields.pop("name", "Acme Rockets"),
                         stripe_account=account, support_email="billing@acme.test",
                         **tenant_fields)  # fmt: skip
    client = merchant_client(stripe_emulator.url, PLATFORM_STRIPE_KEY, account)
    price = create_price(client, amount=2500, name="Rocket fuel")
    first, _ = create_paying_customer(client, "Ada@Example.com", "Ada Lovelace")
    second, _ = create_paying_customer(client, "ada@example.com", "Ada's workshop")
    create_paying_customer(client, "grace@example.com", "Grace Hopper")
    subscription = client.v1.subscriptions.create(
        params={"customer": first.id, "items": [{"price": price.id, "quantity": 2}]}
    )
    invoice = open_invoice(client, second.id)
    with tenant_context(tenant.id):
        backfill(stripe_client_for(tenant))
    return Merchant(tenant, client, first, second, subscription, invoice, price)


@pytest.fixture
def merchant(db_session, make_tenant, stripe_emulator, smtp_sink):
    """Acme Rockets with its Stripe account's customers in the cache: they get emails."""
    return build_merchant(make_tenant, stripe_emulator)


@pytest.fixture
def portal(client_for, merchant):
    return client_for(merchant.tenant.subdomain)


@pytest.fixture
def acme(db_session, make_tenant):
    """Acme Rockets as build_merchant names it, and nothing at Stripe or in its cache: for
    pages and forms that read no billing data (no emulator, no backfill)."""
    return make_tenant(
        "acme", name="Acme Rockets", stripe_account=new_account_id(),
        support_email="billing@acme.test",
    )  # fmt: skip


@pytest.fixture
def acme_portal(client_for, acme):
    return client_for(acme.subdomain)
