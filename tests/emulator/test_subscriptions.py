"""Item periods, update events, several items, trials, item lists."""

from __future__ import annotations

import time

import pytest
import stripe

DAY = 86400
MASTERCARD = {"number": "5555555555554444", "exp_month": 12, "exp_year": 2030, "cvc": "123"}


def _subscribe(client, customer, *prices, **params):
    items = [{"price": price.id} for price in prices]
    return client.v1.subscriptions.create(
        params={"customer": customer.id, "items": items, **params}
    )


def test_several_items_bill_their_sum(stripe_client, paying_customer, monthly_price):
    customer, _ = paying_customer(stripe_client)
    seats, storage = monthly_price(stripe_client, 1000), monthly_price(stripe_client, 250)

    subscription = stripe_client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": seats.id, "quantity": 3}, {"price": storage.id}],
        }
    )

    assert subscription.status == "active"
    assert [(i.price.id, i.quantity) for i in subscription["items"].data] == [
        (seats.id, 3),
        (storage.id, 1),
    ]
    invoice = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)
    assert invoice.status == "paid"
    assert invoice.amount_due == 3 * 1000 + 250
    assert sorted(line.amount for line in invoice.lines.data) == [250, 3000]


def test_items_must_share_the_billing_interval(stripe_client, paying_customer, monthly_price):
    customer, _ = paying_customer(stripe_client)
    monthly, yearly = monthly_price(stripe_client), monthly_price(stripe_client, 9000, "year")
    with pytest.raises(stripe.InvalidRequestError, match="billing interval"):
        _subscribe(stripe_client, customer, monthly, yearly)


def test_items_carry_current_period_in_sync(stripe_client, paying_customer, monthly_price):
    customer, _ = paying_customer(stripe_client)
    subscription = _subscribe(
        stripe_client, customer, monthly_price(stripe_client), monthly_price(stripe_client, 99)
    )

    for item in subscription["items"].data:
        assert item.current_period_start == subscription.current_period_start
        assert item.current_period_end == subscription.current_period_end
        assert item.subscription == subscription.id
    start, end = subscription.current_period_start, subscription.current_period_end
    assert abs(start - time.time()) < 60
    assert 28 * DAY <= end - start <= 31 * DAY


def test_trial_period_days_gives_trialing_and_a_zero_invoice(
    stripe_client, paying_customer, monthly_price
):
    customer, _ = paying_customer(stripe_client)
    price = monthly_price(stripe_client, 4900)

    subscription = _subscribe(stripe_client, customer, price, trial_period_days=14)

    assert subscription.status == "trialing"
    assert abs(subscription.trial_end - (time.time() + 14 * DAY)) < 60
    assert subscription.trial_start is not None
    item = subscription["items"].data[0]
    assert item.current_period_end == subscription.trial_end
    first_invoice = stripe_client.v1.invoices.retrieve(subscription.latest_invoice)
    assert (first_invoice.amount_due, first_invoice.status) == (0, "paid")
    assert first_invoice.lines.data[0].amount == 0
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "trialing"


def test_trial_end_timestamp_gives_trialing(stripe_client, monthly_price):
    # No payment method needed: nothing is charged during a trial.
    customer = stripe_client.v1.customers.create(params={"email": "trial@example.com"})
    trial_end = int(time.time()) + 3 * DAY

    subscription = _subscribe(
        stripe_client, customer, monthly_price(stripe_client), trial_end=trial_end
    )

    assert (subscription.status, subscription.trial_end) == ("trialing", trial_end)
    assert subscription.current_period_end == trial_end


def test_default_payment_method_must_belong_to_customer(
    stripe_client, paying_customer, monthly_price
):
    customer, method = paying_customer(stripe_client)
    stranger, _ = paying_customer(stripe_client)
    price = monthly_price(stripe_client)

    subscription = _subscribe(stripe_client, customer, price, default_payment_method=method.id)
    assert subscription.default_payment_method == method.id
    with pytest.raises(stripe.InvalidRequestError, match="does not have a payment method"):
        _subscribe(stripe_client, stranger, price, default_payment_method=method.id)


def _updated_events(client, subscription_id, events_about):
    return events_about(client, "customer.subscription.updated", subscription_id)


def test_cancel_at_period_end_emits_updated_events(
    stripe_client, paying_customer, monthly_price, events_about
):
    customer, _ = paying_customer(stripe_client)
    subscription = _subscribe(stripe_client, customer, monthly_price(stripe_client))
    assert _updated_events(stripe_client, subscription.id, events_about) == []

    canceling = stripe_client.v1.subscriptions.update(
        subscription.id, params={"cancel_at_period_end": True}
    )
    assert canceling.cancel_at_period_end is True
    assert canceling.cancel_at == canceling.current_period_end
    [event] = _updated_events(stripe_client, subscription.id, events_about)
    assert event["data"]["object"]["cancel_at_period_end"] is True
    assert event["data"]["previous_attributes"]["cancel_at_period_end"] is False

    reactivated = stripe_client.v1.subscriptions.update(
        subscription.id, params={"cancel_at_period_end": False}
    )
    assert (reactivated.cancel_at_period_end, reactivated.cancel_at) == (False, None)
    latest = _updated_events(stripe_client, subscription.id, events_about)[0]
    assert latest["data"]["object"]["cancel_at_period_end"] is False
    assert latest["data"]["previous_attributes"]["cancel_at_period_end"] is True


