"""API request counts, so a test or benchmark can prove how many Stripe calls some work cost.

Every ``/v1/`` request the emulator receives is counted (faulted ones too: Stripe was called),
in total and per ``Stripe-Account`` header (``"platform"`` without one). ``GET /_config/stats``
answers ``{"api_requests": n, "by_account": {...}}``; the counts only grow, so a caller reads
them before and after the work it measures. This sees calls from every process (gunicorn
workers, Celery), where ``tenants.stripe_client.stripe_request_count()`` sees only its own.

``GET /_config/stats/per_second?account=acct_x`` answers ``{"per_second": {"<unix second>": n}}``:
the requests of one account (or ``platform``) by the wall-clock second they arrived in, for the
last ``SECONDS_KEPT`` seconds. Stripe's rate limit is per account and per second, so this is how a
test proves that several processes together stayed within a budget.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable

from aiohttp import web

from .routing import Route

PLATFORM = "platform"

SECONDS_KEPT = 600

api_requests: Counter[str] = Counter()  # Stripe-Account (or "platform") -> requests received
# Stripe-Account -> {unix second: requests received in it}, trimmed to the last SECONDS_KEPT.
per_second: defaultdict[str, Counter[int]] = defaultdict(Counter)


@web.middleware
async def stats_middleware(request: web.Request, handler: Callable) -> web.StreamResponse:
    if request.path.startswith("/v1/"):
        account = request.headers.get("Stripe-Account", "").strip() or PLATFORM
        api_requests[account] += 1
        second = int(time.time())
        seconds = per_second[account]
        seconds[second] += 1
        if len(seconds) > SECONDS_KEPT:
            for old in [s for s in seconds if s <= second - SECONDS_KEPT]:
                del seconds[old]
    return await handler(request)


async def stats(request: web.Request) -> web.Response:
    """GET /_config/stats: API requests received since the emulator started."""
    return web.json_response(
        {"api_requests": sum(api_requests.values()), "by_account": dict(api_requests)}
    )


async def stats_per_second(request: web.Request) -> web.Response:
    """GET /_config/stats/per_second?account=...: one account's requests, second by second."""
    account = request.query.get("account") or PLATFORM
    counts = per_second.get(account, {})
    return web.json_response({"per_second": {str(s): n for s, n in sorted(counts.items())}})


ROUTES: list[Route] = [
    ("GET", "/_config/stats", stats),
    ("GET", "/_config/stats/per_second", stats_per_second),
]
