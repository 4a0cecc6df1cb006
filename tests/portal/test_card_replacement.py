"""A replaced card is the one Stripe charges next: on every subscription that will charge, and
on the invoice the customer replaced it to pay."""

import re

import pytest
from sqlalchemy import select

from app.billing.backfill import backfill
from app.billing.models import CachedInvoice, CachedSubscription
from app.demo.stripe_data import CARD_DETAILS, MASTERCARD
from app.extensions import db
from tenants.context import tenant_context
from tenants.stripe_client import stripe_client_for
from tests.portal.test_account import action, cached
from tests.support.portal_client import sign_in

DECLINES_CHARGES = "4000000000000341"  # attaches, then every charge is declined


@pytest.fixture
def ada(portal, merchant, smtp_sink):
    sign_in(portal, smtp_sink, "ada@example.com")
    return portal


def _incomplete_subscription(merchant):
    """Ada's lab subscribes with a card that declines: the subscription is `incomplete`, its
    first invoice open, and the subscription's own default_payment_method is that card."""
    lab = merchant.stripe.v1.customers.create(params={"email": "ada@example.com", "name": "Lab"})
    old = merchant.stripe.v1.payment_methods.create(
        params={"type": "card", "card": {"number": DECLINES_CHARGES, **CARD_DETAILS}}
    )
    merchant.stripe.v1.payment_methods.attach(old.id, params={"customer": lab.id})
    subscription = merchant.stripe.v1.subscriptions.create(
        params={
            "customer": lab.id,
            "items": [{"price": merchant.price.id}],
            "default_payment_method": old.id,
            "payment_behavior": "allow_incomplete",
        }
    )
    assert subscription.status == "incomplete"
    with tenant_context(merchant.tenant.id):
        backfill(stripe_client_for(merchant.tenant))
        invoice = db.session.scalars(
            select(CachedInvoice).where(CachedInvoice.subscription_id == subscription.id)
        ).one()
    assert invoice.status == "open"
    return lab, subscription, invoice


def _new_card(ada, merchant, customer_id, invoice_id=None):
    """What card.js does: a SetupIntent from our server, confirmed by Stripe.js with a
    Mastercard, then our confirm form (carrying the invoice the card page was opened for)."""
    query = f"customer={customer_id}" + (f"&invoice={invoice_id}" if invoice_id else "")
    page = ada.get(f"/card?{query}")
    assert page.status_code == 200
    key = re.search(r'data-action-key="([^"]+)"', page.text).group(1)
    csrf = re.search(r'data-csrf="([^"]+)"', page.text).group(1)
    secret = ada.post(
        "/card/setup-intent",
        data={"customer": customer_id, "action_key": key},
        headers={"X-CSRFToken": csrf},
    ).json["client_secret"]
    intent_id = secret.split("_secret_")[0]
    merchant.stripe.v1.setup_intents.confirm(
        intent_id,
        params={"payment_method_data": {"type": "card", "card": {"number": MASTERCARD,
                                                                  **CARD_DETAILS}}},
    )  # fmt: skip
    fields = re.findall(r'<input id="(\w+)" name="\1" type="hidden" value="([^"]*)"', page.text)
    form = {**dict(fields), "setup_intent": intent_id}
    return ada.post("/card/confirm", data=form)


def test_a_replaced_card_is_set_on_an_incomplete_subscription(ada, merchant):
    """Stripe charges a subscription's own default_payment_method before the customer's
    default: a replaced card must be set on every subscription that will still charge one
    (an incomplete one's first invoice, an unpaid or paused one when it resumes).
    https://docs.stripe.com/api/subscriptions/object#subscription_object-default_payment_method
    https://docs.stripe.com/billing/subscriptions/overview#subscription-statuses"""
    lab, subscription, _ = _incomplete_subscription(merchant)

    done = _new_card(ada, merchant, lab.id)

    assert done.status_code == 302 and done.location.endswith("/account")
    remote = merchant.stripe.v1.subscriptions.retrieve(subscription.id)
    new_card = merchant.stripe.v1.customers.retrieve(lab.id).invoice_settings.default_payment_method
    assert remote.default_payment_method == new_card
    row = cached(merchant.tenant.id, CachedSubscription, subscription.id)
    assert row.default_payment_method_id == new_card


def test_a_card_added_to_pay_an_invoice_pays_it_with_that_card(ada, merchant):
    """The card page opened from a refused payment pays that invoice with the new card
    (`payment_method` on the pay call). https://docs.stripe.com/api/invoices/pay"""
    lab, subscription, invoice = _incomplete_subscription(merchant)
    page = ada.get("/invoices")
    declined = action(ada, f"/invoices/{invoice.stripe_id}/pay", page.text, next="/invoices")
    shown = ada.get(declined.headers["Location"]).text
    assert "did not go through" in shown, re.findall(r"notice--\w+[^>]*>(.*?)</div>", shown)
    link = f'<a href="/card?customer={lab.id}&amp;invoice={invoice.stripe_id}">'
    assert link + "Use a different card</a>" in shown

    done = _new_card(ada, merchant, lab.id, invoice.stripe_id)

    shown = ada.get(done.headers["Location"]).text
    assert f"Thank you! Invoice {invoice.number} is paid." in shown
    paid = merchant.stripe.v1.invoices.retrieve(invoice.stripe_id)
    assert paid.status == "paid"
    assert cached(merchant.tenant.id, CachedInvoice, invoice.stripe_id).status == "paid"


def test_the_card_page_refuses_an_invoice_of_someone_else(ada, merchant):
    grace = merchant.stripe.v1.customers.list(params={"email": "grace@example.com"}).data[0]
    other = merchant.stripe.v1.invoices.list(params={"customer": grace.id}).data
    invoice_id = other[0].id if other else "in_doesnotexist"
    page = ada.get(f"/card?customer={merchant.ada_first.id}&invoice={invoice_id}")
    assert page.status_code == 404
