"""A Redis lock so a periodic or bulk task never runs twice at once for the same thing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

import redis
from flask import current_app


@contextmanager
def single_run(name: str, ttl: int) -> Iterator[bool]:
    """Yield True if this run holds the lock (always True without Redis: eager, one process)."""
    url = current_app.config.get("REDIS_URL")
    if not url or current_app.config.get("CELERY_EAGER"):
        yield True
        return
    client = redis.Redis.from_url(url)
    lock = client.lock(f"billfold:lock:{name}", timeout=ttl, blocking=False)
    acquired = lock.acquire()
    try:
        yield acquired
    finally:
        if acquired:
            with suppress(redis.exceptions.LockError):  # expired meanwhile: nothing to release
                lock.release()
