"""The words a customer reads after pressing Pay: paid, on its way, or refused and what next."""

from __future__ import annotations

from flask import url_for
from markupsafe import Markup

from app.billing.payment_outcome import FAILED, PAID, PaymentOutcome
from app.portal.formatting import money


def payment_notice(invoice, outcome: PaymentOutcome, tenant) -> tuple[Markup, str]:
    """(message, flash category). Billfold sends no email when a payment settles: say so."""
    number = invoice.number or ""
    if outcome.state == PAID:
        return Markup("Thank you! Invoice {} is paid.").format(number).replace("  ", " "), "success"
    payment = (
        Markup("Your payment of {} for invoice {}")
        .format(money(invoice.amount_due, invoice.currency), number)
        .replace("  ", " ")
    )
    if outcome.state != FAILED:
        return payment + Markup(
            " is being processed. Bank payments can take a few days to show as paid; "
            "there is no need to pay again."
        ), "success"
    refused = payment + Markup(" did not go through: {}. Nothing was charged. ").format(
        outcome.reason
    )
    if tenant.allow_card_update:
        card = url_for("portal.card", customer=invoice.customer_id)
        return refused + Markup(
            '<a href="{}">Use a different card</a>, or press Pay to try again later.'
        ).format(card), "error"
    return refused + Markup("You can press Pay to try again later."), "error"
