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


def invoice_paths() -> dict[str, tuple[str, str]]:
    """Each action's ("pay", "view", "pdf") path around the invoice id, for this request: a
    table of invoices builds `before + quoted(id) + after` per row, which is the path url_for
    builds, without routing or asking the request again."""
    root = request.script_root
    return {action: _path_halves(root, action) for action in ENDPOINTS}


def quoted(invoice_id: str) -> str:
    return quote(invoice_id, safe=_SAFE)


def _path_halves(root: str, action: str) -> tuple[str, str]:
    halves = _halves.get((root, action))
    if halves is None:
        before, _, after = url_for(ENDPOINTS[action], invoice_id=_MARK).partition(_MARK)
        halves = _halves[(root, action)] = (before, after)
    return halves
