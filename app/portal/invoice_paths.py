"""The paths of an invoice's own actions (pay, view, PDF) for invoice tables.

Each endpoint's path is routed by Flask once per process and then reused with the row's invoice
id: routing three links per row was about a tenth of the invoice list's work.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import request, url_for

ENDPOINTS = {
    "pay": "portal.pay_invoice",
    "view": "portal.invoice_page",
    "pdf": "portal.invoice_pdf",
}
# Stripe-shaped, so the route's converter accepts it; it never occurs in a real path's fixed parts.
_MARK = "in_billfoldInvoiceIdMark"
# What werkzeug's default converter leaves unquoted when it builds a path.
_SAFE = "!$&'()*+,/:;=@"

_halves: dict[tuple[str, str], tuple[str, str]] = {}


def invoice_path(action: str, invoice_id: str) -> str:
    """The path of `action` ("pay", "view" or "pdf") on `invoice_id`, as url_for builds it."""
    key = (request.script_root, action)
    halves = _halves.get(key)
    if halves is None:
        before, _, after = url_for(ENDPOINTS[action], invoice_id=_MARK).partition(_MARK)
        halves = _halves[key] = (before, after)
    return halves[0] + quote(invoice_id, safe=_SAFE) + halves[1]
