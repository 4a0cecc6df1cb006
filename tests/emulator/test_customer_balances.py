"""A customer's invoice balance: credits and debits applied to the next invoice.

https://docs.stripe.com/billing/customer/balance and
https://docs.stripe.com/api/customer_balance_transactions/create
"""

from __future__ import annotations

import pytest
import stripe


def test_a_credit_lowers_the_next_invoice_and_says_the_customer_changed(
    stripe_client, paying_customer, monthly_price, events_about
):
    customer, _ = paying_customer(stripe_client)
    subscription = stripe_client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": monthly_price(stripe_client).id}]}
    )

    credit = stripe_client.v1.customers.balance_transactions.create(
        customer.id, params={"amount": -500, "currency": "usd", "description": "Goodwill"}
    )

    assert (credit.object, credit.amount, credit.ending_balance) == (
        "customer_balance_transaction", -500, -500,
    )  # fmt: skip
    assert stripe_client.v1.customers.retrieve(customer.id).balance == -500
    (updated, *_) = events_about(stripe_client, "customer.updated", customer.id)
    assert updated["data"]["previous_attributes"] == {"balance": 0}
    preview = stripe_client.v1.invoices.create_preview(
        params={"customer": customer.id, "subscription": subscription.id}
    )
    assert preview.amount_due == 1500 - 500
    listed = stripe_client.v1.customers.balance_transactions.list(customer.id)
    assert [t.id for t in listed.data] == [credit.id]


def test_an_amount_of_zero_is_refused(stripe_client, paying_customer):
    customer, _ = paying_customer(stripe_client)
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.customers.balance_transactions.create(
            customer.id, params={"amount": 0, "currency": "usd"}
        )
