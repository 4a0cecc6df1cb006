"""The operators' audit log: who did what, when, to which tenant, and what changed.

Written in the same transaction as the action itself, so an action and its entry are committed
together or not at all. Nothing in the app updates or deletes an entry.
"""

from __future__ import annotations

from flask_login import current_user
from sqlalchemy import func, select

from app.extensions import db
from app.ops.models import AuditEntry, Operator
from tenants.models import Tenant

PAGE_SIZE = 50


def record(
    action: str,
    *,
    tenant: Tenant | None = None,
    before: dict | None = None,
    after: dict | None = None,
    operator: Operator | None = None,
    actor: str | None = None,
) -> AuditEntry:
    """`actor`: who acted when it was not an operator in the console, such as
    "command line (user root)": the entry has no operator id, only that description."""
    if actor is not None:
        operator_id, by = None, actor
    else:
        who = operator if operator is not None else current_user._get_current_object()
        operator_id, by = who.id, who.email
    entry = AuditEntry(
        operator_id=operator_id,
        operator_email=by,
        action=action,
        tenant_id=tenant.id if tenant is not None else None,
        tenant_subdomain=tenant.subdomain if tenant is not None else None,
        before=before,
        after=after,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def entries(page: int = 1, tenant_id: int | None = None) -> tuple[list[AuditEntry], int]:
    """A page of entries, newest first, and how many there are in all."""
    query = select(AuditEntry)
    counted = select(func.count(AuditEntry.id))
    if tenant_id is not None:
        query = query.where(AuditEntry.tenant_id == tenant_id)
        counted = counted.where(AuditEntry.tenant_id == tenant_id)
    rows = db.session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(PAGE_SIZE)
        .offset((max(page, 1) - 1) * PAGE_SIZE)
    ).all()
    return list(rows), db.session.scalar(counted)
