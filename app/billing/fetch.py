"""Read objects back from Stripe: the source of truth whatever an event's payload said.

Reads go through `StripeClient.raw_request` and come back as plain JSON data, exactly as on the
wire: the cache stores JSON, so building StripeObjects only to take them apart again is waste.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

import stripe

from app.billing.kinds import BY_OBJECT


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


def stripe_get(client: stripe.StripeClient, path: str, **params) -> dict:
    """GET an API path as plain JSON data; Stripe's errors raise as usual."""
    return client.raw_request("get", path, **params).data


def list_page(client: stripe.StripeClient, path: str, params: dict) -> tuple[list[dict], bool]:
    """One page of a list: (objects, has_more)."""
    page = stripe_get(client, path, **params)
    return page["data"], bool(page.get("has_more"))


def object_path(kind: str, stripe_id: str) -> str:
    return f"{BY_OBJECT[kind].path}/{quote(stripe_id, safe='')}"


def fetch_object(client: stripe.StripeClient, kind: str, stripe_id: str) -> dict | Gone:
    """The object as a plain dict, or GONE when Stripe says it no longer exists."""
    expand = BY_OBJECT[kind].retrieve_expand
    params = {"expand": list(expand)} if expand else {}
    try:
        data = stripe_get(client, object_path(kind, stripe_id), **params)
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            return GONE
        raise
    if data.get("deleted"):
        return GONE
    return with_all_items(client, data) if kind == "subscription" else data


def with_all_items(client: stripe.StripeClient, subscription: dict) -> dict:
    """A subscription embeds only its first 10 items (`items.has_more`): read the rest.

    Rare (most subscriptions have one item), so it costs a read only when needed.
    """
    items = subscription.get("items") or {}
    if not items.get("has_more"):
        return subscription
    data = list(items.get("data") or [])
    more = True
    while more:
        params = {"subscription": subscription["id"], "limit": 100}
        if data:
            params["starting_after"] = data[-1]["id"]
        page, more = list_page(client, "/v1/subscription_items", params)
        data += page
        more = more and bool(page)
    return {**subscription, "items": {**items, "data": data, "has_more": False}}
