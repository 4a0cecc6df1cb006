"""Connect an account through OAuth: Stripe Connect (Standard accounts) or Billfold's Stripe App.

`authorize_url()` sends the merchant to Stripe's consent page with a state bound to their
session; `connect_with_callback()` checks what came back, swaps the code for access, and records
the connection (flushed: the caller commits, then queues the backfill). Nothing is written until
Stripe's answer is complete and the account is free; any failure raises ConnectionRefused with
the tenant unchanged.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import stripe
from flask import current_app

from app.extensions import db
from app.stripe_connection.errors import UNEXPECTED, UNREACHABLE, ConnectionRefused
from app.stripe_connection.oauth_state import issue_state, take_state
from app.stripe_connection.ownership import forget_previous_account, refuse_if_taken
from tenants.app_token_renewal import token_expiry
from tenants.app_tokens import StripeAppTokens, forget_app_tokens
from tenants.context import tenant_context
from tenants.models import ConnectionMethod, Tenant
from tenants.stripe_client import StripeNotConnected, platform_client, stripe_client_for
from tenants.timezones import timezone_of_account

log = logging.getLogger(__name__)

CONNECT = "connect"
STRIPE_APP = "stripe_app"
FLOWS = (CONNECT, STRIPE_APP)

DENIED = "You chose not to connect your Stripe account. Nothing was changed."
EXPIRED_STATE = (
    "This connection attempt has expired or was already used. Please start again from "
    "your dashboard."
)
CODE_REFUSED = "Stripe did not accept this connection attempt. Please start again."


def _client_id(flow: str) -> str:
    name = "STRIPE_CONNECT_CLIENT_ID" if flow == CONNECT else "STRIPE_APP_CLIENT_ID"
    client_id = current_app.config.get(name)
    if not client_id:
        raise ConnectionRefused(
            "This way of connecting is not set up on this Billfold site yet; "
            "please use a restricted key."
        )
    return client_id


def authorize_url(flow: str, tenant: Tenant, session_value: str, redirect_uri: str) -> str:
    """Where to send the merchant to approve Billfold on their Stripe account."""
    config = current_app.config
    state = issue_state(flow, tenant.id, session_value)
    query = {"client_id": _client_id(flow), "redirect_uri": redirect_uri, "state": state}
    if flow == CONNECT:
        query = {"response_type": "code", "scope": "read_write", **query}
        return (
            f"{config['STRIPE_CONNECT_OAUTH_BASE'].rstrip('/')}/oauth/authorize?{urlencode(query)}"
        )
    return f"{config['STRIPE_APPS_OAUTH_BASE'].rstrip('/')}/oauth/v2/authorize?{urlencode(query)}"


def connect_with_callback(flow: str, tenant: Tenant, args, session_value: str) -> str:
    """Handle Stripe's redirect back (its query `args`); returns the connected account id."""
    if not take_state(args.get("state"), flow, tenant.id, session_value):
        raise ConnectionRefused(EXPIRED_STATE)
    if args.get("error"):
        raise ConnectionRefused(DENIED if args["error"] == "access_denied" else CODE_REFUSED)
    code = args.get("code") or ""
    if not code.startswith("ac_"):
        raise ConnectionRefused(CODE_REFUSED)
    answer = _swap_code(flow, code)
    account_id = answer.get("stripe_user_id")
    if not isinstance(account_id, str) or not account_id.startswith("acct_"):
        raise ConnectionRefused(UNEXPECTED)
    refuse_if_taken(tenant, account_id)
    forget_previous_account(tenant, account_id)
    if flow == CONNECT:
        tenant.connect_account(account_id, ConnectionMethod.CONNECT)
        forget_app_tokens(tenant.id)
    else:
        access, refresh = answer.get("access_token"), answer.get("refresh_token")
        if not isinstance(access, str) or not isinstance(refresh, str):
            raise ConnectionRefused(UNEXPECTED)
        tenant.connect_account(account_id, ConnectionMethod.STRIPE_APP)
        _store_app_tokens(tenant, account_id, access, refresh, answer.get("expires_in"))
    db.session.flush()
    if not tenant.timezone:
        tenant.timezone = _account_timezone(tenant)
    return account_id


def _account_timezone(tenant: Tenant) -> str | None:
    """The connected account's own timezone, for customers' dates; a failed read leaves it
    unset (UTC, and pages say so) rather than fail a connection that is made."""
    try:
        account = stripe_client_for(tenant).v1.accounts.retrieve_current()
    except (stripe.StripeError, StripeNotConnected) as exc:
        log.warning("reading the connected account's timezone failed: %s", exc)
        return None
    return timezone_of_account(account.to_dict())


def _swap_code(flow: str, code: str) -> dict:
    try:
        client = platform_client()
        if flow == CONNECT:
            answer = client.oauth.token(params={"grant_type": "authorization_code", "code": code})
            data = answer.to_dict() if hasattr(answer, "to_dict") else dict(answer)
        else:
            data = client.raw_request(
                "post", "/v1/oauth/token", grant_type="authorization_code", code=code
            ).data
    except stripe.oauth_error.OAuthError as exc:
        log.info("stripe refused an OAuth code (%s): %s", flow, exc.code)
        raise ConnectionRefused(CODE_REFUSED) from None
    except stripe.APIConnectionError:
        raise ConnectionRefused(UNREACHABLE) from None
    except (stripe.StripeError, StripeNotConnected) as exc:
        log.warning("stripe's OAuth token endpoint failed (%s): %s", flow, exc)
        raise ConnectionRefused(UNEXPECTED) from None
    if not isinstance(data, dict):
        raise ConnectionRefused(UNEXPECTED)
    return data


def _store_app_tokens(tenant: Tenant, account_id: str, access: str, refresh: str, expires_in):
    with tenant_context(tenant.id):
        tokens = db.session.scalars(db.select(StripeAppTokens)).one_or_none()
        if tokens is None:
            tokens = StripeAppTokens(tenant_id=tenant.id)
            db.session.add(tokens)
        tokens.account_id = account_id
        tokens.access_token = access
        tokens.refresh_token = refresh
        tokens.access_token_expires_at = token_expiry(expires_in)
        db.session.flush()
