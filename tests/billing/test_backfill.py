"""Backfill: an account's existing data reaches the cache, with progress, idempotently, politely."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis
import stripe
from sqlalchemy import func, select

from app.billing.backfill import BackfillSuperseded, backfill, with_rate_limit_backoff
from app.billing.backfill_report import backfill_report
from app.billing.event_log import store_event
from app.billing.events import process_event
from app.billing.fetch import list_page
from app.billing.locks import lock_stripe_objects
from app.billing.models import (
    CachedCustomer,
    CachedInvoice,
    CachedPaymentMethod,
    CachedPrice,
    CachedProduct,
    CachedSubscription,
    CachedSubscriptionItem,
    SyncState,
    UpcomingInvoice,
)
from app.billing.models.sync_state import BackfillStatus
from app.billing.tasks import BUSY, backfill_tenant
from app.demo.stripe_data import create_paying_customer, create_price, open_invoice
from app.extensions import db
from tenants.context import tenant_context
from tenants.models import Tenant
from tenants.stripe_client import stripe_client_for, stripe_request_count
from tests.support.cache_helpers import one, wait_for_lock_waiter
from worker.locks import held_lock

BULK_CUSTOMERS = 100  # with the named ones, more than one page (Stripe's maximum is 100)
CACHED_MODELS = (
    CachedProduct,
    CachedPrice,
    CachedCustomer,
    CachedSubscription,
    CachedSubscriptionItem,
    CachedInvoice,
    CachedPaymentMethod,
    UpcomingInvoice,
)


def seed_account(merchant) -> dict:
    """What a merchant already has at Stripe before connecting to us."""
    basic = create_price(merchant, amount=1000, name="Basic")
    pro = create_price(merchant, amount=2500, name="Pro")
    ada1, card = create_paying_customer(merchant, "ada@example.com", "Ada One")
    ada2, _ = create_paying_customer(merchant, "ADA@example.com", "Ada Two")
    grace, _ = create_paying_customer(merchant, "grace@example.com", "Grace")
    for n in range(BULK_CUSTOMERS):
        merchant.v1.customers.create(params={"email": f"bulk{n}@example.com"})

    def subscribe(customer, price):
        return merchant.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": price.id}]}
        )

    active = subscribe(ada1, basic)
    ending = subscribe(ada2, pro)
    merchant.v1.subscriptions.update(ending.id, params={"cancel_at_period_end": True})
    canceled = subscribe(grace, basic)
    merchant.v1.subscriptions.cancel(canceled.id)
    # Each subscription's first invoice is paid: history. These two a customer can still pay.
    unpaid = open_invoice(merchant, grace.id, amount=1200)
    written_off = open_invoice(merchant, grace.id, amount=3400)
    merchant.v1.invoices.mark_uncollectible(written_off.id)
    return {"ada1": ada1, "card": card, "active": active, "ending": ending, "canceled": canceled,
            "unpaid": unpaid, "written_off": written_off}  # fmt: skip


def cache_rows(tenant_id: int) -> dict:
    """Every cached row of the tenant as {model name: {stripe_id: (primary key, content)}}."""
    db.session.expire_all()

    def content(row):
        if isinstance(row, UpcomingInvoice):  # a preview is computed afresh, with new ids
            return (row.amount_due, row.currency, row.next_payment_at)
        return row.data

    with tenant_context(tenant_id):
        return {
            model.__name__: {
                row.stripe_id: (row.id, content(row)) for row in db.session.scalars(select(model))
            }
            for model in CACHED_MODELS
        }


def counts(rows: dict) -> dict:
    return {name: len(by_id) for name, by_id in rows.items()}


def run_backfill(tenant_id: int, on_progress=None) -> SyncState:
    with tenant_context(tenant_id):
        tenant = db.session.get(Tenant, tenant_id)
        return backfill(stripe_client_for(tenant), on_progress)


EXPECTED = {
    "CachedProduct": 2,
    "CachedPrice": 2,
    "CachedCustomer": 3 + BULK_CUSTOMERS,
    "CachedSubscription": 3,
    "CachedSubscriptionItem": 3,
    "CachedInvoice": 2,  # the open and the uncollectible one; paid ones wait for a sign-in
    "CachedPaymentMethod": 3,  # each paying customer's default card, expanded with it
    "UpcomingInvoice": 0,  # previews wait until a customer signs in
}


def test_backfill_fills_the_cache_with_progress_and_a_second_run_changes_nothing(
    db_session, connect_shop, stripe_faults, monkeypatch
):
    shop = connect_shop("acme")
    seeded = seed_account(shop.merchant)
    # Stripe rate-limits the first customer page once: the backfill waits and carries on.
    stripe_faults(status=429, path="/v1/customers", method="GET", account=shop.account, times=1)
    reported, invoice_lists = [], []
    started, requests_before = time.monotonic(), stripe_request_count()

    def noting_invoice_lists(client, path, query):
        if path == "/v1/invoices":
            invoice_lists.append(dict(query))
        return list_page(client, path, query)

    monkeypatch.setattr("app.billing.backfill.list_page", noting_invoice_lists)
    state = run_backfill(shop.tenant_id, lambda phase, done: reported.append((phase, done)))

    assert time.monotonic() - started >= 1.0  # the first backoff step
    assert state.backfill_status == BackfillStatus.DONE and state.backfill_error is None
    assert state.backfill_finished_at >= state.backfill_started_at
    rows = cache_rows(shop.tenant_id)
    assert counts(rows) == EXPECTED
    assert set(rows["CachedInvoice"]) == {seeded["unpaid"].id, seeded["written_off"].id}
    # Invoices are never listed account-wide whole: only those a customer can still pay.
    assert invoice_lists == [{"limit": 100, "status": "open"},
                             {"limit": 100, "status": "uncollectible"}]  # fmt: skip
    # products, prices, customers (2 pages), subscriptions, subscription schedules, open and
    # uncollectible invoices: list pages only. Cards come expanded with their customers;
    # previews and the paid history wait for a sign-in.
    pages = 1 + 1 + 2 + 1 + 1 + 2
    rate_limited = 1
    assert stripe_request_count() - requests_before == pages + rate_limited

    progress = state.backfill_progress
    for phase, done in [("product", 2), ("price", 2), ("customer", 103), ("subscription", 3),
                        ("subscription_schedule", 0), ("invoice", 2)]:  # fmt: skip
        assert progress[phase] == {"done": done, "total": done, "finished": True}, phase
    assert set(progress) == {
        "product", "price", "customer", "subscription", "subscription_schedule", "invoice"
    }  # fmt: skip
    report = backfill_report(state, datetime.now(UTC))
    assert (report.percent, report.seconds_left) == (100, 0)
    assert {phase.state for phase in report.phases} == {"done"}
    assert [done for phase, done in reported if phase == "customer"] == [100, 103]
    assert [phase for phase, _ in reported][:2] == ["product", "price"]

    with tenant_context(shop.tenant_id):
        adas = db.session.scalars(
            select(CachedCustomer.name).where(CachedCustomer.email_normalized == "ada@example.com")
        ).all()
        assert sorted(adas) == ["Ada One", "Ada Two"]
        assert one(CachedSubscription, seeded["canceled"].id).status == "canceled"
        assert one(CachedSubscription, seeded["ending"].id).cancel_at_period_end is True
        assert db.session.scalar(select(func.count(UpcomingInvoice.id))) == 0
        card = one(CachedPaymentMethod, seeded["card"].id)
        assert (card.customer_id, card.last4) == (seeded["ada1"].id, "4242")
        ada1 = one(CachedCustomer, seeded["ada1"].id)
        assert ada1.default_payment_method_id == card.stripe_id
        # Stored as a re-fetch by id stores it: the card's id, not the expanded card.
        assert ada1.data["invoice_settings"]["default_payment_method"] == card.stripe_id

    state = run_backfill(shop.tenant_id)
    assert state.backfill_status == BackfillStatus.DONE
    assert cache_rows(shop.tenant_id) == rows  # same rows, same primary keys, same data


def test_backfill_does_not_overwrite_a_newer_row_written_by_a_webhook_meanwhile(
    app, committed, webhooks_paused, connect_shop
):
    shop = connect_shop("acme")
    customer = shop.merchant.v1.customers.create(params={"email": "w@x.io", "name": "Listed"})
    outcome = {}

    def run_in_background():
        with app.app_context():
            try:
                outcome["status"] = run_backfill(shop.tenant_id).backfill_status
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                outcome["error"] = exc

    backfilling = threading.Thread(target=run_in_background)
    with tenant_context(shop.tenant_id):
        # A webhook-driven sync holds the customer's lock (as process_event does) while Stripe
        # changes the customer; the backfill, which listed it just before, waits for the lock.
        lock_stripe_objects(shop.tenant_id, [customer.id])
        backfilling.start()
        wait_for_lock_waiter(app, shop.tenant_id, customer.id)
        shop.merchant.v1.customers.update(customer.id, params={"name": "Newer"})
        tenant = db.session.get(Tenant, shop.tenant_id)
        stored = store_event(tenant, shop.stripe_events(customer.id)[-1])
        note = process_event(stored.id)  # re-reads the customer
        db.session.commit()  # as its task does: the lock is released
    backfilling.join(timeout=20)

    assert note == f"fetched customer {customer.id}"
    assert outcome == {"status": BackfillStatus.DONE}
    db.session.expire_all()
    with tenant_context(shop.tenant_id):
        assert one(CachedCustomer, customer.id).name == "Newer"
        assert db.session.scalar(select(func.count(CachedCustomer.id))) == 1


def test_rate_limit_backoff_doubles_its_wait_and_gives_up_after_six_tries(
    db_session, connect_shop, stripe_faults
):
    shop = connect_shop("acme")
    with tenant_context(shop.tenant_id):
        client = stripe_client_for(db.session.get(Tenant, shop.tenant_id))
    waits = []
    stripe_faults(status=429, path="/v1/customers", account=shop.account, times=3)
    with_rate_limit_backoff(lambda: client.v1.customers.list(), sleep=waits.append)
    assert waits == [1, 2, 4]

    waits.clear()
    stripe_faults(status=429, path="/v1/customers", account=shop.account, times=6)
    with pytest.raises(stripe.RateLimitError):
        with_rate_limit_backoff(lambda: client.v1.customers.list(), sleep=waits.append)
    assert waits == [1, 2, 4, 8, 16]


def test_the_backfill_task_retries_a_failing_stripe_then_records_the_failure(
    db_session, connect_shop, stripe_faults
):
    shop = connect_shop("acme")
    stripe_faults(status=503, path="/v1/products", account=shop.account)
    before = stripe_request_count()
    # Eager here: the retries run at once (a worker would wait 2, 4, 8 s, with jitter).
    result = backfill_tenant.apply(args=[shop.tenant_id])
    assert isinstance(result.result, stripe.APIError)
    assert stripe_request_count() - before == 1 + 3  # the first try and three retries
    with tenant_context(shop.tenant_id):
        state = db.session.scalars(select(SyncState)).one()
        assert state.backfill_status == BackfillStatus.FAILED
        assert state.backfill_error.startswith("APIError")


def test_the_backfill_task_of_a_disconnected_tenant_records_why(db_session, make_tenant):
    tenant = make_tenant("gone")
    assert backfill_tenant.apply(args=[tenant.id]).result == BackfillStatus.FAILED
    with tenant_context(tenant.id):
        state = db.session.scalars(select(SyncState)).one()
        assert state.backfill_error == "tenant gone is not connected to Stripe"


@pytest.fixture
def real_locks(app, monkeypatch):
    """Locks as a worker takes them (eager tests skip them: one process, nothing concurrent)."""
    monkeypatch.setitem(app.config, "CELERY_EAGER", False)
    client = redis.Redis.from_url(app.config["REDIS_URL"])
    yield client
    for key in client.scan_iter("billfold:lock:*"):
        client.delete(key)


def test_a_held_lock_is_exclusive_and_renewed_by_progress(db_session, real_locks):
    with held_lock("renew-test", ttl=30) as lock:
        assert lock is not None
        with held_lock("renew-test", ttl=30) as second:
            assert second is None
        real_locks.pexpire("billfold:lock:renew-test", 1000)  # as if 29 s had passed
        lock.renew()
        assert real_locks.pttl("billfold:lock:renew-test") > 25_000
    with held_lock("renew-test", ttl=30) as again:
        assert again is not None  # released on exit


def test_a_backfill_that_finds_the_lock_held_waits_for_it_then_runs(
    db_session, connect_shop, real_locks
):
    shop = connect_shop("acme")
    key = f"billfold:lock:backfill:{shop.tenant_id}"
    # A worker killed mid-backfill left its lock; its message comes back to another worker.
    real_locks.set(key, "dead-run", ex=600)
    first = backfill_tenant.apply(args=[shop.tenant_id]).result
    # Queued again for after the lock's lifetime (a worker waits; eager here, the re-queued
    # copies ran at once, found the lock still held, and gave up after the allowed waits).
    assert first == "waiting for the running backfill (wait 1)"
    assert backfill_tenant.apply(args=[shop.tenant_id], kwargs={"busy_waits": 2}).result == BUSY
    with tenant_context(shop.tenant_id):
        assert db.session.scalars(select(SyncState)).one_or_none() is None  # nothing ran
    real_locks.delete(key)  # the dead run's lock expired
    later = backfill_tenant.apply(args=[shop.tenant_id], kwargs={"busy_waits": 1}).result
    assert later == BackfillStatus.DONE


def test_renewing_a_lapsed_lock_takes_it_again_and_never_raises(db_session, real_locks):
    with held_lock("lapse-test", ttl=30) as lock:
        real_locks.delete("billfold:lock:lapse-test")  # lapsed: a page slower than the ttl
        lock.renew()
        assert real_locks.pttl("billfold:lock:lapse-test") > 25_000  # held again
        real_locks.set("billfold:lock:lapse-test", "another-run", ex=30)  # and taken meanwhile
        lock.renew()  # duplicate work at worst (a backfill is safe twice), never a crash
        assert real_locks.get("billfold:lock:lapse-test") == b"another-run"


def test_a_backfill_of_a_replaced_connection_stops_before_writing(db_session, connect_shop):
    shop = connect_shop("acme")
    seed_account(shop.merchant)
    with tenant_context(shop.tenant_id):
        tenant = db.session.get(Tenant, shop.tenant_id)
        copying = tenant.stripe_connected_at
        client = stripe_client_for(tenant)
        tenant.stripe_connected_at = copying + timedelta(seconds=5)  # another account since
        db.session.commit()
        with pytest.raises(BackfillSuperseded):
            backfill(client, connection_at=copying)
        assert db.session.scalar(select(func.count()).select_from(CachedCustomer)) == 0
        # It leaves the state alone: that belongs to the new connection's backfill.
        assert db.session.scalars(select(SyncState)).one_or_none() is None
        # Copying the current connection works as ever.
        done = backfill(client, connection_at=tenant.stripe_connected_at)
        assert done.backfill_status == BackfillStatus.DONE
        assert db.session.scalar(select(func.count()).select_from(CachedCustomer)) > 0
