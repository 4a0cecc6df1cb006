"""A new merchant in Chromium connects Stripe, watches the copy of their data, and hands the
portal to a customer: by the Stripe App's install page, by Stripe Connect, and by a restricted
key; then disconnects, and resets a forgotten password. Screenshots at 1280 and 390 px."""

from __future__ import annotations

import re
import urllib.parse

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.billing.models.sync_state import BackfillStatus, SyncState
from app.extensions import db
from tenants.context import tenant_context
from tenants.models import Tenant
from tests.browser.journeys import Visitor
from tests.connect.test_api_key import ALL
from tests.merchant.conftest import MERCHANT_LINK_RE, PASSWORD
from tests.support.portal_client import LINK_RE, text_part
from tests.support.stripe_helpers import new_account_id

pytestmark = pytest.mark.browser

SLOW_INVOICES = "slow-invoices"


def _merchant_link(message) -> str:
    return MERCHANT_LINK_RE.search(text_part(message)).group(1)


def sign_up_and_sign_in(dashboard: Visitor, business: str, email: str) -> str:
    """Sign up, verify from the SMTP sink, sign in; the portal's subdomain."""
    page = dashboard.page
    page.goto("/dashboard/signup")
    page.get_by_label("Business name").fill(business)
    page.get_by_label("Your name").fill("Olga Orbit")
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    subdomain = page.get_by_label("Portal address").input_value()
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    page.goto(_merchant_link(dashboard.mailbox.wait_for(email)))
    page.get_by_role("button", name="Confirm my email").click()
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    return subdomain


def open_connect_page(dashboard: Visitor) -> None:
    page = dashboard.page
    checklist = page.get_by_role("region", name="Before your customers can use it")
    checklist.get_by_role("link", name="Connect Stripe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connect your Stripe account")


def wait_until_copied(dashboard: Visitor) -> None:
    section = dashboard.page.locator("[data-sync-url]")
    expect(section.locator("[data-sync-badge]")).to_have_text("Up to date", timeout=30_000)
    expect(section.locator("[data-sync-summary]")).to_contain_text("Your Stripe data is copied")


def test_stripe_app_journey_from_sign_up_to_a_customer_in_the_portal(
    dashboard, live_server, stripe_emulator
):
    page = dashboard.page
    subdomain = sign_up_and_sign_in(dashboard, "Orbit Coffee", "olga@example.com")
    open_connect_page(dashboard)
    dashboard.check("merchant-connect")

    # Stripe answers the invoice pages "slow down" until the bars have been seen moving: the
    # copy backs off and waits, then picks up where it was.
    stripe_emulator.add_fault(SLOW_INVOICES, status=429, path="/v1/invoices", method="GET")
    try:
        page.get_by_role("button", name="Install the app on Stripe").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Install app")
        page.get_by_role("button", name="Allow").click()
        expect(page).to_have_url(re.compile(r"/dashboard/connect$"))
        expect(page.get_by_role("status").first).to_contain_text("Your Stripe account is connected")
        section = page.locator("[data-sync-url]")
        expect(section).to_have_attribute("data-sync-status", re.compile("queued|running"))
        expect(section.locator("[data-sync-refresh]")).to_be_hidden()  # it moves by itself
        page.evaluate("window.stillThisPage = true")
        expect(section.locator('[data-sync-phase="customer"] .sync__count')).to_have_text(
            "2 copied", timeout=20_000
        )
        expect(section.locator('[data-sync-phase="invoice"]')).to_have_class(
            re.compile("sync__phase--running")
        )
        expect(section.locator("[data-sync-badge]")).to_have_text("Copying")
        dashboard.shoot("merchant-connect-copying")
    finally:
        stripe_emulator.remove_fault(SLOW_INVOICES)
    wait_until_copied(dashboard)
    assert page.evaluate("window.stillThisPage") is True  # no reload: the script polled
    expect(page.get_by_text("Billfold app from Stripe")).to_be_visible()
    dashboard.check("merchant-connected")

    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("status").first).to_have_text(
        "Your portal is live: customers can sign in now."
    )
    portal = page.get_by_role("textbox", name="Portal login link").input_value()
    assert portal == f"http://{subdomain}.{live_server.url.split('://', 1)[1]}/"
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator('[data-copy-status="portal-link"]')).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == portal

    # A customer of the connected Stripe account (the emulator seeded it) signs in.
    dashboard.mailbox.clear()
    page.goto(portal)
    page.get_by_label("Email address").fill("first@seeded.example")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    link = LINK_RE.search(text_part(dashboard.mailbox.wait_for("first@seeded.example"))).group(0)
    page.goto(portal.rstrip("/") + urllib.parse.urlsplit(link).path)
    page.get_by_role("button", name="Continue to my account").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", level=2, name="Seeded 1")).to_be_visible()
    expect(page.get_by_text("Seeded plan").first).to_be_visible()


