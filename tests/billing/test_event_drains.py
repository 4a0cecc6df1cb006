"""Webhooks queue one drain per tenant, not one task per event: tenants take turns a batch at
a time, so one merchant's storm cannot hold every other merchant's events back; each event is
still processed once, in its own transaction, in the order it arrived."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.billing import events as events_module
from app.billing.event_log import store_event
from app.billing.event_queue import claim_drain, end_drain
from app.billing.events import EVENT_LOCKED, BatchStripe
from app.billing.models import CachedCustomer
from app.billing.models.events import EventStatus, StripeEvent
from app.billing.stripe_health import forget_stripe_health, note_stripe_answered, stripe_health
from app.billing.tasks import (
    DRAIN_BATCH,
    drain_tenant_events,
    process_event_batch,
    queue_tenant_events,
)
from app.extensions import db
from tenants.context import tenant_context
from tenants.stripe_client import stripe_client_for, stripe_request_count
from tests.support.signing import make_event
from tests.support.stripe_helpers import wait_for

STORM = 200  # events per storming tenant: four batches


def store(tenant, account: str, count: int) -> list[int]:
    """`count` events that touch no cached object (no Stripe read), committed."""
    with tenant_context(tenant.id):
        ids = [
            store_event(tenant, make_event("balance.available", account=account)).id
            for _ in range(count)
        ]
        db.session.commit()
    return ids


def events_of(tenant_id: int) -> list[StripeEvent]:
    db.session.expire_all()
    with tenant_context(tenant_id):
        return db.session.scalars(select(StripeEvent).order_by(StripeEvent.id)).all()


@pytest.mark.worker
def test_storms_of_two_tenants_do_not_hold_back_a_third_tenants_event(
    app, real_worker, make_tenant
):
    """Two storms keep both worker processes busy; the quiet tenant's one event waits for the
    batches in progress at most, not for the 400 events queued before it."""
    storms = [make_tenant(f"storm{n}", stripe_account=f"acct_storm000{n}") for n in (1, 2)]
    quiet = make_tenant("quiet", stripe_account="acct_quiet0001")
    db.session.commit()
    storm_ids, quiet_id = [t.id for t in storms], quiet.id
    for n, storm in enumerate(storms, start=1):
        store(storm, f"acct_storm000{n}", STORM)
    # The quiet event arrives while both storms wait in the queue: the worker takes nothing
    # until all three drains are queued (else a fast first batch could finish, and queue the
    # storm's next one ahead of the quiet drain, before this test has stored its event).
    control, worker = app.extensions["celery"].control, [real_worker.nodename]
    control.cancel_consumer("events", destination=worker, reply=True)
    try:
        for storm_id in storm_ids:
            queue_tenant_events(storm_id)
        [quiet_event] = store(quiet, "acct_quiet0001", 1)
        queue_tenant_events(quiet_id)
    finally:
        control.add_consumer("events", destination=worker, reply=True)

    def storms_done():
        return all(e.status == EventStatus.PROCESSED for t in storm_ids for e in events_of(t))

    wait_for(quiet_id, storms_done, what="the storms processed", timeout=90)
    [mine] = events_of(quiet_id)
    assert mine.id == quiet_event and mine.status == EventStatus.PROCESSED
    storm_events = [events_of(t) for t in storm_ids]
    assert STORM >= 4 * DRAIN_BATCH
    # What it waited for: storm events finished before its own processing began (the other
    # worker process goes on with a storm while this one processes the quiet event; those run
    # beside it, not ahead of it).
    began = mine.processed_at - timedelta(milliseconds=mine.processing_ms)
    ahead = sum(e.processed_at < began for events in storm_events for e in events)
    # First come, first served would put all 400 ahead; one drain per tenant in the queue puts
    # at most the batch each worker process is on.
    assert ahead <= 2 * DRAIN_BATCH, ahead
    for events in storm_events:
        times = [e.processed_at for e in events]
        assert times == sorted(times)  # each storm's own events in the order they arrived


def test_a_drain_takes_events_in_arrival_order_and_leaves_retries_to_themselves(
    db_session, make_tenant
):
    acme = make_tenant("acme", stripe_account="acct_drain0001")
    ids = store(acme, "acct_drain0001", 3)
    with tenant_context(acme.id):
        retrying = db.session.get(StripeEvent, ids[1])
        retrying.attempts = 1  # failed once: its own retry, with backoff, takes it up
        db.session.commit()

    assert drain_tenant_events.apply(args=[acme.id]).get() == 2

    statuses = {e.id: e.status for e in events_of(acme.id)}
    assert statuses == {ids[0]: "processed", ids[1]: "pending", ids[2]: "processed"}


def test_a_suspended_tenants_drain_leaves_its_events_waiting(db_session, make_tenant):
    acme = make_tenant("acme", stripe_account="acct_drain0002")
    acme.suspend("Fraud review")
    db.session.commit()
    store(acme, "acct_drain0002", 2)

    assert drain_tenant_events.apply(args=[acme.id]).get() == 0

    assert [e.status for e in events_of(acme.id)] == ["pending", "pending"]
    assert claim_drain(acme.id)  # its flag was cleared: resuming can queue a drain again
    end_drain(acme.id)


def test_one_drain_per_tenant_at_a_time(db_session, make_tenant):
    acme = make_tenant("acme", stripe_account="acct_drain0003")
    assert claim_drain(acme.id) is True
    assert claim_drain(acme.id) is False  # a second webhook queues nothing more
    end_drain(acme.id)
    assert claim_drain(acme.id) is True
    end_drain(acme.id)


def three_customers(shop):
    """Three customers at Stripe, each with its stored creation event (not yet processed)."""
    customers = [
        shop.merchant.v1.customers.create(params={"email": f"c{n}@x.io", "name": f"C{n}"})
        for n in range(3)
    ]
    events = [shop.store(shop.stripe_events(c.id)[0]) for c in customers]
    return customers, events


def cached_names(shop) -> list[str]:
    db.session.expire_all()
    with tenant_context(shop.tenant_id):
        return sorted(db.session.scalars(select(CachedCustomer.name)))


def test_a_failing_event_in_a_batch_rolls_back_alone_and_the_others_are_kept(
    db_session, webhooks_paused, connect_shop, stripe_faults
):
    shop = connect_shop("acme")
    customers, events = three_customers(shop)
    stripe_faults(status=400, path=f"/v1/customers/{customers[1].id}", account=shop.account)

    with tenant_context(shop.tenant_id):
        outcome = process_event_batch(events)
        db.session.commit()

    assert set(outcome.notes) == {events[0], events[2]} and set(outcome.failed) == {events[1]}
    assert cached_names(shop) == ["C0", "C2"]  # nothing of the failed one half-written
    failed = shop.event(events[1])
    assert (failed.status, failed.attempts) == (EventStatus.PENDING, 1)
    assert "InvalidRequestError" in failed.last_error
    assert [shop.event(e).status for e in (events[0], events[2])] == ["processed"] * 2


def test_stripe_unreachable_stops_the_batch_at_that_event(
    db_session, webhooks_paused, connect_shop, stripe_faults
):
    shop = connect_shop("acme")
    customers, events = three_customers(shop)
    stripe_faults(status=503, path=f"/v1/customers/{customers[1].id}", account=shop.account)

    with tenant_context(shop.tenant_id):
        outcome = process_event_batch(events)
        db.session.commit()

    assert outcome.stopped_at == events[1]
    assert list(outcome.notes) == [events[0]]
    assert shop.event(events[2]).attempts == 0  # not tried: it would wait for the same outage
    assert shop.event(events[2]).status == EventStatus.PENDING


def test_the_same_event_twice_in_a_batch_and_two_events_about_one_object(
    db_session, webhooks_paused, connect_shop
):
    shop = connect_shop("acme")
    customer = shop.merchant.v1.customers.create(params={"email": "k@x.io", "name": "Kay"})
    shop.merchant.v1.customers.update(customer.id, params={"name": "Kay B"})
    created, updated = (shop.store(e) for e in shop.stripe_events(customer.id))

    with tenant_context(shop.tenant_id):
        before = stripe_request_count()
        outcome = process_event_batch([created, created, updated])
        db.session.commit()
        reads = stripe_request_count() - before

    # Processed once: the repeat (its note is the last one kept) found it processed already.
    assert outcome.notes[created] == "already-processed"
    assert outcome.notes[updated].startswith("coalesced")  # stored before the read began
    assert reads == 1
    assert cached_names(shop) == ["Kay B"]
    assert shop.event(created).attempts == 1 and shop.event(updated).attempts == 1


def test_a_drains_failing_event_rolls_back_alone_in_its_own_transaction(
    db_session, webhooks_paused, connect_shop, stripe_faults
):
    """The drain's path (each event committed on its own, no savepoint): the failure takes
    nothing of the events before or after it, and its retries run on their own until failed."""
    shop = connect_shop("acme")
    customers, events = three_customers(shop)
    stripe_faults(status=400, path=f"/v1/customers/{customers[1].id}", account=shop.account)

    assert drain_tenant_events.apply(args=[shop.tenant_id]).get() == 3

    assert cached_names(shop) == ["C0", "C2"]
    failed = shop.event(events[1])
    assert failed.status == EventStatus.FAILED and "InvalidRequestError" in failed.last_error
    assert failed.attempts == 1 + 1 + 3  # the drain's attempt, then its own task's and retries
    assert [(shop.event(e).status, shop.event(e).attempts) for e in (events[0], events[2])] == [
        (EventStatus.PROCESSED, 1)
    ] * 2


def test_a_drain_stops_where_stripe_is_unreachable_and_says_so(
    db_session, webhooks_paused, connect_shop, stripe_faults
):
    shop = connect_shop("acme")
    customers, events = three_customers(shop)
    stripe_faults(status=503, path=f"/v1/customers/{customers[1].id}", account=shop.account)

    drain_tenant_events.apply(args=[shop.tenant_id]).get()

    assert shop.event(events[0]).status == EventStatus.PROCESSED
    assert shop.event(events[1]).status == EventStatus.FAILED
    assert shop.event(events[2]).attempts == 0  # not tried behind the outage
    assert stripe_health(shop.tenant_id).failing  # an answer before it does not hide it


def test_a_batch_builds_one_stripe_client_and_notes_stripes_answer_once(
    db_session, webhooks_paused, connect_shop, monkeypatch
):
    shop = connect_shop("acme")
    _, events = three_customers(shop)
    built, noted = [], []
    monkeypatch.setattr(
        events_module,
        "stripe_client_for",
        lambda tenant, **kw: built.append(1) or stripe_client_for(tenant, **kw),
    )
    monkeypatch.setattr(
        events_module,
        "note_stripe_answered",
        lambda tenant_id: noted.append(1) or note_stripe_answered(tenant_id),
    )
    forget_stripe_health(shop.tenant_id)

    with tenant_context(shop.tenant_id):
        before = stripe_request_count()
        assert drain_tenant_events.apply(args=[shop.tenant_id]).get() == 3
        reads = stripe_request_count() - before

    assert [shop.event(e).note.split(" ")[0] for e in events] == ["fetched"] * 3
    assert reads == 3 and len(built) == 1 and len(noted) == 1
    health = stripe_health(shop.tenant_id)
    assert health.answered_at is not None and not health.failing


def test_a_batchs_client_follows_the_tenants_connection(db_session, make_tenant, stripe_emulator):
    acme = make_tenant("acme", stripe_account="acct_batch00001")
    [event_id] = store(acme, "acct_batch00001", 1)
    shared = BatchStripe()

    def locked():
        return db.session.execute(EVENT_LOCKED, {"event_id": event_id}).one()

    with tenant_context(acme.id):
        first = shared.client(locked())
        assert shared.client(locked()) is first
        acme.connect_account("acct_batch00002")  # connected again, mid-batch
        db.session.flush()
        assert shared.client(locked()) is not first
