"""A subscription paused because its trial ended without a payment method: adding a card
resumes it. https://docs.stripe.com/billing/subscriptions/trials/free-trials and
https://docs.stripe.com/api/subscriptions/resume"""

from __future__ import annotations

import re

import pytest

from app.billing.backfill import backfill
from app.extensions import db
from tenants.context import tenant_context
from tenants.stripe_client import stripe_client_for
from tests.portal.test_price_lines import card_text
from tests.support.portal_client import sign_in


@pytest.fixture
def paused(merchant):
    """Ada's third customer (no card) whose trial ended: paused at Stripe, and in the cache."""
    client = merchant.stripe
    customer = client.v1.customers.create(params={"email": "ada@example.com", "name": "Ada's lab"})
    product = client.v1.products.create(params={"name": "Telescope time"})
    price = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 1500, "recurring": {"interval": "month"},
                "product": product.id}
    )  # fmt: skip
    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": price.id}],
            "trial_period_days": 7,
            "trial_settings": {"end_behavior": {"missing_payment_method": "pause"}},
        }
    )
    assert client.v1.subscriptions.update(sub.id, params={"trial_end": "now"}).status == "paused"
    with tenant_context(merchant.tenant.id):
        backfill(stripe_client_for(merchant.tenant))
    return customer, sub


def add_card(portal, merchant, customer_id: str):
    """The card page's journey, with Stripe.js's confirmation done through the API."""
    page = portal.get(f"/card?customer={customer_id}")
    key = re.search(r'data-action-key="([^"]+)"', page.text).group(1)
    csrf = re.search(r'data-csrf="([^"]+)"', page.text).group(1)
    secret = portal.post(
        "/card/setup-intent",
        data={"customer": customer_id, "action_key": key},
        headers={"X-CSRFToken": csrf},
    ).json["client_secret"]
    intent_id = secret.split("_secret_")[0]
    merchant.stripe.v1.setup_intents.confirm(
        intent_id,
        params={"payment_method_data": {"type": "card", "card": {
            "number": "4242424242424242", "exp_month": 4, "exp_year": 2031, "cvc": "123"}}},
    )  # fmt: skip
    return portal.post(
        "/card/confirm",
        data={"setup_intent": intent_id, "customer": customer_id, "csrf_token": csrf},
    )


def test_a_paused_trial_says_a_card_resumes_it(portal, merchant, smtp_sink, paused):
    sign_in(portal, smtp_sink, "ada@example.com")

    card = card_text(portal.get("/account").text, "Telescope time")

    assert "Paused" in card
    assert "trial ended without a card" in card
    assert "Add a card to resume" in card
    assert "Next payment" not in card and "Cancel subscription" not in card


def test_adding_a_card_sets_it_on_the_paused_subscription_and_resumes_it(
    portal, merchant, smtp_sink, paused
):
    customer, sub = paused
    sign_in(portal, smtp_sink, "ada@example.com")

    done = add_card(portal, merchant, customer.id)

    assert done.status_code == 302 and done.location.endswith("/account")
    remote = merchant.stripe.v1.subscriptions.retrieve(sub.id)
    assert remote.status == "active"
    assert remote.default_payment_method
    page = portal.get("/account").text
    assert "resumed" in page  # the flash says so
    card = card_text(page, "Telescope time")
    assert "Active" in card and "trial ended without a card" not in card


def test_without_card_updates_the_page_says_who_resumes_it(portal, merchant, smtp_sink, paused):
    merchant.tenant.allow_card_update = False
    db.session.commit()
    sign_in(portal, smtp_sink, "ada@example.com")

    card = card_text(portal.get("/account").text, "Telescope time")

    assert "Acme Rockets" in card and "Add a card to resume" not in card
