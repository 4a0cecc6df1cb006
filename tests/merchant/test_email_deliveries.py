"""/dashboard/emails: a merchant finds a customer's sign-in email, sent or failed and why —
their own tenant's only, and never its link or code."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.clock import utcnow
from app.emails.models import DeliveryStatus, EmailDelivery
from app.extensions import db
from app.merchant.models import MerchantRole
from tenants.context import tenant_context
from tenants.models import Tenant
from tests.merchant.conftest import log_in, merchant_user_for
from tests.merchant.test_activity import A, B, dashboard_of

TOKEN = "Zx9_secret-token-value"
LINK = f"https://acme.localhost/login/verify/{TOKEN}"


def deliver(tenant, to, status, minutes_ago=0, kind="login_link", error=None):
    with tenant_context(tenant.id):
        delivery = EmailDelivery(
            kind=kind,
            to_email=to,
            subject=f"Your {tenant.name} billing sign-in link",
            status=status,
            attempts=1,
            error=error,
            created_at=utcnow() - timedelta(minutes=minutes_ago),
            sent_at=utcnow() if status == DeliveryStatus.SENT else None,
            captured_text=f"Sign in: {LINK}\nYour code: 482913",
        )
        db.session.add(delivery)
        db.session.commit()
        return delivery.id


@pytest.fixture
def inboxes(db_session, make_tenant, client_for):
    acme, bravo = make_tenant("acme", name="Acme"), make_tenant("bravo", name="Bravo")
    deliver(acme, "ada@example.com", DeliveryStatus.SENT, 5)
    failed = deliver(
        acme, "grace@example.com", DeliveryStatus.FAILED, 3,
        error=f"SMTPRecipientsRefused: 550 mailbox full (retry {LINK} with 482913)",
    )  # fmt: skip
    deliver(acme, A, DeliveryStatus.SENT, 1, kind="merchant_verify")
    theirs = deliver(bravo, "secret@bravo-customer.com", DeliveryStatus.FAILED, 2, error="nope")
    return failed, theirs, dashboard_of(client_for, acme, A), dashboard_of(client_for, bravo, B)


def test_a_failed_sign_in_email_is_found_with_its_reason_and_never_its_link(inboxes):
    failed, _, acme, _ = inboxes
    page = acme.get("/dashboard/emails?email=GRACE")
    assert page.status_code == 200
    assert "1 email match" in page.text and "grace@example.com" in page.text
    assert "ada@example.com" not in page.text
    assert "Failed" in page.text and "550 mailbox full" in page.text
    detail = acme.get(f"/dashboard/emails/{failed}")
    assert detail.status_code == 200 and "550 mailbox full" in detail.text
    for shown in (page.text, detail.text):
        assert TOKEN not in shown and "482913" not in shown and "/login/verify/" not in shown


def test_filters_by_status_and_kind(inboxes):
    _, _, acme, _ = inboxes
    sent = acme.get("/dashboard/emails?status=sent").text
    assert "2 emails match" in sent and "grace@example.com" not in sent
    sign_ins = acme.get("/dashboard/emails?kind=sign_in").text
    assert "2 emails match" in sign_ins and "Verify your address" not in sign_ins
    yours = acme.get("/dashboard/emails?kind=yours").text
    assert "1 email match" in yours and "Verify your address" in yours
    everything = acme.get("/dashboard/emails").text
    assert "3 emails" in everything


def test_a_member_sees_customers_emails_and_their_own_not_the_teams(inboxes, client_for):
    tenant = db.session.scalars(select(Tenant).where(Tenant.subdomain == "acme")).one()
    member = merchant_user_for(tenant, "member@example.com")
    member.role = MerchantRole.MEMBER
    db.session.commit()
    mine = deliver(tenant, "member@example.com", DeliveryStatus.SENT, 1, kind="merchant_reset")
    with tenant_context(tenant.id):
        owners = db.session.scalars(
            select(EmailDelivery.id).where(EmailDelivery.to_email == A)
        ).one()
    client = client_for(None)
    assert log_in(client, "member@example.com").status_code == 302
    listed = client.get("/dashboard/emails").text
    assert "3 emails" in listed  # two customers' sign-in emails and their own reset
    assert "ada@example.com" in listed and "member@example.com" in listed
    assert A not in listed and "Verify your address" not in listed
    assert client.get(f"/dashboard/emails/{mine}").status_code == 200
    assert client.get(f"/dashboard/emails/{owners}").status_code == 404
    # the owner still sees the whole team's
    _, _, acme, _ = inboxes
    assert "member@example.com" in acme.get("/dashboard/emails?kind=yours").text


def test_merchant_a_never_sees_b_s_deliveries(inboxes):
    _, theirs, acme, bravo = inboxes
    assert acme.get(f"/dashboard/emails/{theirs}").status_code == 404
    searched = acme.get("/dashboard/emails?email=secret@bravo-customer.com").text
    assert "0 emails match" in searched
    assert "secret@bravo-customer.com</td>" not in searched
    own = bravo.get("/dashboard/emails").text
    assert "secret@bravo-customer.com" in own and "grace@example.com" not in own


@pytest.mark.parametrize(
    ("query", "message"),
    [("status=delivered", "Choose a status"), ("kind=all'--", "Choose what happened")],
)
def test_bad_filters_get_a_clear_message(inboxes, query, message):
    _, _, acme, _ = inboxes
    page = acme.get(f"/dashboard/emails?{query}")
    assert page.status_code == 400 and message in page.text


def test_a_huge_page_number_shows_the_last_page(inboxes):
    _, _, acme, _ = inboxes
    page = acme.get("/dashboard/emails?page=4000000")
    assert page.status_code == 200 and "ada@example.com" in page.text
