"""Stripe object (as a dict) -> the columns our pages query. Pure functions, no I/O."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from app.clock import from_timestamp


def stripe_id_of(value) -> str | None:
    """An expandable field: an id string, or an expanded object with an id (a plain dict, or a
    StripeObject as stripe-python returns it)."""
    if isinstance(value, dict):
        return value.get("id")
    if value is None or isinstance(value, str):
        return value
    return getattr(value, "id", None)


def customer_columns(obj: dict) -> dict:
    email = obj.get("email")
    settings = obj.get("invoice_settings") or {}
    default_pm = stripe_id_of(settings.get("default_payment_method")) or stripe_id_of(
        obj.get("default_source")
    )
    return {
        "email": email,
        "email_normalized": email.strip().lower() if email else None,
        "name": obj.get("name"),
        "currency": obj.get("currency"),
        "default_payment_method_id": default_pm,
        "has_discount": bool(obj.get("discount")),
    }


def product_columns(obj: dict) -> dict:
    return {"name": obj.get("name"), "active": bool(obj.get("active", True))}


def price_columns(obj: dict) -> dict:
    recurring = obj.get("recurring") or {}
    # Legacy plans (localstripe, old accounts) carry amount/interval at the top level.
    return {
        "product_id": stripe_id_of(obj.get("product")),
        "nickname": obj.get("nickname"),
        "unit_amount": obj.get("unit_amount", obj.get("amount")),
        "currency": obj.get("currency"),
        "recurring_interval": recurring.get("interval", obj.get("interval")),
        "recurring_interval_count": recurring.get("interval_count", obj.get("interval_count")),
        "active": bool(obj.get("active", True)),
        "billing_scheme": obj.get("billing_scheme") or "per_unit",
        "tiers_mode": obj.get("tiers_mode"),
        "usage_type": recurring.get("usage_type", obj.get("usage_type")) or "licensed",
        "unit_amount_decimal": _decimal(obj.get("unit_amount_decimal")),
    }


def _decimal(value) -> Decimal | None:
    """A decimal string as Stripe sends it ("0.5"), or None."""
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def subscription_item_columns(item: dict, subscription: dict) -> dict:
    price = item.get("price") or item.get("plan") or {}
    # Today's API keeps the billing period on each item; older payloads had it on the subscription.
    return {
        "subscription_id": subscription["id"],
        "price_id": stripe_id_of(price),
        "product_id": stripe_id_of(price.get("product")) if isinstance(price, dict) else None,
        # 0 is a quantity; a metered item has none (it bills usage).
        "quantity": 1 if item.get("quantity") is None else item["quantity"],
        "current_period_start": from_timestamp(
            item.get("current_period_start") or subscription.get("current_period_start")
        ),
        "current_period_end": from_timestamp(
            item.get("current_period_end") or subscription.get("current_period_end")
        ),
    }


def subscription_items(obj: dict) -> list[dict]:
    return ((obj.get("items") or {}).get("data")) or []


def subscription_columns(obj: dict) -> dict:
    item_ends = [
        i.get("current_period_end") for i in subscription_items(obj) if i.get("current_period_end")
    ]
    period_end = min(item_ends) if item_ends else obj.get("current_period_end")
    paused = obj.get("pause_collection") or {}
    return {
        "customer_id": stripe_id_of(obj.get("customer")),
        "status": obj.get("status") or "unknown",
        "cancel_at_period_end": bool(obj.get("cancel_at_period_end")),
        "cancel_at": from_timestamp(obj.get("cancel_at")),
        "canceled_at": from_timestamp(obj.get("canceled_at")),
        "trial_end": from_timestamp(obj.get("trial_end")),
        "current_period_end": from_timestamp(period_end),
        "default_payment_method_id": stripe_id_of(obj.get("default_payment_method")),
        "currency": obj.get("currency"),
        "pause_behavior": paused.get("behavior"),
        "pause_resumes_at": from_timestamp(paused.get("resumes_at")),
        "schedule_id": stripe_id_of(obj.get("schedule")),
        "collection_method": obj.get("collection_method"),
        "days_until_due": obj.get("days_until_due"),
        "has_discount": _discounted(obj),
        "adds_tax": bool((obj.get("automatic_tax") or {}).get("enabled"))
        or bool(obj.get("default_tax_rates"))
        or any(item.get("tax_rates") for item in subscription_items(obj)),
    }


def _discounted(subscription: dict) -> bool:
    """Today's API lists discounts (ids) on the subscription and on each item; older versions
    had one `discount` object on the subscription."""
    return (
        bool(subscription.get("discounts"))
        or bool(subscription.get("discount"))
        or any(item.get("discounts") for item in subscription_items(subscription))
    )


def invoice_columns(obj: dict) -> dict:
    parent = (obj.get("parent") or {}).get("subscription_details") or {}
    # Today's API moved the subscription under parent.subscription_details.
    subscription = stripe_id_of(parent.get("subscription")) or stripe_id_of(obj.get("subscription"))
    return {
        "customer_id": stripe_id_of(obj.get("customer")),
        "subscription_id": subscription,
        "number": obj.get("number"),
        "status": obj.get("status"),
        "currency": obj.get("currency"),
        "total": obj.get("total") or 0,
        "amount_due": obj.get("amount_due") or 0,
        "amount_paid": obj.get("amount_paid") or 0,
        "amount_remaining": obj.get("amount_remaining", obj.get("amount_due")) or 0,
        "due_date": from_timestamp(obj.get("due_date")),
        "period_end": from_timestamp(obj.get("period_end")),
        "hosted_invoice_url": obj.get("hosted_invoice_url"),
        "invoice_pdf": obj.get("invoice_pdf"),
    }


def payment_method_columns(obj: dict) -> dict:
    card = obj.get("card") or {}
    kind = obj.get("type") or "card"
    # Each type keeps its details under its own key: a bank debit's last4 (sepa_debit,
    # us_bank_account...), a bank account's bank_name, a Link account's email.
    details = obj.get(kind) or {}
    return {
        "customer_id": stripe_id_of(obj.get("customer")),
        "type": kind,
        "brand": (card.get("brand") or "").lower() or None,
        "last4": details.get("last4"),
        "exp_month": card.get("exp_month"),
        "exp_year": card.get("exp_year"),
        "bank_name": (details.get("bank_name") or "")[:100] or None,
        "email": details.get("email"),
    }


def upcoming_invoice_columns(preview: dict, subscription: dict) -> dict:
    next_at = preview.get("next_payment_attempt") or preview.get("period_end")
    return {
        "customer_id": stripe_id_of(subscription.get("customer")),
        "currency": preview.get("currency"),
        "amount_due": preview.get("amount_due") or 0,
        "next_payment_at": from_timestamp(next_at),
    }


def subscription_schedule_columns(obj: dict) -> dict:
    phases = obj.get("phases") or []
    ends = [phase.get("end_date") for phase in phases if phase.get("end_date")]
    return {
        "subscription_id": stripe_id_of(obj.get("subscription")),
        "status": obj.get("status") or "unknown",
        "end_behavior": obj.get("end_behavior") or "release",
        "last_phase_end": from_timestamp(max(ends)) if ends else None,
        "phases": [
            {
                "start": phase.get("start_date"),
                "end": phase.get("end_date"),
                "items": [_phase_item(item) for item in phase.get("items") or []],
            }
            for phase in phases
        ],
    }


def _phase_item(item: dict) -> dict:
    """A phase's item with what its price says when expanded (else only the price's id)."""
    price = item.get("price")
    details = price_columns(price) if isinstance(price, dict) else {}
    product = price.get("product") if isinstance(price, dict) else None
    decimal = details.get("unit_amount_decimal")
    return {
        "price": stripe_id_of(price),
        "product": product.get("name") if isinstance(product, dict) else None,
        "product_id": stripe_id_of(product),
        "quantity": 1 if item.get("quantity") is None else item["quantity"],
        **{
            key: details.get(key)
            for key in (
                "nickname",
                "unit_amount",
                "currency",
                "recurring_interval",
                "recurring_interval_count",
                "billing_scheme",
                "usage_type",
            )
        },
        "unit_amount_decimal": str(decimal) if decimal is not None else None,
    }
