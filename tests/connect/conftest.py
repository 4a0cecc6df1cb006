"""Fixtures of the connection tests: the emulator's consent pages answered as a merchant would."""

from __future__ import annotations

import urllib.parse

import pytest
import requests

from tests.conftest import PLATFORM_STRIPE_KEY

SESSION = "merchant-session-opaque-value"
REDIRECT = "http://localhost/dashboard/connect/callback"


def consent(authorize_url: str, decision: str = "allow", account: str = "") -> dict:
    """Open Stripe's consent page at `authorize_url`, answer it; the callback's query."""
    parts = urllib.parse.urlsplit(authorize_url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200 and 'value="allow"' in page.text
    answer = requests.post(
        f"{parts.scheme}://{parts.netloc}{parts.path}",
        data={**query, "decision": decision, "account": account},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(query["redirect_uri"])
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


@pytest.fixture
def platform_key() -> str:
    return PLATFORM_STRIPE_KEY


@pytest.fixture(autouse=True)
def emulated_stripe(stripe_emulator, webhooks_paused):
    """Every connection test goes through Stripe's consent pages and API: the emulator's. Its
    webhooks are held back, so no worker left running by earlier tests acts on these accounts
    meanwhile (renewing a Stripe App's token before the test does, say)."""
    return stripe_emulator
