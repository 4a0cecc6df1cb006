"""A merchant in Chromium styles the portal and decides what customers may do: the preview
follows the typing, a colour that fails AA is warned with a shade to use, the test email
arrives branded, and a closed portal shows its message. Screenshots at 1280 and 390 px."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.merchant.conftest import PASSWORD, merchant_user_for

pytestmark = pytest.mark.browser


@pytest.fixture
def signed_in(dashboard, make_tenant):
    tenant = make_tenant("acme", name="Acme Rockets")
    merchant_user_for(tenant)
    page = dashboard.page
    page.goto("/dashboard/login")
    page.get_by_label("Email address").fill("owner@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    return dashboard


def test_branding_studio_previews_warns_and_sends_a_test_email(signed_in):
    page = signed_in.page
    page.get_by_role("link", name="Branding").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Branding")
    signin = page.frame_locator('iframe[data-page="signin"]')
    email = page.frame_locator('iframe[data-page="email"]')
    expect(signin.get_by_role("heading", name="Manage your billing")).to_be_visible()

    page.get_by_label("Display name").fill("Orbit Coffee")
    primary = page.get_by_role("textbox", name="Primary colour (buttons, header)", exact=True)
    primary.fill("#d9480f")
    expect(signin.get_by_text("Orbit Coffee").first).to_be_visible()  # unsaved, in the preview
    expect(email.get_by_role("link", name="Sign in to Orbit Coffee")).to_be_visible()
    use = page.get_by_role("button", name="Use #d2460f")
    expect(use).to_be_visible()
    expect(page.get_by_text("WCAG AA asks for 4.5:1")).to_be_visible()
    signed_in.check("merchant-branding-warning")

    page.get_by_role("button", name="Phone").click()
    expect(page.locator(".studio__frames")).to_have_attribute("data-width", "phone")
    signed_in.shoot("merchant-branding-phone-preview")
    page.get_by_role("button", name="Desktop").click()

    use.click()
    expect(
        page.get_by_role("textbox", name="Primary colour (buttons, header)", exact=True)
    ).to_have_value("#d2460f")
    expect(page.get_by_text("WCAG AA asks for 4.5:1")).to_have_count(0)
    page.get_by_label("Sender name on emails").fill("Orbit Coffee billing")
    page.get_by_label("Reply-to and support email").fill("help@orbit-coffee.com")
    page.get_by_role("button", name="Save branding").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    signed_in.check("merchant-branding")

    logo = io.BytesIO()
    Image.new("RGB", (600, 200), (30, 64, 175)).save(logo, format="PNG")
    page.locator("input#logo").set_input_files(
        files=[{"name": "logo.png", "mimeType": "image/png", "buffer": logo.getvalue()}]
    )
    page.get_by_role("button", name="Upload logo").click()
    expect(page.get_by_role("status")).to_contain_text("Your new logo")
    expect(page.get_by_role("img", name="Your current logo")).to_be_visible()
    expect(signin.get_by_role("img", name="Orbit Coffee")).to_be_visible()
    expect(email.get_by_role("img", name="Orbit Coffee")).to_be_visible()
    signed_in.check("merchant-branding-logo")

    page.get_by_role("button", name="Send me a test email").click()
    expect(page.get_by_role("status")).to_contain_text("owner@example.com")
    message = signed_in.mailbox.wait_for("owner@example.com")
    assert message["Subject"] == "[Test] Your Orbit Coffee billing sign-in link"
    assert message["Reply-To"] == "help@orbit-coffee.com"
    signed_in.shoot_email("email-branding-test", message)


def test_portal_settings_page_and_a_closed_portal(signed_in, live_server):
    page = signed_in.page
    page.get_by_role("link", name="Portal", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Portal settings")
    page.get_by_label(re.compile("Customers can cancel")).uncheck()
    page.get_by_label("Reasons to choose from").fill("Too expensive\nMissing a feature")
    page.get_by_label(re.compile("Your site's address")).fill("javascript:alert(1)")
    page.get_by_role("button", name="Save portal settings").click()
    expect(page.get_by_text("Return URL must be a web address")).to_be_visible()
    signed_in.check("merchant-portal-settings-error")

    page.get_by_label(re.compile("Your site's address")).fill("https://acme.example/account")
    page.get_by_role("button", name="Save portal settings").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    expect(page.get_by_label(re.compile("Customers can cancel"))).not_to_be_checked()
    signed_in.check("merchant-portal-settings")

    page.get_by_label("Close the portal").check()
    page.get_by_label("Message shown while it is closed").fill(
        "We are moving to a new billing system. Back on Monday."
    )
    page.get_by_role("button", name="Save portal settings").click()
    expect(page.get_by_role("status")).to_contain_text("closed")
    portal = f"http://acme.{live_server.url.split('://', 1)[1]}/"
    response = page.goto(portal)
    assert response.status == 503
    expect(page.get_by_text("Back on Monday.")).to_be_visible()
    expect(page.get_by_role("link", name="Back to Acme Rockets")).to_have_attribute(
        "href", "https://acme.example/account"
    )
    signed_in.shoot("portal-closed")
