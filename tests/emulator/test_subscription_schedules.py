"""Subscription schedules: phases planned ahead, released or canceled as Stripe does.

https://docs.stripe.com/billing/subscriptions/subscription-schedules and
https://docs.stripe.com/api/subscription_schedules/release
"""

from __future__ import annotations

import pytest
import stripe


@pytest.fixture
def scheduled(stripe_client, paying_customer, monthly_price):
    """A monthly subscription whose schedule moves it to a dearer price after this period."""
    customer, _ = paying_customer(stripe_client)
    now_price, later_price = monthly_price(stripe_client), monthly_price(stripe_client, 3000)
    subscription = stripe_client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": now_price.id}]}
    )
    schedule = stripe_client.v1.subscription_schedules.create(
        params={"from_subscription": subscription.id}
    )
    first = schedule.phases[0]
    schedule = stripe_client.v1.subscription_schedules.update(
        schedule.id,
        params={
            "phases": [
                {"items": [{"price": now_price.id}], "start_date": first.start_date,
                 "end_date": first.end_date},
                {"items": [{"price": later_price.id, "quantity": 2}], "iterations": 1},
            ]
        },
    )  # fmt: skip
    return subscription, schedule, later_price


def test_a_schedule_takes_over_its_subscription_and_plans_phases(
    stripe_client, scheduled, events_about
):
    subscription, schedule, later_price = scheduled

    assert stripe_client.v1.subscriptions.retrieve(subscription.id).schedule == schedule.id
    assert (schedule.status, schedule.end_behavior) == ("active", "release")
    assert schedule.current_phase.end_date == schedule.phases[1].start_date
    expanded = stripe_client.v1.subscription_schedules.retrieve(
        schedule.id, params={"expand": ["phases.items.price.product"]}
    )
    item = expanded.phases[1]["items"][0]
    assert (item.price.id, item.price.unit_amount, item.quantity) == (later_price.id, 3000, 2)
    assert item.price.product.name == "Plan 3000"
    assert events_about(stripe_client, "subscription_schedule.updated", schedule.id)


def test_cancelling_a_scheduled_subscription_directly_is_refused(stripe_client, scheduled):
    subscription, schedule, _ = scheduled
    with pytest.raises(stripe.InvalidRequestError, match="managed by the subscription schedule"):
        stripe_client.v1.subscriptions.update(
            subscription.id, params={"cancel_at_period_end": True}
        )


def test_releasing_leaves_the_subscription_free_to_cancel(stripe_client, scheduled, events_about):
    subscription, schedule, _ = scheduled

    released = stripe_client.v1.subscription_schedules.release(schedule.id)

    assert (released.status, released.released_subscription) == ("released", subscription.id)
    assert stripe_client.v1.subscriptions.retrieve(subscription.id).schedule is None
    assert events_about(stripe_client, "subscription_schedule.released", schedule.id)
    ending = stripe_client.v1.subscriptions.update(
        subscription.id, params={"cancel_at_period_end": True}
    )
    assert ending.cancel_at_period_end is True


def test_cancelling_the_schedule_cancels_the_subscription_now(stripe_client, scheduled):
    subscription, schedule, _ = scheduled

    assert stripe_client.v1.subscription_schedules.cancel(schedule.id).status == "canceled"

    assert stripe_client.v1.subscriptions.retrieve(subscription.id).status == "canceled"
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.subscription_schedules.release(schedule.id)
