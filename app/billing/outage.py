"""Remember, per tenant, that Stripe just failed to answer, so pages can say so plainly."""

from __future__ import annotations

import time
from contextlib import suppress
from functools import lru_cache

import redis
from flask import current_app

OUTAGE_SECONDS = 300
_local: dict[int, float] = {}  # without Redis (the demo): one process, one dict


def _redis() -> redis.Redis | None:
    url = current_app.config.get("REDIS_URL")
    return _client_for(url) if url else None


@lru_cache(maxsize=4)
def _client_for(url: str) -> redis.Redis:
    # One pooled client per process: a page view must not open a new connection to ask.
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


def record_stripe_outage(tenant_id: int) -> None:
    client = _redis()
    if client is None:
        _local[tenant_id] = time.time() + OUTAGE_SECONDS
        return
    with suppress(redis.RedisError):  # a notice is a courtesy; never fail an action over it
        client.set(f"billfold:stripe-outage:{tenant_id}", "1", ex=OUTAGE_SECONDS)


def clear_stripe_outage(tenant_id: int) -> None:
    client = _redis()
    if client is None:
        _local.pop(tenant_id, None)
        return
    with suppress(redis.RedisError):
        client.delete(f"billfold:stripe-outage:{tenant_id}")


def stripe_outage(tenant_id: int) -> bool:
    client = _redis()
    if client is None:
        return _local.get(tenant_id, 0) > time.time()
    try:
        return bool(client.exists(f"billfold:stripe-outage:{tenant_id}"))
    except redis.RedisError:
        return False
