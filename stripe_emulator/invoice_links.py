"""The Hosted Invoice Page and invoice PDF links, which expire as Stripe's do.

Stripe gives every finalized invoice a ``hosted_invoice_url`` and an ``invoice_pdf``. The links
expire 30 days after the invoice's due date, or 30 days after it was finalized when it has no
due date, and never more than 120 days after; yet any link read through the API stays valid
for at least 10 days from that read (docs.stripe.com/invoicing/hosted-invoice-page, "Invoice
URLs"). An expired link opens a page saying so instead of the invoice.

localstripe has neither field. Here each read of a finalized invoice writes both links with
their expiry signed into them: ``max(the invoice's own expiry, now + 10 days)``. The links are
served by this emulator (``/invoice.stripe.com/i/<token>`` and ``/pay.stripe.com/invoice/
<token>/pdf``), on the address the API call reached. ``POST /_config/clock`` with
``advance_seconds`` lets time pass for the links (only), so a test can make a stored link old.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import html
import secrets
import time
from collections.abc import Callable

from aiohttp import web
from localstripe import resources
from localstripe.resources import Invoice
from localstripe.server import get_post_data

from .routing import Route, stripe_error
from .storage import current_account

DAY = 86400
AFTER_DUE = 30 * DAY
AT_MOST = 120 * DAY
FRESH_FOR = 10 * DAY

_SECRET = secrets.token_bytes(32)  # per process: links from an earlier run do not open
_origin: contextvars.ContextVar[str] = contextvars.ContextVar(
    "link_origin", default="http://127.0.0.1"
)


class Clock:
    """The links' clock: real time plus what /_config/clock added."""

    offset_seconds = 0.0

    @classmethod
    def now(cls) -> int:
        return int(time.time() + cls.offset_seconds)


def own_expiry(invoice) -> int:
    """When the invoice's links expire, before the 10-day grace of a fresh read."""
    finalized = invoice.status_transitions.get("finalized_at") or invoice.created
    due = getattr(invoice, "due_date", None)
    return min((due or finalized) + AFTER_DUE, finalized + AT_MOST)


def _signature(invoice_id: str, account: str | None, expires: int) -> str:
    message = f"{invoice_id}.{account or ''}.{expires}".encode()
    return hmac.new(_SECRET, message, hashlib.sha256).hexdigest()[:24]


def _token(invoice) -> str:
    account = current_account.get()
    expires = max(own_expiry(invoice), Clock.now() + FRESH_FOR)
    return f"{invoice.id}.{account or ''}.{expires}.{_signature(invoice.id, account, expires)}"


def _export_with_links(original):
    def export(self, expand=None):
        finalized = self.status != "draft"
        if finalized:
            token = _token(self)
            self.hosted_invoice_url = f"{_origin.get()}/invoice.stripe.com/i/{token}"
            self.invoice_pdf = f"{_origin.get()}/pay.stripe.com/invoice/{token}/pdf"
        else:
            self.hosted_invoice_url = self.invoice_pdf = None
        try:
            return original(self, expand=expand)
        finally:
            vars(self).pop("hosted_invoice_url", None)
            vars(self).pop("invoice_pdf", None)

    return export


@web.middleware
async def link_origin_middleware(request: web.Request, handler: Callable) -> web.StreamResponse:
    """Links name the address the API call reached (the emulator listens on a free port)."""
    token = _origin.set(f"{request.scheme}://{request.host}")
    try:
        return await handler(request)
    finally:
        _origin.reset(token)


def _page(title: str, body: str, status: int = 200) -> web.Response:
    text = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"</head><body><h1>{title}</h1>{body}</body></html>"
    )
    return web.Response(text=text, status=status, content_type="text/html")


def _invoice_of(token: str):
    """The invoice a link names, or None when the link is expired; 404 when it is not ours."""
    try:
        invoice_id, account, expires_text, signature = token.split(".")
        expires = int(expires_text)
    except ValueError:
        raise web.HTTPNotFound() from None
    if not hmac.compare_digest(signature, _signature(invoice_id, account or None, expires)):
        raise web.HTTPNotFound()
    if Clock.now() >= expires:
        return None
    namespace = current_account.set(account or None)
    try:
        return resources.store.get(f"invoice:{invoice_id}") or _not_found()
    finally:
        current_account.reset(namespace)


def _not_found():
    raise web.HTTPNotFound()


def _expired() -> web.Response:
    """What Stripe shows for an expired link: no invoice, whom to ask."""
    return _page(
        "This link has expired",
        "<p>For your security, invoice links expire. Contact the business for a new one.</p>",
    )


async def hosted_invoice_page(request: web.Request) -> web.Response:
    invoice = _invoice_of(request.match_info["token"])
    if invoice is None:
        return _expired()
    amount = f"{invoice.amount_due / 100:.2f} {invoice.currency.upper()}"
    number = html.escape(invoice.number or invoice.id)
    return _page(f"Invoice {number}", f"<p>Amount due: {amount}</p><p>Status: {invoice.status}</p>")


async def invoice_pdf(request: web.Request) -> web.Response:
    invoice = _invoice_of(request.match_info["token"])
    if invoice is None:
        return _expired()
    body = f"%PDF-1.4\n% Invoice {invoice.number or invoice.id}\n%%EOF\n".encode()
    return web.Response(body=body, content_type="application/pdf")


async def advance_clock(request: web.Request) -> web.Response:
    """POST /_config/clock: `advance_seconds` pass for the invoice links."""
    data = await get_post_data(request) or {}
    try:
        seconds = float(data.get("advance_seconds", ""))
    except ValueError:
        raise stripe_error(400, "advance_seconds must be a number") from None
    Clock.offset_seconds += seconds
    return web.json_response({"now": Clock.now()})


def install_invoice_links() -> None:
    Invoice._export = _export_with_links(Invoice._export)


ROUTES: list[Route] = [
    ("GET", "/invoice.stripe.com/i/{token}", hosted_invoice_page),
    ("GET", "/pay.stripe.com/invoice/{token}/pdf", invoice_pdf),
    ("POST", "/_config/clock", advance_clock),
]
