"""Copy a newly connected Stripe account into the cache, page by page, with visible progress.

Safe to run twice and while webhooks arrive: each listed object is written under its object lock,
and skipped when the cache already holds a read that started after the list page was fetched.
A page costs a handful of queries whatever its size: one lock statement, one read of the rows
already cached, the writes, one commit (which also makes the progress visible).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import stripe
from sqlalchemy import select

from app.billing.fetch import PATHS, list_page, object_path
from app.billing.locks import lock_stripe_object, lock_stripe_objects
from app.billing.models import CachedCustomer, CachedSubscription, SyncState
from app.billing.models.base import as_utc
from app.billing.models.sync_state import BackfillStatus
from app.billing.upcoming import refresh_upcoming_invoice
from app.billing.upsert import MODELS, apply_stripe_object, cached_rows
from app.extensions import db
from tenants.context import current_tenant_id

log = logging.getLogger(__name__)

# Catalog first so subscriptions find their prices; customers before what hangs on them.
PHASES = ("product", "price", "customer", "subscription", "invoice", "payment_method", "upcoming")
LIST_PARAMS = {"subscription": {"status": "all"}}
PAGE_SIZE = 100
RATE_LIMIT_RETRIES = 6
COMMIT_EVERY = 50  # customers (payment methods) or subscriptions (upcoming) per transaction

Progress = Callable[[str, int], None]


def sync_state() -> SyncState:
    state = db.session.scalars(select(SyncState)).one_or_none()
    if state is None:
        state = SyncState(backfill_progress={})
        db.session.add(state)
        db.session.flush()
    return state


def with_rate_limit_backoff(call: Callable, *, sleep=time.sleep):
    """Call Stripe; on 429 wait 1, 2, 4 ... seconds and try again (Stripe: ~100 req/s/account)."""
    for attempt in range(RATE_LIMIT_RETRIES):
        try:
            return call()
        except stripe.RateLimitError:
            if attempt == RATE_LIMIT_RETRIES - 1:
                raise
            sleep(2**attempt)
    raise AssertionError("unreachable")


def _pages(client: stripe.StripeClient, path: str, params: dict) -> Iterator[tuple[list, datetime]]:
    """Yield (objects, when the page was requested) for every page of a list."""
    query = {"limit": PAGE_SIZE, **params}
    while True:
        requested_at = datetime.now(UTC)
        data, has_more = with_rate_limit_backoff(lambda q=dict(query): list_page(client, path, q))
        yield data, requested_at
        if not has_more or not data:
            return
        query["starting_after"] = data[-1]["id"]


def _store_listed(objects: list[dict], listed_at: datetime) -> None:
    """Write one page of listed objects, unless the cache holds a newer read of one."""
    if not objects:
        return
    lock_stripe_objects(current_tenant_id(), [obj["id"] for obj in objects])
    ids_by_model = defaultdict(list)
    for obj in objects:
        ids_by_model[MODELS[obj["object"]][0]].append(obj["id"])
    cached = {}
    for model, ids in ids_by_model.items():
        cached.update(cached_rows(model, ids))
    for obj in objects:
        row = cached.get(obj["id"])
        if row is not None and as_utc(row.synced_at) > listed_at:
            continue  # a webhook-driven read newer than this page already landed
        apply_stripe_object(obj, listed_at, row)


def _set_progress(state: SyncState, phase: str, done: int, finished: bool) -> None:
    progress = dict(state.backfill_progress or {})
    progress[phase] = {"done": done, "total": done if finished else None, "finished": finished}
    state.backfill_progress = progress  # a new dict, so the JSON column is marked changed


def _checkpoint(state, phase: str, done: int, on_progress: Progress | None) -> None:
    _set_progress(state, phase, done, finished=False)
    db.session.commit()
    if on_progress:
        on_progress(phase, done)


def _finish(state, phase: str, done: int) -> None:
    _set_progress(state, phase, done, finished=True)
    db.session.commit()


def _run_list_phase(client, state, kind: str, on_progress: Progress | None) -> None:
    done = 0
    for objects, listed_at in _pages(client, PATHS[kind], LIST_PARAMS.get(kind, {})):
        _store_listed(objects, listed_at)
        done += len(objects)
        _checkpoint(state, kind, done, on_progress)  # one transaction per page
    _finish(state, kind, done)


def _run_payment_methods(client, state, on_progress: Progress | None) -> None:
    customer_ids = db.session.scalars(
        select(CachedCustomer.stripe_id).where(CachedCustomer.deleted.is_(False))
    ).all()
    done = 0
    for n, customer_id in enumerate(customer_ids, start=1):
        path = object_path("customer", customer_id) + "/payment_methods"
        for objects, listed_at in _pages(client, path, {}):
            _store_listed(objects, listed_at)
            done += len(objects)
        if n % COMMIT_EVERY == 0 or n == len(customer_ids):
            _checkpoint(state, "payment_method", done, on_progress)
    _finish(state, "payment_method", done)


def _run_upcoming(client, state, on_progress: Progress | None) -> None:
    subscriptions = db.session.scalars(
        select(CachedSubscription.stripe_id).where(
            CachedSubscription.status.in_(("active", "trialing", "past_due")),
            CachedSubscription.deleted.is_(False),
        )
    ).all()
    for done, subscription_id in enumerate(subscriptions, start=1):
        lock_stripe_object(current_tenant_id(), subscription_id)  # as a webhook-driven sync
        subscription = db.session.scalars(
            select(CachedSubscription).where(CachedSubscription.stripe_id == subscription_id)
        ).one()
        with_rate_limit_backoff(
            lambda s=subscription: refresh_upcoming_invoice(client, s.data, datetime.now(UTC))
        )
        if done % COMMIT_EVERY == 0 or done == len(subscriptions):
            _checkpoint(state, "upcoming", done, on_progress)
    _finish(state, "upcoming", len(subscriptions))


def backfill(client: stripe.StripeClient, on_progress: Progress | None = None) -> SyncState:
    """Copy every cached kind of object of the current tenant's account; returns the state."""
    state = sync_state()
    state.backfill_status = BackfillStatus.RUNNING
    state.backfill_started_at = datetime.now(UTC)
    state.backfill_finished_at = None
    state.backfill_error = None
    state.backfill_progress = {}
    db.session.commit()
    try:
        for phase in PHASES:
            if phase == "payment_method":
                _run_payment_methods(client, state, on_progress)
            elif phase == "upcoming":
                _run_upcoming(client, state, on_progress)
            else:
                _run_list_phase(client, state, phase, on_progress)
    except Exception as exc:
        db.session.rollback()
        state = sync_state()
        state.backfill_status = BackfillStatus.FAILED
        state.backfill_error = f"{type(exc).__name__}: {exc}"[:1000]
        db.session.commit()
        raise
    state.backfill_status = BackfillStatus.DONE
    state.backfill_finished_at = datetime.now(UTC)
    db.session.commit()
    return state
