"""Injected failures: answer chosen API calls with an error, to rehearse outages and 429s.

Stripe has outages and rate-limits bursts (about 100 requests/s per account); localstripe never
does. ``POST /_config/faults/{id}`` (form fields ``status``, optional ``path`` prefix, ``method``,
``account`` and ``times``) makes matching ``/v1/`` requests answer ``status`` with a Stripe-shaped
error body, ``times`` times or until ``DELETE /_config/faults/{id}``. Errors carry
``Stripe-Should-Retry: false`` so stripe-python does not retry them itself: the app's own retry
policy is what a test then sees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from localstripe.server import get_post_data, json_response

from .routing import Route, stripe_error

MESSAGES = {
    429: ("invalid_request_error", "rate_limit", "Too many requests hit the API too quickly."),
}
DEFAULT_MESSAGE = ("api_error", None, "The Stripe emulator is simulating an outage.")


@dataclass
class Fault:
    status: int
    path: str
    method: str | None
    account: str | None
    remaining: int | None  # None: until removed

    def matches(self, request: web.Request) -> bool:
        return (
            request.path.startswith(self.path)
            and (self.method is None or request.method == self.method)
            and (self.account is None or request.headers.get("Stripe-Account") == self.account)
        )


faults: dict[str, Fault] = {}


def _take_matching(request: web.Request) -> Fault | None:
    for fault_id, fault in list(faults.items()):
        if fault.matches(request):
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    faults.pop(fault_id, None)
            return fault
    return None


@web.middleware
async def fault_middleware(request: web.Request, handler: Callable) -> web.StreamResponse:
    fault = _take_matching(request) if request.path.startswith("/v1/") and faults else None
    if fault is None:
        return await handler(request)
    kind, code, message = MESSAGES.get(fault.status, DEFAULT_MESSAGE)
    error = {"type": kind, "message": message, **({"code": code} if code else {})}
    response = json_response({"error": error}, status=fault.status)
    response.headers["Stripe-Should-Retry"] = "false"
    return response


def _int_field(data: dict, name: str, default: int | None) -> int | None:
    raw = data.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise stripe_error(400, f"{name} must be a whole number") from None


async def add_fault(request: web.Request) -> web.Response:
    """POST /_config/faults/{id}: status (required), path, method, account, times."""
    data = await get_post_data(request) or {}
    status = _int_field(data, "status", None)
    if status is None or not 400 <= status <= 599:
        raise stripe_error(400, "status must be an HTTP error status (400-599)")
    times = _int_field(data, "times", None)
    faults[request.match_info["id"]] = Fault(
        status=status,
        path=data.get("path") or "/v1/",
        method=(data.get("method") or "").upper() or None,
        account=data.get("account") or None,
        remaining=times if times and times > 0 else None,
    )
    return web.Response()


async def remove_fault(request: web.Request) -> web.Response:
    """DELETE /_config/faults/{id} (no error if it already ran out)."""
    faults.pop(request.match_info["id"], None)
    return web.Response()


ROUTES: list[Route] = [
    ("POST", "/_config/faults/{id}", add_fault),
    ("DELETE", "/_config/faults/{id}", remove_fault),
]
