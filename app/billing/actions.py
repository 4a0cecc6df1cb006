"""Customer actions at Stripe: pay, cancel, reactivate, replace the card.

Each call carries an idempotency key (a double submit is one Stripe request, never two charges),
and the object Stripe returns is written into the cache at once so the next page shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime

import stripe
from sqlalchemy import select

from app.billing.fetch import plain_dict
from app.billing.mapping import stripe_id_of
from app.billing.models import CachedCustomer, CachedInvoice, CachedSubscription
from app.billing.payment_outcome import (
    FAILED,
    PAYMENT_INTENTS,
    PaymentOutcome,
    failure_reason,
    latest_intent,
    outcome_of,
)
from app.billing.statuses import (
    CHARGING_STATUSES,
    RENEWING_STATUSES,
    InvoiceStatus,
    SubscriptionStatus,
)
from app.billing.stripe_health import stripe_health_noted
from app.billing.sync import sync_object
from app.billing.upcoming import refresh_upcoming_invoice
from app.billing.upsert import apply_stripe_object
from app.commits import record_side_effect
from app.extensions import db
from tenants.context import current_tenant_id


class ActionFailed(Exception):
    """The action did not happen; the message says so in words for the customer."""


UNREACHABLE = (
    "We could not reach our payment processor, so nothing was changed. "
    "Please try again in a few minutes."
)


@contextmanager
def stripe_call() -> Iterator[None]:
    """Translate Stripe failures into ActionFailed, and note Stripe's health for the pages."""
    try:
        with stripe_health_noted(current_tenant_id()):
            yield
    except stripe.CardError as exc:
        raise ActionFailed(exc.user_message or "Your card was declined.") from exc
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise ActionFailed(UNREACHABLE) from exc
    except stripe.StripeError as exc:
        raise ActionFailed(
            "Our payment processor could not do that just now. Nothing was changed."
        ) from exc


def _key(action: str, object_id: str, nonce: str) -> dict:
    return {"idempotency_key": f"billfold-{current_tenant_id()}-{action}-{object_id}-{nonce}"}


def _refresh_after_conflict(client: stripe.StripeClient, kind: str, stripe_id: str) -> None:
    """Stripe refused because our copy is stale: fetch the object so the next page is right."""
    db.session.rollback()
    with suppress(stripe.StripeError):
        sync_object(client, kind, stripe_id)
        record_side_effect()  # Stripe's fresh answer, kept though the action failed


def _store(obj) -> dict:
    data = plain_dict(obj)
    apply_stripe_object(data, datetime.now(UTC))
    return data


# Invoices Stripe still lets a customer pay: an uncollectible one is written off by the
# merchant, not cancelled (docs.stripe.com/invoicing/integration/workflow-transitions).
PAYABLE_STATUSES = frozenset({InvoiceStatus.OPEN.value, InvoiceStatus.UNCOLLECTIBLE.value})

# Why Stripe would not attempt a payment, each with its own way forward for the customer.
NO_PAYMENT_METHOD = "no_payment_method"  # nothing set to charge: add a card
METHOD_NOT_ACCEPTED = "method_not_accepted"  # the invoice takes none of the methods on file
NOT_PAYABLE = "not_payable"  # paid or voided meanwhile: `status` says which
NOT_NOW = "not_now"  # anything else: try later, or ask the merchant


class PayRefused(ActionFailed):
    """Stripe refused the pay call before any payment was attempted; nothing was charged."""

    def __init__(self, why: str, status: str | None = None) -> None:
        super().__init__(f"Stripe refused the payment ({why}).")
        self.why = why
        self.status = status  # the invoice's status as Stripe has it now


class NeedsAuthentication(ActionFailed):
    """The customer's bank asks them to confirm the payment (3-D Secure): Stripe.js completes
    the invoice's PaymentIntent in the browser with this client secret."""

    def __init__(self, client_secret: str) -> None:
        super().__init__("Your bank asks you to confirm this payment.")
        self.client_secret = client_secret


def _waiting_intent(client: stripe.StripeClient, invoice: CachedInvoice) -> dict | None:
    """The invoice's PaymentIntent waiting for the customer, re-read with the invoice."""
    with stripe_call():
        read = client.v1.invoices.retrieve(invoice.stripe_id, params={"expand": [PAYMENT_INTENTS]})
    data = _store(read)
    intent = latest_intent(data) or {}
    return intent if intent.get("status") == "requires_action" else None


def payment_outcome(client: stripe.StripeClient, invoice: CachedInvoice) -> PaymentOutcome:
    """How the invoice's payment stands now, read from Stripe (after the customer confirmed
    it with their bank, say) and kept in the cache."""
    with stripe_call():
        read = client.v1.invoices.retrieve(invoice.stripe_id, params={"expand": [PAYMENT_INTENTS]})
    return outcome_of(_store(read))


