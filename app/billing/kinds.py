"""The kinds of Stripe data the cache keeps, in one list.

Writing (upsert), reading back (fetch), copying an account (backfill, its progress) and
forgetting one all derive what they cover from KINDS: a new kind is one entry here, plus its
model and its mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from app.billing import mapping
from app.billing.models import (
    CachedCustomer,
    CachedInvoice,
    CachedPaymentMethod,
    CachedPrice,
    CachedProduct,
    CachedSubscription,
    CachedSubscriptionItem,
    CachedSubscriptionSchedule,
    UpcomingInvoice,
)
from app.billing.models.base import StripeCached


class Copy(Enum):
    """How a backfill copies a kind of an account's data."""

    # Listed account-wide, once per query of the kind (invoices: only those a customer can
    # still pay; each customer's history is read when that customer signs in).
    LISTED = "listed"
    # Expanded in another kind's list (a customer's or subscription's default card): no phase,
    # no request of its own. Cards that are nobody's default are read when their customer signs in.
    EXPANDED = "expanded"
    WITH_PARENT = "with parent"  # embedded in another kind's objects: no phase of its own
    # Read when the customer signs in (next-charge previews), never by a backfill: one request
    # a subscription is what a large account cannot afford for customers who never look.
    ON_SIGN_IN = "on sign-in"


@dataclass(frozen=True)
class Kind:
    """One kind of cached Stripe data, and how each part of the cache handles it."""

    # Stripe's `object` type for what Stripe serves by id; our own name otherwise. It also
    # names the backfill phase in the stored progress.
    name: str
    model: type[StripeCached]
    copy: Copy
    label: str = ""  # the backfill phase, as a person at a terminal reads it
    # Objects that events and actions fetch by id and write: their columns, and where they live
    # in the API (client.v1.<collection>, /v1/<collection>).
    columns: Callable[[dict], dict] | None = None
    collection: str | None = None
    # The lists a backfill makes of the kind, one per query (Stripe filters a list by one
    # status at a time).
    list_queries: tuple[Mapping[str, str], ...] = ({},)
    # Fields expanded when the kind is listed (a list says `expand[]=data.<field>`), whose
    # objects are then written as rows of their own (see expanded.py).
    list_expand: tuple[str, ...] = ()
    # Subscriptions come with their prices expanded so product names resolve without more reads.
    retrieve_expand: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        return f"/v1/{self.collection}"


# In backfill order, each kind after what it hangs on: the catalog first so subscriptions find
# their prices, customers before their subscriptions, invoices and cards.
KINDS: tuple[Kind, ...] = (
    Kind(
        "product",
        CachedProduct,
        Copy.LISTED,
        label="products",
        columns=mapping.product_columns,
        collection="products",
    ),
    Kind(
        "price",
        CachedPrice,
        Copy.LISTED,
        label="prices",
        columns=mapping.price_columns,
        collection="prices",
    ),
    Kind(
        "customer",
        CachedCustomer,
        Copy.LISTED,
        label="customers",
        columns=mapping.customer_columns,
        collection="customers",
        list_expand=("invoice_settings.default_payment_method",),
    ),
    Kind(
        "subscription",
        CachedSubscription,
        Copy.LISTED,
        label="subscriptions",
        columns=mapping.subscription_columns,
        collection="subscriptions",
        list_queries=({"status": "all"},),  # Stripe leaves canceled ones out unless asked
        list_expand=("default_payment_method",),
        retrieve_expand=("items.data.price",),
    ),
    Kind("subscription_item", CachedSubscriptionItem, Copy.WITH_PARENT),
    Kind(
        "subscription_schedule",
        CachedSubscriptionSchedule,
        Copy.LISTED,
        label="subscription schedules",
        columns=mapping.subscription_schedule_columns,
        collection="subscription_schedules",
        # Prices and products of each phase: a price made for a later phase may not be
        # cached yet. (A list cannot expand that deep: its phases name prices by id only.)
        retrieve_expand=("phases.items.price.product",),
    ),
    Kind(
        "invoice",
        CachedInvoice,
        Copy.LISTED,
        label="invoices to pay",
        columns=mapping.invoice_columns,
        collection="invoices",
        # Only what a customer can act on: open invoices and uncollectible ones (Stripe still
        # takes a payment for those). Listing every invoice would be a page per 100 invoices,
        # most of them the paid history of customers who never look; a customer's history is
        # read when the customer signs in (app.billing.invoice_history).
        list_queries=({"status": "open"}, {"status": "uncollectible"}),
    ),
    Kind(
        "payment_method",
        CachedPaymentMethod,
        Copy.EXPANDED,
        label="payment methods",
        columns=mapping.payment_method_columns,
        collection="payment_methods",
    ),
    Kind("upcoming", UpcomingInvoice, Copy.ON_SIGN_IN, label="upcoming invoices"),
)

BACKFILL_PHASES: tuple[Kind, ...] = tuple(k for k in KINDS if k.copy is Copy.LISTED)

# What events and actions fetch by id and write, by Stripe's `object` type. A plan is the
# legacy face of a price (old accounts, the emulator): the same row.
BY_OBJECT: dict[str, Kind] = {k.name: k for k in KINDS if k.columns is not None}
BY_OBJECT["plan"] = BY_OBJECT["price"]
