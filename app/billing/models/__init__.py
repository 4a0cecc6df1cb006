"""Cached Stripe objects, one entity a module; imported here so Alembic and the app see them all."""

from app.billing.models.catalog import CachedPrice, CachedProduct
from app.billing.models.customers import CachedCustomer
from app.billing.models.invoices import CachedInvoice, UpcomingInvoice
from app.billing.models.payment_methods import CachedPaymentMethod
from app.billing.models.subscriptions import CachedSubscription, CachedSubscriptionItem
from app.billing.models.sync_state import SyncState

__all__ = [
    "CachedCustomer",
    "CachedInvoice",
    "CachedPaymentMethod",
    "CachedPrice",
    "CachedProduct",
    "CachedSubscription",
    "CachedSubscriptionItem",
    "SyncState",
    "UpcomingInvoice",
]
