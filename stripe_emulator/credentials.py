"""API keys that belong to one account: restricted keys, a merchant's secret key, OAuth tokens.

Before this module every ``sk_...`` key acted as the platform and ``Stripe-Account`` chose the
namespace. That stays true for keys the emulator never issued. Keys it issued (through
``POST /_config/keys`` or the OAuth token endpoints, see oauth.py) act on their own account, as on
Stripe, and are checked like Stripe checks them:

* a key that expired (OAuth access tokens live ``access_token_seconds``, one hour by default)
  answers 401 with code ``api_key_expired``; a revoked or never-issued ``rk_`` key answers 401
  "Invalid API Key provided";
* a publishable key (``pk_...``) in the Authorization header answers 401 with code
  ``secret_key_required`` (Stripe.js's own calls, which carry the key in the body, still work);
* a restricted key without the permission a call needs answers 403 "The provided key ... does not
  have the required permissions for this endpoint on account ...  Having the 'rak_customer_read'
  permission would allow this request to continue." Permissions are named
  ``rak_<resource>_read`` / ``rak_<resource>_write`` where the resource is the first path part
  after /v1/ in the singular (``/v1/customers/...`` -> ``customer``; subscription items count as
  ``subscription``, plans as ``price``); GET needs read, POST and DELETE need write, and write
  includes read. Every valid key may read its own account (``GET /v1/account``). The check comes
  before the object is looked up, so a write to a missing object answers 403 without the
  permission and 404 with it (a probe that changes nothing).
* events made with a merchant's own key (restricted or secret) carry no ``account`` and go to the
  endpoints created on that account (webhook_endpoints.py); events made with an OAuth token carry
  ``account``, as Stripe sends a Connect platform or a Stripe App its users' events.

``POST /_config/keys`` (form: ``account``, optional ``mode`` test|live, ``kind`` restricted|secret,
``permissions[]`` as ``customer_read`` ...) issues a key and answers ``{"key": ...}``;
``POST /_config/keys/expire`` (form: ``key``) makes one expire now; ``DELETE /_config/keys``
(form: ``key``) revokes one.
"""

from __future__ import annotations

import base64
import contextvars
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from localstripe import server as localstripe_server
from localstripe.errors import UserError
from localstripe.server import get_post_data, json_response

from .routing import Route, stripe_error

# Resource names that differ from the singular of their path part.
_RESOURCE_OF_PATH = {
    "subscription_items": "subscription",
    "plans": "price",
    "invoiceitems": "invoice",
    "invoice_items": "invoice",
}
_OPEN_PATHS = ("/v1/account", "/v1/oauth/token")  # any valid key: its own account; a token swap


@dataclass
class Credential:
    key: str
    account: str
    livemode: bool
    kind: str  # "restricted", "secret" or "oauth"
    permissions: frozenset[str] | None  # None: every permission
    expires_at: float | None = None
    revoked: bool = False
    client_id: str | None = None  # the OAuth application that holds it

    @property
    def events_carry_account(self) -> bool:
        return self.kind == "oauth"

    def allows(self, permission: str) -> bool:
        if self.permissions is None:
            return True
        if permission in self.permissions:
            return True
        return permission.endswith("_read") and (permission[:-5] + "_write") in self.permissions


credentials: dict[str, Credential] = {}
# The credential of the request being served (None: the platform's key, or no key).
current_credential: contextvars.ContextVar[Credential | None] = contextvars.ContextVar(
    "current_credential", default=None
)


def issue(
    account: str,
    *,
    kind: str,
    livemode: bool = False,
    permissions: frozenset[str] | None = None,
    lifetime: float | None = None,
    client_id: str | None = None,
) -> Credential:
    mode = "live" if livemode else "test"
    prefix = {"restricted": "rk", "secret": "sk", "oauth": "sk"}[kind]
    key = f"{prefix}_{mode}_{'oauth_' if kind == 'oauth' else ''}{secrets.token_hex(16)}"
    credential = Credential(
        key=key,
        account=account,
        livemode=livemode,
        kind=kind,
        permissions=permissions,
        expires_at=time.time() + lifetime if lifetime is not None else None,
        client_id=client_id,
    )
    credentials[key] = credential
    return credential


def revoke_where(match: Callable[[Credential], bool]) -> int:
    count = 0
    for credential in credentials.values():
        if not credential.revoked and match(credential):
            credential.revoked = True
            count += 1
    return count


def _redacted(key: str) -> str:
    head = key.split("_", 2)
    return f"{head[0]}_{head[1]}_{'*' * 8}{key[-4:]}" if len(head) == 3 else "*" * 8


