"""Redis locks so a periodic or bulk task never runs twice at once for the same thing."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import redis
from flask import current_app

log = logging.getLogger(__name__)


def _locks_apply() -> bool:
    """Without Redis (the demo: eager tasks in one process) nothing can run twice at once."""
    return bool(current_app.config.get("REDIS_URL")) and not current_app.config.get("CELERY_EAGER")


@contextmanager
def single_run(name: str, ttl: int) -> Iterator[bool]:
    """Yield True if this run holds the lock (always True without Redis: eager, one process)."""
    with held_lock(name, ttl) as lock:
        yield lock is not None


class HeldLock:
    """A lock this run holds; `renew()` gives it its full ttl again from now."""

    def __init__(self, lock: redis.lock.Lock | None) -> None:
        self._lock = lock

    def renew(self) -> None:
        """Extend the lock; if it lapsed meanwhile (a page slower than `ttl`), take it again
        when free. Never raises: the guarded work is safe to run twice, so losing the lock
        costs duplicate work at worst, while raising would abandon a run halfway."""
        if self._lock is None:
            return
        try:
            self._lock.reacquire()
        except redis.exceptions.LockError:
            log.warning("lock %s lapsed; taking it again if it is free", self._lock.name)
            with suppress(redis.exceptions.RedisError):
                self._lock.acquire(blocking=False)
        except redis.exceptions.RedisError as exc:  # Redis unreachable for a moment
            log.warning("could not renew lock %s: %s", self._lock.name, exc)


@contextmanager
def held_lock(name: str, ttl: int) -> Iterator[HeldLock | None]:
    """Yield a HeldLock, or None when another run holds it.

    Keep `ttl` short and renew it while making progress: a run killed without a chance to
    release (SIGKILL, a lost machine) then blocks the next one for `ttl` at most, not hours.
    """
    if not _locks_apply():
        yield HeldLock(None)
        return
    client = redis.Redis.from_url(current_app.config["REDIS_URL"])
    lock = client.lock(f"billfold:lock:{name}", timeout=ttl, blocking=False)
    if not lock.acquire():
        yield None
        return
    try:
        yield HeldLock(lock)
    finally:
        # Expired meanwhile, or Redis unreachable: the lock lapses by itself within its ttl.
        with suppress(redis.exceptions.RedisError):
            lock.release()
