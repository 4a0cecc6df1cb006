"""Copy a newly connected Stripe account into the cache, page by page, with visible progress.

Safe to run twice and while webhooks arrive: each listed object is written under its object lock,
and skipped when the cache already holds a read that started after the list page was fetched.
A page costs a handful of queries whatever its size: one lock statement, one read of the rows
already cached, the writes, one commit (which also makes the progress visible); and Stripe is read
(a page ahead) while the cache is written.

Stripe is the scarce resource (about 100 requests a second per account, shared with the
merchant's own integration), so the copy costs list pages only: customers and subscriptions come
with their default payment method expanded (no request per customer for cards), invoices are
listed only where a customer can still pay them (open, uncollectible), and next-charge previews
are not read at all here. A customer's previews, other cards and invoice history are read when
that customer signs in (app.billing.sign_in_reads); until then the portal shows the estimate
from the prices, and says that older invoices are still being loaded.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import partial

import stripe
from sqlalchemy import select

from app.billing.expanded import embedded_objects
from app.billing.fetch import list_page, with_all_items
from app.billing.kinds import BACKFILL_PHASES, BY_OBJECT, Kind
from app.billing.locks import lock_stripe_objects
from app.billing.models import SyncState
from app.billing.models.sync_state import BackfillStatus
from app.billing.stripe_health import stripe_health_noted
from app.billing.upsert import apply_stripe_object, cached_rows
from app.clock import as_utc
from app.commits import save_progress
from app.extensions import db
from tenants.context import current_tenant_id
from tenants.models import Tenant

log = logging.getLogger(__name__)

PAGE_SIZE = 100
RATE_LIMIT_RETRIES = 6
# The next list page is read (one thread) while this one is written: it hides Stripe's latency.
READ_AHEAD = 1

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


def _read_page(client: stripe.StripeClient, path: str, query: dict):
    requested_at = datetime.now(UTC)
    data, has_more = with_rate_limit_backoff(lambda: list_page(client, path, query))
    return data, has_more and bool(data), requested_at


def _pages(reader: Executor, client, path: str, params: dict) -> Iterator[tuple[list, datetime]]:
    """Yield (objects, when the page was requested) for every page of a list.

    The next page is read (by `reader`, a thread) while the caller stores this one.
    """
    query = {"limit": PAGE_SIZE, **params}
    pending = reader.submit(_read_page, client, path, dict(query))
    while True:
        data, more, requested_at = pending.result()
        if more:
            query["starting_after"] = data[-1]["id"]
            pending = reader.submit(_read_page, client, path, dict(query))
        yield data, requested_at
        if not more:
            return


def _store_listed(objects: list[dict], listed_at: datetime) -> None:
    """Write one page of listed objects (and what they embed), unless the cache holds a newer
    read of one."""
    if not objects:
        return
    _fence()
    lock_stripe_objects(current_tenant_id(), [obj["id"] for obj in objects])
    ids_by_model = defaultdict(list)
    for obj in objects:
        ids_by_model[BY_OBJECT[obj["object"]].model].append(obj["id"])
    cached = {}
    for model, ids in ids_by_model.items():
        cached.update(cached_rows(model, ids))
    for obj in objects:
        row = cached.get(obj["id"])
        if row is not None and as_utc(row.synced_at) > listed_at:
            continue  # a webhook-driven read newer than this page already landed
        apply_stripe_object(obj, listed_at, row)


def _set_progress(state: SyncState, phase: str, done: int, finished: bool, reach=None) -> None:
    """`reach`: (visited, of) for a phase whose length is known before it starts: what a
    progress bar and a time estimate need."""
    _fence()
    progress = dict(state.backfill_progress or {})
    entry = {"done": done, "total": done if finished else None, "finished": finished}
    if reach is not None:
        entry["visited"], entry["of"] = reach
    progress[phase] = entry
    state.backfill_progress = progress  # a new dict, so the JSON column is marked changed


def _checkpoint(state, phase: str, done: int, on_progress: Progress | None, reach=None) -> None:
    _set_progress(state, phase, done, finished=False, reach=reach)
    _save_progress()
    if on_progress:
        on_progress(phase, done)


def _finish(state, phase: str, done: int, reach=None) -> None:
    _set_progress(state, phase, done, finished=True, reach=reach)
    _save_progress()


def list_params(kind: Kind) -> list[dict]:
    """The query of each list a backfill makes of `kind` (without the page's limit)."""
    expand = {"expand": [f"data.{path}" for path in kind.list_expand]} if kind.list_expand else {}
    return [{**query, **expand} for query in kind.list_queries]


def _run_listed(reader, client, state, kind: Kind, on_progress: Progress | None) -> None:
    done = 0
    for params in list_params(kind):
        for objects, listed_at in _pages(reader, client, kind.path, params):
            objects, embedded = embedded_objects(objects, kind.list_expand, {"payment_method"})
            if kind.name == "subscription":
                objects = [
                    with_rate_limit_backoff(partial(with_all_items, client, o)) for o in objects
                ]
            _store_listed(objects + embedded, listed_at)
            done += len(objects)
            _checkpoint(state, kind.name, done, on_progress)  # one transaction per page
    _finish(state, kind.name, done)


class BackfillSuperseded(RuntimeError):
    """The tenant connected another Stripe account while this backfill ran: it stops."""


# The connection (Tenant.stripe_connected_at) the running backfill copies, if it was given one.
_copying_connection: ContextVar[datetime | None] = ContextVar("copying_connection", default=None)


_FENCED = "billfold_backfill_fenced"


def _fence() -> None:
    """Before the first write of each transaction: take the tenant's row FOR SHARE and check
    that the connection is still the one being copied. Connecting another account updates that
    row: it waits for the page being written to commit (then forgets it with the rest of the
    old cache), and the next page sees the change and stops, so no row of the old account lands
    after. Taken before writing, never while waiting on Stripe, so the row is held briefly."""
    copying = _copying_connection.get()
    if copying is None or db.session.info.get(_FENCED):
        return
    connected_at = db.session.execute(
        select(Tenant.stripe_connected_at)
        .where(Tenant.id == current_tenant_id())
        .with_for_update(read=True)
    ).scalar()
    if connected_at is None or as_utc(connected_at) != as_utc(copying):
        raise BackfillSuperseded("the tenant connected another Stripe account meanwhile")
    db.session.info[_FENCED] = True


def _save_progress() -> None:
    save_progress()
    db.session.info.pop(_FENCED, None)  # the next transaction takes it again


def backfill(
    client: stripe.StripeClient,
    on_progress: Progress | None = None,
    connection_at: datetime | None = None,
) -> SyncState:
    """Copy every cached kind of object of the current tenant's account; returns the state.

    `connection_at`: the tenant's stripe_connected_at when the copy was asked for; given, the
    copy stops (BackfillSuperseded) as soon as the tenant connects another account.
    """
    token = _copying_connection.set(connection_at)
    try:
        with stripe_health_noted(current_tenant_id()):
            return _backfill(client, on_progress)
    finally:
        _copying_connection.reset(token)


def _backfill(client: stripe.StripeClient, on_progress: Progress | None) -> SyncState:
    db.session.info.pop(_FENCED, None)
    _fence()
    state = sync_state()
    state.backfill_status = BackfillStatus.RUNNING
    state.backfill_started_at = datetime.now(UTC)
    state.backfill_finished_at = None
    state.backfill_error = None
    state.backfill_progress = {}
    _save_progress()
    try:
        with ThreadPoolExecutor(READ_AHEAD, thread_name_prefix="stripe-read") as reader:
            for kind in BACKFILL_PHASES:
                _run_listed(reader, client, state, kind, on_progress)
    except BackfillSuperseded:
        _rollback()
        raise  # the new connection's state is not this run's to write
    except Exception as exc:
        _rollback()
        try:
            _fence()
        except BackfillSuperseded:
            _rollback()
            raise exc from None
        state = sync_state()
        state.backfill_status = BackfillStatus.FAILED
        state.backfill_error = f"{type(exc).__name__}: {exc}"[:1000]
        _save_progress()
        raise
    _fence()
    state.backfill_status = BackfillStatus.DONE
    state.backfill_finished_at = datetime.now(UTC)
    _save_progress()
    return state


def _rollback() -> None:
    db.session.rollback()
    db.session.info.pop(_FENCED, None)
