"""The Stripe statuses Billfold reads, named once (labels for people: app.portal.formatting)."""

from __future__ import annotations

from enum import StrEnum


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    TRIALING = "trialing"
    PAST_DUE = "past_due"
    UNPAID = "unpaid"
    CANCELED = "canceled"
    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    PAUSED = "paused"


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    UNCOLLECTIBLE = "uncollectible"
    VOID = "void"


# Statuses in which Stripe will charge the subscription again: it has a next invoice, and a
# customer may cancel it (or take back a cancellation). Plain strings, as the database holds them.
RENEWING_STATUSES = frozenset(
    s.value
    for s in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE)
)

# Statuses in which Stripe may still charge the subscription's own payment method: renewals and
# retries, an incomplete subscription's first invoice, an unpaid one's open invoices, a paused
# one once it resumes. A card the customer replaces must be set on each of them.
CHARGING_STATUSES = RENEWING_STATUSES | frozenset(
    s.value
    for s in (SubscriptionStatus.UNPAID, SubscriptionStatus.INCOMPLETE, SubscriptionStatus.PAUSED)
)
