"""Subscriptions billed by invoice (`collection_method=send_invoice`) instead of by card.

localstripe accepts no collection method: every subscription's invoice is charged at once. At
Stripe, a subscription created with `collection_method=send_invoice` and `days_until_due`
finalizes its invoices and emails them, due that many days later, and charges nothing: the
customer pays the open invoice (by the hosted page, a bank transfer, or through the API). The
subscription is `active` while its invoice is open (it goes `past_due` only once the invoice
is overdue). https://docs.stripe.com/billing/collection-method and
https://docs.stripe.com/api/subscriptions/create#create_subscription-days_until_due

Here: the subscription keeps both fields; its invoices carry `collection_method` and a
`due_date`, are finalized `open` and not charged; `days_until_due` is required with
`send_invoice` and refused without it, as at Stripe.
"""

from __future__ import annotations

import time

from localstripe.resources import Invoice, InvoiceItem, Subscription

from .routing import stripe_error

DAY_SECONDS = 86400

COLLECTION_METHODS = ("charge_automatically", "send_invoice")


def bad_request(message: str):
    return stripe_error(400, message, code="parameter_invalid")


def collection_terms(collection_method, days_until_due) -> tuple[str, int | None]:
    """The validated (collection_method, days_until_due) of a create request."""
    method = collection_method or "charge_automatically"
    if method not in COLLECTION_METHODS:
        raise bad_request("collection_method must be charge_automatically or send_invoice")
    if method == "charge_automatically":
        if days_until_due not in (None, ""):
            raise bad_request("days_until_due is only valid with collection_method=send_invoice")
        return method, None
    try:
        days = int(days_until_due)
    except (TypeError, ValueError):
        raise bad_request(
            "days_until_due is required with collection_method=send_invoice"
        ) from None
    if days < 0:
        raise bad_request("days_until_due must be a non-negative integer")
    return method, days


def _create_invoice(original):
    def create(self):
        if getattr(self, "collection_method", None) != "send_invoice":
            return original(self)
        items = [
            item
            for item in InvoiceItem._api_list_all(None, customer=self.customer, limit=99)._list
            if item.invoice is None
        ]
        invoice = Invoice(
            customer=self.customer,
            subscription=self.id,
            items=[*items, *self.items._list],
            tax_percent=self.tax_percent,
            default_tax_rates=[tr.id for tr in (self.default_tax_rates or [])],
            date=self.current_period_start,
        )
        invoice.collection_method = "send_invoice"
        invoice.due_date = int(time.time()) + self.days_until_due * DAY_SECONDS
        invoice._finalize()  # open, and emailed by Stripe: nothing is charged
        self.status = "active"
        return invoice

    return create


def install_invoice_collection() -> None:
    Subscription._create_invoice = _create_invoice(Subscription._create_invoice)
