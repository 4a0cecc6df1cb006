"""Every kind of payment method a customer may pay with, shown as what it is."""

from __future__ import annotations

from sqlalchemy import select

from app.billing.backfill import backfill
from app.billing.models import CachedPaymentMethod
from app.billing.tasks import process_stripe_event
from app.demo.stripe_data import CARD_DETAILS, MASTERCARD, VISA
from app.extensions import db
from tenants.context import tenant_context
from tenants.stripe_client import stripe_client_for
from tests.portal.test_billing_freshness import stored_event_about
from tests.support.portal_client import sign_in

ACH = {"account_number": "000123456789", "routing_number": "110000000"}

TEST_CARD = {"number": VISA, **CARD_DETAILS}


def new_customer(merchant, name="Ada's lab"):
    return merchant.stripe.v1.customers.create(params={"email": "ada@example.com", "name": name})


def make_default(merchant, customer_id: str, method_id: str) -> None:
    merchant.stripe.v1.payment_methods.attach(method_id, params={"customer": customer_id})
    merchant.stripe.v1.customers.update(
        customer_id, params={"invoice_settings": {"default_payment_method": method_id}}
    )


def copy_account(merchant) -> None:
    with tenant_context(merchant.tenant.id):
        backfill(stripe_client_for(merchant.tenant))


def account_page(portal, smtp_sink) -> str:
    sign_in(portal, smtp_sink, "ada@example.com")
    return portal.get("/account").text


def test_a_us_bank_account_is_shown_by_its_bank_and_last_four(portal, merchant, smtp_sink):
    """https://docs.stripe.com/api/payment_methods/object#payment_method_object-us_bank_account"""
    customer = new_customer(merchant)
    method = merchant.stripe.v1.payment_methods.create(
        params={"type": "us_bank_account", "us_bank_account": ACH}
    )
    make_default(merchant, customer.id, method.id)
    copy_account(merchant)

    html = account_page(portal, smtp_sink)

    assert '<span class="card-brand">STRIPE TEST BANK</span> •••• 6789' in html
    assert "None" not in html and "Expires 00" not in html


def test_a_link_method_is_shown_with_its_email(portal, merchant, smtp_sink):
    """https://docs.stripe.com/api/payment_methods/object#payment_method_object-link"""
    customer = new_customer(merchant)
    method = merchant.stripe.v1.payment_methods.create(
        params={"type": "link", "billing_details": {"email": "ada.link@example.com"}}
    )
    make_default(merchant, customer.id, method.id)
    copy_account(merchant)

    html = account_page(portal, smtp_sink)

    assert '<span class="card-brand">Link</span>' in html
    assert "ada.link@example.com" in html
    assert "•••• None" not in html and "Expires" not in html.split("Link</span>")[1][:200]


def test_a_legacy_card_default_source_is_the_payment_method(portal, merchant, smtp_sink):
    """A customer from before PaymentMethods: a card_ source as default_source, no
    invoice_settings.default_payment_method. Stripe charges the default source.
    https://docs.stripe.com/payments/payment-methods/transitioning#compatibility"""
    customer = new_customer(merchant)
    mastercard = {"object": "card", **TEST_CARD, "number": MASTERCARD}
    merchant.stripe.v1.customers.payment_sources.create(customer.id, params={"source": mastercard})
    copy_account(merchant)

    html = account_page(portal, smtp_sink)

    assert '<span class="card-brand">Mastercard</span> •••• 4444' in html


def test_customer_source_events_keep_legacy_cards_current(portal, merchant, smtp_sink):
    """customer.source.created / customer.source.deleted are about a card_ object.
    https://docs.stripe.com/api/events/types#event_types-customer.source.created"""
    customer = new_customer(merchant)
    copy_account(merchant)
    card = merchant.stripe.v1.customers.payment_sources.create(
        customer.id, params={"source": {"object": "card", **TEST_CARD}}
    )

    outcome = process_stripe_event.delay(
        merchant.tenant.id, stored_event_about(merchant, card.id)
    ).get()

    assert outcome.startswith("fetched payment_method")
    with tenant_context(merchant.tenant.id):
        row = db.session.scalars(
            select(CachedPaymentMethod).where(CachedPaymentMethod.stripe_id == card.id)
        ).one()
        assert (row.customer_id, row.brand, row.last4, row.deleted) == (
            customer.id, "visa", "4242", False
        )  # fmt: skip
    merchant.stripe.v1.customers.payment_sources.delete(customer.id, card.id)
    process_stripe_event.delay(merchant.tenant.id, stored_event_about(merchant, card.id)).get()
    db.session.expire_all()
    with tenant_context(merchant.tenant.id):
        row = db.session.scalars(
            select(CachedPaymentMethod).where(CachedPaymentMethod.stripe_id == card.id)
        ).one()
        assert row.deleted


def test_a_card_on_file_that_is_not_the_default_is_not_said_to_be_charged(
    portal, merchant, smtp_sink
):
    """Stripe charges a subscription's default_payment_method, else the customer's
    invoice_settings.default_payment_method (else default_source): never a card that is merely
    attached. https://docs.stripe.com/api/subscriptions/object#subscription_object-default_payment_method
    https://docs.stripe.com/api/customers/object#customer_object-invoice_settings-default_payment_method"""
    customer = new_customer(merchant)
    card = merchant.stripe.v1.payment_methods.create(params={"type": "card", "card": TEST_CARD})
    merchant.stripe.v1.payment_methods.attach(card.id, params={"customer": customer.id})
    merchant.stripe.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": merchant.price.id}],
            "trial_period_days": 14,
        }
    )
    copy_account(merchant)

    html = account_page(portal, smtp_sink)
    lab = html[html.index("Ada&#39;s lab") :]

    assert "No card set for renewals" in lab
    assert f'href="/card?customer={customer.id}"' in lab
    assert "Set a card for renewals" in lab
    assert "Visa •••• 4242</dd>" not in lab  # not said to be charged
    assert "On file but not used for renewals: Visa •••• 4242" in lab
