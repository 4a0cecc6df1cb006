"""The scale benchmark's data: every tenant the same shape, written by PostgreSQL itself.

Each table is one INSERT ... SELECT over generate_series (no Stripe, no ORM, no row-by-row
round trips), run as the database's owner. Rows are written in the order they would have
arrived: the first row of every tenant, then the second of every tenant, ... so a tenant's
events (or invoices) are spread over the whole table, as years of interleaved webhooks leave
them, not packed together as a per-tenant loop would.

Tenant 1 is `acme`, the tenant every per-tenant figure is measured on; its customer 1 is
ada@example.com, the signed-in portal user.

Ids are built from the tenant and the row's number (`cus_<tenant>_<n>`), so a row's relatives
are found by arithmetic: customer c of a tenant has subscriptions c and c + customers (while
those exist), and invoices c, c + customers, c + 2 * customers, ... one a month, newest first.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import datetime

SUBDOMAIN = "acme"
EMAIL = "ada@example.com"


@dataclass(frozen=True)
class Shape:
    tenants: int
    customers: int = 100  # per tenant
    subscriptions: int = 150
    invoices: int = 1500
    events: int = 5000
    event_days: int = 60  # events spread evenly over this many days before the seed time

    def describe(self) -> str:
        n = self.tenants
        return (
            f"{n:,} tenant{'s' if n > 1 else ''}: {n * self.customers:,} customers, "
            f"{n * self.subscriptions:,} subscriptions (one item each), "
            f"{n * self.invoices:,} invoices, {n * self.events:,} events over "
            f"{self.event_days} days"
        )

    def as_comment(self, seeded_at: datetime) -> str:
        return json.dumps({**asdict(self), "seeded_at": seeded_at.isoformat()})


BIG = Shape(tenants=1000)
SMALL = Shape(tenants=1)

# (t, n): tenant t's n-th row, for n up to per_tenant, every tenant's n-th row before any n+1-th.
ROWS = """
    CREATE FUNCTION pg_temp.rows(tenants int, per_tenant int) RETURNS TABLE (t int, n int)
    LANGUAGE sql AS
    'SELECT g %% tenants + 1, g / tenants + 1 FROM generate_series(0, tenants * per_tenant - 1) g'
