"""The next charge of a subscription, as Stripe will make it (invoices.create_preview)."""

from __future__ import annotations

from datetime import datetime

import stripe
from sqlalchemy import delete, select

from app.billing import mapping
from app.billing.models import UpcomingInvoice
from app.billing.statuses import RENEWING_STATUSES
from app.billing.upsert import write_cached_row
from app.clock import as_utc
from app.extensions import db


def read_preview(client: stripe.StripeClient, subscription: dict) -> dict | None:
    """Stripe's preview of the subscription's next invoice, or None if no charge will come."""
    if (
        subscription.get("status") not in RENEWING_STATUSES
        or subscription.get("cancel_at_period_end")
        or subscription.get("pause_collection")  # invoices will come, but nothing is charged
    ):
        return None
    customer = mapping.stripe_id_of(subscription.get("customer"))
    try:
        return client.raw_request(
            "post",
            "/v1/invoices/create_preview",
            customer=customer,
            subscription=subscription["id"],
        ).data
    except stripe.InvalidRequestError as exc:
        if exc.http_status in (400, 404):  # Stripe: no upcoming invoice for this subscription
            return None
        raise


def store_preview(
    subscription: dict, preview: dict | None, synced_at: datetime
) -> UpcomingInvoice | None:
    """Write what read_preview() returned: the next charge, or its absence."""
    if preview is None:
        return drop_upcoming_invoice(subscription["id"])
    return write_cached_row(
        UpcomingInvoice,
        subscription["id"],
        mapping.upcoming_invoice_columns(preview, subscription),
        preview,
        synced_at,
    )


def refresh_upcoming_invoice(
    client: stripe.StripeClient, subscription: dict, synced_at: datetime
) -> UpcomingInvoice | None:
    """Store the preview of the subscription's next invoice, or remove it if none will come."""
    return store_preview(subscription, read_preview(client, subscription), synced_at)


def cached_preview_read_at(subscription_id: str) -> datetime | None:
    """When the cached preview's read began, or None when none is cached."""
    return db.session.scalar(
        select(UpcomingInvoice.synced_at).where(UpcomingInvoice.stripe_id == subscription_id)
    )


def refresh_cached_preview(
    client: stripe.StripeClient,
    subscription: dict,
    synced_at: datetime,
    *,
    known_since: datetime | None = None,
) -> None:
    """Refresh the preview only if one is cached: a customer has looked at their next charge.

    Previews are first read for a customer about to look (the sign-in email queues that), so a
    renewal storm of customers who never signed in asks Stripe for no preview at all, while
    one who did still sees the new amount. A subscription that no longer renews drops its
    preview without asking Stripe. `known_since` (an event's arrival): a preview read after
    it already reflects that change, as for any cached object (sync.py), so a renewal's
    invoice and subscription events cost one preview between them.
    """
    read_at = cached_preview_read_at(subscription["id"])
    if read_at is None or (known_since is not None and as_utc(read_at) >= known_since):
        return
    refresh_upcoming_invoice(client, subscription, synced_at)


def drop_upcoming_invoice(subscription_id: str) -> None:
    db.session.execute(
        delete(UpcomingInvoice)
        .where(UpcomingInvoice.stripe_id == subscription_id)
        .execution_options(synchronize_session=False)
    )
    return None
