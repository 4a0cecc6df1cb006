"""The dashboard's portal link and its variants; the portal's login page pre-fills ?email= and
records ?src= with the sign-in."""

from sqlalchemy import select

from app.extensions import db
from app.portal.models import LoginToken
from tenants.context import tenant_context
from tests.merchant.conftest import signed_up_and_verified
from tests.portal.conftest import build_merchant
from tests.support.portal_client import csrf_from


def test_the_dashboard_shows_the_link_a_button_snippet_and_placements(platform, smtp_sink):
    signed_up_and_verified(platform, smtp_sink, subdomain="rockets")
    home = platform.get("/dashboard")
    assert home.status_code == 200
    assert 'value="http://rockets.localhost/"' in home.text
    assert 'data-copy="portal-link"' in home.text and "/static/js/copy.js" in home.text
    assert "Open it" in home.text
    assert "&lt;a href=&#34;http://rockets.localhost/?src=account-page&#34;" in home.text
    for slug in ("email-footer", "help-center", "account-page"):
        assert f"http://rockets.localhost/?src={slug}" in home.text
    assert "http://rockets.localhost/?email=customer%40example.com" in home.text


def _shop(db_session, make_tenant, stripe_emulator, client_for):
    build_merchant(make_tenant, stripe_emulator)
    return client_for("acme")


def test_the_login_page_prefills_a_valid_email_only(
    db_session, make_tenant, stripe_emulator, client_for
):
    shop = _shop(db_session, make_tenant, stripe_emulator, client_for)
    page = shop.get("/?email=Ada%40Example.com&src=help-center")
    assert 'value="ada@example.com"' in page.text
    assert 'name="src" type="hidden" value="help-center"' in page.text
    junk = shop.get("/?email=%22%3E%3Cscript%3E&src=Not%20A%20Slug%22")
    assert junk.status_code == 200
    assert "<script>" not in junk.text and 'value="Not' not in junk.text
    assert 'name="src" type="hidden" value=""' in junk.text


def test_the_source_is_stored_with_the_sign_in(
    db_session, make_tenant, stripe_emulator, client_for, smtp_sink
):
    shop = _shop(db_session, make_tenant, stripe_emulator, client_for)
    page = shop.get("/?src=email-footer")
    shop.post(
        "/",
        data={
            "csrf_token": csrf_from(page.text),
            "email": "ada@example.com",
            "src": "email-footer",
        },
    )
    smtp_sink.wait_for("ada@example.com")
    page = shop.get("/")
    shop.post(
        "/",
        data={"csrf_token": csrf_from(page.text), "email": "ada@example.com", "src": "<b>x</b>"},
    )
    from tenants.models import Tenant

    with tenant_context(Tenant.by_subdomain("acme").id):
        sources = db.session.scalars(select(LoginToken.source).order_by(LoginToken.id)).all()
    assert sources == ["email-footer", None]
