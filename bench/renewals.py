"""Renewal day: a merchant's subscriptions all renew at once; what their events cost at Stripe.

    .venv/bin/python bench/renewals.py                    # 2,000 renewals
    .venv/bin/python bench/renewals.py --quick            # 200
    .venv/bin/python bench/renewals.py --signed-in 10     # 10 % of customers have a preview cached
    .venv/bin/python bench/renewals.py --webhooks         # delivered by the emulator, as they come

Starts the Stripe emulator and a Celery worker (the Procfile's concurrency, 2) against
PostgreSQL database `billfold_bench` (rebuilt) and Redis database 14 (flushed). Seeds an account
with N paying customers, one subscription each, and backfills it. Next-charge previews are kept
only for the `--signed-in` share of customers (default none): previews are read when a customer
asks for a sign-in email, so on renewal day most customers have none. Then the emulator renews
every subscription as Stripe does at the period's end (stripe_emulator/renewals.py), the
renewals' events are stored as the webhook endpoint stores them and the tenant's drain is queued
(app.billing.tasks.queue_tenant_events), and the bench waits until all are processed. With
`--webhooks` the emulator posts them instead, one at a time, to the real Connect endpoint
(gunicorn), while the drain already works: an event about an invoice read before it arrived
costs a read of its own.

It prints the Stripe requests the processing made per renewal (the emulator's count for the
account, before and after; aim <= 2: one read of the invoice, one of the subscription), the
events per renewal, and compares the cache with the emulator object by object (subscriptions:
status, current period end, latest invoice; invoices: status, total, amount due and paid, paid
at), printing each mismatch (aim 0).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cache_phases import analyze  # noqa: E402
from bench.cache_setup import ACCOUNT, build_app, make_tenant, merchant, seed_account  # noqa: E402
from bench.harness import WEBHOOK_SECRET, Services  # noqa: E402

SIZES = {"full": 2_000, "quick": 200}
AIM_READS = 2


def backfill_keeping_previews(tenant_id: int, signed_in_percent: int) -> int:
    """Backfill, then keep the previews of only the signed-in share; returns how many kept."""
    from sqlalchemy import delete, select

    from app.billing.backfill import backfill
    from app.billing.models import UpcomingInvoice
    from app.extensions import db
    from tenants.context import tenant_context
    from tenants.models import Tenant
    from tenants.stripe_client import stripe_client_for

    with tenant_context(tenant_id):
        tenant = db.session.get(Tenant, tenant_id)
        backfill(stripe_client_for(tenant), connection_at=tenant.stripe_connected_at)
        ids = sorted(db.session.scalars(select(UpcomingInvoice.stripe_id)))
        kept = ids[: len(ids) * signed_in_percent // 100]
        db.session.execute(
            delete(UpcomingInvoice)
            .where(UpcomingInvoice.stripe_id.not_in(kept))
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    return len(kept)


def renew_all(emulator, tenant_id: int) -> tuple[int, int]:
    """Renew every subscription, 100 per call (one call for all would outlast its timeout
    in a large emulator); returns (renewals, events)."""
    from sqlalchemy import text

    from app.extensions import db

    with db.engine.connect() as conn:
        ids = list(conn.execute(text("SELECT stripe_id FROM billing_subscriptions"
                                     " WHERE tenant_id = :t ORDER BY stripe_id"),
                                {"t": tenant_id}).scalars())  # fmt: skip
    renewals = events = 0
    for start in range(0, len(ids), 100):
        renewed = emulator.renew(ACCOUNT, ids[start : start + 100])
        renewals, events = renewals + len(renewed["renewed"]), events + renewed["events"]
    return renewals, events


def newest_events(client, count: int) -> list[dict]:
    """The account's `count` newest events, oldest first (Stripe lists newest first)."""
    from app.billing.fetch import list_page

    events: list[dict] = []
    while len(events) < count:
        params = {"limit": 100}
        if events:
            params["starting_after"] = events[-1]["id"]
        page, more = list_page(client, "/v1/events", params)
        events += page
        if not more:
            break
    return events[:count][::-1]


