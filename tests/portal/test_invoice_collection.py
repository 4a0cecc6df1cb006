"""A subscription billed by invoice (collection_method=send_invoice): Stripe emails each
invoice, due days later, and charges no card. The page says so instead of promising a charge
to a card, and an open invoice says when it is due, or since when it is overdue.
https://docs.stripe.com/billing/collection-method"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from app.billing.backfill import backfill
from app.billing.models import CachedInvoice
from app.extensions import db
from tenants.context import tenant_context
from tenants.stripe_client import stripe_client_for
from tests.portal.test_price_lines import card_text
from tests.support.portal_client import sign_in


@pytest.fixture
def invoiced(merchant):
    """Ada's firm, billed by invoice with 30 days to pay, in the cache."""
    client = merchant.stripe
    customer = client.v1.customers.create(params={"email": "ada@example.com", "name": "Ada Ltd"})
    product = client.v1.products.create(params={"name": "Observatory lease"})
    price = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 90000, "recurring": {"interval": "month"},
                "product": product.id}
    )  # fmt: skip
    sub = client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}],
                "collection_method": "send_invoice", "days_until_due": 30}
    )  # fmt: skip
    with tenant_context(merchant.tenant.id):
        backfill(stripe_client_for(merchant.tenant))
    return customer, sub


def test_an_invoiced_subscription_promises_an_invoice_not_a_card_charge(
    portal, merchant, invoiced, smtp_sink
):
    sign_in(portal, smtp_sink, "ada@example.com")
    card = card_text(portal.get("/account").text, "Observatory lease")

    assert "Next invoice" in card and "Next payment" not in card
    assert "sent to you by email and due 30 days later" in card
    assert "Paid by" in card and "no card is charged for it" in card
    assert "Charged to" not in card and "No card set for renewals" not in card


def test_an_open_invoice_says_when_it_is_due_and_then_that_it_is_overdue(
    portal, merchant, invoiced, smtp_sink
):
    _, sub = invoiced
    sign_in(portal, smtp_sink, "ada@example.com")
    due = (datetime.now(UTC) + timedelta(days=30)).strftime("%b %-d, %Y")
    page = portal.get("/invoices").text
    assert f"Due {due}" in page
    assert "Pay $900.00" in page  # the customer may pay it here

    with tenant_context(merchant.tenant.id):
        db.session.execute(
            update(CachedInvoice)
            .where(CachedInvoice.stripe_id == sub.latest_invoice)
            .values(due_date=datetime.now(UTC) - timedelta(days=2))
        )
        db.session.commit()
    overdue = (datetime.now(UTC) - timedelta(days=2)).strftime("%b %-d, %Y")
    assert f"Overdue since {overdue}" in portal.get("/invoices").text
