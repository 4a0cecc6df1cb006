"""The OAuth boundary: a merchant lets an application reach its existing Stripe account.

Two flows, each a page where the merchant says yes or no, then a code swapped for access:

* **Stripe Connect (Standard accounts).** ``GET /oauth/authorize`` (``response_type=code``,
  ``client_id``, ``scope``, ``redirect_uri``, ``state``) shows the consent page; Allow sends the
  browser to ``redirect_uri?code=ac_...&scope=read_write&state=...``, Deny to
  ``redirect_uri?error=access_denied&error_description=...&state=...``. ``POST /oauth/token``
  (``grant_type=authorization_code``, ``code``; the platform's secret key as ``client_secret`` or
  in the Authorization header) answers ``stripe_user_id`` (the account), ``access_token``,
  ``refresh_token``, ``stripe_publishable_key``, ``scope``, ``livemode`` and ``token_type``. The
  platform then acts on the account with its own key and ``Stripe-Account``.
  ``POST /oauth/deauthorize`` (``client_id``, ``stripe_user_id``) disconnects the account.
* **Stripe Apps.** ``GET /oauth/v2/authorize`` (``client_id``, ``redirect_uri``, ``state``) shows
  the install page; the answers are the same, without ``scope``. The code is swapped at
  ``POST /v1/oauth/token`` on the API host (the platform's secret key in the Authorization
  header): ``grant_type=authorization_code`` with ``code``, or ``grant_type=refresh_token`` with
  ``refresh_token``. Both answer ``access_token`` (an API key for that one account, valid
  ``expires_in`` seconds), ``refresh_token``, ``expires_in``, ``stripe_user_id``, ``livemode``,
  ``scope`` and ``token_type``. A refresh token is good for one refresh: the answer carries the
  next one, and the spent one is refused from then on.

A code is single use and lives 5 minutes; a wrong, spent or foreign code, and a spent or revoked
refresh token, answer 400 ``{"error": "invalid_grant", "error_description": ...}`` as Stripe's
OAuth endpoints do. A deauthorization (by the platform, or by the merchant through
``POST /_config/oauth/deauthorize`` with ``account``, as when they remove the app in their
Dashboard) revokes the application's tokens for that account and sends an
``account.application.deauthorized`` event from it (carrying ``account``: it reaches Connect
endpoints).

The consent page also takes an ``account`` field: empty, a new account is made and seeded with
two customers, a price, a subscription and an open invoice (so a backfill has something to copy);
an ``acct_...`` id authorizes that existing account instead (to connect one account twice).

``POST /_config/oauth`` with ``access_token_seconds`` sets how long new access tokens live
(default 3600, as Stripe's), and with ``garbage_answers=N`` makes the next N token answers an
HTML error page with status 200 (a proxy in the way); ``POST /_config/keys/expire``
(credentials.py) ends one token now.
"""

from __future__ import annotations

import html
import secrets
import time
import urllib.parse
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from localstripe import resources
from localstripe.server import get_post_data, json_response

from . import credentials
from .credentials import Credential
from .routing import Route, stripe_error
from .storage import current_account

CODE_SECONDS = 300
DEFAULT_ACCESS_TOKEN_SECONDS = 3600
SEED_KEY = "sk_test_emulator_oauth_seed"  # the platform's key, used only to seed new accounts

settings = {"access_token_seconds": float(DEFAULT_ACCESS_TOKEN_SECONDS), "garbage_answers": 0}
GARBAGE = "<html><body>502 Bad Gateway</body></html>"


def _garbage() -> web.Response | None:
    """The next token answer is an HTML error page with status 200, if a test asked for one."""
    if settings["garbage_answers"] <= 0:
        return None
    settings["garbage_answers"] -= 1
    return web.Response(text=GARBAGE, content_type="text/html")


@dataclass
class Grant:
    flow: str  # "connect" or "apps"
    client_id: str
    account: str
    redirect_uri: str
    expires_at: float
    used: bool = False


