"""Invoices: status filters, finalize/pay/void/uncollectible, previews and lifecycle events."""

from __future__ import annotations

import hashlib
import time

from localstripe import resources
from localstripe.resources import (
    Customer,
    Event,
    Invoice,
    InvoiceItem,
    InvoiceLineItem,
    PaymentIntent,
    PaymentMethod,
    Subscription,
    try_convert_to_bool,
)

from .authentication import on_session, paying_on_session
from .bank_debits import is_bank_debit
from .prices import items_with_plans
from .routing import Route, json_route, stripe_error
from .subscriptions import add_interval

STATUSES = ("draft", "open", "paid", "void", "uncollectible")
PREVIEW_IGNORED_PARAMS = {"automatic_tax", "currency", "customer_details", "preview_mode"}
PREVIEW_DETAIL_FIELDS = ("default_tax_rates", "items", "proration_date", "trial_end")


def _bad(message: str, code: str = "parameter_invalid"):
    return stripe_error(400, message, code=code)


def _emit(event_type: str, obj) -> None:
    resources.schedule_webhook(Event(event_type, obj))


def _status_with_manual_outcomes(original):
    """Invoice.status also knowing `paid_out_of_band` and `mark_uncollectible`."""

    def status(self):
        value = original.fget(self)
        if value == "open" and getattr(self, "_paid_out_of_band", False):
            return "paid"
        if value == "open" and getattr(self, "_uncollectible", False):
            return "uncollectible"
        return value

    return property(status)


def _list_with_status(original):
    def list_invoices(cls, url, status=None, **params):
        if status is not None and status not in STATUSES:
            raise _bad("status must be one of " + ", ".join(STATUSES))
        invoices = original(url, **params)
        # Newest first even within one second: localstripe's sort keeps creation order on ties.
        invoices._list.reverse()
        invoices._list.sort(key=lambda invoice: invoice.date, reverse=True)
        if status is not None:
            invoices._list = [invoice for invoice in invoices._list if invoice.status == status]
        return invoices

    return classmethod(list_invoices)


def _create_one_off(original):
    """POST /v1/invoices without a subscription: a draft, pending items only on request."""

    def create(
        cls, customer=None, subscription=None, pending_invoice_items_behavior=None, **params
    ):
        for name in ("auto_advance", "collection_method"):
            params.pop(name, None)
        if subscription is not None:
            return original(customer=customer, subscription=subscription, **params)
        if pending_invoice_items_behavior not in (None, "include", "exclude"):
            raise _bad("pending_invoice_items_behavior must be include or exclude")
        Customer._api_retrieve(customer)
        # Today's default is "exclude": hide the pending items from Invoice.__init__.
        hidden = []
        if pending_invoice_items_behavior != "include":
            hidden = [
                item
                for item in InvoiceItem._api_list_all(None, customer=customer, limit=99)._list
                if item.invoice is None
            ]
        for item in hidden:
            item.invoice = "excluded"
        try:
            return cls(customer=customer, **params)
        finally:
            for item in hidden:
                item.invoice = None

    return classmethod(create)


def _item_added_to_draft(original):
    """InvoiceItem(invoice=...) also becomes a line of that draft invoice."""

    def init(self, invoice=None, **params):
        draft = Invoice._api_retrieve(invoice) if invoice is not None else None
        if draft is not None and draft.status != "draft":
            raise _bad(f"Invoice {invoice} is finalized: items can only be added to drafts")
        original(self, invoice=invoice, **params)
        if draft is not None:
            if not draft.lines._list:
                draft.currency = self.currency
            draft.lines._list.append(InvoiceLineItem(self))

    return init


def _payment_method_for(invoice, payment_method):
    """Explicit method, else the subscription's default, else the customer's default."""
    if payment_method:
        return PaymentMethod._api_retrieve(payment_method)
    if invoice.subscription:
        subscription = Subscription._api_retrieve(invoice.subscription)
        if getattr(subscription, "default_payment_method", None):
            return PaymentMethod._api_retrieve(subscription.default_payment_method)
    customer = Customer._api_retrieve(invoice.customer)
    return customer._get_default_payment_method_or_source()


