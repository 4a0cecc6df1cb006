"""/dashboard/branding: the merchant's look, checked by the tenant rules; a live preview that
renders the real templates with unsaved values and stores nothing; a test email."""

from urllib.parse import urlencode

import pytest

from app.extensions import db
from tenants.models import Tenant
from tests.merchant.conftest import log_in, merchant_user_for, post_page_form
from tests.support.portal_client import csrf_from, html_part

GOOD = {
    "display_name": "Orbit Coffee",
    "primary_color": "#1D4ED8",
    "accent_color": "#0ea5e9",
    "sender_name": "Orbit Coffee billing",
    "support_email": "help@orbit-coffee.com",
    "support_url": "https://orbit-coffee.com/help",
}


@pytest.fixture
def acme(db_session, make_tenant):
    return make_tenant("acme", name="Acme Rockets")


@pytest.fixture
def dashboard(client_for, acme):
    merchant_user_for(acme)
    client = client_for(None)
    assert log_in(client).status_code == 302
    return client


def save(dashboard, **fields):
    return post_page_form(dashboard, "/dashboard/branding", {**GOOD, **fields})


def fresh(tenant) -> Tenant:
    db.session.expire_all()
    return db.session.get(Tenant, tenant.id)


def test_the_pages_need_a_signed_in_merchant(client_for, db_session):
    client = client_for(None)
    for page in ("", "/preview", "/preview.css", "/contrast.json"):
        path = "/dashboard/branding" + page
        response = client.get(path)
        assert response.status_code == 302 and "/dashboard/login" in response.location, path


def test_branding_is_saved_and_the_portal_wears_it(dashboard, client_for, acme):
    page = dashboard.get("/dashboard/branding")
    assert page.status_code == 200
    assert 'type="color"' in page.text and 'value="#4f46e5"' in page.text
    assert "/static/js/branding-studio.js" in page.text
    assert save(dashboard).status_code == 302
    tenant = fresh(acme)
    assert tenant.name == "Orbit Coffee" and tenant.primary_color == "#1d4ed8"
    assert tenant.sender_name == "Orbit Coffee billing"
    assert tenant.support_email == "help@orbit-coffee.com"
    assert tenant.support_url == "https://orbit-coffee.com/help"
    portal = client_for("acme")
    assert "Orbit Coffee" in portal.get("/").text
    assert "--brand: #1d4ed8;" in portal.get("/brand.css").text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"primary_color": "red; background:url(https://evil.test/x)"}, "#RRGGBB"),
        ({"accent_color": "#12345"}, "#RRGGBB"),
        ({"support_url": "javascript:alert(document.cookie)"}, "Support URL must be a web address"),
        ({"support_url": "https://orbit.test@evil.test/"}, "Support URL must be a web address"),
        (
            {"support_email": "help@orbit.test\nBcc: all@evil.test"},
            "Support email must be one line",
        ),
        ({"support_email": "Help <help@orbit-coffee.com>"}, "Support email must be one address"),
        ({"sender_name": "PayPal <security@paypal.com>"}, "Sender name is a name"),
        ({"display_name": "  "}, "A tenant needs a name"),
    ],
)
def test_a_bad_value_is_explained_and_nothing_is_stored(dashboard, acme, fields, message):
    response = save(dashboard, **fields)
    assert response.status_code == 400
    assert message in response.text
    tenant = fresh(acme)
    assert tenant.name == "Acme Rockets"  # the valid fields of the same form were not saved
    assert tenant.primary_color == "#4f46e5" and tenant.support_url is None


def test_a_post_without_csrf_is_refused(dashboard, acme):
    response = dashboard.post("/dashboard/branding", data=GOOD)
    assert response.status_code == 400
    assert fresh(acme).name == "Acme Rockets"
    assert dashboard.post("/dashboard/branding/test-email").status_code == 400


def test_a_button_colour_that_fails_aa_is_warned_with_the_nearest_passing_shade(dashboard):
    assert save(dashboard, primary_color="#d9480f").status_code == 302
    page = dashboard.get("/dashboard/branding").text
    assert "Primary colour #d9480f" in page and "WCAG AA" in page
    assert 'data-use-colour="#d2460f"' in page
    live = dashboard.get("/dashboard/branding/contrast.json?primary_color=%237b61ff").json
    assert [(w["field"], w["suggestion"]) for w in live["warnings"]] == [
        ("primary_color", "#7559ff")
    ]
    assert live["warnings"][0]["ratio"] < 4.5
    fine = dashboard.get("/dashboard/branding/contrast.json?primary_color=%234f46e5").json
    assert fine["warnings"] == []


