"""Paying in the browser when the bank asks to confirm (3-D Secure), and Pay's refusals."""

import pytest
from playwright.sync_api import expect

from app.billing.backfill import backfill
from app.demo.stripe_data import create_paying_customer, open_invoice
from app.extensions import db
from tenants.context import tenant_context
from tenants.stripe_client import stripe_client_for

pytestmark = pytest.mark.browser

ALWAYS_ASKS = "4000002760003184"  # Stripe's test card that always asks for 3-D Secure


def _lab_invoice(shop, card_number=None, amount=3100):
    """Ada's lab (same email) with an open invoice in euros, committed for the live server."""
    if card_number:
        lab, _ = create_paying_customer(shop.stripe, "ada@example.com", "Ada's lab", card_number)
    else:
        lab = shop.stripe.v1.customers.create(
            params={"email": "ada@example.com", "name": "Ada's lab"}
        )
    invoice = open_invoice(shop.stripe, lab.id, amount, currency="eur")
    with tenant_context(shop.tenant.id):
        backfill(stripe_client_for(shop.tenant))
    db.session.commit()
    return invoice


@pytest.mark.parametrize("passes", [True, False], ids=["confirmed", "refused"])
def test_pay_when_the_bank_asks_to_confirm(visitor, shop, passes):
    """Pay is on-session (off_session=false); a card that asks for authentication makes the pay
    call answer 402 invoice_payment_intent_requires_action, and Stripe.js handleNextAction
    completes the invoice's PaymentIntent in the portal.
    https://docs.stripe.com/api/invoices/pay https://docs.stripe.com/error-codes
    https://docs.stripe.com/js/payment_intents/handle_next_action https://docs.stripe.com/testing"""
    invoice = _lab_invoice(shop, ALWAYS_ASKS)
    page = visitor.page
    visitor.sign_in()
    page.goto("/invoices")
    page.get_by_role("button", name=f"Pay €31.00 for invoice {invoice.number}").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your payment")
    expect(page.get_by_text("Nothing has been charged yet")).to_be_visible()
    assert shop.stripe.v1.invoices.retrieve(invoice.id).status == "open"
    if passes:
        visitor.check("pay-3ds-confirm")
    page.get_by_role("button", name="Confirm with my bank").click()
    step = "Complete authentication" if passes else "Fail authentication"
    page.get_by_role("button", name=step).click()  # the emulator's authentication step

    if passes:
        expect(page.get_by_role("status")).to_contain_text(
            f"Thank you! Invoice {invoice.number} is paid."
        )
        assert shop.stripe.v1.invoices.retrieve(invoice.id).status == "paid"
        visitor.shoot("pay-3ds-paid")
    else:
        expect(page.get_by_role("alert")).to_contain_text(
            "did not go through: your bank could not confirm the payment. Nothing was charged."
        )
        expect(page.get_by_role("link", name="Use a different card")).to_be_visible()
        assert shop.stripe.v1.invoices.retrieve(invoice.id).status == "open"
        visitor.shoot("pay-3ds-refused")


def test_pay_refused_for_want_of_a_card_and_an_uncollectible_invoice(visitor, shop):
    """https://docs.stripe.com/api/invoices/pay
    https://docs.stripe.com/invoicing/integration/workflow-transitions"""
    invoice = _lab_invoice(shop, amount=1900)
    shop.stripe.v1.invoices.mark_uncollectible(shop.open_invoice.id)
    with tenant_context(shop.tenant.id):
        backfill(stripe_client_for(shop.tenant))
    db.session.commit()
    page = visitor.page
    visitor.sign_in()
    page.goto("/invoices")
    expect(
        page.get_by_role("button", name=f"Pay $42.00 for invoice {shop.open_invoice.number}")
    ).to_be_visible()  # uncollectible, still payable
    page.get_by_role("button", name=f"Pay €19.00 for invoice {invoice.number}").click()
    expect(page.get_by_role("alert")).to_contain_text("there is no card on file to pay it with")
    visitor.check("pay-refused-no-card")
    page.get_by_role("link", name="Add a card").click()
    expect(page.get_by_text("Once saved, the card pays invoice")).to_be_visible()
    visitor.shoot("card-to-pay-invoice")
