"""A trial ending without a payment method pauses the subscription; resuming bills it.

https://docs.stripe.com/billing/subscriptions/trials/free-trials and
https://docs.stripe.com/api/subscriptions/resume
"""

from __future__ import annotations

import pytest
import stripe

from tests.emulator.conftest import TEST_CARD

PAUSE = {"end_behavior": {"missing_payment_method": "pause"}}


@pytest.fixture
def cardless_trial(stripe_client, monthly_price):
    customer = stripe_client.v1.customers.create(params={"email": "ada@example.com"})
    return stripe_client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": monthly_price(stripe_client).id}],
            "trial_period_days": 14,
            "trial_settings": PAUSE,
        }
    )


def end_trial(client, subscription):
    return client.v1.subscriptions.update(subscription.id, params={"trial_end": "now"})


def test_a_trial_ending_without_a_payment_method_pauses(
    stripe_client, cardless_trial, events_about
):
    assert cardless_trial.trial_settings.end_behavior.missing_payment_method == "pause"

    paused = end_trial(stripe_client, cardless_trial)

    assert paused.status == "paused"
    assert events_about(stripe_client, "customer.subscription.paused", cardless_trial.id)
    invoices = stripe_client.v1.invoices.list(params={"subscription": cardless_trial.id})
    assert [invoice.total for invoice in invoices.data] == [0]  # the trial's only


def test_resuming_with_a_card_bills_a_new_period_and_activates(
    stripe_client, cardless_trial, events_about
):
    end_trial(stripe_client, cardless_trial)
    method = stripe_client.v1.payment_methods.create(params={"type": "card", "card": TEST_CARD})
    stripe_client.v1.payment_methods.attach(method.id, params={"customer": cardless_trial.customer})
    stripe_client.v1.subscriptions.update(
        cardless_trial.id, params={"default_payment_method": method.id}
    )

    resumed = stripe_client.v1.subscriptions.resume(cardless_trial.id)

    assert resumed.status == "active"
    invoice = stripe_client.v1.invoices.retrieve(resumed.latest_invoice)
    assert (invoice.status, invoice.total) == ("paid", 1500)
    assert events_about(stripe_client, "customer.subscription.resumed", cardless_trial.id)


def test_only_a_paused_subscription_resumes(stripe_client, cardless_trial):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.subscriptions.resume(cardless_trial.id)
    assert refused.value.http_status == 400


def test_a_trial_with_a_card_bills_as_usual(stripe_client, paying_customer, monthly_price):
    customer, _ = paying_customer(stripe_client)
    trial = stripe_client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": monthly_price(stripe_client).id}],
            "trial_period_days": 14,
            "trial_settings": PAUSE,
        }
    )
    assert end_trial(stripe_client, trial).status == "active"
