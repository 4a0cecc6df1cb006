"""What a customer's pages need from Stripe beyond what a backfill copies, read when the customer
asks to sign in: its payment methods (the backfill has only the default ones, expanded with the
customer and its subscriptions), each renewing subscription's next charge (a preview), and, the
first time only, its invoice history (the backfill has only the invoices still to pay).

Read then and only then: a customer who never signs in costs no request for them, which is what
lets a large account be copied at a few list pages per hundred customers. Until the previews land,
the portal shows the estimate the prices give, labelled as one; until the history lands, the
invoices page says older invoices are still being loaded.
"""

from __future__ import annotations

from datetime import UTC, datetime

import stripe

from app.billing.fetch import list_page, object_path
from app.billing.invoice_history import read_invoice_history
from app.billing.locks import lock_stripe_objects
from app.billing.models import CachedCustomer, CachedPaymentMethod
from app.billing.sync import refresh_customer_previews
from app.billing.upsert import apply_stripe_object, cached_row, cached_rows
from app.clock import as_utc
from tenants.context import current_tenant_id

PAGE_SIZE = 100


def read_payment_methods(client: stripe.StripeClient, customer_id: str) -> int:
    """Cache every payment method attached to the customer; returns how many."""
    read_at = datetime.now(UTC)
    path = f"{object_path('customer', customer_id)}/payment_methods"
    methods, query, more = [], {"limit": PAGE_SIZE}, True
    while more:
        page, more = list_page(client, path, query)
        methods += page
        more = more and bool(page)
        if more:
            query["starting_after"] = page[-1]["id"]
    methods = [m for m in methods if m.get("object") == "payment_method"]
    if not methods:
        return 0
    lock_stripe_objects(current_tenant_id(), [m["id"] for m in methods])
    cached = cached_rows(CachedPaymentMethod, [m["id"] for m in methods])
    for method in methods:
        row = cached.get(method["id"])
        if row is None or as_utc(row.synced_at) <= read_at:  # else a webhook's newer read won
            apply_stripe_object(method, read_at, row)
    return len(methods)


def read_for_sign_in(client: stripe.StripeClient, customer_id: str) -> int:
    """The customer's cards and next charges, fresh, and their invoice history if it was never
    read; returns the Stripe objects read."""
    read = read_payment_methods(client, customer_id) + refresh_customer_previews(
        client, customer_id
    )
    customer = cached_row(CachedCustomer, customer_id)
    if customer is not None:
        read += read_invoice_history(client, customer)
    return read
