"""The /v1/prices API and `price` objects on subscription items and invoice lines."""

from __future__ import annotations

import pytest
import stripe


def test_create_retrieve_update_price_with_product_data(stripe_client):
    price = stripe_client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 2500,
            "recurring": {"interval": "month", "interval_count": 3},
            "product_data": {"name": "Quarterly Pro"},
            "nickname": "pro-quarterly",
            "lookup_key": "pro_quarterly",
        }
    )

    assert price.id.startswith("price_")
    assert price.object == "price"
    assert (price.unit_amount, price.currency, price.type) == (2500, "usd", "recurring")
    assert price.recurring.interval == "month"
    assert price.recurring.interval_count == 3
    assert price.active is True
    assert price.nickname == "pro-quarterly"
    product = stripe_client.v1.products.retrieve(price.product)
    assert product.name == "Quarterly Pro"

    fetched = stripe_client.v1.prices.retrieve(price.id)
    assert fetched.to_dict() == price.to_dict()

    updated = stripe_client.v1.prices.update(
        price.id, params={"active": False, "nickname": "legacy"}
    )
    assert (updated.active, updated.nickname) == (False, "legacy")
    assert stripe_client.v1.prices.retrieve(price.id).active is False


def test_one_time_price_for_existing_product(stripe_client):
    product = stripe_client.v1.products.create(params={"name": "Setup fee"})
    price = stripe_client.v1.prices.create(
        params={"currency": "eur", "unit_amount": 900, "product": product.id}
    )
    assert (price.type, price.recurring, price.product) == ("one_time", None, product.id)


def test_list_prices_filters_by_product_and_active(stripe_client):
    product = stripe_client.v1.products.create(params={"name": "Filtered"})
    base = {"currency": "usd", "product": product.id, "recurring": {"interval": "month"}}
    kept = stripe_client.v1.prices.create(params={**base, "unit_amount": 100})
    retired = stripe_client.v1.prices.create(params={**base, "unit_amount": 200})
    stripe_client.v1.prices.update(retired.id, params={"active": False})
    other_product = {"currency": "usd", "unit_amount": 300, "product_data": {"name": "Other"}}
    stripe_client.v1.prices.create(params=other_product)

    for_product = stripe_client.v1.prices.list(params={"product": product.id})
    assert {p.id for p in for_product.data} == {kept.id, retired.id}

    active = stripe_client.v1.prices.list(params={"product": product.id, "active": True})
    assert [p.id for p in active.data] == [kept.id]

    inactive = stripe_client.v1.prices.list(params={"product": product.id, "active": False})
    assert [p.id for p in inactive.data] == [retired.id]


def test_price_validation_errors(stripe_client):
    with pytest.raises(stripe.InvalidRequestError, match="product"):
        stripe_client.v1.prices.create(params={"currency": "usd", "unit_amount": 100})
    with pytest.raises(stripe.InvalidRequestError, match="No such price"):
        stripe_client.v1.prices.retrieve("price_missing")


def test_subscription_items_take_and_return_prices(stripe_client, paying_customer, monthly_price):
    customer, _ = paying_customer(stripe_client)
    price = monthly_price(stripe_client, unit_amount=1500)

    subscription = stripe_client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id, "quantity": 2}]}
    )

    item = subscription["items"].data[0]
    assert item.price.id == price.id
    assert item.price.unit_amount == 1500
    assert item.price.recurring.interval == "month"
    assert item.quantity == 2

    invoice = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)
    line = invoice.lines.data[0]
    assert line.price.id == price.id
    assert line.pricing.price_details.price == price.id
    assert invoice.amount_due == 3000


def test_subscription_with_unknown_price_is_a_404(stripe_client, paying_customer):
    customer, _ = paying_customer(stripe_client)
    with pytest.raises(stripe.InvalidRequestError, match="No such price") as error:
        stripe_client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": "price_nope"}]}
        )
    assert error.value.http_status == 404
