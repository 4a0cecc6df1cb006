"""Per tenant: when Stripe last answered, and since when it has been failing to.

Pages use it to say that billing details may be out of date, and since when. It is written where
Stripe is called (event re-fetches, reconciliation, backfill, the login email's customer lookup,
customer actions) and read once per signed-in page view.

It lives in Redis, one small hash per tenant: a page view reads it in one round trip, so pages
gain no SQL query, and a writer writes only when the state changes or once a minute. It is a hint
about freshness, not billing data: if Redis loses it, the next Stripe call writes it again (until
then no notice shows). Without Redis (the demo, development) tasks run inside the web process,
so a dict in that process sees every write.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import redis
import stripe
from flask import current_app

# Stripe down, overloaded or out of reach: the cache cannot be brought up to date. (A refusal
# such as a declined card or a 404 is an answer, and says nothing either way.)
STRIPE_UNREACHABLE = (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError)
# While Stripe answers, the time of its last answer is rewritten at most this often.
ANSWERED_EVERY_SECONDS = 60
# A tenant whose Stripe nobody calls for this long (disconnected) leaves nothing behind.
KEEP_SECONDS = 30 * 24 * 3600

_local: dict[int, dict[str, float]] = {}  # without Redis: one process, one dict


@dataclass(frozen=True)
class StripeHealth:
    answered_at: datetime | None  # the last time Stripe answered (to the minute)
    failing_since: datetime | None  # None while Stripe answers

    @property
    def failing(self) -> bool:
        return self.failing_since is not None


def _redis() -> redis.Redis | None:
    url = current_app.config.get("REDIS_URL")
    return _client_for(url) if url else None


@lru_cache(maxsize=4)
def _client_for(url: str) -> redis.Redis:
    # One pooled client per process: a page view must not open a new connection to ask.
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


def _key(tenant_id: int) -> str:
    return f"billfold:stripe-health:{tenant_id}"


def note_stripe_answered(tenant_id: int) -> None:
    """Stripe answered: the notice goes, and the time of this answer is kept."""
    now = time.time()
    client = _redis()
    if client is None:
        _local[tenant_id] = {"answered_at": now}
        return
    with suppress(redis.RedisError):  # a notice is a courtesy; never fail the work over it
        answered_at, failing_since = client.hmget(_key(tenant_id), "answered_at", "failing_since")
        if (
            failing_since is None
            and answered_at is not None
            and now - float(answered_at) < ANSWERED_EVERY_SECONDS
        ):
            return
        with client.pipeline() as pipe:
            pipe.hset(_key(tenant_id), "answered_at", now)
            pipe.hdel(_key(tenant_id), "failing_since")
            pipe.expire(_key(tenant_id), KEEP_SECONDS)
            pipe.execute()


def note_stripe_unreachable(tenant_id: int) -> None:
    """Stripe did not answer: failing from now on, unless it already was."""
    now = time.time()
    client = _redis()
    if client is None:
        _local.setdefault(tenant_id, {}).setdefault("failing_since", now)
        return
    with suppress(redis.RedisError):
        if client.hsetnx(_key(tenant_id), "failing_since", now):
            client.expire(_key(tenant_id), KEEP_SECONDS)


def forget_stripe_health(tenant_id: int) -> None:
    """Drop the record: what one Stripe account did says nothing about the next one."""
    client = _redis()
    if client is None:
        _local.pop(tenant_id, None)
        return
    with suppress(redis.RedisError):
        client.delete(_key(tenant_id))


@contextmanager
def stripe_health_noted(tenant_id: int) -> Iterator[None]:
    """Note how the block's Stripe calls went: through, or unreachable (then re-raised)."""
    try:
        yield
    except STRIPE_UNREACHABLE:
        note_stripe_unreachable(tenant_id)
        raise
    note_stripe_answered(tenant_id)


def _moment(value) -> datetime | None:
    return datetime.fromtimestamp(float(value), UTC) if value is not None else None


def stripe_health(tenant_id: int) -> StripeHealth:
    """The tenant's record, in one read; unknown (Redis down) reads as healthy."""
    client = _redis()
    if client is None:
        record = _local.get(tenant_id, {})
        answered_at, failing_since = record.get("answered_at"), record.get("failing_since")
    else:
        try:
            answered_at, failing_since = client.hmget(
                _key(tenant_id), "answered_at", "failing_since"
            )
        except redis.RedisError:
            return StripeHealth(None, None)
    return StripeHealth(_moment(answered_at), _moment(failing_since))