def key_of(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme == "Bearer":
        return value.strip() or None
    if scheme == "Basic":
        try:
            return base64.b64decode(value.encode()).decode().split(":")[0] or None
        except ValueError:
            return None
    return None


def _auth_error(message: str, code: str | None = None) -> UserError:
    return stripe_error(401, message, **({"code": code} if code else {}))


def permission_needed(method: str, path: str) -> str:
    part = path[len("/v1/") :].split("/", 1)[0]
    resource = _RESOURCE_OF_PATH.get(part) or (part[:-1] if part.endswith("s") else part)
    return f"rak_{resource}_{'read' if method in ('GET', 'HEAD') else 'write'}"


def _check(credential: Credential, request: web.Request) -> None:
    if credential.revoked:
        raise _auth_error(f"Invalid API Key provided: {_redacted(credential.key)}")
    if credential.expires_at is not None and time.time() >= credential.expires_at:
        raise _auth_error(
            f"Expired API Key provided: {_redacted(credential.key)}", code="api_key_expired"
        )
    header = request.headers.get("Stripe-Account", "").strip()
    if header and header != credential.account:
        raise stripe_error(
            403,
            f"The provided key '{_redacted(credential.key)}' does not have access to account "
            f"'{header}' (or that account does not exist). Application access may have been "
            "revoked.",
            code="account_invalid",
        )
    if request.path in _OPEN_PATHS:
        return
    needed = permission_needed(request.method, request.path)
    if not credential.allows(needed):
        raise stripe_error(
            403,
            f"The provided key '{_redacted(credential.key)}' does not have the required "
            f"permissions for this endpoint on account '{credential.account}'. Having the "
            f"'{needed}' permission would allow this request to continue.",
        )


# Pages a browser opens with no key: OAuth's, and invoice links (their token is the secret).
PUBLIC_PAGES = ("/oauth/", "/invoice.stripe.com/", "/pay.stripe.com/")


@web.middleware
async def credentials_middleware(request: web.Request, handler: Callable) -> web.StreamResponse:
    """Check issued keys like Stripe; hand every other request to localstripe's own check."""
    if request.path.startswith(PUBLIC_PAGES):
        return await handler(request)  # a browser's page, or endpoints that check keys themselves
    if not request.path.startswith("/v1/"):
        return await localstripe_server.auth_middleware(request, handler)
    key = key_of(request)
    if key is not None and key.startswith("pk_"):
        raise _auth_error(
            "This API call cannot be made with a publishable API key. Please use a secret API "
            "key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.",
            code="secret_key_required",
        )
    credential = credentials.get(key) if key else None
    if credential is None:
        if key is not None and not key.startswith("sk_"):
            raise _auth_error(f"Invalid API Key provided: {_redacted(key)}")
        return await localstripe_server.auth_middleware(request, handler)
    _check(credential, request)
    token = current_credential.set(credential)
    try:
        return await handler(request)
    finally:
        current_credential.reset(token)


async def create_key(request: web.Request) -> web.Response:
    """POST /_config/keys: account, mode (test|live), kind (restricted|secret), permissions[]."""
    data = await get_post_data(request) or {}
    account = data.get("account") or ""
    if not account.startswith("acct_"):
        raise stripe_error(400, "account (acct_...) is required")
    kind = data.get("kind") or "restricted"
    if kind not in ("restricted", "secret"):
        raise stripe_error(400, "kind must be restricted or secret")
    names = data.get("permissions") or []
    if isinstance(names, str):
        names = [names]
    permissions = None
    if kind == "restricted":
        permissions = frozenset(n if n.startswith("rak_") else f"rak_{n}" for n in names)
    credential = issue(
        account,
        kind=kind,
        livemode=(data.get("mode") or "test") == "live",
        permissions=permissions,
    )
    return json_response({"key": credential.key, "account": account})


async def expire_key(request: web.Request) -> web.Response:
    """POST /_config/keys/expire: key — it answers api_key_expired from now on."""
    data = await get_post_data(request, remove_auth=False) or {}
    credential = credentials.get(data.get("key") or "")
    if credential is None:
        raise stripe_error(404, "No such key")
    credential.expires_at = time.time() - 1
    return web.Response()


async def revoke_key(request: web.Request) -> web.Response:
    """DELETE /_config/keys?key=...: the key is refused from now on (a rolled key)."""
    credential = credentials.get(request.query.get("key") or "")
    if credential is None:
        raise stripe_error(404, "No such key")
    credential.revoked = True
    return web.Response()


ROUTES: list[Route] = [
    ("POST", "/_config/keys", create_key),
    ("POST", "/_config/keys/expire", expire_key),
    ("DELETE", "/_config/keys", revoke_key),
]
