"""Amounts in three-decimal currencies and ISK: what Stripe charges and what it refuses.

https://docs.stripe.com/currencies (Three-decimal currencies; Special cases: Icelandic Króna)
"""

from __future__ import annotations

import pytest
import stripe


def test_a_three_decimal_price_is_invoiced_and_charged_in_thousandths(
    stripe_client, paying_customer
):
    """12.500 KWD is the integer 12500: invoiced and paid as such."""
    customer, _ = paying_customer(stripe_client)
    price = stripe_client.v1.prices.create(
        params={
            "currency": "kwd",
            "unit_amount": 12500,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Dinar plan"},
        }
    )
    subscription = stripe_client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )
    invoice = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)
    assert (invoice.currency, invoice.total, invoice.amount_paid) == ("kwd", 12500, 12500)
    assert invoice.status == "paid"


@pytest.mark.parametrize(("amount", "currency"), [(12345, "kwd"), (1001, "TND"), (50050, "isk")])
def test_an_amount_the_currency_cannot_charge_is_refused(stripe_client, amount, currency):
    """The last digit of a three-decimal charge must be 0; ISK is charged in whole krónur."""
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.payment_intents.create(params={"amount": amount, "currency": currency})
    assert refused.value.http_status == 400
    assert refused.value.code == "invalid_charge_amount"


@pytest.mark.parametrize(("amount", "currency"), [(12340, "kwd"), (50000, "isk"), (1500, "jpy")])
def test_amounts_each_currency_can_charge_are_accepted(stripe_client, amount, currency):
    params = {"amount": amount, "currency": currency}
    intent = stripe_client.v1.payment_intents.create(params=params)
    assert intent.amount == amount