"""

# Every statement reads %(tenants)s, %(customers)s, ... and %(now)s (the seed time) as
# parameters.

TABLES: dict[str, str] = {
    "tenants": """
        INSERT INTO tenants (id, subdomain, name, status, created_at, live_at, primary_color,
            accent_color, allow_cancel, allow_reactivate, allow_card_update,
            allow_invoice_payment, ask_cancel_reason, portal_closed, stripe_status,
            stripe_connection_method, webhook_endpoint_id, stripe_livemode,
            stripe_connected_at, timezone)
        SELECT t, CASE WHEN t = 1 THEN 'acme' ELSE 't' || lpad(t::text, 4, '0') END,
            'Merchant ' || t, 'active', %(now)s - interval '400 days',
            %(now)s - interval '400 days', '#e11d48', '#0ea5e9', true, true, true, true, true,
            false, 'connected', 'connect', 'whep_scale' || t, false,
            %(now)s - interval '400 days', 'UTC'
        FROM generate_series(1, %(tenants)s) t;
        SELECT setval('tenants_id_seq', %(tenants)s);
        INSERT INTO billing_sync_states (tenant_id, backfill_status, backfill_progress,
            backfill_started_at, backfill_finished_at, reconciled_until, last_reconciled_at)
        SELECT t, 'done', '{}', %(now)s - interval '400 days', %(now)s - interval '400 days',
            extract(epoch FROM %(now)s)::bigint, %(now)s
        FROM generate_series(1, %(tenants)s) t""",
    "catalog": """
        INSERT INTO billing_products (tenant_id, stripe_id, data, livemode, deleted,
            stripe_created, synced_at, name, active)
        SELECT t, 'prod_' || t || '_' || n, '{}', false, false, %(now)s - interval '400 days',
            %(now)s, (ARRAY['Rocket fuel', 'Launch insurance'])[n], true
        FROM pg_temp.rows(%(tenants)s, 2);
        INSERT INTO billing_prices (tenant_id, stripe_id, data, livemode, deleted,
            stripe_created, synced_at, product_id, unit_amount, currency, recurring_interval,
            recurring_interval_count, active, billing_scheme, usage_type)
        SELECT t, 'price_' || t || '_' || n, '{}', false, false,
            %(now)s - interval '400 days', %(now)s, 'prod_' || t || '_' || n,
            (ARRAY[2500, 9900])[n], 'usd', (ARRAY['month', 'year'])[n], 1, true, 'per_unit',
            'licensed'
        FROM pg_temp.rows(%(tenants)s, 2)""",
    "customers": """
        INSERT INTO billing_customers (tenant_id, stripe_id, data, livemode, deleted,
            stripe_created, synced_at, email, email_normalized, name, currency,
            default_payment_method_id, has_discount)
        SELECT t, 'cus_' || t || '_' || n, '{}', false, false,
            %(now)s - interval '400 days', %(now)s, email, lower(email), 'Customer ' || n,
            'usd', 'pm_' || t || '_' || n, false
        FROM pg_temp.rows(%(tenants)s, %(customers)s)
        CROSS JOIN LATERAL (SELECT CASE WHEN t = 1 AND n = 1 THEN 'ada@example.com'
            ELSE 'customer' || n || '@tenant' || t || '.example' END AS email) e;
        INSERT INTO billing_payment_methods (tenant_id, stripe_id, data, livemode, deleted,
            stripe_created, synced_at, customer_id, type, brand, last4, exp_month, exp_year)
        SELECT t, 'pm_' || t || '_' || n, '{}', false, false, %(now)s - interval '400 days',
            %(now)s, 'cus_' || t || '_' || n, 'card', 'visa', lpad((n %% 10000)::text, 4, '0'),
            12, 2030
        FROM pg_temp.rows(%(tenants)s, %(customers)s)""",
    "subscriptions": """
        INSERT INTO billing_subscriptions (tenant_id, stripe_id, data, livemode, deleted,
            stripe_created, synced_at, customer_id, status, cancel_at_period_end,
            current_period_end, default_payment_method_id, currency, has_discount, adds_tax)
        SELECT t, 'sub_' || t || '_' || n, '{}', false, false, %(now)s - interval '400 days',
            %(now)s, 'cus_' || t || '_' || ((n - 1) %% %(customers)s + 1),
            CASE WHEN n %% 10 = 0 THEN 'canceled' ELSE 'active' END, false,
            %(now)s + interval '1 day' * (n %% 28 + 1), NULL, 'usd', false, false
        FROM pg_temp.rows(%(tenants)s, %(subscriptions)s);
        INSERT INTO billing_subscription_items (tenant_id, stripe_id, data, livemode, deleted,
            stripe_created, synced_at, subscription_id, price_id, product_id, quantity,
            current_period_start, current_period_end)
        SELECT t, 'si_' || t || '_' || n, '{}', false, false, %(now)s - interval '400 days',
            %(now)s, 'sub_' || t || '_' || n, 'price_' || t || '_' || (n %% 2 + 1),
            'prod_' || t || '_' || (n %% 2 + 1), n %% 3 + 1,
            %(now)s - interval '1 day' * (30 - n %% 28), %(now)s + interval '1 day' * (n %% 28 + 1)
        FROM pg_temp.rows(%(tenants)s, %(subscriptions)s);
        INSERT INTO billing_upcoming_invoices (tenant_id, stripe_id, data, livemode, deleted,
            stripe_created, synced_at, customer_id, currency, amount_due, next_payment_at)
        SELECT tenant_id, stripe_id, '{}', false, false, stripe_created, synced_at,
            customer_id, 'usd', 2500, current_period_end
        FROM billing_subscriptions WHERE status = 'active'""",
    # Invoice n belongs to customer (n - 1) % customers + 1 and that customer's first
    # subscription; one a month per customer, the newest first. The newest of every seventh
    # customer is still open.
    "invoices": """
        INSERT INTO billing_invoices (tenant_id, stripe_id, data, livemode, deleted,
            stripe_created, synced_at, customer_id, subscription_id, number, status, currency,
            total, amount_due, amount_paid, amount_remaining, due_date, period_end,
            hosted_invoice_url, invoice_pdf)
        SELECT t, 'in_' || t || '_' || n, '{}', false, false, created, %(now)s,
            'cus_' || t || '_' || c, 'sub_' || t || '_' || c, 'INV-' || t || '-' || n,
            CASE WHEN open THEN 'open' ELSE 'paid' END, 'usd', 2500, 2500,
            CASE WHEN open THEN 0 ELSE 2500 END, CASE WHEN open THEN 2500 ELSE 0 END,
            created + interval '30 days', created,
            'https://invoice.stripe.com/i/in_' || t || '_' || n,
            'https://pay.stripe.com/invoice/in_' || t || '_' || n || '/pdf'
        FROM pg_temp.rows(%(tenants)s, %(invoices)s)
        CROSS JOIN LATERAL (SELECT (n - 1) %% %(customers)s + 1 AS c,
            %(now)s - interval '1 month' * ((n - 1) / %(customers)s) - interval '1 hour' * n
                AS created,
            n <= %(customers)s AND n %% 7 = 0 AS open) i""",
    # Events, evenly spread over event_days, oldest first. Most are processed; one in a hundred
    # was ignored, one in five hundred failed, and each tenant's three newest (received in the
    # two minutes before the seed time) are pending. Every payload is still kept: pruning
    # arrived after these events (the worst case for its first runs).
    "events": """
        INSERT INTO stripe_events (tenant_id, stripe_id, type, account, livemode, api_version,
            object_type, object_id, stripe_created, payload, source, status, received_at,
            queued_at, processed_at, processing_ms, attempts, last_error, note)
        SELECT t, e.stripe_id, e.type, NULL, false, '2025-03-31.basil', e.object_type,
            e.object_id, e.received_at, json_build_object('id', e.stripe_id, 'object', 'event',
                'type', e.type, 'created', extract(epoch FROM e.received_at)::bigint,
                'data', json_build_object('object',
                    json_build_object('id', e.object_id, 'object', e.object_type))),
            CASE WHEN n %% 50 = 0 THEN 'reconcile' ELSE 'webhook' END, e.status,
            e.received_at, NULL,
            CASE WHEN e.status IN ('processed', 'ignored') THEN e.received_at
                + interval '1 second' END,
            CASE WHEN e.status = 'processed' THEN 40.0 END,
            CASE WHEN e.status = 'pending' THEN 0 WHEN e.status = 'failed' THEN 5 ELSE 1 END,
            CASE WHEN e.status = 'failed' THEN 'APIConnectionError: timed out' END,
            CASE WHEN e.status = 'ignored' THEN 'ignored: no cached object' END
        FROM pg_temp.rows(%(tenants)s, %(events)s)
        CROSS JOIN LATERAL (SELECT
            'evt_' || t || '_' || n AS stripe_id,
            (ARRAY['invoice.paid', 'invoice.finalized', 'customer.subscription.updated'])
                [n %% 3 + 1] AS type,
            CASE WHEN n %% 3 = 2 THEN 'subscription' ELSE 'invoice' END AS object_type,
            CASE WHEN n %% 3 = 2 THEN 'sub_' || t || '_' || (n %% %(subscriptions)s + 1)
                ELSE 'in_' || t || '_' || (n %% %(invoices)s + 1) END AS object_id,
            CASE WHEN n > %(events)s - 3 THEN 'pending'
                WHEN n %% 500 = 250 THEN 'failed'
                WHEN n %% 100 = 50 THEN 'ignored'
                ELSE 'processed' END AS status,
            CASE WHEN n > %(events)s - 3 THEN %(now)s - interval '1 minute' * (%(events)s - n)
                ELSE %(now)s - interval '1 day' * %(event_days)s
                    * (%(events)s - n)::float / %(events)s END AS received_at) e""",
}


def seed(connection, shape: Shape, now: datetime) -> None:
    """Fill an empty, migrated database (as its owner), printing each table's time."""
    params = {**asdict(shape), "now": now}
    with connection.cursor() as cursor:
        cursor.execute(ROWS, {})
    for name, sql in TABLES.items():
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        connection.commit()
        print(f"  seeded {name} in {time.monotonic() - started:.0f} s", flush=True)
    started = time.monotonic()
    connection.autocommit = True  # VACUUM runs outside a transaction
    with connection.cursor() as cursor:
        # What autovacuum would have done on a database this old: statistics and the
        # visibility map (index-only scans), before anything is measured.
        cursor.execute("VACUUM (ANALYZE)")
    connection.autocommit = False
    print(f"  vacuumed and analysed in {time.monotonic() - started:.0f} s", flush=True)
