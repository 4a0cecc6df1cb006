"""Subscriptions: several items, prices, trials and per-item current periods."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from dateutil.relativedelta import relativedelta
from localstripe import resources
from localstripe.resources import (
    Customer,
    Event,
    Invoice,
    InvoiceLineItem,
    List,
    PaymentMethod,
    Plan,
    StripeObject,
    Subscription,
    SubscriptionItem,
    TaxRate,
    try_convert_to_bool,
    try_convert_to_float,
    try_convert_to_int,
)

from .invoice_collection import collection_terms
from .prices import items_with_plans
from .routing import stripe_error

DAY_SECONDS = 86400
# Accepted for API compatibility; the emulator does not model what they change.
IGNORED_CREATE_PARAMS = {
    "automatic_tax",
    "billing_cycle_anchor",
    "enable_incomplete_payments",
    "off_session",
    "payment_settings",
    "proration_behavior",
    "trial_from_plan",
    "trial_settings",
}


def bad_request(message: str):
    """A 400 invalid_request_error, as Stripe answers a bad parameter."""
    return stripe_error(400, message, code="parameter_invalid")


def reject_unknown(params: dict, ignored: set[str]) -> None:
    unknown = set(params) - ignored
    if unknown:
        raise bad_request("Received unknown parameter: " + ", ".join(sorted(unknown)))


def add_interval(start: int, plan) -> int:
    """One billing interval of `plan` after `start` (interval_count included)."""
    steps = plan.interval_count
    delta = {
        "day": relativedelta(days=steps),
        "week": relativedelta(weeks=steps),
        "month": relativedelta(months=steps),
        "year": relativedelta(years=steps),
    }[plan.interval]
    return int((datetime.fromtimestamp(start, tz=UTC) + delta).timestamp())


def item_spec(raw, current: SubscriptionItem | None = None) -> dict:
    """Validated SubscriptionItem arguments from one `items[]` entry (price already mapped)."""
    if not isinstance(raw, dict):
        raise bad_request("items[] entries must be objects")
    plan = raw.get("plan") or (current.plan.id if current else None)
    if not isinstance(plan, str):
        raise bad_request("items[][price] is required")
    Plan._api_retrieve(plan)  # 404 if it does not exist
    quantity = try_convert_to_int(raw.get("quantity", current.quantity if current else 1))
    if type(quantity) is not int or quantity < 0:  # 0 is allowed (pricing_models)
        raise bad_request("items[][quantity] must be a non-negative integer")
    tax_rates = raw.get("tax_rates")
    if tax_rates is None:
        tax_rates = [tr.id for tr in current.tax_rates] if current else []
    if not isinstance(tax_rates, list) or not all(isinstance(t, str) for t in tax_rates):
        raise bad_request("items[][tax_rates] must be a list of tax rate ids")
    for tax_rate in tax_rates:
        TaxRate._api_retrieve(tax_rate)
    metadata = raw.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise bad_request("items[][metadata] must be an object")
    if current is not None:
        metadata = {**current.metadata, **(metadata or {})}
    return {"plan": plan, "quantity": quantity, "tax_rates": tax_rates, "metadata": metadata}


def check_same_cycle(plan_ids: list[str]) -> None:
    plans = [Plan._api_retrieve(plan_id) for plan_id in plan_ids]
    if len({(p.interval, p.interval_count, p.currency) for p in plans}) > 1:
        raise bad_request("All prices on a subscription must share currency and billing interval")


def attached_payment_method(customer: str, payment_method) -> str | None:
    if payment_method in (None, ""):
        return None
    method = PaymentMethod._api_retrieve(payment_method)
    if method.customer != customer:
        raise bad_request(
            f"The customer does not have a payment method with the ID {payment_method}. "
            "The payment method must be attached to the customer."
        )
    return method.id


def trial_end_from(trial_end, trial_period_days) -> int | None:
    if trial_end is not None and trial_period_days is not None:
        raise bad_request("Pass either trial_end or trial_period_days, not both")
    if trial_end == "now":
        return None
    now = int(time.time())
    if trial_end is not None:
        trial_end = try_convert_to_int(trial_end)
        if type(trial_end) is not int or trial_end <= now:
            raise bad_request("trial_end must be a future Unix timestamp or 'now'")
        return trial_end
    days = try_convert_to_int(trial_period_days)
    if days is None:
        return None
    if type(days) is not int or days < 0:
        raise bad_request("trial_period_days must be a non-negative integer")
    return now + days * DAY_SECONDS if days else None


def _init_subscription(
    self,
    customer=None,
    items=None,
    metadata=None,
    description=None,
    default_payment_method=None,
    default_tax_rates=None,
    tax_percent=None,
    trial_end=None,
    trial_period_days=None,
    cancel_at_period_end=None,
    payment_behavior="allow_incomplete",
    backdate_start_date=None,
    plan=None,
    quantity=None,
    collection_method=None,
    days_until_due=None,
    **params,
):
    """Subscription.__init__ accepting several items, prices, trials and a payment method."""
    reject_unknown(params, IGNORED_CREATE_PARAMS)
    if items is None and plan is not None:  # legacy single-plan form
        items = [{"plan": plan, "quantity": quantity or 1}]
    if not (isinstance(customer, str) and customer.startswith("cus_")):
        raise bad_request("customer is required")
    Customer._api_retrieve(customer)
    if not isinstance(items, list) or not items:
        raise bad_request("items is required")
    specs = [item_spec(item) for item in items_with_plans(items)]
    check_same_cycle([spec["plan"] for spec in specs])
    trial_end = trial_end_from(trial_end, trial_period_days)
    default_payment_method = attached_payment_method(customer, default_payment_method)
    if payment_behavior not in ("allow_incomplete", "error_if_incomplete"):
        raise bad_request(f"payment_behavior={payment_behavior} is not emulated")
    if default_tax_rates is not None:
        default_tax_rates = [TaxRate._api_retrieve(tr) for tr in default_tax_rates]
    backdate_start_date = try_convert_to_int(backdate_start_date)
    collection_method, days_until_due = collection_terms(collection_method, days_until_due)

    # All validation is done: from here on the subscription exists.
    StripeObject.__init__(self)
    now = int(time.time())
    self.customer = customer
    self.metadata = metadata or {}
    self.description = description
    self.default_payment_method = default_payment_method
    self.default_tax_rates = default_tax_rates
    self.tax_percent = try_convert_to_float(tax_percent)
    self.application_fee_percent = None
    self.collection_method = collection_method
    self.days_until_due = days_until_due
    self.cancel_at_period_end = False
    self.cancel_at = None
    self.canceled_at = None
    self.discount = None
    self.ended_at = None
    self.latest_invoice = None
    self.status = "incomplete"
    self.start_date = backdate_start_date or now
    self.trial_start = now if trial_end else None
    self.trial_end = trial_end
    self.trial_period_days = try_convert_to_int(trial_period_days)
    self.billing_cycle_anchor = trial_end or self.start_date
    self._enable_incomplete_payments = payment_behavior != "error_if_incomplete"
    self.items = List("/v1/subscription_items?subscription=" + self.id)
    self.items._list = [SubscriptionItem(subscription=self.id, **spec) for spec in specs]
    self.quantity = specs[0]["quantity"] if len(specs) == 1 else None

    if trial_end:
        self.status = "trialing"
        _create_trial_invoice(self)
    else:
        self._create_invoice()
    if try_convert_to_bool(cancel_at_period_end) is True:
        set_cancel_at_period_end(self, True)
    resources.schedule_webhook(Event("customer.subscription.created", self))


def in_trial(subscription) -> bool:
    return bool(subscription.trial_end) and time.time() < subscription.trial_end


def _create_trial_invoice(self) -> None:
    """Stripe bills a trial's first period with a paid invoice for 0."""
    self._invoicing_trial = True
    try:
        invoice = Invoice(
            customer=self.customer,
            subscription=self.id,
            items=list(self.items._list),
            tax_percent=self.tax_percent,
            default_tax_rates=[tr.id for tr in (self.default_tax_rates or [])],
            date=self.start_date,
        )
    finally:
        self._invoicing_trial = False
    invoice._finalize()
    if invoice.status == "paid":
        invoice._on_payment_success()
    else:  # pending invoice items still get charged, as on Stripe
        Invoice._api_pay_invoice(invoice.id)


