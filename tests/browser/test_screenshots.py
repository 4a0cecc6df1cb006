"""Every page a person sees, at desktop and phone width, saved to test-artifacts/screenshots/.

Look at them after a change to a template or app.css: they are how the pages are reviewed.
"""

import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete, func, select, update

from app.billing.models import CachedCustomer, UpcomingInvoice
from app.billing.tasks import reconcile_tenant
from app.extensions import db
from tenants.context import tenant_context
from tests.portal.conftest import euro_invoice_paid_by_debit
from tests.support.cached_rows import (
    cache,
    cache_preview,
    invoice,
    new_id,
    payment_method,
    price,
    subscription,
)

pytestmark = pytest.mark.browser


def test_screenshots_of_the_sign_in_pages_and_emails(visitor):
    page = visitor.page
    page.goto("/")
    visitor.check("login")

    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_label("Email address")).to_have_attribute("aria-invalid", "true")
    visitor.check("login-error")

    visitor.shoot_email("email-no-account", visitor.ask_for_link("nobody@example.com"))
    message = visitor.ask_for_link("ada@example.com")
    visitor.check("check-email")
    visitor.shoot_email("email-login-link", message)

    page.get_by_label("6-digit code").fill("000000")
    page.get_by_role("button", name="Sign in with code").click()
    expect(page.get_by_label("6-digit code")).to_have_attribute("aria-invalid", "true")
    visitor.check("check-email-wrong-code")

    visitor.open_link(message)
    visitor.check("confirm-link")

    page.goto("/login/verify/" + "x" * 43)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    visitor.check("expired-link")

    page.goto("/login/password")
    visitor.check("password-login")
    page.get_by_label("Email address").fill("ada@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    visitor.check("password-login-error")

    page.goto("/no-such-page")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    visitor.check("error-404")


def test_screenshots_of_the_account_pages(visitor):
    page = visitor.page
    visitor.sign_in("ada@example.com")
    expect(page.get_by_role("heading", level=2, name="Ada Lovelace")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="Ada's workshop")).to_be_visible()
    visitor.check("account")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Invoices").click()
    visitor.check("invoices")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
    page.get_by_role("link", name="Cancel subscription").click()
    visitor.check("cancel")
    page.get_by_role("button", name="Cancel at period end").click()
    expect(page.get_by_role("button", name="Keep my subscription")).to_be_visible()
    visitor.check("account-cancelling")

    page.goto(f"/card?customer={visitor.shop.ada_first.id}")
    expect(page.get_by_placeholder("number")).to_be_visible()
    visitor.check("card")
    page.get_by_placeholder("number").fill("4000000000000002")  # declined
    page.get_by_placeholder("exp_month").fill("12")
    page.get_by_placeholder("exp_year").fill("30")
    page.get_by_placeholder("cvc").fill("123")
    page.get_by_placeholder("postal_code").fill("10115")
    page.get_by_role("button", name="Save card").click()
    expect(page.get_by_role("alert")).to_be_visible()
    visitor.check("card-declined")

    page.goto("/account/password")
    visitor.check("password")

    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    visitor.check("signed-out")


def test_screenshot_of_the_account_page_while_stripe_is_unreachable(visitor, stripe_emulator):
    page = visitor.page
    visitor.sign_in("ada@example.com")
    stripe_emulator.add_fault("outage", status=503, account=visitor.shop.tenant.stripe_account_id)
    try:  # the worker's reconciliation fails; no customer has tried anything
        found = reconcile_tenant.apply_async(args=[visitor.shop.tenant.id], ignore_result=False)
        found.get(timeout=20, propagate=False)
    finally:
        stripe_emulator.remove_fault("outage")
    page.reload()
    expect(page.get_by_role("status")).to_contain_text("Billing details may be out of date")
    visitor.check("account-stripe-unreachable")


def _wait_for_the_sign_in_read(tenant_id: int, email: str) -> None:
    """The worker reads what a backfill leaves (cards, next charges, invoice history) after the
    sign-in email, in one transaction: wait, up to 20 s, until it has landed for `email`."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with tenant_context(tenant_id):
            unread = db.session.scalar(
                select(func.count(CachedCustomer.id)).where(
                    CachedCustomer.email_normalized == email,
                    CachedCustomer.invoice_history_read_at.is_(None),
                )
            )
            db.session.rollback()
        if not unread:
            return
        time.sleep(0.1)


def test_screenshot_of_the_account_page_before_its_next_charge_is_read(visitor):
    """A backfill reads no previews; the sign-in's own read may not have landed yet."""
    page = visitor.page
    visitor.sign_in("ada@example.com")
    tenant_id = visitor.shop.tenant.id
    _wait_for_the_sign_in_read(tenant_id, "ada@example.com")
    with tenant_context(tenant_id):
        db.session.execute(delete(UpcomingInvoice))
        db.session.commit()
    page.reload()
    expect(page.get_by_text("estimated from the prices")).to_be_visible()
    visitor.check("account-estimated-next-charge")


