"""The event log: each Stripe event stored once, by its evt_ id, before anything processes it.

Events arrive from webhooks and from reconciliation's read of Stripe's event list; both store here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.billing.models.events import EventStatus, StripeEvent
from app.extensions import db
from tenants.models import StripeConnectionStatus


def _initial_status(tenant, event: dict) -> tuple[str, str | None]:
    if bool(event.get("livemode")) != tenant.expected_livemode:
        return EventStatus.IGNORED, "ignored: wrong mode (test vs live)"
    if (
        tenant.stripe_status != StripeConnectionStatus.CONNECTED
        and event["type"] != "account.application.deauthorized"
    ):
        return EventStatus.IGNORED, "ignored: tenant not connected"
    return EventStatus.PENDING, None


@dataclass(frozen=True)
class StoredEvent:
    id: int
    status: str
    inserted: bool  # False: a duplicate of an event stored before (nothing was written)


@cache
def _insert_once(dialect: str, columns: tuple[str, ...]):
    """INSERT .. ON CONFLICT (tenant_id, stripe_id) DO NOTHING RETURNING id, built once per
    dialect (PostgreSQL; SQLite in the demo): every delivery only binds its values."""
    table = StripeEvent.__table__
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(table)
        .values({name: bindparam(name, type_=table.c[name].type) for name in columns})
        .on_conflict_do_nothing(index_elements=["tenant_id", "stripe_id"])
        .returning(table.c.id)
    )


def store_event(tenant, event: dict, *, source: str = "webhook") -> StoredEvent:
    """Insert the event unless its id is already stored, in one statement.

    `tenant`: a Tenant, or its IngestFacts (id, stripe_status, expected_livemode).

    INSERT .. ON CONFLICT DO NOTHING RETURNING makes concurrent duplicate deliveries safe
    without a race, and costs a second query only for a duplicate.
    """
    obj = event["data"].get("object") or {}
    status, note = _initial_status(tenant, event)
    created = event.get("created")
    values = {
        "tenant_id": tenant.id,
        "stripe_id": event["id"],
        "type": event["type"][:100],
        "account": event.get("account"),
        "livemode": bool(event.get("livemode")),
        "api_version": (event.get("api_version") or None),
        "object_type": obj.get("object") if isinstance(obj, dict) else None,
        "object_id": obj.get("id") if isinstance(obj, dict) else None,
        "stripe_created": datetime.fromtimestamp(created, UTC)
        if isinstance(created, int)
        else None,
        "payload": event,
        "source": source,
        "status": status,
        "note": note,
        "received_at": datetime.now(UTC),
        "attempts": 0,
    }
    statement = _insert_once(db.session.get_bind().dialect.name, tuple(values))
    new_id = db.session.execute(statement, values).scalar()
    if new_id is not None:
        return StoredEvent(new_id, status, inserted=True)
    stored = db.session.execute(
        select(StripeEvent.id, StripeEvent.status).where(StripeEvent.stripe_id == event["id"])
    ).one()
    return StoredEvent(stored.id, stored.status, inserted=False)