def _on_initial_payment_success(self, invoice) -> None:
    self.status = "trialing" if in_trial(self) else "active"


def set_cancel_at_period_end(subscription, cancel: bool) -> None:
    """Stripe also sets cancel_at (the period end) and canceled_at (now) while cancelling."""
    subscription.cancel_at_period_end = cancel
    subscription.cancel_at = subscription.current_period_end if cancel else None
    subscription.canceled_at = int(time.time()) if cancel else None


def _api_delete_now(cls, id):
    subscription = cls._api_retrieve(id)
    if subscription.status == "canceled":
        raise bad_request(f"Subscription {id} is already canceled")
    subscription.canceled_at = subscription.ended_at = int(time.time())
    subscription.status = "canceled"
    resources.schedule_webhook(Event("customer.subscription.deleted", subscription))
    return subscription


def _item_current_period(self) -> dict:
    """The period an item bills for: the trial, else one interval from the cycle anchor."""
    subscription = resources.store.get("subscription:" + (self._subscription or ""))
    if subscription is None:  # items of a preview invoice
        start = int(time.time())
    elif in_trial(subscription):
        return {"start": subscription.trial_start, "end": subscription.trial_end}
    else:
        start = subscription.billing_cycle_anchor
    return {"start": start, "end": add_interval(start, self.plan)}


