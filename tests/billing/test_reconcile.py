"""Healing what webhooks missed: Stripe's event list, and the sweep of stuck events."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.billing.backfill import sync_state
from app.billing.models import CachedCustomer
from app.billing.models.events import EventStatus, StripeEvent
from app.billing.reconcile import missed_events, stuck_event_ids
from app.billing.tasks import (
    process_stripe_event,
    reconcile_tenant,
    reconcile_tenants,
    requeue_stuck_events,
)
from app.clock import utcnow
from app.extensions import db
from tenants.context import tenant_context, unscoped
from tenants.models import Tenant
from tenants.stripe_client import stripe_client_for
from tests.support.cache_helpers import one
from tests.support.stripe_helpers import wait_for


def cached_name(shop, customer_id, name):
    return wait_for(
        shop.tenant_id,
        lambda: (c := one(CachedCustomer, customer_id)) and c.name == name and c,
        what=f"customer cached as {name}",
    )


@pytest.mark.worker
def test_events_that_never_reached_the_webhook_are_found_and_heal_the_cache(
    real_worker, webhooks_paused, connect_shop
):
    shop = connect_shop("acme")
    customer = shop.merchant.v1.customers.create(params={"email": "r@x.io", "name": "Before"})

    # The beat schedule's task queues one reconciliation per connected tenant.
    assert reconcile_tenants.apply_async(ignore_result=False).get(timeout=20) == 1
    cached_name(shop, customer.id, "Before")

    shop.merchant.v1.customers.update(customer.id, params={"name": "After"})
    # Only what is new since the last run is stored and processed.
    found = reconcile_tenant.apply_async(args=[shop.tenant_id], ignore_result=False)
    assert found.get(timeout=20) == 1
    cached_name(shop, customer.id, "After")

    with tenant_context(shop.tenant_id):
        events = db.session.scalars(select(StripeEvent).order_by(StripeEvent.id)).all()
        assert [(e.type, e.source, e.status) for e in events] == [
            ("customer.created", "reconcile", EventStatus.PROCESSED),
            ("customer.updated", "reconcile", EventStatus.PROCESSED),
        ]
        state = sync_state()
        assert state.reconciled_until >= int(events[-1].stripe_created.timestamp())
        assert state.last_reconciled_at is not None


@pytest.mark.worker
def test_the_sweep_requeues_events_stuck_pending_and_leaves_fresh_ones(
    real_worker, webhooks_paused, connect_shop
):
    shop = connect_shop("acme")
    lost = shop.merchant.v1.customers.create(params={"email": "l@x.io", "name": "Lost"})
    recent = shop.merchant.v1.customers.create(params={"email": "n@x.io", "name": "New"})
    # Stored but never queued: the task was lost (say, Redis restarted without persistence).
    stuck_id = shop.store(shop.stripe_events(lost.id)[0])
    fresh_id = shop.store(shop.stripe_events(recent.id)[0])
    with tenant_context(shop.tenant_id):
        db.session.execute(
            update(StripeEvent)
            .where(StripeEvent.id == stuck_id)
            .values(received_at=StripeEvent.received_at - timedelta(minutes=20))
        )
        db.session.commit()

    assert requeue_stuck_events.apply_async(ignore_result=False).get(timeout=20) == 1
    cached_name(shop, lost.id, "Lost")
    assert shop.event(stuck_id).status == EventStatus.PROCESSED
    assert shop.event(fresh_id).status == EventStatus.PENDING  # not stuck yet: left alone


def test_each_run_looks_again_a_little_before_its_cursor(db_session, connect_shop):
    shop = connect_shop("acme")
    with tenant_context(shop.tenant_id):
        tenant = db.session.get(Tenant, shop.tenant_id)
        client = stripe_client_for(tenant)
        # A previous run saw events up to a minute from now: this customer's event is older
        # than the cursor, as when Stripe's list shows an event a little after its creation.
        sync_state().reconciled_until = int(time.time()) + 60
        late = shop.merchant.v1.customers.create(params={"email": "late@x.io"})
        fresh = missed_events(client, tenant)
        [event] = db.session.scalars(select(StripeEvent).where(StripeEvent.id.in_(fresh))).all()
        assert (event.object_id, event.source) == (late.id, "reconcile")
        assert missed_events(client, tenant) == []  # seen again next time: stored once


def test_the_sweep_skips_events_waiting_between_retries_and_does_not_queue_twice(
    db_session, connect_shop
):
    shop = connect_shop("acme")
    lost = shop.merchant.v1.customers.create(params={"email": "l@x.io", "name": "Lost"})
    retrying = shop.merchant.v1.customers.create(params={"email": "r@x.io", "name": "Retry"})
    lost_id = shop.store(shop.stripe_events(lost.id)[0])
    retrying_id = shop.store(shop.stripe_events(retrying.id)[0])
    now = utcnow()
    with tenant_context(shop.tenant_id):
        db.session.execute(
            update(StripeEvent)
            .where(StripeEvent.id.in_([lost_id, retrying_id]))
            .values(received_at=now - timedelta(minutes=40))
        )
        # Its last attempt failed 2 minutes ago and queued a retry: not stuck.
        db.session.execute(
            update(StripeEvent)
            .where(StripeEvent.id == retrying_id)
            .values(queued_at=now - timedelta(minutes=2))
        )
    with unscoped():
        assert stuck_event_ids(now) == [(shop.tenant_id, lost_id)]
        assert stuck_event_ids(now) == []  # stamped as queued: the next sweep leaves it alone
        later = stuck_event_ids(now + timedelta(minutes=16))  # both quiet for 15 minutes now
        assert sorted(later) == [(shop.tenant_id, lost_id), (shop.tenant_id, retrying_id)]


def test_a_failed_event_is_not_taken_up_by_a_stray_older_task(db_session, connect_shop):
    shop = connect_shop("acme")
    customer = shop.merchant.v1.customers.create(params={"email": "f@x.io", "name": "F"})
    event_id = shop.store(shop.stripe_events(customer.id)[0])
    with tenant_context(shop.tenant_id):
        db.session.execute(
            update(StripeEvent).where(StripeEvent.id == event_id).values(status=EventStatus.FAILED)
        )
    assert process_stripe_event.apply(args=[shop.tenant_id, event_id]).result == "already-failed"
    assert shop.event(event_id).status == EventStatus.FAILED
