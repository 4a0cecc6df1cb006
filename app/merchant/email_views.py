"""/dashboard/emails: the emails sent for this merchant — above all its customers' sign-in
emails — sent or failed, with the reason and the time, searchable by address, so a merchant can
answer "I never got the email". Never the message itself: it holds a sign-in link and code.

Billfold's own emails to the team (verify an address, reset a password) are an owner's to see,
as the team is; a member sees those sent to their own address only."""

from __future__ import annotations

import re

from flask import abort, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select, true

from app.clock import as_utc
from app.emails.models import DeliveryStatus, EmailDelivery
from app.extensions import db
from app.merchant.blueprint import bp, my_tenant
from app.merchant.list_filters import PER_PAGE, ListFilter, page_of, read_filter
from app.merchant.roles import is_owner
from app.portal.formatting import zone_label
from tenants.context import tenant_context
from tenants.timezones import zone_of

SIGN_IN_KINDS = ("login_link", "no_account")
GROUPS = {  # the "What" filter
    "sign_in": ("Customers' sign-in emails", EmailDelivery.kind.in_(SIGN_IN_KINDS)),
    "yours": ("Billfold's emails to you", EmailDelivery.kind.not_in(SIGN_IN_KINDS)),
}
KIND_LABELS = {
    "login_link": "Sign-in link and code",
    "no_account": "“No billing account” notice",
    "merchant_verify": "Verify your address",
    "merchant_reset": "Reset your password",
    "merchant_change_email": "Confirm a new address",
    "merchant_existing_account": "Account already exists",
}
STATUSES = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.QUEUED)
STATUS_LABELS = {
    DeliveryStatus.SENT: "Sent",
    DeliveryStatus.FAILED: "Failed",
    DeliveryStatus.QUEUED: "Retrying",
}
# A reason is what the mail server (or Stripe) answered; a link or a 6-digit code in it would
# be a way into a customer's portal, so neither is ever shown.
SECRETS_IN_REASON = re.compile(r"https?://\S+|\b\d{6}\b")


def plain_reason(error: str | None) -> str | None:
    return SECRETS_IN_REASON.sub("[hidden]", error) if error else None


def _visible():
    """What the signed-in merchant user may see: everything for an owner; for a member, the
    customers' emails and Billfold's emails to their own address."""
    if is_owner():
        return true()
    mine = func.lower(EmailDelivery.to_email) == current_user.email
    return or_(EmailDelivery.kind.in_(SIGN_IN_KINDS), mine)


def _filtered(filters: ListFilter, zone):
    query = select(EmailDelivery).where(_visible())
    if filters.kind:
        query = query.where(GROUPS[filters.kind][1])
    if filters.status:
        query = query.where(EmailDelivery.status == filters.status)
    start, end = filters.bounds(zone)
    if start:
        query = query.where(EmailDelivery.created_at >= start)
    if end:
        query = query.where(EmailDelivery.created_at < end)
    matches_email = filters.email_condition(EmailDelivery.to_email)
    return query.where(matches_email) if matches_email is not None else query


@bp.get("/emails")
@login_required
def emails():
    tenant = my_tenant()
    zone = zone_of(tenant.timezone)
    filters = read_filter(request.args, kinds=tuple(GROUPS), statuses=STATUSES)
    rows, page = [], page_of(1, 0)
    if not filters.errors:
        with tenant_context(tenant.id):  # the tenant's own rows, by both isolation layers
            query = _filtered(filters, zone)
            page = page_of(
                filters.page, db.session.scalar(select(func.count()).select_from(query.subquery()))
            )
            rows = db.session.scalars(
                query.order_by(EmailDelivery.created_at.desc(), EmailDelivery.id.desc())
                .offset(page.offset)
                .limit(PER_PAGE)
            ).all()
    return render_template(
        "merchant/emails.html",
        tenant=None,
        merchant_tenant=tenant,
        deliveries=rows,
        filters=filters,
        page=page,
        groups={key: label for key, (label, _) in GROUPS.items()},
        statuses=STATUS_LABELS,
        kind_labels=KIND_LABELS,
        reason=plain_reason,
        local=lambda moment: as_utc(moment).astimezone(zone),
        zone_name=zone_label(tenant.timezone),
        page_url=lambda number: url_for("merchant.emails", **filters.query_args(page=number)),
    ), 400 if filters.errors else 200


@bp.get("/emails/<int:delivery_id>")
@login_required
def email_detail(delivery_id: int):
    """One delivery of this merchant's; another merchant's id (or, for a member, another team
    member's account email) is a 404 like a missing one."""
    tenant = my_tenant()
    with tenant_context(tenant.id):
        delivery = db.session.scalars(
            select(EmailDelivery).where(EmailDelivery.id == delivery_id, _visible())
        ).one_or_none()
    if delivery is None:
        abort(404)
    zone = zone_of(tenant.timezone)
    return render_template(
        "merchant/email_detail.html",
        tenant=None,
        merchant_tenant=tenant,
        delivery=delivery,
        kind_labels=KIND_LABELS,
        statuses=STATUS_LABELS,
        reason=plain_reason(delivery.error),
        local=lambda moment: as_utc(moment).astimezone(zone),
        zone_name=zone_label(tenant.timezone),
    )
