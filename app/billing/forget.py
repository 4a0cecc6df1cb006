"""Forget a Stripe account's cached data: for a tenant that now connects a different account."""

from __future__ import annotations

from sqlalchemy import delete

from app.billing.kinds import KINDS
from app.billing.models import SyncState
from app.billing.stripe_health import forget_stripe_health
from app.extensions import db
from tenants.context import current_tenant_id

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
