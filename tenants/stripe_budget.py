"""A request budget per Stripe account, shared by every worker process: a token bucket in Redis.

Stripe allows an account about 100 requests a second, and the merchant's own integration uses the
same allowance. Bulk work (a backfill, reconciliation, event re-fetches) takes a token from the
account's bucket before each request, so however many worker processes work for one account,
together they stay within its budget (STRIPE_BULK_REQUESTS_PER_SECOND, 20 by default, or the
tenant's own figure). A customer's action in the portal never waits on it.

The bucket is one Lua script, atomic in Redis and timed by Redis's own clock (workers' clocks may
disagree). A token not there yet is reserved: the caller is told how long to wait for it, and
others queue behind it, so waiting costs no polling. A 429 from Stripe means the account's other
traffic is heavier than we thought: the bucket's rate is halved for SLOWED_SECONDS (each further
429 restarts that time).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

import redis
import stripe

log = logging.getLogger(__name__)

# One token of burst: in any second the account sees at most rate + 1 of our bulk requests.
CAPACITY = 1
SLOWED_SECONDS = 60

# KEYS: the bucket, its "slowed" flag. ARGV: rate per second, capacity.
# Returns 0 (a token was there) or the seconds to wait for the reserved one, as a string
# (Redis turns a Lua number into an integer).
_TAKE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
if redis.call('EXISTS', KEYS[2]) == 1 then rate = rate / 2 end
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or capacity
local at = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate) - 1
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], 60 + math.ceil(-math.min(tokens, 0) / rate))
if tokens >= 0 then return 0 end
return tostring(-tokens / rate)
"""

_clients: dict[tuple[int, str], redis.Redis] = {}
_clients_lock = threading.Lock()


def _redis(url: str) -> redis.Redis:
    """This process's Redis client for budgets (a forked worker child gets its own)."""
    with _clients_lock:
        key = (os.getpid(), url)
        if key not in _clients:
            _clients[key] = redis.Redis.from_url(url)
        return _clients[key]


class RequestBudget:
    """One Stripe account's bucket: `rate` requests a second across every process."""

    def __init__(self, redis_url: str, account_key: str, rate: float, sleep=time.sleep) -> None:
        self._redis = _redis(redis_url)
        self._take = self._redis.register_script(_TAKE)
        self.bucket_key = f"stripe-budget:{account_key}"
        self.slowed_key = f"stripe-budget:{account_key}:slowed"
        self.rate = float(rate)
        self._sleep = sleep

    def take(self) -> float:
        """Wait for this request's token; returns the seconds waited."""
        keys = [self.bucket_key, self.slowed_key]
        try:
            wait = float(self._take(keys=keys, args=[self.rate, CAPACITY]))
        except redis.RedisError as exc:
            # Redis unreachable for a moment: the work goes on unmetered (Stripe's own 429s and
            # the backfill's backoff still apply) rather than stopping every bulk task.
            log.warning("stripe request budget unavailable, request sent unmetered: %s", exc)
            return 0.0
        if wait > 0:
            self._sleep(wait)
        return wait

    def slow_down(self) -> None:
        """Stripe said 429: half the rate for a while."""
        try:
            self._redis.set(self.slowed_key, "1", ex=SLOWED_SECONDS)
        except redis.RedisError as exc:
            log.warning("stripe request budget not slowed down: %s", exc)

    @property
    def slowed(self) -> bool:
        return bool(self._redis.exists(self.slowed_key))


class BudgetedHTTPClient(stripe.HTTPClient):
    """Takes a token of the account's budget before each request of the client it wraps."""

    name = "urllib3"

    def __init__(self, inner: stripe.HTTPClient, budget: RequestBudget) -> None:
        super().__init__()
        self._inner = inner
        self.budget = budget

    @property
    def requests_sent(self) -> int:
        return self._inner.requests_sent

    def _sent(self, send: Callable, *args):
        self.budget.take()
        answer = send(*args)
        if answer[1] == 429:
            self.budget.slow_down()
        return answer

    def request(self, method, url, headers, post_data=None):
        return self._sent(self._inner.request, method, url, headers, post_data)

    def request_stream(self, method, url, headers, post_data=None):
        return self._sent(self._inner.request_stream, method, url, headers, post_data)

    def close(self) -> None:
        self._inner.close()
