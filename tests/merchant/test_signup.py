"""Signing up: the tenant and its owner in one transaction, every bad input refused plainly."""

from sqlalchemy import func, select

from app.extensions import db
from app.merchant.models import MerchantUser
from tenants.models import Tenant
from tests.merchant.conftest import PASSWORD, emailed_link, follow_link, log_in, sign_up
from tests.support.portal_client import html_part


def _counts():
    return (
        db.session.scalar(select(func.count()).select_from(Tenant)),
        db.session.scalar(select(func.count()).select_from(MerchantUser)),
    )


def test_sign_up_creates_a_tenant_that_is_not_live_and_its_owner(platform, smtp_sink):
    response = sign_up(platform, email="Owner@Example.com")
    assert response.status_code == 302
    assert response.location.endswith("/dashboard/signup/check-email")
    assert "owner@example.com" in platform.get(response.location).text
    tenant = Tenant.by_subdomain("acme")
    assert tenant.name == "Acme Rockets" and tenant.live_at is None
    user = db.session.scalars(select(MerchantUser)).one()
    assert (user.email, user.role, user.tenant_id) == ("owner@example.com", "owner", tenant.id)
    assert user.email_verified_at is None and user.password_hash.startswith("scrypt:")
    message = smtp_sink.wait_for("owner@example.com")
    assert message["From"] == "Billfold <no-reply@billfold.test>"
    assert message["Reply-To"] is None
    assert "Confirm your email" in html_part(message)


def test_verify_then_log_in_shows_the_dashboard(platform, smtp_sink):
    sign_up(platform)
    path = emailed_link(smtp_sink, "owner@example.com")
    verified = follow_link(platform, path)
    assert verified.status_code == 302
    assert log_in(platform).status_code == 302
    home = platform.get("/dashboard")
    assert home.status_code == 200
    assert "http://acme.localhost/" in home.text
    assert db.session.scalars(select(MerchantUser)).one().email_verified_at is not None
    assert PASSWORD not in home.text