def _refusal(error: stripe.InvalidRequestError, invoice: CachedInvoice) -> PayRefused:
    """Name Stripe's refusal from its error code and the invoice as re-read just now."""
    db.session.refresh(invoice)
    if invoice.status not in PAYABLE_STATUSES:
        return PayRefused(NOT_PAYABLE, invoice.status)
    if error.code == "invoice_no_payment_method_types":
        return PayRefused(METHOD_NOT_ACCEPTED, invoice.status)
    if error.code == "resource_missing":  # the invoice exists: what is missing is a method
        return PayRefused(NO_PAYMENT_METHOD, invoice.status)
    return PayRefused(NOT_NOW, invoice.status)


def pay_invoice(
    client: stripe.StripeClient,
    invoice: CachedInvoice,
    nonce: str,
    payment_method: str | None = None,
    also_record: Callable[[PaymentOutcome], None] | None = None,
) -> PaymentOutcome:
    """Pay an open (or uncollectible) invoice, with `payment_method` when the customer just
    chose one (else Stripe's own choice: the subscription's, then the customer's default).

    The outcome is what Stripe's answer says (a 200 is not "paid"; a 402 is a decline). A
    refusal raises PayRefused, saying why, with the invoice re-read. `also_record(outcome)`:
    the caller's own record of it, committed with the invoice Stripe answered."""
    if invoice.status not in PAYABLE_STATUSES:
        raise PayRefused(NOT_PAYABLE, invoice.status)
    # The customer is here, pressing Pay: their bank may ask them to confirm (3-D Secure).
    params: dict = {"expand": [PAYMENT_INTENTS], "off_session": False}
    if payment_method:
        params["payment_method"] = payment_method
    try:
        with stripe_call():
            answered = client.v1.invoices.pay(
                invoice.stripe_id, params=params, options=_key("pay", invoice.stripe_id, nonce)
            )
    except ActionFailed as failure:
        if isinstance(failure.__cause__, stripe.CardError):
            if failure.__cause__.code == "invoice_payment_intent_requires_action":
                intent = _waiting_intent(client, invoice)
                if intent and intent.get("client_secret"):
                    raise NeedsAuthentication(intent["client_secret"]) from failure
            error = failure.__cause__.error
            return PaymentOutcome(
                FAILED,
                failure_reason({"decline_code": getattr(error, "decline_code", None),
                                "code": failure.__cause__.code}),
            )  # fmt: skip
        if isinstance(failure.__cause__, stripe.InvalidRequestError):
            _refresh_after_conflict(client, "invoice", invoice.stripe_id)
            raise _refusal(failure.__cause__, invoice) from failure
        raise
    data = _store(answered)
    outcome = outcome_of(data)
    if also_record is not None:
        also_record(outcome)
    record_side_effect()
    return outcome


def set_cancel_at_period_end(
    client: stripe.StripeClient,
    subscription: CachedSubscription,
    cancel: bool,
    nonce: str,
    reason: str | None = None,
    also_record: Callable[[], None] | None = None,
) -> CachedSubscription:
    """Cancel at the period's end, or take that back. `also_record()`: the caller's own record
    of the change, committed with it; not called when nothing changed (a double submit)."""
    if subscription.status not in RENEWING_STATUSES:
        raise ActionFailed("This subscription has already ended.")
    if subscription.cancel_at_period_end == cancel:
        return subscription  # already as asked (double submit, or changed meanwhile)
    action = "cancel" if cancel else "reactivate"
    if cancel and subscription.schedule_id:
        _release_schedule(client, subscription.schedule_id, nonce)
    params: dict = {"cancel_at_period_end": cancel}
    if cancel and reason:
        params["cancellation_details"] = {"comment": reason[:500]}
    with stripe_call():
        updated = client.v1.subscriptions.update(
            subscription.stripe_id,
            params=params,
            options=_key(action, subscription.stripe_id, nonce),
        )
    data = _store(updated)
    # The change is made at Stripe: a failing preview of the next charge must not undo our
    # record of it. The subscription's webhook refreshes the preview later.
    with suppress(stripe.StripeError):
        refresh_upcoming_invoice(client, data, datetime.now(UTC))
    subscription.cancellation_reason = (reason or None) if cancel else None
    if also_record is not None:
        also_record()
    record_side_effect()
    return subscription


def _release_schedule(client: stripe.StripeClient, schedule_id: str, nonce: str) -> None:
    """Stripe refuses to change the cancellation of a subscription a schedule manages: release
    the schedule first (the subscription stays as it is; the phases it planned will not
    happen). One already released or canceled meanwhile is fine."""
    try:
        with stripe_call():
            released = client.v1.subscription_schedules.release(
                schedule_id, options=_key("release", schedule_id, nonce)
            )
    except ActionFailed as failure:
        if not isinstance(failure.__cause__, stripe.InvalidRequestError):
            raise
        _refresh_after_conflict(client, "subscription_schedule", schedule_id)
        return
    _store(released)
    record_side_effect()  # released at Stripe, whatever the cancellation does next


