"""What each subscription item costs, as Stripe prices it: never a sum that Stripe will not charge.

Rendering tests: the subscriptions are written into the cache as Stripe shapes them.
"""

from __future__ import annotations

import html as html_lib
import re
import time

from tests.portal.test_subscription_states import shown_date
from tests.support.cached_rows import cache, cache_preview, price, subscription
from tests.support.portal_client import sign_in


def card_text(page: str, title: str) -> str:
    """The visible text of the subscription card titled `title`, whitespace collapsed."""
    start = page.index(f"<h3>{title}</h3>")
    card = page[start : page.index("</article>", start)]
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", card))).strip()


def shown(portal, smtp_sink, title: str) -> str:
    sign_in(portal, smtp_sink, "ada@example.com")
    return card_text(portal.get("/account").text, title)


def named(name: str, **terms) -> dict:
    return price(nickname=name, **terms)


def test_items_of_different_intervals_are_never_summed(portal, merchant, smtp_sink):
    """A subscription may mix a monthly and a yearly price (flexible billing mode); each item
    keeps its own period, and invoices follow each item's period.
    https://docs.stripe.com/billing/subscriptions/mixed-interval"""
    monthly, yearly = named("Support", unit_amount=1000), named("Licence", unit_amount=12000,
                                                                 interval="year")  # fmt: skip
    sub = subscription(merchant.ada_first.id, [monthly, yearly])
    sub["items"]["data"][1]["current_period_end"] = int(time.time()) + 300 * 86400
    cache(merchant.tenant.id, monthly, yearly, sub)

    card = shown(portal, smtp_sink, "Support + Licence")

    assert "$130.00" not in card
    assert "$10.00 per month" in card and "$120.00 per year" in card
    # No preview: the next renewal bills the monthly item only, at an amount we do not know
    # for sure (proration, credit): the date is told, the amount is not guessed.
    assert "Next payment" in card and "amount not known yet" in card


def test_a_tiered_price_is_not_shown_as_zero_or_per_unit(portal, merchant, smtp_sink):
    """A tiered price has no unit_amount: what it costs depends on the quantity's tiers.
    https://docs.stripe.com/products-prices/pricing-models#tiered-pricing"""
    tiered = named("Seats", unit_amount=None, billing_scheme="tiered", tiers_mode="graduated")
    sub = subscription(merchant.ada_first.id, [tiered], quantities=[7])
    cache(merchant.tenant.id, tiered, sub)

    card = shown(portal, smtp_sink, "Seats")

    assert "$0.00" not in card
    assert "Seats × 7" in card and "tiered price" in card
    assert "amount not known yet" in card


def test_a_metered_price_is_billed_by_usage(portal, merchant, smtp_sink):
    """A metered price bills the period's usage at its end.
    https://docs.stripe.com/billing/subscriptions/usage-based"""
    metered = named("API calls", unit_amount=2)
    metered["recurring"]["usage_type"] = "metered"
    sub = subscription(merchant.ada_first.id, [metered])
    cache(merchant.tenant.id, metered, sub)

    card = shown(portal, smtp_sink, "API calls")

    assert "$0.02 per unit used per month" in card
    assert "$0.02 per month" not in card.replace("per unit used per month", "")
    assert "amount not known yet" in card


def test_a_sub_cent_price_shows_its_decimal_and_quantity_zero_is_zero(portal, merchant, smtp_sink):
    """unit_amount_decimal carries fractions of a cent (unit_amount is null then); a licensed
    item's quantity may be 0. https://docs.stripe.com/api/prices/object#price_object-unit_amount_decimal
    and https://docs.stripe.com/api/subscription_items/object#subscription_item_object-quantity"""
    messages = named("Messages", unit_amount=None, unit_amount_decimal="0.5")
    seats = named("Extra seats", unit_amount=500)
    sub = subscription(merchant.ada_first.id, [messages, seats], quantities=[1000, 0])
    cache(merchant.tenant.id, messages, seats, sub)

    card = shown(portal, smtp_sink, "Messages + Extra seats")

    assert "Messages × 1,000 ($0.005 each)" in card
    assert "Extra seats × 0 ($5.00 each)" in card
    assert "$5.00 per month" in card  # 1,000 × $0.005 + 0 × $5.00


def test_discounts_and_tax_are_not_left_out_of_the_next_payment(portal, merchant, smtp_sink):
    """Discounts and tax change what an invoice charges: the preview of the next invoice is
    the amount; without one the portal does not guess.
    https://docs.stripe.com/billing/subscriptions/coupons and
    https://docs.stripe.com/tax/subscriptions"""
    plan = named("Launch pad", unit_amount=4000)
    sub = subscription(
        merchant.ada_first.id, [plan], discounts=["di_test1"], automatic_tax={"enabled": True}
    )
    cache(merchant.tenant.id, plan, sub)

    card = shown(portal, smtp_sink, "Launch pad")

    assert "$40.00 per month before discounts and tax" in card
    assert "Next payment" in card and "amount not known yet" in card

    preview = {"currency": "usd", "amount_due": 3240, "period_end": sub["items"]["data"][0][
        "current_period_end"]}  # fmt: skip
    cache_preview(merchant.tenant.id, sub, preview)
    card = card_text(portal.get("/account").text, "Launch pad")
    assert f"$32.40 on {shown_date(preview['period_end'])}" in card
