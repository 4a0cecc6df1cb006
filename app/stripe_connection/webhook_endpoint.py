"""The webhook endpoint of a tenant connected by key: created through its key when the key may,
else the exact address and events for the merchant to add by hand."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import stripe
from flask import current_app

from tenants.models import Tenant

log = logging.getLogger(__name__)

# What the cache listens to (README, "Stripe webhooks"); account.application.deauthorized only
# reaches Connect endpoints.
EVENTS = (
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
    "subscription_schedule.created",
    "subscription_schedule.updated",
    "subscription_schedule.released",
    "subscription_schedule.canceled",
    "subscription_schedule.completed",
    "subscription_schedule.aborted",
    "subscription_schedule.expiring",
    "customer.tax_id.created",
    "customer.tax_id.updated",
    "customer.tax_id.deleted",
    "customer.discount.created",
    "customer.discount.updated",
    "customer.discount.deleted",
    "invoice.upcoming",
    "invoice.created",
    "invoice.finalized",
    "invoice.updated",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.voided",
    "invoice.marked_uncollectible",
    "invoice.deleted",
    "payment_method.attached",
    "payment_method.updated",
    "payment_method.detached",
    "setup_intent.succeeded",
    "product.created",
    "product.updated",
    "product.deleted",
    "price.created",
    "price.updated",
    "price.deleted",
)


@dataclass(frozen=True)
class WebhookSetup:
    """Where Stripe must send the account's events; `created` when Billfold added it itself."""

    url: str
    events: tuple[str, ...]
    created: bool


def endpoint_url(tenant: Tenant) -> str:
    config = current_app.config
    scheme = config.get("PREFERRED_URL_SCHEME") or "https"
    return f"{scheme}://{config['PLATFORM_DOMAIN']}/webhooks/stripe/{tenant.webhook_endpoint_id}"


def create_endpoint(client: stripe.StripeClient, tenant: Tenant) -> tuple[str, str] | None:
    """Create the endpoint on the merchant's account: (we_ id, signing secret), or None when the
    key lacks the permission. Other failures raise (the caller saves nothing)."""
    try:
        endpoint = client.v1.webhook_endpoints.create(
            params={
                "url": endpoint_url(tenant),
                "enabled_events": list(EVENTS),
                "description": "Billfold billing portal",
            }
        )
    except stripe.PermissionError:
        return None
    return endpoint.id, endpoint.secret


def delete_endpoint(client: stripe.StripeClient, endpoint_id: str) -> bool:
    """Remove the endpoint Billfold created; False if the key may no longer (left for the
    merchant). Gone already counts as done."""
    try:
        client.v1.webhook_endpoints.delete(endpoint_id)
    except stripe.InvalidRequestError as exc:
        if exc.http_status != 404:
            raise
    except (stripe.PermissionError, stripe.AuthenticationError):
        log.info("could not delete webhook endpoint %s: the key no longer may", endpoint_id)
        return False
    return True
