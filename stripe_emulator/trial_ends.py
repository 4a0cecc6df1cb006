"""A trial that ends without a payment method, and resuming a paused subscription.

docs.stripe.com/billing/subscriptions/trials/free-trials (and the subscription object's
``status``): with ``trial_settings[end_behavior][missing_payment_method]`` set to ``pause``, a
trial that ends while neither the subscription nor the customer has a default payment method
leaves the subscription ``paused``: no invoice, customer.subscription.paused; ``cancel`` cancels
it instead; ``create_invoice`` (the default) bills as usual. docs.stripe.com/api/subscriptions/
resume: ``POST /v1/subscriptions/{id}/resume`` (only when ``paused``; ``billing_cycle_anchor``
``now`` by default or ``unchanged``) starts a new period and invoices it at once: paid, the
subscription is ``active``; otherwise ``past_due``; customer.subscription.resumed is sent.

localstripe knew neither: trial_settings was accepted and ignored. A trial ends when the
merchant updates it with ``trial_end=now`` (the emulator has no clock to run a trial out).
"""

from __future__ import annotations

import time
from contextlib import suppress

from localstripe import resources
from localstripe.resources import Customer, Event, Subscription, UserError

from .routing import json_route
from .subscriptions import bad_request, in_trial

MISSING_PAYMENT_METHOD = ("cancel", "create_invoice", "pause")


def end_behavior_from(trial_settings) -> str:
    if trial_settings in (None, ""):
        return "create_invoice"
    behavior = ((trial_settings or {}).get("end_behavior") or {}).get("missing_payment_method")
    if behavior not in MISSING_PAYMENT_METHOD:
        raise bad_request(
            "trial_settings[end_behavior][missing_payment_method] must be one of "
            + ", ".join(MISSING_PAYMENT_METHOD)
        )
    return behavior


def has_payment_method(subscription) -> bool:
    """What Stripe would charge: the subscription's default, else the customer's."""
    if subscription.default_payment_method:
        return True
    customer = Customer._api_retrieve(subscription.customer)
    settings = customer.invoice_settings or {}
    return bool(settings.get("default_payment_method") or customer.default_source)


def _init_with_trial_settings(original):
    def init(self, *args, trial_settings=None, **kwargs):
        behavior = end_behavior_from(trial_settings)
        original(self, *args, **kwargs)
        self.trial_settings = {"end_behavior": {"missing_payment_method": behavior}}

    return init


def _update_ending_trial(original):
    def update(self, trial_end=None, **params):
        settings = getattr(self, "trial_settings", None) or {"end_behavior": {}}
        behavior = settings["end_behavior"].get("missing_payment_method", "create_invoice")
        ending = trial_end == "now" and in_trial(self)
        if not ending or behavior == "create_invoice" or has_payment_method(self):
            return original(self, trial_end=trial_end, **params)
        original(self, **params)
        now = int(time.time())
        self.trial_end = self.billing_cycle_anchor = now
        if behavior == "pause":
            self.status = "paused"
            resources.schedule_webhook(Event("customer.subscription.paused", self))
        else:
            self.status = "canceled"
            self.canceled_at = self.ended_at = now
            resources.schedule_webhook(Event("customer.subscription.deleted", self))

    return update


def resume_subscription(id, billing_cycle_anchor="now", proration_behavior=None, **params):
    """POST /v1/subscriptions/{id}/resume: a new period, invoiced and charged now."""
    if params:
        raise bad_request("Received unknown parameter: " + ", ".join(sorted(params)))
    if billing_cycle_anchor not in ("now", "unchanged"):
        raise bad_request("billing_cycle_anchor must be now or unchanged")
    subscription = Subscription._api_retrieve(id)
    if subscription.status != "paused":
        raise bad_request(f"Subscription {id} is not paused, so it cannot be resumed")
    before = subscription._export()
    if billing_cycle_anchor == "now":
        subscription.billing_cycle_anchor = int(time.time())
    subscription.status = "past_due"  # until the resumption invoice is paid
    # Paid: active (localstripe sets it). No card to charge: the invoice stays open and the
    # subscription past_due.
    with suppress(UserError):
        subscription._create_invoice()
    after = subscription._export()
    resources.schedule_webhook(Event("customer.subscription.resumed", subscription))
    updated = Event("customer.subscription.updated", subscription)
    updated.data["previous_attributes"] = {
        key: before.get(key) for key, value in after.items() if before.get(key) != value
    }
    resources.schedule_webhook(updated)
    return subscription


ROUTES = [("POST", "/v1/subscriptions/{id}/resume", json_route(resume_subscription))]


def install_trial_ends() -> None:
    """Trials end by trial_settings; paused subscriptions resume."""
    Subscription.__init__ = _init_with_trial_settings(Subscription.__init__)
    Subscription._update = _update_ending_trial(Subscription._update)
