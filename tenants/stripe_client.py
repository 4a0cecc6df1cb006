"""The one factory for a tenant's Stripe client: its account (Connect) or its own key."""

from __future__ import annotations

import stripe
from flask import current_app

from tenants.models import StripeConnectionStatus, Tenant


class StripeNotConnected(RuntimeError):
    """The tenant has no usable Stripe connection."""


def _base_addresses() -> dict:
    api_base = current_app.config.get("STRIPE_API_BASE")
    if current_app.testing and not api_base:
        # Tests must never reach api.stripe.com: the emulator is the only Stripe they see.
        raise StripeNotConnected("STRIPE_API_BASE must point at the emulator in tests")
    return {"api": api_base} if api_base else {}


def platform_stripe_client() -> stripe.StripeClient:
    """The platform's own client (Connect OAuth, platform-level calls)."""
    key = current_app.config.get("STRIPE_SECRET_KEY")
    if not key:
        raise StripeNotConnected("STRIPE_SECRET_KEY is not configured")
    return stripe.StripeClient(key, base_addresses=_base_addresses(), max_network_retries=2)


def stripe_client_for(tenant: Tenant) -> stripe.StripeClient:
    """A client that acts on the tenant's Stripe account, honouring STRIPE_API_BASE."""
    if tenant.stripe_status != StripeConnectionStatus.CONNECTED:
        raise StripeNotConnected(f"tenant {tenant.subdomain} is not connected to Stripe")
    if tenant.stripe_api_key:
        return stripe.StripeClient(
            tenant.stripe_api_key, base_addresses=_base_addresses(), max_network_retries=2
        )
    if not tenant.stripe_account_id:
        raise StripeNotConnected(f"tenant {tenant.subdomain} has no Stripe account")
    key = current_app.config.get("STRIPE_SECRET_KEY")
    if not key:
        raise StripeNotConnected("STRIPE_SECRET_KEY is not configured for Connect")
    return stripe.StripeClient(
        key,
        stripe_account=tenant.stripe_account_id,
        base_addresses=_base_addresses(),
        max_network_retries=2,
    )
