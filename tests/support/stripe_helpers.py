"""Helpers to act on the Stripe emulator as a merchant would, and to wait for the cache."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import stripe

from app.extensions import db
from tenants.context import tenant_context

TEST_CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}


def new_account_id() -> str:
    return "acct_" + uuid.uuid4().hex[:16]


def merchant_client(emulator_url: str, platform_key: str, account: str) -> stripe.StripeClient:
    """What the merchant's own dashboard does to its account, through the platform's key."""
    return stripe.StripeClient(
        platform_key, stripe_account=account, base_addresses={"api": emulator_url}
    )


def create_price(client, amount=1500, interval="month", name="Pro plan"):
    return client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": amount,
            "recurring": {"interval": interval},
            "product_data": {"name": name},
        }
    )


def create_paying_customer(client, email: str, name: str | None = None):
    customer = client.v1.customers.create(params={"email": email, "name": name or email})
    method = client.v1.payment_methods.create(params={"type": "card", "card": dict(TEST_CARD)})
    client.v1.payment_methods.attach(method.id, params={"customer": customer.id})
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": method.id}}
    )
    return customer, method


def pay_by_bank_debit(client, customer_id: str, iban: str):
    """Make a SEPA debit from `iban` the customer's default (Stripe's test IBANs: see
    stripe_emulator/bank_debits.py for which settle and which fail)."""
    method = client.v1.payment_methods.create(
        params={"type": "sepa_debit", "sepa_debit": {"iban": iban}}
    )
    client.v1.payment_methods.attach(method.id, params={"customer": customer_id})
    client.v1.customers.update(
        customer_id, params={"invoice_settings": {"default_payment_method": method.id}}
    )
    return method


def wait_for(tenant_id: int, check: Callable[[], object], timeout: float = 20.0, what: str = ""):
    """Poll `check` (run as the tenant, on a fresh session) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        db.session.remove()
        with tenant_context(tenant_id):
            last = check()
            if last:
                return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or check}: last={last!r}")
