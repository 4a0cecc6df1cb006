"""The next-charge preview follows what changes it: the customer (balance, address, coupon),
tax ids, discounts, the invoice Stripe announces, and a customer asking to sign in; an old one
says how old it is.

https://docs.stripe.com/billing/customer/balance (a balance applies to the next invoice),
https://docs.stripe.com/api/invoices/create_preview and
https://docs.stripe.com/billing/subscriptions/webhooks (invoice.upcoming)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app.billing.models import CachedSubscription, UpcomingInvoice
from app.billing.statuses import RENEWING_STATUSES
from app.billing.sync import event_target
from app.billing.tasks import process_stripe_event
from app.extensions import db
from tenants.context import tenant_context
from tenants.stripe_client import stripe_request_count
from tests.portal.test_billing_freshness import stored_event_about
from tests.portal.test_price_lines import card_text
from tests.support.portal_client import sign_in


def credit(merchant, amount: int) -> None:
    merchant.stripe.v1.customers.balance_transactions.create(
        merchant.ada_first.id, params={"amount": -amount, "currency": "usd"}
    )


def test_a_balance_credit_refreshes_the_next_payment(portal, merchant, smtp_sink):
    sign_in(portal, smtp_sink, "ada@example.com")
    assert "$50.00 on" in card_text(portal.get("/account").text, "Rocket fuel")

    credit(merchant, 1000)
    event_id = stored_event_about(merchant, merchant.ada_first.id)  # customer.updated
    assert process_stripe_event.delay(merchant.tenant.id, event_id).get().startswith("fetched")

    assert "$40.00 on" in card_text(portal.get("/account").text, "Rocket fuel")


def test_a_change_no_invoice_reads_costs_no_preview_request(portal, merchant, smtp_sink):
    """A new name changes nothing Stripe computes the next invoice from: the event costs one
    read of the customer and no preview of its subscriptions."""
    sign_in(portal, smtp_sink, "ada@example.com")
    merchant.stripe.v1.customers.update(merchant.ada_first.id, params={"name": "Ada King"})
    event_id = stored_event_about(merchant, merchant.ada_first.id)  # customer.updated

    before = stripe_request_count()
    assert process_stripe_event.delay(merchant.tenant.id, event_id).get().startswith("fetched")

    assert stripe_request_count() - before == 1


def test_a_balance_credit_costs_one_read_and_one_preview_per_previewed_subscription(
    portal, merchant, smtp_sink
):
    """Previews are kept for customers who signed in; a credit re-reads those and no others."""
    sign_in(portal, smtp_sink, "ada@example.com")  # reads the next charges Ada will look at
    credit(merchant, 1000)
    event_id = stored_event_about(merchant, merchant.ada_first.id)
    with tenant_context(merchant.tenant.id):
        renewing = set(merchant_renewing_subscriptions(merchant.ada_first.id))
        previewed = set(db.session.scalars(select(UpcomingInvoice.stripe_id)))  # sub ids
    assert renewing and renewing <= previewed

    before = stripe_request_count()
    process_stripe_event.delay(merchant.tenant.id, event_id).get()

    assert stripe_request_count() - before == 1 + len(renewing)


def test_asking_for_a_sign_in_email_refreshes_the_next_payment(portal, merchant, smtp_sink):
    credit(merchant, 1500)  # its webhook never arrived

    sign_in(portal, smtp_sink, "ada@example.com")

    assert "$35.00 on" in card_text(portal.get("/account").text, "Rocket fuel")


def test_a_preview_older_than_a_day_says_its_age(portal, merchant, smtp_sink):
    sign_in(portal, smtp_sink, "ada@example.com")
    with tenant_context(merchant.tenant.id):
        db.session.execute(
            update(UpcomingInvoice).values(synced_at=datetime.now(UTC) - timedelta(days=3))
        )
        db.session.commit()

    card = card_text(portal.get("/account").text, "Rocket fuel")

    assert "as of 3 days ago" in card


def merchant_renewing_subscriptions(customer_id: str) -> list[str]:
    return db.session.scalars(
        select(CachedSubscription.stripe_id).where(
            CachedSubscription.customer_id == customer_id,
            CachedSubscription.status.in_(RENEWING_STATUSES),
        )
    ).all()


def test_events_that_change_the_next_invoice_name_what_to_refresh():
    """Tax ids and balance transactions belong to a customer; invoice.upcoming describes a
    subscription's next invoice (it has no id of its own)."""
    about = lambda obj: event_target({"data": {"object": obj}})  # noqa: E731
    assert about({"object": "tax_id", "id": "txi_1", "customer": "cus_1"}) == (
        "customer", "cus_1",
    )  # fmt: skip
    assert about(
        {"object": "customer_balance_transaction", "id": "cbtxn_1", "customer": "cus_1"}
    ) == ("customer", "cus_1")
    upcoming = {"object": "invoice", "customer": "cus_1",
                "parent": {"subscription_details": {"subscription": "sub_1"}}}  # fmt: skip
    assert about(upcoming) == ("subscription", "sub_1")
