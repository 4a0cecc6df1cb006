"""Deleting a merchant's Billfold account, at its owner's request: everything Billfold holds for
the tenant is erased, and the tenant's row with it (not marked deleted: nothing of it is kept,
and its subdomain is free again, as after a change of subdomain).

Stripe first: the account is disconnected there (app.stripe_connection.disconnect), and that
is committed at once (record_side_effect), since Stripe cannot be asked to undo it. If Stripe
cannot be reached nothing is erased. Then every row, in one transaction (the request's): a
failure leaves the account as it was, never half-erased. Rows are deleted table by table, inside
the tenant's context, so each delete is scoped by both isolation layers to this tenant alone.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, select

from app.billing.forget import forget_cached_account
from app.billing.stripe_health import forget_stripe_health
from app.commits import record_side_effect
from app.extensions import db
from app.merchant.models import MerchantSession, MerchantToken, MerchantUser
from app.stripe_connection.disconnect import disconnect
from tenants.context import tenant_context
from tenants.models import StripeConnectionStatus, Tenant
from tenants.scoping import is_tenant_owned

log = logging.getLogger(__name__)

# What the confirmation page lists, in the merchant's words.
ERASED = (
    "The connection to your Stripe account (Billfold lets go of it at Stripe too), and "
    "Billfold's copy of your customers, subscriptions, invoices and payment methods. Your "
    "Stripe account and its data stay as they are.",
    "Your customers' portal accounts, passwords, sign-in links and signed-in sessions.",
    "The activity log of what customers did in the portal, and the record of the emails sent.",
    "Your branding, logo and portal settings.",
    "Every Billfold login of your business (yours included) and their sessions.",
    "Your portal's address: it stops working at once, and the subdomain becomes free.",
)


class DeletionRefused(ValueError):
    """The confirmation does not match; the message is for the merchant."""


def check_confirmation(tenant: Tenant, typed: str | None) -> None:
    if (typed or "").strip().lower() != tenant.subdomain:
        raise DeletionRefused(
            f"That is not your portal's subdomain. Type {tenant.subdomain} exactly to delete "
            "the account; nothing has been deleted."
        )


def tenant_owned_models() -> list[type]:
    """Every tenant-owned model, dependents before what they hang on."""
    order = {table.name: n for n, table in enumerate(db.metadata.sorted_tables)}
    models = [
        mapper.class_
        for mapper in db.Model.registry.mappers
        if mapper.local_table is not None and is_tenant_owned(mapper.local_table)
    ]
    return sorted(models, key=lambda model: order[model.__table__.name], reverse=True)


def delete_merchant_account(tenant: Tenant) -> list[str]:
    """Erase the tenant and everything of it (flushed; the caller commits). Returns notes from
    the Stripe disconnection. Raises app.stripe_connection.errors.ConnectionRefused, having
    changed nothing, when Stripe cannot be reached."""
    tenant_id, subdomain = tenant.id, tenant.subdomain
    notes: list[str] = []
    if tenant.stripe_status == StripeConnectionStatus.CONNECTED:
        notes = disconnect(tenant)
        record_side_effect()  # let go at Stripe: kept even if the erasing below fails
    with tenant_context(tenant_id):
        forget_cached_account()
        for model in tenant_owned_models():
            db.session.execute(delete(model).execution_options(synchronize_session=False))
    users = select(MerchantUser.id).where(MerchantUser.tenant_id == tenant_id)
    for model in (MerchantToken, MerchantSession):
        db.session.execute(
            delete(model)
            .where(model.user_id.in_(users))
            .execution_options(synchronize_session=False)
        )
    db.session.execute(
        delete(MerchantUser)
        .where(MerchantUser.tenant_id == tenant_id)
        .execution_options(synchronize_session=False)
    )
    db.session.delete(tenant)
    db.session.flush()
    forget_stripe_health(tenant_id)
    log.info("tenant %s deleted at its owner's request", subdomain)
    return notes
