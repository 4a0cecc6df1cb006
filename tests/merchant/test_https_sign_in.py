"""A merchant signs up, verifies and signs in over HTTPS, as on the production site: Flask-WTF's
strict Referer check stays on, and each emailed link's page lets the browser send a Referer of
our own origin only."""

from tests.merchant.conftest import PASSWORD, emailed_link, signup_fields
from tests.support.portal_client import csrf_from, post_as_browser, referer_sent


def test_sign_up_verify_and_sign_in_over_https(app, client_for, db_session, smtp_sink):
    assert app.config["WTF_CSRF_SSL_STRICT"]  # Flask-WTF's default, as in production
    dashboard = client_for(None, scheme="https")
    form = dashboard.get("/dashboard/signup")
    signed_up = post_as_browser(dashboard, form, "/dashboard/signup", signup_fields())
    assert signed_up.status_code == 302

    path = emailed_link(smtp_sink, "owner@example.com")
    confirm = dashboard.get(path)
    assert confirm.status_code == 200 and confirm.request.url.startswith("https://")
    policy = confirm.headers["Referrer-Policy"]
    assert referer_sent(policy, confirm.request.url, "https://acme.localhost/") is None
    # The strict check is on: the button's post without a Referer is refused...
    assert dashboard.post(path, data={"csrf_token": csrf_from(confirm.text)}).status_code == 400
    # ...and the browser's, with the Referer the page allows, verifies the address.
    assert post_as_browser(dashboard, confirm, path, {}).status_code in (302, 303)

    login = dashboard.get("/dashboard/login")
    signed_in = post_as_browser(
        dashboard, login, "/dashboard/login", {"email": "owner@example.com", "password": PASSWORD}
    )
    assert signed_in.status_code == 302 and signed_in.location.endswith("/dashboard")
    cookie = signed_in.headers["Set-Cookie"]
    # Host-only (no Domain), HttpOnly, Lax; Secure is production's setting (tests/test_config.py).
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Domain=" not in cookie
    home = dashboard.get("/dashboard")
    assert home.status_code == 200 and "Your portal login link" in home.text
