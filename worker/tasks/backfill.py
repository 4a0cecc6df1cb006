"""Backfill task: copy a newly connected account into the cache on the slow `backfill` queue."""

from __future__ import annotations

from app.billing.backfill import backfill
from app.extensions import db
from tenants.models import Tenant
from tenants.stripe_client import stripe_client_for
from worker.base import tenant_task
from worker.locks import single_run


@tenant_task(retry_on=(ConnectionError,), max_retries=3)
def backfill_tenant(self, tenant_id: int) -> str:
    with single_run(f"backfill:{tenant_id}", ttl=6 * 3600) as acquired:
        if not acquired:
            return "already running"
        tenant = db.session.get(Tenant, tenant_id)
        state = backfill(stripe_client_for(tenant))
        return state.backfill_status
