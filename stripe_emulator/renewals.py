"""Renewing subscriptions at the end of their period, as Stripe's billing does.

Stripe renews a subscription when its period ends (docs.stripe.com/billing/subscriptions/overview,
"Subscription lifecycle", and docs.stripe.com/billing/subscriptions/webhooks): the period
advances and a renewal invoice (``billing_reason`` ``subscription_cycle``) is created, then
finalized and charged to the subscription's default payment method, else the customer's. The
events, in the order Stripe sends them:

1. ``invoice.created``, ``customer.subscription.updated`` (the new period, ``latest_invoice``);
2. ``invoice.finalized``;
3. paid: ``charge.succeeded``, ``payment_intent.succeeded``, ``invoice.payment_succeeded``,
   ``invoice.paid``; declined: ``charge.failed``, ``payment_intent.payment_failed``,
   ``invoice.payment_failed`` (the invoice stays ``open``) and a second
   ``customer.subscription.updated`` (``past_due``); a card asking for authentication:
   ``invoice.payment_action_required`` and ``past_due``; no payment method at all:
   ``invoice.payment_failed`` and ``past_due``. A ``past_due`` subscription whose renewal is
   paid becomes ``active`` again (a second ``customer.subscription.updated``).

A subscription set to cancel at the period's end is canceled instead
(``customer.subscription.deleted``). Trialing, paused, incomplete and canceled subscriptions are
left alone. Stripe finalizes about an hour after creating the invoice; the emulator has no clock,
so it does all of it at once, and Stripe does not promise the order anyway (docs.stripe.com/
webhooks, "Event ordering"): a consumer must not depend on it.

``POST /_config/renew`` (``account``, optional ``subscription[]``): renews every renewable
subscription of that account (``Stripe-Account`` header also accepted; no header and no
``account``: the platform's), or only those listed. Answers ``{"renewed": [...], "canceled":
[...], "events": n}``. It is not an API call, so the account's request count does not change.

localstripe emits no charge events; here renewal charges do (carrying the ``invoice`` they
pay, as Stripe's charges do), and only they, so other flows' event streams are unchanged.
"""

from __future__ import annotations

import contextvars

from aiohttp import web
from localstripe import resources
from localstripe.resources import Charge, Event, Invoice, PaymentIntent, Subscription, UserError
from localstripe.server import get_post_data, json_response, unflatten_data

from .routing import Route, stripe_error
from .storage import current_account

RENEWABLE = ("active", "past_due")

renewing = contextvars.ContextVar("renewing", default=False)  # charges of a renewal emit events


def _emit(event_type: str, obj) -> Event:
    event = Event(event_type, obj)
    resources.schedule_webhook(event)
    return event


def _emit_update(subscription, before: dict) -> None:
    after = subscription._export()
    event = Event("customer.subscription.updated", subscription)
    event.data["previous_attributes"] = {
        key: before.get(key) for key, value in after.items() if before.get(key) != value
    }
    resources.schedule_webhook(event)


def _invoice_of(charge) -> str | None:
    if not charge.payment_intent:
        return None
    return PaymentIntent._api_retrieve(charge.payment_intent).invoice


def _charge_events(original):
    """A renewal's charge sends charge.succeeded before its PaymentIntent's events."""

    def trigger(self, on_success=None):
        if not renewing.get():
            return original(self, on_success)

        def succeeded():
            self.invoice = _invoice_of(self)
            _emit("charge.succeeded", self)
            if on_success:
                on_success()

        return original(self, succeeded)

    return trigger


def _charge(invoice) -> None:
    """Charge the renewal invoice off-session; a decline is an outcome, not an error."""
    token = renewing.set(True)
    try:
        Invoice._api_pay_invoice(invoice.id)
    except UserError:  # no payment method anywhere: Stripe's attempt fails
        _emit("invoice.payment_failed", invoice)
        return
    finally:
        renewing.reset(token)
    intent = PaymentIntent._api_retrieve(invoice.payment_intent) if invoice.payment_intent else None
    if intent is None or invoice.status == "paid":
        return
    if intent.status == "requires_action":
        _emit("invoice.payment_action_required", invoice)
        return
    charge = intent.latest_charge
    if charge is not None and charge.status == "failed":
        charge.invoice = invoice.id
        _emit("charge.failed", charge)
        _emit("payment_intent.payment_failed", intent)
        _emit("invoice.payment_failed", invoice)


def renew_subscription(subscription) -> str:
    """Renew one subscription whose period has ended: "renewed", "canceled" or "skipped"."""
    if subscription.status not in RENEWABLE:
        return "skipped"
    before = subscription._export()
    if subscription.cancel_at_period_end:
        subscription.ended_at = subscription.current_period_end
        subscription.status = "canceled"
        _emit("customer.subscription.deleted", subscription)
        return "canceled"
    subscription.billing_cycle_anchor = subscription.current_period_end
    invoice = Invoice(  # sends invoice.created and becomes the latest invoice
        customer=subscription.customer,
        subscription=subscription.id,
        items=list(subscription.items._list),
        tax_percent=subscription.tax_percent,
        default_tax_rates=[rate.id for rate in (subscription.default_tax_rates or [])],
        date=subscription.current_period_start,
    )
    invoice.billing_reason = "subscription_cycle"
    _emit_update(subscription, before)
    status = subscription.status
    invoice._finalize()  # sends invoice.finalized
    if invoice.status == "paid":  # nothing to charge
        invoice._on_payment_success()
    else:
        _charge(invoice)
        if invoice.status != "paid":
            subscription.status = "past_due"
    if subscription.status != status:
        _emit_update(subscription, {**subscription._export(), "status": status})
    return "renewed"


def _event_count() -> int:
    return sum(1 for key in resources.store if key.startswith("event:"))


def renew_account(subscription_ids: list[str] | None = None) -> dict:
    """Renew the current account's renewable subscriptions (or those named)."""
    if subscription_ids is None:
        subscriptions = [
            resources.store[key] for key in resources.store if key.startswith("subscription:")
        ]
    else:
        subscriptions = [Subscription._api_retrieve(id) for id in subscription_ids]
    events_before = _event_count()
    outcome: dict = {"renewed": [], "canceled": []}
    for subscription in subscriptions:
        done = renew_subscription(subscription)
        if done != "skipped":
            outcome[done].append(subscription.id)
    outcome["events"] = _event_count() - events_before
    return outcome


async def renew(request: web.Request) -> web.Response:
    """POST /_config/renew: account (or the Stripe-Account header), optional subscription[]."""
    data = dict(await get_post_data(request) or {})
    data.update(unflatten_data(request.query) or {})
    account = data.get("account") or request.headers.get("Stripe-Account", "").strip() or None
    if account is not None and not str(account).startswith("acct_"):
        raise stripe_error(400, f"Invalid account: {account!r}")
    wanted = data.get("subscription")
    if isinstance(wanted, str):
        wanted = [wanted]
    if wanted is not None and not all(isinstance(id, str) for id in wanted):
        raise stripe_error(400, "subscription[] must be subscription ids")
    token = current_account.set(account)
    try:
        return json_response(renew_account(wanted))
    finally:
        current_account.reset(token)


ROUTES: list[Route] = [("POST", "/_config/renew", renew)]


def install_renewals() -> None:
    Charge._trigger_payment = _charge_events(Charge._trigger_payment)
