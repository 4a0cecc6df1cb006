"""Subscription schedules: planned phases of a subscription, released or canceled.

docs.stripe.com/billing/subscriptions/subscription-schedules and docs.stripe.com/api/
subscription_schedules: a schedule made ``from_subscription`` takes over the subscription
(``subscription.schedule`` names it) with one phase mirroring it; an update replaces
``phases`` (each with ``items``, and an ``end_date`` or ``iterations``; the first keeps its
start) and may set ``end_behavior`` (``release``, the default, or ``cancel``). While a
schedule manages a subscription, Stripe refuses to change its cancellation directly (400: the
subscription is managed by the schedule). ``/release`` stops the schedule and leaves the
subscription as it is (``released_subscription``); ``/cancel`` ends the schedule and cancels
the subscription at once. Each change sends subscription_schedule.created / .updated /
.released / .canceled. ``expand[]=phases.items.price.product`` embeds prices and products.

localstripe had no schedules. The emulator keeps phases but has no clock: a phase does not
start by itself.
"""

from __future__ import annotations

import copy
import time

from localstripe import resources
from localstripe.resources import Event, Plan, StripeObject, Subscription, try_convert_to_int

from .prices import items_with_plans, price_for_plan
from .routing import json_route
from .subscriptions import add_interval, bad_request

END_BEHAVIORS = ("release", "cancel")
CANCELLATION_FIELDS = ("cancel_at_period_end", "cancel_at")


def _phase_items(items) -> list[dict]:
    if not isinstance(items, list) or not items:
        raise bad_request("phases[][items] is required")
    shaped = []
    for raw in items_with_plans([dict(item) for item in items if isinstance(item, dict)]):
        plan = Plan._api_retrieve(raw.get("plan"))
        quantity = try_convert_to_int(raw.get("quantity", 1))
        if type(quantity) is not int or quantity < 0:
            raise bad_request("phases[][items][][quantity] must be a non-negative integer")
        shaped.append({"price": plan.id, "quantity": quantity})
    return shaped


def _phases(raw_phases, start: int) -> list[dict]:
    if not isinstance(raw_phases, list) or not raw_phases:
        raise bad_request("phases is required")
    phases = []
    for raw in raw_phases:
        if not isinstance(raw, dict):
            raise bad_request("phases[] entries must be objects")
        items = _phase_items(raw.get("items"))
        plan = Plan._api_retrieve(items[0]["price"])
        end = try_convert_to_int(raw.get("end_date"))
        iterations = try_convert_to_int(raw.get("iterations", 1))
        if end is None:
            end = start
            for _ in range(iterations if type(iterations) is int and iterations > 0 else 1):
                end = add_interval(end, plan)
        if type(end) is not int or end <= start:
            raise bad_request("phases[][end_date] must be after the phase's start")
        phases.append({"start_date": start, "end_date": end, "items": items})
        start = end
    return phases


