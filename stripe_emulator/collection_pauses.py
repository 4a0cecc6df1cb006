"""Pausing a subscription's payment collection (``pause_collection``), as Stripe does it.

docs.stripe.com/billing/subscriptions/pause-payment: a merchant updates a subscription with
``pause_collection[behavior]`` (``keep_as_draft``, ``mark_uncollectible`` or ``void``) and an
optional ``pause_collection[resumes_at]``; the subscription stays ``active``, its invoices keep
being created but are not collected; ``pause_collection=""`` resumes collection. localstripe
refuses the parameter. Updates now accept it, show it on the subscription (``null`` when not
paused) and send customer.subscription.updated with the previous value.
"""

from __future__ import annotations

import time

from localstripe.resources import Subscription, try_convert_to_int

from .subscriptions import bad_request

BEHAVIORS = ("keep_as_draft", "mark_uncollectible", "void")


def pause_collection_from(value) -> dict | None:
    """The validated pause_collection of an update ("" clears it)."""
    if value == "":
        return None
    if not isinstance(value, dict) or value.get("behavior") not in BEHAVIORS:
        raise bad_request("pause_collection[behavior] must be one of " + ", ".join(BEHAVIORS))
    resumes_at = value.get("resumes_at")
    if resumes_at not in (None, ""):
        resumes_at = try_convert_to_int(resumes_at)
        if type(resumes_at) is not int or resumes_at <= int(time.time()):
            raise bad_request("pause_collection[resumes_at] must be a time in the future")
    return {"behavior": value["behavior"], "resumes_at": resumes_at or None}


def _update_with_pause(original):
    def update(self, pause_collection=None, **params):
        paused = pause_collection_from(pause_collection) if pause_collection is not None else ...
        if paused is not ... and self.status in ("canceled", "incomplete_expired"):
            raise bad_request("A canceled subscription can only update its metadata")
        original(self, **params)
        if paused is not ...:
            self.pause_collection = paused

    return update


def _init_unpaused(original):
    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.pause_collection = None

    return init


def install_collection_pauses() -> None:
    """Subscriptions carry pause_collection, set and cleared by updates."""
    Subscription._update = _update_with_pause(Subscription._update)
    Subscription.__init__ = _init_unpaused(Subscription.__init__)
