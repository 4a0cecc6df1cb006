"""Merchant dashboard fixtures: a platform-host client, sign-up and sign-in as a person does."""

from __future__ import annotations

import re

import pytest

from app.extensions import limiter
from tests.support.portal_client import csrf_from, text_part

PASSWORD = "orbital-pancake-velvet"
MERCHANT_LINK_RE = re.compile(
    r"https?://[^/\s]+(/dashboard/(?:verify|reset|confirm-email)/[A-Za-z0-9_-]+)"
)


@pytest.fixture(autouse=True)
def fresh_limits_and_mailbox(app, smtp_sink):
    with app.app_context():
        limiter.reset()
    smtp_sink.clear()


@pytest.fixture
def platform(client_for, db_session):
    return client_for(None)


def signup_fields(**overrides) -> dict:
    return {
        "business_name": "Acme Rockets",
        "name": "Ada Owner",
        "email": "owner@example.com",
        "password": PASSWORD,
        "subdomain": "acme",
        **overrides,
    }


def sign_up(client, **overrides):
    page = client.get("/dashboard/signup")
    return client.post(
        "/dashboard/signup", data={"csrf_token": csrf_from(page.text), **signup_fields(**overrides)}
    )


def emailed_link(smtp_sink, to: str) -> str:
    """The path of the dashboard link in the newest email to `to`."""
    match = MERCHANT_LINK_RE.search(text_part(smtp_sink.wait_for(to)))
    assert match, "no dashboard link in the email"
    return match.group(1)


def follow_link(client, path: str):
    """Open an emailed link and press its button."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return client.post(path, data={"csrf_token": csrf_from(page.text)})


def log_in(client, email: str = "owner@example.com", password: str = PASSWORD):
    page = client.get("/dashboard/login")
    return client.post(
        "/dashboard/login",
        data={"csrf_token": csrf_from(page.text), "email": email, "password": password},
    )


def signed_up_and_verified(client, smtp_sink, **overrides):
    """A merchant who signed up, verified the address and is signed in."""
    fields = signup_fields(**overrides)
    assert sign_up(client, **overrides).status_code == 302
    follow_link(client, emailed_link(smtp_sink, fields["email"]))
    assert log_in(client, fields["email"], fields["password"]).status_code == 302
    return fields


def merchant_user_for(tenant, email: str = "owner@example.com"):
    """An owner account, verified, for a tenant made by a fixture rather than by sign-up."""
    from app.clock import utcnow
    from app.extensions import db
    from app.merchant.models import MerchantUser
    from app.merchant.passwords import hash_password

    user = MerchantUser(
        tenant_id=tenant.id,
        name="Ada Owner",
        email=email,
        password_hash=hash_password(PASSWORD),
        email_verified_at=utcnow(),
    )
    db.session.add(user)
    db.session.commit()
    return user


def post_page_form(client, path: str, data: dict):
    """Submit a dashboard page's form as a browser does: its CSRF token, these fields."""
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return client.post(path, data={"csrf_token": csrf_from(page.text), **data})
