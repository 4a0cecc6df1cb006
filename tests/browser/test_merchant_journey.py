"""A merchant in Chromium: signs up, reads the verification email from the SMTP sink, verifies,
signs in and finds the portal link and the go-live checklist; screenshots at 1280 and 390 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.journeys import over_http_and_https
from tests.merchant.conftest import MERCHANT_LINK_RE, PASSWORD
from tests.support.portal_client import text_part

pytestmark = pytest.mark.browser


def _link_path(message) -> str:
    return MERCHANT_LINK_RE.search(text_part(message)).group(1)


@over_http_and_https
def test_sign_up_verify_sign_in_and_find_the_portal_link(dashboard, portal_server):
    page = dashboard.page
    page.goto("/dashboard/signup")
    dashboard.check("merchant-signup")

    page.get_by_label("Business name").fill("Orbit Coffee")
    subdomain = page.get_by_label("Portal address")
    expect(subdomain).to_have_value("orbit-coffee")  # suggested as the name is typed
    page.get_by_label("Your name").fill("Olga Orbit")
    page.get_by_label("Work email").fill("olga@example.com")
    page.get_by_label("Password").fill("1234567890")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("most common passwords")).to_be_visible()
    dashboard.check("merchant-signup-error")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    dashboard.check("merchant-signup-sent")

    message = dashboard.mailbox.wait_for("olga@example.com")
    assert message["From"].startswith("Billfold <")
    dashboard.shoot_email("email-merchant-verify", message)
    page.goto(_link_path(message))
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your email address")
    dashboard.check("merchant-verify")
    page.get_by_role("button", name="Confirm my email").click()
    expect(page.get_by_role("status")).to_contain_text("Your email address is verified")

    page.get_by_label("Email address").fill("olga@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    address = portal_server.url.split("://", 1)[1]
    portal = f"{portal_server.scheme}://orbit-coffee.{address}/"
    expect(page.get_by_role("textbox", name="Portal login link")).to_have_value(portal)
    expect(page.get_by_role("link", name="Open it")).to_have_attribute("href", portal)
    checklist = page.get_by_role("region", name="Before your customers can use it")
    expect(checklist).to_contain_text("Connect your Stripe account")
    expect(checklist.get_by_role("link", name="Connect Stripe")).to_be_visible()
    expect(checklist.get_by_role("button", name="Send the link again")).to_have_count(0)
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator('[data-copy-status="portal-link"]')).to_have_text(
        re.compile("Copied|Selected")
    )
    dashboard.check("merchant-dashboard")

    page.goto("/dashboard/settings")
    dashboard.check("merchant-settings")
    page.goto("/dashboard/settings/subdomain")
    page.get_by_label("New portal address").fill("orbit")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Old links stop working.")).to_be_visible()
    dashboard.check("merchant-subdomain-confirm")
    page.goto("/dashboard/emails")
    dashboard.check("merchant-emails")

    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto("/dashboard/forgot")
    dashboard.check("merchant-forgot")
