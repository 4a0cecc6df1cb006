"""The measurements of bench/webhooks.py, one function per phase; each returns raw figures."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import UTC, datetime

from bench.cache_setup import event_body, in_threads, merchant, webhook
from bench.harness import (
    LoadResult,
    Services,
    closed_loop,
    open_loop,
    postgres_backends,
    rss_kib,
)
from tests.support.local_services.processes import cpu_seconds


def bench_ingest(services: Services, customers: list[str], n: int) -> dict:
    host = services.env["PLATFORM_DOMAIN"]
    health = ("GET", "/healthz", None, {"Host": host})
    port = services.web_port
    closed_loop(port, [health] * 200, 8)  # warm up both paths
    closed_loop(port, [webhook(host, customers[0]) for _ in range(200)], 8)
    results: dict[str, list[LoadResult]] = {"healthz": [], "ingest": []}
    for _ in range(2):  # alternate, so drift in the machine's load hits both alike
        results["healthz"].append(closed_loop(port, [health] * n, 8))
        bodies = [webhook(host, customers[i % len(customers)]) for i in range(n)]
        results["ingest"].append(closed_loop(port, bodies, 8))
    merged = {}
    for name, runs in results.items():
        merged[name] = LoadResult(
            seconds=sum(r.seconds for r in runs),
            latencies=[x for r in runs for x in r.latencies],
            errors=sum(r.errors for r in runs),
        )
    return merged


def reset_events(app) -> None:
    """Forget the ingest phase's events and their queued tasks before the worker starts."""
    import redis
    from sqlalchemy import text

    from app.extensions import db

    redis.Redis.from_url(app.config["REDIS_URL"]).flushdb()
    with db.engine.begin() as conn:
        conn.execute(text("TRUNCATE stripe_events"))


