"""A backfill copies only the invoices a customer can still pay; a customer's whole invoice history
is read once, in the task that runs when they ask for a sign-in email. Until it is read, the
invoices page says older invoices are still being loaded; a customer who never signs in costs no
request for it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.billing.backfill import backfill
from app.billing.models import CachedCustomer, CachedInvoice, SyncState
from app.billing.upsert import apply_stripe_object
from app.clock import utcnow
from app.demo.stripe_data import create_paying_customer, open_invoice
from app.extensions import db
from tenants.context import tenant_context
from tenants.stripe_client import stripe_client_for
from tests.support.portal_client import sign_in

LOADING = "Older invoices are still being loaded"


def paid_invoice(merchant, customer_id: str, amount: int):
    invoice = open_invoice(merchant.stripe, customer_id, amount=amount)
    return merchant.stripe.v1.invoices.pay(invoice.id)


def cached_invoice_ids(merchant) -> set[str]:
    db.session.expire_all()
    with tenant_context(merchant.tenant.id):
        return set(db.session.scalars(select(CachedInvoice.stripe_id)).all())


def history_read_at(merchant, customer_id: str):
    db.session.expire_all()
    with tenant_context(merchant.tenant.id):
        return db.session.scalars(
            select(CachedCustomer.invoice_history_read_at).where(
                CachedCustomer.stripe_id == customer_id
            )
        ).one()


def sign_in_again(client_for, merchant, smtp_sink, email: str):
    """A later sign-in (another browser, or after signing out): a new client, signed in."""
    browser = client_for(merchant.tenant.subdomain)
    sign_in(browser, smtp_sink, email)
    return browser


def grace_id(merchant) -> str:
    everyone = merchant.stripe.v1.customers.list(params={"limit": 10}).data
    return next(c.id for c in everyone if c.email == "grace@example.com")


@pytest.fixture
def history(merchant, stripe_emulator):
    """Paid invoices of Ada's and Grace's made before the account was copied (again): the
    backfill leaves them at Stripe. Returns {name: invoice}."""
    made = {
        "ada_march": paid_invoice(merchant, merchant.ada_first.id, 1100),
        "ada_april": paid_invoice(merchant, merchant.ada_first.id, 1200),
        "workshop_may": paid_invoice(merchant, merchant.ada_second.id, 1300),
        "grace_june": paid_invoice(merchant, grace_id(merchant), 1400),
    }
    with tenant_context(merchant.tenant.id):
        backfill(stripe_client_for(merchant.tenant))
    return made


def test_the_backfill_copies_the_open_invoice_and_none_of_the_paid_history(merchant, history):
    cached = cached_invoice_ids(merchant)
    assert cached == {merchant.open_invoice.id}  # the subscription's first invoice is paid too
    for name in ("ada_march", "ada_april", "workshop_may", "grace_june"):
        assert history[name].status == "paid" and history[name].id not in cached


def test_signing_in_reads_the_whole_history_once_and_a_second_sign_in_reads_none(
    portal, merchant, history, smtp_sink, stripe_emulator, client_for
):
    account = merchant.tenant.stripe_account_id
    first_invoice = merchant.stripe.v1.subscriptions.retrieve(merchant.subscription.id)
    first_invoice = first_invoice.latest_invoice
    before = stripe_emulator.api_request_count(account)

    sign_in(portal, smtp_sink, "ada@example.com")

    # Ada's two customers: a card list each, the one renewing subscription's preview, and an
    # invoice list each (a page holds 100: one request a customer).
    assert stripe_emulator.api_request_count(account) - before == 2 + 1 + 2
    page = portal.get("/invoices")
    assert page.status_code == 200 and LOADING not in page.text
    for name, amount in (("ada_march", "$11.00"), ("ada_april", "$12.00"),
                         ("workshop_may", "$13.00")):  # fmt: skip
        assert history[name].number in page.text and amount in page.text
    assert first_invoice in cached_invoice_ids(merchant)
    assert history["grace_june"].id not in cached_invoice_ids(merchant)  # not Ada's to read
    read_at = history_read_at(merchant, merchant.ada_first.id)
    assert read_at is not None and history_read_at(merchant, merchant.ada_second.id) is not None

    before = stripe_emulator.api_request_count(account)
    later = sign_in_again(client_for, merchant, smtp_sink, "ada@example.com")
    # Cards and the preview again (they change without a webhook we could trust), no history:
    # webhooks keep it current.
    assert stripe_emulator.api_request_count(account) - before == 2 + 1
    assert history_read_at(merchant, merchant.ada_first.id) == read_at
    assert history["ada_march"].number in later.get("/invoices").text


def test_a_customer_who_never_signs_in_costs_no_history_read(
    portal, merchant, history, smtp_sink, stripe_emulator
):
    account = merchant.tenant.stripe_account_id
    before = stripe_emulator.api_request_count(account)
    sign_in(portal, smtp_sink, "ada@example.com")
    assert stripe_emulator.api_request_count(account) - before == 2 + 1 + 2  # Ada's alone

    grace = grace_id(merchant)
    assert history_read_at(merchant, grace) is None
    with tenant_context(merchant.tenant.id):
        graces = db.session.scalars(
            select(CachedInvoice.stripe_id).where(CachedInvoice.customer_id == grace)
        ).all()
    assert graces == []  # her paid invoice stays at Stripe until she asks to sign in


def test_the_notice_shows_while_the_history_is_unread_and_goes_once_it_is_read(
    portal, merchant, history, smtp_sink, client_for
):
    sign_in(portal, smtp_sink, "ada@example.com")
    with tenant_context(merchant.tenant.id):  # as if the sign-in read had not happened yet
        workshop = db.session.scalars(
            select(CachedCustomer).where(CachedCustomer.stripe_id == merchant.ada_second.id)
        ).one()
        workshop.invoice_history_read_at = None
        db.session.commit()

    page = portal.get("/invoices")
    assert page.status_code == 200
    assert LOADING in page.text and 'class="notice notice--stale" role="status"' in page.text
    account = portal.get("/account").text
    assert account.count(LOADING) == 1  # under the workshop's recent invoices, not Ada's own

    later = sign_in_again(client_for, merchant, smtp_sink, "ada@example.com")
    assert LOADING not in later.get("/invoices").text
    assert LOADING not in later.get("/account").text
    assert history["workshop_may"].number in later.get("/invoices").text


def test_stripe_unreachable_during_the_read_leaves_the_notice_and_the_next_sign_in_reads_it(
    portal, merchant, history, smtp_sink, stripe_emulator, app, client_for
):
    account = merchant.tenant.stripe_account_id
    original = app.config["STRIPE_API_BASE"]
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # nothing listens there
    try:
        sign_in(portal, smtp_sink, "ada@example.com")  # the email needs no Stripe: it goes
    finally:
        app.config["STRIPE_API_BASE"] = original
    assert history_read_at(merchant, merchant.ada_first.id) is None

    page = portal.get("/invoices")
    assert page.status_code == 200
    assert LOADING in page.text
    assert merchant.open_invoice.number in page.text  # what can be paid is there already
    assert history["ada_march"].number not in page.text

    before = stripe_emulator.api_request_count(account)
    later = sign_in_again(client_for, merchant, smtp_sink, "ada@example.com")
    assert stripe_emulator.api_request_count(account) - before == 2 + 1 + 2  # read this time
    page = later.get("/invoices")
    assert LOADING not in page.text and history["ada_march"].number in page.text


def test_a_customer_created_after_the_copy_began_needs_no_history_read(
    portal, merchant, smtp_sink, stripe_emulator
):
    with tenant_context(merchant.tenant.id):  # connected and copied a minute ago
        state = db.session.scalars(select(SyncState)).one()
        state.backfill_started_at -= timedelta(minutes=1)
        merchant.tenant.stripe_connected_at -= timedelta(minutes=1)
        db.session.commit()
    # Made after the backfill started: each of their invoices reaches the cache by webhook
    # (here: written as the webhook's re-fetch writes it).
    newcomer, _ = create_paying_customer(merchant.stripe, "new@example.com", "New Customer")
    invoice = paid_invoice(merchant, newcomer.id, 1500)
    with tenant_context(merchant.tenant.id):
        for obj in (newcomer, invoice):
            apply_stripe_object(merchant.stripe.raw_request(
                "get", f"/v1/{obj.object}s/{obj.id}").data, utcnow())  # fmt: skip
        db.session.commit()
    account = merchant.tenant.stripe_account_id
    before = stripe_emulator.api_request_count(account)

    sign_in(portal, smtp_sink, "new@example.com")

    assert stripe_emulator.api_request_count(account) - before == 1  # their cards; no history
    assert history_read_at(merchant, newcomer.id) is not None
    page = portal.get("/invoices").text
    assert LOADING not in page and invoice.number in page