def _pay_invoice(cls, id, payment_method=None, paid_out_of_band=None, **params):
    """Invoice._api_pay_invoice taking Stripe's parameters; never raises on a decline.

    Used both by the API route and by subscription billing, where a declined card must
    leave the subscription incomplete / past_due rather than fail the request.
    """
    invoice = cls._api_retrieve(id)
    if invoice.status == "paid":
        raise _bad("Invoice is already paid", code="invoice_already_paid")
    if invoice.status not in ("draft", "open", "uncollectible"):
        raise _bad(f"You cannot pay an invoice with status {invoice.status}")
    if invoice.status == "draft":
        invoice._finalize()
    if invoice.status != "paid" and try_convert_to_bool(paid_out_of_band) is True:
        invoice._paid_out_of_band = True
    if invoice.status == "paid":
        invoice._on_payment_success()
        return invoice
    method = _payment_method_for(invoice, payment_method)
    if method is None:
        raise _bad(
            "This customer has no attached payment source or default payment method.",
            code="resource_missing",
        )
    intent = PaymentIntent(
        amount=invoice.total,
        currency=invoice.currency,
        customer=invoice.customer,
        payment_method=method.id,
    )
    invoice.payment_intent = intent.id
    intent.invoice = invoice.id
    intent._confirm(on_failure_now=lambda: None)
    return invoice


def pay_invoice_route(id, off_session=None, **params):
    """POST /v1/invoices/{id}/pay: like Stripe, a declined payment answers 402; off_session=false
    (the customer is present) decides which cards ask for authentication (authentication.py)."""
    presence = paying_on_session(off_session)
    try:
        invoice = Invoice._api_pay_invoice(id, **params)
    finally:
        on_session.reset(presence)
    intent = PaymentIntent._api_retrieve(invoice.payment_intent) if invoice.payment_intent else None
    if invoice.status == "paid" or intent is None:
        return invoice
    if intent.status == "requires_action":
        raise stripe_error(
            402,
            "Payment for this invoice requires additional user action.",
            code="invoice_payment_intent_requires_action",
        )
    charge = intent.latest_charge
    # A card's decline is known at once (402); a bank debit's failure is not this call's error.
    if charge is not None and charge.status == "failed" and not is_bank_debit(charge):
        _emit("invoice.payment_failed", invoice)
        raise stripe_error(
            402, charge.failure_message, code=charge.failure_code, decline_code="generic_decline"
        )
    return invoice


def finalize_invoice(id, auto_advance=None, **params):
    """POST /v1/invoices/{id}/finalize: draft -> open (or paid when nothing is due)."""
    invoice = Invoice._api_retrieve(id)
    if invoice.status != "draft":
        raise _bad("This invoice is already finalized", code="invoice_not_editable")
    invoice._finalize()
    if invoice.status == "paid":
        invoice._on_payment_success()
    return invoice


def void_invoice(id, **params):
    """POST /v1/invoices/{id}/void, also for invoices that never had a payment attempt."""
    invoice = Invoice._api_retrieve(id)
    if invoice.status not in ("draft", "open", "uncollectible"):
        raise _bad(f"You cannot void an invoice with status {invoice.status}")
    if invoice.payment_intent:
        intent = PaymentIntent._api_retrieve(invoice.payment_intent)
        if intent.status not in ("succeeded", "canceled", "processing"):
            PaymentIntent._api_cancel(intent.id)
    invoice._draft = False
    invoice._voided = True
    invoice.status_transitions["voided_at"] = int(time.time())
    if invoice.subscription:
        subscription = Subscription._api_retrieve(invoice.subscription)
        if subscription.status == "incomplete":
            subscription._on_initial_payment_voided(invoice)
    _emit("invoice.voided", invoice)
    return invoice


def mark_uncollectible(id, **params):
    """POST /v1/invoices/{id}/mark_uncollectible: open -> uncollectible."""
    invoice = Invoice._api_retrieve(id)
    if invoice.status != "open":
        raise _bad("Only open invoices can be marked uncollectible")
    invoice._uncollectible = True
    _emit("invoice.marked_uncollectible", invoice)
    return invoice


def _preview_items(subscription, items):
    """subscription_details.items merged over the subscription's items, as Stripe does."""
    items_with_plans(items)
    if subscription is None:
        return items
    current = {item.id: item for item in subscription.items._list}
    merged, mentioned = [], set()
    for raw in items:
        item = current.get(raw.get("id"))
        if raw.get("id") and item is None:
            raise _bad(f"Subscription item {raw['id']} is not part of {subscription.id}")
        if item is not None:
            mentioned.add(item.id)
            if try_convert_to_bool(raw.get("deleted")) is True:
                continue
        merged.append(
            {
                "plan": raw.get("plan") or item.plan.id,
                "quantity": raw.get("quantity", item.quantity if item else 1),
                "tax_rates": raw.get("tax_rates", [tr.id for tr in item.tax_rates] if item else []),
            }
        )
    for item in subscription.items._list:
        if item.id not in mentioned:
            rates = [tr.id for tr in item.tax_rates]
            merged.append({"plan": item.plan.id, "quantity": item.quantity, "tax_rates": rates})
    return merged


