"""Signing up: the tenant and its owner in one transaction, every bad input refused plainly."""

from sqlalchemy import func, select

from app.extensions import db
from app.merchant.models import MerchantUser
from tenants.models import Tenant
from tests.merchant.conftest import (
    PASSWORD,
    emailed_link,
    follow_link,
    log_in,
    sign_up,
    signup_fields,
)
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


def _refused(platform, field_text: str, **overrides):
    response = sign_up(platform, **overrides)
    assert response.status_code == 400
    assert field_text in response.text
    assert 'aria-invalid="true"' in response.text
    assert _counts() == (0, 0)  # nothing half-written
    return response


def test_a_taken_subdomain_gets_a_clear_message(platform, make_tenant):
    make_tenant("acme")
    before = _counts()
    response = sign_up(platform)
    assert response.status_code == 400
    assert "acme is taken by another business" in response.text
    assert _counts() == before


def test_bad_subdomains_are_refused_with_a_sentence(platform):
    _refused(platform, "is reserved", subdomain="www")
    _refused(platform, "is reserved", subdomain="dashboard")
    _refused(platform, "Use lowercase letters only: acme would do.", subdomain="Acme")
    _refused(platform, "no accents or other alphabets", subdomain="café")
    _refused(platform, "no accents or other alphabets", subdomain="аcme")  # Cyrillic а
    _refused(platform, "at most 63 characters", subdomain="a" * 64)
    _refused(platform, "starts and ends with a letter or digit", subdomain="-acme")
    _refused(platform, "starts and ends with a letter or digit", subdomain="ac_me")
    _refused(platform, "no spaces", subdomain=" acme")
    assert sign_up(platform, subdomain="a" * 63).status_code == 302  # the longest one is fine


def test_weak_and_common_passwords_are_refused(platform):
    _refused(platform, "Use at least 10 characters.", password="short1")
    _refused(platform, "most common passwords", password="1234567890")
    _refused(platform, "most common passwords", password="QwertyUIOP")
    _refused(platform, "must not be your email address", password="owner@example.com")


def test_the_common_password_list_really_holds_a_thousand(app):
    from app.merchant.passwords import common_passwords

    passwords = common_passwords()
    assert 990 <= len(passwords) <= 1000
    assert {"123456", "password", "qwerty", "iloveyou", "1q2w3e4r5t"} <= passwords


def test_a_form_without_its_csrf_token_is_refused(platform):
    response = platform.post("/dashboard/signup", data=signup_fields())
    assert response.status_code == 400
    assert "This form has expired" in response.text
    assert _counts() == (0, 0)


def test_without_javascript_the_server_suggests_a_free_subdomain(platform, make_tenant):
    make_tenant("acme-rockets")
    response = sign_up(platform, subdomain="", business_name="Acme Rockets!")
    assert response.status_code == 200
    assert 'value="acme-rockets-2"' in response.text
    assert "We suggested an address" in response.text
    assert _counts() == (1, 0)  # the suggestion wrote nothing
    reserved = sign_up(platform, subdomain="", business_name="Dashboard")
    assert 'value="dashboard-billing"' in reserved.text


def test_an_address_with_an_account_gets_the_same_answer_and_a_note(platform, smtp_sink):
    first = sign_up(platform)
    smtp_sink.clear()
    second = sign_up(platform, subdomain="other-shop", email="OWNER@example.com")
    assert (first.status_code, first.location) == (second.status_code, second.location)
    assert Tenant.by_subdomain("other-shop") is None  # nothing written for it
    assert _counts() == (1, 1)
    note = smtp_sink.wait_for("owner@example.com")
    assert "You already have a Billfold account" in note["Subject"]
    assert "/dashboard/verify/" not in html_part(note)


def test_the_signup_page_suggests_with_a_first_party_script(platform):
    page = platform.get("/dashboard/signup")
    assert page.status_code == 200
    assert '<script src="/static/js/merchant-signup.js" defer></script>' in page.text
    script = platform.get("/static/js/merchant-signup.js")
    assert script.status_code == 200
    script.close()
