"""Lists expand as Stripe documents: `expand[]=data.<field>` expands each listed object.

docs.stripe.com/api/expanding_objects: on a list, expansions name fields of its `data` items, and
"expansions have a maximum depth of four levels" (`data.` counts as one).
"""

from __future__ import annotations

import pytest
import stripe


def test_customers_list_expands_each_default_payment_method(
    connected_client, new_account_id, paying_customer
):
    client = connected_client(new_account_id())
    paying, method = paying_customer(client)
    client.v1.customers.create(params={"email": "no-card@example.com"})

    page = client.raw_request(
        "get", "/v1/customers", limit=10, expand=["data.invoice_settings.default_payment_method"]
    ).data

    by_id = {customer["id"]: customer for customer in page["data"]}
    assert len(by_id) == 2
    expanded = by_id[paying.id]["invoice_settings"]["default_payment_method"]
    assert (expanded["id"], expanded["object"], expanded["card"]["last4"]) == (
        method.id,
        "payment_method",
        "4242",
    )
    others = [c for c in page["data"] if c["id"] != paying.id]
    assert others[0]["invoice_settings"]["default_payment_method"] is None  # null stays null


def test_subscriptions_list_expands_default_payment_method(
    connected_client, new_account_id, paying_customer
):
    client = connected_client(new_account_id())
    customer, method = paying_customer(client)
    price = client.v1.prices.create(
        params={
            "currency": "usd",
            "unit_amount": 900,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Basic"},
        }
    )
    client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": price.id}],
            "default_payment_method": method.id,
        }
    )

    page = client.raw_request(
        "get", "/v1/subscriptions", limit=10, expand=["data.default_payment_method"]
    ).data

    assert [s["default_payment_method"]["id"] for s in page["data"]] == [method.id]
    plain = client.raw_request("get", "/v1/subscriptions", limit=10).data
    assert [s["default_payment_method"] for s in plain["data"]] == [method.id]  # an id unasked


def test_list_expansion_is_refused_past_four_levels_or_without_the_data_prefix(
    connected_client, new_account_id, paying_customer
):
    client = connected_client(new_account_id())
    paying_customer(client)
    too_deep = "data.invoice_settings.default_payment_method.customer.default_source"
    for expand in ([too_deep], ["invoice_settings"]):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            client.raw_request("get", "/v1/customers", limit=10, expand=expand)
        assert refused.value.http_status == 400
