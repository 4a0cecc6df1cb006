"""Connect accounts: Stripe-Account namespacing, account endpoints, `account` on events."""

from __future__ import annotations

import re
from collections.abc import Callable

from aiohttp import web
from localstripe import resources

from .account_settings import settings_of
from .credentials import current_credential
from .routing import Route, json_route, stripe_error
from .storage import current_account

PLATFORM_ACCOUNT_ID = "acct_emulatorplatform"

# Calls Stripe.js makes with only a publishable key: the fake Stripe.js sends no
# Stripe-Account header, so the object's own namespace is looked up instead.
_PUBLIC_KEY_CALLS = (
    (re.compile(r"^/v1/setup_intents/(\w+)/(confirm|cancel)$"), "setup_intent"),
    (re.compile(r"^/v1/payment_intents/(\w+)/_authenticate$"), "payment_intent"),
)


def _account_for_request(request: web.Request) -> str | None:
    credential = current_credential.get()
    if credential is not None:
        return credential.account  # a key issued to one account acts on that account only
    header = request.headers.get("Stripe-Account", "").strip()
    if header:
        if not header.startswith("acct_"):
            raise stripe_error(400, f"Invalid Stripe-Account header: {header!r}")
        return header
    for pattern, object_name in _PUBLIC_KEY_CALLS:
        match = pattern.match(request.path)
        if match:
            try:
                return resources.store.account_holding(f"{object_name}:{match.group(1)}")
            except KeyError:
                return None
    return None


@web.middleware
async def account_middleware(request: web.Request, handler: Callable) -> web.StreamResponse:
    """Run each request inside the namespace named by its Stripe-Account header."""
    if not request.path.startswith("/v1/"):
        return await handler(request)
    token = current_account.set(_account_for_request(request))
    try:
        return await handler(request)
    finally:
        current_account.reset(token)


def _account_object(account_id: str) -> dict:
    chosen = settings_of(account_id)  # see account_settings.py
    return {
        "id": account_id,
        "object": "account",
        "type": "standard",
        "country": chosen.get("country", "US"),
        "default_currency": "usd",
        "email": None,
        "business_profile": {"name": None, "url": None},
        "settings": {
            "dashboard": {"display_name": None, "timezone": chosen.get("timezone", "Etc/UTC")}
        },
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "charges_enabled": True,
        "payouts_enabled": True,
        "details_submitted": True,
        "livemode": False,
        "metadata": {},
        "created": 1700000000,
    }


def retrieve_account(id: str) -> dict:
    """Every well-formed account id exists: connecting an account needs no setup here."""
    if not id.startswith("acct_"):
        raise stripe_error(404, f"No such account: '{id}'", code="resource_missing")
    return _account_object(id)


def retrieve_current_account() -> dict:
    account = _account_object(current_account.get() or PLATFORM_ACCOUNT_ID)
    credential = current_credential.get()
    if credential is not None:
        account["livemode"] = credential.livemode
    return account


def tag_events_with_account() -> None:
    """Every Event created in a connected namespace carries `account: "acct_..."`, unless it
    was made with the account's own key (a restricted or secret key of the merchant).

    Platform events have no `account` key at all, as on Stripe. Each event also remembers its
    namespace (unexported) so endpoints created on that account receive it.
    """
    original_init = resources.Event.__init__

    def init(self, type, data):
        original_init(self, type, data)
        account = current_account.get()
        self._namespace = account
        credential = current_credential.get()
        if account is not None and (credential is None or credential.events_carry_account):
            self.account = account

    resources.Event.__init__ = init


ROUTES: list[Route] = [
    ("GET", "/v1/account", json_route(retrieve_current_account)),
    ("GET", "/v1/accounts/{id}", json_route(retrieve_account)),
]
