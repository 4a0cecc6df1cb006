"""Pausing payment collection: the subscription stays active and says how it is paused.

https://docs.stripe.com/billing/subscriptions/pause-payment
"""

from __future__ import annotations

import time

import pytest
import stripe


@pytest.fixture
def subscription(stripe_client, paying_customer, monthly_price):
    customer, _ = paying_customer(stripe_client)
    price = monthly_price(stripe_client)
    return stripe_client.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id}]}
    )


def test_a_paused_subscription_stays_active_until_collection_resumes(
    stripe_client, subscription, events_about
):
    assert subscription.pause_collection is None
    resumes_at = int(time.time()) + 30 * 86400

    paused = stripe_client.v1.subscriptions.update(
        subscription.id,
        params={"pause_collection": {"behavior": "void", "resumes_at": resumes_at}},
    )

    assert paused.status == "active"
    assert (paused.pause_collection.behavior, paused.pause_collection.resumes_at) == (
        "void",
        resumes_at,
    )
    (updated, *_) = events_about(stripe_client, "customer.subscription.updated", subscription.id)
    assert updated["data"]["previous_attributes"]["pause_collection"] is None

    resumed = stripe_client.v1.subscriptions.update(
        subscription.id, params={"pause_collection": ""}
    )
    assert resumed.pause_collection is None


@pytest.mark.parametrize("bad", [{"behavior": "sleep"}, {"behavior": "void", "resumes_at": 1}])
def test_a_wrong_pause_is_refused(stripe_client, subscription, bad):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.subscriptions.update(subscription.id, params={"pause_collection": bad})
    assert refused.value.http_status == 400
