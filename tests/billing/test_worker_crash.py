"""A worker process killed in the middle of an event: redelivered, processed once in effect."""

import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.billing.models import CachedCustomer
from app.billing.models.events import EventStatus
from app.billing.tasks import drain_tenant_events, process_stripe_event
from app.extensions import db
from tenants.context import tenant_context
from tests.support.cache_helpers import object_lock_held, wait_for_lock_waiter
from tests.support.local_services.worker import CeleryWorker
from tests.support.settings import ARTIFACTS_DIR
from tests.support.stripe_helpers import wait_for

pytestmark = pytest.mark.worker

QUEUE = "events-crash-test"  # this test's own worker, apart from the session's one


@pytest.fixture
def crash_worker(app, service_env, tasks_via_redis, committed):
    log = Path(ARTIFACTS_DIR) / "crash-worker.log"
    log.unlink(missing_ok=True)
    worker = CeleryWorker(service_env, log, concurrency=1, queues=QUEUE, name="crash")
    worker.start(app.extensions["celery"])
    yield worker
    worker.stop()


def wait_for_new_pool_process(worker: CeleryWorker, old: int, timeout: float = 20.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = worker.pool_pids()
        if pids and old not in pids:
            return pids[0]
        time.sleep(0.05)
    raise AssertionError("the worker did not replace its killed pool process")


def test_worker_killed_mid_event_redelivers_and_processes_it_once(
    app, crash_worker, webhooks_paused, connect_shop
):
    shop = connect_shop("acme")
    customer = shop.merchant.v1.customers.create(params={"email": "k@x.io", "name": "Kay"})
    event_id = shop.store(shop.stripe_events(customer.id)[0])

    # Another holder of the customer's lock stops the task right in the middle: event row
    # locked, transaction open, Stripe not yet read. The SIGKILL then lands at a known point.
    with object_lock_held(app, shop.tenant_id, customer.id):
        task = process_stripe_event.apply_async(args=[shop.tenant_id, event_id], queue=QUEUE)
        wait_for_lock_waiter(app, shop.tenant_id, customer.id)
        [victim] = crash_worker.pool_pids()
        os.kill(victim, signal.SIGKILL)
        replacement = wait_for_new_pool_process(crash_worker, victim)
    assert replacement != victim

    event = wait_for(
        shop.tenant_id,
        lambda: (e := shop.event(event_id)).status == EventStatus.PROCESSED and e,
        what="event processed after the kill",
    )
    # Once in effect: one attempt counted (the killed one rolled back), one row, right data.
    assert event.attempts == 1 and event.last_error is None
    with tenant_context(shop.tenant_id):
        assert db.session.scalar(select(func.count(CachedCustomer.id))) == 1
        assert db.session.scalars(select(CachedCustomer.name)).one() == "Kay"
    log = crash_worker.log_path.read_text()
    assert "WorkerLostError" in log and "SIGKILL" in log
    assert log.count(f"process_stripe_event[{task.id}] received") == 2  # the same message again

    # The lost delivery showing up again later (as Redis may redeliver it) changes nothing.
    processed_at = event.processed_at
    again = process_stripe_event.apply_async(
        args=[shop.tenant_id, event_id], queue=QUEUE, ignore_result=False
    )
    assert again.get(timeout=20) == "already-processed"
    assert shop.event(event_id).processed_at == processed_at


def test_worker_killed_mid_batch_redelivers_the_drain_and_each_event_counts_once(
    app, crash_worker, webhooks_paused, connect_shop
):
    """Killed after its first event and before its second: the redelivered drain finds the
    first processed and processes the second, each once."""
    shop = connect_shop("acme")
    first, second = (
        shop.merchant.v1.customers.create(params={"email": f"{n}@x.io", "name": n})
        for n in ("Ann", "Bob")
    )
    events = [shop.store(shop.stripe_events(c.id)[0]) for c in (first, second)]

    with object_lock_held(app, shop.tenant_id, second.id):
        task = drain_tenant_events.apply_async(args=[shop.tenant_id], queue=QUEUE)
        wait_for_lock_waiter(app, shop.tenant_id, second.id)  # Ann done, in the open batch
        [victim] = crash_worker.pool_pids()
        os.kill(victim, signal.SIGKILL)
        wait_for_new_pool_process(crash_worker, victim)

    for event_id in events:
        event = wait_for(
            shop.tenant_id,
            lambda event_id=event_id: (
                (e := shop.event(event_id)).status == EventStatus.PROCESSED and e
            ),
            what="event processed after the kill",
        )
        assert event.attempts == 1 and event.last_error is None  # the killed try left nothing
    with tenant_context(shop.tenant_id):
        assert sorted(db.session.scalars(select(CachedCustomer.name))) == ["Ann", "Bob"]
    log = crash_worker.log_path.read_text()
    assert log.count(f"drain_tenant_events[{task.id}] received") == 2  # the same message again
