"""A merchant in Chromium reads what customers did, filters it, exports it, finds a customer's
sign-in email, and sees what deleting the account erases. Screenshots at 1280 and 390 px."""

from __future__ import annotations

import csv
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.clock import utcnow
from app.emails.models import DeliveryStatus, EmailDelivery
from app.extensions import db
from app.portal.models import ActivityKind, PortalActivity
from tenants.context import tenant_context
from tests.merchant.conftest import PASSWORD, merchant_user_for

pytestmark = pytest.mark.browser

CUSTOMERS = ["ada@example.com", "grace.hopper@example.com", "joan@example.com",
             "katherine.johnson@example.com", "margaret@example.com"]  # fmt: skip
REASONS = ["Too expensive", "Too expensive", "Missing a feature", "Switching to another product",
           None, "Too expensive"]  # fmt: skip
SOURCES = ["email-footer", "email-footer", "help-center", "account-page", None, "email-footer"]


def seed_activity(tenant_id: int) -> None:
    """A month of a small shop's portal: sign-ins most days, some payments, a few changes."""
    now = utcnow()
    rows = []

    def act(kind, email, ago, **fields):
        rows.append(PortalActivity(kind=kind, email=email, occurred_at=now - ago, **fields))

    for day in range(30):
        for n in range((day * 7) % 4 + (1 if day % 3 else 0)):
            who, where = CUSTOMERS[(day + n) % 5], SOURCES[(day + n) % 6]
            ago = timedelta(days=day, hours=n * 3)
            act(ActivityKind.SIGN_IN, who, ago, source=where, detail="email")
        if day % 4 == 1:
            amount = 2500 + day * 100
            act(ActivityKind.PAYMENT, CUSTOMERS[day % 5], timedelta(days=day, hours=1),
                amount=amount, currency="eur", object_id=f"in_{day}")  # fmt: skip
    for n, reason in enumerate(REASONS):
        words = "Half the price elsewhere" if n == 0 else None
        act(ActivityKind.CANCELLATION, CUSTOMERS[n % 5], timedelta(days=n * 4 + 2),
            reason=reason, comment=words)  # fmt: skip
    act(ActivityKind.CARD_REPLACED, "ada@example.com", timedelta(hours=5),
        detail="Visa ending 4242")  # fmt: skip
    act(ActivityKind.REACTIVATION, "joan@example.com", timedelta(days=1))
    act(ActivityKind.CANCELLATION, "=cmd@example.com", timedelta(days=3),
        reason="Too expensive", comment='=HYPERLINK("http://x")')  # fmt: skip
    with tenant_context(tenant_id):
        db.session.add_all(rows)
        db.session.add_all([
            EmailDelivery(kind="login_link", to_email="ada@example.com", status=DeliveryStatus.SENT,
                          subject="Your Acme Rockets billing sign-in link", attempts=1,
                          created_at=now - timedelta(minutes=12), sent_at=now),
            EmailDelivery(kind="login_link", to_email="grace.hopper@example.com",
                          status=DeliveryStatus.FAILED, attempts=3,
                          subject="Your Acme Rockets billing sign-in link",
                          error="SMTPRecipientsRefused: 550 5.2.2 mailbox full",
                          created_at=now - timedelta(hours=2)),
            EmailDelivery(kind="no_account", to_email="stranger@example.com",
                          status=DeliveryStatus.SENT, attempts=1,
                          subject="Acme Rockets: no billing account for this address",
                          created_at=now - timedelta(hours=3), sent_at=now),
        ])  # fmt: skip
        db.session.commit()


@pytest.fixture
def signed_in(dashboard, make_tenant):
    tenant = make_tenant("acme", name="Acme Rockets")
    merchant_user_for(tenant)
    seed_activity(tenant.id)
    page = dashboard.page
    page.goto("/dashboard/login")
    page.get_by_label("Email address").fill("owner@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    return dashboard


def test_activity_page_filters_and_exports(signed_in):
    page = signed_in.page
    page.get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Activity")
    expect(page.get_by_role("img", name=re.compile("Customer activity per day"))).to_be_visible()
    reasons = page.get_by_role("table", name=re.compile("by reason"))
    expect(reasons.get_by_role("row", name=re.compile("Too expensive 4"))).to_be_visible()
    signed_in.check("merchant-activity")

    page.get_by_label("What").select_option(label="Cancelled")
    page.get_by_label("Customer email").fill("=cmd")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("status")).to_have_text("1 action match")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export as CSV").click()
    download = download_info.value
    assert download.suggested_filename == "acme-activity.csv"
    with open(download.path(), encoding="utf-8") as exported:
        rows = list(csv.reader(exported))
    assert len(rows) == 2 and rows[1][2] == "'=cmd@example.com"
    assert rows[1][9] == '\'=HYPERLINK("http://x")'

    page.goto("/dashboard/activity?from=last-tuesday")
    expect(page.get_by_role("alert")).to_contain_text("is not a date for “From”")
    signed_in.shoot("merchant-activity-bad-filter")


def test_emails_page_finds_a_customer_s_failed_email(signed_in):
    page = signed_in.page
    page.get_by_role("link", name="Emails").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Emails")
    signed_in.check("merchant-emails-list")
    page.get_by_label("Sent to").fill("grace")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("status")).to_have_text("1 email match")
    expect(page.get_by_text("550 5.2.2 mailbox full")).to_be_visible()
    signed_in.check("merchant-emails-search")


def test_the_delete_account_page_says_what_is_erased(signed_in):
    page = signed_in.page
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Delete the account…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete your Billfold account")
    page.get_by_label("Type your portal's subdomain to confirm").fill("acme-rockets")
    page.get_by_role("button", name="Delete my account and all its data").click()
    expect(page.get_by_text("That is not your portal's subdomain.")).to_be_visible()
    signed_in.check("merchant-delete-account")
