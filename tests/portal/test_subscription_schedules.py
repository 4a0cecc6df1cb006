"""Subscriptions driven by a schedule: the phases ahead are shown, and cancelling goes
through the schedule (Stripe refuses a direct cancellation while a schedule manages it).

https://docs.stripe.com/billing/subscriptions/subscription-schedules and
https://docs.stripe.com/api/subscription_schedules/release
"""

from __future__ import annotations

import pytest

from app.billing.tasks import process_stripe_event
from tests.portal.test_account import action
from tests.portal.test_billing_freshness import stored_event_about
from tests.portal.test_price_lines import card_text
from tests.portal.test_subscription_states import shown_date
from tests.support.portal_client import sign_in


def deliver(merchant, object_id: str) -> None:
    """The newest event about `object_id` reaches the cache, as its webhook would."""
    event_id = stored_event_about(merchant, object_id)
    assert process_stripe_event.delay(merchant.tenant.id, event_id).get().startswith("fetched")


@pytest.fixture
def schedule(merchant):
    """Rocket fuel moves to 3 × Rocket fuel XL when this period ends, by the merchant's schedule."""
    client = merchant.stripe
    xl = client.v1.prices.create(
        params={"currency": "usd", "unit_amount": 4000, "recurring": {"interval": "month"},
                "product_data": {"name": "Rocket fuel XL"}}
    )  # fmt: skip
    made = client.v1.subscription_schedules.create(
        params={"from_subscription": merchant.subscription.id}
    )
    first = made.phases[0]
    updated = client.v1.subscription_schedules.update(
        made.id,
        params={"phases": [
            {"items": [{"price": merchant.price.id, "quantity": 2}],
             "start_date": first.start_date, "end_date": first.end_date},
            {"items": [{"price": xl.id, "quantity": 3}], "iterations": 1},
        ]},
    )  # fmt: skip
    deliver(merchant, made.id)
    deliver(merchant, merchant.subscription.id)  # it now names its schedule
    return updated


def test_the_phases_ahead_are_shown(portal, merchant, smtp_sink, schedule):
    sign_in(portal, smtp_sink, "ada@example.com")

    card = card_text(portal.get("/account").text, "Rocket fuel")

    change_at = shown_date(schedule.phases[1].start_date)
    assert f"From {change_at}: Rocket fuel XL × 3 ($40.00 each)" in card


def test_cancelling_releases_the_schedule_and_says_the_changes_will_not_happen(
    portal, merchant, smtp_sink, schedule
):
    sign_in(portal, smtp_sink, "ada@example.com")
    confirm = portal.get(f"/subscriptions/{merchant.subscription.id}/cancel")
    assert "planned changes" in confirm.text and "will not happen" in confirm.text

    done = action(portal, f"/subscriptions/{merchant.subscription.id}/cancel", confirm.text)

    assert done.status_code == 302
    page = portal.get("/account").text
    assert "try again" not in page.lower()
    remote = merchant.stripe.v1.subscriptions.retrieve(merchant.subscription.id)
    assert remote.cancel_at_period_end is True and remote.schedule is None
    assert merchant.stripe.v1.subscription_schedules.retrieve(schedule.id).status == "released"
    assert "Rocket fuel XL" not in card_text(page, "Rocket fuel")


def test_a_schedule_set_to_cancel_at_its_end_is_shown_as_the_end(
    portal, merchant, smtp_sink, schedule
):
    merchant.stripe.v1.subscription_schedules.update(schedule.id, params={"end_behavior": "cancel"})
    deliver(merchant, schedule.id)
    sign_in(portal, smtp_sink, "ada@example.com")

    card = card_text(portal.get("/account").text, "Rocket fuel")

    assert f"Ends on {shown_date(schedule.phases[-1].end_date)}" in card
