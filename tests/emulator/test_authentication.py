"""3-D Secure test cards on invoice payments, on session and off."""

from __future__ import annotations

import urllib.request

import pytest
import stripe

DETAILS = {"exp_month": 12, "exp_year": 2030, "cvc": "123"}


def _customer_with(client, number, set_up: bool):
    customer = client.v1.customers.create(params={"email": "sca@example.com"})
    if set_up:  # as Stripe.js does it: a SetupIntent, then the authentication step passed
        intent = client.v1.setup_intents.create(params={"customer": customer.id})
        intent = client.v1.setup_intents.confirm(
            intent.id,
            params={"payment_method_data": {"type": "card", "card": {"number": number, **DETAILS}}},
        )
        if intent.status == "requires_action":
            intent = client.v1.setup_intents.confirm(intent.id)
        assert intent.status == "succeeded"
        method_id = intent.payment_method
    else:
        method_id = client.v1.payment_methods.create(
            params={"type": "card", "card": {"number": number, **DETAILS}}
        ).id
    client.v1.payment_methods.attach(method_id, params={"customer": customer.id})
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": method_id}}
    )
    client.v1.invoice_items.create(
        params={"customer": customer.id, "amount": 900, "currency": "eur"}
    )
    draft = client.v1.invoices.create(
        params={"customer": customer.id, "pending_invoice_items_behavior": "include"}
    )
    return client.v1.invoices.finalize_invoice(draft.id)


def _asks(client, invoice, **params) -> bool:
    try:
        client.v1.invoices.pay(invoice.id, params=params)
    except stripe.CardError as error:
        assert error.http_status == 402
        assert error.code == "invoice_payment_intent_requires_action"
        return True
    return False


@pytest.mark.parametrize(
    ("number", "set_up", "off_session", "asks"),
    [
        ("4000002500003155", True, True, False),  # set up: off-session goes through
        ("4000002500003155", True, False, True),  # on-session always asks
        ("4000002500003155", False, True, True),  # never set up: asks
        ("4000002760003184", True, True, True),  # always asks
        ("4242424242424242", False, False, False),  # no 3-D Secure
    ],
)
def test_which_cards_ask_for_authentication(stripe_client, number, set_up, off_session, asks):
    """https://docs.stripe.com/testing (authentication and setup test cards);
    https://docs.stripe.com/api/invoices/pay (off_session defaults to true)"""
    invoice = _customer_with(stripe_client, number, set_up)
    assert _asks(stripe_client, invoice, off_session=off_session) is asks
    status = stripe_client.v1.invoices.retrieve(invoice.id).status
    assert status == ("open" if asks else "paid")


def test_the_payment_intent_waits_for_the_customer(stripe_client):
    """The invoice's PaymentIntent is in requires_action with a client secret for Stripe.js.
    https://docs.stripe.com/js/payment_intents/handle_next_action"""
    invoice = _customer_with(stripe_client, "4000002760003184", set_up=False)
    assert _asks(stripe_client, invoice, off_session=False)
    read = stripe_client.v1.invoices.retrieve(
        invoice.id, params={"expand": ["payments.data.payment.payment_intent"]}
    )
    intent = read.payments.data[0].payment.payment_intent
    assert intent.status == "requires_action" and intent.client_secret.startswith(intent.id)


def test_stripe_js_has_handle_next_action(stripe_emulator):
    with urllib.request.urlopen(stripe_emulator.js_url, timeout=10) as response:  # noqa: S310
        script = response.read().decode()
    assert "stripe.handleNextAction = async function" in script
    assert "confirmCardSetup" in script  # localstripe's own functions are still there
