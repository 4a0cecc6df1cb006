"""Disconnect a tenant's Stripe account, at the merchant's request or Stripe's.

`disconnect()` (the merchant's button) first lets go at Stripe — Connect: deauthorize the
account; a key: delete the webhook endpoint Billfold created — and then forgets locally: the
credentials, a Stripe App's tokens, the cached Stripe data; syncing stops (events of a
disconnected tenant are ignored, reconciliation skips it). If Stripe cannot be reached nothing
changes and the merchant is told to try again. The local half alone (`app.billing.forget.
forget_connection`) serves `account.application.deauthorized`: access is already gone at Stripe.
"""

from __future__ import annotations

import logging
from contextlib import suppress

import stripe
from flask import current_app

from app.billing.forget import forget_connection
from app.stripe_connection.errors import UNEXPECTED, UNREACHABLE, ConnectionRefused
from app.stripe_connection.webhook_endpoint import delete_endpoint
from tenants.models import ConnectionMethod, StripeConnectionStatus, Tenant
from tenants.stripe_client import client_for_key, platform_client

log = logging.getLogger(__name__)

APP_STILL_INSTALLED = (
    "Billfold no longer uses your Stripe account. To remove the app from Stripe too, open "
    "Settings → Installed apps in your Stripe Dashboard."
)
ENDPOINT_LEFT = (
    "Billfold could not delete its webhook endpoint from your Stripe account (the key no "
    "longer allows it); you can delete it in your Stripe Dashboard under Developers → Webhooks."
)


def disconnect(tenant: Tenant) -> list[str]:
    """Disconnect at Stripe, then forget (flushed). Returns notes for the merchant."""
    if tenant.stripe_status != StripeConnectionStatus.CONNECTED:
        raise ConnectionRefused("No Stripe account is connected.")
    notes: list[str] = []
    try:
        if tenant.stripe_api_key:
            endpoint = tenant.stripe_created_webhook_endpoint
            if endpoint and not delete_endpoint(client_for_key(tenant.stripe_api_key), endpoint):
                notes.append(ENDPOINT_LEFT)
        elif tenant.stripe_connection_method == ConnectionMethod.STRIPE_APP:
            notes.append(APP_STILL_INSTALLED)
        elif tenant.stripe_account_id:
            _deauthorize(tenant.stripe_account_id)
    except stripe.APIConnectionError:
        raise ConnectionRefused(UNREACHABLE) from None
    except stripe.StripeError as exc:
        log.warning("disconnecting tenant %s at Stripe failed: %s", tenant.subdomain, exc)
        raise ConnectionRefused(UNEXPECTED) from None
    forget_connection(tenant)
    return notes


def _deauthorize(account_id: str) -> None:
    client_id = current_app.config.get("STRIPE_CONNECT_CLIENT_ID")
    if not client_id:
        return  # connected from the command line, with no OAuth application to let go of
    # InvalidClientError: not (or no longer) connected to the platform, nothing to let go of.
    with suppress(stripe.oauth_error.InvalidClientError):
        platform_client().oauth.deauthorize(
            params={"client_id": client_id, "stripe_user_id": account_id}
        )
