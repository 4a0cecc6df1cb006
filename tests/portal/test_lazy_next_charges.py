"""Next-charge previews and the cards that are nobody's default are not copied by a backfill: they
are read when the customer asks for a sign-in email. Until then the page shows the prices' sum,
labelled as an estimate; a customer who never signs in costs no preview request at all."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from app.billing.backfill import backfill
from app.billing.models import CachedPaymentMethod, UpcomingInvoice
from app.demo.stripe_data import CARD_DETAILS, MASTERCARD
from app.extensions import db
from tenants.context import tenant_context
from tenants.stripe_client import stripe_client_for
from tests.portal.test_price_lines import card_text
from tests.support.portal_client import sign_in

ESTIMATE = "estimated from the prices"


def previews(merchant) -> int:
    with tenant_context(merchant.tenant.id):
        return db.session.scalar(select(func.count(UpcomingInvoice.id)))


def test_signing_in_reads_the_exact_next_amount_and_every_card(portal, merchant, smtp_sink):
    # Changes whose webhooks never arrived: a credit (the next charge is $10.00 less than the
    # prices say) and a second card that is not the default.
    merchant.stripe.v1.customers.balance_transactions.create(
        merchant.ada_first.id, params={"amount": -1000, "currency": "usd"}
    )
    spare = merchant.stripe.v1.payment_methods.create(
        params={"type": "card", "card": {"number": MASTERCARD, **CARD_DETAILS}}
    )
    merchant.stripe.v1.payment_methods.attach(spare.id, params={"customer": merchant.ada_first.id})
    assert previews(merchant) == 0  # the backfill read none
    with tenant_context(merchant.tenant.id):
        assert spare.id not in db.session.scalars(select(CachedPaymentMethod.stripe_id)).all()

    sign_in(portal, smtp_sink, "ada@example.com")

    page = portal.get("/account").text
    card = card_text(page, "Rocket fuel")
    assert "$40.00 on" in card and ESTIMATE not in card  # 2 × $25.00 - $10.00, Stripe's figure
    with tenant_context(merchant.tenant.id):  # the spare card, read at sign-in
        cached = db.session.scalars(select(CachedPaymentMethod.stripe_id)).all()
    assert spare.id in cached


def test_until_the_preview_is_read_the_page_shows_the_prices_estimate_labelled(
    portal, merchant, smtp_sink
):
    sign_in(portal, smtp_sink, "ada@example.com")
    with tenant_context(merchant.tenant.id):
        db.session.execute(delete(UpcomingInvoice))
        db.session.commit()

    card = card_text(portal.get("/account").text, "Rocket fuel")

    assert "$50.00 on" in card and ESTIMATE in card


def test_a_customer_who_never_signs_in_costs_no_preview_request(
    portal, merchant, smtp_sink, stripe_emulator
):
    everyone = merchant.stripe.v1.customers.list(params={"limit": 10}).data
    grace_id = next(c.id for c in everyone if c.email == "grace@example.com")
    graces = merchant.stripe.v1.subscriptions.create(
        params={"customer": grace_id, "items": [{"price": merchant.price.id}]}
    )
    account = merchant.tenant.stripe_account_id
    before = stripe_emulator.api_request_count(account)
    with tenant_context(merchant.tenant.id):
        backfill(stripe_client_for(merchant.tenant))
    # products, prices, customers, subscriptions, schedules, open and uncollectible invoices:
    # one page each, nothing else
    assert stripe_emulator.api_request_count(account) - before == 7

    before = stripe_emulator.api_request_count(account)
    sign_in(portal, smtp_sink, "ada@example.com")
    # Ada's two customers' cards (a list each), her one renewing subscription's preview, and
    # each customer's invoice history (a list each, read at a first sign-in only).
    assert stripe_emulator.api_request_count(account) - before == 2 + 1 + 2

    with tenant_context(merchant.tenant.id):
        previewed = db.session.scalars(select(UpcomingInvoice.stripe_id)).all()
    assert previewed == [merchant.subscription.id]
    assert graces.id not in previewed
