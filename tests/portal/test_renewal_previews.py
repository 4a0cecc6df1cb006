"""After a renewal, a customer who signed in sees their new next charge: the renewal's events
refresh a preview that is cached (stripe_emulator/renewals.py renews as Stripe does).

https://docs.stripe.com/billing/subscriptions/webhooks
"""

from __future__ import annotations

import re

from app.billing.tasks import queue_tenant_events
from tests.portal.test_price_lines import card_text
from tests.support.cache_helpers import Shop
from tests.support.portal_client import sign_in


def next_payment(portal) -> str:
    """ "$55.00 on <date>" as the subscription's card words it."""
    text = card_text(portal.get("/account").text, "Rocket fuel")
    return re.search(r"\$[\d,.]+ on [A-Z][a-z]+ \d+, \d{4}", text).group(0)


def test_a_renewal_shows_the_new_next_charge_to_a_customer_who_signed_in(
    portal, merchant, smtp_sink, stripe_emulator
):
    # A one-off fee the merchant adds goes on the next invoice, and so into its preview.
    merchant.stripe.v1.invoice_items.create(
        params={"customer": merchant.ada_first.id, "amount": 500, "currency": "usd"}
    )
    sign_in(portal, smtp_sink, "ada@example.com")  # reads the next charge afresh
    before = next_payment(portal)
    assert before.startswith("$55.00 on ")
    shop = Shop(merchant.tenant.id, merchant.tenant.stripe_account_id, merchant.stripe)
    known = {event["id"] for event in shop.stripe_events()}

    stripe_emulator.renew(shop.account)
    for event in shop.stripe_events():
        if event["id"] not in known:
            shop.store(event)
    queue_tenant_events(shop.tenant_id)

    after = next_payment(portal)
    assert after.startswith("$50.00 on ")  # the fee was charged with the renewal
    assert after.split(" on ")[1] != before.split(" on ")[1]  # a period later