codes: dict[str, Grant] = {}
# refresh token -> (client id, account); removed when spent or revoked
refresh_tokens: dict[str, tuple[str, str]] = {}


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return json_response({"error": error, "error_description": description}, status=status)


# -- the consent page -------------------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body>
<h1>{title}</h1>
<p><strong>{client}</strong> asks to {what}.</p>
<form method="post" action="{action}">
{hidden}
<p><label for="account">Stripe account (leave empty for a new test account)</label>
<input id="account" name="account" value=""></p>
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</body></html>
"""


def _flow_of(request: web.Request) -> str:
    return "apps" if request.path.startswith("/oauth/v2/") else "connect"


def _page_error(message: str) -> web.Response:
    body = f"<!doctype html><title>Error</title><h1>Error</h1><p>{html.escape(message)}</p>"
    return web.Response(status=400, text=body, content_type="text/html")


async def authorize_page(request: web.Request) -> web.Response:
    """GET /oauth/authorize (Connect) or /oauth/v2/authorize (Apps): Allow or Deny."""
    query = request.query
    if not query.get("client_id", "").startswith("ca_"):
        return _page_error("client_id (ca_...) is required")
    if not query.get("redirect_uri", "").startswith(("http://", "https://")):
        return _page_error("redirect_uri (http...) is required")
    flow = _flow_of(request)
    if flow == "connect" and query.get("response_type", "code") != "code":
        return _page_error("response_type must be code")
    kept = ("client_id", "redirect_uri", "state", "scope", "response_type")
    hidden = "\n".join(
        f'<input type="hidden" name="{name}" value="{html.escape(query[name])}">'
        for name in kept
        if name in query
    )
    title = "Install app" if flow == "apps" else "Connect with Stripe"
    what = "be installed on your Stripe account" if flow == "apps" else "connect your account"
    body = PAGE.format(
        title=title,
        client=html.escape(query["client_id"]),
        what=what,
        action=html.escape(request.path),
        hidden=hidden,
    )
    return web.Response(text=body, content_type="text/html")


def _redirect(redirect_uri: str, params: dict) -> web.Response:
    separator = "&" if urllib.parse.urlsplit(redirect_uri).query else "?"
    location = redirect_uri + separator + urllib.parse.urlencode(params)
    return web.Response(status=302, headers={"Location": location})


async def authorize_decision(request: web.Request) -> web.Response:
    """POST of the consent page: redirect with a code (Allow) or access_denied (Deny)."""
    form = await request.post()
    client_id, redirect_uri = form.get("client_id", ""), form.get("redirect_uri", "")
    if not client_id.startswith("ca_") or not redirect_uri.startswith(("http://", "https://")):
        return _page_error("client_id and redirect_uri are required")
    state = {"state": form["state"]} if form.get("state") else {}
    if form.get("decision") != "allow":
        return _redirect(
            redirect_uri,
            {
                "error": "access_denied",
                "error_description": "The user denied your request",
                **state,
            },
        )
    account = (form.get("account") or "").strip()
    if account and not account.startswith("acct_"):
        return _page_error("account must look like acct_...")
    if not account:
        account = "acct_" + secrets.token_hex(8)
        await _seed_account(request, account)
    flow = _flow_of(request)
    code = "ac_" + secrets.token_hex(16)
    codes[code] = Grant(flow, client_id, account, redirect_uri, time.time() + CODE_SECONDS)
    scope = {"scope": form.get("scope") or "read_write"} if flow == "connect" else {}
    return _redirect(redirect_uri, {"code": code, **scope, **state})


async def _seed_account(request: web.Request, account: str) -> None:
    """Give a new account a little billing history, through the emulator's own API."""
    base = f"http://{request.host}"
    headers = {"Authorization": f"Bearer {SEED_KEY}", "Stripe-Account": account}
    async with aiohttp.ClientSession(base_url=base, headers=headers) as http:

        async def post(path: str, data: dict) -> dict:
            async with http.post(path, data=data) as response:
                answer = await response.json()
                if response.status != 200:
                    raise RuntimeError(f"seeding {path}: {answer}")
                return answer

        price = await post(
            "/v1/prices",
            {
                "currency": "usd",
                "unit_amount": "2500",
                "recurring[interval]": "month",
                "product_data[name]": "Seeded plan",
            },
        )
        for n, email in enumerate(("first@seeded.example", "second@seeded.example")):
            customer = await post("/v1/customers", {"email": email, "name": f"Seeded {n + 1}"})
            method = await post(
                "/v1/payment_methods",
                {
                    "type": "card",
                    "card[number]": "4242424242424242",
                    "card[exp_month]": "12",
                    "card[exp_year]": "2030",
                    "card[cvc]": "123",
                },
            )
            await post(f"/v1/payment_methods/{method['id']}/attach", {"customer": customer["id"]})
            await post(
                f"/v1/customers/{customer['id']}",
                {"invoice_settings[default_payment_method]": method["id"]},
            )
            if n == 0:
                await post(
                    "/v1/subscriptions",
                    {"customer": customer["id"], "items[0][price]": price["id"]},
                )
            else:
                await post(
                    "/v1/invoiceitems",
                    {"customer": customer["id"], "amount": "4000", "currency": "usd"},
                )
                draft = await post(
                    "/v1/invoices",
                    {"customer": customer["id"], "pending_invoice_items_behavior": "include"},
                )
                await post(f"/v1/invoices/{draft['id']}/finalize", {})


