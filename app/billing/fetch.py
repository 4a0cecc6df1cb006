"""Read one object back from Stripe: the source of truth whatever the event payload said."""

from __future__ import annotations

from decimal import Decimal

import stripe


def plain_dict(stripe_object) -> dict:
    """A StripeObject as JSON-safe plain data: decimal strings stay strings, as on the wire."""

    def convert(value):
        if isinstance(value, dict):
            return {key: convert(item) for key, item in value.items()}
        if isinstance(value, list):
            return [convert(item) for item in value]
        if isinstance(value, Decimal):
            return str(value)
        return value

    return convert(stripe_object.to_dict())


class Gone:
    """Stripe no longer has the object (404, or a deleted stub)."""


GONE = Gone()

# Subscriptions come with their prices expanded so product names resolve without more reads.
RETRIEVE_EXPAND = {
    "subscription": ["items.data.price"],
}


def service_for(client: stripe.StripeClient, kind: str):
    return {
        "customer": client.v1.customers,
        "product": client.v1.products,
        "price": client.v1.prices,
        "plan": client.v1.prices,
        "subscription": client.v1.subscriptions,
        "invoice": client.v1.invoices,
        "payment_method": client.v1.payment_methods,
        "setup_intent": client.v1.setup_intents,
    }[kind]


def fetch_object(client: stripe.StripeClient, kind: str, stripe_id: str) -> dict | Gone:
    """The object as a plain dict, or GONE when Stripe says it no longer exists."""
    params = {"expand": RETRIEVE_EXPAND[kind]} if kind in RETRIEVE_EXPAND else None
    try:
        obj = service_for(client, kind).retrieve(stripe_id, params=params)
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            return GONE
        raise
    data = plain_dict(obj)
    return GONE if data.get("deleted") else data
