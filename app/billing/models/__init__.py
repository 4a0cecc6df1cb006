"""Cached Stripe objects and the event log, one entity a module, all imported here for Alembic."""

from app.billing.models.catalog import CachedPrice, CachedProduct
from app.billing.models.customers import CachedCustomer
from app.billing.models.events import StripeEvent
from app.billing.models.invoices import CachedInvoice, UpcomingInvoice
from app.billing.models.payment_methods import CachedPaymentMethod
from app.billing.models.subscriptions import (
    CachedSubscription,
    CachedSubscriptionItem,
    CachedSubscriptionSchedule,
)
from app.billing.models.sync_state import SyncState

__all__ = [
    "CachedCustomer",
    "CachedInvoice",
    "CachedPaymentMethod",
    "CachedPrice",
    "CachedProduct",
    "CachedSubscription",
    "CachedSubscriptionItem",
    "CachedSubscriptionSchedule",
    "StripeEvent",
    "SyncState",
    "UpcomingInvoice",
]
