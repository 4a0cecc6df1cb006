"""Deleting a merchant's account: the owner only, after typing the subdomain; Stripe let go of,
every row of the tenant erased, the portal and the session gone; other tenants untouched."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.merchant.account_deletion import tenant_owned_models
from app.merchant.models import MerchantSession, MerchantToken, MerchantUser
from app.portal.models import ActivityKind, PortalActivity
from tenants.context import tenant_context, unscoped
from tenants.logos import TenantLogo
from tenants.models import StripeConnectionStatus, Tenant
from tests.connect.test_api_key import ALL
from tests.merchant.conftest import log_in, merchant_user_for, signed_up_and_verified
from tests.merchant.test_connect_views import submit_key, tenant_of
from tests.portal.conftest import build_merchant
from tests.support.portal_client import csrf_from, sign_in
from tests.support.stripe_helpers import new_account_id

A, B = "acme-owner@example.com", "bravo-owner@example.com"


def rows_of(tenant_id: int) -> dict[str, int]:
    """How many rows each table holds for the tenant: every tenant-owned table, and the
    merchant accounts' tables."""
    db.session.expire_all()
    counts = {}
    with unscoped():
        for model in tenant_owned_models():
            counts[model.__tablename__] = db.session.scalar(
                select(func.count()).select_from(model).where(model.tenant_id == tenant_id)
            )
        users = select(MerchantUser.id).where(MerchantUser.tenant_id == tenant_id)
        counts["merchant_users"] = db.session.scalar(
            select(func.count())
            .select_from(MerchantUser)
            .where(MerchantUser.tenant_id == tenant_id)
        )
        for model in (MerchantSession, MerchantToken):
            counts[model.__tablename__] = db.session.scalar(
                select(func.count()).select_from(model).where(model.user_id.in_(users))
            )
    return counts


def with_customer_data(tenant, portal, smtp_sink):
    """A portal in use: a signed-in customer (user, token, session, email, activity), a logo,
    a cancellation on record."""
    sign_in(portal, smtp_sink, "ada@example.com")
    with tenant_context(tenant.id):
        db.session.add(TenantLogo(content_hash="0" * 64, media_type="image/png", data=b"png",
                                  width=1, height=1))  # fmt: skip
        db.session.add(PortalActivity(kind=ActivityKind.CANCELLATION, email="ada@example.com",
                                      reason="Too expensive"))  # fmt: skip
        db.session.commit()


@pytest.fixture
def two_merchants(db_session, make_tenant, stripe_emulator, smtp_sink, client_for):
    acme = build_merchant(make_tenant, stripe_emulator, "acme")
    bravo = build_merchant(make_tenant, stripe_emulator, "bravo", name="Bravo")
    for merchant in (acme, bravo):
        with_customer_data(merchant.tenant, client_for(merchant.tenant.subdomain), smtp_sink)
    merchant_user_for(acme.tenant, A)
    merchant_user_for(bravo.tenant, B)
    dashboards = {}
    for email in (A, B):
        dashboards[email] = client_for(None)
        assert log_in(dashboards[email], email).status_code == 302
    return acme, bravo, dashboards[A], dashboards[B]


def test_the_page_says_what_is_erased_and_asks_for_the_subdomain(two_merchants):
    _, _, dashboard, _ = two_merchants
    settings = dashboard.get("/dashboard/settings").text
    assert "/dashboard/settings/delete" in settings
    page = dashboard.get("/dashboard/settings/delete")
    assert page.status_code == 200
    for words in ("connection to your Stripe account", "portal accounts, passwords",
                  "activity log", "emails sent", "logo", "Every Billfold login",
                  "subdomain becomes free", "Your portal&#39;s subdomain is acme."):  # fmt: skip
        assert words in page.text
    assert 'name="csrf_token"' in page.text


def test_a_wrong_subdomain_erases_nothing(two_merchants, client_for):
    acme, bravo, dashboard, _ = two_merchants
    before = rows_of(acme.tenant.id)
    for typed in ("bravo", "", "acme-rockets"):
        answer = post_delete(dashboard, typed)
        assert answer.status_code == 400
        assert "That is not your portal&#39;s subdomain. Type acme exactly" in answer.text
        assert "nothing has been deleted" in answer.text
    assert rows_of(acme.tenant.id) == before
    assert tenant_of("acme").stripe_status == StripeConnectionStatus.CONNECTED
    assert client_for("acme").get("/login").status_code == 200