def _preview_with_subscription(original):
    def create_preview(cls, customer=None, subscription=None, subscription_details=None, **params):
        unknown = set(params) - PREVIEW_IGNORED_PARAMS
        if unknown:
            raise _bad("Received unknown parameter: " + ", ".join(sorted(unknown)))
        sub = Subscription._api_retrieve(subscription) if subscription else None
        customer = customer or (sub.customer if sub else None)
        details = dict(subscription_details or {})
        if sub is not None and (sub.status == "canceled" or sub.cancel_at_period_end):
            raise stripe_error(
                404, "No upcoming invoices for customer", code="invoice_upcoming_none"
            )
        if "items" in details:
            details["items"] = _preview_items(sub, details["items"])
        details = {key: value for key, value in details.items() if key in PREVIEW_DETAIL_FIELDS}
        # localstripe attaches pending invoice items to the throw-away preview: keep them pending.
        pending = (
            [
                item
                for item in InvoiceItem._api_list_all(None, customer=customer, limit=99)._list
                if item.invoice is None
            ]
            if customer
            else []
        )
        try:
            invoice = original(
                customer=customer, subscription=subscription, subscription_details=details
            )
        finally:
            for item in pending:
                item.invoice = None
        if sub is not None:  # the preview bills the next period, after current_period_end
            for line in invoice.lines._list:
                if line.type == "subscription":
                    start = sub.current_period_end
                    line.period = {"start": start, "end": add_interval(start, line.plan)}
        return invoice

    return classmethod(create_preview)


def _emitting_after(original, event_type: str):
    def method(self, *args):
        original(self, *args)
        _emit(event_type, self)

    return method


_invoice_sequence: dict[str, int] = {}


def _numbering(original):
    """On finalization an invoice gets its number: <customer prefix>-<sequence>, as at Stripe."""

    def finalize(self):
        original(self)
        prefix = hashlib.sha1(str(self.customer).encode()).hexdigest()[:8].upper()  # noqa: S324
        _invoice_sequence[prefix] = _invoice_sequence.get(prefix, 0) + 1
        self.number = f"{prefix}-{_invoice_sequence[prefix]:04d}"

    return finalize


def _unnumbered(original_init):
    def init(self, *args, **kwargs):
        self.number = None  # set first: localstripe may finalize inside __init__
        original_init(self, *args, **kwargs)

    return init


def install_invoices() -> None:
    """List filters, finalize / pay with default method, create_preview.

    localstripe lists invoices without a `status` filter, has no /finalize, /pay ignores
    Stripe's parameters and the subscription's default payment method and never answers 402,
    /void fails without a PaymentIntent, and create_preview swallows pending invoice items
    and bills the current period. It also never emits invoice.finalized or invoice.paid, and
    cannot create a one-off draft invoice (POST /v1/invoices without a subscription) nor add
    items to one (invoice_items with `invoice`). Finalized invoices had no `number`.
    """
    Invoice.status = _status_with_manual_outcomes(Invoice.status)
    Invoice._api_list_all = _list_with_status(Invoice._api_list_all)
    Invoice._api_pay_invoice = classmethod(_pay_invoice)
    Invoice._api_create = _create_one_off(Invoice._api_create)
    InvoiceItem.__init__ = _item_added_to_draft(InvoiceItem.__init__)
    Invoice._api_create_preview_invoice = _preview_with_subscription(
        Invoice._api_create_preview_invoice
    )
    Invoice.__init__ = _unnumbered(Invoice.__init__)
    Invoice._finalize = _emitting_after(_numbering(Invoice._finalize), "invoice.finalized")
    Invoice._on_payment_success = _emitting_after(Invoice._on_payment_success, "invoice.paid")


ROUTES: list[Route] = [
    ("POST", "/v1/invoices/{id}/finalize", json_route(finalize_invoice)),
    ("POST", "/v1/invoices/{id}/pay", json_route(pay_invoice_route)),
    ("POST", "/v1/invoices/{id}/void", json_route(void_invoice)),
    ("POST", "/v1/invoices/{id}/mark_uncollectible", json_route(mark_uncollectible)),
]
