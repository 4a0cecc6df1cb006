"""Copy a newly connected Stripe account into the cache, page by page, with visible progress.

Safe to run twice and while webhooks arrive: each listed object is written under its object lock,
and skipped when the cache already holds a read that started after the list page was fetched.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import stripe
from sqlalchemy import select

from app.billing.fetch import plain_dict, service_for
from app.billing.locks import lock_stripe_object
from app.billing.models import CachedCustomer, CachedSubscription, SyncState
from app.billing.models.base import as_utc
from app.billing.models.sync_state import BackfillStatus
from app.billing.upcoming import refresh_upcoming_invoice
from app.billing.upsert import MODELS, apply_stripe_object, cached_row
from app.extensions import db
from tenants.context import current_tenant_id

log = logging.getLogger(__name__)

# Catalog first so subscriptions find their prices; customers before what hangs on them.
PHASES = ("product", "price", "customer", "subscription", "invoice", "payment_method", "upcoming")
LIST_PARAMS = {"subscription": {"status": "all"}}
PAGE_SIZE = 100
RATE_LIMIT_RETRIES = 6

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


def _pages(client: stripe.StripeClient, kind: str, params: dict) -> Iterator[tuple[list, datetime]]:
    """Yield (objects, when the page was requested) for every page of a list."""
    service = service_for(client, kind)
    query = {"limit": PAGE_SIZE, **params}
    while True:
        requested_at = datetime.now(UTC)
        page = with_rate_limit_backoff(lambda: service.list(params=query))
        data = [plain_dict(item) for item in page.data]
        yield data, requested_at
        if not page.has_more or not data:
            return
        query["starting_after"] = data[-1]["id"]


def _store_listed(objects: list[dict], listed_at: datetime) -> None:
    tenant_id = current_tenant_id()
    for obj in objects:
        lock_stripe_object(tenant_id, obj["id"])
        model, _ = MODELS[obj["object"]]
        row = cached_row(model, obj["id"])
        if row is not None and as_utc(row.synced_at) > listed_at:
            continue  # a webhook-driven read newer than this page already landed
        apply_stripe_object(obj, listed_at)


def _set_progress(state: SyncState, phase: str, done: int, finished: bool) -> None:
    progress = dict(state.backfill_progress or {})
    progress[phase] = {"done": done, "total": done if finished else None, "finished": finished}
    state.backfill_progress = progress  # a new dict, so the JSON column is marked changed


def _run_list_phase(client, state, kind: str, on_progress: Progress | None) -> None:
    done = 0
    for objects, listed_at in _pages(client, kind, LIST_PARAMS.get(kind, {})):
        _store_listed(objects, listed_at)
        done += len(objects)
        _set_progress(state, kind, done, finished=False)
        db.session.commit()  # one transaction per page: progress is visible as it goes
        if on_progress:
            on_progress(kind, done)
    _set_progress(state, kind, done, finished=True)
    db.session.commit()


def _run_payment_methods(client, state, on_progress: Progress | None) -> None:
    customer_ids = db.session.scalars(
        select(CachedCustomer.stripe_id).where(CachedCustomer.deleted.is_(False))
    ).all()
    done = 0
    for customer_id in customer_ids:
        listed_at = datetime.now(UTC)
        page = with_rate_limit_backoff(
            lambda cid=customer_id: client.v1.customers.payment_methods.list(
                cid, params={"limit": PAGE_SIZE}
            )
        )
        objects = [plain_dict(item) for item in page.data]
        _store_listed(objects, listed_at)
        done += len(objects)
        _set_progress(state, "payment_method", done, finished=False)
        db.session.commit()
        if on_progress:
            on_progress("payment_method", done)
    _set_progress(state, "payment_method", done, finished=True)
    db.session.commit()


def _run_upcoming(client, state, on_progress: Progress | None) -> None:
    subscriptions = db.session.scalars(
        select(CachedSubscription).where(
            CachedSubscription.status.in_(("active", "trialing", "past_due")),
            CachedSubscription.deleted.is_(False),
        )
    ).all()
    for done, subscription in enumerate(subscriptions, start=1):
        with_rate_limit_backoff(
            lambda s=subscription: refresh_upcoming_invoice(client, s.data, datetime.now(UTC))
        )
        _set_progress(state, "upcoming", done, finished=False)
        db.session.commit()
        if on_progress:
            on_progress("upcoming", done)
    _set_progress(state, "upcoming", len(subscriptions), finished=True)
    db.session.commit()


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
