"""Renewing subscriptions at the end of their period, with Stripe's events in Stripe's order.

https://docs.stripe.com/billing/subscriptions/webhooks and
https://docs.stripe.com/billing/subscriptions/overview (subscription lifecycle)
"""

from __future__ import annotations

import pytest

from stripe_emulator.launcher import EmulatorError
from tests.emulator.conftest import TEST_CARD

DECLINED_AFTER_ATTACH = {**TEST_CARD, "number": "4000000000000341"}
PAID_RENEWAL = [
    "invoice.created",
    "customer.subscription.updated",
    "invoice.finalized",
    "charge.succeeded",
    "payment_intent.succeeded",
    "invoice.payment_succeeded",
    "invoice.paid",
]


def subscribe(client, paying_customer, monthly_price, card=TEST_CARD, **params):
    customer, _method = paying_customer(client, card=card)
    return client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": monthly_price(client).id}], **params}
    )


def pay_with(client, subscription, card) -> None:
    """Make `card` the subscription's default payment method."""
    method = client.v1.payment_methods.create(params={"type": "card", "card": dict(card)})
    client.v1.payment_methods.attach(method.id, params={"customer": subscription.customer})
    client.v1.subscriptions.update(subscription.id, params={"default_payment_method": method.id})


def events_since(client, known: set[str]) -> list[dict]:
    """The account's events not in `known`, oldest first."""
    listed = client.v1.events.list(params={"limit": 100}).data
    return [event.to_dict() for event in reversed(listed) if event.id not in known]


def event_ids(client) -> set[str]:
    return {event.id for event in client.v1.events.list(params={"limit": 100}).data}


def test_a_renewal_advances_the_period_and_charges_a_new_invoice(
    stripe_emulator, connected_client, new_account_id, paying_customer, monthly_price
):
    account = new_account_id()
    client = connected_client(account)
    subscription = subscribe(client, paying_customer, monthly_price)
    known = event_ids(client)
    requests = stripe_emulator.api_request_count(account)

    outcome = stripe_emulator.renew(account)

    assert stripe_emulator.api_request_count(account) == requests  # not an API call
    assert outcome["renewed"] == [subscription.id]
    renewed = client.v1.subscriptions.retrieve(subscription.id)
    first_end = subscription["items"].data[0].current_period_end
    assert renewed["items"].data[0].current_period_start == first_end
    assert renewed["items"].data[0].current_period_end > first_end
    assert renewed.status == "active"
    assert renewed.latest_invoice != subscription.latest_invoice
    invoice = client.v1.invoices.retrieve(renewed.latest_invoice)
    assert (invoice.status, invoice.amount_paid, invoice.billing_reason) == (
        "paid",
        1500,
        "subscription_cycle",
    )
    events = events_since(client, known)
    assert [event["type"] for event in events] == PAID_RENEWAL
    assert outcome["events"] == len(PAID_RENEWAL)
    assert all(event["account"] == account for event in events)
    charge = events[3]["data"]["object"]
    assert (charge["invoice"], charge["status"]) == (invoice.id, "succeeded")
    update = events[1]["data"]
    assert update["object"]["latest_invoice"] == invoice.id
    assert update["previous_attributes"]["latest_invoice"] == subscription.latest_invoice


def test_a_declined_renewal_leaves_the_invoice_open_and_the_subscription_past_due(
    stripe_emulator, connected_client, new_account_id, paying_customer, monthly_price
):
    account = new_account_id()
    client = connected_client(account)
    subscription = subscribe(client, paying_customer, monthly_price)
    pay_with(client, subscription, DECLINED_AFTER_ATTACH)
    known = event_ids(client)

    stripe_emulator.renew(account)

    renewed = client.v1.subscriptions.retrieve(subscription.id)
    assert renewed.status == "past_due"
    invoice = client.v1.invoices.retrieve(renewed.latest_invoice)
    assert (invoice.status, invoice.amount_paid) == ("open", 0)
    events = events_since(client, known)
    assert [event["type"] for event in events] == [
        "invoice.created",
        "customer.subscription.updated",
        "invoice.finalized",
        "charge.failed",
        "payment_intent.payment_failed",
        "invoice.payment_failed",
        "customer.subscription.updated",
    ]
    assert events[-1]["data"]["previous_attributes"] == {"status": "active"}
    assert events[3]["data"]["object"]["invoice"] == invoice.id


def test_a_paid_renewal_brings_a_past_due_subscription_back_to_active(
    stripe_emulator, connected_client, new_account_id, paying_customer, monthly_price
):
    account = new_account_id()
    client = connected_client(account)
    subscription = subscribe(client, paying_customer, monthly_price)
    pay_with(client, subscription, DECLINED_AFTER_ATTACH)
    stripe_emulator.renew(account)
    assert client.v1.subscriptions.retrieve(subscription.id).status == "past_due"
    pay_with(client, subscription, TEST_CARD)
    known = event_ids(client)

    stripe_emulator.renew(account)

    assert client.v1.subscriptions.retrieve(subscription.id).status == "active"
    events = events_since(client, known)
    assert [event["type"] for event in events] == [*PAID_RENEWAL, "customer.subscription.updated"]
    assert events[-1]["data"]["previous_attributes"] == {"status": "past_due"}


def test_cancel_at_period_end_cancels_instead_and_only_named_ones_renew(
    stripe_emulator, connected_client, new_account_id, paying_customer, monthly_price
):
    account = new_account_id()
    client = connected_client(account)
    leaving = subscribe(client, paying_customer, monthly_price, cancel_at_period_end=True)
    staying = subscribe(client, paying_customer, monthly_price)
    untouched = subscribe(client, paying_customer, monthly_price)

    outcome = stripe_emulator.renew(account, [leaving.id, staying.id])

    assert outcome["renewed"] == [staying.id] and outcome["canceled"] == [leaving.id]
    assert client.v1.subscriptions.retrieve(leaving.id).status == "canceled"
    assert client.v1.invoices.list(params={"subscription": leaving.id}).data[0].id == (
        leaving.latest_invoice
    )
    after = client.v1.subscriptions.retrieve(untouched.id)
    assert after.latest_invoice == untouched.latest_invoice


def test_another_accounts_subscriptions_are_not_renewed(
    stripe_emulator, connected_client, new_account_id, paying_customer, monthly_price
):
    mine, theirs = new_account_id(), new_account_id()
    other = subscribe(connected_client(theirs), paying_customer, monthly_price)

    assert stripe_emulator.renew(mine) == {"renewed": [], "canceled": [], "events": 0}
    after = connected_client(theirs).v1.subscriptions.retrieve(other.id)
    assert after.latest_invoice == other.latest_invoice
    with pytest.raises(EmulatorError, match="404"):
        stripe_emulator.renew(mine, [other.id])
