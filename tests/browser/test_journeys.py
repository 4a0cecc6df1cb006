"""Each journey a customer takes, in Chromium against gunicorn, the worker and the emulator."""

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.billing.models import (
    CachedCustomer,
    CachedInvoice,
    CachedPaymentMethod,
    CachedSubscription,
)
from app.extensions import db
from app.portal.models import PortalUser
from tenants.context import tenant_context
from tests.browser.journeys import over_http_and_https
from tests.support.portal_client import LINK_RE, link_and_code, text_part

pytestmark = pytest.mark.browser

ACCOUNT = re.compile(r"/account$")


def cached(tenant_id, model, **where):
    """A fresh read of one cached row, as the live server committed it."""
    db.session.remove()
    with tenant_context(tenant_id):
        query = select(model).filter_by(**where)
        return db.session.scalars(query).one()


def customer_section(page, name):
    return page.get_by_role("region", name=name, exact=True)


@over_http_and_https
def test_email_link_sign_in_shows_subscriptions_and_next_billing_date(visitor, shop, portal_server):
    page = visitor.page
    message = visitor.ask_for_link("Ada@Example.com")
    assert message["From"] == "Acme Rockets <no-reply@billfold.test>"
    assert message["Reply-To"] == "billing@acme.test"
    # The worker writes links to the HTTPS site, as in production (plain HTTP uses their path).
    assert (
        LINK_RE.search(text_part(message)).group(0).startswith("https://acme.billfold.localhost:")
    )
    # The merchant's colour is on the page, on the button that asked for the link.
    page.goto("/")
    button = page.get_by_role("button", name="Email me a sign-in link")
    expect(button).to_have_css("background-color", "rgb(225, 29, 72)")  # #e11d48

    confirm = visitor.open_link(message)
    assert confirm.status == 200
    assert confirm.headers["referrer-policy"] == "same-origin"
    expect(page.get_by_text("ada@example.com")).to_be_visible()
    if portal_server.tls:  # Chromium trusted the site's one key through a real handshake
        details, ours = confirm.security_details(), portal_server.tls.certificate
        assert details["protocol"] == "TLS 1.3"
        assert details["subjectName"] == "billfold.localhost"
        assert details["validTo"] == ours.not_valid_after_utc.timestamp()  # this very certificate
        assert confirm.headers["strict-transport-security"].startswith("max-age=")
    page.get_by_role("button", name="Continue to my account").click()
    expect(page).to_have_url(ACCOUNT)  # a clean URL: the token is gone from the address bar
    assert page.evaluate("document.referrer") == ""  # nor told to the account page
    session = next(c for c in page.context.cookies() if c["name"] == "session")
    assert (session["secure"], session["httpOnly"]) == (bool(portal_server.tls), True)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your billing with Acme Rockets")

    ada = customer_section(page, "Ada Lovelace")
    subscription = ada.get_by_role("article").filter(
        has=page.get_by_role("heading", name="Rocket fuel")
    )
    expect(subscription).to_contain_text("$50.00 per month")
    expect(subscription).to_contain_text("Rocket fuel × 2")
    expect(subscription.get_by_text("Active")).to_be_visible()
    item = shop.stripe.v1.subscriptions.retrieve(shop.subscription.id)["items"].data[0]
    next_date = datetime.fromtimestamp(item.current_period_end, UTC).strftime("%b %-d, %Y")
    next_payment = subscription.locator("dt", has_text="Next payment").locator("+ dd")
    expect(next_payment).to_contain_text(f"$50.00 on {next_date}")
    expect(next_payment).to_contain_text("estimate")
    expect(subscription.locator("dt", has_text="Charged to").locator("+ dd")).to_have_text(
        "Visa •••• 4242"
    )
    expect(customer_section(page, "Ada's workshop")).to_contain_text("No subscriptions")
    expect(page.get_by_text("Grace Hopper")).to_have_count(0)
    assert cached(shop.tenant.id, PortalUser, email="ada@example.com").last_login_at is not None


