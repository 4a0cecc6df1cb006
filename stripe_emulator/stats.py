"""API request counts, so a test or benchmark can prove how many Stripe calls some work cost.

Every ``/v1/`` request the emulator receives is counted (faulted ones too: Stripe was called),
in total and per ``Stripe-Account`` header (``"platform"`` without one). ``GET /_config/stats``
answers ``{"api_requests": n, "by_account": {...}}``; the counts only grow, so a caller reads
them before and after the work it measures. This sees calls from every process (gunicorn
workers, Celery), where ``tenants.stripe_client.stripe_request_count()`` sees only its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from aiohttp import web

from .routing import Route

PLATFORM = "platform"

api_requests: Counter[str] = Counter()  # Stripe-Account (or "platform") -> requests received


@web.middleware
async def stats_middleware(request: web.Request, handler: Callable) -> web.StreamResponse:
    if request.path.startswith("/v1/"):
        api_requests[request.headers.get("Stripe-Account", "").strip() or PLATFORM] += 1
    return await handler(request)


async def stats(request: web.Request) -> web.Response:
    """GET /_config/stats: API requests received since the emulator started."""
    return web.json_response(
        {"api_requests": sum(api_requests.values()), "by_account": dict(api_requests)}
    )


ROUTES: list[Route] = [("GET", "/_config/stats", stats)]
