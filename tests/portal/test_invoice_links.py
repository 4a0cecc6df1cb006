"""View and PDF open through our own route, which reads a fresh link when the stored one may
have expired: one Stripe call per click at most, none per page view."""

import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.billing.models import CachedCustomer, CachedInvoice
from app.billing.sync import sync_object
from app.demo.stripe_data import open_invoice
from app.extensions import db
from tenants.context import tenant_context
from tenants.stripe_client import stripe_client_for, stripe_request_count
from tests.portal.test_account import cached
from tests.support.portal_client import sign_in

DAY = 86400


@pytest.fixture
def ada(portal, merchant, smtp_sink):
    sign_in(portal, smtp_sink, "ada@example.com")
    return portal


def _open(url):
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the emulator
        return response.read()


def _age_cache(merchant, days):
    """Our copy of the invoice was read `days` ago (as after months without an event)."""
    with tenant_context(merchant.tenant.id):
        db.session.execute(
            update(CachedInvoice).values(synced_at=CachedInvoice.synced_at - timedelta(days=days))
        )
        db.session.commit()


def test_view_and_pdf_go_through_our_route(ada, merchant):
    invoice_id = merchant.open_invoice.id
    page = ada.get("/invoices").text
    assert f'href="/invoices/{invoice_id}/view"' in page
    assert f'href="/invoices/{invoice_id}/pdf"' in page
    assert "invoice.stripe.com" not in page  # no Stripe link that may have expired


def test_a_link_read_lately_opens_with_no_stripe_call(ada, merchant):
    """A link read through the API is valid for at least 10 days from that read.
    https://docs.stripe.com/invoicing/hosted-invoice-page"""
    invoice_id = merchant.open_invoice.id
    stored = cached(merchant.tenant.id, CachedInvoice, invoice_id).hosted_invoice_url
    before = stripe_request_count()
    answer = ada.get(f"/invoices/{invoice_id}/view")
    assert stripe_request_count() == before
    assert answer.status_code == 302 and answer.location == stored


def test_an_old_link_is_read_again_once_per_click(ada, merchant, stripe_emulator):
    """Invoice URLs expire 30 days after finalization (no due date), never more than 120 days;
    a URL read through the API lasts at least 10 days.
    https://docs.stripe.com/invoicing/hosted-invoice-page"""
    invoice_id = merchant.open_invoice.id
    stored = cached(merchant.tenant.id, CachedInvoice, invoice_id)
    old_page, old_pdf = stored.hosted_invoice_url, stored.invoice_pdf
    _age_cache(merchant, 40)
    stripe_emulator.advance_link_clock(40 * DAY)
    try:
        assert b"has expired" in _open(old_page)
        page_view = stripe_request_count()
        ada.get("/invoices")
        assert stripe_request_count() == page_view  # the page makes no call

        before = stripe_request_count()
        answer = ada.get(f"/invoices/{invoice_id}/view")
        assert stripe_request_count() == before + 1
        assert answer.status_code == 302 and answer.location != old_page
        assert b"has expired" not in _open(answer.location)
        assert cached(merchant.tenant.id, CachedInvoice, invoice_id).hosted_invoice_url == (
            answer.location
        )  # kept: the next click makes no call
        again = ada.get(f"/invoices/{invoice_id}/view")
        assert stripe_request_count() == before + 1 and again.location == answer.location

        _age_cache(merchant, 40)
        pdf = ada.get(f"/invoices/{invoice_id}/pdf")
        assert pdf.status_code == 302 and pdf.location != old_pdf
        assert _open(pdf.location).startswith(b"%PDF")
    finally:
        stripe_emulator.advance_link_clock(-40 * DAY)


def test_links_of_other_customers_are_404(ada, merchant):
    grace = merchant.stripe.v1.customers.list(params={"email": "grace@example.com"}).data[0]
    from app.demo.stripe_data import open_invoice

    other = open_invoice(merchant.stripe, grace.id)
    for path in (f"/invoices/{other.id}/view", f"/invoices/{other.id}/pdf", "/invoices/x/view"):
        assert ada.get(path).status_code == 404


def test_opening_links_in_a_loop_is_limited_per_customer(ada, merchant, client_for, smtp_sink):
    """Each click may cost the merchant a Stripe read: a person opens a few invoices, a loop is
    stopped with a page that says so, and other customers are not affected."""
    invoice_id = merchant.open_invoice.id
    statuses = [ada.get(f"/invoices/{invoice_id}/pdf").status_code for _ in range(61)]
    assert statuses == [302] * 60 + [429]
    refused = ada.get(f"/invoices/{invoice_id}/view")
    assert refused.status_code == 429 and "Too many attempts" in refused.text

    grace = client_for(merchant.tenant.subdomain)
    sign_in(grace, smtp_sink, "grace@example.com")
    with tenant_context(merchant.tenant.id):
        grace_id = db.session.scalars(
            select(CachedCustomer.stripe_id).where(CachedCustomer.email == "grace@example.com")
        ).one()
        grace_invoice = open_invoice(merchant.stripe, grace_id)
        sync_object(stripe_client_for(merchant.tenant), "invoice", grace_invoice.id)
        db.session.commit()
    assert grace.get(f"/invoices/{grace_invoice.id}/view").status_code == 302
    assert ada.get("/invoices").status_code == 200  # only the links are limited