# -- token endpoints --------------------------------------------------------------------------


def _platform_key(request: web.Request, form) -> str | None:
    key = credentials.key_of(request) or form.get("client_secret")
    issued = key in credentials.credentials  # a merchant's key or a token is no platform key
    return key if isinstance(key, str) and key.startswith("sk_") and not issued else None


def _take_code(code: str, flow: str) -> Grant | None:
    grant = codes.get(code)
    if grant is None or grant.used or grant.flow != flow or time.time() > grant.expires_at:
        return None
    grant.used = True
    return grant


def _issue_tokens(client_id: str, account: str, *, expiring: bool) -> dict:
    lifetime = settings["access_token_seconds"] if expiring else None
    access = credentials.issue(account, kind="oauth", lifetime=lifetime, client_id=client_id)
    refresh = "rt_" + secrets.token_hex(20)
    refresh_tokens[refresh] = (client_id, account)
    answer = {
        "access_token": access.key,
        "refresh_token": refresh,
        "token_type": "bearer",
        "livemode": False,
        "stripe_user_id": account,
        "stripe_publishable_key": "pk_test_" + secrets.token_hex(12),
    }
    if expiring:
        answer["expires_in"] = int(lifetime)
    return answer


async def connect_token(request: web.Request) -> web.Response:
    """POST /oauth/token (Connect): swap an authorization code for the account's id."""
    form = await get_post_data(request, remove_auth=False) or {}
    if _platform_key(request, form) is None:
        return _oauth_error(401, "invalid_client", "No valid API key provided.")
    if garbage := _garbage():
        return garbage
    if form.get("grant_type") != "authorization_code":
        return _oauth_error(400, "unsupported_grant_type", "Only authorization_code is emulated.")
    grant = _take_code(str(form.get("code") or ""), "connect")
    if grant is None:
        return _oauth_error(
            400, "invalid_grant", f"Authorization code does not exist: {form.get('code')}"
        )
    answer = _issue_tokens(grant.client_id, grant.account, expiring=False)
    return json_response({**answer, "scope": "read_write"})


async def apps_token(request: web.Request) -> web.Response:
    """POST /v1/oauth/token (Apps): a code, or a refresh token, for an expiring access token."""
    form = await get_post_data(request, remove_auth=False) or {}
    if _platform_key(request, form) is None:
        return _oauth_error(401, "invalid_client", "No valid API key provided.")
    if garbage := _garbage():
        return garbage
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        grant = _take_code(str(form.get("code") or ""), "apps")
        if grant is None:
            return _oauth_error(
                400, "invalid_grant", f"Authorization code does not exist: {form.get('code')}"
            )
        client_id, account = grant.client_id, grant.account
    elif grant_type == "refresh_token":
        found = refresh_tokens.pop(str(form.get("refresh_token") or ""), None)
        if found is None:
            return _oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
        client_id, account = found
    else:
        return _oauth_error(400, "unsupported_grant_type", f"Unsupported grant: {grant_type}")
    answer = _issue_tokens(client_id, account, expiring=True)
    return json_response({**answer, "scope": "stripe_apps"})


