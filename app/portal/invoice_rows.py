"""The rows of an invoice table, as the page prints them: worked out in Python, once per row.

A row's template used to ask for its badge, date, amount and three links through a helper
each, and read a dozen of the invoice's attributes through Jinja's lookups: about half of the
invoice list's rendering. Here the same facts are plain strings; the template only places them.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.billing.actions import PAYABLE_STATUSES
from app.portal.formatting import date, invoice_badge, money
from app.portal.invoice_paths import invoice_paths, quoted


@dataclass(frozen=True, slots=True)
class InvoiceRow:
    number: str  # Stripe's invoice number, or its id before it has one
    date: str
    amount: str
    label: str  # the status badge's words and tone ("" for a plain badge)
    tone: str
    pay_path: str | None  # None: not payable here
    pay_amount: str
    view_path: str | None  # Stripe's hosted page, through our redirect
    pdf_path: str | None
    customer_name: str | None  # only when the user sees several customers' invoices


def invoice_rows(invoices, tenant, zone, customer_names: dict | None = None) -> list[InvoiceRow]:
    """`invoices` (cached rows, each told `collection_paused`) as table rows; `zone`: the
    tenant's, which dates are written in."""
    payable_here = tenant.allow_invoice_payment
    paths = invoice_paths()
    (pay, pay_end), (view, view_end), (pdf, pdf_end) = paths["pay"], paths["view"], paths["pdf"]
    rows = []
    for invoice in invoices:
        status = invoice.status
        stripe_id = invoice.stripe_id
        in_path = quoted(stripe_id)
        label, tone = invoice_badge(invoice, zone)
        currency = invoice.currency
        payable = payable_here and status in PAYABLE_STATUSES
        rows.append(
            InvoiceRow(
                number=invoice.number or stripe_id,
                date=date(invoice.stripe_created, zone),
                amount=money(invoice.total, currency),
                label=label,
                tone=tone,
                pay_path=pay + in_path + pay_end if payable else None,
                pay_amount=money(invoice.amount_remaining, currency) if payable else "",
                view_path=view + in_path + view_end if invoice.hosted_invoice_url else None,
                pdf_path=pdf + in_path + pdf_end if invoice.invoice_pdf else None,
                customer_name=customer_names.get(invoice.customer_id) if customer_names else None,
            )
        )
    return rows