def test_screenshots_of_the_invoices_while_their_history_is_still_being_read(visitor):
    """A backfill copies only the invoices still to pay; the rest come with the first sign-in's
    read, which may not have landed (or may have failed) when the customer looks."""
    page = visitor.page
    visitor.sign_in("ada@example.com")
    tenant_id = visitor.shop.tenant.id
    _wait_for_the_sign_in_read(tenant_id, "ada@example.com")
    with tenant_context(tenant_id):
        db.session.execute(update(CachedCustomer).values(invoice_history_read_at=None))
        db.session.commit()
    page.goto("/invoices")
    expect(page.get_by_role("status")).to_contain_text("Older invoices are still being loaded")
    visitor.check("invoices-history-loading")


def test_screenshots_of_payment_outcomes_and_error_pages(
    visitor, shop, live_server, bank_settlement
):
    page = visitor.page
    for _ in range(6):  # one address asks for links too often: the sixth is refused
        page.goto("/")
        page.get_by_label("Email address").fill("nobody@example.com")
        page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Slow down")
    visitor.check("error-429")

    page.goto(live_server.tenant_url("no-such-shop") + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    visitor.check("error-404-unknown-host")

    visitor.sign_in("ada@example.com")
    page.goto("/no-such-page")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    visitor.check("error-404-signed-in")

    page.route("**/js.stripe.com/v3/**", lambda route: route.abort("aborted"))
    page.goto(f"/card?customer={shop.ada_first.id}")
    expect(page.get_by_role("alert")).to_be_visible()
    visitor.check("card-no-stripe-js")
    page.unroute("**/js.stripe.com/v3/**")

    bank_settlement(3600)  # the bank has not answered yet
    processing = euro_invoice_paid_by_debit(shop, "AT611904300234573201")
    page.goto("/invoices")
    page.get_by_role("button", name=f"Pay €25.00 for invoice {processing.number}").click()
    expect(page.get_by_role("status")).to_contain_text("is being processed")
    visitor.check("payment-processing")

    bank_settlement(0)  # the bank's refusal is in Stripe's answer
    refused = euro_invoice_paid_by_debit(shop, "AT861904300235473202")
    page.goto("/account")
    page.get_by_role("button", name=f"Pay €25.00 for invoice {refused.number}").click()
    expect(page.get_by_role("alert")).to_contain_text("did not go through")
    visitor.check("payment-failed")


def customer(customer_id: str, name: str, default_method: str | None = None) -> dict:
    return {
        "id": customer_id,
        "object": "customer",
        "email": "ada@example.com",
        "name": name,
        "currency": None,
        "invoice_settings": {"default_payment_method": default_method},
        "created": int(time.time()),
    }


def test_screenshots_of_billing_states(visitor, shop):
    """Paused collection, a fixed end date, dinars, a bank account, Link, no default card and a
    past-due cancellation, as the customer sees them."""
    page = visitor.page
    now = int(time.time())
    lab, studio, garage = new_id("cus"), new_id("cus"), new_id("cus")
    ach = payment_method(lab, "us_bank_account", bank_name="STRIPE TEST BANK", last4="6789")
    link = payment_method(studio, "link", email="ada.link@example.com")
    spare = payment_method(garage, "card", brand="visa", last4="4242", exp_month=4, exp_year=2031)
    dinars = price(unit_amount=12500, currency="kwd")
    paused = subscription(
        lab, [dinars],
        pause_collection={"behavior": "mark_uncollectible", "resumes_at": now + 40 * 86400},
    )  # fmt: skip
    monthly = price(unit_amount=1900)
    ending = subscription(studio, [monthly], cancel_at=now + 10 * 86400)
    trial = subscription(garage, [monthly], status="trialing", trial_end=now + 14 * 86400)
    overdue = subscription(garage, [monthly], status="past_due")
    cache(
        shop.tenant.id,
        customer(lab, "Ada's lab", ach["id"]), customer(studio, "Ada's studio", link["id"]),
        customer(garage, "Ada's garage"), ach, link, spare, dinars, monthly,
        paused, ending, trial, overdue,
        invoice(lab, total=12500, currency="kwd", subscription=paused["id"], created=now - 86400),
        invoice(lab, total=12500, currency="kwd", status="uncollectible",
                subscription=paused["id"]),
        invoice(garage, total=1900, status="open", subscription=overdue["id"]),
    )  # fmt: skip

    visitor.sign_in("ada@example.com")
    expect(page.get_by_role("heading", level=2, name="Ada's lab")).to_be_visible()
    expect(page.get_by_text("Payments paused").first).to_be_visible()
    visitor.check("account-billing-states")

    page.goto(f"/subscriptions/{overdue['id']}/cancel")
    expect(page.get_by_text("is still due")).to_be_visible()
    visitor.check("cancel-past-due")

    # How prices are billed: two intervals, tiers, usage, fractions of a cent and quantity 0,
    # with a discount and tax; a trial that ended without a card; a schedule's planned change;
    # a next-charge preview read days ago.
    lab2, works = new_id("cus"), new_id("cus")
    support = price(unit_amount=1000, nickname="Support")
    licence = price(unit_amount=12000, interval="year", nickname="Licence")
    seats = price(unit_amount=None, billing_scheme="tiered", tiers_mode="graduated",
                  nickname="Seats")  # fmt: skip
    calls = price(unit_amount=2, nickname="API calls")
    calls["recurring"]["usage_type"] = "metered"
    texts = price(unit_amount=None, unit_amount_decimal="0.5", nickname="Messages")
    mixed = subscription(lab2, [support, licence], discounts=["di_shot"],
                         automatic_tax={"enabled": True})  # fmt: skip
    usage = subscription(lab2, [seats, calls, texts], quantities=[7, 1, 1000])
    cardless = subscription(works, [monthly], status="paused", trial_end=now - 86400)
    later = price(unit_amount=4000, nickname="Rocket fuel XL")
    planned = subscription(works, [monthly], schedule="sub_sched_shot")
    schedule = {
        "id": "sub_sched_shot", "object": "subscription_schedule", "customer": works,
        "subscription": planned["id"], "status": "active", "end_behavior": "release",
        "phases": [
            {"start_date": now - 86400, "end_date": now + 20 * 86400,
             "items": [{"price": monthly["id"], "quantity": 1}]},
            {"start_date": now + 20 * 86400, "end_date": now + 50 * 86400,
             "items": [{"price": later["id"], "quantity": 3}]},
        ],
    }  # fmt: skip
    cache(
        shop.tenant.id,
        customer(lab2, "Ada's observatory"), customer(works, "Ada's works"),
        support, licence, seats, calls, texts, later, mixed, usage, cardless, planned, schedule,
    )  # fmt: skip
    cache_preview(shop.tenant.id, planned, {"currency": "usd", "amount_due": 1900,
                                            "period_end": now + 20 * 86400})  # fmt: skip
    with tenant_context(shop.tenant.id):
        db.session.execute(
            update(UpcomingInvoice).values(synced_at=datetime.now(UTC) - timedelta(days=3))
        )
        db.session.commit()
    page.goto("/account")
    expect(page.get_by_text("Planned changes")).to_be_visible()
    visitor.check("account-billing-states-prices-schedules")


def test_screenshots_of_a_subscription_billed_by_invoice(visitor, shop):
    """Billed by invoice (send_invoice): the next invoice and its terms instead of a card, an
    invoice due in 20 days and one overdue."""
    page = visitor.page
    now = int(time.time())
    firm = new_id("cus")
    lease = price(unit_amount=90000, nickname="Observatory lease")
    billed = subscription(firm, [lease], collection_method="send_invoice", days_until_due=30)
    cache(
        shop.tenant.id,
        customer(firm, "Ada Ltd"), lease, billed,
        invoice(firm, total=90000, status="open", subscription=billed["id"],
                created=now - 10 * 86400, due_date=now + 20 * 86400),
        invoice(firm, total=90000, status="open", subscription=billed["id"],
                created=now - 40 * 86400, due_date=now - 10 * 86400),
    )  # fmt: skip

    visitor.sign_in("ada@example.com")
    expect(page.get_by_text("Next invoice").first).to_be_visible()
    expect(page.get_by_text("Overdue since").first).to_be_visible()
    visitor.check("account-billed-by-invoice")
