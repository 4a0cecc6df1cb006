"""Subscriptions in states beyond "active and renewing": each is shown as Stripe will treat it."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from app.billing.tasks import process_stripe_event
from app.portal.formatting import date
from tests.portal.test_billing_freshness import stored_event_about
from tests.support.cached_rows import cache, invoice, price, subscription
from tests.support.portal_client import sign_in

DAY = 86400


def shown_date(timestamp: int) -> str:
    return date(datetime.fromtimestamp(timestamp, UTC))


def update_at_stripe(merchant, **params) -> None:
    """The merchant changes the subscription in Stripe; its webhook reaches the cache."""
    merchant.stripe.v1.subscriptions.update(merchant.subscription.id, params=params)
    event_id = stored_event_about(merchant, merchant.subscription.id)
    assert process_stripe_event.delay(merchant.tenant.id, event_id).get().startswith("fetched")


def subscription_card(html: str, title: str = "Rocket fuel") -> str:
    start = html.index(f"<h3>{title}</h3>")
    return html[start : html.index("</article>", start)]


def test_paused_collection_shows_payments_paused_and_no_next_payment(portal, merchant, smtp_sink):
    """pause_collection: the subscription stays active and invoices are created but not
    collected. https://docs.stripe.com/billing/subscriptions/pause-payment"""
    resumes_at = int(time.time()) + 40 * DAY
    update_at_stripe(merchant, pause_collection={"behavior": "void", "resumes_at": resumes_at})
    sign_in(portal, smtp_sink, "ada@example.com")

    card = subscription_card(portal.get("/account").text)

    assert "Payments paused" in card
    assert f"until {shown_date(resumes_at)}" in card
    assert "Next payment" not in card and "$50.00 on" not in card


def test_invoices_not_collected_during_a_pause_are_not_shown_as_failures(
    portal, merchant, smtp_sink
):
    """mark_uncollectible: each invoice made during the pause is marked uncollectible at once;
    nobody failed to pay it. https://docs.stripe.com/billing/subscriptions/pause-payment"""
    update_at_stripe(merchant, pause_collection={"behavior": "mark_uncollectible"})
    cache(
        merchant.tenant.id,
        invoice(
            merchant.ada_first.id,
            total=5000,
            status="uncollectible",
            subscription=merchant.subscription.id,
        ),
    )
    sign_in(portal, smtp_sink, "ada@example.com")

    html = portal.get("/account").text

    assert "Payments paused" in subscription_card(html)
    assert "until" not in subscription_card(html).split("Payments paused")[1][:40]
    assert "badge--danger" not in html
    assert "Not charged" in html


def test_a_fixed_cancellation_date_is_shown_as_the_end(portal, merchant, smtp_sink):
    """cancel_at: the subscription ends at that time (cancel_at_period_end stays false).
    https://docs.stripe.com/billing/subscriptions/cancel#cancel-at"""
    cancel_at = int(time.time()) + 10 * DAY  # before the period ends
    update_at_stripe(merchant, cancel_at=cancel_at)
    sign_in(portal, smtp_sink, "ada@example.com")

    card = subscription_card(portal.get("/account").text)

    assert f"Ends on</dt><dd>{shown_date(cancel_at)}" in card
    assert f"Ends {shown_date(cancel_at)}" in card  # the badge
    assert "Next payment" not in card
    assert "Cancel subscription" not in card  # it already ends


def test_a_cancellation_date_after_the_next_renewal_keeps_that_renewal(portal, merchant, smtp_sink):
    """cancel_at later than the current period: Stripe still renews until then.
    https://docs.stripe.com/billing/subscriptions/cancel#cancel-at"""
    cancel_at = int(time.time()) + 50 * DAY
    update_at_stripe(merchant, cancel_at=cancel_at)
    sign_in(portal, smtp_sink, "ada@example.com")

    card = subscription_card(portal.get("/account").text)

    assert f"Ends on</dt><dd>{shown_date(cancel_at)}" in card
    assert "Next payment" in card
    cancel = portal.get(f"/subscriptions/{merchant.subscription.id}/cancel").text
    period_end = merchant.stripe.v1.subscriptions.retrieve(merchant.subscription.id)
    end = period_end["items"]["data"][0]["current_period_end"]
    assert f"active until <strong>{shown_date(end)}</strong>" in cancel


def test_cancelling_a_past_due_subscription_says_what_happens_to_the_open_invoice(
    portal, merchant, smtp_sink
):
    """Cancelling at period end stops new invoices, but an open invoice stays due and Stripe
    keeps retrying it (Smart Retries) unless the merchant voids it.
    https://docs.stripe.com/billing/subscriptions/cancel (Invoices after cancellation) and
    https://docs.stripe.com/billing/subscriptions/pause-payment (Before you begin)"""
    plan = price(unit_amount=3000)
    sub = subscription(merchant.ada_first.id, [plan], status="past_due")
    due = invoice(merchant.ada_first.id, total=3000, status="open", subscription=sub["id"])
    cache(merchant.tenant.id, plan, sub, due)
    sign_in(portal, smtp_sink, "ada@example.com")

    page = portal.get(f"/subscriptions/{sub['id']}/cancel").text

    assert "will not be charged again" not in page
    assert re.search(r"invoice\s+<strong>" + due["number"] + r"</strong>\s+\(\$30\.00\)", page)
    assert "still due" in page
