"""Write Stripe objects into the cache: the one entry point is apply_stripe_object()."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, delete, select

from app.billing import mapping
from app.billing.kinds import BY_OBJECT
from app.billing.locks import locking_first
from app.billing.models import CachedPrice, CachedProduct, CachedSubscriptionItem
from app.clock import from_timestamp
from app.extensions import db
from tenants.context import current_tenant_id

LOOK_UP = object()  # "find the cached row yourself" (callers that already have it pass it)


@cache
def _by_stripe_id(model):
    return select(model).where(model.stripe_id == bindparam("stripe_id"))


def cached_row(model, stripe_id: str):
    """The current tenant's cached row of one Stripe object, or None (a hot path: the
    statement is built once per model)."""
    return db.session.scalars(_by_stripe_id(model), {"stripe_id": stripe_id}).one_or_none()


def locked_cached_row(model, stripe_id: str):
    """cached_row, read under the object's lock (locks.locking_first), taken in the same round
    trip as the read."""
    options = locking_first(current_tenant_id(), stripe_id)
    return db.session.scalars(
        _by_stripe_id(model), {"stripe_id": stripe_id}, execution_options=options
    ).one_or_none()


def cached_rows(model, stripe_ids: list[str]) -> dict:
    """The cached rows among `stripe_ids`, by Stripe id, in one query."""
    if not stripe_ids:
        return {}
    rows = db.session.scalars(select(model).where(model.stripe_id.in_(stripe_ids)))
    return {row.stripe_id: row for row in rows}


def write_cached_row(
    model, stripe_id: str, columns: dict, data: dict, synced_at: datetime, row=LOOK_UP
):
    if row is LOOK_UP:
        # Writers of one object take turns (actions, webhooks, backfill): without the lock two
        # of them could both find no row and both insert it. A caller that passes `row` (even
        # None) has already read it under that lock (sync_object, backfill) or under its
        # parent's (a subscription's items): locking and reading again would be waste.
        row = locked_cached_row(model, stripe_id)
    if row is None:
        row = model(stripe_id=stripe_id)
        db.session.add(row)
    for key, value in columns.items():
        setattr(row, key, value)
    row.data = data
    row.livemode = bool(data.get("livemode"))
    row.deleted = bool(data.get("deleted"))
    row.stripe_created = from_timestamp(data.get("created")) or row.stripe_created
    row.synced_at = synced_at
    return row


def apply_stripe_object(obj: dict, synced_at: datetime, row=LOOK_UP):
    """Upsert one Stripe object (and what hangs on it) into the current tenant's cache.

    `row`: the object's cached row (or None), when the caller has read it under the object's
    lock; by default the lock is taken and the row read here.
    """
    kind = obj.get("object")
    if kind not in BY_OBJECT:
        raise ValueError(f"no cache for Stripe objects of type {kind!r}")
    if obj.get("deleted"):
        return mark_deleted(kind, obj["id"], synced_at)
    cached = BY_OBJECT[kind]
    row = write_cached_row(cached.model, obj["id"], cached.columns(obj), obj, synced_at, row)
    if kind == "subscription":
        _write_items(obj, synced_at)
    if kind == "subscription_schedule":
        _name_phase_items(row)
    return row


def _name_phase_items(schedule) -> None:
    """Phase items whose price came as an id only (a listed schedule): their prices and
    product names from the cached catalog, in one query."""
    unnamed = {
        item["price"]
        for phase in schedule.phases
        for item in phase["items"]
        if item.get("product") is None and item.get("price")
    }
    if not unnamed:
        return
    found = {
        price.stripe_id: (price, product)
        for price, product in db.session.execute(
            select(CachedPrice, CachedProduct)
            .outerjoin(CachedProduct, CachedProduct.stripe_id == CachedPrice.product_id)
            .where(CachedPrice.stripe_id.in_(unnamed))
        )
    }
    phases = []
    for phase in schedule.phases:
        items = []
        for item in phase["items"]:
            price, product = found.get(item.get("price"), (None, None))
            if item.get("product") is None and price is not None:
                decimal = price.unit_amount_decimal
                item = {
                    **item,
                    "product": product.name if product else None,
                    "nickname": price.nickname,
                    "unit_amount": price.unit_amount,
                    "currency": price.currency,
                    "recurring_interval": price.recurring_interval,
                    "recurring_interval_count": price.recurring_interval_count,
                    "billing_scheme": price.billing_scheme,
                    "usage_type": price.usage_type,
                    "unit_amount_decimal": str(decimal) if decimal is not None else None,
                }
            items.append(item)
        phases.append({**phase, "items": items})
    schedule.phases = phases


def _write_items(subscription: dict, synced_at: datetime) -> None:
    items = mapping.subscription_items(subscription)
    keep = [item["id"] for item in items]
    existing = cached_rows(CachedSubscriptionItem, keep)
    for item in items:
        write_cached_row(
            CachedSubscriptionItem,
            item["id"],
            mapping.subscription_item_columns(item, subscription),
            item,
            synced_at,
            existing.get(item["id"]),
        )
    if (subscription.get("items") or {}).get("has_more"):
        return  # a partial list (see fetch.with_all_items): absent items are not gone
    # Items removed from the subscription at Stripe are removed here too.
    db.session.execute(
        delete(CachedSubscriptionItem)
        .where(CachedSubscriptionItem.subscription_id == subscription["id"])
        .where(CachedSubscriptionItem.stripe_id.not_in(keep))
        .execution_options(synchronize_session=False)
    )


def mark_deleted(kind: str, stripe_id: str, synced_at: datetime):
    """Stripe says the object is gone: keep the row for history, flagged deleted."""
    row = cached_row(BY_OBJECT[kind].model, stripe_id)
    if row is None:
        return None
    row.deleted = True
    row.synced_at = synced_at
    if kind == "payment_method":
        row.customer_id = None
    return row
