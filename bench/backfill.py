"""Stripe requests a backfill costs per 1,000 customers, three ways, in one run.

    .venv/bin/python bench/backfill.py                 # 1,000 customers (about 20 minutes)
    .venv/bin/python bench/backfill.py --customers 300 --budget 20

Builds, in its own Stripe emulator, an account of N customers, each with one card (its default),
one monthly subscription paid by it and 12 invoices: the subscription's first and 11 one-off ones,
made by app/demo/stripe_data.py and paid (a year of history), except that every 10th customer
still owes its last one (open), or, every 100th, had it written off (uncollectible): the invoices
a customer can still pay, 100 per 1,000 customers. Then, on a throwaway PostgreSQL cluster and
Redis of its own (nothing shared with other runs), it copies the account into an empty cache with
the backfill as it is now, through the bulk client and its request budget, counting the
requests the emulator receives for the account and timing the copy.

The two earlier ways are measured in the same run, against the same account and counted the same
way: the previous backfill listed every invoice account-wide (those pages are listed here,
without writing), and the old one also read one payment-method list per customer and one
next-charge preview per renewing subscription. What the new way leaves to a customer's sign-in
is measured too, on a sample of customers: their first sign-in's reads (cards, next charges,
invoice history) and a second one's.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import stripe  # noqa: E402

from app.billing.kinds import BY_OBJECT  # noqa: E402
from app.demo.stripe_data import create_paying_customer, create_price, open_invoice  # noqa: E402
from bench.cache_setup import in_threads  # noqa: E402
from stripe_emulator.launcher import StripeEmulator  # noqa: E402
from tests.support.local_services.postgres import PostgresCluster  # noqa: E402
from tests.support.local_services.redis_server import RedisServer  # noqa: E402

ACCOUNT = "acct_billfoldbackfill1"
PLATFORM_KEY = "sk_test_billfold_bench"  # noqa: S105 - the local emulator's
INVOICES_PER_CUSTOMER = 12
OPEN_EVERY = 10  # every 10th customer still owes its last invoice
UNCOLLECTIBLE_EVERY = 100  # every 100th had it written off instead (still payable)
SIGN_IN_SAMPLE = 20  # customers whose sign-in reads are counted
AIM_PER_1000 = 30
PAGE_SIZE = 100  # Stripe's largest list page, the backfill's


def seed(client: stripe.StripeClient, customers: int) -> None:
    price = create_price(client, amount=1500, name="Pro")

    def customer(i: int) -> None:
        made, card = create_paying_customer(client, f"c{i}@bench.test", f"C {i}")
        client.v1.subscriptions.create(
            params={
                "customer": made.id,
                "items": [{"price": price.id}],
                "default_payment_method": card.id,
            }
        )  # its first invoice, paid by the card
        for n in range(INVOICES_PER_CUSTOMER - 1):
            invoice = open_invoice(client, made.id, amount=1000 + n, description=f"Extra {n}")
            last = n == INVOICES_PER_CUSTOMER - 2
            if last and i % UNCOLLECTIBLE_EVERY == 0:
                client.v1.invoices.mark_uncollectible(invoice.id)
            elif not (last and i % OPEN_EVERY == 0):
                client.v1.invoices.pay(invoice.id)

    done = [0]

    def tracked(i: int) -> None:
        customer(i)
        done[0] += 1
        if done[0] % 100 == 0:
            print(f"  seeded {done[0]} customers", flush=True)

    in_threads(customers, tracked)


def build_app(database_url: str, redis_url: str, emulator_url: str, budget: int):
    os.environ.update(
        {
            "BILLFOLD_ENV": "development",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "PLATFORM_DOMAIN": "localhost:5000",
            "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
            "STRIPE_API_BASE": emulator_url,
            "STRIPE_SECRET_KEY": PLATFORM_KEY,
            "STRIPE_BULK_REQUESTS_PER_SECOND": str(budget),
        }
    )
    from flask_migrate import upgrade

    from app.factory import create_app

    app = create_app()
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    return app


def make_tenant() -> int:
    from app.extensions import db
    from tenants.models import Tenant

    tenant = Tenant(subdomain="bench", name="Bench Rockets")
    tenant.connect_account(ACCOUNT)
    db.session.add(tenant)
    db.session.commit()
    return tenant.id


def new_way(emulator: StripeEmulator, tenant_id: int) -> tuple[int, float, dict]:
    """(requests, seconds, progress) of the backfill as it is, through the budgeted client."""
    from app.billing.backfill import backfill
    from app.extensions import db
    from tenants.context import tenant_context
    from tenants.models import Tenant
    from tenants.stripe_client import stripe_client_for

    with tenant_context(tenant_id):
        tenant = db.session.get(Tenant, tenant_id)
        client = stripe_client_for(tenant, bulk=True)
        before = emulator.api_request_count(ACCOUNT)
        started = time.perf_counter()
        state = backfill(client, connection_at=tenant.stripe_connected_at)
        seconds = time.perf_counter() - started
        requests = emulator.api_request_count(ACCOUNT) - before
        return requests, seconds, dict(state.backfill_progress)


def raw_client(emulator: StripeEmulator) -> stripe.StripeClient:
    return stripe.StripeClient(
        PLATFORM_KEY, stripe_account=ACCOUNT, base_addresses={"api": emulator.url}
    )


def invoices_listed(emulator: StripeEmulator, **params) -> tuple[int, int]:
    """(requests, invoices) of listing the account's invoices (100 a page, filtered by
    `params`), without writing anything."""
    client = raw_client(emulator)
    before = emulator.api_request_count(ACCOUNT)
    query, listed = {"limit": 100, **params}, 0
    while True:
        page = client.raw_request("get", "/v1/invoices", **query).data
        listed += len(page["data"])
        if not page["has_more"] or not page["data"]:
            break
        query["starting_after"] = page["data"][-1]["id"]
    return emulator.api_request_count(ACCOUNT) - before, listed


def sign_in_reads(emulator: StripeEmulator, tenant_id: int, sample: int) -> tuple[int, int]:
    """Requests of `sample` customers' sign-in reads (app.billing.sign_in_reads), their first
    sign-in (cards, next charges, invoice history) and a second one (cards, next charges)."""
    from sqlalchemy import select

    from app.billing.models import CachedCustomer
    from app.billing.sign_in_reads import read_for_sign_in
    from app.extensions import db
    from tenants.context import tenant_context
    from tenants.models import Tenant
    from tenants.stripe_client import stripe_client_for

    counts = []
    for _ in range(2):
        with tenant_context(tenant_id):
            tenant = db.session.get(Tenant, tenant_id)
            client = stripe_client_for(tenant)
            customers = db.session.scalars(
                select(CachedCustomer.stripe_id).order_by(CachedCustomer.id).limit(sample)
            ).all()
            before = emulator.api_request_count(ACCOUNT)
            for customer_id in customers:
                read_for_sign_in(client, customer_id)
            db.session.commit()
            counts.append(emulator.api_request_count(ACCOUNT) - before)
    return counts[0], counts[1]


def old_way_extra(emulator: StripeEmulator, tenant_id: int) -> tuple[int, int]:
    """What the old backfill read on top of the lists: (payment-method lists, previews), made
    against the account (4 threads, no budget: only the count matters here)."""
    from sqlalchemy import select

    from app.billing.models import CachedCustomer, CachedSubscription
    from app.billing.statuses import RENEWING_STATUSES
    from app.extensions import db
    from tenants.context import tenant_context

    with tenant_context(tenant_id):
        customers = db.session.scalars(select(CachedCustomer.stripe_id)).all()
        renewing = db.session.execute(
            select(CachedSubscription.customer_id, CachedSubscription.stripe_id).where(
                CachedSubscription.status.in_(RENEWING_STATUSES)
            )
        ).all()
    client = raw_client(emulator)
    before = emulator.api_request_count(ACCOUNT)
    in_threads(
        len(customers),
        lambda i: client.v1.customers.payment_methods.list(customers[i], params={"limit": 100}),
    )
    lists = emulator.api_request_count(ACCOUNT) - before
    in_threads(
        len(renewing),
        lambda i: client.v1.invoices.create_preview(
            params={"customer": renewing[i][0], "subscription": renewing[i][1]}
        ),
    )
    previews = emulator.api_request_count(ACCOUNT) - before - lists
    return lists, previews


def list_pages(count: int) -> int:
    """Requests for one list of `count` objects: Stripe's pages of 100, at least one."""
    return max(1, math.ceil(count / PAGE_SIZE))


