"""A heartbeat task: proves a worker takes work for a tenant and sees that tenant."""

from __future__ import annotations

from app.extensions import db
from tenants.context import current_tenant_id
from tenants.models import Tenant
from worker.base import tenant_task


@tenant_task()
def worker_heartbeat(self, tenant_id: int) -> dict:
    """Answer which tenant the worker restored and that it can read the database."""
    tenant = db.session.get(Tenant, current_tenant_id())
    return {
        "tenant_id": current_tenant_id(),
        "subdomain": tenant.subdomain if tenant else None,
        "hostname": self.request.hostname,
    }
