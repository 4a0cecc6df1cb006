"""A merchant's Stripe test data, made through the API as the merchant's own dashboard would:
prices, customers paying by card or SEPA debit, open invoices.

One builder for the demo's seed, the tests and the benchmarks. It speaks only the Stripe API
(the emulator or Stripe's test mode), so it lives with the demo, which ships with the product,
and not in the emulator package, which does not.
"""

from __future__ import annotations

import stripe

# Stripe's test cards: 4242... succeeds (Visa), 5555...4444 succeeds (Mastercard).
VISA = "4242424242424242"
MASTERCARD = "5555555555554444"
CARD_DETAILS = {"exp_month": 12, "exp_year": 2030, "cvc": "123"}


def create_price(
    client: stripe.StripeClient,
    amount: int = 1500,
    interval: str = "month",
    name: str = "Pro plan",
    currency: str = "usd",
):
    """A recurring price with a product of its own."""
    return client.v1.prices.create(
        params={
            "currency": currency,
            "unit_amount": amount,
            "recurring": {"interval": interval},
            "product_data": {"name": name},
        }
    )


def create_paying_customer(
    client: stripe.StripeClient, email: str, name: str | None = None, card_number: str = VISA
):
    """A customer (named `name`, else by the email) whose default payment method is a card;
    returns (customer, payment_method)."""
    customer = client.v1.customers.create(params={"email": email, "name": name or email})
    method = client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": card_number, **CARD_DETAILS}}
    )
    client.v1.payment_methods.attach(method.id, params={"customer": customer.id})
    client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": method.id}}
    )
    return customer, method


def pay_by_bank_debit(client: stripe.StripeClient, customer_id: str, iban: str):
    """Make a SEPA debit from `iban` the customer's default (Stripe's test IBANs say which
    settle and which fail; the emulator's bank_debits.py follows them)."""
    method = client.v1.payment_methods.create(
        params={"type": "sepa_debit", "sepa_debit": {"iban": iban}}
    )
    client.v1.payment_methods.attach(method.id, params={"customer": customer_id})
    client.v1.customers.update(
        customer_id, params={"invoice_settings": {"default_payment_method": method.id}}
    )
    return method


def open_invoice(
    client: stripe.StripeClient,
    customer_id: str,
    amount: int = 4200,
    currency: str = "usd",
    description: str = "Setup",
):
    """A finalized, unpaid one-off invoice of one item."""
    client.v1.invoice_items.create(
        params={
            "customer": customer_id,
            "amount": amount,
            "currency": currency,
            "description": description,
        }
    )
    draft = client.v1.invoices.create(
        params={"customer": customer_id, "pending_invoice_items_behavior": "include"}
    )
    return client.v1.invoices.finalize_invoice(draft.id)