class _Application:
    """The `data.object` of account.application.deauthorized: the application."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id

    def _export(self, expand=None) -> dict:
        return {"id": self.client_id, "object": "application", "name": None}


def _deauthorize(account: str, client_id: str | None) -> int:
    """Revoke the application's tokens for the account; announce it from the account."""

    def held(credential: Credential) -> bool:
        return (
            credential.kind == "oauth"
            and credential.account == account
            and (client_id is None or credential.client_id == client_id)
        )

    revoked = credentials.revoke_where(held)
    for grant in codes.values():
        if grant.account == account and (client_id is None or grant.client_id == client_id):
            grant.used = True
            grant.client_id = ""  # no longer connected: a second deauthorize is refused
    for token, (holder, owner) in list(refresh_tokens.items()):
        if owner == account and (client_id is None or holder == client_id):
            del refresh_tokens[token]
    # The event is created in the account's namespace, as a connected request would.
    token = current_account.set(account)
    try:
        event = resources.Event("account.application.deauthorized", _Application(client_id or ""))
        resources.schedule_webhook(event)
    finally:
        current_account.reset(token)
    return revoked


def _connected(account: str, client_id: str) -> bool:
    return any(
        grant.account == account and grant.client_id == client_id and grant.used
        for grant in codes.values()
    )


async def deauthorize(request: web.Request) -> web.Response:
    """POST /oauth/deauthorize (Connect): the platform lets go of an account."""
    form = await get_post_data(request, remove_auth=False) or {}
    if _platform_key(request, form) is None:
        return _oauth_error(401, "invalid_client", "No valid API key provided.")
    client_id, account = str(form.get("client_id") or ""), str(form.get("stripe_user_id") or "")
    if not _connected(account, client_id):
        return _oauth_error(
            400, "invalid_client", f"Stripe user {account} is not connected to {client_id}."
        )
    _deauthorize(account, client_id)
    return json_response({"stripe_user_id": account})


async def merchant_deauthorizes(request: web.Request) -> web.Response:
    """POST /_config/oauth/deauthorize (account, optional client_id): the merchant removes the
    app or disconnects the platform in their own Dashboard."""
    form = await get_post_data(request) or {}
    account = str(form.get("account") or "")
    if not account.startswith("acct_"):
        raise stripe_error(400, "account (acct_...) is required")
    revoked = _deauthorize(account, form.get("client_id") or None)
    return json_response({"revoked": revoked})


async def configure(request: web.Request) -> web.Response:
    """POST /_config/oauth: access_token_seconds (how long new access tokens live) and
    garbage_answers (how many of the next token answers are an HTML page, not JSON)."""
    form = await get_post_data(request) or {}
    try:
        if form.get("access_token_seconds") is not None:
            settings["access_token_seconds"] = float(form["access_token_seconds"])
        if form.get("garbage_answers") is not None:
            settings["garbage_answers"] = int(form["garbage_answers"])
    except (TypeError, ValueError):
        raise stripe_error(400, "access_token_seconds and garbage_answers are numbers") from None
    return web.Response()


ROUTES: list[Route] = [
    ("GET", "/oauth/authorize", authorize_page),
    ("POST", "/oauth/authorize", authorize_decision),
    ("GET", "/oauth/v2/authorize", authorize_page),
    ("POST", "/oauth/v2/authorize", authorize_decision),
    ("POST", "/oauth/token", connect_token),
    ("POST", "/oauth/deauthorize", deauthorize),
    ("POST", "/v1/oauth/token", apps_token),
    ("POST", "/_config/oauth", configure),
    ("POST", "/_config/oauth/deauthorize", merchant_deauthorizes),
]
