"""Subscription updates: items by id (change / delete / add), prorations, updated events."""

from __future__ import annotations

import time

from localstripe import resources
from localstripe.resources import (
    Event,
    Invoice,
    InvoiceItem,
    Plan,
    Subscription,
    SubscriptionItem,
    TaxRate,
    try_convert_to_bool,
    try_convert_to_float,
    try_convert_to_int,
)

from .prices import items_with_plans
from .subscriptions import (
    attached_payment_method,
    bad_request,
    check_same_cycle,
    in_trial,
    item_spec,
    reject_unknown,
    set_cancel_at_period_end,
    trial_end_from,
)

# Accepted for API compatibility; the emulator does not model what they change.
IGNORED_UPDATE_PARAMS = {
    "automatic_tax",
    "enable_incomplete_payments",
    "off_session",
    "payment_behavior",
    "payment_settings",
    "prorate",
    "proration_date",
}
PRORATION_BEHAVIORS = ("create_prorations", "none", "always_invoice")


def _plan_item_changes(subscription, items) -> tuple[dict, list]:
    """Validate `items` on update: {item id: spec or None (deleted)} and specs to add."""
    if not isinstance(items, list):
        raise bad_request("items must be a list")
    current = {item.id: item for item in subscription.items._list}
    updates: dict[str, dict | None] = {}
    additions: list[dict] = []
    for raw in items_with_plans(items):
        item_id = raw.get("id") if isinstance(raw, dict) else None
        if item_id is None:
            additions.append(item_spec(raw))
        elif item_id not in current:
            raise bad_request(
                f"Subscription item {item_id} is not part of subscription {subscription.id}"
            )
        elif try_convert_to_bool(raw.get("deleted")) is True:
            updates[item_id] = None
        else:
            updates[item_id] = item_spec(raw, current[item_id])
    remaining = [spec["plan"] for spec in updates.values() if spec] + [
        item.plan.id for item in subscription.items._list if item.id not in updates
    ]
    remaining += [spec["plan"] for spec in additions]
    if not remaining:
        raise bad_request("A subscription must keep at least one item")
    check_same_cycle(remaining)
    return updates, additions


def _proration_fraction(period: dict) -> float:
    length = max(1, period["end"] - period["start"])
    return min(1.0, max(0.0, (period["end"] - time.time()) / length))


def _proration_item(subscription, amount: int, description: str, plan, period_end: int):
    InvoiceItem(
        amount=amount,
        currency=plan.currency,
        customer=subscription.customer,
        subscription=subscription.id,
        plan=plan.id,
        proration=True,
        description=description,
        period_start=int(time.time()),
        period_end=period_end,
    )


def _prorate(subscription, old_amounts: dict, period: dict, changed_only: bool = True) -> None:
    """Pending invoice items crediting unused time and, within a cycle, charging the rest."""
    fraction = _proration_fraction(period)
    new_items = {item.id: item for item in subscription.items._list}
    for item_id, (old_plan, old_quantity, old_amount) in old_amounts.items():
        item = new_items.get(item_id)
        if changed_only and item and (item.plan, item.quantity) == (old_plan, old_quantity):
            continue
        credit = -round(old_amount * fraction)
        _proration_item(
            subscription, credit, f"Unused time on {old_plan.name}", old_plan, period["end"]
        )
    if not changed_only:  # a new cycle bills the new items in full on its own invoice
        return
    for item_id, item in new_items.items():
        old_plan, old_quantity, _ = old_amounts.get(item_id, (None, 0, 0))
        if (item.plan, item.quantity) != (old_plan, old_quantity):
            charge = round(item._calculate_amount() * fraction)
            description = f"Remaining time on {item.plan.name}"
            _proration_item(subscription, charge, description, item.plan, period["end"])


def _invoice_now(subscription) -> None:
    invoice = Invoice(
        customer=subscription.customer, subscription=subscription.id, date=int(time.time())
    )
    invoice._finalize()
    if invoice.status == "paid":
        invoice._on_payment_success()
    else:
        Invoice._api_pay_invoice(invoice.id)


def _apply_item_changes(subscription, updates: dict, additions: list, proration_behavior):
    old_amounts = {
        item.id: (item.plan, item.quantity, item._calculate_amount())
        for item in subscription.items._list
    }
    first = subscription.items._list[0]
    old_period = first._current_period()
    old_cycle = (first.plan.interval, first.plan.interval_count)
    kept = []
    for item in subscription.items._list:
        spec = updates.get(item.id, {})
        if spec is None:
            continue
        if spec:
            item.plan = Plan._api_retrieve(spec["plan"])
            item.quantity = spec["quantity"]
            item.tax_rates = [TaxRate._api_retrieve(tr) for tr in spec["tax_rates"]]
            item.metadata = spec["metadata"] or {}
        kept.append(item)
    kept += [SubscriptionItem(subscription=subscription.id, **spec) for spec in additions]
    subscription.items._list = kept
    subscription.quantity = kept[0].quantity if len(kept) == 1 else None

    if subscription.status == "trialing" or proration_behavior == "none":
        return
    new_cycle = (kept[0].plan.interval, kept[0].plan.interval_count)
    if new_cycle != old_cycle:  # a new billing interval restarts the cycle and bills now
        _prorate(subscription, old_amounts, old_period, changed_only=False)
        subscription.billing_cycle_anchor = int(time.time())
        subscription._create_invoice()
        return
    _prorate(subscription, old_amounts, old_period)
    if proration_behavior == "always_invoice":
        _invoice_now(subscription)


