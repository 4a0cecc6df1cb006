"""Which stored events of a tenant wait for a drain, and the one-drain-per-tenant flag.

Webhooks do not queue one task per event: the queue would then be first come, first served
across tenants, and one merchant's renewal storm (thousands of events) would delay every other
merchant's events by minutes. Instead each tenant has at most one drain task in the queue at a
time (a flag in Redis, set when it is queued). A drain processes a batch of the tenant's
oldest waiting events, then, if more wait, queues itself again at the back of the queue:
tenants take turns, a batch each.

A drain ends by clearing its flag and then looking once more: an event stored just before the
flag was cleared is seen by that last look, and one stored after it sets the flag anew, so no
event is left waiting. Whatever slips through anyway (a drain lost with its worker) is queued
again by the stuck-event sweep.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import redis
from flask import current_app
from sqlalchemy import select

from app.billing.models.events import EventStatus, StripeEvent
from app.extensions import db

# Long enough to cover a queued drain's wait behind other tenants' batches; a drain lost with
# its worker blocks new drains of its tenant this long at most (the sweep covers the rest).
FLAG_SECONDS = 600


def waiting_event_ids(limit: int) -> list[int]:
    """The current tenant's oldest events waiting for their first attempt. An event that
    failed an attempt is not here: its own retry, with backoff, takes it up."""
    return list(
        db.session.scalars(
            select(StripeEvent.id)
            .where(StripeEvent.status == EventStatus.PENDING, StripeEvent.attempts == 0)
            .order_by(StripeEvent.received_at, StripeEvent.id)
            .limit(limit)
        )
    )


@lru_cache(maxsize=4)
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _flags() -> redis.Redis | None:
    url = current_app.config.get("REDIS_URL")
    return _client_for(url) if url else None


def _key(tenant_id: int) -> str:
    return f"billfold:events-drain:{tenant_id}"


# Without Redis (the demo) tasks run in the web process, on its request threads: the flags
# are this process's, so two webhooks arriving together do not drain the same events twice
# (SQLite takes one writer at a time).
_local_flags: set[int] = set()
_local_lock = threading.Lock()


def claim_drain(tenant_id: int) -> bool:
    """True when no drain of this tenant is queued or running: the caller queues one."""
    flags = _flags()
    if flags is None:
        with _local_lock:
            if tenant_id in _local_flags:
                return False
            _local_flags.add(tenant_id)
            return True
    return bool(flags.set(_key(tenant_id), 1, nx=True, ex=FLAG_SECONDS))


def keep_drain(tenant_id: int) -> None:
    """The drain goes on (another batch queued): its flag lives on."""
    flags = _flags()
    if flags is not None:
        flags.set(_key(tenant_id), 1, ex=FLAG_SECONDS)


def end_drain(tenant_id: int) -> None:
    flags = _flags()
    if flags is None:
        with _local_lock:
            _local_flags.discard(tenant_id)
        return
    flags.delete(_key(tenant_id))
