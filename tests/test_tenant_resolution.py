"""Host -> tenant: known, unknown, suspended, bare platform domain, bad and foreign hosts."""

import pytest
from werkzeug.test import Client

from app.security import behind_proxies
from tenants.resolution import HostKind, split_host


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", (HostKind.PLATFORM, None)),
        ("localhost:5000", (HostKind.PLATFORM, None)),
        ("acme.localhost", (HostKind.TENANT, "acme")),
        ("ACME.localhost:5000", (HostKind.TENANT, "acme")),
        ("acme.localhost.", (HostKind.TENANT, "acme")),
    ],
)
def test_split_host_classifies_platform_and_tenant_hosts(host, expected):
    assert split_host(host, "localhost") == expected


@pytest.mark.parametrize(
    "host",
    [
        "evil.com",
        "a.b.localhost",
        "-x.localhost",
        "localhost.evil.com",
        "[::1]:5000",
        "",
        "x_y.localhost",
    ],
)
def test_split_host_rejects_hosts_outside_the_platform(host):
    with pytest.raises(ValueError):
        split_host(host, "localhost")


def test_known_subdomain_serves_that_tenants_page(db_session, make_tenant, client_for):
    make_tenant("acme", name="Acme Rockets")
    make_tenant("beta", name="Beta Boats")
    response = client_for("acme").get("/")
    assert response.status_code == 200
    assert b"Acme Rockets" in response.data
    assert b"Beta Boats" not in response.data


def test_unknown_subdomain_gets_a_clean_404_page(db_session, client_for):
    response = client_for("nobody").get("/")
    assert response.status_code == 404
    assert b"Page not found" in response.data
    assert b"Traceback" not in response.data


def test_suspended_tenant_is_not_served(db_session, make_tenant, client_for):
    make_tenant("gone", status="suspended", suspended_reason="Unpaid platform fees")
    response = client_for("gone").get("/")
    assert response.status_code == 503
    assert b"temporarily unavailable" in response.data
    assert b"Unpaid" not in response.data  # the reason is for the merchant, not customers


def test_bare_domain_is_the_platform_side(db_session, client_for):
    response = client_for(None).get("/")
    assert response.status_code == 200
    assert b"Billfold" in response.data


@pytest.mark.parametrize("host", ["evil.example.com", "localhost.evil.com", "a.b.localhost"])
def test_untrusted_or_malformed_host_gets_400(db_session, app, host):
    response = app.test_client().get("/", base_url=f"http://{host}")
    assert response.status_code == 400
    assert b"Bad request" in response.data


def test_brand_css_carries_tenant_colours_with_readable_text(db_session, make_tenant, client_for):
    make_tenant("sun", primary_color="#fde047")
    response = client_for("sun").get("/brand.css")
    assert response.mimetype == "text/css"
    assert "--brand: #fde047" in response.text
    assert "--brand-contrast: #0f172a" in response.text  # dark text on a light yellow
    assert client_for(None).get("/brand.css").status_code == 404


def test_behind_a_proxy_the_host_header_chooses_the_tenant(
    db_session, make_tenant, client_for, app, monkeypatch
):
    """PROXY_FIX_HOPS trusts the proxy's scheme and client address, never a forwarded host."""
    make_tenant("acme", name="Acme Rockets")
    make_tenant("beta", name="Beta Boats")
    monkeypatch.setattr(app, "wsgi_app", behind_proxies(app.wsgi_app, 1))
    forwarded = {
        "X-Forwarded-Host": "beta.localhost",
        "X-Forwarded-Port": "8443",
        "X-Forwarded-Prefix": "/beta",
    }
    response = client_for("acme").get("/", headers=forwarded)
    assert response.status_code == 200
    assert b"Acme Rockets" in response.data and b"Beta Boats" not in response.data


def test_behind_a_proxy_the_scheme_and_client_address_are_the_proxys():
    def echo(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        keys = ("wsgi.url_scheme", "REMOTE_ADDR", "HTTP_HOST", "SERVER_PORT", "SCRIPT_NAME")
        return [" ".join(environ.get(key, "") for key in keys).encode()]

    client = Client(behind_proxies(echo, 1))
    response = client.get(
        "/",
        base_url="http://acme.localhost",
        headers={
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Host": "beta.localhost",
            "X-Forwarded-Port": "8443",
            "X-Forwarded-Prefix": "/beta",
        },
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert response.text == "https 203.0.113.9 acme.localhost 80 "