def _update_subscription(
    self,
    metadata=None,
    items=None,
    description=None,
    default_payment_method=None,
    default_tax_rates=None,
    tax_percent=None,
    cancel_at_period_end=None,
    cancel_at=None,
    cancellation_details=None,
    trial_end=None,
    proration_behavior=None,
    plan=None,
    quantity=None,
    **params,
):
    """Subscription._update with item ids (update / delete / add), several items and prices."""
    reject_unknown(params, IGNORED_UPDATE_PARAMS)
    billing_changes = (items, plan, default_payment_method, cancel_at_period_end, trial_end)
    ended = self.status in ("canceled", "incomplete_expired")
    if ended and any(value is not None for value in billing_changes):
        raise bad_request("A canceled subscription can only update its metadata")
    if items is None and plan is not None:  # legacy single-plan form
        items = [{"id": self.items._list[0].id, "plan": plan, "quantity": quantity or 1}]
    changes = _plan_item_changes(self, items) if items is not None else None
    if proration_behavior is not None and proration_behavior not in PRORATION_BEHAVIORS:
        raise bad_request("proration_behavior must be one of " + ", ".join(PRORATION_BEHAVIORS))
    cancel_at_period_end = try_convert_to_bool(cancel_at_period_end)
    if cancel_at_period_end not in (None, True, False):
        raise bad_request("cancel_at_period_end must be a boolean")
    clear_payment_method = default_payment_method == ""
    if default_payment_method is not None:
        default_payment_method = attached_payment_method(self.customer, default_payment_method)
    if metadata is not None and not isinstance(metadata, dict | str):
        raise bad_request("metadata must be an object")
    if default_tax_rates is not None:
        default_tax_rates = [TaxRate._api_retrieve(tr) for tr in default_tax_rates or []]

    if isinstance(metadata, dict):  # Stripe: an empty value deletes the key
        merged = {**self.metadata, **metadata}
        self.metadata = {k: v for k, v in merged.items() if v != ""}
    elif metadata == "":
        self.metadata = {}
    if description is not None:
        self.description = description or None
    if default_payment_method or clear_payment_method:
        self.default_payment_method = default_payment_method
    if default_tax_rates is not None:
        self.default_tax_rates = default_tax_rates or None
    if tax_percent is not None:
        self.tax_percent = try_convert_to_float(tax_percent)
    if cancel_at_period_end is not None:
        set_cancel_at_period_end(self, cancel_at_period_end)
    if cancellation_details is not None:  # the customer's words, kept for the merchant
        if not isinstance(cancellation_details, dict):
            raise bad_request("cancellation_details must be an object")
        self.cancellation_details = {
            "comment": cancellation_details.get("comment") or None,
            "feedback": cancellation_details.get("feedback") or None,
            "reason": "cancellation_requested",
        }
    if cancel_at is not None:
        self.cancel_at = try_convert_to_int(cancel_at) or None
    if trial_end == "now" and in_trial(self):  # end the trial: bill the first period now
        self.trial_end = self.billing_cycle_anchor = int(time.time())
        self.status = "active"
        self._create_invoice()
    elif trial_end not in (None, "now"):
        self.trial_end = self.billing_cycle_anchor = trial_end_from(trial_end, None)
        self.status = "trialing"
    if changes is not None:
        _apply_item_changes(self, *changes, proration_behavior)


def _api_update_with_event(cls, id, **data):
    """Emit customer.subscription.updated with data.previous_attributes, as Stripe does."""
    subscription = cls._api_retrieve(id)
    before = subscription._export()
    subscription._update(**data)
    after = subscription._export()
    previous = {key: before.get(key) for key, value in after.items() if before.get(key) != value}
    if previous:
        event = Event("customer.subscription.updated", subscription)
        event.data["previous_attributes"] = previous
        resources.schedule_webhook(event)
    return subscription


def install_subscription_updates() -> None:
    """Update events, and updates of several items (periods and trials kept per item).

    localstripe emits no customer.subscription.updated (so cancel / reactivate are silent),
    refuses updates naming more than one item and replaces *all* items with the one given.
    Updates now follow Stripe: `items[]` with an `id` changes (price / quantity) or deletes
    (`deleted=true`) that item, without an id adds one, other items stay; prorations are
    pending invoice items (`proration_behavior`: create_prorations, always_invoice, none);
    `default_payment_method`, `cancel_at_period_end`, `cancellation_details`, `trial_end` and
    metadata update too.
    Every effective change emits customer.subscription.updated with data.previous_attributes.
    """
    Subscription._update = _update_subscription
    Subscription._api_update = classmethod(_api_update_with_event)