def test_connect_oauth_journey_with_a_refusal_then_disconnecting(dashboard):
    page = dashboard.page
    sign_up_and_sign_in(dashboard, "Nova Tea", "nova@example.com")
    open_connect_page(dashboard)

    page.get_by_role("button", name="Connect with Stripe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connect with Stripe")
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your Stripe account was not connected"
    )
    expect(page.get_by_role("alert")).to_have_text(
        "You chose not to connect your Stripe account. Nothing was changed."
    )
    dashboard.check("merchant-connect-failed")
    page.get_by_role("link", name="Try again").click()

    page.get_by_role("button", name="Connect with Stripe").click()
    page.get_by_role("button", name="Allow").click()
    expect(page).to_have_url(re.compile(r"/dashboard/connect$"))
    wait_until_copied(dashboard)
    expect(page.get_by_text("Stripe Connect", exact=True)).to_be_visible()

    page.get_by_role("link", name="Disconnect").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Disconnect your Stripe account?")
    expect(page.get_by_text("Your portal stops showing billing")).to_be_visible()
    dashboard.check("merchant-disconnect")
    page.get_by_role("button", name="Disconnect Stripe").click()
    expect(page.get_by_role("status").first).to_contain_text("Your Stripe account is disconnected")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connect your Stripe account")
    dashboard.check("merchant-disconnected")


def _fail_the_copy(subdomain: str) -> None:
    """The copy stopped midway (Stripe unreachable, say), as the backfill task records it."""
    tenant = Tenant.by_subdomain(subdomain)
    with tenant_context(tenant.id):
        state = db.session.scalars(select(SyncState)).one()
        state.backfill_status = BackfillStatus.FAILED
        state.backfill_error = "APIConnectionError: Stripe could not be reached"
        state.backfill_progress = {"product": {"done": 1, "finished": True}}
        db.session.commit()


def test_restricted_key_journey_with_the_webhook_endpoint_and_a_retry(
    dashboard, stripe_emulator, app
):
    page = dashboard.page
    subdomain = sign_up_and_sign_in(dashboard, "Lumen Books", "lumen@example.com")
    open_connect_page(dashboard)

    key_field = page.get_by_label("Restricted key", exact=True)
    key_field.fill("sk_test_0123456789abcdef")
    page.get_by_role("button", name="Check and connect the key").click()
    expect(page.get_by_label("Restricted key", exact=True)).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(page.get_by_text("This is a secret key with full access")).to_be_visible()
    expect(page.get_by_label("Restricted key", exact=True)).to_have_value("")  # never written back
    dashboard.check("merchant-connect-key-error")

    # In their Stripe Dashboard the merchant makes a restricted key without the webhook
    # permission: Billfold cannot add its endpoint, so it shows how.
    key = stripe_emulator.create_key(new_account_id(), ALL)
    page.get_by_label("Restricted key", exact=True).fill(key)
    page.get_by_role("button", name="Check and connect the key").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Tell Stripe to keep Billfold up to date"
    )
    endpoint = page.get_by_role("textbox", name="Endpoint URL").input_value()
    assert re.fullmatch(r"http://localhost:\d+/webhooks/stripe/whep_[0-9a-f]{24}", endpoint)
    expect(page.get_by_role("textbox", name="Events to send")).to_contain_text(
        "customer.subscription.updated"
    )
    page.get_by_role("button", name="Copy URL").click()
    expect(page.locator('[data-copy-status="endpoint-url"]')).to_have_text("Copied.")
    dashboard.check("merchant-connect-webhook")
    page.get_by_label("Signing secret").fill("whsec_")
    page.get_by_role("button", name="Save the signing secret").click()
    expect(page.get_by_label("Signing secret")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Signing secret").fill("whsec_added_in_the_stripe_dashboard")
    page.get_by_role("button", name="Save the signing secret").click()
    expect(page.get_by_role("status").first).to_contain_text("The signing secret is saved")
    expect(page.get_by_text(f"Restricted key ending in {key[-4:]}")).to_be_visible()
    assert key not in page.content()
    wait_until_copied(dashboard)

    with app.app_context():
        _fail_the_copy(subdomain)
    page.get_by_role("link", name="Dashboard").click()
    section = page.locator("[data-sync-url]")
    expect(section.locator("[data-sync-summary]")).to_have_text(
        "Copying your Stripe data stopped before it finished."
    )
    expect(section).to_contain_text("APIConnectionError: Stripe could not be reached")
    dashboard.check("merchant-dashboard-copy-failed")
    section.get_by_role("button", name="Try again").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    wait_until_copied(dashboard)


def test_password_reset_journey(dashboard):
    page = dashboard.page
    sign_up_and_sign_in(dashboard, "Quill Studio", "quill@example.com")
    page.get_by_role("button", name="Sign out", exact=True).click()
    dashboard.mailbox.clear()
    page.goto("/dashboard/forgot")
    page.get_by_label("Email address").fill("quill@example.com")
    page.get_by_role("button", name="Email me a reset link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    page.goto(_merchant_link(dashboard.mailbox.wait_for("quill@example.com")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    dashboard.check("merchant-reset")
    page.get_by_label("New password").fill("a-brand-new-lantern-password")
    page.get_by_role("button", name="Save my new password").click()
    page.goto("/dashboard/login")
    page.get_by_label("Email address").fill("quill@example.com")
    page.get_by_label("Password").fill("a-brand-new-lantern-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
