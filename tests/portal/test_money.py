"""Amounts as the customer's currency writes them: Stripe's minor units, read the right way."""

from __future__ import annotations

import pytest

from app.billing.backfill import backfill
from app.demo.stripe_data import create_paying_customer
from app.portal.formatting import money
from tenants.context import tenant_context
from tenants.stripe_client import stripe_client_for
from tests.support.cached_rows import cache, invoice
from tests.support.portal_client import sign_in

NBSP = "\xa0"


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (5000, "usd", "$50.00"),
        (-500, "usd", "-$5.00"),
        (2500, "eur", "€25.00"),
        (1500, "jpy", "¥1,500"),  # zero-decimal: 1500 is ¥1,500
        (12500, "kwd", f"KWD{NBSP}12.500"),  # three-decimal: 12500 is 12.500 KWD
        (1000, "bhd", f"BHD{NBSP}1.000"),
        (7250, "jod", f"JOD{NBSP}7.250"),
        (50000, "isk", f"ISK{NBSP}500"),  # Stripe: two-decimal for ISK, always ending 00
        (1234500, "huf", f"HUF{NBSP}12,345"),  # Stripe: two-decimal; HUF is written whole
        (1234550, "huf", f"HUF{NBSP}12,345.50"),  # ...unless a charge has fillér
        (99900, "twd", "NT$999.00"),
        (5000, "ugx", f"UGX{NBSP}5,000"),  # zero-decimal at Stripe
        (12345, "IDR", f"IDR{NBSP}123.45"),  # two-decimal at Stripe whatever the locale says
    ],
)
def test_amounts_use_stripes_minor_units_for_each_currency(amount, currency, shown):
    """Stripe amounts are integers in the currency's minor unit: zero-decimal currencies
    (JPY, UGX...) have none, three-decimal ones (BHD, JOD, KWD, OMR, TND) have thousandths,
    ISK is sent as two-decimal with 00, HUF and TWD are two-decimal for charges.
    https://docs.stripe.com/currencies (Zero-decimal, Three-decimal, Special cases)"""
    assert money(amount, currency) == shown


def test_a_three_decimal_invoice_is_shown_at_its_real_amount(portal, merchant, smtp_sink):
    """12500 in KWD is 12.500 KWD, not 125.00. https://docs.stripe.com/currencies#three-decimal"""
    cache(merchant.tenant.id, invoice(merchant.ada_first.id, total=12500, currency="kwd"))
    sign_in(portal, smtp_sink, "ada@example.com")

    html = portal.get("/account").text

    assert f"KWD{NBSP}12.500" in html
    assert "125.00" not in html


def test_a_kuwaiti_dinar_subscription_from_stripe_shows_its_price_and_invoice(
    portal, merchant, smtp_sink
):
    """Through the emulator: a 12.500 KWD monthly plan is 12500 in Stripe's amounts.
    https://docs.stripe.com/currencies#three-decimal"""
    customer, _ = create_paying_customer(merchant.stripe, "ada@example.com", "Ada in Kuwait")
    price = merchant.stripe.v1.prices.create(
        params={
            "currency": "kwd",
            "unit_amount": 12500,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Dinar plan"},
        }
    )
    merchant.stripe.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )
    with tenant_context(merchant.tenant.id):
        backfill(stripe_client_for(merchant.tenant))
    sign_in(portal, smtp_sink, "ada@example.com")

    html = portal.get("/account").text

    assert html.count(f"KWD{NBSP}12.500") >= 2  # the price and the paid invoice
    assert "125.00" not in html
