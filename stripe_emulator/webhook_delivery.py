"""Events and webhook delivery: Connect vs platform endpoints, no fixed delay, in order."""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from localstripe import resources
from localstripe.server import get_post_data

from .routing import Route, stripe_error

log = logging.getLogger("stripe_emulator.webhooks")

DELIVERY_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class WebhookEndpoint:
    url: str
    secret: str
    events: tuple[str, ...] | None  # None means every event type
    connect: bool  # True: only connected accounts' events; False: only the platform's
    # Set for an endpoint created on an account through its API (webhook_endpoints.py): every
    # event of that account, delivered without `account`, as to a merchant's own endpoint.
    account: str | None = None

    def wants(self, event) -> bool:
        if self.account is not None:
            return getattr(event, "_namespace", None) == self.account and (
                self.events is None or event.type in self.events or "*" in self.events
            )
        from_connected_account = getattr(event, "account", None) is not None
        if from_connected_account != self.connect:
            return False
        return self.events is None or event.type in self.events or "*" in self.events


class WebhookDispatcher:
    """Delivers events to registered endpoints one at a time, in the order they happened."""

    def __init__(self, delay_seconds: float = 0.0) -> None:
        self.delay_seconds = delay_seconds
        self.endpoints: dict[str, WebhookEndpoint] = {}
        self._queue: asyncio.Queue | None = None
        self._worker: asyncio.Task | None = None

    def schedule(self, event) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue()
            # A fresh context: the worker must not keep the first request's Stripe-Account.
            self._worker = asyncio.get_running_loop().create_task(
                self._deliver_forever(), context=contextvars.Context()
            )
        self._queue.put_nowait(event)

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    async def _deliver_forever(self) -> None:
        timeout = aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                event = await self._queue.get()
                if self.delay_seconds:
                    await asyncio.sleep(self.delay_seconds)
                try:
                    exported = event._export()
                    payload = json.dumps(exported, indent=2, sort_keys=True).encode()
                    for endpoint in list(self.endpoints.values()):
                        if endpoint.wants(event):
                            body = payload
                            if endpoint.account is not None and "account" in exported:
                                own = {k: v for k, v in exported.items() if k != "account"}
                                body = json.dumps(own, indent=2, sort_keys=True).encode()
                            await self._post(session, endpoint, event.type, body)
                except Exception:  # noqa: BLE001 - one bad event must not stop later deliveries
                    log.exception("could not deliver %s", event.type)

    async def _post(self, session, endpoint: WebhookEndpoint, event_type: str, payload: bytes):
        timestamp = int(time.time())
        signed = b"%d.%s" % (timestamp, payload)
        signature = hmac.new(endpoint.secret.encode(), signed, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": f"t={timestamp},v1={signature}",
        }
        try:
            async with session.post(endpoint.url, data=payload, headers=headers) as response:
                log.info("webhook %s -> %s: HTTP %d", event_type, endpoint.url, response.status)
        except (aiohttp.ClientError, TimeoutError) as error:
            log.info("webhook %s -> %s failed: %r", event_type, endpoint.url, error)


dispatcher = WebhookDispatcher()


def _as_bool(value) -> bool:
    return str(value).lower() in ("true", "1", "yes", "on")


async def register_endpoint(request: web.Request) -> web.Response:
    """POST /_config/webhooks/{id}: url, secret, optional events[] and connect=true."""
    data = await get_post_data(request) or {}
    url, secret, events = data.get("url"), data.get("secret"), data.get("events")
    if not url or not secret or not str(url).startswith("http"):
        raise stripe_error(400, "url (http...) and secret are required")
    if events is not None and not isinstance(events, list):
        raise stripe_error(400, "events must be a list (events[]=...)")
    dispatcher.endpoints[request.match_info["id"]] = WebhookEndpoint(
        url=url,
        secret=secret,
        events=tuple(events) if events is not None else None,
        connect=_as_bool(data.get("connect", False)),
    )
    return web.Response()


async def unregister_endpoint(request: web.Request) -> web.Response:
    """DELETE /_config/webhooks/{id}."""
    if dispatcher.endpoints.pop(request.match_info["id"], None) is None:
        raise stripe_error(404, "No such webhook endpoint")
    return web.Response()


def _newest_first(original):
    def list_events(cls, url, **params):
        events = original(url, **params)
        events._list.reverse()  # stored oldest first; Stripe lists newest first
        return events

    return classmethod(list_events)


def install_webhook_delivery(delay_seconds: float) -> None:
    """Route events to Connect or platform endpoints, without the fixed 1 s sleep.

    localstripe sleeps 1 second before every delivery and sends to every endpoint whatever
    account the event came from. Endpoints registered with `connect=true` now get only
    events carrying `account`, the others only the platform's; the delay is configurable
    (default 0) and deliveries keep their order. Signatures stay `t=...,v1=...` (HMAC-SHA256
    of "t.payload"), which stripe.Webhook.construct_event verifies. GET /v1/events now lists
    newest first, as Stripe does.
    """
    dispatcher.delay_seconds = delay_seconds
    resources.schedule_webhook = dispatcher.schedule
    resources.Event._api_list_all = _newest_first(resources.Event._api_list_all)


ROUTES: list[Route] = [
    ("POST", "/_config/webhooks/{id}", register_endpoint),
    ("DELETE", "/_config/webhooks/{id}", unregister_endpoint),
]
