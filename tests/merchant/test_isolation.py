"""A merchant's session opens nothing on a tenant's host, a customer's nothing on the platform's,
and a merchant sees only its own tenant's data."""

from sqlalchemy import select

from app.emails.models import EmailDelivery
from app.extensions import db
from tenants.context import tenant_context
from tenants.models import Tenant
from tests.merchant.conftest import signed_up_and_verified
from tests.portal.conftest import build_merchant
from tests.support.portal_client import sign_in
from tests.support.stripe_helpers import new_account_id


def _make_live(subdomain: str) -> Tenant:
    tenant = Tenant.by_subdomain(subdomain)
    tenant.connect_account(new_account_id())
    db.session.commit()
    return tenant


def test_the_dashboard_is_not_served_on_a_tenant_host(client_for, make_tenant, db_session):
    make_tenant("acme")
    shop = client_for("acme")
    for path in ("/dashboard", "/dashboard/login", "/dashboard/signup"):
        assert shop.get(path).status_code == 404


def test_a_merchant_cookie_opens_nothing_on_a_tenant_host(platform, smtp_sink, client_for):
    signed_up_and_verified(platform, smtp_sink, subdomain="rockets")
    _make_live("rockets")
    assert platform.get("/dashboard").status_code == 200  # goes live on this visit
    cookie = platform.get_cookie("session", domain="localhost")
    assert cookie is not None and cookie.domain in ("localhost", "")  # host-only
    shop = client_for("rockets")
    assert shop.get("/").status_code == 200  # the live portal, signed out
    shop.set_cookie("session", cookie.value, domain="rockets.localhost")
    account = shop.get("/account")
    assert account.status_code == 302 and "/account" not in account.location
    assert shop.get("/dashboard").status_code == 404


def test_a_customer_cookie_opens_nothing_on_the_platform_host(
    db_session, make_tenant, stripe_emulator, smtp_sink, client_for
):
    merchant = build_merchant(make_tenant, stripe_emulator)
    portal = client_for("acme")
    sign_in(portal, smtp_sink, "ada@example.com")
    assert portal.get("/account").status_code == 200
    cookie = portal.get_cookie("session", domain="acme.localhost")
    platform = client_for(None)
    platform.set_cookie("session", cookie.value, domain="localhost")
    dashboard = platform.get("/dashboard")
    assert dashboard.status_code == 302 and "/dashboard/login" in dashboard.location
    assert merchant.tenant.subdomain == "acme"


def _delivery_of(subdomain: str) -> int:
    tenant = Tenant.by_subdomain(subdomain)
    with tenant_context(tenant.id):
        return db.session.scalars(
            select(EmailDelivery.id).order_by(EmailDelivery.id.desc()).limit(1)
        ).one()


def test_merchant_a_gets_a_404_for_merchant_b_s_data(platform, smtp_sink, client_for):
    signed_up_and_verified(platform, smtp_sink, subdomain="alpha")
    other = client_for(None)
    signed_up_and_verified(other, smtp_sink, subdomain="beta", email="b@example.com")
    mine, theirs = _delivery_of("alpha"), _delivery_of("beta")
    assert platform.get(f"/dashboard/emails/{mine}").status_code == 200
    assert platform.get(f"/dashboard/emails/{theirs}").status_code == 404
    assert platform.get("/dashboard/emails/999999").status_code == 404
    listing = platform.get("/dashboard/emails")
    assert "owner@example.com" in listing.text and "b@example.com" not in listing.text
    home = platform.get("/dashboard?tenant=beta&tenant_id=2")
    assert "alpha.localhost" in home.text and "beta.localhost" not in home.text


def test_signing_in_again_starts_a_fresh_session(platform, smtp_sink, client_for):
    from tests.merchant.conftest import PASSWORD
    from tests.support.portal_client import csrf_from

    signed_up_and_verified(platform, smtp_sink)
    before = platform.get_cookie("session", domain="localhost").value
    again = platform.post(
        "/dashboard/login",
        data={
            "csrf_token": csrf_from(platform.get("/dashboard").text),
            "email": "owner@example.com",
            "password": PASSWORD,
        },
    )
    assert again.status_code == 302
    assert platform.get_cookie("session", domain="localhost").value != before
    assert platform.get("/dashboard").status_code == 200
    thief = client_for(None)
    thief.set_cookie("session", before, domain="localhost")
    assert thief.get("/dashboard").status_code == 302  # the earlier session ended


def test_signing_out_ends_the_session_on_the_server(platform, smtp_sink, client_for):
    from tests.support.portal_client import csrf_from

    signed_up_and_verified(platform, smtp_sink)
    saved = platform.get_cookie("session", domain="localhost").value
    home = platform.get("/dashboard")
    assert (
        platform.post("/dashboard/logout", data={"csrf_token": csrf_from(home.text)}).status_code
        == 302
    )
    thief = client_for(None)
    thief.set_cookie("session", saved, domain="localhost")
    assert thief.get("/dashboard").status_code == 302


def test_the_session_cookie_is_host_only_and_pages_are_not_stored(platform, smtp_sink):
    from tests.merchant.conftest import log_in, sign_up

    sign_up(platform)
    signed_in = log_in(platform)
    cookie = signed_in.headers["Set-Cookie"]
    assert cookie.startswith("session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "domain=" not in cookie.lower()  # host-only: never sent to a tenant's subdomain
    assert platform.get("/dashboard").headers["Cache-Control"] == "no-store"


def test_a_session_ends_after_an_idle_hour_and_twelve_hours_in_all(platform, smtp_sink):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from app.merchant.models import MerchantSession
    from tests.merchant.conftest import log_in

    signed_up_and_verified(platform, smtp_sink)
    now = datetime.now(UTC)
    db.session.execute(update(MerchantSession).values(last_seen_at=now - timedelta(minutes=61)))
    db.session.commit()
    assert platform.get("/dashboard").status_code == 302
    assert log_in(platform).status_code == 302
    db.session.execute(
        update(MerchantSession)
        .where(MerchantSession.ended_at.is_(None))
        .values(created_at=now - timedelta(hours=12, minutes=1), last_seen_at=now)
    )
    db.session.commit()
    assert platform.get("/dashboard").status_code == 302


def test_only_the_merchant_and_operator_tables_are_platform_level(app, db_session):
    from app.merchant.models import MerchantUser
    from tenants.scoping import PLATFORM_LEVEL, tenant_owned_table_names

    marked = {t.name for t in db.metadata.sorted_tables if t.info.get(PLATFORM_LEVEL)}
    assert marked == {
        "merchant_users",
        "merchant_sessions",
        "merchant_tokens",
        "merchant_invites",
        "operators",
        "operator_sessions",
        "operator_recovery_codes",
        "ops_audit_log",
    }
    assert not marked & set(tenant_owned_table_names(db.metadata))
    # Read on the platform host, with no tenant chosen: neither layer refuses or filters it.
    assert db.session.scalars(select(MerchantUser)).all() == []