def wait_all_processed(app, since_id: int, expected: int, timeout: float = 600) -> datetime:
    """Wait until `expected` events with id > since_id are processed; returns the last time."""
    from sqlalchemy import text

    from app.extensions import db

    query = text(
        "SELECT count(*) FILTER (WHERE status = 'processed'), count(*), max(processed_at)"
        " FROM stripe_events WHERE id > :since"
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.engine.connect() as conn:
            done, total, last = conn.execute(query, {"since": since_id}).one()
        if total >= expected and done == total:
            return last
        time.sleep(0.05)
    raise RuntimeError(f"only {done} of {expected} events processed within {timeout}s")


def max_event_id() -> int:
    from sqlalchemy import text

    from app.extensions import db

    with db.engine.connect() as conn:
        return conn.execute(text("SELECT coalesce(max(id), 0) FROM stripe_events")).scalar()


def bench_ack(app, services: Services, customers: list[str], n: int) -> dict[str, LoadResult]:
    """Webhooks at a steady 100/s: with the worker holding off (the web tier alone, as on its
    own machines), then with the worker processing them on the same two cores meanwhile."""
    host = services.env["PLATFORM_DOMAIN"]
    control = app.extensions["celery"].control
    worker = [services.worker_name]
    results = {}
    for mode in ("web alone", "worker busy"):
        since = max_event_id()
        if mode == "web alone":
            control.cancel_consumer("events", destination=worker, reply=True)
        results[mode] = open_loop(
            services.web_port, lambda i: webhook(host, customers[i % len(customers)]), 100.0, n
        )
        control.add_consumer("events", destination=worker, reply=True)
        wait_all_processed(app, since, n)
    return results


def raw_retrieve_rate(emulator, customers: list[str], clients: int) -> tuple[float, float]:
    """Retrieves per second, and CPU ms per retrieve (emulator + client)."""
    local = threading.local()

    def retrieve(i: int) -> None:
        if not hasattr(local, "client"):
            local.client = merchant(emulator.url)
        local.client.v1.customers.retrieve(customers[i])

    pids = [emulator.pid, os.getpid()]
    cpu_before = sum(map(cpu_seconds, pids))
    started = time.perf_counter()
    in_threads(len(customers), retrieve, threads=clients)
    rate = len(customers) / (time.perf_counter() - started)
    return rate, (sum(map(cpu_seconds, pids)) - cpu_before) * 1000 / len(customers)


def store_wave(tenant_id: int, customers: list[str], wave: int) -> list[int]:
    from app.billing.event_log import store_event
    from app.extensions import db
    from tenants.context import tenant_context
    from tenants.models import Tenant

    with tenant_context(tenant_id):
        tenant = db.session.get(Tenant, tenant_id)
        ids = []
        for i, customer_id in enumerate(customers):
            event = json.loads(event_body(customer_id, f"evt_wave{wave}_{i}"))
            ids.append(store_event(tenant, event).id)
        db.session.commit()
    return ids


def analyze() -> None:
    """Refresh the planner's statistics, as autovacuum does on a live database: the bench's
    tables grow from empty within seconds, faster than autovacuum notices."""
    from sqlalchemy import text

    from app.extensions import db

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


def bench_processing(app, services: Services, tenant_id: int, customers: list[str], waves: int):
    """Each wave: the raw retrieve baseline, then the same number of events processed.

    A wave's events are stored and queued while the worker does not consume (as if they had
    arrived while it was busy); the clock runs from the moment it starts consuming to the
    last event processed. Queueing is the webhook request's work (measured by the ingest
    phase), so it stays out of the worker's figures. Pairing each wave with its own baseline
    keeps the machine's drift out of the ratio.
    """
    from sqlalchemy import text

    from app.billing.tasks import queue_tenant_events
    from app.extensions import db

    control = app.extensions["celery"].control
    worker = [services.worker_name]
    pairs, memory, cpu_total = [], [], {}
    fetched = 0
    for wave in range(waves):
        raw_rate, _ = raw_retrieve_rate(services.emulator, customers, services.worker_concurrency)
        since = max_event_id()
        ids = store_wave(tenant_id, customers, wave)
        analyze()
        control.cancel_consumer("events", destination=worker, reply=True)
        queue_tenant_events(tenant_id)  # as a webhook does: one drain per tenant, in batches
        processes = {
            "emulator": [services.emulator.pid],
            "worker main": [services.worker.pid],
            "worker pool": services.worker_pool_pids(),
            "postgres": postgres_backends(),
        }
        cpu_before = {name: sum(map(cpu_seconds, pids)) for name, pids in processes.items()}
        started = datetime.now(UTC)
        control.add_consumer("events", destination=worker, reply=True)
        finished = wait_all_processed(app, since, len(ids))
        processes["postgres"] = postgres_backends()  # connections made meanwhile count too
        for name, pids in processes.items():
            spent = sum(map(cpu_seconds, pids)) - cpu_before.get(name, 0.0)
            cpu_total[name] = cpu_total.get(name, 0.0) + spent
        pairs.append((raw_rate, len(ids) / (finished - started).total_seconds()))
        memory.append([rss_kib(pid) for pid in services.worker_pool_pids()])
        with db.engine.connect() as conn:
            fetched += conn.execute(
                text("SELECT count(*) FROM stripe_events WHERE id > :s AND note LIKE 'fetched%'"),
                {"s": since},
            ).scalar()
    events = waves * len(customers)
    cpu = {name: seconds * 1000 / events for name, seconds in cpu_total.items()}
    return pairs, memory, fetched, cpu


def backfill_reads(client) -> int:
    """The Stripe reads a backfill makes, without storing anything: the raw baseline (list
    pages, with the default cards expanded; previews and other cards wait for a sign-in)."""
    from app.billing.backfill import PAGE_SIZE, list_params
    from app.billing.kinds import BACKFILL_PHASES

    objects = 0
    for kind in BACKFILL_PHASES:
        for params in list_params(kind):
            query = {"limit": PAGE_SIZE, **params}
            while True:
                page = client.raw_request("get", kind.path, **query).data
                objects += len(page["data"])
                if not page["has_more"] or not page["data"]:
                    break
                query["starting_after"] = page["data"][-1]["id"]
    return objects


def bench_backfill(tenant_id: int) -> tuple[float, float, int, dict]:
    from sqlalchemy import text

    from app.billing.backfill import backfill
    from app.extensions import db
    from tenants.context import tenant_context
    from tenants.models import Tenant
    from tenants.stripe_client import stripe_client_for

    with tenant_context(tenant_id):
        tenant = db.session.get(Tenant, tenant_id)
        client = stripe_client_for(tenant)
        connection_at = tenant.stripe_connected_at  # as the backfill task passes it
        backfill_reads(client)  # warm up
        started = time.perf_counter()
        objects = backfill_reads(client)
        raw_seconds = time.perf_counter() - started
        with db.engine.begin() as conn:  # an empty cache, as for a newly connected account
            conn.execute(
                text(
                    "TRUNCATE billing_customers, billing_subscriptions, billing_invoices,"
                    " billing_subscription_items, billing_payment_methods, billing_prices,"
                    " billing_products, billing_upcoming_invoices"
                )
            )
        started = time.perf_counter()
        state = backfill(client, connection_at=connection_at)
        backfill_seconds = time.perf_counter() - started
        progress = state.backfill_progress
    return objects / raw_seconds, objects / backfill_seconds, objects, progress
