"""The portal blueprint: served only on a tenant's host, with shared per-request helpers."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, g, render_template
from flask_login import current_user
from sqlalchemy import select

import app.portal.formatting as formatting
from app.billing.models import CachedCustomer, CachedInvoice, CachedSubscription
from app.billing.stripe_health import StripeHealth, stripe_health
from app.extensions import db
from app.portal.customers import customers_for_email
from app.portal.invoice_rows import invoice_rows
from tenants.resolution import require_tenant_host
from tenants.timezones import zone_of

bp = Blueprint("portal", __name__)
bp.before_request(require_tenant_host)


@bp.before_request
def closed_by_the_merchant():
    """A merchant who closed its portal: every page and action answers with its message."""
    tenant = g.get("tenant")
    if tenant is not None and tenant.portal_closed:
        return render_template("portal/closed.html", tenant=tenant), 503
    return None


@bp.after_request
def signed_in_pages_are_not_stored(response):
    """Billing details stay off shared disks and out of Back after signing out."""
    if current_user.is_authenticated:
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.record_once
def _portal_helpers(state) -> None:
    """The portal's template helpers, as globals of every template (the merchant's branding
    studio renders portal pages too): set once, not rebuilt for each render."""
    state.app.jinja_env.globals.update(portal_helpers())


def portal_helpers():
    return {
        "money": formatting.money,
        "fmt_date": lambda value: formatting.date(value, tenant_zone()),
        "zone_label": lambda: formatting.zone_label(tenant_zone().key),
        "interval_label": formatting.interval_label,
        "status_badge": formatting.status_badge,
        "invoice_rows": lambda invoices, tenant, names=None: invoice_rows(
            invoices, tenant, tenant_zone(), names
        ),
        "method_label": formatting.method_label,
        "method_detail": formatting.method_detail,
        "method_summary": formatting.method_summary,
        "new_action_key": lambda: secrets.token_urlsafe(18),
        "billing_freshness": billing_freshness,
        "time_ago": formatting.time_ago,
        "fmt_moment": formatting.moment,
    }


def tenant_zone():
    """The zone this tenant's customers read dates in (UTC until one is known)."""
    tenant = getattr(g, "tenant", None)
    return zone_of(tenant.timezone if tenant is not None else None)


def my_customers() -> list[CachedCustomer]:
    """The logged-in user's customers (same email, this tenant), read once per request."""
    user = current_user._get_current_object()  # the user loader reads the customers too
    if "my_customers" not in g:
        g.my_customers = customers_for_email(user.email)
    return g.my_customers


def my_customer_ids() -> list[str]:
    return [c.stripe_id for c in my_customers()]


def owned_customer(customer_id: str) -> CachedCustomer:
    for customer in my_customers():
        if customer.stripe_id == customer_id:
            return customer
    abort(404)


def owned_invoice(invoice_id: str) -> CachedInvoice:
    """An invoice of one of the user's customers; anything else is a 404, never a leak."""
    invoice = db.session.scalars(
        select(CachedInvoice).where(
            CachedInvoice.stripe_id == invoice_id,
            CachedInvoice.customer_id.in_(my_customer_ids()),
            CachedInvoice.deleted.is_(False),
        )
    ).one_or_none()
    if invoice is None:
        abort(404)
    return invoice


def owned_subscription(subscription_id: str) -> CachedSubscription:
    subscription = db.session.scalars(
        select(CachedSubscription).where(
            CachedSubscription.stripe_id == subscription_id,
            CachedSubscription.customer_id.in_(my_customer_ids()),
            CachedSubscription.deleted.is_(False),
        )
    ).one_or_none()
    if subscription is None:
        abort(404)
    return subscription


def billing_freshness() -> StripeHealth:
    """Whether Stripe is answering this tenant, for the notice on signed-in pages (one read)."""
    if "billing_freshness" not in g:
        g.billing_freshness = stripe_health(g.tenant.id)
    return g.billing_freshness
