"""Email tasks: the login email (or a "no account" note), sent after the request, retried."""

from __future__ import annotations

import logging

import stripe
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from app.billing.customer_sync import fetch_customers_by_email
from app.billing.stripe_health import stripe_health_noted
from app.billing.tasks import read_for_signing_in
from app.clock import utcnow
from app.emails.addresses import UndeliverableAddress
from app.emails.delivery import record_delivery, send_recorded
from app.emails.models import DeliveryStatus, EmailDelivery
from app.emails.render import render_email
from app.emails.retries import EMAIL_TASK, SMTP_FAILURES, retry_in
from app.extensions import db
from app.portal.activity import KEPT_FOR, forget_activity_before
from app.portal.customers import customers_for_email
from app.portal.tokens import TOKEN_TTL, issue_login_token
from tenants.context import unscoped
from tenants.models import StripeConnectionStatus, Tenant
from tenants.stripe_client import stripe_client_for
from tenants.urls import portal_url
from worker.base import tenant_task
from worker.dispatch import enqueue_after_commit

log = logging.getLogger(__name__)

# Stripe down, rate-limiting or too slow: the answer is unknown, not "no account". Try later.
STRIPE_UNAVAILABLE = (
    stripe.APIConnectionError,
    stripe.RateLimitError,
    stripe.APIError,
    SoftTimeLimitExceeded,
)


def _has_billing_account(tenant: Tenant, email: str) -> bool:
    if customers_for_email(email):
        return True
    if tenant.stripe_status != StripeConnectionStatus.CONNECTED:
        return False
    # The cache may not have this customer yet (new account, backfill running): ask Stripe.
    try:
        with stripe_health_noted(tenant.id):
            return bool(fetch_customers_by_email(stripe_client_for(tenant), email))
    except (stripe.StripeError, SoftTimeLimitExceeded) as exc:
        db.session.rollback()  # nothing half-copied (a customer without its invoices) stays
        if isinstance(exc, STRIPE_UNAVAILABLE):
            raise
        # Refused for good (a revoked key, say): the tenant cannot tell; say what we know.
        log.warning("customer search failed for tenant %s: %s", tenant.subdomain, exc)
        return False


def _record_unanswered(tenant: Tenant, email: str, delivery_id: int | None, exc) -> None:
    """Out of retries with Stripe still unreachable: nothing could be sent, and merchants and
    operators must see that (a delivery recorded as failed, with the reason)."""
    delivery = db.session.get(EmailDelivery, delivery_id) if delivery_id else None
    if delivery is None:
        delivery = EmailDelivery(
            kind="login_link", to_email=email, subject=f"Your {tenant.name} billing sign-in link"
        )
        db.session.add(delivery)
    delivery.attempts = (delivery.attempts or 0) + 1
    delivery.status = DeliveryStatus.FAILED
    delivery.error = f"Stripe unreachable, customer lookup failed: {exc}"[:1000]
    db.session.commit()


@tenant_task(**EMAIL_TASK)
def send_login_email(
    self, tenant_id: int, email: str, delivery_id: int | None = None, source: str | None = None
) -> str:
    """Send the login link and code to `email`, or a note that it has no billing account."""
    tenant = db.session.get(Tenant, tenant_id)
    try:
        has_account = _has_billing_account(tenant, email)
    except STRIPE_UNAVAILABLE as exc:
        if self.request.retries >= self.max_retries:
            _record_unanswered(tenant, email, delivery_id, exc)
            raise
        raise self.retry(exc=exc, countdown=retry_in(self.request.retries)) from exc
    if has_account:
        link, code = issue_login_token(email, source=source)
        rendered = render_email(
            tenant,
            "login_link",
            email,
            f"Your {tenant.name} billing sign-in link",
            link=portal_url(tenant, f"/login/verify/{link}"),
            code=code,
            minutes=int(TOKEN_TTL.total_seconds() // 60),
        )
    else:
        rendered = render_email(
            tenant, "no_account", email, f"About your {tenant.name} billing sign-in"
        )
    delivery = db.session.get(EmailDelivery, delivery_id) if delivery_id else None
    delivery = delivery or record_delivery(rendered)
    db.session.commit()  # the token exists before anyone can click the link
    try:
        send_recorded(
            tenant,
            delivery,
            rendered,
            final_attempt=self.request.retries >= self.max_retries,
            retried_on=SMTP_FAILURES,
        )
    except UndeliverableAddress:
        # Recorded as failed with the reason; another try would fail the same way.
        log.warning("login email %s undeliverable through this mail server", delivery.id)
        return "undeliverable"
    except SMTP_FAILURES as exc:
        raise self.retry(
            args=[tenant_id, email],
            kwargs={"delivery_id": delivery.id, "source": source},
            exc=exc,
            countdown=retry_in(self.request.retries),
        ) from exc
    if has_account:
        # They will look at their cards and next charges in a minute: read those (a queued
        # task, so the email never waits for Stripe; the backfill leaves them to this moment).
        customer_ids = [customer.stripe_id for customer in customers_for_email(email)]
        enqueue_after_commit(read_for_signing_in, tenant_id, customer_ids)
        db.session.commit()
    return rendered.kind


# A run deletes at most this many batches; the next day's run takes the rest.
ACTIVITY_BATCH = 1000
ACTIVITY_BATCHES_PER_RUN = 100


@shared_task(name="app.portal.tasks.forget_old_activity")
def forget_old_activity(
    batch_size: int = ACTIVITY_BATCH, max_batches: int = ACTIVITY_BATCHES_PER_RUN
) -> int:
    """Delete portal activity older than it is kept, of every tenant, one committed batch at a
    time: short transactions, and a crash keeps what was done. Returns how many rows."""
    cutoff = utcnow() - KEPT_FOR
    deleted = 0
    with unscoped():
        for _ in range(max_batches):
            count = forget_activity_before(cutoff, batch_size)
            db.session.commit()
            deleted += count
            if count < batch_size:
                break
    return deleted
