"""Suspending and resuming a tenant, from the console or the command line: one path, audited.

A suspended tenant's portal shows a neutral page and its events are stored but wait; resuming
queues the waiting events in order. Each change is written to the audit log in the caller's
transaction, so the change and its entry are committed together or not at all.
"""

from __future__ import annotations

from app.billing.tasks import release_held_events
from app.extensions import db
from app.ops.audit import record
from app.ops.models import Operator
from tenants.models import Tenant, TenantStatus


class StatusUnchanged(ValueError):
    """The tenant is in that state already; nothing was done."""


def suspend_tenant(tenant: Tenant, reason: str, *, by: Operator | str | None = None) -> None:
    """`by`: the operator (default: the signed-in one), or who ran a command."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("Say why the tenant is suspended.")
    if tenant.status == TenantStatus.SUSPENDED:
        raise StatusUnchanged("The tenant is suspended already.")
    before = {"status": tenant.status}
    tenant.suspend(reason)
    db.session.flush()
    record(
        "suspend_tenant",
        tenant=tenant,
        before=before,
        after={"status": tenant.status, "reason": tenant.suspended_reason},
        **_actor(by),
    )


def resume_tenant(tenant: Tenant, *, by: Operator | str | None = None) -> int:
    """Returns how many waiting events were queued (once the caller commits)."""
    if tenant.status != TenantStatus.SUSPENDED:
        raise StatusUnchanged("The tenant is not suspended.")
    before = {"status": tenant.status, "reason": tenant.suspended_reason}
    tenant.resume()
    db.session.flush()
    released = release_held_events(tenant.id)
    record(
        "resume_tenant",
        tenant=tenant,
        before=before,
        after={"status": tenant.status, "events_queued": released},
        **_actor(by),
    )
    return released


def _actor(by: Operator | str | None) -> dict:
    if isinstance(by, str):
        return {"actor": by}
    return {"operator": by} if by is not None else {}
