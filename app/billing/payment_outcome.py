"""What Stripe's answer to a pay call says about the payment: paid, processing, or failed.

A 200 answer is not a successful payment. A bank debit is submitted, not settled (the invoice
stays open, its PaymentIntent `processing`), and a debit the bank refused at once comes back
with the invoice open and the PaymentIntent's `last_payment_error`. The pay call expands
PAYMENT_INTENTS so the answer alone tells which.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.billing.statuses import InvoiceStatus

# Today's API lists an invoice's payment attempts under `payments` (not included by default).
PAYMENT_INTENTS = "payments.data.payment.payment_intent"

PAID, PROCESSING, FAILED = "paid", "processing", "failed"

# Stripe's decline and error codes, as a reason a customer can act on. Lost or stolen cards
# and fraud suspicions are reported as a plain decline, as Stripe advises.
REASONS = {
    "insufficient_funds": "there was not enough money in the account",
    "card_velocity_exceeded": "the card's spending limit was reached",
    "withdrawal_count_limit_exceeded": "the card's spending limit was reached",
    "expired_card": "the card has expired",
    "incorrect_cvc": "the card's security code was not accepted",
    "incorrect_number": "the card number was not accepted",
    "processing_error": "the bank could not process it just now",
    "authentication_required": "your bank asked to confirm the payment",
    "payment_intent_authentication_failure": "your bank could not confirm the payment",
    "account_closed": "the bank account is closed",
    "no_account": "the bank account could not be found",
    "debit_not_authorized": "the bank says the debit was not authorised",
    "bank_account_restricted": "the bank account does not accept debits",
}
DECLINED = "your bank declined it"


@dataclass(frozen=True)
class PaymentOutcome:
    state: str  # PAID, PROCESSING or FAILED
    reason: str | None = None  # why it failed, in plain words


def latest_intent(invoice: dict) -> dict | None:
    attempts = [
        (payment.get("payment") or {}).get("payment_intent")
        for payment in ((invoice.get("payments") or {}).get("data") or [])
    ]
    intents = [intent for intent in attempts if isinstance(intent, dict)]
    return max(intents, key=lambda intent: intent.get("created") or 0, default=None)


def failure_reason(error: dict | None) -> str:
    error = error or {}
    for code in (error.get("decline_code"), error.get("code")):
        if code in REASONS:
            return REASONS[code]
    return DECLINED


def outcome_of(invoice: dict) -> PaymentOutcome:
    """The payment's state from an invoice as the (expanded) pay call returned it."""
    if invoice.get("status") == InvoiceStatus.PAID:
        return PaymentOutcome(PAID)
    intent = latest_intent(invoice) or {}
    status = intent.get("status")
    if status in ("requires_payment_method", "requires_action", "canceled"):
        error = intent.get("last_payment_error")
        if error is None and status == "requires_action":
            error = {"code": "authentication_required"}
        return PaymentOutcome(FAILED, failure_reason(error))
    # `processing`, or an answer that does not say: nothing failed, nothing settled yet.
    return PaymentOutcome(PROCESSING)
