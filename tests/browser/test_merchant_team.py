"""A team in Chromium: the owner invites a member by email, the member joins from the emailed
link, signs in, sees the dashboard without the owners' controls and is refused an owner's
action; the branding studio previews the customers' account page as the merchant types.
Screenshots at 1280 and 390 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.journeys import DESKTOP, Visitor
from tests.merchant.conftest import PASSWORD, merchant_user_for
from tests.support.portal_client import text_part

pytestmark = pytest.mark.browser

INVITE_PATH_RE = re.compile(r"https?://[^/\s]+(/dashboard/join/[A-Za-z0-9_-]+)")
MEMBER_PASSWORD = "harbour-lantern-thistle"


def _sign_in(page, email: str, password: str) -> None:
    page.goto("/dashboard/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))


@pytest.fixture
def owner(dashboard, make_tenant):
    tenant = make_tenant("acme", name="Acme Rockets")
    merchant_user_for(tenant)
    _sign_in(dashboard.page, "owner@example.com", PASSWORD)
    return dashboard


def test_an_invited_member_joins_and_is_refused_the_owners_actions(owner, chromium, portal_server):
    page = owner.page
    page.get_by_role("link", name="Team", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team")
    page.get_by_label("Email address").fill("bea@example.com")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text("We are emailing an invitation")
    message = owner.mailbox.wait_for("bea@example.com")
    assert message["Subject"] == "Join Acme Rockets on Billfold"
    owner.shoot_email("email-team-invite", message)
    page.reload()
    expect(page.get_by_role("cell", name="bea@example.com", exact=True)).to_be_visible()
    owner.check("merchant-team")

    context = chromium.new_context(viewport=DESKTOP, base_url=portal_server.url)
    context.set_default_timeout(10_000)
    member = Visitor(context.new_page(), owner.mailbox, None, owner.screenshots,
                     owner.platform_url, owner.site_url)  # fmt: skip
    joining = member.page
    joining.goto(INVITE_PATH_RE.search(text_part(message)).group(1))
    expect(joining.get_by_role("heading", level=1)).to_have_text("Join Acme Rockets on Billfold")
    joining.get_by_label("Your name").fill("Bea Member")
    joining.get_by_label("Password").fill("password")
    joining.get_by_role("button", name="Join the team").click()
    expect(joining.get_by_text("Use at least 10 characters.")).to_be_visible()
    member.check("merchant-join-error")
    joining.get_by_label("Password").fill(MEMBER_PASSWORD)
    member.check("merchant-join")
    joining.get_by_role("button", name="Join the team").click()
    expect(joining.get_by_role("status")).to_contain_text("Welcome to the team of Acme Rockets")

    _sign_in(joining, "bea@example.com", MEMBER_PASSWORD)
    nav = joining.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Branding")).to_be_visible()
    expect(nav.get_by_role("link", name="Team", exact=True)).to_have_count(0)
    expect(nav.get_by_role("link", name="Stripe", exact=True)).to_have_count(0)
    expect(joining.get_by_text("An owner of this account connects Stripe.")).to_be_visible()
    member.check("merchant-dashboard-member")

    # A member who rebuilds the owners' form by hand is refused by the server.
    with joining.expect_response(
        lambda response: response.request.method == "POST" and "/dashboard/team" in response.url
    ) as answer:
        joining.evaluate(
            """() => {
                const form = document.createElement("form");
                form.method = "post";
                form.action = "/dashboard/team";
                const token = document.querySelector('input[name="csrf_token"]').cloneNode();
                const email = Object.assign(document.createElement("input"),
                                            {name: "email", value: "eve@example.com"});
                form.append(token, email);
                document.body.append(form);
                form.submit();
            }"""
        )
    assert answer.value.status == 403
    expect(joining.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(joining.get_by_text("Only an owner of this account can do this.")).to_be_visible()
    member.check("merchant-member-forbidden")
    assert joining.goto("/dashboard/connect").status == 403
    context.close()

    page.reload()
    expect(page.get_by_role("cell", name="Bea Member", exact=True)).to_be_visible()
    expect(page.get_by_text("No invitations waiting.")).to_be_visible()
    owner.check("merchant-team-members")

    # An invitation opened in a browser signed in to another account changes nothing.
    page.get_by_label("Email address").fill("cy@example.com")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("status")).to_contain_text("We are emailing an invitation")
    link = INVITE_PATH_RE.search(text_part(owner.mailbox.wait_for("cy@example.com"))).group(1)
    assert page.goto(link).status == 409
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign out to accept this invitation")
    owner.check("merchant-join-signed-in")

    page.goto("/dashboard/team")
    page.get_by_role("link", name=re.compile(r"^Remove\W+Bea Member$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Remove Bea Member from your team?")
    owner.check("merchant-team-remove")
    page.get_by_role("button", name="Remove Bea Member").click()
    expect(page.get_by_role("status")).to_contain_text("Bea Member is removed from your team")
    expect(page.get_by_role("cell", name="Bea Member", exact=True)).to_have_count(0)


def test_the_branding_studio_previews_the_account_page(owner):
    page = owner.page
    page.get_by_role("link", name="Branding").click()
    account = page.frame_locator('iframe[data-page="account"]')
    expect(account.get_by_role("heading", name="Your billing with Acme Rockets")).to_be_visible()
    expect(account.get_by_text("Signed in as jamie@example.com")).to_be_visible()
    expect(account.get_by_role("definition").filter(has_text="Visa •••• 4242")).to_be_visible()
    page.get_by_label("Display name").fill("Orbit Coffee")
    page.get_by_role("textbox", name="Primary colour (buttons, header)", exact=True).fill("#0f766e")
    expect(account.get_by_role("heading", name="Your billing with Orbit Coffee")).to_be_visible()
    pay = account.get_by_role("button", name=re.compile(r"^Pay \$15\.00"))
    expect(pay).to_have_css("background-color", "rgb(15, 118, 110)")
    owner.shoot("merchant-branding-account-preview")
    page.get_by_role("button", name="Phone").click()
    expect(page.locator(".studio__frames")).to_have_attribute("data-width", "phone")
    owner.shoot("merchant-branding-account-preview-phone-frame")
