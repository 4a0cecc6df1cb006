"""Put Stripe-shaped objects straight into a tenant's cache, for tests of what a page shows.

The objects go through the same mapping as Stripe's (apply_stripe_object), so a page test reads
the rows a webhook would have written, without an emulator round trip for each state.
"""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime

from app.billing.upcoming import store_preview
from app.billing.upsert import apply_stripe_object
from app.extensions import db
from tenants.context import tenant_context

_sequence = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_test{next(_sequence):06d}"


def cache(tenant_id: int, *objects: dict) -> None:
    """Write each object into the tenant's cache and commit."""
    with tenant_context(tenant_id):
        for obj in objects:
            apply_stripe_object(obj, datetime.now(UTC))
        db.session.commit()


def cache_preview(tenant_id: int, subscription: dict, preview: dict | None) -> None:
    with tenant_context(tenant_id):
        store_preview(subscription, preview, datetime.now(UTC))
        db.session.commit()


def invoice(customer: str, *, total: int, currency: str = "usd", status: str = "paid", **extra):
    paid = total if status == "paid" else 0
    return {
        "id": new_id("in"),
        "object": "invoice",
        "customer": customer,
        "number": f"T-{next(_sequence):04d}",
        "status": status,
        "currency": currency,
        "total": total,
        "amount_due": total,
        "amount_paid": paid,
        "amount_remaining": total - paid,
        "created": extra.pop("created", int(time.time())),
        **extra,
    }


def price(*, unit_amount: int | None = 1000, currency: str = "usd", interval="month", **extra):
    return {
        "id": new_id("price"),
        "object": "price",
        "currency": currency,
        "unit_amount": unit_amount,
        "recurring": {"interval": interval, "interval_count": 1} if interval else None,
        "product": extra.pop("product", None),
        "nickname": extra.pop("nickname", "Plan"),
        "created": int(time.time()),
        **extra,
    }


def subscription(customer: str, prices: list[dict], *, quantities=None, **extra) -> dict:
    """A subscription of `prices` (cache the prices too), one item each, renewing in 30 days."""
    now = int(time.time())
    period_end = extra.pop("current_period_end", now + 30 * 86400)
    sub_id = extra.pop("id", None) or new_id("sub")
    quantities = quantities or [1] * len(prices)
    items = [
        {
            "id": new_id("si"),
            "object": "subscription_item",
            "price": p,
            "quantity": q,
            "current_period_start": now - 86400,
            "current_period_end": period_end,
            "created": now,
        }
        for p, q in zip(prices, quantities, strict=True)
    ]
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": "active",
        "currency": prices[0]["currency"] if prices else "usd",
        "cancel_at_period_end": False,
        "cancel_at": None,
        "canceled_at": None,
        "created": now,
        "items": {"object": "list", "data": items, "has_more": False},
        **extra,
    }


def payment_method(customer: str, kind: str, **details) -> dict:
    return {
        "id": new_id("pm"),
        "object": "payment_method",
        "type": kind,
        "customer": customer,
        kind: details,
        "created": int(time.time()),
    }