def backfill_requests(customers: int, catalog_pages: int) -> int:
    """What a backfill of this bench's account of `customers` costs, page by page: the
    catalog's lists (products, prices, schedules: they do not grow with customers), customers,
    subscriptions, and the open and the uncollectible invoices the seed leaves."""
    uncollectible = len(range(0, customers, UNCOLLECTIBLE_EVERY))
    still_open = len(range(0, customers, OPEN_EVERY)) - uncollectible
    return (
        catalog_pages
        + 2 * list_pages(customers)
        + list_pages(still_open)
        + list_pages(uncollectible)
    )


def line(label: str, value: str) -> str:
    return f"  {label:<56}{value:>20}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--budget", type=int, default=20, help="bulk requests per second")
    args = parser.parse_args(argv)
    n = args.customers
    with (
        PostgresCluster() as cluster,
        RedisServer() as redis_server,
        StripeEmulator().start(port=0) as emulator,
    ):
        app = build_app(
            cluster.create_database("billfold_backfill_bench"),
            redis_server.url(),
            emulator.url,
            args.budget,
        )
        print(f"seeding the emulator: {n} customers, 1 card, 1 subscription, "
              f"{INVOICES_PER_CUSTOMER} invoices each")  # fmt: skip
        started = time.perf_counter()
        seed(raw_client(emulator), n)
        print(f"  seeded in {time.perf_counter() - started:.0f} s")
        with app.app_context():
            tenant_id = make_tenant()
            print(f"backfilling at a budget of {args.budget} requests/s ...")
            requests, seconds, progress = new_way(emulator, tenant_id)
            print("listing every invoice, as the previous backfill did ...")
            invoice_pages, invoices = invoices_listed(emulator)
            payable_pages = sum(  # the new way's invoice lists, counted alone
                invoices_listed(emulator, **query)[0] for query in BY_OBJECT["invoice"].list_queries
            )
            print("reading what the old way read on top ...")
            lists, previews = old_way_extra(emulator, tenant_id)
            sample = min(SIGN_IN_SAMPLE, n)
            print(f"signing {sample} customers in, twice ...")
            first_sign_in, second_sign_in = sign_in_reads(emulator, tenant_id, sample)

    # The previous backfill: the same lists, but every invoice instead of the payable ones.
    previous = requests - payable_pages + invoice_pages
    old = previous + lists + previews
    per_1000 = 1000 / n
    # A smaller run is projected to 1,000 customers by its pages, not scaled: the catalog's
    # lists cost one page each whatever the size. The projection must first give this run's
    # own count, else it is not shown as the verdict.
    catalog_pages = sum(
        list_pages(progress.get(kind, {}).get("done", 0))
        for kind in ("product", "price", "subscription_schedule")
    )
    model_holds = backfill_requests(n, catalog_pages) == requests
    new_per_1000 = requests if n == 1000 else backfill_requests(1000, catalog_pages)
    measured_or_projected = "measured" if n == 1000 else "projected by pages"
    verdict = "met" if model_holds and new_per_1000 <= AIM_PER_1000 else "MISSED"
    print()
    print(f"bench/backfill.py --customers {n} --budget {args.budget}")
    print(f"  machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, {date.today().isoformat()}")  # fmt: skip
    print(f"  account: {progress['customer']['done']} customers, "
          f"{progress['subscription']['done']} subscriptions, {invoices} invoices, "
          f"{progress['invoice']['done']} of them payable (open or uncollectible)")  # fmt: skip
    print(line("old way: requests (lists + card lists + previews)",
               f"{previous} + {lists} + {previews} = {old}"))  # fmt: skip
    print(line("previous way: requests (lists, every invoice)", f"{previous}"))
    print(line("  of which invoice pages", f"{invoice_pages}"))
    print(line("new way: requests (lists, payable invoices only)", f"{requests}"))
    print(line("  of which invoice pages (open, uncollectible)", f"{payable_pages}"))
    print(line("old way: requests per 1,000 customers", f"{old * per_1000:.0f}"))
    print(line("previous way: requests per 1,000 customers", f"{previous * per_1000:.0f}"))
    print(line("new way: requests as this run's pages predict them",
               f"{backfill_requests(n, catalog_pages)} "
               f"({'matches' if model_holds else 'DIFFERS FROM'} {requests})"))  # fmt: skip
    print(line(f"new way: requests per 1,000 customers ({measured_or_projected})",
               f"{new_per_1000:.0f}  aim <= {AIM_PER_1000} [{verdict}]"))  # fmt: skip
    print(line("a customer's first sign-in (cards, preview, history)",
               f"{first_sign_in / sample:.2f} req"))  # fmt: skip
    print(line("a customer's later sign-ins (cards, preview)",
               f"{second_sign_in / sample:.2f} req"))  # fmt: skip
    print(line(f"old way at {args.budget} req/s (requests / budget)",
               f"{old / args.budget:.1f} s"))  # fmt: skip
    print(line(f"previous way at {args.budget} req/s (requests / budget)",
               f"{previous / args.budget:.1f} s"))  # fmt: skip
    print(line(f"new way at {args.budget} req/s (measured, budgeted client)", f"{seconds:.1f} s"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
