"""A customer's invoice history: read from Stripe once, when the customer first asks to sign in.

A backfill copies only the invoices a customer can still pay (open, uncollectible); the paid,
void and draft history of an account is most of its invoices, and most customers never look at
theirs. So a customer's history is listed (`invoices?customer=`, 100 a page) in the task that
reads their cards and next charges, and the customer row records that it was
(`invoice_history_read_at`); webhooks keep it current from then on, so it is read only once.

A customer created at Stripe after the account's copy began needs no read: every invoice of
theirs was made after the connection, so each reached the cache by webhook, or by the
reconciliation, whose first pass lists the account's events from the moment of connection.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import stripe
from sqlalchemy import select

from app.billing.fetch import list_page
from app.billing.kinds import BY_OBJECT
from app.billing.locks import lock_stripe_objects
from app.billing.models import CachedCustomer, CachedInvoice, SyncState
from app.billing.upsert import apply_stripe_object, cached_rows
from app.clock import as_utc
from app.extensions import db
from tenants.context import current_tenant_id
from tenants.models import Tenant

PAGE_SIZE = 100


def complete_from() -> datetime | None:
    """From when on a new customer's invoices all reach the cache without a history read: the
    connection, or the start of the latest backfill if later (the later, the safer). None when
    the current tenant is not connected."""
    connected_at = db.session.scalar(
        select(Tenant.stripe_connected_at).where(Tenant.id == current_tenant_id())
    )
    if connected_at is None:
        return None
    started_at = db.session.scalar(select(SyncState.backfill_started_at))
    return max(as_utc(m) for m in (connected_at, started_at) if m is not None)


def arrived_after(customer: CachedCustomer, moment: datetime | None) -> bool:
    """Created at Stripe after `moment`. Stripe's `created` is the whole second it was made
    in, rounded down, so a stamp at or after `moment` is a customer made after it."""
    created = customer.stripe_created
    return moment is not None and created is not None and as_utc(created) >= moment


def histories_unread(customers: Iterable[CachedCustomer]) -> list[CachedCustomer]:
    """The customers whose invoice history is not in the cache yet (a page says so). No query
    when every history is read, the usual case once a customer has signed in."""
    unread = [c for c in customers if c.invoice_history_read_at is None]
    if not unread:
        return []
    moment = complete_from()
    return [c for c in unread if not arrived_after(c, moment)]


def read_invoice_history(client: stripe.StripeClient, customer: CachedCustomer) -> int:
    """Cache every invoice of the customer, unless their history is already in the cache;
    returns how many invoices were read (0: no request made).

    Each invoice is written under its object lock, unless a webhook's read of it started after
    this list did (that read is newer). The customer is then marked as read, in the caller's
    transaction: if it rolls back (Stripe failed meanwhile), the next sign-in reads again.
    """
    if customer.invoice_history_read_at is not None:
        return 0
    if arrived_after(customer, complete_from()):
        customer.invoice_history_read_at = datetime.now(UTC)  # all of it came by webhook
        return 0
    return copy_invoice_history(client, customer)


def copy_invoice_history(client: stripe.StripeClient, customer: CachedCustomer) -> int:
    """List every invoice of the customer into the cache (100 a page) and mark their history
    read; returns how many invoices were listed."""
    read_at = datetime.now(UTC)
    invoices = _all_invoices(client, customer.stripe_id)
    if invoices:
        ids = [invoice["id"] for invoice in invoices]
        lock_stripe_objects(current_tenant_id(), ids)
        cached = cached_rows(CachedInvoice, ids)
        for invoice in invoices:
            row = cached.get(invoice["id"])
            if row is None or as_utc(row.synced_at) <= read_at:  # else a webhook's newer read won
                apply_stripe_object(invoice, read_at, row)
    customer.invoice_history_read_at = read_at
    db.session.flush()
    return len(invoices)


def _all_invoices(client: stripe.StripeClient, customer_id: str) -> list[dict]:
    invoices, query, more = [], {"customer": customer_id, "limit": PAGE_SIZE}, True
    while more:
        page, more = list_page(client, BY_OBJECT["invoice"].path, query)
        invoices += page
        more = more and bool(page)
        if more:
            query["starting_after"] = page[-1]["id"]
    return [invoice for invoice in invoices if invoice.get("object") == "invoice"]
