"""SEPA debits stay processing until the bank answers; invoices show their payments on request."""

from __future__ import annotations

from app.demo.stripe_data import pay_by_bank_debit

SUCCEEDS = "AT611904300234573201"
FAILS = "AT861904300235473202"
PAYMENT_INTENT = "payments.data.payment.payment_intent"


def _open_invoice_paid_by_debit(client, iban: str):
    customer = client.v1.customers.create(params={"email": "debit@example.com"})
    pay_by_bank_debit(client, customer.id, iban)
    client.v1.invoice_items.create(
        params={"customer": customer.id, "amount": 2500, "currency": "eur"}
    )
    draft = client.v1.invoices.create(
        params={"customer": customer.id, "pending_invoice_items_behavior": "include"}
    )
    return client.v1.invoices.finalize_invoice(draft.id)


def _attempt(invoice):
    (payment,) = invoice.payments.data
    return payment.payment.payment_intent


def test_a_debit_is_processing_until_the_bank_answers(stripe_client, bank_settlement):
    bank_settlement(3600)
    invoice = _open_invoice_paid_by_debit(stripe_client, SUCCEEDS)

    answered = stripe_client.v1.invoices.pay(invoice.id, params={"expand": [PAYMENT_INTENT]})

    assert answered.status == "open"
    assert _attempt(answered).status == "processing"
    assert _attempt(answered).last_payment_error is None
    assert answered.payments.data[0].status == "open"


def test_a_debit_the_bank_answered_at_once(stripe_client, bank_settlement, events_about):
    bank_settlement(0)
    paid = _open_invoice_paid_by_debit(stripe_client, SUCCEEDS)
    failed = _open_invoice_paid_by_debit(stripe_client, FAILS)

    paid = stripe_client.v1.invoices.pay(paid.id, params={"expand": [PAYMENT_INTENT]})
    failed = stripe_client.v1.invoices.pay(failed.id, params={"expand": [PAYMENT_INTENT]})

    assert (paid.status, _attempt(paid).status) == ("paid", "succeeded")
    assert paid.payments.data[0].amount_paid == 2500
    # A failed debit is no error of the pay call: 200, open, and the reason on the intent.
    assert (failed.status, _attempt(failed).status) == ("open", "requires_payment_method")
    error = _attempt(failed).last_payment_error
    assert error.code == "insufficient_funds"
    assert error.payment_method.type == "sepa_debit"
    assert events_about(stripe_client, "invoice.payment_failed", failed.id)


def test_payments_are_listed_only_when_asked_for(stripe_client, bank_settlement):
    bank_settlement(0)
    invoice = _open_invoice_paid_by_debit(stripe_client, SUCCEEDS)
    answered = stripe_client.v1.invoices.pay(invoice.id)

    assert "payments" not in answered
    listed = stripe_client.v1.invoices.retrieve(invoice.id, params={"expand": ["payments"]})
    assert listed.payments.data[0].payment.payment_intent.startswith("pi_")
