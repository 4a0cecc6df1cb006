"""Find a customer at Stripe by email when the cache has none yet, and cache what hangs on it."""

from __future__ import annotations

from datetime import UTC, datetime

import stripe

from app.billing.fetch import plain_dict
from app.billing.invoice_history import copy_invoice_history
from app.billing.upcoming import refresh_upcoming_invoice
from app.billing.upsert import apply_stripe_object


def _quoted(email: str) -> str:
    # Stripe's search language: single-quoted strings, backslash escapes.
    return "'" + email.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fetch_customers_by_email(client: stripe.StripeClient, email: str) -> list[dict]:
    """Search Stripe for the email and copy each match (subscriptions, invoices, cards) in."""
    synced_at = datetime.now(UTC)
    found = client.v1.customers.search(params={"query": f"email:{_quoted(email)}", "limit": 20})
    customers = [plain_dict(c) for c in found.data if (c.email or "").lower() == email]
    for customer in customers:
        row = apply_stripe_object(customer, synced_at)
        cid = customer["id"]
        for sub in client.v1.subscriptions.list(params={"customer": cid, "status": "all"}).data:
            subscription = plain_dict(sub)
            apply_stripe_object(subscription, synced_at)
            refresh_upcoming_invoice(client, subscription, synced_at)
        copy_invoice_history(client, row)  # all of it: a later sign-in need not read it
        for method in client.v1.customers.payment_methods.list(cid).data:
            apply_stripe_object(plain_dict(method), synced_at)
    return customers
