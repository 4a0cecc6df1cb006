"""Bank debits that settle later, and invoice payments as today's API shows them.

At Stripe a SEPA Direct Debit is not known to succeed or fail when it is submitted: paying an
invoice with one answers 200 with the invoice still ``open`` and its PaymentIntent
``processing``; days later the debit succeeds (``invoice.paid``) or fails (the PaymentIntent
goes back to ``requires_payment_method`` with a ``last_payment_error``, ``invoice.payment_failed``).
localstripe marks such a charge succeeded at once (the invoice shows ``paid`` before the bank
answered) and fails every declined debit with a card's message.

Stripe's documented test IBANs (docs.stripe.com/payments/sepa-debit, "Test your integration"):

* ``AT611904300234573201``, ``DE89370400440532013000``: processing, then succeeded;
* ``AT861904300235473202``, ``DE62370400440532013001``: processing, then failed
  (here: ``insufficient_funds``);

How long the bank takes is set with ``POST /_config/settlement`` (form field ``seconds``,
default 0.5). ``seconds=0`` settles before the pay call answers, which rehearses an answer that
already carries the debit's failure; a long delay keeps debits ``processing`` for a test.

Today's API (2025-03-31 onwards) has no ``invoice.payment_intent``: the attempts are under the
includable ``payments`` list (InvoicePayment objects, ``payment.payment_intent`` expandable),
present only when asked for with ``expand[]=payments`` (or a path below it).
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from localstripe.resources import BalanceTransaction, Charge, Invoice, PaymentIntent, PaymentMethod
from localstripe.server import get_post_data

from .defaults import DEFAULT_SETTLEMENT_SECONDS
from .routing import Route, stripe_error

FAILING_IBANS = {
    "AT861904300235473202": "insufficient_funds",
    "DE62370400440532013001": "insufficient_funds",
}
FAILURE_MESSAGES = {
    "insufficient_funds": "The customer's account has insufficient funds to cover this payment.",
}


class Settlement:
    seconds: float = DEFAULT_SETTLEMENT_SECONDS


BANK_DEBIT_TYPES = ("sepa_debit", "us_bank_account")  # ACH debits settle days later too


def is_bank_debit(charge) -> bool:
    return PaymentMethod._api_retrieve(charge.payment_method).type in BANK_DEBIT_TYPES


def _charging_is_declined(original):
    def declined(self):
        if self.type == "sepa_debit":
            return self._sepa_debit_iban in FAILING_IBANS
        return original(self)

    return declined


def _settle(charge, on_success, on_failure_later) -> None:
    """The bank's answer: the charge succeeds (money moves) or fails with the bank's reason."""
    if charge._authorized:
        transaction = BalanceTransaction(
            amount=charge.amount,
            currency=charge.currency,
            description=charge.description,
            exchange_rate=1.0,
            reporting_category="charge",
            source=charge.id,
            type="charge",
        )
        charge.balance_transaction = transaction.id
        charge.status = "succeeded"
        if on_success:
            on_success()
        return
    iban = PaymentMethod._api_retrieve(charge.payment_method)._sepa_debit_iban
    charge.status = "failed"
    charge.failure_code = FAILING_IBANS.get(iban, "generic_decline")
    charge.failure_message = FAILURE_MESSAGES.get(charge.failure_code, "The payment failed.")
    if on_failure_later:
        on_failure_later()


def _initialize_charge(original):
    def initialize(self, on_success=None, on_failure_now=None, on_failure_later=None):
        if not is_bank_debit(self):
            return original(self, on_success, on_failure_now, on_failure_later)
        self.status = "pending"  # the PaymentIntent shows "processing" meanwhile
        if Settlement.seconds <= 0:
            _settle(self, on_success, on_failure_later)
        else:
            asyncio.get_running_loop().call_later(
                Settlement.seconds, _settle, self, on_success, on_failure_later
            )

    return initialize


def _payments(invoice) -> dict:
    """The includable `payments` list: one InvoicePayment per payment attempt."""
    data = []
    if invoice.payment_intent:
        intent = PaymentIntent._api_retrieve(invoice.payment_intent)
        paid = intent.status == "succeeded"
        status = {"succeeded": "paid", "canceled": "canceled"}.get(intent.status, "open")
        data.append(
            {
                "id": "inpay_" + intent.id.removeprefix("pi_"),
                "object": "invoice_payment",
                "amount_paid": intent.amount if paid else None,
                "amount_requested": intent.amount,
                "created": intent.created,
                "currency": intent.currency,
                "invoice": invoice.id,
                "is_default": True,
                "livemode": False,
                "payment": {"type": "payment_intent", "payment_intent": intent.id},
                "status": status,
                "status_transitions": {
                    "canceled_at": None,
                    "paid_at": invoice.status_transitions.get("paid_at") if paid else None,
                },
            }
        )
    return {
        "object": "list",
        "data": data,
        "has_more": False,
        "url": f"/v1/invoice_payments?invoice={invoice.id}",
    }


def _export_payments_when_asked(original):
    def export(self, expand=None):
        asked = any(path.split(".", 1)[0] == "payments" for path in expand or [])
        if asked:
            self.payments = _payments(self)
        try:
            return original(self, expand=expand)
        finally:
            vars(self).pop("payments", None)

    return export


def _last_payment_error(original):
    """Stripe's last_payment_error also names the failed method and the error's type."""

    def last_payment_error(self):
        error = original.fget(self)
        if error is not None and self.latest_charge is not None:
            method = PaymentMethod._api_retrieve(self.latest_charge.payment_method)
            kind = "card_error" if method.type == "card" else "invalid_request_error"
            named = {"id": method.id, "type": method.type}
            error = {**error, "type": kind, "payment_method": named}
        return error

    return property(last_payment_error)


async def configure_settlement(request: web.Request) -> web.Response:
    """POST /_config/settlement: seconds a bank takes to answer a debit (0: before replying)."""
    data = await get_post_data(request) or {}
    try:
        seconds = float(data.get("seconds", ""))
    except ValueError:
        raise stripe_error(400, "seconds must be a number") from None
    if not 0 <= seconds <= 86400:
        raise stripe_error(400, "seconds must be between 0 and 86400")
    Settlement.seconds = seconds
    return web.Response()


def install_bank_debits() -> None:
    PaymentMethod._charging_is_declined = _charging_is_declined(PaymentMethod._charging_is_declined)
    Charge._initialize_charge = _initialize_charge(Charge._initialize_charge)
    Invoice._export = _export_payments_when_asked(Invoice._export)
    PaymentIntent.last_payment_error = _last_payment_error(PaymentIntent.last_payment_error)


ROUTES: list[Route] = [("POST", "/_config/settlement", configure_settlement)]
