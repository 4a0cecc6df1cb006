"""Helpers of the Stripe cache tests: a tenant on its own emulated account, lock probes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import stripe
from sqlalchemy import select, text

from app.billing.event_log import store_event
from app.billing.fetch import plain_dict
from app.billing.locks import object_lock_key
from app.billing.models.events import StripeEvent
from app.extensions import db
from tenants.context import tenant_context
from tenants.models import Tenant


@dataclass
class Shop:
    """A tenant connected to its own emulated Stripe account, and the merchant's client on it."""

    tenant_id: int
    account: str
    merchant: stripe.StripeClient

    def stripe_events(self, object_id: str | None = None) -> list[dict]:
        """The account's events at Stripe, oldest first (optionally only about one object)."""
        listed = self.merchant.v1.events.list(params={"limit": 100})
        events = [plain_dict(event) for event in reversed(listed.data)]
        if object_id is None:
            return events
        return [e for e in events if e["data"]["object"].get("id") == object_id]

    def store(self, event: dict) -> int:
        """Store an event as the webhook endpoint would and commit it; returns its row id."""
        with tenant_context(self.tenant_id):
            stored = store_event(db.session.get(Tenant, self.tenant_id), event)
            db.session.commit()
            return stored.id

    def event(self, event_id: int) -> StripeEvent:
        """A fresh read of a stored event."""
        db.session.expire_all()
        with tenant_context(self.tenant_id):
            return db.session.get(StripeEvent, event_id)


@contextmanager
def object_lock_held(app, tenant_id: int, stripe_id: str) -> Iterator[None]:
    """Hold the per-object lock from another connection, as a concurrent worker would."""
    with app.app_context(), db.engine.connect() as connection:
        transaction = connection.begin()
        key = object_lock_key(tenant_id, stripe_id)
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        try:
            yield
        finally:
            transaction.rollback()


def wait_for_lock_waiter(app, tenant_id: int, stripe_id: str, timeout: float = 20.0) -> None:
    """Wait until a database session is blocked on the lock of one Stripe object."""
    key = object_lock_key(tenant_id, stripe_id) & 0xFFFFFFFFFFFFFFFF
    query = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND classid::text::bigint = :high AND objid::text::bigint = :low AND objsubid = 1"
    )
    params = {"high": key >> 32, "low": key & 0xFFFFFFFF}
    deadline = time.monotonic() + timeout
    with app.app_context(), db.engine.connect() as connection:
        while time.monotonic() < deadline:
            if connection.execute(query, params).scalar():
                return
            connection.rollback()
            time.sleep(0.02)
    raise AssertionError(f"no session waited on the lock of {stripe_id} within {timeout}s")


def one(model, stripe_id: str):
    return db.session.scalars(select(model).where(model.stripe_id == stripe_id)).one_or_none()