def test_without_the_form_s_token_nothing_is_erased(two_merchants):
    acme, _, dashboard, _ = two_merchants
    before = rows_of(acme.tenant.id)
    answer = dashboard.post("/dashboard/settings/delete", data={"subdomain": "acme"})
    assert answer.status_code == 400
    assert rows_of(acme.tenant.id) == before


def test_the_right_subdomain_erases_everything_and_nothing_of_others(
    two_merchants, client_for, stripe_emulator
):
    acme, bravo, dashboard, bravo_dashboard = two_merchants
    acme_id = acme.tenant.id
    before = rows_of(acme_id)
    for table in ("portal_users", "login_tokens", "portal_sessions", "email_deliveries",
                  "portal_activity", "tenant_logos", "billing_customers", "billing_invoices",
                  "merchant_users", "merchant_sessions"):  # fmt: skip
        assert before[table] > 0, table  # there was something to erase in each
    others = rows_of(bravo.tenant.id)
    answer = post_delete(dashboard, "acme")
    assert answer.status_code == 302 and answer.location.endswith("/dashboard/login")
    after = rows_of(acme_id)
    assert set(after.values()) == {0}, {table: n for table, n in after.items() if n}
    assert db.session.get(Tenant, acme_id) is None
    assert rows_of(bravo.tenant.id) == others
    # The portal's host is a 404, the merchant's session is gone, the other merchant works.
    assert client_for("acme").get("/login").status_code == 404
    gone = dashboard.get("/dashboard")
    assert gone.status_code == 302 and "/dashboard/login" in gone.location
    assert (
        "Your Billfold account and all its data are deleted"
        in dashboard.get("/dashboard/login").text
    )
    assert bravo_dashboard.get("/dashboard/activity").status_code == 200
    assert client_for("bravo").get("/login").status_code == 200
    assert log_in(client_for(None), A).status_code == 400  # the login is gone too: refused


def test_a_member_cannot_delete_the_account(two_merchants):
    acme, _, dashboard, _ = two_merchants
    user = db.session.scalars(select(MerchantUser).where(MerchantUser.email == A)).one()
    user.role = "member"
    db.session.commit()
    assert dashboard.get("/dashboard/settings/delete").status_code == 403
    page = dashboard.get("/dashboard/settings")
    assert "/dashboard/settings/delete" not in page.text
    answer = dashboard.post(
        "/dashboard/settings/delete", data={"csrf_token": csrf_from(page.text), "subdomain": "acme"}
    )
    assert answer.status_code == 403
    assert db.session.get(Tenant, acme.tenant.id) is not None


def test_with_stripe_down_nothing_is_erased(db_session, smtp_sink, client_for, stripe_emulator):
    dashboard = client_for(None)
    signed_up_and_verified(dashboard, smtp_sink)
    key = stripe_emulator.create_key(new_account_id(), [*ALL, "webhook_endpoint_write"])
    submit_key(dashboard, key)
    tenant_id = tenant_of("acme").id
    before = rows_of(tenant_id)
    stripe_emulator.add_fault("endpoints-down", status=503, path="/v1/webhook_endpoints")
    try:
        answer = post_delete(dashboard, "acme")
    finally:
        stripe_emulator.remove_fault("endpoints-down")
    assert answer.status_code == 400 and "Nothing has been deleted." in answer.text
    assert rows_of(tenant_id) == before
    assert tenant_of("acme").stripe_status == StripeConnectionStatus.CONNECTED
    done = post_delete(dashboard, "acme")  # Stripe back: it goes through
    assert done.status_code == 302 and db.session.get(Tenant, tenant_id) is None


def post_delete(client, typed: str):
    page = client.get("/dashboard/settings/delete")
    assert page.status_code == 200
    return client.post(
        "/dashboard/settings/delete", data={"csrf_token": csrf_from(page.text), "subdomain": typed}
    )