def create_setup_intent(client: stripe.StripeClient, customer: CachedCustomer, nonce: str) -> str:
    """A SetupIntent for a new card; returns its client secret for Stripe.js."""
    with stripe_call():
        intent = client.v1.setup_intents.create(
            params={
                "customer": customer.stripe_id,
                "usage": "off_session",
                "payment_method_types": ["card"],
            },
            options=_key("setup", customer.stripe_id, nonce),
        )
    return intent.client_secret


def _still_live(subscription_id: str) -> bool:
    status = db.session.scalar(
        select(CachedSubscription.status).where(CachedSubscription.stripe_id == subscription_id)
    )
    return status in CHARGING_STATUSES


@dataclass
class CardReplaced:
    method: dict  # the new card, as Stripe has it
    subscriptions_not_switched: list[str] = field(default_factory=list)
    # Paused because a trial ended without a card: resumed with it (active when its first
    # invoice was paid, past due when not), or left paused when Stripe refused.
    resumed: list[dict] = field(default_factory=list)
    not_resumed: list[str] = field(default_factory=list)


def use_confirmed_card(
    client: stripe.StripeClient,
    customer: CachedCustomer,
    setup_intent_id: str,
    also_record: Callable[[dict], None] | None = None,
) -> CardReplaced:
    """Check the SetupIntent (succeeded, this customer), then make its card the default.

    First the customer's default (what every invoice falls back to), recorded at once; then
    each subscription Stripe may still charge (CHARGING_STATUSES: a subscription's own default
    comes before the customer's), one at a time, each recorded as it succeeds. One that Stripe
    refuses (it ended meanwhile) is re-read into the cache; the result says which were not
    switched. `also_record(card)`: the caller's own record of the new default card, committed
    with it.
    """
    with stripe_call():
        intent = client.v1.setup_intents.retrieve(setup_intent_id)
    method_id = stripe_id_of(intent.payment_method)
    if (
        intent.status != "succeeded"
        or stripe_id_of(intent.customer) != customer.stripe_id
        or not method_id
    ):
        raise ActionFailed("That card could not be confirmed. Nothing was changed.")
    subscriptions = db.session.execute(
        select(CachedSubscription.stripe_id, CachedSubscription.status).where(
            CachedSubscription.customer_id == customer.stripe_id,
            CachedSubscription.status.in_(CHARGING_STATUSES),
        )
    ).all()
    # A paused one (a trial ended without a card) gets the card and is resumed, below.
    subscription_ids = [s for s, status in subscriptions if status != SubscriptionStatus.PAUSED]
    paused_ids = [s for s, status in subscriptions if status == SubscriptionStatus.PAUSED]
    with stripe_call():
        method = client.v1.payment_methods.retrieve(method_id)
        updated = client.v1.customers.update(
            customer.stripe_id,
            params={"invoice_settings": {"default_payment_method": method_id}},
            options=_key("default-card", customer.stripe_id, setup_intent_id),
        )
    result = CardReplaced(_store(method))
    _store(updated)
    if also_record is not None:
        also_record(result.method.get("card") or {})
    record_side_effect()  # the default card is switched, whatever the subscriptions do
    for subscription_id in subscription_ids:
        try:
            with stripe_call():
                changed = client.v1.subscriptions.update(
                    subscription_id,
                    params={"default_payment_method": method_id},
                    options=_key("sub-card", subscription_id, setup_intent_id),
                )
        except ActionFailed as failure:
            if isinstance(failure.__cause__, stripe.InvalidRequestError):
                _refresh_after_conflict(client, "subscription", subscription_id)
                if not _still_live(subscription_id):
                    continue  # it ended at Stripe meanwhile: nothing left to charge, or to move
            result.subscriptions_not_switched.append(subscription_id)
            continue
        _store(changed)
        record_side_effect()  # each switched subscription, as it succeeds
    for subscription_id in paused_ids:
        resumed = _resume_with(client, subscription_id, method_id, setup_intent_id)
        if resumed is None:
            result.not_resumed.append(subscription_id)
        else:
            result.resumed.append(resumed)
    return result


def _resume_with(
    client: stripe.StripeClient, subscription_id: str, method_id: str, nonce: str
) -> dict | None:
    """A subscription paused at the end of a cardless trial: set the card on it, then resume
    it (Stripe starts a new period and charges its invoice now). None if Stripe refused."""
    try:
        with stripe_call():
            changed = client.v1.subscriptions.update(
                subscription_id,
                params={"default_payment_method": method_id},
                options=_key("sub-card", subscription_id, nonce),
            )
        _store(changed)
        record_side_effect()
        with stripe_call():
            resumed = client.v1.subscriptions.resume(
                subscription_id,
                params={"billing_cycle_anchor": "now"},
                options=_key("resume", subscription_id, nonce),
            )
    except ActionFailed as failure:
        if isinstance(failure.__cause__, stripe.InvalidRequestError):
            _refresh_after_conflict(client, "subscription", subscription_id)
        return None
    data = _store(resumed)
    with suppress(stripe.StripeError):  # its webhook refreshes the preview later otherwise
        refresh_upcoming_invoice(client, data, datetime.now(UTC))
    record_side_effect()
    return data
