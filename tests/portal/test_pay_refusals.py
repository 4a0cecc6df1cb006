"""Pay when Stripe will not attempt the payment, and invoices Stripe still lets a customer pay."""

import pytest

from app.billing.backfill import backfill
from app.billing.models import CachedInvoice
from app.demo.stripe_data import open_invoice
from tenants.context import tenant_context
from tenants.stripe_client import stripe_client_for
from tests.portal.test_account import action, cached
from tests.support.portal_client import sign_in


@pytest.fixture
def ada(portal, merchant, smtp_sink):
    sign_in(portal, smtp_sink, "ada@example.com")
    return portal


def _cache(merchant):
    with tenant_context(merchant.tenant.id):
        backfill(stripe_client_for(merchant.tenant))


def _pay(ada, invoice_id):
    page = ada.get("/invoices")
    answer = action(ada, f"/invoices/{invoice_id}/pay", page.text, next="/invoices")
    assert answer.status_code == 302
    return ada.get(answer.headers["Location"]).text


def test_pay_without_a_payment_method_says_so_and_offers_to_add_a_card(ada, merchant):
    """Stripe charges the invoice's, else the subscription's, else the customer's default
    payment method; with none it refuses the pay call (400, resource_missing) and attempts
    nothing. https://docs.stripe.com/api/invoices/pay
    https://docs.stripe.com/billing/subscriptions/payment-methods-setting#payment-method-priority
    https://docs.stripe.com/error-codes"""
    lab = merchant.stripe.v1.customers.create(
        params={"email": "ada@example.com", "name": "Ada's lab"}
    )
    invoice = open_invoice(merchant.stripe, lab.id, 1900)
    _cache(merchant)

    shown = _pay(ada, invoice.id)

    assert "changed meanwhile" not in shown
    said = f"Invoice {invoice.number} was not paid: there is no card on file to pay it with."
    assert said in shown
    assert "Nothing was charged." in shown
    assert f'<a href="/card?customer={lab.id}&amp;invoice={invoice.id}">Add a card</a>' in shown
    assert "Pay $19.00" in shown  # still due
    assert merchant.stripe.v1.invoices.retrieve(invoice.id).status == "open"


def test_pay_without_a_payment_method_names_the_merchant_when_cards_cannot_be_added(ada, merchant):
    """As above, for a merchant whose portal does not let customers change cards.
    https://docs.stripe.com/api/invoices/pay"""
    merchant.tenant.allow_card_update = False
    lab = merchant.stripe.v1.customers.create(params={"email": "ada@example.com", "name": "Lab"})
    invoice = open_invoice(merchant.stripe, lab.id, 1900)
    _cache(merchant)

    shown = _pay(ada, invoice.id)

    assert "there is no card on file to pay it with" in shown
    assert "Add a card" not in shown
    assert "billing@acme.test" in shown  # whom to ask


def test_pay_of_an_invoice_voided_meanwhile_says_there_is_nothing_to_pay(ada, merchant):
    """A void invoice cannot be paid: Stripe refuses the pay call (400).
    https://docs.stripe.com/invoicing/integration/workflow-transitions"""
    page = ada.get("/invoices")
    merchant.stripe.v1.invoices.void_invoice(merchant.open_invoice.id)

    answer = action(ada, f"/invoices/{merchant.open_invoice.id}/pay", page.text, next="/invoices")
    shown = ada.get(answer.headers["Location"]).text

    assert "perhaps it was paid another way" not in shown
    number = merchant.open_invoice.number
    assert f"Invoice {number} was cancelled by Acme Rockets: there is nothing to pay." in shown
    assert cached(merchant.tenant.id, CachedInvoice, merchant.open_invoice.id).status == "void"


def test_pay_of_an_invoice_paid_meanwhile_says_it_is_paid(ada, merchant):
    """An invoice paid another way (out of band here) answers the pay call with a 400.
    https://docs.stripe.com/invoicing/integration/workflow-transitions"""
    page = ada.get("/invoices")
    merchant.stripe.v1.invoices.pay(merchant.open_invoice.id, params={"paid_out_of_band": True})

    answer = action(ada, f"/invoices/{merchant.open_invoice.id}/pay", page.text, next="/invoices")
    shown = ada.get(answer.headers["Location"]).text

    number = merchant.open_invoice.number
    assert f"Invoice {number} is already paid, so nothing more was charged." in shown
    assert cached(merchant.tenant.id, CachedInvoice, merchant.open_invoice.id).status == "paid"


def test_an_uncollectible_invoice_can_be_paid(ada, merchant):
    """Stripe lets an uncollectible invoice be paid (uncollectible -> paid through
    POST /v1/invoices/:id/pay). https://docs.stripe.com/invoicing/integration/workflow-transitions"""
    merchant.stripe.v1.invoices.mark_uncollectible(merchant.open_invoice.id)
    _cache(merchant)

    page = ada.get("/invoices")
    assert "Pay $42.00" in page.text
    answer = action(ada, f"/invoices/{merchant.open_invoice.id}/pay", page.text, next="/invoices")
    shown = ada.get(answer.headers["Location"]).text

    assert f"Thank you! Invoice {merchant.open_invoice.number} is paid." in shown
    assert merchant.stripe.v1.invoices.retrieve(merchant.open_invoice.id).status == "paid"
    assert cached(merchant.tenant.id, CachedInvoice, merchant.open_invoice.id).status == "paid"
