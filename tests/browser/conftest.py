"""Browser fixtures: one headless Debian Chromium per session, a fresh context per test.

The browser talks to the app served by gunicorn (`live_server`, or `tls_live_server` over HTTPS
for journeys marked `over_http_and_https`); emails are sent by the real Celery worker
(`real_worker`) to the SMTP sink, so every row a test makes must be committed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from app.extensions import limiter
from tests.browser.journeys import DESKTOP, Visitor
from tests.portal.conftest import build_merchant
from tests.support.settings import ARTIFACTS_DIR, IN_CI

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(ARTIFACTS_DIR) / "screenshots"
# The merchant's brand, distinct from the defaults so the tests see it carried through.
BRAND = {"primary_color": "#e11d48", "accent_color": "#f59e0b"}
LOGO = "/static/demo/acme-logo.svg"
ASSETS = {"stylesheet", "script", "image", "font", "media"}
CONNECT_WEBHOOK = "billfold-connect"  # the emulator endpoint the live_server fixture registers


@pytest.fixture(scope="session")
def chromium(tls_site) -> Browser:
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing; scripts/services.sh installs it")
        pytest.skip(f"{CHROMIUM} is not installed (scripts/services.sh installs it)")
    # The HTTPS site's key is trusted, nothing else: any other certificate error still fails.
    trust = f"--ignore-certificate-errors-spki-list={tls_site.spki_sha256}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, trust]
        )
        yield browser
        browser.close()


@pytest.fixture
def shop(app, committed, real_worker, make_tenant, stripe_emulator, smtp_sink):
    """Acme Rockets, committed: ada@example.com has two customers, a subscription, an open bill."""
    with app.app_context():
        limiter.reset()  # the live server counts in the same Redis
    smtp_sink.clear()
    return build_merchant(make_tenant, stripe_emulator, logo_url=LOGO, **BRAND)


@pytest.fixture
def portal_server(request, live_server):
    """The site the browser uses: plain HTTP, or HTTPS with production's settings for a test
    parametrized with `indirect=["portal_server"]`."""
    if getattr(request, "param", "http") == "https":
        return request.getfixturevalue("tls_live_server")
    return live_server


@pytest.fixture
def tab(chromium, portal_server, shop) -> Page:
    """A page in a new browser context (own cookies) on the shop's portal.

    Fails the test on a script error, a CSP violation (an inline style or script, a foreign
    asset) or an asset that did not load: pages must work under the strict CSP.
    """
    context = chromium.new_context(
        viewport=DESKTOP, base_url=portal_server.tenant_url(shop.tenant.subdomain)
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []

    def on_console(message) -> None:
        if message.type == "error" and "Failed to load resource" not in message.text:
            problems.append(f"console error: {message.text}")

    def on_response(response) -> None:
        # API answers (a declined card's 402) are the page script's to handle; assets must load.
        if response.request.resource_type in ASSETS and response.status >= 400:
            problems.append(f"{response.status} for {response.url}")

    def on_failed(request) -> None:
        if request.failure != "net::ERR_ABORTED":  # not a navigation leaving the page early
            problems.append(f"failed: {request.url} ({request.failure})")

    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", on_console)
    page.on("response", on_response)
    page.on("requestfailed", on_failed)
    yield page
    context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def visitor(tab, smtp_sink, shop, live_server, portal_server) -> Visitor:
    site = portal_server.tenant_url(shop.tenant.subdomain)
    return Visitor(tab, smtp_sink, shop, SCREENSHOTS, live_server.url, site)


@pytest.fixture
def dashboard(app, chromium, portal_server, committed, real_worker, smtp_sink):
    """A browser on the platform host (HTTPS with production's settings for a test parametrized
    with `indirect=["portal_server"]`), failing the test on script errors, CSP violations or an
    asset that did not load (as the portal's `tab`)."""
    with app.app_context():
        limiter.reset()
    smtp_sink.clear()
    context = chromium.new_context(viewport=DESKTOP, base_url=portal_server.url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=portal_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and "Failed to load resource" not in message.text
            and problems.append(f"console error: {message.text}")
        ),
    )
    page.on(
        "response",
        lambda response: (
            response.request.resource_type in {"stylesheet", "script", "image"}
            and response.status >= 400
            and problems.append(f"{response.status} for {response.url}")
        ),
    )
    yield Visitor(page, smtp_sink, None, SCREENSHOTS, portal_server.url, portal_server.url)
    context.close()
    assert not problems, "\n".join(problems)
