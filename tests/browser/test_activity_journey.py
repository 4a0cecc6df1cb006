"""What a customer does in the portal shows on the merchant's activity page: Ada pays an open
invoice and cancels with a reason in one browser, the merchant reads both in another."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_journeys import customer_section
from tests.merchant.conftest import PASSWORD, merchant_user_for

pytestmark = pytest.mark.browser


def test_a_payment_and_a_cancellation_with_its_reason_reach_the_activity_page(
    visitor, dashboard, shop
):
    page = visitor.page
    visitor.sign_in()
    workshop = customer_section(page, "Ada's workshop")
    workshop.get_by_role("button", name="Pay $42.00").click()
    expect(page.get_by_role("status")).to_contain_text("is paid")
    page.get_by_role("link", name="Cancel subscription").click()
    page.get_by_label("Why are you cancelling? (optional)").fill("Moving to a bigger plan")
    page.get_by_role("button", name="Cancel at period end").click()
    expect(page.get_by_role("status")).to_contain_text("will end at the close")

    merchant_user_for(shop.tenant)
    board = dashboard.page
    board.goto("/dashboard/login")
    board.get_by_label("Email address").fill("owner@example.com")
    board.get_by_label("Password").fill(PASSWORD)
    board.get_by_role("button", name="Sign in", exact=True).click()
    expect(board).to_have_url(re.compile(r"/dashboard$"))
    board.get_by_role("link", name="Activity").click()

    listing = board.get_by_role("table").last
    expect(listing).to_contain_text("Paid an invoice")
    expect(listing).to_contain_text("$42.00")
    expect(listing).to_contain_text("Cancelled")
    expect(listing).to_contain_text("Moving to a bigger plan")
    expect(listing).to_contain_text("Signed in")
    # No reason picked from a list (none is offered here), but words typed: not "no reason".
    expect(board.get_by_text("In their own words only")).to_be_visible()
    dashboard.check("merchant-activity-after-a-customer")