def test_the_preview_renders_unsaved_values_and_stores_nothing(dashboard, acme):
    query = urlencode(
        {
            "display_name": "Preview <b>Co</b>",
            "primary_color": "#123456",
            "support_url": "https://p.test/help",
        }
    )
    signin = dashboard.get(f"/dashboard/branding/preview?page=signin&{query}")
    assert signin.status_code == 200
    assert "Preview &lt;b&gt;Co&lt;/b&gt;" in signin.text and "<b>Co" not in signin.text
    assert "Manage your billing" in signin.text and 'href="https://p.test/help"' in signin.text
    assert "frame-ancestors 'self'" in signin.headers["Content-Security-Policy"]
    assert "script-src 'none'" in signin.headers["Content-Security-Policy"]
    assert signin.headers["X-Frame-Options"] == "SAMEORIGIN"
    css_href = signin.text.split('rel="stylesheet" href="')[2].split('"')[0].replace("&amp;", "&")
    assert "--brand: #123456;" in dashboard.get(css_href).text
    email = dashboard.get(f"/dashboard/branding/preview?page=email&{query}")
    assert email.status_code == 200
    assert "Sign in to Preview &lt;b&gt;Co&lt;/b&gt;" in email.text
    assert "background:#123456" in email.text
    assert "frame-ancestors 'self'" in email.headers["Content-Security-Policy"]
    tenant = fresh(acme)
    assert tenant.name == "Acme Rockets" and tenant.primary_color == "#4f46e5"
    # A value that breaks a rule shows the saved one; it never reaches the stylesheet.
    css = dashboard.get("/dashboard/branding/preview.css?primary_color=red%3B%7D%20*%7Bx:y").text
    assert "--brand: #4f46e5;" in css and "red" not in css


def test_the_test_email_is_the_branded_sign_in_email_to_the_merchant(dashboard, smtp_sink):
    assert save(dashboard).status_code == 302
    page = dashboard.get("/dashboard/branding")
    sent = dashboard.post(
        "/dashboard/branding/test-email", data={"csrf_token": csrf_from(page.text)}
    )
    assert sent.status_code == 302
    message = smtp_sink.wait_for("owner@example.com")
    assert message["Subject"] == "[Test] Your Orbit Coffee billing sign-in link"
    assert message["From"].startswith('"Orbit Coffee billing"') or message["From"].startswith(
        "Orbit Coffee billing"
    )
    assert message["Reply-To"] == "help@orbit-coffee.com"
    html = html_part(message)
    assert "background:#1d4ed8" in html and "Sign in to Orbit Coffee" in html
    assert "123 456" in html


def test_test_emails_are_rate_limited(dashboard):
    token = csrf_from(dashboard.get("/dashboard/branding").text)
    codes = [
        dashboard.post("/dashboard/branding/test-email", data={"csrf_token": token}).status_code
        for _ in range(4)
    ]
    assert codes == [302, 302, 302, 429]


def test_a_merchant_changes_and_previews_only_its_own_branding(
    dashboard, client_for, make_tenant, acme
):
    other = make_tenant("other", name="Other Shop", primary_color="#111111")
    merchant_user_for(other, "other@example.com")
    second = client_for(None)
    assert log_in(second, "other@example.com").status_code == 302
    assert "Other Shop" in second.get("/dashboard/branding/preview?page=signin").text
    assert "Acme Rockets" not in second.get("/dashboard/branding/preview?page=signin").text
    assert save(second, display_name="Renamed").status_code == 302
    assert fresh(other).name == "Renamed"
    assert fresh(acme).name == "Acme Rockets" and fresh(acme).primary_color == "#4f46e5"


def test_the_account_page_preview_shows_a_sample_customer_in_unsaved_branding(dashboard, acme):
    query = urlencode({"display_name": "Preview <b>Co</b>", "primary_color": "#123456"})
    account = dashboard.get(f"/dashboard/branding/preview?page=account&{query}")
    assert account.status_code == 200
    text = account.text
    assert "Your billing with Preview &lt;b&gt;Co&lt;/b&gt;" in text and "<b>Co" not in text
    assert "Signed in as jamie@example.com" in text
    assert "Pro plan" in text and "$29.00" in text and "Visa •••• 4242" in text
    assert "SAMPLE-0003" in text and "Pay $15.00" in text
    assert "owner@example.com" not in text  # the merchant is not shown as the customer
    assert 'class=" is-preview"' in text
    assert "script-src 'none'" in account.headers["Content-Security-Policy"]
    assert "form-action 'none'" in account.headers["Content-Security-Policy"]
    css_href = text.split('rel="stylesheet" href="')[2].split('"')[0].replace("&amp;", "&")
    assert "--brand: #123456;" in dashboard.get(css_href).text
    assert fresh(acme).name == "Acme Rockets"


def test_the_account_page_preview_follows_the_portal_settings(dashboard, acme):
    acme.allow_cancel, acme.allow_invoice_payment, acme.allow_card_update = True, False, False
    db.session.commit()
    text = dashboard.get("/dashboard/branding/preview?page=account").text
    assert "Cancel subscription" in text
    assert "Pay $15.00" not in text and "Replace card" not in text
    page = dashboard.get("/dashboard/branding").text
    assert 'data-page="account"' in page and "Account page" in page
