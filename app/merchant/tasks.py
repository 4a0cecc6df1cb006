"""Billfold's emails to merchants, sent after the request by the worker (queue `email`).

Thin: load the rows, let app/merchant/emails.py issue the link and render, send, retry SMTP
failures. Each runs as the merchant's tenant, under which its delivery is recorded.
"""

from __future__ import annotations

import logging

from celery import shared_task

from app.emails.addresses import UndeliverableAddress
from app.emails.delivery import send_recorded
from app.emails.models import EmailDelivery
from app.emails.retries import EMAIL_TASK, SMTP_FAILURES, retry_in
from app.extensions import db
from app.merchant import emails
from app.merchant.accounts import user_by_email
from app.merchant.models import MerchantInvite, MerchantUser
from app.merchant.team import invite_of
from tenants.context import tenant_context
from tenants.models import Tenant
from worker.base import tenant_task

log = logging.getLogger(__name__)


def _send(task, tenant: Tenant, rendered, delivery_id: int | None) -> str:
    """Record, commit (the link's token exists before anyone can click it), send. An SMTP
    failure is retried by the whole task, which issues a fresh link into the same record."""
    delivery = db.session.get(EmailDelivery, delivery_id) if delivery_id else None
    delivery = delivery or emails.record(rendered)
    db.session.commit()
    try:
        send_recorded(
            tenant,
            delivery,
            rendered,
            final_attempt=task.request.retries >= task.max_retries,
            retried_on=SMTP_FAILURES,
        )
    except UndeliverableAddress:
        log.warning("merchant email %s undeliverable through this mail server", delivery.id)
        return "undeliverable"
    except SMTP_FAILURES as exc:
        raise task.retry(
            kwargs={**(task.request.kwargs or {}), "delivery_id": delivery.id},
            exc=exc,
            countdown=retry_in(task.request.retries),
        ) from exc
    return rendered.kind


def _user_of(tenant_id: int, user_id: int) -> MerchantUser | None:
    user = db.session.get(MerchantUser, user_id)
    return user if user is not None and user.tenant_id == tenant_id else None


@tenant_task(**EMAIL_TASK)
def send_verification_email(
    self, tenant_id: int, user_id: int, delivery_id: int | None = None
) -> str:
    user = _user_of(tenant_id, user_id)
    if user is None or user.email_verified:
        return "skipped"
    tenant = db.session.get(Tenant, tenant_id)
    return _send(self, tenant, emails.verification_email(user, tenant), delivery_id)


@tenant_task(**EMAIL_TASK)
def send_existing_account_note(
    self, tenant_id: int, user_id: int, delivery_id: int | None = None
) -> str:
    """Someone signed up with an address that has an account: tell its owner, nobody else."""
    user = _user_of(tenant_id, user_id)
    if user is None:
        return "skipped"
    tenant = db.session.get(Tenant, tenant_id)
    return _send(self, tenant, emails.existing_account_email(user, tenant), delivery_id)


@tenant_task(**EMAIL_TASK)
def send_email_change_link(
    self, tenant_id: int, user_id: int, new_email: str, delivery_id: int | None = None
) -> str:
    user = _user_of(tenant_id, user_id)
    if user is None:
        return "skipped"
    tenant = db.session.get(Tenant, tenant_id)
    return _send(self, tenant, emails.change_email_email(user, new_email), delivery_id)


@tenant_task(**EMAIL_TASK)
def send_test_sign_in_email(
    self, tenant_id: int, user_id: int, delivery_id: int | None = None
) -> str:
    """The branded sign-in email, as customers get it, to the merchant who asked."""
    user = _user_of(tenant_id, user_id)
    if user is None:
        return "skipped"
    tenant = db.session.get(Tenant, tenant_id)
    return _send(self, tenant, emails.test_sign_in_email(user, tenant), delivery_id)


@tenant_task(**EMAIL_TASK)
def send_team_invite(self, tenant_id: int, invite_id: int, delivery_id: int | None = None) -> str:
    """An owner's invitation: each send issues a new link, so only the newest one works."""
    invitation: MerchantInvite | None = invite_of(tenant_id, invite_id)
    if invitation is None:
        return "skipped"  # revoked, accepted or expired meanwhile
    inviter = db.session.get(MerchantUser, invitation.invited_by_id or 0)
    tenant = db.session.get(Tenant, tenant_id)
    inviter_name = inviter.name if inviter is not None else f"An owner of {tenant.name}"
    return _send(self, tenant, emails.invite_email(invitation, inviter_name, tenant), delivery_id)


@shared_task(bind=True, name="app.merchant.tasks.send_password_reset", **EMAIL_TASK)
def send_password_reset(self, email: str, delivery_id: int | None = None) -> str:
    """The form only queued this, whoever the address belongs to; an address without an
    account gets nothing (an email to it would let anyone send Billfold mail to anyone)."""
    user = user_by_email(email)
    if user is None:
        return "no account"
    with tenant_context(user.tenant_id):
        tenant = db.session.get(Tenant, user.tenant_id)
        return _send(self, tenant, emails.reset_email(user), delivery_id)