@over_http_and_https
def test_sign_in_with_the_code_from_the_email(visitor):
    page = visitor.page
    _, code = link_and_code(visitor.ask_for_link("ada@example.com"))
    page.get_by_label("6-digit code").fill(f"{code[:3]} {code[3:]}")
    page.get_by_role("button", name="Sign in with code").click()
    expect(page).to_have_url(ACCOUNT)
    expect(customer_section(page, "Ada Lovelace")).to_contain_text("Rocket fuel")


@over_http_and_https
def test_pay_an_open_invoice(visitor, shop):
    page = visitor.page
    visitor.sign_in()
    workshop = customer_section(page, "Ada's workshop")
    expect(workshop.get_by_text("Due", exact=True)).to_be_visible()
    workshop.get_by_role("button", name="Pay $42.00").click()
    expect(page).to_have_url(ACCOUNT)
    expect(page.get_by_role("status")).to_contain_text("is paid")
    expect(workshop.get_by_text("Paid", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Pay "))).to_have_count(0)
    invoice_id = shop.open_invoice.id
    assert cached(shop.tenant.id, CachedInvoice, stripe_id=invoice_id).status == "paid"
    assert shop.stripe.v1.invoices.retrieve(invoice_id).status == "paid"

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Invoices").click()
    expect(page.get_by_role("table")).to_contain_text("Paid")
    expect(page.get_by_role("table")).not_to_contain_text("Due")


def test_replace_the_card_through_stripe_js(visitor, shop):
    page = visitor.page
    visitor.sign_in()
    ada = customer_section(page, "Ada Lovelace")
    ada.get_by_role("link", name="Replace card").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Replace your card")
    # The emulator's Stripe.js draws plain inputs where Stripe's iframe would be.
    page.get_by_placeholder("number").fill("5555555555554444")
    page.get_by_placeholder("exp_month").fill("04")
    page.get_by_placeholder("exp_year").fill("31")
    page.get_by_placeholder("cvc").fill("123")
    page.get_by_placeholder("postal_code").fill("10115")
    page.get_by_role("button", name="Save card").click()

    expect(page).to_have_url(ACCOUNT)
    expect(page.get_by_role("status")).to_have_text(
        "Your Mastercard ending 4444 is now the card on file."
    )
    expect(ada.locator(".card-on-file")).to_have_text(re.compile(r"Mastercard\s+•••• 4444"))
    expect(ada.get_by_text("Expires 04/2031")).to_be_visible()
    expect(ada.locator("dt", has_text="Charged to").locator("+ dd")).to_have_text(
        "Mastercard •••• 4444"
    )
    # The other customer of the same person keeps its own card.
    expect(customer_section(page, "Ada's workshop").locator(".card-on-file")).to_contain_text(
        "4242"
    )

    customer = cached(shop.tenant.id, CachedCustomer, stripe_id=shop.ada_first.id)
    method = cached(
        shop.tenant.id, CachedPaymentMethod, stripe_id=customer.default_payment_method_id
    )
    assert (method.brand, method.last4) == ("mastercard", "4444")
    remote = shop.stripe.v1.customers.retrieve(shop.ada_first.id)
    remote_method = shop.stripe.v1.payment_methods.retrieve(
        remote.invoice_settings.default_payment_method
    )
    assert remote_method.card.last4 == "4444"
    subscription = shop.stripe.v1.subscriptions.retrieve(shop.subscription.id)
    assert subscription.default_payment_method == remote_method.id


STRIPE_JS = "**/js.stripe.com/v3/**"


def test_card_page_without_stripe_js_says_so_and_offers_a_reload(visitor, shop):
    page = visitor.page
    # Stripe.js blocked or unreachable (an aborted load: the `tab` fixture allows those).
    page.route(STRIPE_JS, lambda route: route.abort("aborted"))
    visitor.sign_in()
    page.goto(f"/card?customer={shop.ada_first.id}")

    expect(page.get_by_role("alert")).to_contain_text("The secure card form could not be loaded")
    expect(page.get_by_role("alert")).to_contain_text("nothing was changed")
    expect(page.get_by_role("button", name="Save card")).to_be_hidden()
    expect(page.get_by_text("Card details", exact=True)).to_be_hidden()  # no empty box
    expect(page.get_by_role("link", name="Back to your account")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_visible()

    page.unroute(STRIPE_JS)  # reachable again: the reload button brings the form
    page.get_by_role("button", name="Reload the page").click()
    expect(page.get_by_role("button", name="Save card")).to_be_visible()
    expect(page.get_by_placeholder("number")).to_be_visible()
    expect(page.get_by_role("alert")).to_be_hidden()


def test_cancel_with_a_reason_then_reactivate(visitor, shop):
    page = visitor.page
    visitor.sign_in()
    page.get_by_role("link", name="Cancel subscription").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel your subscription?")
    page.get_by_label("Why are you cancelling? (optional)").fill(
        "Moving to a bigger plan elsewhere"
    )
    page.get_by_role("button", name="Cancel at period end").click()

    expect(page).to_have_url(ACCOUNT)
    expect(page.get_by_role("status")).to_contain_text(
        "will end at the close of the current period"
    )
    ada = customer_section(page, "Ada Lovelace")
    expect(ada.get_by_text(re.compile(r"^Cancels \w{3} \d{1,2}, \d{4}$"))).to_be_visible()
    expect(ada.locator("dt", has_text="Ends on")).to_be_visible()
    expect(ada.get_by_text("Next payment")).to_have_count(0)
    row = cached(shop.tenant.id, CachedSubscription, stripe_id=shop.subscription.id)
    assert row.cancel_at_period_end is True
    assert row.cancellation_reason == "Moving to a bigger plan elsewhere"
    assert shop.stripe.v1.subscriptions.retrieve(shop.subscription.id).cancel_at_period_end

    ada.get_by_role("button", name="Keep my subscription").click()
    expect(page.get_by_role("status")).to_contain_text("Welcome back!")
    expect(ada.get_by_text("Active", exact=True)).to_be_visible()
    expect(ada.get_by_role("link", name="Cancel subscription")).to_be_visible()
    row = cached(shop.tenant.id, CachedSubscription, stripe_id=shop.subscription.id)
    assert row.cancel_at_period_end is False
    assert not shop.stripe.v1.subscriptions.retrieve(shop.subscription.id).cancel_at_period_end


def test_set_a_password_sign_out_and_sign_in_with_it(visitor, shop):
    page = visitor.page
    visitor.sign_in()
    page.get_by_role("link", name="Set a password").click()
    page.get_by_label("New password").fill("short")
    page.get_by_role("button", name="Save password").click()
    expect(page.get_by_label("New password")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("New password").fill("correct horse battery staple")
    page.get_by_role("button", name="Save password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is set")
    assert cached(shop.tenant.id, PortalUser, email="ada@example.com").has_password

    visitor.sign_out()
    page.get_by_role("link", name="Sign in with your password").click()
    page.get_by_label("Email address").fill("ada@example.com")
    page.get_by_label("Password").fill("wrong password here")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_label("Password")).to_have_accessible_description(
        "That email and password do not match."
    )
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(ACCOUNT)
    expect(customer_section(page, "Ada Lovelace")).to_contain_text("Rocket fuel")


@over_http_and_https
def test_sign_out_ends_the_session(visitor):
    page = visitor.page
    visitor.sign_in()
    visitor.sign_out()
    expect(page.get_by_role("heading", level=1)).to_have_text("Manage your billing")
    page.go_back()  # the account page was not stored: Back asks the server, which says no
    expect(page.get_by_role("heading", level=1)).to_have_text("Manage your billing")
    page.goto("/invoices")
    expect(page.get_by_role("heading", level=1)).to_have_text("Manage your billing")
    expect(page.get_by_role("status")).to_have_text("Please sign in to continue.")