class SubscriptionSchedule(StripeObject):
    object = "subscription_schedule"
    _id_prefix = "sub_sched_"

    def __init__(self, from_subscription=None, end_behavior="release", metadata=None, **params):
        if params:
            raise bad_request("Only from_subscription is emulated: " + ", ".join(sorted(params)))
        if end_behavior not in END_BEHAVIORS:
            raise bad_request("end_behavior must be release or cancel")
        subscription = Subscription._api_retrieve(from_subscription)
        if getattr(subscription, "schedule", None):
            raise bad_request(f"Subscription {subscription.id} already has a schedule")
        if subscription.status in ("canceled", "incomplete_expired"):
            raise bad_request("A canceled subscription cannot get a schedule")
        first = subscription.items._list[0]
        period = first._current_period()
        items = [{"price": i.plan.id, "quantity": i.quantity} for i in subscription.items._list]

        super().__init__()
        self.customer = subscription.customer
        self.subscription = subscription.id
        self.end_behavior = end_behavior
        self.metadata = metadata or {}
        self.phases = [{"start_date": period["start"], "end_date": period["end"], "items": items}]
        self.status = "active"
        self.canceled_at = self.completed_at = self.released_at = None
        self.released_subscription = None
        subscription.schedule = self.id
        resources.schedule_webhook(Event("subscription_schedule.created", self))

    @property
    def current_phase(self) -> dict | None:
        if self.status != "active":
            return None
        now = int(time.time())
        for phase in self.phases:
            if phase["start_date"] <= now < phase["end_date"]:
                return {"start_date": phase["start_date"], "end_date": phase["end_date"]}
        return None

    def _export(self, expand=None):
        expand = list(expand or [])
        mine = [path for path in expand if path.startswith("phases.")]
        data = super()._export(expand=[path for path in expand if path not in mine])
        data["phases"] = copy.deepcopy(self.phases)  # never the stored phases themselves
        if any(path.startswith("phases.items.price") for path in mine):
            with_product = "phases.items.price.product" in mine
            for phase in data["phases"]:
                for item in phase["items"]:
                    price = price_for_plan(Plan._api_retrieve(item["price"]))
                    if with_product:
                        product = resources.store.get("product:" + price["product"])
                        price["product"] = product._export() if product else price["product"]
                    item["price"] = price
        return data

    @classmethod
    def _api_update(cls, id, phases=None, end_behavior=None, metadata=None, **params):
        if params:
            raise bad_request("Received unknown parameter: " + ", ".join(sorted(params)))
        schedule = cls._api_retrieve(id)
        if schedule.status not in ("active", "not_started"):
            raise bad_request(f"You cannot update a schedule that is {schedule.status}")
        if end_behavior is not None and end_behavior not in END_BEHAVIORS:
            raise bad_request("end_behavior must be release or cancel")
        if phases is not None:
            schedule.phases = _phases(phases, schedule.phases[0]["start_date"])
        if end_behavior is not None:
            schedule.end_behavior = end_behavior
        if isinstance(metadata, dict):
            schedule.metadata = {**schedule.metadata, **metadata}
        resources.schedule_webhook(Event("subscription_schedule.updated", schedule))
        return schedule


def _detach(schedule) -> Subscription:
    subscription = Subscription._api_retrieve(schedule.subscription)
    subscription.schedule = None
    schedule.subscription = None
    return subscription


def release_schedule(id, preserve_cancel_date=None):
    schedule = SubscriptionSchedule._api_retrieve(id)
    if schedule.status not in ("active", "not_started"):
        raise bad_request(f"You cannot release a schedule that is {schedule.status}")
    subscription = _detach(schedule)
    schedule.released_subscription = subscription.id
    schedule.status = "released"
    schedule.released_at = int(time.time())
    resources.schedule_webhook(Event("subscription_schedule.released", schedule))
    updated = Event("customer.subscription.updated", subscription)
    updated.data["previous_attributes"] = {"schedule": id}
    resources.schedule_webhook(updated)
    return schedule


def cancel_schedule(id, invoice_now=None, prorate=None):
    schedule = SubscriptionSchedule._api_retrieve(id)
    if schedule.status not in ("active", "not_started"):
        raise bad_request(f"You cannot cancel a schedule that is {schedule.status}")
    subscription = _detach(schedule)
    schedule.status = "canceled"
    schedule.canceled_at = int(time.time())
    resources.schedule_webhook(Event("subscription_schedule.canceled", schedule))
    Subscription._api_delete(subscription.id)
    return schedule


def _refuse_cancellation_while_scheduled(original):
    def update(self, **params):
        schedule = getattr(self, "schedule", None)
        if schedule and any(params.get(name) is not None for name in CANCELLATION_FIELDS):
            raise bad_request(
                f"The subscription is managed by the subscription schedule `{schedule}`, and "
                "updating any cancelation behavior directly is not allowed. Please update the "
                "schedule instead."
            )
        return original(self, **params)

    return update


def _init_unscheduled(original):
    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.schedule = None

    return init


ROUTES = [
    ("POST", "/v1/subscription_schedules/{id}/release", json_route(release_schedule)),
    ("POST", "/v1/subscription_schedules/{id}/cancel", json_route(cancel_schedule)),
]


def install_subscription_schedules() -> type[SubscriptionSchedule]:
    """/v1/subscription_schedules; subscriptions name their schedule and refuse direct
    cancellation while it manages them."""
    Subscription.__init__ = _init_unscheduled(Subscription.__init__)
    Subscription._update = _refuse_cancellation_while_scheduled(Subscription._update)
    return SubscriptionSchedule