def store(tenant_id: int, events: list[dict]) -> None:
    from app.billing.event_log import store_event
    from app.extensions import db
    from tenants.context import tenant_context
    from tenants.models import Tenant

    with tenant_context(tenant_id):
        tenant = db.session.get(Tenant, tenant_id)
        for event in events:
            store_event(tenant, event)
        db.session.commit()


def waiting(tenant_id: int) -> tuple[int, int, int]:
    """(pending, failed, stored) events of the tenant."""
    from sqlalchemy import text

    from app.extensions import db

    with db.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE status = 'pending'),"
                " count(*) FILTER (WHERE status = 'failed'), count(*)"
                " FROM stripe_events WHERE tenant_id = :t"
            ),
            {"t": tenant_id},
        ).one()
    return row[0], row[1], row[2]


def everything(client, path: str) -> list[dict]:
    from app.billing.fetch import list_page

    found: list[dict] = []
    more = True
    while more:
        params = {"limit": 100}
        if found:
            params["starting_after"] = found[-1]["id"]
        page, more = list_page(client, path, params)
        found += page
        more = more and bool(page)
    return found


def mismatches(tenant_id: int, client) -> tuple[int, list[str]]:
    """Objects compared and every difference between the cache and the emulator."""
    from sqlalchemy import select

    from app.billing.invoice_history import complete_from
    from app.billing.models import CachedCustomer, CachedInvoice, CachedSubscription
    from app.clock import as_utc
    from app.extensions import db
    from tenants.context import tenant_context

    def stamp(value) -> int | None:
        return int(as_utc(value).timestamp()) if value is not None else None

    found: list[str] = []
    subscriptions = everything(client, "/v1/subscriptions")
    invoices = everything(client, "/v1/invoices")
    with tenant_context(tenant_id):
        cached_subs = {row.stripe_id: row for row in db.session.scalars(select(CachedSubscription))}
        cached_invoices = {row.stripe_id: row for row in db.session.scalars(select(CachedInvoice))}
        for sub in subscriptions:
            row = cached_subs.get(sub["id"])
            if row is None:
                found.append(f"subscription {sub['id']}: not cached")
                continue
            expected = (sub["status"], sub["items"]["data"][0]["current_period_end"],
                        sub["latest_invoice"])  # fmt: skip
            got = (row.status, stamp(row.current_period_end), row.data.get("latest_invoice"))
            if expected != got:
                found.append(f"subscription {sub['id']}: emulator {expected}, cache {got}")
        # A backfill copies only the invoices still to pay; a customer's older ones are read at
        # their first sign-in. Those are not the cache's to hold until then.
        history_read = set(
            db.session.scalars(
                select(CachedCustomer.stripe_id).where(
                    CachedCustomer.invoice_history_read_at.is_not(None)
                )
            )
        )
        since = complete_from()
        since = since.timestamp() if since is not None else float("inf")

        def cache_holds(invoice: dict) -> bool:
            return (
                invoice["status"] in ("open", "uncollectible")
                or invoice["customer"] in history_read
                or invoice["created"] >= since  # Stripe's whole second: made after it
                or invoice["id"] in cached_invoices
            )

        left_to_sign_in = [invoice for invoice in invoices if not cache_holds(invoice)]
        invoices = [invoice for invoice in invoices if cache_holds(invoice)]
        for invoice in invoices:
            row = cached_invoices.get(invoice["id"])
            if row is None:
                found.append(f"invoice {invoice['id']}: not cached")
                continue
            paid_at = (invoice.get("status_transitions") or {}).get("paid_at")
            expected = (invoice["status"], invoice["total"], invoice["amount_due"],
                        invoice["amount_paid"], paid_at)  # fmt: skip
            cached_paid_at = (row.data.get("status_transitions") or {}).get("paid_at")
            got = (row.status, row.total, row.amount_due, row.amount_paid, cached_paid_at)
            if expected != got:
                found.append(f"invoice {invoice['id']}: emulator {expected}, cache {got}")
        extra = (len(cached_subs) - len(subscriptions), len(cached_invoices) - len(invoices))
        if extra != (0, 0):
            found.append(f"cached but not at the emulator (subscriptions, invoices): {extra}")
    if left_to_sign_in:
        print(f"  ({len(left_to_sign_in)} paid invoices from before the copy are left to their "
              "customers' first sign-in: not compared)")  # fmt: skip
    return len(subscriptions) + len(invoices), found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--signed-in", type=int, default=0, metavar="PERCENT",
                        help="share of customers with a next-charge preview cached")  # fmt: skip
    parser.add_argument("--webhooks", action="store_true",
                        help="the emulator posts the events to the Connect endpoint")  # fmt: skip
    args = parser.parse_args()
    count = SIZES["quick" if args.quick else "full"]
    wall = time.perf_counter()
    with Services(worker_concurrency=2) as services:
        app = build_app()
        with app.app_context():
            from app.billing.tasks import queue_tenant_events

            tenant_id = make_tenant()
            client = merchant(services.emulator.url)
            print(f"1/4 seeding {count} paying customers with a subscription each ...")
            seed_account(client, count, count)
            print("2/4 backfilling ...")
            previews = backfill_keeping_previews(tenant_id, args.signed_in)
            services.start_worker(app.extensions["celery"])
            if args.webhooks:
                services.start_web()
                url = f"http://{services.env['PLATFORM_DOMAIN']}/webhooks/stripe/connect"
                services.emulator.register_webhook("bench", url, WEBHOOK_SECRET, connect=True)
                time.sleep(1)  # the seeding's events were delivered to no one before this

            print(f"3/4 renewing {count} subscriptions at the emulator ...")
            analyze()
            before = services.emulator.api_request_count(ACCOUNT)
            started = time.perf_counter()
            renewals, event_count = renew_all(services.emulator, tenant_id)
            if not args.webhooks:
                events = newest_events(client, event_count)
                listing = services.emulator.api_request_count(ACCOUNT) - before
                store(tenant_id, events)
                before += listing  # listing them is the bench's work, not the app's
                started = time.perf_counter()
                queue_tenant_events(tenant_id)
            print(f"4/4 processing {event_count} events ...")
            while (state := waiting(tenant_id))[0] > 0 or state[2] < event_count:
                time.sleep(0.2)
            seconds = time.perf_counter() - started
            requests = services.emulator.api_request_count(ACCOUNT) - before
            failed = waiting(tenant_id)[1]
            compared, differences = mismatches(tenant_id, client)

    per_renewal = requests / renewals if renewals else float("inf")
    print()
    flags = ["--quick"] * args.quick + [f"--signed-in {args.signed_in}"] * bool(args.signed_in)
    flags += ["--webhooks"] * args.webhooks
    flags = " ".join(flags)
    print(f"bench/renewals.py {flags}".rstrip())
    print(f"  machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, {date.today().isoformat()}")  # fmt: skip
    delivery = "posted by the emulator to gunicorn" if args.webhooks else "stored, then drained"
    print(f"  celery --concurrency 2 (prefork), one drain per tenant; events {delivery}")
    print(f"  {renewals} renewals, {event_count} events ({event_count / renewals:.1f} per renewal),"
          f" next-charge previews cached for {previews} customers")  # fmt: skip
    ok = per_renewal <= AIM_READS
    print(f"  Stripe requests while processing: {requests} ({per_renewal:.2f} per renewal)"
          f"  aim <= {AIM_READS}  [{'met' if ok else 'MISSED'}]")  # fmt: skip
    print(f"  processed in {seconds:.1f} s ({event_count / seconds:.0f} events/s), "
          f"{failed} failed")  # fmt: skip
    for line in differences[:20]:
        print(f"    {line}")
    print(f"  cache vs emulator: {compared} objects compared, {len(differences)} mismatches"
          f"  aim 0  [{'met' if not differences else 'MISSED'}]")  # fmt: skip
    print(f"  finished in {time.perf_counter() - wall:.0f} s")


if __name__ == "__main__":
    main()
