"""Forget a Stripe account: its cached data (another account connected), or the whole connection
(disconnected by the merchant or by Stripe)."""

from __future__ import annotations

from sqlalchemy import delete

from app.billing.kinds import KINDS
from app.billing.models import SyncState
from app.billing.stripe_health import forget_stripe_health
from app.extensions import db
from tenants.app_tokens import forget_app_tokens
from tenants.context import current_tenant_id, tenant_context
from tenants.models import Tenant

# Every kind, dependents first (KINDS lists each after what it hangs on), then the sync cursor.
# Every delete is scoped to the current tenant by tenants.scoping.
CACHE_MODELS = (*(kind.model for kind in reversed(KINDS)), SyncState)


def forget_cached_account() -> None:
    """Delete the current tenant's cached Stripe objects and sync cursor, in the caller's
    transaction, and its record of Stripe's health. The old account's customers must not stay
    visible in the portal once another account is connected; the backfill of the new one fills
    the cache again."""
    for model in CACHE_MODELS:
        db.session.execute(delete(model).execution_options(synchronize_session=False))
    forget_stripe_health(current_tenant_id())


def forget_connection(tenant: Tenant, reason: str | None = None) -> None:
    """Forget the account locally: credentials, a Stripe App's tokens, cached data (flushed).
    Syncing stops: events of a disconnected tenant are ignored and reconciliation skips it."""
    tenant.mark_disconnected(reason)
    forget_app_tokens(tenant.id)
    with tenant_context(tenant.id):
        forget_cached_account()
    db.session.flush()
