"""Fairness: one merchant's storm of events must not hold back another merchant's event.

    .venv/bin/python bench/fairness.py            # a storm of 10,000 events, 50 tries
    .venv/bin/python bench/fairness.py --quick    # 2,000 events, 20 tries

Starts the Stripe emulator and a Celery worker (the Procfile's concurrency, 2) against
PostgreSQL database `billfold_bench` (rebuilt) and Redis database 14 (flushed). Tenant "storm"
gets its events stored and queued at once, as on a renewal day (customer.updated about its 200
customers: each is re-read from the emulator, or coalesced with a read already made). While
they wait, tenant "quiet" sends one event at a time, stored and queued as the webhook endpoint
does, and the bench measures how long each takes to be processed:

1. with no storm (the baseline, same run);
2. during the storm, queued as webhooks queue them now (one drain per tenant, in batches);
3. during a storm queued first come, first served (one task per event, as before), once.
The aim: p99 of (2) within 2 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cache_phases import analyze  # noqa: E402
from bench.cache_setup import build_app, make_tenant, merchant, seed_account  # noqa: E402
from bench.harness import PLATFORM_KEY, Services  # noqa: E402

SIZES = {"full": {"storm": 10_000, "tries": 50}, "quick": {"storm": 2_000, "tries": 20}}
QUIET_ACCOUNT = "acct_billfoldbench02"


def quiet_tenant(emulator_url: str) -> tuple[int, str]:
    import stripe

    from app.extensions import db
    from tenants.models import Tenant

    client = stripe.StripeClient(
        PLATFORM_KEY, stripe_account=QUIET_ACCOUNT, base_addresses={"api": emulator_url}
    )
    customer = client.v1.customers.create(params={"email": "q@bench.test"}).id
    tenant = Tenant(subdomain="quiet", name="Quiet Shop")
    tenant.connect_account(QUIET_ACCOUNT)
    db.session.add(tenant)
    db.session.commit()
    return tenant.id, customer


def store(tenant_id: int, account: str, customer_ids: list[str], count: int, tag: str) -> list:
    from app.billing.event_log import store_event
    from app.extensions import db
    from tenants.context import tenant_context
    from tenants.models import Tenant

    with tenant_context(tenant_id):
        tenant = db.session.get(Tenant, tenant_id)
        ids = []
        for i in range(count):
            event = {
                "id": f"evt_{tag}_{i}_{time.monotonic_ns()}", "object": "event",
                "type": "customer.updated", "account": account, "livemode": False,
                "api_version": "2017-08-15", "created": int(time.time()),
                "data": {"object": {"id": customer_ids[i % len(customer_ids)],
                                    "object": "customer"}},
            }  # fmt: skip
            ids.append(store_event(tenant, event).id)
        db.session.commit()
    return ids


def processed_at(event_id: int) -> datetime | None:
    from sqlalchemy import text

    from app.extensions import db

    with db.engine.connect() as conn:
        return conn.execute(
            text("SELECT processed_at FROM stripe_events WHERE id = :id AND status = 'processed'"),
            {"id": event_id},
        ).scalar()


def pending(tenant_id: int) -> int:
    from sqlalchemy import text

    from app.extensions import db

    with db.engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM stripe_events WHERE tenant_id = :t AND status = 'pending'"),
            {"t": tenant_id},
        ).scalar()


def one_quiet_event(quiet_id: int, customer: str, queue, timeout: float = 600) -> float:
    """Seconds from the quiet tenant's event being queued to its being processed."""
    [event_id] = store(quiet_id, QUIET_ACCOUNT, [customer], 1, "quiet")
    queued = datetime.now(UTC)
    queue(quiet_id, event_id)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = processed_at(event_id)
        if done is not None:
            return (done - queued).total_seconds()
        time.sleep(0.01)
    raise RuntimeError("the quiet tenant's event was never processed")


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    size = SIZES["quick" if parser.parse_args().quick else "full"]
    wall = time.perf_counter()
    with Services(worker_concurrency=2) as services:
        app = build_app()
        with app.app_context():
            from app.billing.tasks import process_stripe_event, queue_tenant_events

            def drains(tenant_id: int, _event_id: int) -> None:
                queue_tenant_events(tenant_id)

            def per_event(tenant_id: int, event_id: int) -> None:
                process_stripe_event.apply_async(args=[tenant_id, event_id])

            storm_id = make_tenant()
            customers = seed_account(merchant(services.emulator.url), 200, 50)
            quiet_id, quiet_customer = quiet_tenant(services.emulator.url)
            services.start_worker(app.extensions["celery"])
            print(f"1/3 baseline: {size['tries']} events of the quiet tenant, no storm ...")
            baseline = []
            for _ in range(size["tries"]):
                baseline.append(one_quiet_event(quiet_id, quiet_customer, drains))
                time.sleep(0.05)

            print(f"2/3 storm of {size['storm']} events, queued as webhooks queue them ...")
            storm_ids = store(storm_id, "acct_billfoldbench01", customers, size["storm"], "s")
            analyze()
            started = time.perf_counter()
            queue_tenant_events(storm_id)
            during, backlog = [], []
            while len(during) < size["tries"] and pending(storm_id) > 0:
                backlog.append(pending(storm_id))
                during.append(one_quiet_event(quiet_id, quiet_customer, drains))
                time.sleep(0.2)
            while pending(storm_id) > 0:
                time.sleep(0.2)
            storm_seconds = time.perf_counter() - started

            print("3/3 the same storm queued first come, first served (one task per event) ...")
            storm_ids = store(storm_id, "acct_billfoldbench01", customers, size["storm"], "f")
            for event_id in storm_ids:
                per_event(storm_id, event_id)
            fifo = one_quiet_event(quiet_id, quiet_customer, per_event)
            while pending(storm_id) > 0:
                time.sleep(0.2)

    print()
    print(f"bench/fairness.py {'--quick' if size is SIZES['quick'] else ''}".rstrip())
    print(f"  machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, {date.today().isoformat()}")  # fmt: skip
    print("  celery --concurrency 2 (prefork)")
    print(f"  quiet tenant's event, no storm: p50 {sorted(baseline)[len(baseline) // 2]:.3f} s,"
          f" p99 {p99(baseline):.3f} s ({len(baseline)} tries)")  # fmt: skip
    ok = bool(during) and p99(during) <= 2.0
    print(f"  during a storm of {size['storm']} (drains): p50 "
          f"{sorted(during)[len(during) // 2]:.3f} s, p99 {p99(during):.3f} s, max "
          f"{max(during):.3f} s ({len(during)} tries, storm backlog {min(backlog)}-{max(backlog)})"
          f"  aim p99 <= 2 s  [{'met' if ok else 'MISSED'}]")  # fmt: skip
    print(f"  the storm itself: {size['storm']} events in {storm_seconds:.1f} s "
          f"({size['storm'] / storm_seconds:.0f} ev/s)")  # fmt: skip
    print(f"  during the same storm, one task per event (before): {fifo:.1f} s (1 try)")
    print(f"  finished in {time.perf_counter() - wall:.0f} s")


if __name__ == "__main__":
    main()
