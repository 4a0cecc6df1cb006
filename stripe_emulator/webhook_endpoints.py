"""Webhook endpoints created through the API (``/v1/webhook_endpoints``) on an account.

An app holding a merchant's key with the ``rak_webhook_endpoint_write`` permission can create an
endpoint on the merchant's own account, as on Stripe: ``POST /v1/webhook_endpoints`` (``url``,
``enabled_events[]``) answers the endpoint with its signing ``secret`` (shown only then), and from
then on every event of that account whose type is enabled is delivered there, signed with that
secret and without ``account``. ``GET`` lists and retrieves them (without the secret) and
``DELETE /v1/webhook_endpoints/{id}`` removes one. Each account sees only its own endpoints.
"""

from __future__ import annotations

import secrets
import time

from .routing import Route, json_route, stripe_error
from .storage import current_account
from .webhook_delivery import WebhookEndpoint, dispatcher

# id -> (account namespace, the endpoint's public fields)
_created: dict[str, tuple[str | None, dict]] = {}


def _own(id: str) -> dict:
    found = _created.get(id)
    if found is None or found[0] != current_account.get():
        raise stripe_error(404, f"No such webhook endpoint: '{id}'", code="resource_missing")
    return found[1]


def create_endpoint(url=None, enabled_events=None, description=None, **ignored) -> dict:
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise stripe_error(400, "Invalid URL: url must be http(s)", param="url")
    if isinstance(enabled_events, str):
        enabled_events = [enabled_events]
    if not enabled_events:
        raise stripe_error(400, "Missing required param: enabled_events.", param="enabled_events")
    endpoint_id = "we_" + secrets.token_hex(12)
    secret = "whsec_" + secrets.token_hex(16)
    account = current_account.get()
    fields = {
        "id": endpoint_id,
        "object": "webhook_endpoint",
        "url": url,
        "enabled_events": list(enabled_events),
        "description": description,
        "status": "enabled",
        "livemode": False,
        "created": int(time.time()),
        "metadata": {},
    }
    _created[endpoint_id] = (account, fields)
    dispatcher.endpoints[endpoint_id] = WebhookEndpoint(
        url=url,
        secret=secret,
        events=None if "*" in enabled_events else tuple(enabled_events),
        connect=False,
        account=account,
    )
    return {**fields, "secret": secret}


def retrieve_endpoint(id: str) -> dict:
    return _own(id)


def list_endpoints(**ignored) -> dict:
    account = current_account.get()
    data = [fields for owner, fields in _created.values() if owner == account]
    return {"object": "list", "url": "/v1/webhook_endpoints", "has_more": False, "data": data}


def delete_endpoint(id: str) -> dict:
    _own(id)
    del _created[id]
    dispatcher.endpoints.pop(id, None)
    return {"id": id, "object": "webhook_endpoint", "deleted": True}


ROUTES: list[Route] = [
    ("POST", "/v1/webhook_endpoints", json_route(create_endpoint)),
    ("GET", "/v1/webhook_endpoints", json_route(list_endpoints)),
    ("GET", "/v1/webhook_endpoints/{id}", json_route(retrieve_endpoint)),
    ("DELETE", "/v1/webhook_endpoints/{id}", json_route(delete_endpoint)),
]