def test_quantity_and_price_changes_keep_other_items(
    stripe_client, paying_customer, monthly_price, events_about
):
    customer, _ = paying_customer(stripe_client)
    seats, support, bigger = (monthly_price(stripe_client, a) for a in (1000, 500, 2000))
    subscription = _subscribe(stripe_client, customer, seats, support)
    seats_item, support_item = subscription["items"].data

    updated = stripe_client.v1.subscriptions.update(
        subscription.id,
        params={
            "items": [
                {"id": seats_item.id, "quantity": 4},
                {"id": support_item.id, "price": bigger.id},
            ],
            "proration_behavior": "none",
        },
    )

    assert [(i.id, i.price.id, i.quantity) for i in updated["items"].data] == [
        (seats_item.id, seats.id, 4),
        (support_item.id, bigger.id, 1),
    ]
    [event] = _updated_events(stripe_client, subscription.id, events_about)
    previous_items = event["data"]["previous_attributes"]["items"]["data"]
    assert [i["quantity"] for i in previous_items] == [1, 1]
    assert previous_items[1]["price"]["id"] == support.id


def test_items_can_be_added_and_deleted(stripe_client, paying_customer, monthly_price):
    customer, _ = paying_customer(stripe_client)
    first, second = monthly_price(stripe_client, 700), monthly_price(stripe_client, 300)
    subscription = _subscribe(stripe_client, customer, first)
    first_item = subscription["items"].data[0]

    grown = stripe_client.v1.subscriptions.update(
        subscription.id, params={"items": [{"price": second.id}], "proration_behavior": "none"}
    )
    assert [i.price.id for i in grown["items"].data] == [first.id, second.id]

    shrunk = stripe_client.v1.subscriptions.update(
        subscription.id, params={"items": [{"id": first_item.id, "deleted": True}]}
    )
    assert [i.price.id for i in shrunk["items"].data] == [second.id]


def test_upgrade_creates_prorations_on_next_invoice(stripe_client, paying_customer, monthly_price):
    customer, _ = paying_customer(stripe_client)
    basic, pro = monthly_price(stripe_client, 1000), monthly_price(stripe_client, 3000)
    subscription = _subscribe(stripe_client, customer, basic)
    item = subscription["items"].data[0]

    stripe_client.v1.subscriptions.update(
        subscription.id,
        params={
            "items": [{"id": item.id, "price": pro.id}],
            "proration_behavior": "always_invoice",
        },
    )

    invoices = stripe_client.v1.invoices.list(params={"subscription": subscription.id})
    latest = invoices.data[0]
    assert latest.id != subscription.latest_invoice
    assert latest.status == "paid"
    # Nearly the whole period is left: about -1000 for basic, +3000 for pro.
    assert 1990 <= latest.amount_paid <= 2000


def test_default_payment_method_change_emits_updated_event(
    stripe_client, paying_customer, monthly_price, events_about
):
    customer, _ = paying_customer(stripe_client)
    subscription = _subscribe(stripe_client, customer, monthly_price(stripe_client))
    second_method = stripe_client.v1.payment_methods.create(
        params={"type": "card", "card": MASTERCARD}
    )
    stripe_client.v1.payment_methods.attach(second_method.id, params={"customer": customer.id})

    stripe_client.v1.subscriptions.update(
        subscription.id, params={"default_payment_method": second_method.id}
    )

    [event] = _updated_events(stripe_client, subscription.id, events_about)
    assert event["data"]["object"]["default_payment_method"] == second_method.id
    assert event["data"]["previous_attributes"] == {"default_payment_method": None}


def test_cancel_now_sets_canceled_at(stripe_client, paying_customer, monthly_price, events_about):
    customer, _ = paying_customer(stripe_client)
    subscription = _subscribe(stripe_client, customer, monthly_price(stripe_client))

    canceled = stripe_client.v1.subscriptions.cancel(subscription.id)

    assert canceled.status == "canceled"
    assert canceled.canceled_at is not None
    assert events_about(stripe_client, "customer.subscription.deleted", subscription.id)


def test_cancellation_details_are_kept(stripe_client, paying_customer, monthly_price):
    """Stripe keeps the customer's reason with a cancellation; localstripe refused the field."""
    customer, _ = paying_customer(stripe_client)
    price = monthly_price(stripe_client)
    subscription = stripe_client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )
    updated = stripe_client.v1.subscriptions.update(
        subscription.id,
        params={"cancel_at_period_end": True, "cancellation_details": {"comment": "Too pricey"}},
    )
    assert updated.cancel_at_period_end is True
    assert updated.cancellation_details.comment == "Too pricey"


def test_items_beyond_the_first_ten_are_listed_by_subscription(
    stripe_client, paying_customer, monthly_price
):
    customer, _ = paying_customer(stripe_client)
    prices = [monthly_price(stripe_client, 100 + n) for n in range(12)]
    subscription = _subscribe(stripe_client, customer, *prices)
    embedded = stripe_client.v1.subscriptions.retrieve(subscription.id)["items"]
    assert embedded.has_more is True and len(embedded.data) == 10  # as Stripe embeds them

    first = stripe_client.v1.subscription_items.list(
        params={"subscription": subscription.id, "limit": 5}
    )
    rest = stripe_client.v1.subscription_items.list(
        params={"subscription": subscription.id, "limit": 100, "starting_after": first.data[-1].id}
    )
    assert first.has_more is True and rest.has_more is False
    listed = [item.price.id for item in first.data + rest.data]
    assert listed == [price.id for price in prices]
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.subscription_items.list(params={"limit": 5})  # Stripe requires it
