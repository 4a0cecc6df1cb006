"""Subscriptions billed by invoice: open invoices due days later, nothing charged.

https://docs.stripe.com/billing/collection-method and
https://docs.stripe.com/api/subscriptions/create#create_subscription-days_until_due
"""

from __future__ import annotations

import time

import pytest
import stripe

DAY = 86400


def test_send_invoice_leaves_the_invoice_open_and_due_and_charges_nothing(
    stripe_client, paying_customer, monthly_price
):
    customer, _ = paying_customer(stripe_client)
    price = monthly_price(stripe_client, unit_amount=4900)
    before = int(time.time())
    sub = stripe_client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}],
                "collection_method": "send_invoice", "days_until_due": 30}
    )  # fmt: skip
    assert sub.status == "active"
    assert sub.collection_method == "send_invoice" and sub.days_until_due == 30
    invoice = stripe_client.v1.invoices.retrieve(sub.latest_invoice)
    assert invoice.status == "open" and invoice.amount_paid == 0
    assert invoice.amount_due == 4900
    assert invoice.collection_method == "send_invoice"
    assert before + 30 * DAY <= invoice.due_date <= int(time.time()) + 30 * DAY
    assert not invoice.charge  # nothing was charged

    paid = stripe_client.v1.invoices.pay(invoice.id)  # the customer pays it (the portal's Pay)
    assert paid.status == "paid"


def test_charging_automatically_stays_the_default(stripe_client, paying_customer, monthly_price):
    customer, _ = paying_customer(stripe_client)
    sub = stripe_client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": monthly_price(stripe_client).id}]}
    )
    assert sub.collection_method == "charge_automatically" and sub.days_until_due is None
    assert stripe_client.v1.invoices.retrieve(sub.latest_invoice).status == "paid"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"collection_method": "send_invoice"}, "days_until_due is required"),
        ({"collection_method": "send_invoice", "days_until_due": -1}, "non-negative"),
        ({"days_until_due": 10}, "only valid with collection_method=send_invoice"),
        ({"collection_method": "by_pigeon"}, "charge_automatically or send_invoice"),
    ],
)
def test_bad_collection_terms_are_refused(
    stripe_client, paying_customer, monthly_price, params, message
):
    customer, _ = paying_customer(stripe_client)
    with pytest.raises(stripe.InvalidRequestError, match=message):
        stripe_client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": monthly_price(stripe_client).id}],
                    **params}
        )  # fmt: skip
