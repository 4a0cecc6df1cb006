"""Links to an invoice's Stripe-hosted page and PDF that still open when the customer clicks.

Stripe's links expire (30 days after the due date or finalization, at most 120 days), but a
link read through the API lasts at least 10 days from that read
(docs.stripe.com/invoicing/hosted-invoice-page). So a link we read less than TRUSTED ago is
used as stored; an older one is read again, once, when the customer clicks: never on a page
view.
"""

from __future__ import annotations

from datetime import timedelta

import stripe

from app.billing.models import CachedInvoice
from app.billing.sync import sync_object
from app.clock import as_utc, utcnow

TRUSTED = timedelta(days=9)  # a day short of Stripe's ten, for clocks and slow clicks
PAGE, PDF = "page", "pdf"


class LinkUnavailable(Exception):
    """Stripe has no such link for this invoice (a draft), or could not be asked just now."""


def _stored(invoice: CachedInvoice, kind: str) -> str | None:
    return invoice.hosted_invoice_url if kind == PAGE else invoice.invoice_pdf


def current_link(client_for, invoice: CachedInvoice, kind: str) -> str:
    """The invoice's page or PDF link, read again from Stripe when ours may have expired.

    `client_for` makes the tenant's Stripe client only when a read is needed."""
    link = _stored(invoice, kind)
    if link and as_utc(invoice.synced_at) > utcnow() - TRUSTED:
        return link
    try:
        sync_object(client_for(), "invoice", invoice.stripe_id)
    except stripe.StripeError as exc:
        raise LinkUnavailable from exc
    link = _stored(invoice, kind)
    if not link:
        raise LinkUnavailable
    return link
