"""Tiered, metered and sub-cent prices, and quantity 0, billed as Stripe bills them.

https://docs.stripe.com/products-prices/pricing-models and
https://docs.stripe.com/billing/subscriptions/usage-based
"""

from __future__ import annotations

import pytest
import stripe


def new_price(client, **params):
    return client.v1.prices.create(
        params={"currency": "usd", "product_data": {"name": "Seats"}, **params}
    )


def first_invoice_total(client, paying_customer, price, quantity=None):
    customer, _ = paying_customer(client)
    item = {"price": price.id} if quantity is None else {"price": price.id, "quantity": quantity}
    subscription = client.v1.subscriptions.create(params={"customer": customer.id, "items": [item]})
    return subscription, client.v1.invoices.retrieve(subscription.latest_invoice).total


def test_a_graduated_tiered_price_has_no_unit_amount_and_bills_by_tier(
    stripe_client, paying_customer
):
    price = new_price(
        stripe_client,
        recurring={"interval": "month"},
        billing_scheme="tiered",
        tiers_mode="graduated",
        tiers=[{"up_to": 5, "unit_amount": 1000}, {"up_to": "inf", "unit_amount": 500}],
    )

    assert (price.billing_scheme, price.tiers_mode) == ("tiered", "graduated")
    assert price.unit_amount is None and price.unit_amount_decimal is None
    assert "tiers" not in price  # returned only with expand[]=tiers
    _, total = first_invoice_total(stripe_client, paying_customer, price, quantity=7)
    assert total == 5 * 1000 + 2 * 500


def test_a_sub_cent_price_keeps_only_its_decimal_and_rounds_the_line(
    stripe_client, paying_customer
):
    price = new_price(stripe_client, recurring={"interval": "month"}, unit_amount_decimal="0.5")

    assert price.unit_amount is None
    assert str(price.unit_amount_decimal) == "0.5"  # stripe-python reads it as a Decimal
    _, total = first_invoice_total(stripe_client, paying_customer, price, quantity=1001)
    assert total == 501  # 500.5 cents, rounded


def test_a_metered_price_bills_nothing_up_front(stripe_client, paying_customer):
    price = new_price(
        stripe_client, unit_amount=2, recurring={"interval": "month", "usage_type": "metered"}
    )

    assert price.recurring.usage_type == "metered"
    _, total = first_invoice_total(stripe_client, paying_customer, price)
    assert total == 0


def test_an_item_may_have_quantity_zero(stripe_client, paying_customer, monthly_price):
    subscription, total = first_invoice_total(
        stripe_client, paying_customer, monthly_price(stripe_client), quantity=0
    )

    assert subscription["items"].data[0].quantity == 0
    assert total == 0


@pytest.mark.parametrize(
    "bad",
    [
        {"billing_scheme": "tiered", "tiers_mode": "volume", "tiers": [{"up_to": 5}]},
        {"billing_scheme": "tiered", "tiers_mode": "stairs", "tiers": [{"up_to": "inf"}]},
        {"unit_amount_decimal": "-1"},
    ],
)
def test_wrong_terms_are_refused(stripe_client, bad):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        new_price(stripe_client, recurring={"interval": "month"}, **bad)
    assert refused.value.http_status == 400
