"""Bulk work at Stripe spends one budget per account, shared by every worker process: however many
processes re-fetch for one account, together they stay within its requests per second."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest
import stripe

from app.billing.fetch import fetch_object
from app.extensions import db
from tenants.context import tenant_context
from tenants.models import Tenant
from tenants.stripe_budget import RequestBudget
from tenants.stripe_client import request_budget, stripe_client_for
from tests.support.local_services.processes import free_port

PROCESSES = 4
FETCHES_PER_PROCESS = 15
BUDGET = 10  # this tenant's own figure, below the default 20, so the setting is what holds


def _fetch_in_a_process(env: dict, tenant_id: int, customer_ids: list, start) -> None:
    """A worker process of its own: its own app, Redis and Stripe connections."""
    os.environ.update(env)
    from app.factory import create_app

    app = create_app({"TESTING": True})
    with app.app_context(), tenant_context(tenant_id):
        client = stripe_client_for(db.session.get(Tenant, tenant_id), bulk=True)
        start.wait(timeout=60)  # all processes ask at once
        for customer_id in customer_ids:
            assert fetch_object(client, "customer", customer_id)["id"] == customer_id


def _wait_until_settled(emulator, account: str, quiet_for: float = 1.5, at_most: float = 30.0):
    """Until the account has received no request for `quiet_for` seconds."""
    deadline = time.monotonic() + at_most
    count, since = emulator.api_request_count(account), time.monotonic()
    while time.monotonic() - since < quiet_for:
        assert time.monotonic() < deadline, "the account's requests never settled"
        time.sleep(0.25)
        latest = emulator.api_request_count(account)
        if latest != count:
            count, since = latest, time.monotonic()


def test_four_worker_processes_stay_within_the_accounts_budget(
    committed, service_env, stripe_emulator, connect_shop
):
    shop = connect_shop("budget")
    customer_ids = [
        shop.merchant.v1.customers.create(params={"email": f"c{n}@example.com"}).id
        for n in range(FETCHES_PER_PROCESS)
    ]
    # Creating them sends customer.created events: when an earlier test left the live server
    # and a worker running, their re-fetches reach this account too. Counted only once settled.
    _wait_until_settled(stripe_emulator, shop.account)
    env = {**service_env, "STRIPE_BULK_REQUESTS_PER_SECOND_BY_TENANT": f"budget={BUDGET}"}
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters, as worker processes are
    start = spawn.Event()
    workers = [
        spawn.Process(target=_fetch_in_a_process, args=(env, shop.tenant_id, customer_ids, start))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    before = stripe_emulator.api_requests_per_second(shop.account)  # creating the customers
    start.set()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES

    after = stripe_emulator.api_requests_per_second(shop.account)
    per_second = {second: n - before.get(second, 0) for second, n in after.items()}
    fetches = PROCESSES * FETCHES_PER_PROCESS
    assert sum(per_second.values()) == fetches
    busiest = max(per_second.values())
    # The bucket grants at most BUDGET tokens a second plus its capacity of one. A request
    # reaches the emulator a few milliseconds after its token, and those delays differ by
    # less than a token's 100 ms, so at most one request crosses into the next second's
    # window: BUDGET + 2. (Unbudgeted, the four processes send all 60 within one second.)
    assert busiest <= BUDGET + 2, per_second
    # 60 requests at no more than 12 a second spread over at least 5 windows.
    assert len([n for n in per_second.values() if n]) >= fetches // (BUDGET + 2)


def test_a_429_halves_the_budget_for_a_while(db_session, app, connect_shop, stripe_faults):
    shop = connect_shop("slowed")
    with tenant_context(shop.tenant_id):
        tenant = db.session.get(Tenant, shop.tenant_id)
        client = stripe_client_for(tenant, bulk=True)
        budget = request_budget(tenant)
    assert budget.rate == app.config["STRIPE_BULK_REQUESTS_PER_SECOND"] == 20
    assert not budget.slowed

    stripe_faults(status=429, path="/v1/customers", account=shop.account, times=5)
    with pytest.raises(stripe.RateLimitError):
        client.v1.customers.list()
    assert budget.slowed

    # Two tokens asked back to back from an emptied bucket: the second is reserved 1/rate
    # after the first at the full rate, 2/rate once halved.
    waits = []
    probe = RequestBudget(app.config["REDIS_URL"], "probe-" + shop.account, 20, sleep=waits.append)
    probe.slow_down()
    probe.take(), probe.take(), probe.take()
    assert waits and waits[-1] > 1 / 20  # only a halved rate makes a token wait this long


def test_without_redis_bulk_requests_go_unmetered_rather_than_fail():
    unreachable = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    waits = []
    budget = RequestBudget(unreachable, "acct_nowhere", 1, sleep=waits.append)
    assert [budget.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    budget.slow_down()  # does not raise either
    assert waits == []