def _trial_aware_line_init(original):
    def init(self, item):
        original(self, item)
        subscription = resources.store.get("subscription:" + (self.subscription or ""))
        if self.type == "subscription" and getattr(subscription, "_invoicing_trial", False):
            self.amount = 0
            self.description = f"Trial period for {item.plan.name}"

    return init


def _list_items(cls, url, subscription=None, limit=None, starting_after=None, **params):
    """GET /v1/subscription_items?subscription=sub_...: one subscription's items, paged."""
    reject_unknown(params, set())
    if not isinstance(subscription, str) or not subscription.startswith("sub_"):
        raise bad_request("subscription is required")
    items = List(url, limit=limit, starting_after=starting_after)
    items._list = list(Subscription._api_retrieve(subscription).items._list)
    return items


def install_subscriptions() -> None:
    """Several items, `current_period_*` on items, trials, item lists.

    A subscription embeds only its first 10 items (`items.has_more`, as at Stripe), but
    localstripe could not list the rest: `GET /v1/subscription_items?subscription=` now pages
    through one subscription's items.

    localstripe refuses subscriptions with more than one item ("Not implemented"), leaves a
    trial `incomplete` with no invoice, and has no `current_period_*` on items (nor honours
    interval_count). Creation now takes N items (`items[].price` too, one billing interval),
    `trial_period_days` / `trial_end` (status `trialing`, a paid invoice for 0), and a
    `default_payment_method` that must be attached to the customer. Items report the
    subscription's current period: the trial while it lasts, else one interval from the
    billing cycle anchor.
    """
    Subscription.__init__ = _init_subscription
    SubscriptionItem._api_list_all = classmethod(_list_items)
    Subscription._api_delete = classmethod(_api_delete_now)
    Subscription._on_initial_payment_success = _on_initial_payment_success
    SubscriptionItem._current_period = _item_current_period
    SubscriptionItem.current_period_start = property(lambda self: self._current_period()["start"])
    SubscriptionItem.current_period_end = property(lambda self: self._current_period()["end"])
    SubscriptionItem.subscription = property(lambda self: self._subscription)
    InvoiceLineItem.__init__ = _trial_aware_line_init(InvoiceLineItem.__init__)
