"""A signed-up tenant's portal opens only once its owner's address is verified and its Stripe is
connected; tenants made by the CLI are live at once. The dashboard says what is missing."""

from sqlalchemy import select

from app.extensions import db
from app.merchant.models import MerchantUser
from tenants.models import Tenant
from tests.merchant.conftest import emailed_link, follow_link, log_in, sign_up
from tests.support.stripe_helpers import new_account_id


def test_the_portal_opens_after_verification_and_stripe(platform, smtp_sink, client_for):
    sign_up(platform, subdomain="rockets")
    shop = client_for("rockets")
    closed = shop.get("/")
    assert closed.status_code == 404 and "There is no billing portal at this address" in closed.text

    log_in(platform)
    home = platform.get("/dashboard")
    assert "Before your customers can use it" in home.text
    assert "Verify your email address" in home.text and "Send the link again" in home.text
    assert 'href="/dashboard/connect"' in home.text

    follow_link(platform, emailed_link(smtp_sink, "owner@example.com"))
    assert shop.get("/").status_code == 404  # verified, Stripe still missing
    home = platform.get("/dashboard")
    assert "Send the link again" not in home.text and "Connect Stripe" in home.text

    tenant = Tenant.by_subdomain("rockets")
    tenant.connect_account(new_account_id())  # what the Connect flow records
    db.session.commit()
    assert shop.get("/").status_code == 404  # opens when the merchant is back on the dashboard
    home = platform.get("/dashboard")
    assert "Your portal is live" in home.text and "Before your customers" not in home.text
    assert Tenant.by_subdomain("rockets").live_at is not None
    assert shop.get("/").status_code == 200


def test_stripe_first_then_verification_opens_the_portal_at_once(platform, smtp_sink, client_for):
    sign_up(platform, subdomain="rockets")
    Tenant.by_subdomain("rockets").connect_account(new_account_id())
    db.session.commit()
    assert client_for("rockets").get("/").status_code == 404
    follow_link(platform, emailed_link(smtp_sink, "owner@example.com"))
    assert client_for("rockets").get("/").status_code == 200


def test_tenants_made_by_the_cli_are_live(client_for, make_tenant, db_session):
    tenant = make_tenant("acme")
    assert tenant.live_at is not None
    assert client_for("acme").get("/").status_code == 200


def test_resending_the_verification_link(platform, smtp_sink):
    from tests.support.portal_client import csrf_from

    sign_up(platform)
    log_in(platform)
    smtp_sink.clear()
    home = platform.get("/dashboard")
    resent = platform.post(
        "/dashboard/resend-verification", data={"csrf_token": csrf_from(home.text)}
    )
    assert resent.status_code == 302
    follow_link(platform, emailed_link(smtp_sink, "owner@example.com"))
    assert db.session.scalars(select(MerchantUser)).one().email_verified
