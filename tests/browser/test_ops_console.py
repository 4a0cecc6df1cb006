"""An operator in Chromium: signs in, enrols an authenticator by its QR code's key, keeps the
recovery codes, reads the tenants list and a tenant's detail, acts, and reads the audit log;
screenshots at 1280 and 390 px with the accessibility basics checked on each page."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.billing.models.events import EventStatus
from app.emails.models import DeliveryStatus, EmailDelivery
from app.extensions import db, limiter
from app.ops.models import Operator
from tenants.context import tenant_context
from tests.browser.conftest import SCREENSHOTS
from tests.browser.journeys import DESKTOP, Visitor
from tests.ops.conftest import OPERATOR_PASSWORD
from tests.ops.test_console import add_event

pytestmark = pytest.mark.browser


def seed(make_tenant) -> None:
    calm = make_tenant("calm", name="Calm Candles", stripe_account="acct_calm0001")
    for age in (1, 3, 5, 9, 20):
        add_event(calm.id, age=timedelta(hours=age))
    broken = make_tenant("brokenhooks", name="Broken Hooks Ltd", stripe_account="acct_broken001")
    add_event(broken.id, age=timedelta(hours=2))
    for _ in range(2):
        add_event(
            broken.id,
            EventStatus.FAILED,
            age=timedelta(hours=1),
            error="APIError: Stripe answered 500 (req_123): an error occurred",
        )
    with tenant_context(broken.id):
        db.session.add(
            EmailDelivery(
                kind="login_link",
                to_email="a@example.com",
                subject="Your sign-in link",
                status=DeliveryStatus.FAILED,
                error="550 5.1.1 mailbox unavailable",
            )
        )
        db.session.commit()
    revoked = make_tenant("revoked", name="Revoked Rockets")
    revoked.mark_disconnected("Stripe refused to renew Billfold's access.")
    db.session.add(
        Operator(email="ops@billfold.test", password_hash=generate_password_hash(OPERATOR_PASSWORD))
    )
    db.session.commit()


@pytest.fixture
def operator_browser(app, chromium, live_server, committed, real_worker, make_tenant):
    with app.app_context():
        limiter.reset()
    seed(make_tenant)
    context = chromium.new_context(viewport=DESKTOP, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            message.type == "error" and problems.append(f"console error: {message.text}")
        ),
    )
    yield Visitor(page, None, None, SCREENSHOTS, live_server.url, live_server.url)
    context.close()
    assert not problems, "\n".join(problems)


def test_operator_signs_in_enrols_and_uses_the_console(operator_browser, app):
    visitor, page = operator_browser, operator_browser.page
    page.goto("/ops/login")
    visitor.check("ops-login")
    page.get_by_label("Email").fill("ops@billfold.test")
    page.get_by_label("Password").fill(OPERATOR_PASSWORD)
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Enrol your authenticator")
    visitor.check("ops-enrol")
    secret = page.locator(".enrol__secret").inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Enrol and sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    assert len(page.locator(".recovery-codes li").all()) == 10
    visitor.check("ops-recovery-codes")

    page.get_by_role("link", name=re.compile("go to the console")).click()
    expect(page.get_by_role("heading", level=2, name="Tenants")).to_be_visible()
    visitor.check("ops-list")

    page.get_by_role("link", name="brokenhooks").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Broken Hooks Ltd")
    visitor.check("ops-detail")

    page.get_by_label("Reason, shown to the merchant").fill("Card-testing attack under review")
    page.get_by_role("button", name="Suspend brokenhooks").click()
    expect(page.get_by_role("status").first).to_contain_text("suspended")
    page.get_by_role("button", name="Replay all failed").click()
    expect(page.get_by_role("status").first).to_contain_text("2 failed events queued again")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("cell", name="replay failed events")).to_be_visible()
    visitor.check("ops-audit")
    with app.app_context():
        assert db.session.scalars(select(Operator.totp_enrolled_at)).one() is not None
