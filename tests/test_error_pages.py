"""Error pages are finished pages, never tracebacks; security headers go on every response."""

from urllib.parse import urlsplit

import pytest

from app.errors import wait_phrase
from app.factory import create_app


@pytest.fixture
def other_apps(app):
    """Build extra app instances; the session's app is made current again afterwards."""
    yield lambda overrides: create_app({"CELERY_EAGER": True, **overrides})
    app.extensions["celery"].set_current()
    app.extensions["celery"].set_default()


@pytest.fixture
def fresh_app(other_apps):
    """A second app instance, so a test may add its own failing routes."""
    return other_apps({"TESTING": False})


def test_unexpected_exception_gives_plain_500_page(fresh_app):
    @fresh_app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = fresh_app.test_client().get("/boom", base_url="http://localhost")
    assert response.status_code == 500
    assert b"Something went wrong" in response.data
    assert b"secret internals" not in response.data
    assert b"Traceback" not in response.data


def test_unreachable_database_gives_503_page(other_apps):
    broken = other_apps(
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg2://postgres@127.0.0.1:1/none",
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}},
        }
    )
    response = broken.test_client().get("/", base_url="http://acme.localhost")
    assert response.status_code == 503
    assert b"Temporarily unavailable" in response.data
    assert b"psycopg2" not in response.data


@pytest.mark.parametrize(
    ("method", "path", "status"), [("GET", "/nope", 404), ("DELETE", "/", 405)]
)
def test_http_errors_render_the_error_page(db_session, client_for, method, path, status):
    response = client_for(None).open(path, method=method)
    assert response.status_code == status
    assert b"<h1>" in response.data and b"Error %d" % status in response.data


def test_security_headers_on_every_response(db_session, client_for, app):
    response = client_for(None).get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    stripe_js = urlsplit(app.config["STRIPE_JS_URL"])  # Stripe's, or the emulator's copy
    stripe_origin = f"{stripe_js.scheme}://{stripe_js.netloc}"
    assert f"script-src 'self' {stripe_origin};" in csp  # the configured Stripe.js origin only
    assert "'unsafe-inline'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # dev/test run on http


def test_session_cookie_is_host_only_and_lax(app):
    from flask import make_response, session

    with app.test_request_context("/", base_url="http://cookie.localhost"):
        response = make_response("x")
        session["probe"] = 1
        app.session_interface.save_session(app, session, response)
        cookie = response.headers["Set-Cookie"]
    assert "Domain=" not in cookie  # host-only: never sent to another tenant's subdomain
    assert "SameSite=Lax" in cookie
    assert "HttpOnly" in cookie


@pytest.mark.parametrize("subdomain", [None, "acme", "no-such-shop"])
def test_static_files_and_the_icon_on_every_host(db_session, client_for, make_tenant, subdomain):
    make_tenant("acme")
    client = client_for(subdomain)

    def fetched(path: str) -> tuple[int, str, bytes]:
        with client.get(path) as response:  # closes the static file it streams
            return response.status_code, response.mimetype, response.data

    assert fetched("/static/css/app.css")[:2] == (200, "text/css")
    status, _, icon = fetched("/favicon.ico")
    assert status == 200 and icon[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert fetched("/static/favicon.svg")[:2] == (200, "image/svg+xml")


def test_unknown_portal_page_is_styled_and_has_an_icon(db_session, client_for):
    page = client_for("no-such-shop").get("/")
    assert page.status_code == 404
    assert "There is no billing portal at this address." in page.text
    assert '<link rel="stylesheet" href="/static/css/app.css">' in page.text
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page.text


@pytest.mark.parametrize(
    ("seconds", "phrase"),
    [
        (1, "in 1 second"),
        (59, "in 59 seconds"),
        (60, "in a minute"),
        (61, "in 2 minutes"),
        (3599, "in an hour"),
        (3601, "in 2 hours"),
        (86400, "in 24 hours"),
    ],
)
def test_the_wait_is_rounded_up_never_sooner_than_true(seconds, phrase):
    assert wait_phrase(seconds) == phrase
