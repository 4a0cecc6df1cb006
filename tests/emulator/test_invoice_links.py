"""Hosted Invoice Page and PDF links: present once finalized, expiring as Stripe's do."""

from __future__ import annotations

import urllib.request

DAY = 86400
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}


def _open(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the emulator
        return response.headers.get_content_type(), response.read()


def _finalized_invoice(client, paying_customer):
    customer, _ = paying_customer(client)
    client.v1.invoice_items.create(
        params={"customer": customer.id, "amount": 900, "currency": "usd"}
    )
    draft = client.v1.invoices.create(
        params={"customer": customer.id, "pending_invoice_items_behavior": "include"}
    )
    assert draft.hosted_invoice_url is None and draft.invoice_pdf is None
    return client.v1.invoices.finalize_invoice(draft.id)


def test_links_open_the_invoice_and_its_pdf(stripe_client, paying_customer):
    """https://docs.stripe.com/api/invoices/object#invoice_object-hosted_invoice_url"""
    invoice = _finalized_invoice(stripe_client, paying_customer)

    kind, page = _open(invoice.hosted_invoice_url)
    assert kind == "text/html" and f"Invoice {invoice.number}".encode() in page
    kind, pdf = _open(invoice.invoice_pdf)
    assert kind == "application/pdf" and pdf.startswith(b"%PDF")


def test_a_stored_link_expires_and_a_fresh_read_lasts_ten_days(
    stripe_client, paying_customer, stripe_emulator
):
    """Links expire 30 days after finalization when there is no due date (at most 120 days);
    a link read through the API is valid for at least 10 days from the read.
    https://docs.stripe.com/invoicing/hosted-invoice-page"""
    invoice = _finalized_invoice(stripe_client, paying_customer)
    stored = invoice.hosted_invoice_url
    try:
        stripe_emulator.advance_link_clock(29 * DAY)
        assert b"has expired" not in _open(stored)[1]  # day 29: still the invoice
        stripe_emulator.advance_link_clock(2 * DAY)
        assert b"has expired" in _open(stored)[1]  # day 31: expired
        assert b"has expired" in _open(invoice.invoice_pdf)[1]

        fresh = stripe_client.v1.invoices.retrieve(invoice.id)
        assert fresh.hosted_invoice_url != stored
        assert b"has expired" not in _open(fresh.hosted_invoice_url)[1]
        assert _open(fresh.invoice_pdf)[0] == "application/pdf"
        stripe_emulator.advance_link_clock(9 * DAY)
        assert b"has expired" not in _open(fresh.hosted_invoice_url)[1]  # 9 days after the read
        stripe_emulator.advance_link_clock(2 * DAY)
        assert b"has expired" in _open(fresh.hosted_invoice_url)[1]
    finally:
        stripe_emulator.advance_link_clock(-42 * DAY)


def test_a_tampered_link_is_not_found(stripe_client, paying_customer):
    invoice = _finalized_invoice(stripe_client, paying_customer)
    token = invoice.hosted_invoice_url.rsplit("/", 1)[1]
    invoice_id, account, expires, signature = token.split(".")
    later = f"{invoice_id}.{account}.{int(expires) + 999 * DAY}.{signature}"
    try:
        urllib.request.urlopen(invoice.hosted_invoice_url.replace(token, later), timeout=10)  # noqa: S310
    except urllib.error.HTTPError as error:
        assert error.code == 404
    else:
        raise AssertionError("a link with a forged expiry opened")
