"""The one factory for a tenant's Stripe client: its account (Connect), its own key, or the
access token of Billfold's Stripe App on its account (renewed under every call when it expires,
see tenants/app_token_renewal.py); and the platform's own client for OAuth.

Every client shares one HTTP client per process (kept-alive connections to Stripe), which also
counts the requests it sends: `stripe_request_count()` lets tests and benchmarks prove how many
Stripe calls a piece of work cost (say, none for a portal page view).

A client for bulk work (`bulk=True`: backfill, reconciliation, event re-fetches) spends the
account's request budget, shared by every worker process (tenants/stripe_budget.py); a client
for a customer's own action does not wait on it.
"""

from __future__ import annotations

import os
import threading

import stripe
from flask import current_app, has_request_context

from app.extensions import db
from tenants.app_token_renewal import (
    REFUSED_REASON,
    AppTokenHTTPClient,
    AppTokenRenewer,
)
from tenants.app_tokens import StripeAppTokens
from tenants.context import tenant_context
from tenants.models import ConnectionMethod, StripeConnectionStatus, Tenant
from tenants.stripe_budget import BudgetedHTTPClient, RequestBudget
from tenants.stripe_http import StripeHTTPClient

# A task may wait for Stripe (30 s a try, two retries); a web request (a customer's action)
# may not: 10 s a try, connecting and reading together, and one retry, so each of its Stripe
# calls ends within about 21 s and five in a row (a card replaced on a customer with two
# subscriptions) within gunicorn's 120 s (Procfile): a slow Stripe does not get a worker killed
# halfway through a customer's payment.
MAX_NETWORK_RETRIES = 2
MAX_NETWORK_RETRIES_IN_REQUEST = 1
TIMEOUT_SECONDS = 30
TIMEOUT_SECONDS_IN_REQUEST = 10


def _timeout_seconds() -> float:
    return TIMEOUT_SECONDS_IN_REQUEST if has_request_context() else TIMEOUT_SECONDS


class StripeNotConnected(RuntimeError):
    """The tenant has no usable Stripe connection."""


_shared: tuple[int, StripeHTTPClient] | None = None
_shared_lock = threading.Lock()


def shared_http_client() -> StripeHTTPClient:
    """This process's HTTP client for Stripe (a forked worker child gets its own)."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared[0] != os.getpid():
            _shared = (os.getpid(), StripeHTTPClient(timeout=_timeout_seconds))
        return _shared[1]


def stripe_request_count() -> int:
    """How many HTTP requests this process has sent to Stripe through our clients so far."""
    return shared_http_client().requests_sent


def _base_addresses() -> dict:
    config = current_app.config
    api_base = config.get("STRIPE_API_BASE")
    if current_app.testing and not api_base:
        # Tests must never reach api.stripe.com: the emulator is the only Stripe they see.
        raise StripeNotConnected("STRIPE_API_BASE must point at the emulator in tests")
    addresses = {"api": api_base} if api_base else {}
    if config.get("STRIPE_CONNECT_OAUTH_BASE"):
        addresses["connect"] = config["STRIPE_CONNECT_OAUTH_BASE"].rstrip("/")
    return addresses


def _client(
    key: str, stripe_account: str | None = None, http_client: stripe.HTTPClient | None = None
) -> stripe.StripeClient:
    return stripe.StripeClient(
        key,
        stripe_account=stripe_account,
        base_addresses=_base_addresses(),
        max_network_retries=(
            MAX_NETWORK_RETRIES_IN_REQUEST if has_request_context() else MAX_NETWORK_RETRIES
        ),
        http_client=http_client or shared_http_client(),
    )


def client_for_key(key: str) -> stripe.StripeClient:
    """A client on whatever account `key` belongs to (a key a merchant is pasting)."""
    return _client(key)


def platform_client() -> stripe.StripeClient:
    """The platform's own client: Connect's and the Stripe App's OAuth endpoints."""
    key = current_app.config.get("STRIPE_SECRET_KEY")
    if not key:
        raise StripeNotConnected("STRIPE_SECRET_KEY is not configured")
    return _client(key)


def refresh_app_token(refresh_token: str) -> dict:
    """Ask Stripe for the Stripe App's next access token (and next refresh token)."""
    answer = platform_client().raw_request(
        "post", "/v1/oauth/token", grant_type="refresh_token", refresh_token=refresh_token
    )
    return answer.data if isinstance(answer.data, dict) else {}


def bulk_requests_per_second(tenant: Tenant) -> int:
    """The tenant's budget for bulk work at Stripe: its own figure, else the platform's."""
    config = current_app.config
    own = config.get("STRIPE_BULK_REQUESTS_PER_SECOND_BY_TENANT", {}).get(tenant.subdomain)
    return own or config["STRIPE_BULK_REQUESTS_PER_SECOND"]


def request_budget(tenant: Tenant) -> RequestBudget | None:
    """The bucket of the tenant's Stripe account (None without Redis: the demo, one process)."""
    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url:
        return None
    # Keyed by the account (its keyed hash: no account id in Redis) when it is known.
    account = tenant.stripe_account_lookup or f"tenant-{tenant.id}"
    return RequestBudget(redis_url, account, bulk_requests_per_second(tenant))


def _transport(tenant: Tenant, bulk: bool) -> stripe.HTTPClient:
    budget = request_budget(tenant) if bulk else None
    return BudgetedHTTPClient(shared_http_client(), budget) if budget else shared_http_client()


def _app_client(tenant: Tenant, transport: stripe.HTTPClient) -> stripe.StripeClient:
    with tenant_context(tenant.id):
        tokens = db.session.scalars(db.select(StripeAppTokens)).one_or_none()
    if tokens is None:
        # Stripe refused a renewal while this tenant's row was busy: say so now.
        tenant.mark_disconnected(REFUSED_REASON)
        db.session.flush()
        raise StripeNotConnected(f"tenant {tenant.subdomain}: Stripe refused the app's access")
    renewer = AppTokenRenewer(
        tenant.id, tokens.access_token, tokens.access_token_expires_at, refresh_app_token
    )
    return _client(tokens.access_token, http_client=AppTokenHTTPClient(transport, renewer))


def stripe_client_for(tenant: Tenant, *, bulk: bool = False) -> stripe.StripeClient:
    """A client that acts on the tenant's Stripe account, honouring STRIPE_API_BASE.

    `bulk`: the work is not a customer's own (a backfill, an event's re-fetch): each request
    first takes a token of the account's budget, and a 429 slows the budget down.
    """
    if tenant.stripe_status != StripeConnectionStatus.CONNECTED:
        raise StripeNotConnected(f"tenant {tenant.subdomain} is not connected to Stripe")
    if tenant.stripe_api_key:
        return _client(tenant.stripe_api_key, http_client=_transport(tenant, bulk))
    if tenant.stripe_connection_method == ConnectionMethod.STRIPE_APP:
        return _app_client(tenant, _transport(tenant, bulk))
    if not tenant.stripe_account_id:
        raise StripeNotConnected(f"tenant {tenant.subdomain} has no Stripe account")
    key = current_app.config.get("STRIPE_SECRET_KEY")
    if not key:
        raise StripeNotConnected("STRIPE_SECRET_KEY is not configured for Connect")
    return _client(
        key, stripe_account=tenant.stripe_account_id, http_client=_transport(tenant, bulk)
    )
