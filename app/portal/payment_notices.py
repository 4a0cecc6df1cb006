"""The words a customer reads after pressing Pay: paid, on its way, or refused and what next."""

from __future__ import annotations

from flask import url_for
from markupsafe import Markup

from app.billing.actions import METHOD_NOT_ACCEPTED, NO_PAYMENT_METHOD, NOT_PAYABLE, PayRefused
from app.billing.payment_outcome import FAILED, PAID, PaymentOutcome
from app.billing.statuses import InvoiceStatus
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
        card = url_for("portal.card", customer=invoice.customer_id, invoice=invoice.stripe_id)
        return refused + Markup(
            '<a href="{}">Use a different card</a> to pay it, or press Pay to try again later.'
        ).format(card), "error"
    return refused + Markup("You can press Pay to try again later."), "error"


def _whom_to_ask(tenant) -> Markup:
    if tenant.support_email:
        return Markup('write to {} at <a href="mailto:{}">{}</a>').format(
            tenant.name, tenant.support_email, tenant.support_email
        )
    return Markup("contact {}").format(tenant.name)


def refusal_notice(invoice, refused: PayRefused, tenant) -> tuple[Markup, str]:
    """(message, flash category) when Stripe would not attempt the payment: the real reason,
    and what the customer can do about it."""
    number = Markup("Invoice {}").format(invoice.number or "").replace("  ", " ")
    if refused.why == NOT_PAYABLE:
        if refused.status == InvoiceStatus.PAID:
            return number + Markup(" is already paid, so nothing more was charged."), "success"
        if refused.status == InvoiceStatus.VOID:
            return number + Markup(" was cancelled by {}: there is nothing to pay.").format(
                tenant.name
            ), "success"
        return number + Markup(
            " cannot be paid at the moment. Nothing was charged; the page shows where it stands."
        ), "error"
    nothing = Markup(" Nothing was charged. ")
    if refused.why == NO_PAYMENT_METHOD:
        said = number + Markup(" was not paid: there is no card on file to pay it with.") + nothing
        if tenant.allow_card_update:
            card = url_for("portal.card", customer=invoice.customer_id, invoice=invoice.stripe_id)
            return said + Markup('<a href="{}">Add a card</a> to pay it.').format(card), "error"
        return said + Markup("Please {} to set one up.").format(_whom_to_ask(tenant)), "error"
    if refused.why == METHOD_NOT_ACCEPTED:
        said = number + Markup(" was not paid: it does not accept the payment method on file.")
        if invoice.hosted_invoice_url:
            page = url_for("portal.invoice_page", invoice_id=invoice.stripe_id)
            return said + nothing + Markup(
                '<a href="{}" target="_blank" rel="noopener noreferrer">Open the invoice</a> to '
                "pay it another way, or {}."
            ).format(page, _whom_to_ask(tenant)), "error"
        return said + nothing + Markup("Please {} to pay it another way.").format(
            _whom_to_ask(tenant)
        ), "error"
    return number + Markup(" could not be paid just now.") + nothing + Markup(
        "Please try again later; if it keeps happening, {}."
    ).format(_whom_to_ask(tenant)), "error"
