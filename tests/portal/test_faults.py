"""Faults and abuse: SMTP down, stale cache, uncached customers, rate limits."""

from sqlalchemy import select

from app.billing.models import CachedCustomer, CachedInvoice
from app.emails.models import DeliveryStatus, EmailDelivery
from app.extensions import db
from tenants.context import tenant_context
from tests.portal.test_account import action
from tests.support.portal_client import csrf_from, html_part, request_link, sign_in
from tests.support.smtp_sink import free_port


def test_smtp_down_login_email_is_retried_and_the_customer_sees_no_error(
    portal, merchant, app, smtp_sink
):
    mail_state = app.extensions["mail"]
    original = mail_state.port
    mail_state.port = free_port()  # nothing listens there
    try:
        response = request_link(portal, "ada@example.com")
    finally:
        mail_state.port = original
    assert response.status_code == 302 and response.location.endswith("/login/check")
    assert portal.get("/login/check").status_code == 200
    with tenant_context(merchant.tenant.id):
        delivery = db.session.scalars(select(EmailDelivery)).one()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 7  # the first try and six retries, one record
    assert "refused" in delivery.error.lower()
    assert smtp_sink.messages == []


def test_paying_an_invoice_paid_elsewhere_says_so_and_heals_the_cache(portal, merchant, smtp_sink):
    sign_in(portal, smtp_sink, "ada@example.com")
    page = portal.get("/invoices")
    merchant.stripe.v1.invoices.pay(merchant.open_invoice.id)  # paid at Stripe, no webhook yet
    response = action(portal, f"/invoices/{merchant.open_invoice.id}/pay", page.text)
    assert response.status_code == 302
    shown = portal.get("/invoices").text
    assert "changed meanwhile" in shown
    db.session.expire_all()
    with tenant_context(merchant.tenant.id):
        invoice = db.session.scalars(
            select(CachedInvoice).where(CachedInvoice.stripe_id == merchant.open_invoice.id)
        ).one()
    assert invoice.status == "paid"


def test_customer_not_cached_yet_is_found_at_stripe(portal, merchant, smtp_sink):
    fresh = merchant.stripe.v1.customers.create(
        params={"email": "Newbie@Example.com", "name": "New Customer"}
    )
    request_link(portal, "newbie@example.com")
    message = smtp_sink.wait_for("newbie@example.com")
    assert "Sign in to Acme Rockets" in html_part(message)
    with tenant_context(merchant.tenant.id):
        cached = db.session.scalars(
            select(CachedCustomer).where(CachedCustomer.stripe_id == fresh.id)
        ).one()
    assert cached.email_normalized == "newbie@example.com"


def test_per_email_rate_limit_gives_a_friendly_page_for_any_address(portal, merchant):
    for email in ("ada@example.com", "nobody@example.com"):
        statuses = []
        for _ in range(6):
            page = portal.get("/")
            response = portal.post("/", data={"email": email, "csrf_token": csrf_from(page.text)})
            statuses.append(response.status_code)
        assert statuses == [302] * 5 + [429], (email, statuses)
        assert "Too many attempts" in response.text
        assert "per 10 minute" not in response.text  # no limiter jargon for people


def test_per_ip_rate_limit_across_addresses(portal, merchant):
    statuses = []
    for n in range(21):
        page = portal.get("/")
        email = f"person{n}@example.com"
        statuses.append(
            portal.post("/", data={"email": email, "csrf_token": csrf_from(page.text)}).status_code
        )
    assert statuses[:20] == [302] * 20 and statuses[20] == 429


def test_password_attempts_are_rate_limited(portal, merchant):
    page = portal.get("/login/password")
    statuses = [
        portal.post(
            "/login/password",
            data={
                "email": "ada@example.com",
                "password": f"guess number {n}",
                "csrf_token": csrf_from(page.text),
            },
        ).status_code
        for n in range(11)
    ]
    assert statuses == [400] * 10 + [429]
