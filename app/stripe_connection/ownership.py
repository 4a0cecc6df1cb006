"""One Stripe account, one tenant; and a tenant moving to another account forgets the old one."""

from __future__ import annotations

from sqlalchemy import select

from app.billing.forget import forget_cached_account
from app.extensions import db
from app.stripe_connection.errors import ConnectionRefused
from tenants.context import tenant_context
from tenants.crypto import keyring
from tenants.models import Tenant

ACCOUNT_TAKEN = (
    "This Stripe account is already connected to another Billfold account. Disconnect it "
    "there first, or connect a different Stripe account."
)


def refuse_if_taken(tenant: Tenant, account_id: str) -> None:
    owner = db.session.scalar(
        select(Tenant.id).where(Tenant.stripe_account_lookup == keyring().lookup_hash(account_id))
    )
    if owner is not None and owner != tenant.id:
        raise ConnectionRefused(ACCOUNT_TAKEN)


def forget_previous_account(tenant: Tenant, account_id: str | None) -> None:
    """Before connecting `account_id`: drop what the cache holds of another account.

    An unknown account (a key whose account could not be read) counts as another one.
    """
    connected_before = tenant.stripe_account_id or tenant.stripe_api_key
    if not connected_before or (account_id and account_id == tenant.stripe_account_id):
        return
    with tenant_context(tenant.id):
        forget_cached_account()
